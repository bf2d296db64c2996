"""How to run the real QUIC peers that Debian ships (set up by setup.sh).

Peers (``PEERS``):

* ``ngtcp2``: ngtcp2 0.12.1's GnuTLS examples ``gtlsserver``/``gtlsclient``.
  HTTP/3 only (ALPN ``h3``); any address and port; keys via SSLKEYLOGFILE.
* ``quic-go``: quic-go 0.29's interop-runner programs, built by setup.sh.
  ALPN ``hq-interop`` (TESTCASE=transfer) or ``h3`` (TESTCASE=http3). They
  hard-code the runner's paths (/www, /certs/{cert.pem,priv.key},
  /downloads, /logs/log.txt) and the server listens on UDP port 443 of every
  address. So each runs in a private mount namespace (``unshare -m``) whose
  root is a tmpfs that bind-mounts every top-level directory of the host and
  adds those four paths as binds of the caller's directories, then chroots
  there: no root-owned path is created and every host path (keylog, qlog)
  keeps its name. Port 443 is fixed: run the server (and its clients) in a
  network namespace of your own (``NetNs``) so that runs cannot collide.

Each builder returns a ``Command`` (argv, added environment, log files):
``server(...)`` serves a directory, ``client(...)`` downloads a list of
files into a directory. ``make_certs`` writes a CA and a server certificate,
``NetNs`` creates and removes a network namespace, ``Capture`` records a
port's UDP traffic with tcpdump.

Run ``python3 interop/peers/peers.py`` to print every peer's command lines.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
PEERS_DIR = Path(os.environ.get("QUICBED_PEERS_DIR", REPO / "build" / "peers"))
NGTCP2_CLIENT = shutil.which("gtlsclient") or "/usr/bin/gtlsclient"
NGTCP2_SERVER = shutil.which("gtlsserver") or "/usr/sbin/gtlsserver"
QUICGO_CLIENT = PEERS_DIR / "quic-go-interop-client"
QUICGO_SERVER = PEERS_DIR / "quic-go-interop-server"
QUICGO_PORT = 443  # hard-coded in quic-go's interop/server/main.go (":443")


class Unsupported(ValueError):
    """The peer cannot do what was asked (ALPN, port, ...)."""


def missing_tools() -> list[str]:
    """Paths of the programs that setup.sh provides and that are missing."""
    need = [NGTCP2_CLIENT, NGTCP2_SERVER, QUICGO_CLIENT, QUICGO_SERVER,
            shutil.which("tshark") or "tshark", shutil.which("tcpdump") or "tcpdump"]
    return [str(p) for p in need if not (os.path.isfile(p) and os.access(p, os.X_OK))]


# --------------------------------------------------------------------------
# commands


@dataclass
class Command:
    """A command line, the variables to add to the environment, and where
    its output goes. ``start`` runs it; ``shell()`` prints it."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None          # stdout+stderr go here when started
    description: str = ""
    prepare: Callable[[], None] | None = None  # makes its directories; start() calls it

    def shell(self) -> str:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        cmd = " ".join(shlex.quote(a) for a in self.argv)
        return f"{env} {cmd}".strip()

    def start(self) -> subprocess.Popen:
        if self.prepare:
            self.prepare()
        env = dict(os.environ)
        env.update(self.env)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        try:
            return subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT)
        finally:
            if self.log:
                out.close()

    def run(self, timeout: float) -> int:
        """Runs to completion; kills it and raises TimeoutError after `timeout` s."""
        p = self.start()
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(p)
            raise TimeoutError(f"{self.argv[0]} ... still running after {timeout} s") from None


def stop(p: subprocess.Popen, grace: float = 3.0) -> int | None:
    """Ends a process that we started: SIGTERM, then SIGKILL after `grace` s."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def _in_netns(argv: list[str], netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv] if netns else argv


def _mkdirs(*dirs) -> None:
    for d in dirs:
        Path(d).mkdir(parents=True, exist_ok=True)


def _url_host(addr: str) -> str:
    return f"[{addr}]" if ":" in addr else addr


def urls(addr: str, port: int, files: list[str]) -> list[str]:
    return [f"https://{_url_host(addr)}:{port}/{f.lstrip('/')}" for f in files]


# Shell run by `unshare -m` for the quic-go programs: $1 is an empty host
# directory used as mount point for the new root; the remaining arguments are
# DIR=HOSTPATH pairs for the hard-coded paths, then "--", then the program.
# Only this process's private mount namespace sees any of these mounts (they
# vanish with it), so removing $1 afterwards from the host is always safe.
_JAIL = r"""
set -eu
root=$1; shift
mount -t tmpfs -o mode=755 quicbed-jail "$root"
for e in /*; do
  n=${e#/}
  if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$root/$n"
  elif [ -d "$e" ]; then
    mkdir "$root/$n"
    case "$root/" in "$e"/*) mount --bind "$e" "$root/$n" ;; *) mount --rbind "$e" "$root/$n" ;; esac
  fi
done
while [ "$1" != "--" ]; do
  d=${1%%=*}; src=${1#*=}; shift
  # A host /$d (a directory bound above, or a link in our tmpfs) is shadowed.
  if [ -L "$root/$d" ] || [ ! -d "$root/$d" ]; then rm -f "$root/$d"; mkdir "$root/$d"; fi
  mount --bind "$src" "$root/$d"
done
shift
exec chroot "$root" "$@"
"""


def _jail(mountpoint: Path, binds: dict[str, Path], argv: list[str]) -> list[str]:
    """argv run with the paths /NAME for NAME in `binds` bound to host dirs."""
    pairs = [f"{k}={Path(v).resolve()}" for k, v in binds.items()]
    return ["unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", _JAIL, "quicbed-jail", str(mountpoint), *pairs, "--", *argv]


# --------------------------------------------------------------------------
# peers


@dataclass
class Peer:
    name: str
    alpns: tuple[str, ...]          # ALPNs it can serve and request
    fixed_port: int | None          # server port it always uses, if any
    notes: str

    def server(self, *, addr: str, port: int, www: Path, cert: Path, key: Path,
               alpn: str, keylog: Path, qlog_dir: Path, workdir: Path,
               netns: str | None = None, capture_friendly: bool = True,
               retry: bool = False) -> Command:
        """`retry`: the server validates each client's address with a Retry
        (RFC 9000 8.1.2)."""
        raise NotImplementedError

    def client(self, *, addr: str, port: int, files: list[str], downloads: Path,
               alpn: str, keylog: Path, qlog_dir: Path, workdir: Path,
               netns: str | None = None, sni: str | None = None) -> Command:
        raise NotImplementedError

    def _check_alpn(self, alpn: str) -> None:
        if alpn not in self.alpns:
            raise Unsupported(f"{self.name} does not support ALPN {alpn!r} (only {self.alpns})")


class Ngtcp2(Peer):
    def __init__(self) -> None:
        super().__init__(
            "ngtcp2", ("h3",), None,
            "ngtcp2 0.12.1 gtlsserver/gtlsclient (GnuTLS): HTTP/3 only; v1 (v2 only as "
            "draft 0x709a50c4). The server sends with UDP GSO (up to 64 datagrams per "
            "call): a capture on lo then holds unsegmented super-packets that tshark "
            "cannot decrypt, so capture_friendly=True passes --max-gso-dgrams=1.")

    def server(self, *, addr, port, www, cert, key, alpn, keylog, qlog_dir, workdir,
               netns=None, capture_friendly=True, retry=False):
        # gtlsserver has no ALPN option: it accepts h3 (and h3-29).
        self._check_alpn(alpn)
        argv = [NGTCP2_SERVER, "--quiet", f"--htdocs={www}", f"--qlog-dir={qlog_dir}"]
        if retry:
            argv.append("-V")  # --validate-addr: a Retry for every new client
        if capture_friendly:
            argv.append("--max-gso-dgrams=1")
        argv += [addr, str(port), str(key), str(cert)]
        return Command(_in_netns(argv, netns), {"SSLKEYLOGFILE": str(keylog)},
                       Path(workdir) / "ngtcp2-server.log", "ngtcp2 server",
                       lambda: _mkdirs(workdir, qlog_dir))

    def client(self, *, addr, port, files, downloads, alpn, keylog, qlog_dir, workdir,
               netns=None, sni=None):
        # gtlsclient offers ALPN h3 only; it saves each response under the last
        # path component of its URL, in --download.
        self._check_alpn(alpn)
        argv = [NGTCP2_CLIENT, "--quiet", "--exit-on-all-streams-close",
                f"--download={downloads}", f"--qlog-dir={qlog_dir}"]
        if sni:
            argv.append(f"--sni={sni}")
        argv += [addr, str(port), *urls(addr, port, files)]
        return Command(_in_netns(argv, netns), {"SSLKEYLOGFILE": str(keylog)},
                       Path(workdir) / "ngtcp2-client.log", "ngtcp2 client",
                       lambda: _mkdirs(workdir, qlog_dir, downloads))


class QuicGo(Peer):
    TESTCASE = {"hq-interop": "transfer", "h3": "http3"}

    def __init__(self) -> None:
        super().__init__(
            "quic-go", ("hq-interop", "h3"), QUICGO_PORT,
            "quic-go 0.29 interop programs: TESTCASE selects the ALPN (transfer -> "
            "hq-interop, http3 -> h3) and the unknown ones exit 127; paths /www, "
            "/certs/cert.pem, /certs/priv.key, /downloads, /logs/log.txt are hard-coded "
            "(run in a private mount namespace, see _JAIL); the server listens on "
            "[::]:443 (port and address not configurable); the client skips "
            "certificate verification, downloads in parallel, saves each file under "
            "/downloads + its URL path, and panics without QLOGDIR. No UDP GSO.")

    def server(self, *, addr, port, www, cert, key, alpn, keylog, qlog_dir, workdir,
               netns=None, capture_friendly=True, retry=False):
        self._check_alpn(alpn)
        if retry and alpn != "hq-interop":
            raise Unsupported("quic-go's interop server does Retry (TESTCASE=retry) over hq-interop only")
        if port != QUICGO_PORT:
            raise Unsupported(f"quic-go's interop server always listens on UDP {QUICGO_PORT}")
        # addr is not used: the server binds every address (":443").
        workdir = Path(workdir)
        certs = workdir / "quic-go-server-certs"
        logs = workdir / "quic-go-server-logs"
        root = workdir / "quic-go-server-root"

        def prepare() -> None:
            _mkdirs(workdir, certs, logs, root, qlog_dir)
            shutil.copyfile(cert, certs / "cert.pem")
            shutil.copyfile(key, certs / "priv.key")

        argv = _jail(root, {"www": www, "certs": certs, "logs": logs}, [str(QUICGO_SERVER)])
        env = {"TESTCASE": "retry" if retry else self.TESTCASE[alpn], "SSLKEYLOGFILE": str(keylog),
               "QLOGDIR": str(qlog_dir)}
        return Command(_in_netns(argv, netns), env, workdir / "quic-go-server.log",
                       "quic-go server", prepare)

    def client(self, *, addr, port, files, downloads, alpn, keylog, qlog_dir, workdir,
               netns=None, sni=None):
        self._check_alpn(alpn)
        if sni:
            raise Unsupported("quic-go's interop client takes the SNI from the URL")
        workdir = Path(workdir)
        logs = workdir / "quic-go-client-logs"
        root = workdir / "quic-go-client-root"
        argv = _jail(root, {"downloads": downloads, "logs": logs},
                     [str(QUICGO_CLIENT), *urls(addr, port, files)])
        env = {"TESTCASE": self.TESTCASE[alpn], "SSLKEYLOGFILE": str(keylog),
               "QLOGDIR": str(qlog_dir)}
        return Command(_in_netns(argv, netns), env, workdir / "quic-go-client.log",
                       "quic-go client", lambda: _mkdirs(workdir, logs, root, qlog_dir, downloads))


PEERS: dict[str, Peer] = {p.name: p for p in (Ngtcp2(), QuicGo())}


# --------------------------------------------------------------------------
# helpers: certificates, free ports, readiness, namespaces, capture


@dataclass
class Certs:
    dir: Path
    ca_cert: Path
    ca_key: Path
    cert: Path        # server leaf followed by the CA (a chain)
    key: Path         # server key, PEM (PKCS#8 from openssl, SEC1 from certtool)


SANS_DNS = ("localhost", "server", "server4", "server6", "server46")
SANS_IP = ("127.0.0.1", "::1")


def make_certs(directory: Path | None = None, tool: str | None = None, intermediates: int = 0) -> Certs:
    """A P-256 CA and a server certificate signed by it, with SANs localhost,
    server(4/6/46), 127.0.0.1 and ::1, written into `directory` (a new temp
    dir if None). Uses the openssl CLI, else GnuTLS certtool. With
    `intermediates` (openssl only), that many intermediate CAs stand between
    the two and go into the chain: a heavy first flight for the server."""
    d = Path(directory or tempfile.mkdtemp(prefix="quicbed-certs-"))
    d.mkdir(parents=True, exist_ok=True)
    tool = tool or ("openssl" if shutil.which("openssl") else "certtool")
    c = Certs(d, d / "ca.pem", d / "ca.key", d / "cert.pem", d / "priv.key")
    leaf = d / "leaf.pem"
    chain: list[Path] = []  # intermediates, the last signed first

    def run(*argv: str) -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)

    if tool == "openssl":
        ext = d / "leaf.ext"
        san = ",".join([f"DNS:{n}" for n in SANS_DNS] + [f"IP:{a}" for a in SANS_IP])
        ext.write_text("basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\n"
                       f"subjectAltName={san}\n")
        ec = ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
        run("openssl", "genpkey", *ec, "-out", str(c.ca_key))
        run("openssl", "req", "-x509", "-new", "-key", str(c.ca_key), "-sha256",
            "-days", "30", "-subj", "/CN=quicbed test CA", "-out", str(c.ca_cert),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        ca_ext = d / "ca.ext"
        ca_ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")

        def sign(key: Path, subject: str, issuer: Path, issuer_key: Path, extfile: Path, out: Path) -> None:
            csr = out.with_suffix(".csr")
            run("openssl", "req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
            run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(issuer),
                "-CAkey", str(issuer_key), "-CAcreateserial", "-sha256", "-days", "30",
                "-extfile", str(extfile), "-out", str(out))

        issuer, issuer_key = c.ca_cert, c.ca_key
        for i in range(1, intermediates + 1):
            cert, key = d / f"intermediate{i}.pem", d / f"intermediate{i}.key"
            run("openssl", "genpkey", *ec, "-out", str(key))
            sign(key, f"/CN=quicbed test intermediate {i}", issuer, issuer_key, ca_ext, cert)
            chain.insert(0, cert)
            issuer, issuer_key = cert, key
        run("openssl", "genpkey", *ec, "-out", str(c.key))
        sign(c.key, "/CN=server", issuer, issuer_key, ext, leaf)
    elif intermediates:
        raise ValueError("intermediate CAs need the openssl CLI")
    elif tool == "certtool":
        ca_t, leaf_t = d / "ca.tmpl", d / "leaf.tmpl"
        ca_t.write_text('cn = "quicbed test CA"\nca\ncert_signing_key\nexpiration_days = 30\n')
        leaf_t.write_text('cn = "server"\n'
                          + "".join(f'dns_name = "{n}"\n' for n in SANS_DNS)
                          + "".join(f'ip_address = "{a}"\n' for a in SANS_IP)
                          + "signing_key\ntls_www_server\nexpiration_days = 30\n")
        gen = ("certtool", "--generate-privkey", "--key-type=ecdsa", "--curve=secp256r1")
        for k in (c.ca_key, c.key):  # --no-text: the PEM block alone (SEC1 "EC PRIVATE KEY")
            run(*gen, "--no-text", "--outfile", str(k))
        run("certtool", "--generate-self-signed", "--no-text", "--load-privkey", str(c.ca_key),
            "--template", str(ca_t), "--outfile", str(c.ca_cert))
        run("certtool", "--generate-certificate", "--no-text", "--load-privkey", str(c.key),
            "--load-ca-certificate", str(c.ca_cert), "--load-ca-privkey", str(c.ca_key),
            "--template", str(leaf_t), "--outfile", str(leaf))
    else:
        raise ValueError(f"unknown certificate tool {tool!r}")
    c.cert.write_text("".join(p.read_text() for p in [leaf, *chain, c.ca_cert]))
    return c


def free_udp_port(addr: str = "127.0.0.1") -> int:
    """A UDP port that was free on `addr` a moment ago."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def udp_bound(pid: int, port: int) -> bool:
    """Whether a UDP socket is bound to `port` in the network namespace of `pid`."""
    for name in ("udp", "udp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local = line.split()[1]
            if int(local.rsplit(":", 1)[1], 16) == port:
                return True
    return False


def wait_listening(p: subprocess.Popen, port: int, timeout: float = 10.0) -> None:
    """Waits until process `p` (ours) has a UDP socket on `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"server exited with {p.returncode} before listening")
        if udp_bound(p.pid, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on UDP {port} after {timeout} s")


class NetNs:
    """A network namespace of our own, with lo up (127.0.0.1 and ::1);
    removed on exit. Root only."""

    def __init__(self, prefix: str = "quicbed") -> None:
        self.name = f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def __enter__(self) -> "NetNs":
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=30)
        try:
            subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"],
                           check=True, timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["ip", "netns", "del", self.name], timeout=30)


class Capture:
    """tcpdump on `iface` for UDP `port` into a pcap file, in `netns` if given.
    Use as a context manager; afterwards `captured` and `drops` (kernel drops)
    hold tcpdump's counts.

    Measured here: --immediate-mode is needed (without it the packets still in
    the ring when tcpdump is stopped are lost), and the ring must hold many
    frames (each is sized by the snapshot length, so the default 256 KiB one
    with a 2 MiB buffer drops most of a burst): snaplen 4096 (bigger datagrams
    show up as truncated in tshark_check) and a 32 MiB buffer. dumpcap prints
    "Capturing on" before it really captures, so it cannot tell when to start.
    """

    SNAPLEN = 4096

    def __init__(self, pcap: Path, port: int, iface: str = "lo",
                 netns: str | None = None) -> None:
        self.pcap, self.port, self.iface, self.netns = Path(pcap), port, iface, netns
        self.log = self.pcap.with_suffix(".tcpdump.log")
        self.proc: subprocess.Popen | None = None
        self.captured: int | None = None
        self.drops: int | None = None

    def command(self) -> list[str]:
        return _in_netns(["tcpdump", "-i", self.iface, "-n", "--immediate-mode", "-U",
                          "-s", str(self.SNAPLEN), "-B", "32768", "-w", str(self.pcap),
                          f"udp port {self.port}"], self.netns)

    def __enter__(self) -> "Capture":
        log = open(self.log, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 15
        while "listening on" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                stop(self.proc)
                raise RuntimeError(f"tcpdump did not start: {self.log.read_text()}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        assert self.proc
        time.sleep(0.3)  # let tcpdump drain the ring
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                stop(self.proc)
        text = self.log.read_text(errors="replace")
        m = re.search(r"(\d+) packets? captured", text)
        self.captured = int(m.group(1)) if m else None
        m = re.search(r"(\d+) packets? dropped by kernel", text)
        self.drops = int(m.group(1)) if m else None


def _describe() -> None:
    print(f"# quic-go commands run this script (shown as \"$JAIL\"):{_JAIL}")
    w = Path("/tmp/WORK")
    common = dict(keylog=w / "keys.log", qlog_dir=w / "qlog", workdir=w)
    for peer in PEERS.values():
        print(f"== {peer.name}: ALPN {', '.join(peer.alpns)}"
              + (f"; server port fixed at {peer.fixed_port}" if peer.fixed_port else ""))
        print(f"   {peer.notes}")
        for alpn in peer.alpns:
            port = peer.fixed_port or 4433
            s = peer.server(addr="127.0.0.1", port=port, www=w / "www", cert=w / "cert.pem",
                            key=w / "priv.key", alpn=alpn, netns="NS" if peer.fixed_port else None,
                            **common)
            c = peer.client(addr="127.0.0.1", port=port, files=["a", "b"],
                            downloads=w / "downloads", alpn=alpn,
                            netns="NS" if peer.fixed_port else None, **common)
            jail = shlex.quote(_JAIL)
            ss, cs = (x.shell().replace(jail, '"$JAIL"') for x in (s, c))
            print(f"-- {alpn} server:\n{ss}\n-- {alpn} client:\n{cs}\n")


if __name__ == "__main__":
    _describe()
