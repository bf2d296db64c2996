"""RFC 9000 §8.1 on the wire: before it has validated the client's address,
our server sends at most three times the bytes it received. The server has
a certificate chain of 12 certificates (its first flight is well beyond
3 x 1200 bytes); between it and our client sits a UDP relay that forwards
the client's first datagram only (everything the server sends goes back),
so the server never hears a Handshake packet and stays unvalidated while
its PTO fires. tcpdump captures the relay-server leg on lo; tshark counts
the UDP payload bytes each way (interop/tshark_check.py).

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v -s tests/interop/test_quicbed_amplification.py
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import threading

import pytest

from quicbed_util import P, client_argv, make_www, needs_quicbed, quicbed_server, run, tshark_check

needs_capture = pytest.mark.skipif(os.geteuid() != 0 or not (shutil.which("tcpdump") and shutil.which("tshark")),
                                   reason="needs root, tcpdump and tshark")


class FirstDatagramRelay(threading.Thread):
    """Listens on 127.0.0.1 (`port`); forwards the first datagram a client
    sends to `server_port` and drops the client's later ones; forwards
    everything the server answers back to the client."""

    def __init__(self, server_port: int) -> None:
        super().__init__(daemon=True)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(("127.0.0.1", server_port))
        self.port = self.front.getsockname()[1]
        self.forwarded = self.dropped = self.returned = 0
        self._halt = threading.Event()

    def run(self) -> None:
        client = None
        sel = selectors.DefaultSelector()
        sel.register(self.front, selectors.EVENT_READ)
        sel.register(self.back, selectors.EVENT_READ)
        while not self._halt.is_set():
            for key, _ in sel.select(timeout=0.1):
                if key.fileobj is self.front:
                    data, client = self.front.recvfrom(65535)
                    if self.forwarded == 0:
                        self.back.send(data)
                        self.forwarded += 1
                    else:
                        self.dropped += 1
                else:
                    data = self.back.recv(65535)
                    if client:
                        self.front.sendto(data, client)
                        self.returned += 1

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self.front.close()
        self.back.close()


@needs_quicbed
@needs_capture
def test_server_sends_at_most_three_times_what_it_received(tmp_path):
    certs = P.make_certs(tmp_path / "certs", intermediates=10)
    www = tmp_path / "www"
    names = make_www(www, [1000])
    port = P.free_udp_port()
    keylog = tmp_path / "client-keys.log"
    relay = FirstDatagramRelay(port)
    relay.start()
    try:
        with P.Capture(tmp_path / "capture.pcap", port) as cap:
            with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--no-gso", "--timeout", "30"):
                # The client gives up after its idle timeout: several of its
                # PTOs and the server's fire meanwhile.
                r, _ = run(client_argv(P.urls("127.0.0.1", relay.port, names), tmp_path / "dl", "--no-gso",
                                       "--ca", str(certs.ca_cert), "--keylog", str(keylog), "--timeout", "4"))
    finally:
        relay.stop()
    assert r.returncode != 0, "the handshake cannot complete through this relay"
    assert relay.forwarded == 1 and relay.dropped >= 2 and relay.returned >= 3
    assert cap.drops == 0
    res = tshark_check.check(tmp_path / "capture.pcap", keylog, port)
    print(f"client -> server {res.to_port_bytes} bytes, server -> client {res.from_port_bytes} bytes "
          f"({res.from_port_bytes / res.to_port_bytes:.2f}x) in {res.packets} datagrams")
    assert res.malformed == 0 and res.client_hellos == 1 and res.handshakes == 1
    assert res.to_port_bytes >= 1200 and res.to_port_bytes == 1200 * relay.forwarded
    assert res.from_port_bytes <= 3 * res.to_port_bytes
    # The limit binds: the server's flight would be larger.
    assert res.from_port_bytes > 2 * res.to_port_bytes
    assert res.packets == cap.captured == 1 + relay.returned
