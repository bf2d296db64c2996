"""The crosstraffic measurement's competing flow: one TCP CUBIC connection
from the server's namespace to the client's through the link, the same
direction as the QUIC download (the runner's iperf endpoints, here a small
sender and receiver: no iperf on this machine). It runs from before the
QUIC client starts until after it ends; its own rate is reported beside
the QUIC goodput.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import topology as T

PORT = 5201

# argv: role, address. The sender sets CUBIC on its listening socket (the
# accepted one inherits it) and writes until the receiver goes; the
# receiver counts bytes until SIGTERM and prints them with its lifetime.
_SCRIPT = r"""
import signal, socket, sys, time
role, addr = sys.argv[1], sys.argv[2]
if role == "sender":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    s.bind((addr, int(sys.argv[3]))); s.listen(1)
    c, _ = s.accept()
    buf = bytes(1 << 16)
    try:
        while True:
            c.sendall(buf)
    except OSError:
        pass
else:
    done = []
    signal.signal(signal.SIGTERM, lambda *_: done.append(1))
    s = socket.create_connection((addr, int(sys.argv[3])), timeout=10)
    s.settimeout(0.2)
    n, t0 = 0, time.monotonic()
    while not done:
        try:
            d = s.recv(1 << 16)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if not d:
            break
        n += len(d)
    print(f"bytes {n} seconds {time.monotonic() - t0:.3f}", flush=True)
"""


class CrossTraffic:
    """The TCP flow, as a context manager; `kbps` once it has ended."""

    def __init__(self, topo: T.Topology, warmup: float = 2.0) -> None:
        self.topo = topo
        self.warmup = warmup
        self.kbps: float | None = None

    def _start(self, ns: str, role: str) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", _SCRIPT, role,
                                 T.SERVER4, str(PORT)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def __enter__(self) -> "CrossTraffic":
        self.sender = self._start(self.topo.ns["server"], "sender")
        time.sleep(0.3)
        self.receiver = self._start(self.topo.ns["client"], "receiver")
        time.sleep(self.warmup)  # past its slow start when the QUIC client begins
        return self

    def __exit__(self, *exc) -> None:
        for p in (self.receiver, self.sender):
            if p.poll() is None:
                p.terminate()
            try:
                out, _ = p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            if p is self.receiver and (m := re.search(r"bytes (\d+) seconds ([\d.]+)", out or "")):
                nbytes, secs = int(m.group(1)), float(m.group(2))
                self.kbps = 8 * nbytes / 1000 / secs if secs > 0 else 0.0
