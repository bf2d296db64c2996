"""The quic-interop-runner's checks of one test run, from the two captures
(the simulator's client-side and server-side veths), decrypted with the
endpoints' key logs by tshark.

Each check returns None when the run passes, else the reason. The counts
come from interop/tshark_check.py (every packet decrypted, none malformed,
handshakes as the runner counts them: distinct server Initial SCIDs);
``fields`` extracts anything else.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import topology as T  # noqa: E402
import tshark_check  # noqa: E402

V1, V2 = "0x00000001", "0x6b3343cf"
CHACHA20 = 0x1303


@dataclass
class Trace:
    """One capture of a run and how to read it."""

    pcap: Path
    keylogs: list[Path]
    ports: tuple[int, ...] = (443,)
    _counts: tshark_check.Result | None = field(default=None, repr=False, compare=False)

    def counts(self) -> tshark_check.Result:
        """tshark_check's counts (one tshark pass, kept: checks ask often)."""
        if self._counts is None:
            self._counts = tshark_check.check(self.pcap, self.keylogs, self.ports[0], timeout=600)
        return self._counts

    def fields(self, names: list[str], display_filter: str) -> list[list[str]]:
        """One row per frame matching `display_filter`: each field's values
        joined by ','."""
        with tempfile.TemporaryDirectory(prefix="quicbed-checks-") as tmp:
            keys = Path(tmp) / "keys.log"
            keys.write_bytes(b"".join(k.read_bytes().rstrip(b"\n") + b"\n"
                                      for k in self.keylogs if k.exists()))
            argv = ["tshark", "-n", "-r", str(self.pcap), "-o", f"tls.keylog_file:{keys}"]
            for p in self.ports:
                argv += ["-d", f"udp.port=={p},quic"]
            argv += ["-Y", display_filter, "-T", "fields", "-E", "separator=/t",
                     "-E", "occurrence=a", "-E", "aggregator=,"]
            for n in names:
                argv += ["-e", n]
            p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"tshark: {p.stderr.strip()[-500:]}")
        rows = []
        for line in p.stdout.splitlines():
            cols = line.split("\t")
            rows.append(cols + [""] * (len(names) - len(cols)))
        return rows


@dataclass
class Run:
    """What a test's check sees."""

    client: Trace  # capture on the client's side of the link
    server: Trace  # capture on the server's side
    files: int     # files requested
    # The link drops or corrupts packets at random: corrupted packets fail
    # to decrypt (and a corrupted header may leave tshark unable to decrypt
    # or parse what follows), and a capture that lost a ServerHello before
    # the client's side cannot decrypt that connection's Handshake packets
    # sent ahead of its repetition ("Unable to retrieve cipher
    # information"). The runner's checks of these tests do not ask that
    # every packet decrypt.
    impaired: bool = False


IMPAIRMENT_EFFECTS = {"decryption_failed", "undecrypted", "malformed", "expert_errors"}


def _basic(r: tshark_check.Result, where: str, impaired: bool = False) -> str | None:
    if impaired:
        problems = [p for p in r.problems if p.split()[-1] not in IMPAIRMENT_EFFECTS]
        return f"{where} capture: {', '.join(problems)}" if problems else None
    if not r.ok:
        return f"{where} capture: {', '.join(r.problems)}"
    return None


def handshakes(run: Run, n: int, versions=(V1,), retry: bool = False) -> str | None:
    """The runner's common check: `n` handshakes and only the given
    versions, counted in the server-side capture (what the server sent, as
    the runner's _count_handshakes and _get_versions read it: a link that
    corrupts packets changes the server's Initials the client side sees);
    no Retry unless expected, in the client-side capture (_retry_sent).
    Both captures must decrypt."""
    for where, t in (("client-side", run.client), ("server-side", run.server)):
        if err := _basic(t.counts(), where, run.impaired):
            return err
    r = run.server.counts()
    if r.handshakes != n:
        return f"server-side: {r.handshakes} handshakes, expected {n}"
    sent = {v for row in run.server.fields(["quic.version"], f"quic.version && {FROM_SERVER}")
            for v in row[0].split(",") if v and int(v, 0) != 0}  # 0: Version Negotiation
    if sent - set(versions):
        return f"server-side: the server's long headers in versions {sorted(sent)}"
    if not retry and not run.impaired and run.client.counts().retries:
        return "client-side: unexpected Retry"
    return None


def check_handshake(run: Run) -> str | None:
    return handshakes(run, 1)


def check_longrtt(run: Run) -> str | None:
    """At least two ClientHellos: the first one was retransmitted. tshark
    dissects a retransmitted CRYPTO frame's ClientHello no more, so the
    client's datagrams with CRYPTO data sent before the server's first
    datagram came back count (on the runner's 750 ms link, nothing else
    can carry client CRYPTO data by then)."""
    if err := handshakes(run, 1):
        return err
    rows = run.client.fields(["udp.srcport", "quic.crypto.offset"], "quic")
    hellos = 0
    for src, offsets in rows:
        if src == "443":
            break
        hellos += "0" in offsets.split(",")
    hellos = max(hellos, run.client.counts().client_hellos)
    return None if hellos >= 2 else f"{hellos} ClientHello(s): none retransmitted"


def check_chacha20(run: Run) -> str | None:
    if err := handshakes(run, 1):
        return err
    rows = run.client.fields(["tls.handshake.ciphersuite"], "tls.handshake.type == 1")
    offered = {int(c, 0) for row in rows for c in row[0].split(",") if c}
    return None if offered == {CHACHA20} else f"client offered {sorted(map(hex, offered))}"


def check_multiplexing(run: Run) -> str | None:
    if err := handshakes(run, 1):
        return err
    rows = run.server.fields(["tls.quic.parameter.initial_max_streams_bidi"],
                             "udp.srcport == 443 && tls.handshake.type == 8")
    vals = [int(v) for row in rows for v in row[0].split(",") if v]
    if not vals:
        return "no initial_max_streams_bidi from the server"
    return None if max(vals) <= 1000 else f"server initial_max_streams_bidi {max(vals)} > 1000"


def check_retry(run: Run) -> str | None:
    if err := handshakes(run, 1, retry=True):
        return err
    retry_tokens = {row[0] for row in run.client.fields(["quic.retry_token"], "quic.retry_token")}
    if not retry_tokens - {""}:
        return "no Retry with a token"
    sent = {t for row in run.client.fields(["quic.token"], "udp.dstport == 443 && quic.token")
            for t in row[0].split(",")}
    return None if retry_tokens & sent else "the client never sent the Retry's token"


def check_resumption(run: Run) -> str | None:
    if err := handshakes(run, 2):
        return err
    certs = run.client.counts().certificates
    return None if certs == 1 else f"{certs} Certificate messages (expected 1: the second handshake resumed)"


def check_zerortt(run: Run, one_rtt_limit: float) -> str | None:
    if err := check_resumption(run):
        return err
    r = run.client.counts()
    if r.zero_rtt_bytes == 0:
        return "no 0-RTT data"
    if r.client_one_rtt_bytes > one_rtt_limit:
        return (f"client sent {r.client_one_rtt_bytes} 1-RTT bytes (limit {one_rtt_limit:.0f}),"
                f" {r.zero_rtt_bytes} 0-RTT")
    return None


def check_http3(run: Run) -> str | None:
    if err := handshakes(run, 1):
        return err
    alpns = run.client.counts().alpns
    return None if "h3" in alpns else f"ALPN {alpns}, not h3"


def check_multiconnect(run: Run) -> str | None:
    return handshakes(run, run.files)


def check_keyupdate(run: Run) -> str | None:
    if err := handshakes(run, 1):
        return err
    rows = run.client.fields(["udp.srcport"], "quic.key_phase == 1")
    ports = {row[0] for row in rows}
    if "443" not in ports:
        return "no key phase 1 from the server"
    if not ports - {"443"}:
        return "no key phase 1 from the client"
    return None


def check_ecn(run: Run) -> str | None:
    if err := handshakes(run, 1):
        return err
    for where, t in (("client-side", run.client), ("server-side", run.server)):
        rows = t.fields(["udp.srcport", "ip.dsfield.ecn", "ipv6.tclass"], "quic")
        unmarked = {"client": 0, "server": 0}
        for src, ecn4, tclass in rows:
            ecn = int(ecn4, 0) if ecn4 else (int(tclass, 0) & 3 if tclass else 0)
            if ecn not in (1, 2):
                unmarked["server" if src == "443" else "client"] += 1
        if any(unmarked.values()):
            return (f"{where}: packets not ECT(0)/ECT(1) of {len(rows)}: "
                    f"{unmarked['client']} from the client, {unmarked['server']} from the server")
        acks = {row[0] for row in t.fields(["udp.srcport"], "quic.ack.ect0_count || quic.ack.ect1_count")}
        if "443" not in acks or not acks - {"443"}:
            return f"{where}: ACK-ECN only from {sorted(acks)} (443 is the server)"
    return None


def check_v2(run: Run) -> str | None:
    if err := handshakes(run, 1, versions=(V1, V2)):
        return err
    rows = run.client.fields(["udp.srcport", "quic.version"], "quic.long.packet_type || quic.long.packet_type_v2")
    first_client = next((r[1] for r in rows if r[0] != "443"), "")
    if first_client.split(",")[0] != V1:
        return f"client's first Initial is version {first_client}"
    server = {v for r in rows if r[0] == "443" for v in r[1].split(",")}
    return None if server == {V2} else f"server long headers in versions {sorted(server)}"


def check_amplification(run: Run) -> str | None:
    """RFC 9000 §8.1: before the client's first Handshake packet reaches
    it (its address validated), the server sends at most 3 times the bytes
    it received (UDP payloads, as the server's side of the link saw them)."""
    if err := handshakes(run, 1):
        return err
    rows = run.server.fields(["udp.srcport", "udp.length", "quic.long.packet_type"], "quic")
    got = sent = 0
    for src, length, types in rows:
        from_client = src != "443"
        if from_client and "2" in types.split(","):
            break
        size = int(length) - 8
        if from_client:
            got += size
        else:
            sent += size
        if sent > 3 * got:
            return f"server sent {sent} bytes having received {got} from an unvalidated client"
    return None


def check_ipv6(run: Run) -> str | None:
    if err := handshakes(run, 1):
        return err
    return "IPv4 QUIC from the server" if run.server.fields(["frame.number"], "ip && udp.srcport == 443") else None


# Who sent a packet: the server's addresses (a client behind the NAT or
# migrating changes its own; the server's preferred address is server4's).
FROM_SERVER = f"(ip.src == {T.SERVER4} || ipv6.src == {T.SERVER6})"
_PATH_FIELDS = ["ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst", "udp.dstport"]


def _packets_on_paths(t: Trace, from_server: bool, extra: list[str]):
    """(path, extra fields) of each QUIC datagram the server (or the
    client) sent, in capture order; a path is ((source address, port),
    (destination address, port)), as the runner's _path."""
    who = FROM_SERVER if from_server else f"!{FROM_SERVER}"
    out = []
    for r in t.fields(_PATH_FIELDS + extra, f"quic && {who}"):
        out.append((((r[0] or r[1], r[2]), (r[3] or r[4], r[5])), r[6:]))
    return out


def _values(field: str) -> set[str]:
    return {v for v in field.split(",") if v}


def check_rebind(run: Run) -> str | None:
    """The runner's rebind-port check: one handshake; the server's first
    packet on each path it had not used yet carries a PATH_CHALLENGE, it
    used more than one path, and the client answered every such challenge
    with a PATH_RESPONSE (RFC 9000 §9.3, §8.2)."""
    if err := handshakes(run, 1):
        return err
    last, paths, challenges = None, set(), set()
    for path, (challenge,) in _packets_on_paths(run.server, True, ["quic.path_challenge.data"]):
        if last is None:
            last = path
            continue
        if last != path and path not in paths:
            paths.add(last)
            last = path
            if not challenge:
                return f"the server's first packet on the new path {path} has no PATH_CHALLENGE"
            challenges |= _values(challenge)
    paths.add(last)
    if len(paths) <= 1:
        return "the server used only one path"
    responses = set()
    for _, (response,) in _packets_on_paths(run.client, False, ["quic.path_response.data"]):
        responses |= _values(response)
    unanswered = challenges - responses
    return f"PATH_CHALLENGE without a PATH_RESPONSE: {sorted(unanswered)}" if unanswered else None


def check_rebind_addr(run: Run) -> str | None:
    """rebind-port's check, and the server saw more than one client address."""
    addrs = {path[1][0] for path, _ in _packets_on_paths(run.server, True, [])}
    if len(addrs) <= 1:
        return f"the server saw only the client address(es) {sorted(addrs)}"
    return check_rebind(run)


def check_connectionmigration(run: Run) -> str | None:
    """rebind-port's check, and the client's first packet on each path it
    had not used yet carries a new Destination Connection ID (RFC 9000 §9.5)."""
    if err := check_rebind(run):
        return err
    last, paths, dcid = None, set(), None
    for path, (dcids,) in _packets_on_paths(run.client, False, ["quic.dcid"]):
        first = dcids.split(",")[0]
        if last is None:
            last, dcid = path, first
            continue
        if last != path and path not in paths:
            paths.add(last)
            last = path
            if first == dcid:
                return f"the client's first packet on the new path {path} reuses the connection ID {dcid}"
            dcid = first
    return None


def goodput_kbps(run: Run, nbytes: int) -> float:
    """The runner's measurement: file bytes over the time from the first
    to the last 1-RTT packet of the server, client side."""
    rows = run.client.fields(["frame.time_epoch"], "udp.srcport == 443 && quic.header_form == 0")
    times = [float(r[0]) for r in rows if r[0]]
    if len(times) < 2:
        return 0.0
    return 8 * nbytes / 1000 / (times[-1] - times[0])
