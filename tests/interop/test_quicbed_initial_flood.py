"""An Initial flood against our server with Retry on (RFC 9000 §8.1.2), on
loopback: fake clients on 64 source ports send client Initials with fresh
connection IDs, 20,000 a second (far beyond the 1,000 stateless replies a
second the server allows itself otherwise, within what two shared cores
take without the kernel dropping datagrams at random), while our client
fetches a small file. The fetch must complete (handshake through the Retry
included) within its own 5-second idle timeout, the server's resident memory must not
grow with the flood (a Retry keeps no state), and the server must still be
serving afterwards. The fetch time with the flood is printed next to the
one measured without it in the same run.

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v -s tests/interop/test_quicbed_initial_flood.py
"""

from __future__ import annotations

import os
import socket
import threading
import time

from quicbed_util import P, client_argv, make_www, needs_quicbed, quicbed_server, run

FAKE_PORTS = 64
RATE = 20000  # Initials a second


def fake_initial() -> bytes:
    """A v1 client Initial header (RFC 9000 §17.2.2) with random 8-byte
    connection IDs, no token, a 4-byte packet number and a random body, in a
    1200-byte datagram: what the server must answer with a Retry without
    opening it."""
    dcid, scid = os.urandom(8), os.urandom(8)
    head = bytes([0xc3, 0, 0, 0, 1, 8]) + dcid + bytes([8]) + scid + bytes([0])
    length = 1200 - len(head) - 2
    head += bytes([0x40 | (length >> 8), length & 0xff])
    return head + os.urandom(1200 - len(head))


class Flood(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.sent = port, 0
        self.socks = []
        for _ in range(FAKE_PORTS):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            self.socks.append(s)
        self._halt = threading.Event()

    def run(self) -> None:
        # A pool of fresh Initials, reused round-robin: os.urandom per
        # datagram would slow the flood more than the server.
        pool = [fake_initial() for _ in range(4096)]
        i = 0
        start = time.monotonic()
        while not self._halt.is_set():
            ahead = start + self.sent / RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            s = self.socks[i % FAKE_PORTS]
            try:
                s.sendto(pool[i % len(pool)], ("127.0.0.1", self.port))
                self.sent += 1
            except BlockingIOError:
                time.sleep(0.0005)
            i += 1
            if i % 256 == 0:  # throw away the Retries
                for r in self.socks:
                    try:
                        while True:
                            r.recv(2048)
                    except BlockingIOError:
                        pass

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        for s in self.socks:
            s.close()


def rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@needs_quicbed
def test_server_with_retry_stays_responsive_under_initial_flood(tmp_path):
    certs = P.make_certs(tmp_path / "certs")
    www = tmp_path / "www"
    names = make_www(www, [3000])
    port = P.free_udp_port()

    def fetch(tag: str):
        dl = tmp_path / f"dl-{tag}"
        r, elapsed = run(client_argv(P.urls("127.0.0.1", port, names), dl, "--ca", str(certs.ca_cert),
                                     "--timeout", "5", "-v"), timeout=30)
        assert r.returncode == 0, f"{tag}: client exited with {r.returncode}: {r.stderr[-3000:]}"
        assert (dl / names[0]).read_bytes() == (www / names[0]).read_bytes()
        return elapsed

    with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--retry", "--timeout", "10") as server:
        quiet = fetch("quiet")
        rss_before = rss_kb(server.pid)
        flood = Flood(port)
        flood.start()
        try:
            time.sleep(1.0)  # the flood in full swing
            sent_before_fetch = flood.sent
            flooded = fetch("flooded")
            time.sleep(1.0)
            rss_after = rss_kb(server.pid)
        finally:
            flood.stop()
        assert server.poll() is None
        after = fetch("after")
    print(f"flood: {flood.sent} Initials ({sent_before_fetch} before the fetch); fetch {quiet:.3f} s quiet, "
          f"{flooded:.3f} s flooded ({flooded / quiet:.1f}x), {after:.3f} s after; "
          f"server RSS {rss_before} kB -> {rss_after} kB")
    assert flood.sent > 10000
    # No state per Initial: 10,000 and more of them move the server's
    # resident set by less than one connection's worth would each.
    assert rss_after - rss_before < 2048, (rss_before, rss_after)
