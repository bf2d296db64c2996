"""The quicbed endpoint program over HTTP/3 (ALPN h3) against real peers:
our client downloads from ngtcp2's gtlsserver and quic-go's interop server,
their clients download from our server, and our client from our server
(which offers hq-interop and h3 at once and speaks what each client
chose). Every download is compared byte for byte; every captured exchange
must decrypt cleanly with tshark (interop/tshark_check.py).

Each case: one 1 KB file, three large files (1, 3 and 5 MB), and 100 small
files. Needs root and interop/peers/setup.sh; helpers in quicbed_util.py.

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v -s tests/interop/test_quicbed_h3.py
"""

from __future__ import annotations

import random

import pytest

from quicbed_util import (P, assert_identical, check_capture, client_argv, make_mixed_www, make_www, needs_peers,
                          needs_quicbed, peer_client_from_quicbed, quicbed_server, report, run, tshark_check)

CASES = {
    "1k": [1024],
    "3_large_files": [1 << 20, 3 << 20, 5 << 20],
    "100_small_files": [random.Random(100).randint(1, 4096) for _ in range(100)],
}
PEERS = ["ngtcp2", "quic-go"]
# A port for the peers that take any: each run has a network namespace of
# its own, so it cannot collide.
PORT = 4433


def peer_port(peer: str) -> int:
    return P.PEERS[peer].fixed_port or PORT


@needs_peers
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("peer", PEERS)
def test_client_from_peer_server(tmp_path, certs, peer, case):
    """The peer serves over h3; our client fetches every file at once."""
    sizes = CASES[case]
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    names = make_www(www, sizes)
    srv, port = P.PEERS[peer], peer_port(peer)
    with P.NetNs() as ns:
        s = srv.server(addr="127.0.0.1", port=port, www=www, cert=certs.cert, key=certs.key,
                       alpn="h3", keylog=tmp_path / "server-keys.log",
                       qlog_dir=tmp_path / "server-qlog", workdir=tmp_path, netns=ns.name)
        with P.Capture(tmp_path / "capture.pcap", port, netns=ns.name) as cap:
            sp = s.start()
            try:
                P.wait_listening(sp, port)
                r, elapsed = run(client_argv(P.urls("127.0.0.1", port, names), dl, "--alpn", "h3",
                                             "-v", "--no-gso", "--ca", str(certs.ca_cert),
                                             "--keylog", str(keylog), netns=ns.name))
            finally:
                P.stop(sp)
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}"
    assert "(ALPN h3)" in r.stderr
    assert_identical(www, dl, names, r.stderr)
    check_capture(tmp_path, cap, keylog, port, alpn="h3")
    report(f"{peer} -> quicbed h3, {case}", r, elapsed, sum(sizes))


@needs_peers
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("peer", PEERS)
def test_server_to_peer_client(tmp_path, certs, peer, case):
    """Our server (offering hq-interop and h3) serves the peer's h3 client."""
    sizes = CASES[case]
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    names = make_www(www, sizes)
    port = peer_port(peer)
    with P.NetNs() as ns:
        rc, elapsed, log, server_log, cap = peer_client_from_quicbed(
            tmp_path, certs, www, names, peer, port,
            ["--no-gso", "-v", "--keylog", str(tmp_path / "server-keys.log")], ns.name, capture=True)
    assert rc == 0, f"{peer} client exited with {rc}: {log[-2000:]}\nserver: {server_log[-2000:]}"
    assert_identical(www, dl, names, log)
    assert "handshake complete (ALPN h3)" in server_log, server_log[-2000:]
    check_capture(tmp_path, cap, keylog, port, alpn="h3")
    print(f"quicbed h3 -> {peer}, {case}: {sum(sizes)} bytes, {elapsed:.2f} s wall "
          f"({sum(sizes) * 8 / elapsed / 1e6:.1f} Mbit/s including the handshake)")


@needs_peers
def test_client_from_our_server(tmp_path, certs):
    """Ours to ours over h3 on ::1: big and small files at once; a missing
    file is 404 and one whose path leaves the root through a symbolic link
    403, while the others complete; an hq-interop client of the same server
    meanwhile gets HTTP/0.9."""
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    names = make_mixed_www(www, tmp_path / "secret.txt")
    port = P.free_udp_port("::1")
    with P.Capture(tmp_path / "capture.pcap", port) as cap:
        with quicbed_server(tmp_path, certs, www, f"[::1]:{port}", "--no-gso", "-v"):
            good, elapsed = run(client_argv(P.urls("::1", port, names), dl, "--alpn", "h3", "-v",
                                            "--no-gso", "--ca", str(certs.ca_cert),
                                            "--keylog", str(keylog)))
            bad, _ = run(client_argv(P.urls("::1", port, ["f000.bin", "missing.bin", "escape.txt"]),
                                     tmp_path / "bad-downloads", "--alpn", "h3", "--no-gso",
                                     "--ca", str(certs.ca_cert), "--keylog", str(keylog)))
            hq, _ = run(client_argv(P.urls("::1", port, names[:3]), tmp_path / "hq-downloads",
                                    "--alpn", "hq-interop", "-v", "--no-gso", "--ca",
                                    str(certs.ca_cert), "--keylog", str(keylog)))
    assert good.returncode == 0, good.stderr[-3000:]
    assert "(ALPN h3)" in good.stderr
    assert_identical(www, dl, names, good.stderr)
    report("quicbed -> quicbed h3", good, elapsed, sum((www / n).stat().st_size for n in names))
    assert hq.returncode == 0, hq.stderr[-3000:]
    assert "(ALPN hq-interop)" in hq.stderr
    assert_identical(www, tmp_path / "hq-downloads", names[:3], hq.stderr)
    # Three connections in the capture, the key log has every secret.
    assert cap.drops == 0
    r = tshark_check.check(tmp_path / "capture.pcap", keylog, port, timeout=300)
    assert r.ok, r.problems
    assert r.packets == cap.captured and r.handshakes == 3 and r.versions == ["0x00000001"]
    assert {"h3", "hq-interop"} <= set(r.alpns), r.alpns

    assert bad.returncode == 1, bad.stderr
    assert "GET /missing.bin failed: the server answered with status 404" in bad.stderr
    assert "GET /escape.txt failed: the server answered with status 403" in bad.stderr
    assert "1 of 3 file(s) saved" in bad.stderr
    assert (tmp_path / "bad-downloads" / "f000.bin").read_bytes() == (www / "f000.bin").read_bytes()
    assert not (tmp_path / "bad-downloads" / "missing.bin").exists()
    assert not (tmp_path / "bad-downloads" / "escape.txt").exists()


@needs_quicbed
def test_server_of_one_protocol_refuses_the_other(tmp_path, certs):
    """A server told --alpn hq-interop ends an h3 client's handshake with
    the TLS alert no_application_protocol (RFC 9001 §8.1)."""
    www = tmp_path / "www"
    names = make_www(www, [100])
    port = P.free_udp_port()
    with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--alpn", "hq-interop"):
        r, _ = run(client_argv(P.urls("127.0.0.1", port, names), tmp_path / "dl", "--alpn", "h3",
                               "--ca", str(certs.ca_cert)), timeout=30)
    assert r.returncode == 1, r.stderr
    assert "no_application_protocol (120)" in r.stderr, r.stderr
    assert not (tmp_path / "dl" / names[0]).exists()
