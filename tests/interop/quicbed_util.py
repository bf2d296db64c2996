"""What the tests of the quicbed program share (test_quicbed_*.py): where
the program is, skip markers, random files served and compared byte for
byte, runs of our client and server, and the check of a captured exchange.
The peers and the capture come from interop/peers/peers.py (imported as P).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "interop"), str(REPO / "interop" / "peers")]
import peers as P  # noqa: E402
import tshark_check  # noqa: E402

QUICBED = Path(os.environ.get("QUICBED_BIN", REPO / "build" / "default" / "interop" / "endpoint" / "quicbed"))
TIMEOUT = 120  # seconds any one program may run

needs_quicbed = pytest.mark.skipif(not os.access(QUICBED, os.X_OK),
                                   reason=f"{QUICBED} not built (set QUICBED_BIN)")
_missing = P.missing_tools()


def needs_peers(f):
    f = pytest.mark.skipif(bool(_missing), reason="interop peers missing (run "
                           "interop/peers/setup.sh): " + " ".join(_missing))(f)
    f = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network and mount "
                           "namespaces, packet capture")(f)
    return needs_quicbed(f)


def make_www(www: Path, sizes: list[int]) -> list[str]:
    """Random files f000.bin... of `sizes` under `www`; returns their names."""
    www.mkdir(parents=True, exist_ok=True)
    names = []
    for i, size in enumerate(sizes):
        name = f"f{i:03d}.bin"
        (www / name).write_bytes(os.urandom(size))
        names.append(name)
    return names


def make_mixed_www(www: Path, outside: Path) -> list[str]:
    """1 KB, 5 MB and 50 small files plus a nested one (the names to fetch),
    and escape.txt: a symbolic link to `outside`, a file beyond the root that
    the server must refuse."""
    sizes = [1024, 5 << 20] + [random.Random(3).randint(1, 2000) for _ in range(50)]
    names = make_www(www, sizes)
    (www / "sub").mkdir()
    (www / "sub" / "nested.bin").write_bytes(os.urandom(3000))
    outside.write_text("outside the root\n")
    (www / "escape.txt").symlink_to(outside)
    return names + ["sub/nested.bin"]


def assert_identical(www: Path, downloads: Path, names: list[str], log: str) -> None:
    for name in names:
        got = downloads / name
        assert got.exists(), f"{name} not downloaded: {log[-2000:]}"
        assert got.read_bytes() == (www / name).read_bytes(), f"{name} differs"


def check_capture(tmp: Path, cap: P.Capture, keylog: Path, port: int,
                  alpn: str = "hq-interop") -> tshark_check.Result:
    """The capture of one connection with ALPN `alpn`: every packet
    decrypted, none malformed, one v1 handshake without Retry."""
    assert cap.drops == 0, f"tcpdump dropped {cap.drops} packets"
    r = tshark_check.check(tmp / "capture.pcap", keylog, port, timeout=300)
    assert r.ok, r.problems
    assert r.decryption_failed == 0 and r.undecrypted == 0 and r.malformed == 0
    assert r.packets == cap.captured
    assert r.handshakes == 1 and r.client_hellos == 1 and r.retries == 0
    assert r.versions == ["0x00000001"]
    assert alpn in r.alpns, r.alpns
    return r


def client_argv(urls: list[str], downloads: Path, *extra: str, netns: str | None = None) -> list[str]:
    argv = [str(QUICBED), "client", "--download-dir", str(downloads), *extra, *urls]
    return ["ip", "netns", "exec", netns, *argv] if netns else argv


def run(argv: list[str], timeout: float = TIMEOUT) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t0


def report(what: str, r: subprocess.CompletedProcess, elapsed: float, total: int) -> None:
    """Prints the client's own throughput line (-v) and the wall-clock one."""
    m = re.search(r"bytes in ([0-9.]+) s: ([0-9.]+) Mbit/s", r.stderr)
    own = f", client says {m.group(2)} Mbit/s over {m.group(1)} s" if m else ""
    print(f"{what}: {total} bytes, {elapsed:.2f} s wall{own}")


@contextlib.contextmanager
def quicbed_server(tmp: Path, certs: P.Certs, www: Path, listen: str, *extra: str,
                   netns: str | None = None):
    """Our server on `listen` (in `netns`), stopped on exit; yields its Popen."""
    argv = [str(QUICBED), "server", "--listen", listen, "--cert", str(certs.cert),
            "--key", str(certs.key), "--root", str(www), *extra]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    log = tmp / "quicbed-server.log"
    with open(log, "wb") as out:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        P.wait_listening(p, int(listen.rsplit(":", 1)[1]))
        yield p
    finally:
        rc = P.stop(p)
        # SIGTERM is the server's normal end.
        assert rc == 0, f"server exited with {rc}: {log.read_text()[-2000:]}"


def peer_client_from_quicbed(tmp: Path, certs: P.Certs, www: Path, names: list[str], peer: str, port: int,
                             server_args: list[str], netns: str, capture: bool = False):
    """The peer's h3 client fetches `names` from our server (started with
    `server_args`) on `port` in `netns`, with lo captured when `capture`.
    The client's TLS secrets go to tmp/client-keys.log. Returns the client's
    exit code, the wall time, the client's and the server's logs, and the
    capture (or None)."""
    c = P.PEERS[peer].client(addr="127.0.0.1", port=port, files=names, downloads=tmp / "downloads", alpn="h3",
                             keylog=tmp / "client-keys.log", qlog_dir=tmp / "client-qlog", workdir=tmp,
                             netns=netns)
    with contextlib.ExitStack() as stack:
        cap = stack.enter_context(P.Capture(tmp / "capture.pcap", port, netns=netns)) if capture else None
        stack.enter_context(quicbed_server(tmp, certs, www, f"[::]:{port}", *server_args, netns=netns))
        t0 = time.monotonic()
        rc = c.run(timeout=TIMEOUT)
        elapsed = time.monotonic() - t0
    log = c.log.read_text(errors="replace") if c.log.exists() else ""
    server_log = (tmp / "quicbed-server.log").read_text(errors="replace")
    return rc, elapsed, log, server_log, cap
