"""The local interop runner (interop/runner/) and our image's
run_endpoint.sh: the fast subset CI runs. The full matrix is
`interop/runner/local_runner.py` (see interop/runner/README.md).

The middlebox is found next to QUICBED_BIN's build
(<build>/interop/runner/quicbed-middlebox) or through QUICBED_MIDDLEBOX.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quicbed_util import QUICBED, REPO, needs_peers, P

sys.path[:0] = [str(REPO / "interop" / "runner")]
import checks as C  # noqa: E402
import local_runner as LR  # noqa: E402
import topology as T  # noqa: E402

MIDDLEBOX = Path(os.environ.get("QUICBED_MIDDLEBOX",
                                QUICBED.parents[2] / "interop" / "runner" / "quicbed-middlebox"))
needs_middlebox = pytest.mark.skipif(not os.access(MIDDLEBOX, os.X_OK),
                                     reason=f"{MIDDLEBOX} not built (needs ns-3; set QUICBED_MIDDLEBOX)")


def test_run_endpoint_refuses_unknown_testcases_with_127(tmp_path):
    for role in ("client", "server"):
        env = dict(os.environ, ROLE=role, TESTCASE="no-such-test-case", QUICBED=str(QUICBED),
                   QLOGDIR=str(tmp_path / "qlog"), LOGS=str(tmp_path))
        r = subprocess.run(["bash", str(REPO / "interop" / "run_endpoint.sh")], env=env,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 127, r.stderr
        assert "unsupported test case" in r.stderr


def test_result_table_letters():
    rs = [LR.Result("a", "b", "handshake", "H", "succeeded"),
          LR.Result("a", "b", "retry", "S", "unsupported"),
          LR.Result("a", "b", "transfer", "DC", "failed"),
          LR.Result("a", "c", "handshake", "H", "succeeded")]
    text = LR.table(rs, ["a"], ["b", "c"])
    assert "✓(H)" in text and "?(S)" in text and "✕(DC)" in text
    md = LR.markdown(rs, ["a"], ["b", "c"])
    assert "| a | ✓(H)<br>?(S)<br>✕(DC) | ✓(H) |" in md
    # A rerun replaces the earlier result in the table; the list keeps both.
    rerun = rs + [LR.Result("a", "b", "transfer", "DC", "succeeded")]
    md = LR.markdown(rerun, ["a"], ["b", "c"])
    assert "| a | ✓(H,DC)<br>?(S) | ✓(H) |" in md
    assert md.count("| a | b | transfer (DC) |") == 2 and "rerun below" in md


@contextlib.contextmanager
def _link(tmp_path: Path, *options: str):
    """The topology with the middlebox running (given options); yields it."""
    with T.Topology() as topo:
        mb = T.start_middlebox(topo, tmp_path, MIDDLEBOX, list(options), tmp_path / "mb.log")
        try:
            time.sleep(1)
            yield topo
        finally:
            P.stop(mb)


def _udp(topo: T.Topology, script: str, addr: str, *args: str) -> str:
    """`script` as UDP server on `addr` in the server's namespace and as
    client in the client's; the client's output."""
    srv = subprocess.Popen(["ip", "netns", "exec", topo.ns["server"], sys.executable, "-c",
                            script, "server", addr])
    try:
        time.sleep(0.3)
        return subprocess.run(["ip", "netns", "exec", topo.ns["client"], sys.executable, "-c", script,
                               "client", addr, *args], capture_output=True, text=True, timeout=60).stdout
    finally:
        P.stop(srv)


_ECHO = r"""
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if sys.argv[1] == "server":
    s.bind((sys.argv[2], 9999)); s.settimeout(8)
    try:
        while True:
            d, a = s.recvfrom(2000); s.sendto(d, a)
    except socket.timeout:
        pass
else:
    s.settimeout(1)
    for i in range(int(sys.argv[3])):
        t = time.monotonic(); s.sendto(b"x" * 1200, (sys.argv[2], 9999))
        try:
            s.recvfrom(2000); print("rtt", (time.monotonic() - t) * 1000)
        except socket.timeout:
            print("lost")
"""


@needs_middlebox
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network and mount namespaces")
def test_middlebox_delays_and_drops_by_index(tmp_path):
    """UDP echoes through the middlebox: 10 round trips of 1200 bytes take
    2 x 15 ms plus serialisation at 10 Mbit/s, and the drop list loses
    exactly the client's 2nd and 5th packets (IPv4 and IPv6)."""
    with _link(tmp_path, "--drop-list-to-server=2,5,13") as topo:
        outs = [_udp(topo, _ECHO, addr, "10").split("\n")[:10] for addr in (T.SERVER4, T.SERVER6)]
    stats = (tmp_path / "mb.log").read_text()
    v4, v6 = outs
    assert [i for i, l in enumerate(v4) if l == "lost"] == [1, 4], (v4, stats)
    assert [i for i, l in enumerate(v6) if l == "lost"] == [2], (v6, stats)  # 13th packet overall
    rtts = [float(l.split()[1]) for l in v4 + v6 if l.startswith("rtt")]
    # 2 x (15 ms + 0.98 ms at 10 Mbit/s) at least; the first packets of a
    # real-time simulation may wait longer.
    assert all(r >= 31 for r in rtts), rtts
    assert sorted(rtts)[len(rtts) // 2] < 40, rtts
    assert "to-server: seen 20 forwarded 17 dropped 3" in stats, stats


_SEEN = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sys.argv[1] == "server":
    s.bind((sys.argv[2], 9999)); s.settimeout(8)
    try:
        while True:
            d, a = s.recvfrom(2000); s.sendto(f"{a[0]}:{a[1]}".encode(), a)
    except socket.timeout:
        pass
else:
    s.settimeout(1)
    for i in range(16):
        s.sendto(b"x", (sys.argv[2], 9999))
        try:
            print(s.recvfrom(2000)[0].decode())
        except socket.timeout:
            print("lost")
        time.sleep(0.25)
"""


@needs_middlebox
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network and mount namespaces")
@pytest.mark.parametrize("kind", ["port", "addr"])
def test_middlebox_nat_rebinding(tmp_path, kind):
    """The NAT in front of the client: after the rebinding the server sees
    the client from a new port (and with "addr" a new address in its
    subnet) and its answers still reach the client."""
    with _link(tmp_path, f"--rebind={kind}", "--first-rebind=3", "--rebind-every=100") as topo:
        out = _udp(topo, _SEEN, T.SERVER4)
    seen = out.split()
    stats = (tmp_path / "mb.log").read_text()
    # A reply in flight when the binding changes goes to the forgotten
    # public endpoint and is dropped, as by a real NAT: at most that one.
    assert len(seen) == 16 and seen.count("lost") <= 1, (seen, stats)
    assert len(set(seen) - {"lost"}) == 2, (seen, stats)  # one rebinding
    before, after = seen[0], seen[-1]
    (a0, p0), (a1, p1) = before.rsplit(":", 1), after.rsplit(":", 1)
    assert a0 == T.CLIENT4 and p0 != p1
    assert (a1 != a0 and a1.startswith("193.167.0.")) if kind == "addr" else a1 == a0
    assert "rebinds: 1" in stats, stats


def _run(server: str, client: str, case: LR.Case, keep: Path) -> LR.Result:
    """One run; a failed one's logs and captures are kept under `keep`."""
    runner = LR.Runner(QUICBED.resolve(), MIDDLEBOX.resolve(), keep=keep)
    try:
        r = runner.run(server, client, case)
    finally:
        runner.close()
    print(f"{server} -> {client} {case.name}: {r.result} {r.seconds} s {r.detail} {r.logs}")
    return r


# Ours against ours for the letters most likely to break (handshake,
# Retry, resumption and 0-RTT, key update, ECN, v2, connection migration),
# and against ngtcp2 (h3 only) both ways; each a few seconds over the
# runner's 10 Mbit/s, 15 ms link. The full matrix: interop/runner/README.md.
FAST = [("quicbed", "quicbed", "handshake"), ("quicbed", "quicbed", "retry"),
        ("quicbed", "quicbed", "resumption"), ("quicbed", "quicbed", "zerortt"),
        ("quicbed", "quicbed", "keyupdate"), ("quicbed", "quicbed", "ecn"),
        ("quicbed", "quicbed", "v2"), ("quicbed", "quicbed", "connectionmigration"),
        ("quicbed", "ngtcp2", "handshake"), ("quicbed", "ngtcp2", "http3"),
        ("ngtcp2", "quicbed", "handshake"), ("quicbed", "ngtcp2", "chacha20")]


@needs_peers
@needs_middlebox
@pytest.mark.parametrize("server,client,test", FAST, ids=[f"{s}-{c}-{t}" for s, c, t in FAST])
def test_local_runner_case(server, client, test, tmp_path):
    r = _run(server, client, LR.CASES[test], tmp_path)
    assert r.result == "succeeded", r.detail


@needs_peers
@needs_middlebox
def test_local_runner_transfer_ours_vs_ours(tmp_path):
    """2+3+5 MB through the 25-packet queue: slow start overshoots, the queue
    drops dozens of packets of one window, and the receiver holds every gap
    (it used to close with "too many gaps" beyond 16)."""
    r = _run("quicbed", "quicbed", LR.CASES["transfer"], tmp_path)
    assert r.result == "succeeded", r.detail


CHECK_MISMATCH = [(C.check_chacha20, "client offered"), (C.check_longrtt, "none retransmitted"),
                  (C.check_connectionmigration, "only one path")]


@needs_peers
@needs_middlebox
@pytest.mark.parametrize("check,why", CHECK_MISMATCH, ids=["chacha20", "longrtt", "connectionmigration"])
def test_local_runner_check_can_fail(check, why, tmp_path):
    """A handshake run on the default link judged by another test's check
    fails: the client offered all its cipher suites, with a 30 ms RTT its
    ClientHello was not retransmitted, and nothing moved to another path."""
    r = _run("quicbed", "quicbed", LR.Case("handshake", "X", [1024], check), tmp_path)
    assert r.result == "failed" and why in r.detail, r.detail


@needs_peers
@needs_middlebox
def test_local_runner_unsupported_is_127(tmp_path):
    """ngtcp2's endpoint script has no v2 (only the draft): '?'."""
    r = _run("ngtcp2", "quicbed", LR.CASES["v2"], tmp_path)
    assert r.result == "unsupported", r.detail


class _Rows(C.Trace):
    """A capture whose QUIC packets are given: (source, destination, sender
    is the server, {field: value}) each, as _packets_on_paths asks for them."""

    def __init__(self, rows):
        super().__init__(Path("unused.pcap"), [])
        self.rows = rows

    def fields(self, names, display_filter):
        from_server = "&& !" not in display_filter
        return [[src[0], "", src[1], dst[0], "", dst[1], *(values.get(n, "") for n in names[6:])]
                for src, dst, by_server, values in self.rows if by_server == from_server]


def test_path_checks_follow_the_runner(monkeypatch):
    """check_rebind and check_connectionmigration on made-up captures: a
    new path's first server packet must carry a PATH_CHALLENGE the client
    answers, and the client's first packet there a new connection ID."""
    monkeypatch.setattr(C, "handshakes", lambda run, n: None)
    srv, old, new = ("193.167.100.100", "443"), ("193.167.0.100", "5000"), ("193.167.0.100", "6000")
    ch, resp, dcid = "quic.path_challenge.data", "quic.path_response.data", "quic.dcid"

    def check(f, rows):
        t = _Rows(rows)
        return f(C.Run(t, t, 1))

    good = [(old, srv, False, {dcid: "d1"}), (srv, old, True, {}),
            (new, srv, False, {dcid: "d2"}), (srv, new, True, {ch: "aa"}),
            (new, srv, False, {dcid: "d2", resp: "aa"})]
    assert check(C.check_rebind, good) is None
    assert check(C.check_connectionmigration, good) is None
    unanswered = good[:4]
    assert "without a PATH_RESPONSE" in check(C.check_rebind, unanswered)
    unchallenged = good[:3] + [(srv, new, True, {})] + good[4:]
    assert "has no PATH_CHALLENGE" in check(C.check_rebind, unchallenged)
    assert "only one path" in check(C.check_rebind, good[:2])
    same_dcid = good[:2] + [(new, srv, False, {dcid: "d1"})] + good[3:]
    assert "reuses the connection ID" in check(C.check_connectionmigration, same_dcid)
