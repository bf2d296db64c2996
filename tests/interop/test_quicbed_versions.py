"""Address validation and versions of the quicbed program, checked from the
capture the way the interop runner checks its "retry" (S) and "v2" (V2)
test cases, against real peers where they can:

- Retry: our client against ngtcp2's server (gtlsserver -V) and quic-go's
  (TESTCASE=retry), our server (--retry) against both clients: exactly one
  Retry with a token, every later client Initial carries that token, with
  packet numbers above the ones used before the Retry.
- NEW_TOKEN: our client keeps our server's token (--token-file) and the next
  connection skips the Retry.
- v2 (RFC 9369) with compatible negotiation (RFC 9368): ours to ours only
  (ngtcp2 0.12.1 and quic-go 0.29 know only the v2 draft): client Initials
  v1 first, server Initials 0x6b3343cf, every Handshake packet v2.
- Version Negotiation: the simulator's probe is answered; our client
  starting in a version the server does not speak starts again.
- The new options' usage errors.

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v tests/interop/test_quicbed_versions.py
"""

from __future__ import annotations

import socket
import struct
import subprocess
from pathlib import Path

import pytest

from quicbed_util import (P, QUICBED, TIMEOUT, assert_identical, client_argv, make_www, needs_peers,
                          needs_quicbed, peer_server, quicbed_server, run, tshark_check)

V1, V2 = 0x00000001, 0x6B3343CF
INITIAL, HANDSHAKE, RETRY = 0, 2, 3
PORT = 4433


def captured(tmp: Path, cap: P.Capture, keylogs: list[Path], port: int):
    """The capture decrypts cleanly; its long header packets."""
    assert cap.drops == 0, f"tcpdump dropped {cap.drops} packets"
    r = tshark_check.check(tmp / "capture.pcap", keylogs, port, timeout=300)
    assert r.ok, r.problems
    assert r.decryption_failed == 0 and r.undecrypted == 0 and r.malformed == 0
    packets, zero_fixed = tshark_check.long_packets(tmp / "capture.pcap", keylogs, port)
    return r, packets, zero_fixed


def assert_retry_like_the_runner(r: tshark_check.Result, packets: list[tshark_check.LongPacket]) -> None:
    """One Retry with a token; every later client Initial carries it, with a
    packet number above every one used before the Retry (RFC 9000 17.2.5)."""
    assert r.retries == 1, r.lines()
    retry_at = next(i for i, p in enumerate(packets) if p.type == RETRY)
    token = packets[retry_at].token
    assert token, "Retry without a token"
    before = [p for p in packets[:retry_at] if not p.from_server and p.type == INITIAL]
    after = [p for p in packets[retry_at + 1:] if not p.from_server and p.type == INITIAL]
    assert before and after, packets
    assert all(not p.token for p in before), before
    assert all(p.token == token for p in after), (token, after)
    assert min(p.pn for p in after) > max(p.pn for p in before), (before, after)


def retry_case(tmp: Path, peer: str):
    """The ALPN the peer does Retry over, the served file, the paths and
    the port of a Retry test."""
    alpn = "h3" if peer == "ngtcp2" else "hq-interop"
    www, dl, keylog = tmp / "www", tmp / "downloads", tmp / "client-keys.log"
    names = make_www(www, [10 * 1024])
    return alpn, www, dl, keylog, names, P.PEERS[peer].fixed_port or PORT


# --------------------------------------------------------------------------
# Retry: our client, the peer's server


@needs_peers
@pytest.mark.parametrize("peer", ["ngtcp2", "quic-go"])
def test_retry_our_client_from_peer_server(tmp_path, certs, peer):
    alpn, www, dl, keylog, names, port = retry_case(tmp_path, peer)
    with P.NetNs() as ns:
        with P.Capture(tmp_path / "capture.pcap", port, netns=ns.name) as cap:
            with peer_server(tmp_path, certs, www, peer, port, alpn, ns.name, retry=True):
                r, _ = run(client_argv(P.urls("127.0.0.1", port, names), dl, "--alpn", alpn, "-v",
                                       "--no-gso", "--ca", str(certs.ca_cert), "--keylog", str(keylog),
                                       "--qlog-dir", str(tmp_path / "client-qlog"), netns=ns.name))
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}"
    assert_identical(www, dl, names, r.stderr)
    res, packets, _ = captured(tmp_path, cap, [keylog], port)
    assert res.handshakes == 1 and res.versions == ["0x00000001"], res.lines()
    assert_retry_like_the_runner(res, packets)
    # qlog: the Retry was received, and the server's parameters name it.
    qlog = next((tmp_path / "client-qlog").glob("*.sqlog")).read_text()
    assert '"packet_type":"retry"' in qlog
    assert '"retry_source_connection_id"' in qlog


# --------------------------------------------------------------------------
# Retry: our server, the peer's client


@needs_peers
@pytest.mark.parametrize("peer", ["ngtcp2", "quic-go"])
def test_retry_our_server_to_peer_client(tmp_path, certs, peer):
    alpn, www, dl, keylog, names, port = retry_case(tmp_path, peer)
    with P.NetNs() as ns:
        c = P.PEERS[peer].client(addr="127.0.0.1", port=port, files=names, downloads=dl, alpn=alpn, keylog=keylog,
                       qlog_dir=tmp_path / "client-qlog", workdir=tmp_path, netns=ns.name)
        with P.Capture(tmp_path / "capture.pcap", port, netns=ns.name) as cap:
            with quicbed_server(tmp_path, certs, www, f"[::]:{port}", "--retry", "--no-gso", "-v",
                                "--keylog", str(tmp_path / "server-keys.log"), netns=ns.name):
                rc = c.run(timeout=TIMEOUT)
    log = c.log.read_text(errors="replace") if c.log.exists() else ""
    assert rc == 0, f"{peer} client exited with {rc}: {log[-2000:]}"
    assert_identical(www, dl, names, log)
    res, packets, _ = captured(tmp_path, cap, [keylog], port)
    assert res.handshakes == 1 and res.versions == ["0x00000001"], res.lines()
    assert_retry_like_the_runner(res, packets)


# --------------------------------------------------------------------------
# ours to ours: NEW_TOKEN, v2, Version Negotiation


@needs_peers
def test_new_token_skips_the_retry_next_time(tmp_path, certs):
    """The first connection goes through a Retry and keeps the server's
    NEW_TOKEN token; the second sends it and gets no Retry (RFC 9000 8.1.3)."""
    www, keylog, token = tmp_path / "www", tmp_path / "client-keys.log", tmp_path / "token.bin"
    names = make_www(www, [2000])
    port = P.free_udp_port()
    argv = ["-v", "--no-gso", "--ca", str(certs.ca_cert), "--keylog", str(keylog), "--token-file", str(token)]
    with P.Capture(tmp_path / "capture.pcap", port) as cap:
        with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--retry", "--no-gso", "-v"):
            first, _ = run(client_argv(P.urls("127.0.0.1", port, names), tmp_path / "dl1", *argv))
            saved = token.read_bytes() if token.exists() else b""
            second, _ = run(client_argv(P.urls("127.0.0.1", port, names), tmp_path / "dl2", *argv))
    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert "saved the server's NEW_TOKEN token" in first.stderr
    assert saved and saved[0] == ord("N")
    assert_identical(www, tmp_path / "dl2", names, second.stderr)
    res, packets, _ = captured(tmp_path, cap, [keylog], port)
    assert res.handshakes == 2 and res.retries == 1, res.lines()
    # The second connection's first Initial carries the NEW_TOKEN token.
    retry_at = next(i for i, p in enumerate(packets) if p.type == RETRY)
    tokens = [p.token for p in packets[retry_at + 1:] if not p.from_server and p.type == INITIAL]
    assert saved.hex() in tokens, tokens
    server_log = (tmp_path / "quicbed-server.log").read_text()
    assert "2 connection(s) accepted, 0 refused; 1 Retry, 0 Version Negotiation, 0 invalid token(s)" in server_log


@needs_peers
def test_v2_ours_to_ours_like_the_runner(tmp_path, certs):
    """The runner's V2 check on our pair: the client starts in v1 listing
    v2, the server prefers v2 and moves it (RFC 9368 compatible negotiation):
    client Initials v1 first, server Initials 0x6b3343cf, every Handshake
    packet v2; the greased Fixed Bit shows (RFC 9287: both advertise it)."""
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    names = make_www(www, [1024, 200_000])
    port = P.free_udp_port()
    with P.Capture(tmp_path / "capture.pcap", port) as cap:
        with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--versions", "v2,v1", "--no-gso",
                            "--qlog-dir", str(tmp_path / "server-qlog")):
            r, _ = run(client_argv(P.urls("127.0.0.1", port, names), dl, "-v", "--no-gso", "--ca",
                                   str(certs.ca_cert), "--keylog", str(keylog), "--version", "v1",
                                   "--other-versions", "v1,v2"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert_identical(www, dl, names, r.stderr)
    res, packets, zero_fixed = captured(tmp_path, cap, [keylog], port)
    assert res.handshakes == 1 and res.versions == ["0x00000001", "0x6b3343cf"], res.lines()
    client_initials = [p for p in packets if not p.from_server and p.type == INITIAL]
    server_initials = [p for p in packets if p.from_server and p.type == INITIAL]
    handshakes = [p for p in packets if p.type == HANDSHAKE]
    assert client_initials[0].version == V1
    assert server_initials and all(p.version == V2 for p in server_initials), server_initials
    assert handshakes and all(p.version == V2 for p in handshakes), handshakes
    assert zero_fixed > 0, "no greased Fixed Bit seen"
    qlog = next((tmp_path / "server-qlog").glob("*.sqlog")).read_text()
    assert '"transport:version_information"' in qlog and '"chosen_version":"00000001"' in qlog


def probe(port: int) -> bytes:
    """The interop simulator's probe: a 1207-byte long header with version
    0x57414954 and zero-length CIDs; returns the answer."""
    pkt = bytes([0xC0]) + struct.pack("!I", 0x57414954) + b"\x00\x00"
    pkt += b"\x00" * (1207 - len(pkt))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(pkt, ("127.0.0.1", port))
        return s.recv(2048)


@needs_quicbed
def test_simulator_probe_gets_version_negotiation(tmp_path, certs):
    port = P.free_udp_port()
    www = tmp_path / "www"
    make_www(www, [1])
    with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--versions", "v2,v1"):
        vn = probe(port)
    assert vn[0] & 0x80, vn.hex()
    assert vn[1:5] == b"\x00\x00\x00\x00" and vn[5] == 0 and vn[6] == 0, vn.hex()
    versions = [struct.unpack("!I", vn[i:i + 4])[0] for i in range(7, len(vn), 4)]
    real = [v for v in versions if v & 0x0F0F0F0F != 0x0A0A0A0A]
    assert real == [V2, V1], [hex(v) for v in versions]
    assert len(versions) == 3, "one reserved version (RFC 9000 6.3)"


@needs_peers
def test_version_negotiation_then_v2(tmp_path, certs):
    """A server speaking only v2; the client starts in v1, gets Version
    Negotiation and starts again in v2 (RFC 9000 6.2, RFC 9368 2.1); the
    server's version_information confirms the choice (RFC 9368 4)."""
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    names = make_www(www, [5000])
    port = P.free_udp_port()
    with P.Capture(tmp_path / "capture.pcap", port) as cap:
        with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--versions", "v2", "--no-gso"):
            r, _ = run(client_argv(P.urls("127.0.0.1", port, names), dl, "-v", "--no-gso", "--ca",
                                   str(certs.ca_cert), "--keylog", str(keylog), "--version", "v1",
                                   "--other-versions", "v1,v2"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "starting again in 0x6b3343cf" in r.stderr
    assert_identical(www, dl, names, r.stderr)
    res, packets, _ = captured(tmp_path, cap, [keylog], port)
    assert res.version_negotiation == 1 and res.handshakes == 1, res.lines()
    assert all(p.version == V2 for p in packets if p.from_server), packets


@needs_peers
def test_client_in_v2_against_a_v1_peer(tmp_path, certs):
    """ngtcp2 0.12.1 does not speak RFC 9369 v2: it answers our v2 Initial
    with Version Negotiation, and our client starts again in v1. ngtcp2
    sends no RFC 9368 version_information, so after acting on Version
    Negotiation the client must close with VERSION_NEGOTIATION_ERROR
    (RFC 9368 4: it cannot tell the negotiation was genuine)."""
    www, dl = tmp_path / "www", tmp_path / "downloads"
    names = make_www(www, [1000])
    with P.NetNs() as ns:
        with peer_server(tmp_path, certs, www, "ngtcp2", PORT, "h3", ns.name):
            r, _ = run(client_argv(P.urls("127.0.0.1", PORT, names), dl, "--alpn", "h3", "-v",
                                   "--ca", str(certs.ca_cert), "--version", "v2", "--timeout", "5",
                                   netns=ns.name), timeout=60)
    assert "starting again in 0x00000001" in r.stderr, r.stderr[-3000:]
    assert r.returncode == 1
    assert "0x11" in r.stderr and "version_information" in r.stderr, r.stderr[-3000:]


# --------------------------------------------------------------------------
# usage errors


BAD_ARGS = [
    (["client", "--version", "v3", "https://a/x"], "--version v3: expected v1 or v2"),
    (["client", "--version", "0x709a50c4", "https://a/x"], "--version 0x709a50c4: expected v1 or v2"),
    (["client", "--other-versions", "v1,v1", "https://a/x"], "--other-versions v1,v1: v1 listed twice"),
    (["client", "--other-versions", "v1,", "https://a/x"], "unknown QUIC version ''"),
    (["client", "--token-file", "https://a/x"], "client needs at least one URL"),
    (["client", "--retry", "https://a/x"], "--retry is a server option"),
    (["server", "--version", "v1"], "--version is a client option"),
    (["server", "--versions", "v1,quic"], "--versions v1,quic: unknown QUIC version 'quic'"),
    (["server", "--retry=1"], "--retry takes no value"),
    (["server", "--token-file", "/tmp/t"], "--token-file is a client option"),
]


@needs_quicbed
@pytest.mark.parametrize("args,message", BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_version_arguments_are_usage_errors(args, message):
    r = subprocess.run([str(QUICBED), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    first = r.stderr.splitlines()[0]
    assert first.startswith("quicbed: ") and message in first, r.stderr


@needs_quicbed
def test_help_names_the_new_options():
    r = subprocess.run([str(QUICBED), "--help"], capture_output=True, text=True, timeout=30)
    for option in ("--retry", "--versions", "--version", "--other-versions", "--token-file"):
        assert option in r.stdout, option


@needs_peers
def test_v2_server_with_resumption_and_0rtt(tmp_path, certs):
    """A server that prefers v2 and accepts 0-RTT: the first connection is
    moved to v2 and stores a ticket; the second resumes with 0-RTT requests,
    and every file arrives either way (0-RTT keys of the version the client
    started in keep that connection there)."""
    www, keylog, session = tmp_path / "www", tmp_path / "client-keys.log", tmp_path / "session.bin"
    names = make_www(www, [3000, 40])
    port = P.free_udp_port()
    argv = ["-v", "--no-gso", "--ca", str(certs.ca_cert), "--keylog", str(keylog), "--session-file",
            str(session), "--early-data"]
    with P.Capture(tmp_path / "capture.pcap", port) as cap:
        with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--versions", "v2,v1", "--early-data",
                            "--no-gso"):
            first, _ = run(client_argv(P.urls("127.0.0.1", port, names), tmp_path / "dl1", *argv))
            second, _ = run(client_argv(P.urls("127.0.0.1", port, names), tmp_path / "dl2", *argv))
    for r, dl in ((first, "dl1"), (second, "dl2")):
        assert r.returncode == 0, r.stderr[-3000:]
        assert_identical(www, tmp_path / dl, names, r.stderr)
    assert "requests in 0-RTT" in second.stderr, second.stderr[-2000:]
    res, packets, _ = captured(tmp_path, cap, [keylog], port)
    assert res.handshakes == 2, res.lines()
    first_server_initial = next(p for p in packets if p.from_server and p.type == INITIAL)
    assert first_server_initial.version == V2
