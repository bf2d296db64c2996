"""BBR (draft-ietf-ccwg-bbr, `--cc bbr`) in the quicbed program against
real peers, through a bottleneck: each run has a network namespace of its
own whose loopback is shaped by a token bucket (tc tbf, 40 Mbit/s; this
kernel has no netem). Our server with BBR serves ngtcp2's and quic-go's h3
clients, and our client with BBR downloads from ngtcp2's server. Files are
compared byte for byte; the server's qlog must show BBR leaving Startup
for ProbeBW and pacing near the bottleneck rate.

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v -s tests/interop/test_quicbed_bbr.py
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from quicbed_util import P, assert_identical, client_argv, make_www, needs_peers, peer_client_from_quicbed, report, run

RATE_BPS = 40_000_000
SIZES = [1024, 5 << 20, 10 << 20]
PORT = 4433


def shape(ns: str, queue: str = "20ms") -> None:
    """The namespace's loopback becomes a 40 Mbit/s bottleneck with up to
    `queue` of queue (tail drop beyond). The bucket holds one datagram: a
    deeper one lets an idle link pass a burst at loopback speed, which BBR
    would rightly measure as bandwidth (measured here: pacing rates of
    2-4x the bucket rate with a 4500-byte bucket)."""
    subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "tbf",
                    "rate", str(RATE_BPS), "burst", "1600", "latency", queue], check=True, timeout=30)


def qlog_events(qlog_dir: Path) -> list[dict]:
    """The events of the one JSON-SEQ qlog file (RFC 7464) in `qlog_dir`."""
    files = sorted(qlog_dir.glob("*.sqlog"))
    assert len(files) == 1, files
    records = [json.loads(r) for r in files[0].read_text().split("\x1e") if r.strip()]
    assert "qlog_version" in records[0]
    return records[1:]


def check_bbr_qlog(qlog_dir: Path) -> None:
    """Startup first, then ProbeBW phases; in ProbeBW the pacing rate is
    gain (0.9-1.25) times a bandwidth estimate near the bottleneck."""
    events = qlog_events(qlog_dir)
    states = [e["data"]["new"] for e in events if e["name"] == "recovery:congestion_state_updated"]
    assert states, "no congestion_state_updated"
    first = next(e["data"]["old"] for e in events if e["name"] == "recovery:congestion_state_updated")
    assert first == "startup", first
    probe_bw = [s for s in states if s.startswith("probe_bw_")]
    assert probe_bw, states
    # Pacing rates (qlog: bits per second) while in ProbeBW.
    state, rates = "startup", []
    for e in events:
        if e["name"] == "recovery:congestion_state_updated":
            state = e["data"]["new"]
        elif e["name"] == "recovery:metrics_updated" and "pacing_rate" in e["data"] and state.startswith("probe_bw_"):
            rates.append(e["data"]["pacing_rate"])
    assert rates, "no pacing rate in ProbeBW"
    median = sorted(rates)[len(rates) // 2]
    # The token bucket's 40 Mbit/s counts IP bytes; the estimate counts UDP
    # payload and ACK clocking noise: a generous band, far from the
    # unshaped loopback's Gbit/s.
    assert 0.5 * RATE_BPS < median < 1.6 * RATE_BPS, (median, len(rates))


@needs_peers
@pytest.mark.parametrize("queue", ["20ms", "2ms"])
@pytest.mark.parametrize("peer", ["ngtcp2", "quic-go"])
def test_server_bbr_to_peer_client(tmp_path, certs, peer, queue):
    """Our server with --cc bbr sends 15 MB to the peer's h3 client
    through the bottleneck, with a deep queue (20 ms, 100 KB) and a shallow
    one (2 ms, 10 KB, about a third of the path's BDP) that drops."""
    www, dl = tmp_path / "www", tmp_path / "downloads"
    names = make_www(www, SIZES)
    port = P.PEERS[peer].fixed_port or PORT
    qlog = tmp_path / "server-qlog"
    with P.NetNs() as ns:
        shape(ns.name, queue)
        rc, elapsed, log, server_log, _ = peer_client_from_quicbed(
            tmp_path, certs, www, names, peer, port, ["--no-gso", "-v", "--cc", "bbr", "--qlog-dir", str(qlog)],
            ns.name)
    assert rc == 0, f"{peer} client exited with {rc}: {log[-2000:]}\nserver: {server_log[-2000:]}"
    assert_identical(www, dl, names, log)
    check_bbr_qlog(qlog)
    lost = sum(1 for e in qlog_events(qlog) if e["name"] == "recovery:packet_lost")
    if queue == "2ms":
        assert lost > 0, "the shallow queue dropped nothing"
    total = sum(SIZES)
    print(f"quicbed bbr -> {peer}, {queue} queue: {total} bytes, {elapsed:.2f} s wall "
          f"({total * 8 / elapsed / 1e6:.1f} Mbit/s through a {RATE_BPS / 1e6:.0f} Mbit/s bucket), {lost} lost")
    # Close to the bottleneck: at least half of it, handshake included.
    assert total * 8 / elapsed > 0.5 * RATE_BPS


@needs_peers
def test_client_bbr_from_ngtcp2_server(tmp_path, certs):
    """Our client with --cc bbr (its requests and ACK-eliciting frames) on
    the same bottleneck, downloading from ngtcp2's server."""
    www, dl = tmp_path / "www", tmp_path / "downloads"
    names = make_www(www, SIZES)
    srv = P.PEERS["ngtcp2"]
    port = srv.fixed_port or PORT
    qlog = tmp_path / "client-qlog"
    with P.NetNs() as ns:
        shape(ns.name)
        s = srv.server(addr="127.0.0.1", port=port, www=www, cert=certs.cert, key=certs.key, alpn="h3",
                       keylog=tmp_path / "server-keys.log", qlog_dir=tmp_path / "server-qlog",
                       workdir=tmp_path, netns=ns.name)
        sp = s.start()
        try:
            P.wait_listening(sp, port)
            r, elapsed = run(client_argv(P.urls("127.0.0.1", port, names), dl, "--alpn", "h3", "-v",
                                         "--no-gso", "--cc", "bbr", "--ca", str(certs.ca_cert),
                                         "--qlog-dir", str(qlog), netns=ns.name))
        finally:
            P.stop(sp)
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}"
    assert_identical(www, dl, names, r.stderr)
    # Our client sent little; its trace is whole and names BBR's states only.
    events = qlog_events(qlog)
    states = {e["data"][k] for e in events if e["name"] == "recovery:congestion_state_updated"
              for k in ("old", "new")}
    assert not states & {"slow_start", "congestion_avoidance"}, states
    report("ngtcp2 -> quicbed (bbr)", r, elapsed, sum(SIZES))
