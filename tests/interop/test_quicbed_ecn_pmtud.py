"""ECN (RFC 9000 §13.4) and DPLPMTUD (RFC 8899, RFC 9000 §14.3) of the
quicbed program, checked on the wire.

ECN, against ngtcp2 (0.12.1 marks and counts) in both roles, checked the
way the interop runner's "ecn" test does: every QUIC packet our side sends
carries ECT(0) (ip.dsfield.ecn), and both sides' ACK frames carry ECN
counts (quic.ack.ect0_count). Against quic-go 0.29, which counts but never
marks, our client's side of the check. Plus our client with --ecn off.

PMTUD, our client and server in two network namespaces joined by a veth
pair (MTU 1500 on both ends, or 1400 on the server's end): the capture
shows PING+PADDING probes and server datagrams of exactly the path's
largest UDP payload, and both qlogs end with that PLPMTU.

Needs root, tshark/tcpdump and interop/peers/setup.sh. Captured runs pass
--no-gso (GSO super-packets do not decrypt in a capture; this machine has
no ethtool to turn a veth's offloads off).

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v -s tests/interop/test_quicbed_ecn_pmtud.py
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from quicbed_util import (P, QUICBED, TIMEOUT, assert_identical, check_capture, client_argv, make_www, needs_peers,
                          needs_quicbed, quicbed_server, run, tshark_check)

PORT = 4433
ECT0 = "2"  # RFC 3168 §5: ECT(0) is 0b10
ECN_FIELDS = ["udp.srcport", "udp.dstport", "ip.dsfield.ecn", "quic.header_form", "quic.ack.ect0_count"]


def qlog_events(qlog_dir: Path, name: str) -> list[dict]:
    """The `name` events of every qlog file in `qlog_dir` (JSON-SEQ)."""
    events = []
    for f in sorted(qlog_dir.glob("*.sqlog")):
        for record in f.read_text().split("\x1e"):
            if record.strip():
                e = json.loads(record)
                if e.get("name") == name:
                    events.append(e)
    return events


def check_ecn(pcap: Path, keylog: Path, ours: str) -> dict:
    """The runner's ECN checks on a capture of one connection; `ours` is the
    side ("client" or "server") whose packets must all be ECT(0). Returns
    counts for the report."""
    rows = [r for r in tshark_check.frames(pcap, keylog, PORT, ECN_FIELDS) if r["quic.header_form"]]
    from_server = [r for r in rows if r["udp.srcport"] == [str(PORT)]]
    from_client = [r for r in rows if r["udp.dstport"] == [str(PORT)]]
    assert from_server and from_client, "no QUIC packets one way"
    mine = from_client if ours == "client" else from_server
    marks = {}
    for r in mine:
        e = r["ip.dsfield.ecn"][0] if r["ip.dsfield.ecn"] else "?"
        marks[e] = marks.get(e, 0) + 1
    assert marks == {ECT0: len(mine)}, f"our {ours}'s packets by ECN codepoint: {marks}"
    # ACK_ECN frames both ways (the runner only asks that some are there).
    acks_client = sum(len(r["quic.ack.ect0_count"]) for r in from_client)
    acks_server = sum(len(r["quic.ack.ect0_count"]) for r in from_server)
    assert acks_client > 0, "no ACK frame with ECN counts from the client"
    assert acks_server > 0, "no ACK frame with ECN counts from the server"
    return {"ours": len(mine), "ack_ecn_client": acks_client, "ack_ecn_server": acks_server}


def ecn_states(qlog_dir: Path) -> list[str]:
    return [e["data"]["new"] for e in qlog_events(qlog_dir, "recovery:ecn_state_updated")]


def check_ecn_run(tmp: Path, cap: P.Capture, keylog: Path, ours: str, qlog: Path) -> dict:
    """An h3 exchange with ngtcp2: a clean capture, the runner's ECN checks,
    and our side's qlog saying ECN validated at once."""
    check_capture(tmp, cap, keylog, PORT, alpn="h3")
    counts = check_ecn(tmp / "capture.pcap", keylog, ours)
    assert ecn_states(qlog) == ["capable"]
    return counts


# --------------------------------------------------------------------------
# ECN with ngtcp2


@needs_peers
def test_ecn_our_client_with_ngtcp2_server(tmp_path, certs):
    www, dl, keylog, qlog = tmp_path / "www", tmp_path / "dl", tmp_path / "client-keys.log", tmp_path / "qlog"
    names = make_www(www, [100_000])
    srv = P.PEERS["ngtcp2"]
    with P.NetNs() as ns:
        s = srv.server(addr="127.0.0.1", port=PORT, www=www, cert=certs.cert, key=certs.key, alpn="h3",
                       keylog=tmp_path / "server-keys.log", qlog_dir=tmp_path / "server-qlog",
                       workdir=tmp_path, netns=ns.name)
        with P.Capture(tmp_path / "capture.pcap", PORT, netns=ns.name) as cap:
            sp = s.start()
            try:
                P.wait_listening(sp, PORT)
                r, _ = run(client_argv(P.urls("127.0.0.1", PORT, names), dl, "--alpn", "h3", "-v", "--no-gso",
                                       "--ca", str(certs.ca_cert), "--keylog", str(keylog),
                                       "--qlog-dir", str(qlog), netns=ns.name))
            finally:
                P.stop(sp)
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}"
    assert_identical(www, dl, names, r.stderr)
    counts = check_ecn_run(tmp_path, cap, keylog, "client", qlog)
    print(f"ngtcp2 server -> quicbed client, ECN: {counts}")


@needs_peers
def test_ecn_our_server_with_ngtcp2_client(tmp_path, certs):
    www, dl, keylog, qlog = tmp_path / "www", tmp_path / "dl", tmp_path / "client-keys.log", tmp_path / "qlog"
    names = make_www(www, [100_000])
    cli = P.PEERS["ngtcp2"]
    with P.NetNs() as ns:
        c = cli.client(addr="127.0.0.1", port=PORT, files=names, downloads=dl, alpn="h3", keylog=keylog,
                       qlog_dir=tmp_path / "client-qlog", workdir=tmp_path, netns=ns.name)
        with P.Capture(tmp_path / "capture.pcap", PORT, netns=ns.name) as cap:
            with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{PORT}", "--no-gso", "-v", "--qlog-dir",
                                str(qlog), "--keylog", str(tmp_path / "server-keys.log"), netns=ns.name):
                rc = c.run(timeout=TIMEOUT)
    log = c.log.read_text(errors="replace") if c.log.exists() else ""
    assert rc == 0, f"ngtcp2 client exited with {rc}: {log[-2000:]}"
    assert_identical(www, dl, names, log)
    counts = check_ecn_run(tmp_path, cap, keylog, "server", qlog)
    print(f"quicbed server -> ngtcp2 client, ECN: {counts}")


@needs_peers
def test_ecn_with_quicgo_which_counts_but_does_not_mark(tmp_path, certs):
    """quic-go 0.29 reports the ECN counts of what it receives but marks
    nothing itself: our client validates at once and marks every packet;
    quic-go's ACKs carry counts, ours none (we never saw a mark, RFC 9000
    §13.4.1), so the runner's two-sided ACK-ECN check cannot pass with it."""
    www, dl, keylog, qlog = tmp_path / "www", tmp_path / "dl", tmp_path / "client-keys.log", tmp_path / "qlog"
    names = make_www(www, [200_000])
    port = P.QUICGO_PORT
    srv = P.PEERS["quic-go"]
    with P.NetNs() as ns:
        s = srv.server(addr="127.0.0.1", port=port, www=www, cert=certs.cert, key=certs.key, alpn="hq-interop",
                       keylog=tmp_path / "server-keys.log", qlog_dir=tmp_path / "server-qlog", workdir=tmp_path,
                       netns=ns.name)
        with P.Capture(tmp_path / "capture.pcap", port, netns=ns.name) as cap:
            sp = s.start()
            try:
                P.wait_listening(sp, port)
                r, _ = run(client_argv(P.urls("127.0.0.1", port, names), dl, "--no-gso", "--ca", str(certs.ca_cert),
                                       "--keylog", str(keylog), "--qlog-dir", str(qlog), netns=ns.name))
            finally:
                P.stop(sp)
    assert r.returncode == 0, r.stderr[-3000:]
    assert_identical(www, dl, names, r.stderr)
    check_capture(tmp_path, cap, keylog, port)
    rows = [x for x in tshark_check.frames(tmp_path / "capture.pcap", keylog, port, ECN_FIELDS)
            if x["quic.header_form"]]
    ours = [x for x in rows if x["udp.dstport"] == [str(port)]]
    theirs = [x for x in rows if x["udp.srcport"] == [str(port)]]
    assert {x["ip.dsfield.ecn"][0] for x in ours} == {ECT0}
    assert {x["ip.dsfield.ecn"][0] for x in theirs} == {"0"}
    assert sum(len(x["quic.ack.ect0_count"]) for x in theirs) > 0
    assert sum(len(x["quic.ack.ect0_count"]) for x in ours) == 0
    assert ecn_states(qlog) == ["capable"]


@needs_peers
def test_ecn_off_leaves_packets_unmarked(tmp_path, certs):
    """Our client with --ecn off marks nothing but still reports the marks of
    our server, which validates them (both ends count received marks)."""
    www, dl, keylog = tmp_path / "www", tmp_path / "dl", tmp_path / "client-keys.log"
    cq, sq = tmp_path / "client-qlog", tmp_path / "server-qlog"
    names = make_www(www, [100_000])
    with P.NetNs() as ns:
        with P.Capture(tmp_path / "capture.pcap", PORT, netns=ns.name) as cap:
            with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{PORT}", "--no-gso", "--qlog-dir", str(sq),
                                netns=ns.name):
                r, _ = run(client_argv(P.urls("127.0.0.1", PORT, names), dl, "--ecn", "off", "--no-gso",
                                       "--ca", str(certs.ca_cert), "--keylog", str(keylog), "--qlog-dir",
                                       str(cq), netns=ns.name))
    assert r.returncode == 0, r.stderr[-3000:]
    assert_identical(www, dl, names, r.stderr)
    check_capture(tmp_path, cap, keylog, PORT)
    rows = [x for x in tshark_check.frames(tmp_path / "capture.pcap", keylog, PORT, ECN_FIELDS)
            if x["quic.header_form"]]
    client_marks = {x["ip.dsfield.ecn"][0] for x in rows if x["udp.dstport"] == [str(PORT)]}
    server_marks = {x["ip.dsfield.ecn"][0] for x in rows if x["udp.srcport"] == [str(PORT)]}
    assert client_marks == {"0"}, client_marks
    assert server_marks == {ECT0}, server_marks
    assert ecn_states(cq) == []
    assert ecn_states(sq) == ["capable"]


# --------------------------------------------------------------------------
# PMTUD over a veth pair


class VethPath:
    """A server and a client network namespace joined by a veth pair: the
    server end 10.213.0.1/24 with `server_mtu`, the client end 10.213.0.2/24
    with `client_mtu`. A sender's own interface MTU refuses larger
    datagrams (EMSGSIZE, DF set), exactly; the receiving end drops frames
    beyond its MTU, with the kernel's 4 bytes of slack for a VLAN tag
    (is_skb_forwardable): so a direction carries IP packets of up to
    min(sender MTU, receiver MTU + 4) bytes."""

    SERVER, CLIENT = "10.213.0.1", "10.213.0.2"

    def path_mtu(self, to_server: bool) -> int:
        send, recv = (self.client_mtu, self.server_mtu) if to_server else (self.server_mtu, self.client_mtu)
        return min(send, recv + 4)

    def __init__(self, server_mtu: int, client_mtu: int) -> None:
        self.server_mtu, self.client_mtu = server_mtu, client_mtu
        tag = uuid.uuid4().hex[:6]
        self.server_if, self.client_if = f"qbs{tag}", f"qbc{tag}"
        self._server_ns, self._client_ns = P.NetNs("qbpmtu-s"), P.NetNs("qbpmtu-c")

    @property
    def server_ns(self) -> str:
        return self._server_ns.name

    @property
    def client_ns(self) -> str:
        return self._client_ns.name

    def __enter__(self) -> "VethPath":
        self._server_ns.__enter__()
        try:
            self._client_ns.__enter__()
        except BaseException:
            self._server_ns.__exit__()
            raise
        try:
            def ip(*a: str) -> None:
                subprocess.run(["ip", *a], check=True, timeout=30)
            ip("link", "add", self.server_if, "netns", self.server_ns, "mtu", str(self.server_mtu),
               "type", "veth", "peer", "name", self.client_if, "netns", self.client_ns,
               "mtu", str(self.client_mtu))
            for ns, dev, addr in ((self.server_ns, self.server_if, self.SERVER),
                                  (self.client_ns, self.client_if, self.CLIENT)):
                ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                ip("-n", ns, "link", "set", dev, "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        # Removing a namespace removes its end of the pair, and with it both.
        self._client_ns.__exit__()
        self._server_ns.__exit__()


PMTUD_FIELDS = ["udp.srcport", "udp.dstport", "udp.length", "quic.header_form", "quic.frame_type"]


@needs_peers
@pytest.mark.parametrize("server_mtu,client_mtu", [(1500, 1500), (1400, 1500)])
def test_pmtud_finds_the_veth_path_mtu(tmp_path, certs, server_mtu, client_mtu):
    """Both ends search from 1200 up to --max-datagram-size 1472 (a 1500-byte
    IPv4 MTU less 28 header bytes) and end exactly at their direction's path
    MTU less those 28 bytes."""
    www, dl, keylog = tmp_path / "www", tmp_path / "dl", tmp_path / "client-keys.log"
    cq, sq = tmp_path / "client-qlog", tmp_path / "server-qlog"
    # Long enough for the client's search, which sends only ACKs besides
    # its probes: a lost probe is found by a probe timeout (RFC 9002 §6.2,
    # 25 ms of max_ack_delay included), 15 of them where the path is narrow.
    size = 40 << 20
    names = make_www(www, [size])
    common = ("--no-gso", "--max-datagram-size", "1472", "--pmtud", "on")
    with VethPath(server_mtu, client_mtu) as v:
        expect = {"server": min(v.path_mtu(False) - 28, 1472), "client": min(v.path_mtu(True) - 28, 1472)}
        with P.Capture(tmp_path / "capture.pcap", PORT, iface=v.client_if, netns=v.client_ns) as cap:
            with quicbed_server(tmp_path, certs, www, f"{v.SERVER}:{PORT}", *common, "-v", "--qlog-dir", str(sq),
                                "--keylog", str(tmp_path / "server-keys.log"), netns=v.server_ns):
                t0 = time.monotonic()
                r, _ = run(client_argv(P.urls(v.SERVER, PORT, names), dl, *common, "-v", "--insecure",
                                       "--keylog", str(keylog), "--qlog-dir", str(cq), netns=v.client_ns))
                elapsed = time.monotonic() - t0
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}"
    assert_identical(www, dl, names, r.stderr)
    check_capture(tmp_path, cap, keylog, PORT)

    rows = [x for x in tshark_check.frames(tmp_path / "capture.pcap", keylog, PORT, PMTUD_FIELDS)
            if x["quic.header_form"]]

    def payload(x: dict) -> int:
        return int(x["udp.length"][0]) - 8

    def is_probe(x: dict) -> bool:
        # RFC 9000 §14.4: a 1-RTT packet of PING (0x01) and PADDING (0x00)
        # only, in a datagram above the 1200-byte base.
        return (x["quic.header_form"] == ["0"] and set(x["quic.frame_type"]) == {"0", "1"}
                and payload(x) > 1200)

    server = [x for x in rows if x["udp.srcport"] == [str(PORT)]]
    client = [x for x in rows if x["udp.dstport"] == [str(PORT)]]
    server_probes = sorted({payload(x) for x in server if is_probe(x)})
    client_probes = sorted({payload(x) for x in client if is_probe(x)})
    assert client_probes and server_probes, (client_probes, server_probes)
    # The server's datagrams never exceed what the path carries (larger
    # probes fail at its own interface), and its data fills that size.
    largest = max(payload(x) for x in server)
    assert largest == expect["server"], (largest, expect)
    full = sum(1 for x in server if payload(x) == expect["server"] and not is_probe(x))
    assert full > size // 1472 // 2, f"only {full} data datagrams of {expect['server']} bytes"
    # The client probed sizes the path dropped only when it is narrower.
    assert max(client_probes) == 1472
    # Each side's last PLPMTU, settled.
    for side, q in (("client", cq), ("server", sq)):
        updates = qlog_events(q, "connectivity:mtu_updated")
        assert updates, f"no mtu_updated in the {side}'s qlog"
        assert updates[-1]["data"]["new"] == expect[side] and updates[-1]["data"].get("done"), (side, updates)
    print(f"PMTUD over veth MTU {server_mtu}/{client_mtu}: PLPMTU {expect}; client probes {client_probes}, "
          f"server probes {server_probes}; {size >> 20} MB in {elapsed:.2f} s")


@needs_quicbed
@pytest.mark.parametrize("option", ["--ecn", "--pmtud"])
def test_on_off_options_are_checked(option):
    r = subprocess.run([str(QUICBED), "client", option, "maybe", "https://127.0.0.1:4433/x"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert f"{option} maybe: expected on or off" in r.stderr
    assert option in subprocess.run([str(QUICBED), "--help"], capture_output=True, text=True,
                                    timeout=30).stdout
