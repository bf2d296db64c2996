#!/usr/bin/python3
"""Checks a QUIC capture with tshark: decodes UDP `port` as QUIC, decrypts it
with a TLS key log, and counts what a capture of a healthy exchange must show.

    python3 interop/tshark_check.py CAPTURE.pcap KEYS.log PORT [--keylog MORE.log] [--json]

Prints one `name: value` line per count (or one JSON object with --json) and
exits 1 if any packet failed to decrypt or stayed encrypted, was malformed, carried an expert
error, was truncated by the capture, or if no QUIC packet was seen at all;
2 on a usage or tshark error. (A datagram to or from PORT must be present.) Importable: `check(pcap, keylog, port)`.

Counts: packets (frames in the capture), quic_packets (QUIC packets, with the
coalesced ones counted one by one), decryption_failed (frames where tshark
reports a failed decryption), undecrypted (QUIC packets left encrypted:
tshark does not try, and so does not report a failure, when it has no key
for the packet's epoch, e.g. a key log without the 1-RTT secrets), malformed,
expert_errors (frames with an expert item of severity error), truncated
(frames cut by the snapshot length), versions (QUIC versions in long headers,
Version Negotiation excluded), version_negotiation, handshakes (distinct
Source Connection IDs in the server's Initial packets, as the interop
runner counts them), client_hellos, retries, alpns (offered and chosen),
key_phases (1-RTT key phase bits seen), certificates (TLS Certificate
messages: one per full handshake, none when resumed), zero_rtt_bytes and
client_one_rtt_bytes (bytes of the client's 0-RTT and 1-RTT packets, what
the interop runner's zerortt test weighs), to_port_bytes and from_port_bytes
(UDP payload bytes to and from PORT: what RFC 9000 §8.1's amplification
limit weighs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

PI_ERROR = 0x00800000  # Wireshark expert severity "error"
VERSION_2 = 0x6B3343CF
# Long header packet types, v1 numbering (RFC 9000 17.2): Initial 0, 0-RTT 1,
# Handshake 2, Retry 3. QUIC v2 (RFC 9369 3.2) numbers them 1, 2, 3, 0.
V2_TO_V1_TYPE = {1: 0, 2: 1, 3: 2, 0: 3}
INITIAL, ZERO_RTT, RETRY = 0, 1, 3
TLS_CERTIFICATE = 11

FIELDS = [
    "frame.len", "frame.cap_len", "udp.srcport", "udp.dstport",
    "quic.header_form", "quic.long.packet_type", "quic.long.packet_type_v2",
    "quic.version", "quic.scid", "quic.key_phase",
    "quic.decryption_failed", "quic.remaining_payload", "_ws.malformed",
    "_ws.expert.severity",
    "tls.handshake.type", "tls.handshake.extensions_alpn_str", "quic.packet_length",
    "udp.length",
]


@dataclass
class Result:
    packets: int = 0
    quic_packets: int = 0
    decryption_failed: int = 0
    undecrypted: int = 0
    malformed: int = 0
    expert_errors: int = 0
    truncated: int = 0
    versions: list[str] = field(default_factory=list)
    version_negotiation: int = 0
    handshakes: int = 0
    client_hellos: int = 0
    retries: int = 0
    alpns: list[str] = field(default_factory=list)
    key_phases: list[int] = field(default_factory=list)
    certificates: int = 0
    zero_rtt_bytes: int = 0
    client_one_rtt_bytes: int = 0
    to_port_bytes: int = 0
    from_port_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> str:
        d = asdict(self)
        d["ok"] = self.ok
        return "\n".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in d.items())


def _ints(s: str) -> list[int]:
    return [int(x, 0) for x in s.split(",") if x]


def _strs(s: str) -> list[str]:
    return [x for x in s.split(",") if x]


def tshark_argv(pcap: Path | str, keylog: Path | str, port: int,
                tshark: str = "tshark", fields: list[str] | None = None) -> list[str]:
    argv = [tshark, "-n", "-r", str(pcap), "-o", f"tls.keylog_file:{keylog}",
            "-d", f"udp.port=={port},quic", "-T", "fields",
            "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields or FIELDS:
        argv += ["-e", f]
    return argv


def _run(pcap: Path | str, keylog: Path | str | list, port: int, fields: list[str],
         tshark: str, timeout: float) -> str:
    """tshark's field lines for `pcap`, keys from `keylog` (one path or a list,
    concatenated). Raises RuntimeError if tshark fails."""
    keylogs = [keylog] if isinstance(keylog, (str, Path)) else list(keylog)
    with tempfile.TemporaryDirectory(prefix="quicbed-tshark-") as tmp:
        keys = Path(tmp) / "keys.log"
        with open(keys, "wb") as out:
            for k in keylogs:
                if os.path.exists(k):
                    out.write(Path(k).read_bytes().rstrip(b"\n") + b"\n")
        p = subprocess.run(tshark_argv(pcap, keys, port, tshark, fields), capture_output=True,
                           text=True, timeout=timeout)
    if p.returncode != 0:
        err = "\n".join(l for l in p.stderr.splitlines() if "Running as user" not in l)
        raise RuntimeError(f"tshark exited with {p.returncode}: {err.strip()}")
    return p.stdout


def check(pcap: Path | str, keylog: Path | str | list, port: int,
          tshark: str = "tshark", timeout: float = 300) -> Result:
    """Runs tshark on `pcap` (QUIC on UDP `port`, keys from `keylog`: one path
    or a list, concatenated) and returns the counts. Raises RuntimeError if
    tshark fails."""
    return parse(_run(pcap, keylog, port, FIELDS, tshark, timeout), port)


def frames(pcap: Path | str, keylog: Path | str | list, port: int, fields: list[str],
           tshark: str = "tshark", timeout: float = 300) -> list[dict[str, list[str]]]:
    """Any tshark `fields` of every frame, decrypted as check() does: one dict
    per frame mapping each field to its values (a frame with coalesced
    packets or several frames of a type has several), in capture order."""
    rows = []
    for line in _run(pcap, keylog, port, fields, tshark, timeout).splitlines():
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        rows.append({f: _strs(c) for f, c in zip(fields, cols)})
    return rows
@dataclass
class LongPacket:
    """One long header packet as tshark decoded it (Version Negotiation
    excluded), in capture order."""
    from_server: bool
    version: int
    type: int            # v1 numbering: Initial 0, 0-RTT 1, Handshake 2, Retry 3
    token: str           # Initial: the Token (hex, "" if none); Retry: the Retry Token
    pn: int | None       # None for Retry, or if not decrypted


PACKET_FIELDS = ["udp.srcport", "quic.header_form", "quic.version", "quic.long.packet_type",
                 "quic.long.packet_type_v2", "quic.token_length", "quic.token", "quic.retry_token",
                 "quic.packet_number", "quic.fixed_bit"]


def long_packets(pcap: Path | str, keylog: Path | str | list, port: int,
                 tshark: str = "tshark", timeout: float = 300) -> tuple[list[LongPacket], int]:
    """The long header packets of a capture, and how many packets (long or
    short) had a zero Fixed Bit (RFC 9287 greasing)."""
    out: list[LongPacket] = []
    zero_fixed = 0
    for v in frames(pcap, keylog, port, PACKET_FIELDS, tshark, timeout):
        ints = {f: [int(x, 0) for x in v[f]] for f in ("quic.header_form", "quic.version", "quic.long.packet_type",
                                                       "quic.long.packet_type_v2", "quic.token_length",
                                                       "quic.packet_number")}
        forms, vers = ints["quic.header_form"], ints["quic.version"]
        t1, t2 = ints["quic.long.packet_type"], ints["quic.long.packet_type_v2"]
        tlens, tokens = ints["quic.token_length"], v["quic.token"]
        retry_tokens, pns = v["quic.retry_token"], ints["quic.packet_number"]
        zero_fixed += sum(1 for b in v["quic.fixed_bit"] if b in ("0", "False"))
        if 0 in vers:
            continue  # Version Negotiation
        for form in forms:
            if not form:
                if pns:
                    pns.pop(0)
                continue  # 1-RTT: always last in a datagram
            ver = vers.pop(0) if vers else 0
            t = V2_TO_V1_TYPE.get(t2.pop(0)) if ver == VERSION_2 and t2 else (t1.pop(0) if t1 else -1)
            token, pn = "", None
            if t == RETRY:  # no packet number
                token = retry_tokens.pop(0) if retry_tokens else ""
            else:
                pn = pns.pop(0) if pns else None
            if t == INITIAL and tlens and tlens.pop(0) > 0 and tokens:
                token = tokens.pop(0)
            out.append(LongPacket(v["udp.srcport"] == [str(port)], ver, t, token, pn))
    return out, zero_fixed


def parse(text: str, port: int) -> Result:
    r = Result()
    on_port = 0
    versions: set[int] = set()
    server_initial_scids: set[str] = set()
    alpns: set[str] = set()
    phases: set[int] = set()
    for line in text.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        v = dict(zip(FIELDS, cols))
        r.packets += 1
        on_port += str(port) in (v["udp.srcport"], v["udp.dstport"])
        payload = int(v["udp.length"]) - 8 if v["udp.length"] else 0  # minus the UDP header
        r.to_port_bytes += payload if v["udp.dstport"] == str(port) else 0
        r.from_port_bytes += payload if v["udp.srcport"] == str(port) else 0
        if v["frame.len"] and v["frame.cap_len"] and int(v["frame.len"]) > int(v["frame.cap_len"]):
            r.truncated += 1
        r.quic_packets += len(_ints(v["quic.header_form"]))
        if v["quic.decryption_failed"]:
            r.decryption_failed += 1
        r.undecrypted += len(_strs(v["quic.remaining_payload"]))
        if v["_ws.malformed"]:
            r.malformed += 1
        if any(s >= PI_ERROR for s in _ints(v["_ws.expert.severity"])):
            r.expert_errors += 1
        r.client_hellos += _ints(v["tls.handshake.type"]).count(1)
        r.certificates += _ints(v["tls.handshake.type"]).count(TLS_CERTIFICATE)
        alpns.update(_strs(v["tls.handshake.extensions_alpn_str"]))
        phases.update(int(x in ("1", "True")) for x in _strs(v["quic.key_phase"]))
        vers = _ints(v["quic.version"])
        if 0 in vers:
            r.version_negotiation += 1  # a VN packet is never coalesced
            continue
        versions.update(vers)
        # Pair each long header packet with its type and SCID: v1 types come
        # from packet_type, v2 ones from packet_type_v2, both in order.
        t1, t2 = _ints(v["quic.long.packet_type"]), _ints(v["quic.long.packet_type_v2"])
        scids = _strs(v["quic.scid"])
        from_server = v["udp.srcport"] == str(port)
        long_types = []
        for i, ver in enumerate(vers):
            t = V2_TO_V1_TYPE.get(t2.pop(0)) if ver == VERSION_2 and t2 else (
                t1.pop(0) if t1 else None)
            long_types.append(t)
            if not from_server or t is None:
                continue
            if t == INITIAL and i < len(scids):
                server_initial_scids.add(scids[i])
            elif t == RETRY:
                r.retries += 1
        # The client's 0-RTT and 1-RTT bytes: packets in datagram order,
        # long headers (form 1) taking their types in order.
        forms, lens = _ints(v["quic.header_form"]), _ints(v["quic.packet_length"])
        if not from_server and len(forms) == len(lens):
            for form, size in zip(forms, lens):
                if form == 0:
                    r.client_one_rtt_bytes += size
                elif long_types and long_types.pop(0) == ZERO_RTT:
                    r.zero_rtt_bytes += size
    r.versions = [f"0x{x:08x}" for x in sorted(versions)]
    r.handshakes = len(server_initial_scids)
    r.alpns = sorted(alpns)
    r.key_phases = sorted(phases)
    for name in ("decryption_failed", "undecrypted", "malformed", "expert_errors", "truncated"):
        if getattr(r, name):
            r.problems.append(f"{getattr(r, name)} {name}")
    if r.quic_packets == 0:
        r.problems.append("no QUIC packets")
    elif on_port == 0:
        r.problems.append(f"no packet from or to UDP port {port}")
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pcap")
    ap.add_argument("keylog")
    ap.add_argument("port", type=int, help="the server's UDP port (decoded as QUIC)")
    ap.add_argument("--keylog", dest="more", action="append", default=[],
                    help="another key log (e.g. the other side's)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--tshark", default=shutil.which("tshark") or "tshark")
    a = ap.parse_args(argv)
    try:
        r = check(a.pcap, [a.keylog, *a.more], a.port, a.tshark)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print(f"tshark_check: {e}", file=sys.stderr)
        return 2
    if a.json:
        d = asdict(r)
        d["ok"] = r.ok
        print(json.dumps(d))
    else:
        print(r.lines())
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
