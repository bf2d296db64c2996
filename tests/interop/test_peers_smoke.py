"""Smoke tests of the real interop peers and of the capture checker, before
quicbed has an endpoint: each run serves three random files (1 KB, 100 KB,
2 MB) with one peer, downloads them with another, compares them byte for
byte, captures the exchange on lo with tcpdump and requires tshark_check to
decrypt every packet.

Needs root (network namespaces, mount namespaces, capture) and the peers:
run interop/peers/setup.sh first. Every step is bounded by a timeout.

    python3 -m pytest -v tests/interop
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "interop"), str(REPO / "interop" / "peers")]
import peers as P  # noqa: E402
import tshark_check  # noqa: E402

FILES = {"f1k.bin": 1024, "f100k.bin": 100 * 1024, "f2m.bin": 2 * 1024 * 1024}
CLIENT_TIMEOUT = 60

_missing = P.missing_tools()


def needs_peers(f):
    f = pytest.mark.skipif(bool(_missing), reason="interop peers missing (run "
                           "interop/peers/setup.sh): " + " ".join(_missing))(f)
    return pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network and mount "
                              "namespaces, packet capture")(f)


def traffic_secrets(keylog: Path) -> set[str]:
    """The key log's *TRAFFIC_SECRET* lines (GnuTLS also logs EXPORTER_SECRET, Go does not)."""
    return {line.strip() for line in keylog.read_text().splitlines() if "TRAFFIC_SECRET" in line}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return P.make_certs(tmp_path_factory.mktemp("certs"))


def transfer(tmp: Path, certs: P.Certs, server: str, client: str, alpn: str,
             addr: str = "127.0.0.1", netns: str | None = None):
    """Serves FILES with `server`, fetches them with `client` while capturing;
    returns (capture, tshark result, server keylog, port)."""
    www, dl = tmp / "www", tmp / "downloads"
    www.mkdir()
    for name, size in FILES.items():
        (www / name).write_bytes(os.urandom(size))
    srv, cli = P.PEERS[server], P.PEERS[client]
    port = srv.fixed_port or P.free_udp_port(addr)
    s = srv.server(addr=addr, port=port, www=www, cert=certs.cert, key=certs.key, alpn=alpn,
                   keylog=tmp / "server-keys.log", qlog_dir=tmp / "server-qlog", workdir=tmp,
                   netns=netns)
    c = cli.client(addr=addr, port=port, files=list(FILES), downloads=dl, alpn=alpn,
                   keylog=tmp / "client-keys.log", qlog_dir=tmp / "client-qlog", workdir=tmp,
                   netns=netns)
    with P.Capture(tmp / "capture.pcap", port, netns=netns) as cap:
        sp = s.start()
        try:
            P.wait_listening(sp, port, timeout=10)
            t0 = time.monotonic()
            rc = c.run(timeout=CLIENT_TIMEOUT)
            elapsed = time.monotonic() - t0
        finally:
            P.stop(sp)
    log = c.log.read_text(errors="replace")[-2000:] if c.log and c.log.exists() else ""
    assert rc == 0, f"{client} client exited with {rc}: {log}"
    for name in FILES:
        got = dl / name
        assert got.exists(), f"{name} not downloaded: {log}"
        assert got.read_bytes() == (www / name).read_bytes(), f"{name} differs"
    assert cap.drops == 0, f"tcpdump dropped {cap.drops} packets"
    r = tshark_check.check(tmp / "capture.pcap", tmp / "client-keys.log", port, timeout=120)
    print(f"{server} -> {client} ({alpn}, {addr}): {elapsed:.2f} s, {r.packets} packets, "
          f"{r.quic_packets} QUIC packets")
    assert r.ok, r.problems
    assert r.decryption_failed == 0 and r.undecrypted == 0 and r.malformed == 0
    assert r.packets == cap.captured and r.quic_packets >= r.packets
    assert r.handshakes == 1 and r.client_hellos == 1 and r.retries == 0
    assert r.versions == ["0x00000001"]
    assert alpn in r.alpns
    # both sides logged the same four traffic secrets
    secrets = traffic_secrets(tmp / "client-keys.log")
    assert len(secrets) == 4 and secrets == traffic_secrets(tmp / "server-keys.log")
    return cap, r, port


@needs_peers
def test_ngtcp2_h3(tmp_path, certs):
    """ngtcp2 client from ngtcp2 server, HTTP/3, 127.0.0.1, any port."""
    cap, r, port = transfer(tmp_path, certs, "ngtcp2", "ngtcp2", "h3")
    pcap, keys = tmp_path / "capture.pcap", tmp_path / "client-keys.log"
    # The checker is not vacuous: without the keys nothing past the Initials
    # decrypts, and the CLI says so with its exit code.
    empty = tmp_path / "empty-keys.log"
    empty.write_text("")
    bad = tshark_check.check(pcap, empty, port)
    assert not bad.ok and bad.undecrypted > 0 and bad.handshakes == 1
    cli = [sys.executable, str(REPO / "interop" / "tshark_check.py")]
    ok = subprocess.run([*cli, str(pcap), str(keys), str(port)], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "decryption_failed: 0" in ok.stdout
    fail = subprocess.run([*cli, str(pcap), str(empty), str(port)], capture_output=True,
                          text=True, timeout=120)
    assert fail.returncode == 1, fail.stdout + fail.stderr


@needs_peers
@pytest.mark.parametrize("alpn", ["hq-interop", "h3"])
def test_quicgo(tmp_path, certs, alpn):
    """quic-go client from quic-go server (fixed port 443, so in a netns)."""
    with P.NetNs() as ns:
        transfer(tmp_path, certs, "quic-go", "quic-go", alpn, netns=ns.name)


@needs_peers
@pytest.mark.parametrize("server,client", [("quic-go", "ngtcp2"), ("ngtcp2", "quic-go")])
def test_cross_h3(tmp_path, certs, server, client):
    """The two peers talk to each other over HTTP/3 (and ::1)."""
    with P.NetNs() as ns:
        transfer(tmp_path, certs, server, client, "h3", addr="::1", netns=ns.name)


@pytest.mark.parametrize("tool", ["openssl", "certtool"])
def test_make_certs(tmp_path, tool):
    if not P.shutil.which(tool):
        pytest.skip(f"{tool} not installed")
    c = P.make_certs(tmp_path, tool=tool)
    if P.shutil.which("openssl"):
        v = subprocess.run(["openssl", "verify", "-CAfile", str(c.ca_cert), str(c.cert)],
                           capture_output=True, text=True, timeout=30)
        assert v.returncode == 0, v.stdout + v.stderr
        t = subprocess.run(["openssl", "x509", "-in", str(c.cert), "-noout", "-ext",
                            "subjectAltName"], capture_output=True, text=True, timeout=30)
        for name in ("DNS:localhost", "DNS:server", "IP Address:127.0.0.1",
                     "IP Address:0:0:0:0:0:0:0:1"):
            assert name in t.stdout


def test_unsupported_requests_are_refused(tmp_path):
    with pytest.raises(P.Unsupported):
        P.PEERS["ngtcp2"].server(addr="127.0.0.1", port=4433, www=tmp_path, cert=tmp_path,
                                 key=tmp_path, alpn="hq-interop", keylog=tmp_path / "k",
                                 qlog_dir=tmp_path, workdir=tmp_path)
    with pytest.raises(P.Unsupported):
        P.PEERS["quic-go"].server(addr="127.0.0.1", port=4433, www=tmp_path, cert=tmp_path,
                                  key=tmp_path, alpn="h3", keylog=tmp_path / "k",
                                  qlog_dir=tmp_path, workdir=tmp_path)
