"""The quicbed endpoint program over hq-interop (HTTP/0.9) against real
peers: our client downloads from quic-go's interop server, quic-go's client
downloads from our server, and our client from our server. Every download
is compared byte for byte; the captured exchange must decrypt cleanly with
tshark (interop/tshark_check.py). Plus the command line's usage errors,
certificate verification and a server that does not answer.

The program comes from $QUICBED_BIN, else build/default (what scripts/test.sh
builds). Runs with peers need root and interop/peers/setup.sh. Captured runs
pass --no-gso: GSO super-packets captured on lo do not decrypt.

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v -s tests/interop/test_quicbed_hq.py
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from quicbed_util import (P, QUICBED, TIMEOUT, assert_identical, check_capture, client_argv,
                          make_mixed_www, make_www, needs_peers, needs_quicbed, quicbed_server, report, run,
                          tshark_check)


# --------------------------------------------------------------------------
# our client, quic-go's server


def fetch_from_quicgo(tmp: Path, certs: P.Certs, sizes: list[int], *extra: str):
    """Serves files of `sizes` with quic-go (netns, port 443), downloads them
    with our client while capturing; checks them and the capture."""
    www, dl, keylog = tmp / "www", tmp / "downloads", tmp / "client-keys.log"
    names = make_www(www, sizes)
    srv = P.PEERS["quic-go"]
    with P.NetNs() as ns:
        s = srv.server(addr="127.0.0.1", port=443, www=www, cert=certs.cert, key=certs.key,
                       alpn="hq-interop", keylog=tmp / "server-keys.log",
                       qlog_dir=tmp / "server-qlog", workdir=tmp, netns=ns.name)
        with P.Capture(tmp / "capture.pcap", 443, netns=ns.name) as cap:
            sp = s.start()
            try:
                P.wait_listening(sp, 443)
                r, elapsed = run(client_argv(P.urls("127.0.0.1", 443, names), dl, "-v", "--no-gso",
                                             "--ca", str(certs.ca_cert), "--keylog", str(keylog),
                                             *extra, netns=ns.name))
            finally:
                P.stop(sp)
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}"
    assert_identical(www, dl, names, r.stderr)
    check_capture(tmp, cap, keylog, 443)
    return r, elapsed


@needs_peers
def test_client_from_quicgo_1k(tmp_path, certs):
    r, elapsed = fetch_from_quicgo(tmp_path, certs, [1024])
    report("quic-go -> quicbed, 1 KB", r, elapsed, 1024)


@needs_peers
def test_client_from_quicgo_3_large_files(tmp_path, certs):
    sizes = [1 << 20, 3 << 20, 5 << 20]
    qlog = tmp_path / "qlog"
    r, elapsed = fetch_from_quicgo(tmp_path, certs, sizes, "--qlog-dir", str(qlog))
    report("quic-go -> quicbed, 1+3+5 MB", r, elapsed, sum(sizes))
    # One JSON-SEQ qlog file for the connection, named after its ODCID.
    files = list(qlog.glob("*_client.sqlog"))
    assert len(files) == 1, files
    records = files[0].read_text().split("\x1e")[1:]
    assert records and all(rec.endswith("\n") for rec in records)
    assert '"qlog_format":"JSON-SEQ"' in records[0]
    assert any('"transport:packet_received"' in rec for rec in records)


@needs_peers
def test_client_from_quicgo_200_small_files(tmp_path, certs):
    rng = random.Random(200)
    sizes = [rng.randint(1, 4096) for _ in range(200)]
    r, elapsed = fetch_from_quicgo(tmp_path, certs, sizes)
    report("quic-go -> quicbed, 200 small files", r, elapsed, sum(sizes))


@needs_peers
def test_client_verifies_the_certificate(tmp_path, certs):
    """Without --ca the test CA is unknown: the handshake fails with the
    alert; --insecure skips the check."""
    www, dl = tmp_path / "www", tmp_path / "downloads"
    names = make_www(www, [1000])
    srv = P.PEERS["quic-go"]
    with P.NetNs() as ns:
        s = srv.server(addr="127.0.0.1", port=443, www=www, cert=certs.cert, key=certs.key,
                       alpn="hq-interop", keylog=tmp_path / "server-keys.log",
                       qlog_dir=tmp_path / "server-qlog", workdir=tmp_path, netns=ns.name)
        sp = s.start()
        try:
            P.wait_listening(sp, 443)
            urls = P.urls("127.0.0.1", 443, names)
            refused, _ = run(client_argv(urls, dl, netns=ns.name), timeout=30)
            insecure, _ = run(client_argv(urls, dl, "--insecure", netns=ns.name), timeout=30)
        finally:
            P.stop(sp)
    assert refused.returncode == 1, refused.stderr
    assert "TLS handshake with 127.0.0.1:443 failed" in refused.stderr
    assert "unknown_ca (48)" in refused.stderr
    assert insecure.returncode == 0, insecure.stderr
    assert_identical(www, dl, names, insecure.stderr)


# --------------------------------------------------------------------------
# our server


@needs_peers
@pytest.mark.parametrize("case", ["1k", "3_large_files", "200_small_files"])
def test_server_to_quicgo_client(tmp_path, certs, case):
    sizes = {"1k": [1024], "3_large_files": [1 << 20, 3 << 20, 5 << 20],
             "200_small_files": [random.Random(7).randint(1, 4096) for _ in range(200)]}[case]
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    names = make_www(www, sizes)
    cli = P.PEERS["quic-go"]
    with P.NetNs() as ns:
        c = cli.client(addr="127.0.0.1", port=443, files=names, downloads=dl, alpn="hq-interop",
                       keylog=keylog, qlog_dir=tmp_path / "client-qlog", workdir=tmp_path,
                       netns=ns.name)
        with P.Capture(tmp_path / "capture.pcap", 443, netns=ns.name) as cap:
            with quicbed_server(tmp_path, certs, www, "[::]:443", "--no-gso", "--keylog",
                                str(tmp_path / "server-keys.log"), "--qlog-dir",
                                str(tmp_path / "server-qlog"), netns=ns.name):
                t0 = time.monotonic()
                rc = c.run(timeout=TIMEOUT)
                elapsed = time.monotonic() - t0
    log = c.log.read_text(errors="replace") if c.log.exists() else ""
    assert rc == 0, f"quic-go client exited with {rc}: {log[-2000:]}"
    assert_identical(www, dl, names, log)
    check_capture(tmp_path, cap, keylog, 443)
    qlogs = list((tmp_path / "server-qlog").glob("*_server.sqlog"))
    assert len(qlogs) == 1 and '"transport:packet_sent"' in qlogs[0].read_text(), qlogs
    print(f"quicbed -> quic-go, {case}: {sum(sizes)} bytes, {elapsed:.2f} s wall "
          f"({sum(sizes) * 8 / elapsed / 1e6:.1f} Mbit/s including the handshake)")


@needs_peers
def test_client_from_our_server(tmp_path, certs):
    """Ours to ours on ::1 and any port: big and small files in parallel, a
    missing file and one whose path leaves the root through a symbolic
    link, each reset with its error while the others complete."""
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    names = make_mixed_www(www, tmp_path / "secret.txt")
    port = P.free_udp_port("::1")
    with P.Capture(tmp_path / "capture.pcap", port) as cap:
        with quicbed_server(tmp_path, certs, www, f"[::1]:{port}", "--no-gso", "-v"):
            good, elapsed = run(client_argv(P.urls("::1", port, names), dl, "-v", "--no-gso",
                                            "--ca", str(certs.ca_cert), "--keylog", str(keylog)))
            bad, _ = run(client_argv(P.urls("::1", port, ["f000.bin", "missing.bin", "escape.txt"]),
                                     tmp_path / "bad-downloads", "--no-gso", "--ca", str(certs.ca_cert),
                                     "--keylog", str(keylog)))
    assert good.returncode == 0, good.stderr[-3000:]
    assert_identical(www, dl, names, good.stderr)
    report("quicbed -> quicbed", good, elapsed, sum((www / n).stat().st_size for n in names))
    # The capture holds both connections, the key log both clients' secrets.
    assert cap.drops == 0
    r = tshark_check.check(tmp_path / "capture.pcap", keylog, port, timeout=300)
    assert r.ok, r.problems
    assert r.packets == cap.captured and r.handshakes == 2 and r.versions == ["0x00000001"]

    assert bad.returncode == 1, bad.stderr
    assert "GET /missing.bin failed: the server reset the stream with error 0x11 (not found)" in bad.stderr
    assert "GET /escape.txt failed: the server reset the stream with error 0x12 (forbidden)" in bad.stderr
    assert "1 of 3 file(s) saved" in bad.stderr
    assert (tmp_path / "bad-downloads" / "f000.bin").read_bytes() == (www / "f000.bin").read_bytes()
    assert not (tmp_path / "bad-downloads" / "missing.bin").exists()
    assert not (tmp_path / "bad-downloads" / "escape.txt").exists()


@needs_quicbed
@pytest.mark.parametrize("options", [
    ["--ciphers", "TLS_AES_128_GCM_SHA256"],
    ["--ciphers", "TLS_AES_256_GCM_SHA384"],
    ["--ciphers", "TLS_CHACHA20_POLY1305_SHA256", "--cc", "newreno"],
    ["--cc", "cubic", "--max-datagram-size", "1200"],
    ["--max-datagram-size", "9000"],
    ["--cc", "bbr"],
    ["--cc", "bbr", "--max-datagram-size", "9000"],
    ["--initial-window", "32", "--no-pacing"],
], ids=["aes128", "aes256", "chacha20-newreno", "cubic-1200", "jumbo-9000", "bbr", "bbr-jumbo-9000",
        "iw32-unpaced"])
def test_options_ours_to_ours(tmp_path, certs, options):
    """Each cipher suite, congestion controller, datagram size and window
    option works end to end (the server takes the client's only suite; lo
    has a 64 KB MTU)."""
    www, dl = tmp_path / "www", tmp_path / "downloads"
    names = make_www(www, [300_000, 1])
    port = P.free_udp_port()
    with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", *options):
        r, _ = run(client_argv(P.urls("127.0.0.1", port, names), dl, "--ca", str(certs.ca_cert),
                               *options), timeout=60)
    assert r.returncode == 0, r.stderr
    assert_identical(www, dl, names, r.stderr)


# --------------------------------------------------------------------------
# failures


@needs_quicbed
def test_unreachable_server_fails_in_bounded_time(tmp_path):
    port = P.free_udp_port()
    r, elapsed = run(client_argv([f"https://127.0.0.1:{port}/x"], tmp_path, "--timeout", "1"),
                     timeout=30)
    assert r.returncode == 1, r.stderr
    assert f"handshake with 127.0.0.1:{port} timed out" in r.stderr
    # The idle timeout, or three PTOs when those are longer (RFC 9000 §10.1).
    assert elapsed < 10, elapsed


BAD_ARGS = [
    ([], "missing mode"),
    (["serve"], "unknown mode 'serve'"),
    (["client"], "client needs at least one URL"),
    (["client", "http://127.0.0.1:4433/a"], "URL must start with https://"),
    (["client", "https://127.0.0.1:99999/a"], "port must be a number"),
    (["client", "https://127.0.0.1:4433/"], "URL path must name a file"),
    (["client", "https://127.0.0.1:4433/../etc/passwd"], "URL path must name a file"),
    (["client", "https://a:1/x", "https://b:1/y"], "all URLs must name one server"),
    (["client", "--bogus", "https://a/x"], "unknown option --bogus"),
    (["client", "--alpn", "spdy", "https://a/x"], "expected hq-interop or h3"),
    (["client", "--cc", "vegas", "https://a/x"], "--cc vegas: expected newreno, cubic or bbr"),
    (["client", "--ciphers", "TLS_AES_128_CCM_SHA256", "https://a/x"], "unknown TLS 1.3 cipher suite"),
    (["client", "--max-datagram-size", "1000", "https://a/x"], "from 1200 to 65527"),
    (["client", "--initial-window", "1", "https://a/x"], "--initial-window 1: expected a number of datagrams"),
    (["server", "--initial-window", "1001"], "from 2 to 1000"),
    (["client", "--timeout", "0", "https://a/x"], "--timeout 0: expected seconds"),
    (["client", "--timeout"], "--timeout needs a value"),
    (["client", "--ca", "/nonexistent/ca.pem", "https://a/x"], "--ca /nonexistent/ca.pem: No such file"),
    (["client", "--insecure=yes", "https://a/x"], "--insecure takes no value"),
    (["client", "--listen", "[::]:443", "https://a/x"], "--listen is a server option"),
    (["server", "--cert", "/etc/hostname"], "server needs --listen"),
    (["server", "--listen", "localhost:443"], "--listen localhost:443"),
    (["server", "--listen", "[::]:4433", "--cert", "/nonexistent", "--key", "/etc/hostname",
      "--root", "/tmp"], "--cert /nonexistent: No such file"),
    (["server", "--listen", "[::]:4433", "--cert", "/etc/hostname", "--key", "/etc/hostname",
      "--root", "/etc/hostname"], "--root /etc/hostname: not a directory"),
    (["server", "--insecure"], "--insecure is a client option"),
]


@needs_quicbed
@pytest.mark.parametrize("args,message", BAD_ARGS, ids=[" ".join(a) or "none" for a, _ in BAD_ARGS])
def test_bad_arguments_are_usage_errors(args, message):
    r = subprocess.run([str(QUICBED), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    first = r.stderr.splitlines()[0]
    assert first.startswith("quicbed: ") and message in first, r.stderr
    assert "usage: quicbed client" in r.stderr


@needs_quicbed
def test_help():
    r = subprocess.run([str(QUICBED), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "--download-dir" in r.stdout and "--listen" in r.stdout
