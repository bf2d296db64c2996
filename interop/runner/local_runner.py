#!/usr/bin/python3
"""The quic-interop-runner on one machine, without Docker.

    sudo python3 interop/runner/local_runner.py [--servers quicbed,ngtcp2,quic-go]
        [--clients ...] [--tests handshake,transfer,...] [--report DIR]

For each server x client x test: builds the runner's topology (topology.py:
client, simulator and server network namespaces with the runner's
addresses), runs the real-time ns-3 middlebox (quicbed-middlebox) with the
test's scenario in the simulator, captures both of its veths, starts the
server and then the client as the runner starts its images
(implementations.py: the runner's environment, /www /certs /downloads /logs
in a private mount namespace, everything under one temporary directory),
checks the run as the runner does (checks.py: the captures decrypted with
the key logs, the downloaded files compared byte for byte), and prints the
runner's table: per server (rows) and client (columns) the letters of the
tests that succeeded (✓), were unsupported (?: an endpoint exited 127) and
failed (✕), then the goodput measurements. --report writes results.json
and results.md there. Root only (namespaces, mounts, capture).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(HERE.parent / "peers")]
import checks as C  # noqa: E402
import crosstraffic as X  # noqa: E402
import implementations as I  # noqa: E402
import peers as P  # noqa: E402
import topology as T  # noqa: E402

KB, MB = 1 << 10, 1 << 20
# The port of the server's preferred address in connectionmigration
# (run_endpoint.sh's and the ngtcp2 script's).
PREFERRED_PORT = 4433
DEFAULT_LINK = {"rate": "10Mbps", "delay": "15ms", "queue": "25"}


@dataclass
class Case:
    name: str
    abbr: str
    sizes: list[int]
    check: Callable[[C.Run], str | None]
    testname: str = ""                # TESTCASE given to the endpoints
    client_testname: str = ""         # when the client's differs (keyupdate)
    scenario: dict = field(default_factory=dict)  # middlebox options over DEFAULT_LINK
    host: str = "server4"
    name_len: int = 0                 # random file names of this length (0: short)
    timeout: float = 60
    measure: bool = False             # goodput: kbps reported
    repetitions: int = 1              # runs (the runner repeats measurements 5 times)
    crosstraffic: bool = False        # a TCP CUBIC flow from server to client meanwhile
    chain: int = 0                    # certificates in the server's chain (0: CA + leaf)
    ports: tuple[int, ...] = (443,)   # the server's UDP ports (a preferred address's too)

    def testcase(self, role: str) -> str:
        if role == "client" and self.client_testname:
            return self.client_testname
        return self.testname or self.name


def _zerortt_check(run: C.Run) -> str | None:
    return C.check_zerortt(run, 0.5 * 250 * 40)


_LOSS = {"drop-rate-to-server": 30, "drop-rate-to-client": 30}
_CORRUPT = {"corrupt-rate-to-server": 30, "corrupt-rate-to-client": 30}

# The runner's test cases (testcases.py): letters, files, scenario, check.
CASES = {c.name: c for c in [
    Case("handshake", "H", [1 * KB], C.check_handshake),
    Case("transfer", "DC", [2 * MB, 3 * MB, 5 * MB], C.check_handshake),
    Case("longrtt", "LR", [1 * KB], C.check_longrtt, "handshake", scenario={"delay": "750ms"}),
    Case("chacha20", "C20", [3 * MB], C.check_chacha20),
    Case("multiplexing", "M", [32] * 1999, C.check_multiplexing, "transfer"),
    Case("retry", "S", [10 * KB], C.check_retry),
    Case("resumption", "R", [5 * KB, 10 * KB], C.check_resumption),
    Case("zerortt", "Z", [32] * 40, _zerortt_check, name_len=250),
    Case("http3", "3", [5 * KB, 10 * KB, 500 * KB], C.check_http3),
    Case("blackhole", "B", [10 * MB], C.check_handshake, "transfer",
         scenario={"blackhole-on": "5", "blackhole-off": "2"}),
    Case("keyupdate", "U", [3 * MB], C.check_keyupdate, "transfer", client_testname="keyupdate"),
    Case("ecn", "E", [100 * KB], C.check_ecn),
    Case("amplificationlimit", "A", [5 * KB], C.check_amplification, "transfer",
         scenario={"drop-list-to-server": "2,3,4,5,6,7"}, chain=9),
    Case("handshakeloss", "L1", [1 * KB] * 50, C.check_multiconnect, "multiconnect",
         scenario={**_LOSS, "burst-to-server": 3, "burst-to-client": 3}, timeout=300),
    Case("transferloss", "L2", [2 * MB], C.check_handshake, "transfer",
         scenario={"drop-rate-to-server": 2, "drop-rate-to-client": 2}),
    Case("handshakecorruption", "C1", [1 * KB] * 50, C.check_multiconnect, "multiconnect",
         scenario={**_CORRUPT, "burst-to-server": 3, "burst-to-client": 3}, timeout=300),
    Case("transfercorruption", "C2", [2 * MB], C.check_handshake, "transfer",
         scenario={"corrupt-rate-to-server": 2, "corrupt-rate-to-client": 2}),
    Case("ipv6", "6", [5 * KB, 10 * KB], C.check_ipv6, "transfer", host="server6"),
    Case("v2", "V2", [1 * KB], C.check_v2),
    Case("rebind-port", "BP", [10 * MB], C.check_rebind, "transfer", scenario={"rebind": "port"}),
    Case("rebind-addr", "BA", [10 * MB], C.check_rebind_addr, "transfer", scenario={"rebind": "addr"}),
    # The runner's version whose server offers a preferred address (the
    # client is given "transfer" and moves there, a new path).
    Case("connectionmigration", "CM", [2 * MB], C.check_connectionmigration,
         client_testname="transfer", host="server46", ports=(443, PREFERRED_PORT)),
    Case("goodput", "G", [10 * MB], C.check_handshake, "transfer", measure=True, repetitions=5),
    Case("crosstraffic", "C", [25 * MB], C.check_handshake, "transfer", measure=True, repetitions=5,
         crosstraffic=True, timeout=180),
]}


@dataclass
class Result:
    server: str
    client: str
    test: str
    abbr: str
    result: str            # succeeded, unsupported, failed
    detail: str = ""
    seconds: float = 0.0
    goodput_kbps: float | None = None    # the mean of the runs
    goodput_runs: list[float] = field(default_factory=list)
    crosstraffic_kbps: list[float] = field(default_factory=list)  # the TCP flow's, per run
    logs: str = ""         # kept directory, if any


class Probe:
    """The simulator's wait for the server: a long-header datagram of
    version 0x57414954 with zero-length CIDs, padded to 1207 bytes, that
    must be answered with Version Negotiation (version 0). Sent within the
    server's namespace (the runner's simulator sits next to the server), so
    that it never crosses the link (nor counts in its drop lists), from a
    port the captures leave out."""

    PORT = 57832

    PACKET = bytes([0xC0]) + (0x57414954).to_bytes(4, "big") + b"\x00\x00"
    PACKET += bytes(1207 - len(PACKET))
    SCRIPT = ("import socket,sys\n"
              "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(0.3)\n"
              "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('',int(sys.argv[3])))\n"
              "s.sendto(bytes.fromhex(sys.argv[1]),(sys.argv[2],443))\n"
              "d=s.recv(2000);sys.exit(0 if len(d)>=7 and d[1:5]==bytes(4) else 1)\n")

    @classmethod
    def answered(cls, netns: str, server: str = T.SERVER4) -> bool:
        p = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", cls.SCRIPT,
                            cls.PACKET.hex(), server, str(cls.PORT)], capture_output=True, timeout=10)
        return p.returncode == 0


class AllUdpCapture(P.Capture):
    """tcpdump of every UDP packet on a simulator veth (migrations and
    preferred addresses use other ports than 443)."""

    def command(self) -> list[str]:
        return P._in_netns(["tcpdump", "-i", self.iface, "-n", "--immediate-mode", "-U",
                            "-s", str(self.SNAPLEN), "-B", "32768", "-w", str(self.pcap),
                            f"udp and not port {Probe.PORT}"],
                           self.netns)


def make_chain(d: Path, length: int) -> None:
    """The runner's certs.sh with a chain length: a root CA, length - 2
    intermediate CAs, a leaf for the runner's host names (P-256). Writes
    ca.pem (the root), cert.pem (the leaf, then the intermediates) and
    priv.key (the leaf's key) into `d`."""
    d.mkdir(parents=True, exist_ok=True)

    def run(*argv: str) -> None:
        subprocess.run(["openssl", *argv], check=True, capture_output=True, timeout=60)

    ec = ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    ca_ext = d / "ca.ext"
    ca_ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    leaf_ext = d / "leaf.ext"
    san = ",".join(f"DNS:{n}" for n in P.SANS_DNS)
    leaf_ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        f"extendedKeyUsage=serverAuth\nsubjectAltName={san}\n")
    names = ["root"] + [f"intermediate{i}" for i in range(1, length - 1)] + ["leaf"]
    for i, name in enumerate(names):
        key, cert, csr = d / f"{name}.key", d / f"{name}.pem", d / f"{name}.csr"
        run("genpkey", *ec, "-out", str(key))
        if i == 0:
            run("req", "-x509", "-new", "-key", str(key), "-sha256", "-days", "30",
                "-subj", "/CN=quicbed runner root", "-out", str(cert),
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
            continue
        parent = names[i - 1]
        run("req", "-new", "-key", str(key), "-subj", f"/CN={'server' if name == 'leaf' else name}",
            "-out", str(csr))
        run("x509", "-req", "-in", str(csr), "-CA", str(d / f"{parent}.pem"),
            "-CAkey", str(d / f"{parent}.key"), "-CAcreateserial", "-sha256", "-days", "30",
            "-extfile", str(leaf_ext if name == "leaf" else ca_ext), "-out", str(cert))
    shutil.copyfile(d / "root.pem", d / "ca.pem")
    shutil.copyfile(d / "leaf.key", d / "priv.key")
    (d / "cert.pem").write_text("".join((d / f"{n}.pem").read_text() for n in reversed(names[1:])))


def _random_name(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


class Runner:
    def __init__(self, quicbed: Path, middlebox: Path, keep: Path | None = None,
                 verbose: bool = False, keep_all: bool = False) -> None:
        self.impls = I.implementations(quicbed)
        self.middlebox = middlebox
        self.keep = keep
        self.keep_all = keep_all  # keep passing runs too (to study a measurement)
        self.verbose = verbose
        self.tmp_root = Path(tempfile.mkdtemp(prefix="quicbed-runner-"))
        self.certs = P.make_certs(self.tmp_root / "certs")

    def close(self) -> None:
        shutil.rmtree(self.tmp_root, ignore_errors=True)

    def _start(self, tmp: Path, netns: str, name: str, argv: list[str], env: dict[str, str],
               binds: dict[str, Path], hosts: Path) -> subprocess.Popen:
        """`argv` in `netns` with the runner's paths bound and /etc/hosts
        naming the runner's hosts; all in a private mount namespace."""
        mnt = tmp / f"{name}-root"
        mnt.mkdir()
        inner = ["sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts), *argv]
        full = ["ip", "netns", "exec", netns, *P._jail(mnt, binds, inner)]
        full_env = dict(os.environ)
        full_env.update(env)
        with open(tmp / f"{name}.log", "wb") as out:
            return subprocess.Popen(full, env=full_env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT)

    def run(self, server: str, client: str, case: Case, repetitions: int | None = None) -> Result:
        """The case's runs (a measurement's repetitions: the first that
        does not succeed ends it and is the result, as in the runner)."""
        res = Result(server, client, case.name, case.abbr, "failed")
        t0 = time.monotonic()
        for i in range(repetitions or case.repetitions):
            tmp = Path(tempfile.mkdtemp(prefix=f"{case.name}-", dir=self.tmp_root))
            kbps = tcp_kbps = None
            try:
                res.result, res.detail, kbps, tcp_kbps = self._run(tmp, self.impls[server],
                                                                   self.impls[client], case)
            except Exception as e:  # a broken run is a failed test, reported
                res.result, res.detail = "failed", f"{type(e).__name__}: {e}"
            if self.keep and (res.result == "failed" or self.keep_all):
                dest = self.keep / f"{server}_{client}_{case.name}"
                if self.keep_all:
                    dest = dest / str(i + 1)
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(tmp, dest, symlinks=True,
                                ignore=shutil.ignore_patterns("*-root", "www", "ns3-raw-sock"))
                res.logs = str(dest)
            shutil.rmtree(tmp, ignore_errors=True)
            if res.result != "succeeded":
                break
            if kbps is not None:
                res.goodput_runs.append(round(kbps))
            if tcp_kbps is not None:
                res.crosstraffic_kbps.append(round(tcp_kbps))
        if res.result == "succeeded" and res.goodput_runs:
            res.goodput_kbps = sum(res.goodput_runs) / len(res.goodput_runs)
        res.seconds = round(time.monotonic() - t0, 1)
        return res

    def _run(self, tmp: Path, server: I.Impl, client: I.Impl, case: Case):
        rng = random.Random()
        www, downloads = tmp / "www", tmp / "downloads"
        slogs, clogs = tmp / "server-logs", tmp / "client-logs"
        for d in (www, downloads, slogs, clogs):
            d.mkdir()
        names = []
        for size in case.sizes:
            name = _random_name(rng, case.name_len or 10)
            (www / name).write_bytes(os.urandom(size))
            names.append(name)
        hosts = tmp / "hosts"
        hosts.write_text("127.0.0.1 localhost\n::1 localhost\n" + T.HOSTS)
        certs = tmp / "certs"
        certs.mkdir()
        if case.chain:
            make_chain(tmp / "chain", case.chain)
        for f in ("cert.pem", "priv.key", "ca.pem"):
            shutil.copyfile((tmp / "chain" if case.chain else self.certs.dir) / f, certs / f)
        urls = [f"https://{case.host}:443/{n}" for n in names]
        base_env = {"SSLKEYLOGFILE": "/logs/keys.log", "QLOGDIR": "/logs/qlog/"}
        senv = {**base_env, **server.env, "ROLE": "server",
                "TESTCASE": server.testcase(case.testcase("server"), client),
                "SERVER_PARAMS": I.params_for(server, client)}
        cenv = {**base_env, **client.env, "ROLE": "client",
                "TESTCASE": client.testcase(case.testcase("client"), server),
                "REQUESTS": " ".join(urls), "CLIENT_PARAMS": I.params_for(client, server)}

        with T.Topology() as topo, contextlib.ExitStack() as stack:
            sim = topo.ns["sim"]
            link = {**DEFAULT_LINK, **case.scenario}
            mb = T.start_middlebox(topo, tmp, self.middlebox,
                                   [f"--{k}={v}" for k, v in link.items()], tmp / "middlebox.log")
            stack.callback(P.stop, mb)
            sp = self._start(tmp, topo.ns["server"], "server", server.argv("server", urls), senv,
                             {"www": www, "certs": certs, "logs": slogs}, hosts)
            stack.callback(P.stop, sp)
            # The simulator waits for the server: Version Negotiation for its
            # probe (else, for a server without it, its socket on 443).
            deadline, vn = time.monotonic() + 10, False
            while time.monotonic() < deadline and sp.poll() is None:
                if Probe.answered(topo.ns["server"]):
                    vn = True
                    break
                if P.udp_bound(sp.pid, 443) and time.monotonic() > deadline - 7:
                    break
            if sp.poll() is not None:
                if sp.returncode == 127:
                    return "unsupported", f"server exited 127 for {case.testcase('server')}", None, None
                return "failed", f"server exited {sp.returncode}: {_tail(tmp / 'server.log')}", None, None
            # Captured from here on: the probe is not part of the test.
            caps = [stack.enter_context(AllUdpCapture(tmp / f"{side}.pcap", 443, iface=dev, netns=sim))
                    for side, dev in (("client-side", T.SIM_DEV["client"]), ("server-side", T.SIM_DEV["server"]))]
            cross = stack.enter_context(X.CrossTraffic(topo)) if case.crosstraffic else None
            cp = self._start(tmp, topo.ns["client"], "client", client.argv("client", urls), cenv,
                             {"downloads": downloads, "certs": certs, "logs": clogs}, hosts)
            try:
                rc = cp.wait(timeout=case.timeout)
            except subprocess.TimeoutExpired:
                P.stop(cp)
                return "failed", f"client still running after {case.timeout} s", None, None
            if rc == 127:
                return "unsupported", f"client exited 127 for {case.testcase('client')}", None, None
            server_alive = sp.poll() is None
            if sp.poll() == 127:
                return "unsupported", f"server exited 127 for {case.testcase('server')}", None, None
            stack.close()  # stop the TCP flow, server, captures, middlebox
        tcp_kbps = cross.kbps if cross else None
        if rc != 0:
            return "failed", f"client exited {rc}: {_tail(tmp / 'client.log')}", None, None
        if not server_alive:
            return "failed", f"server died: {_tail(tmp / 'server.log')}", None, None
        for n in names:
            got = downloads / n
            if not got.is_file():
                return "failed", f"{n} not downloaded", None, None
            if got.read_bytes() != (www / n).read_bytes():
                have, want = got.stat().st_size, (www / n).stat().st_size
                what = f"{have} of {want} bytes" if have != want else "same size, other bytes"
                return "failed", f"{n} differs from the served file ({what})", None, None
        keylogs = [slogs / "keys.log", clogs / "keys.log"]
        run = C.Run(C.Trace(tmp / "client-side.pcap", keylogs, case.ports),
                    C.Trace(tmp / "server-side.pcap", keylogs, case.ports),
                    len(names), impaired=any(k.startswith(("corrupt", "drop-rate")) for k in case.scenario))
        for cap in caps:
            if cap.drops:
                return "failed", f"tcpdump dropped {cap.drops} packets on {cap.iface}", None, None
        err = case.check(run)
        if err:
            return "failed", err, None, None
        kbps = C.goodput_kbps(run, sum(case.sizes)) if case.measure else None
        note = "" if vn else "server did not answer the Version Negotiation probe"
        return "succeeded", note, kbps, tcp_kbps


def _tail(p: Path, n: int = 600) -> str:
    try:
        return p.read_text(errors="replace")[-n:].strip()
    except OSError:
        return ""


# --------------------------------------------------------------------------
# the table and the report

MARK = {"succeeded": "✓", "unsupported": "?", "failed": "✕"}


def cell(results: list[Result]) -> list[str]:
    order = list(CASES)
    results = sorted(results, key=lambda r: order.index(r.test) if r.test in order else len(order))
    lines = []
    for outcome in ("succeeded", "unsupported", "failed"):
        abbrs = [r.abbr for r in results if r.result == outcome]
        if abbrs:
            lines.append(f"{MARK[outcome]}({','.join(abbrs)})")
    return lines or ["-"]


def table(results: list[Result], servers: list[str], clients: list[str]) -> str:
    """The runner's result table: servers down, clients across."""
    cells = {(s, c): cell([r for r in results if r.server == s and r.client == c])
             for s in servers for c in clients}
    width = max([len(x) for v in cells.values() for x in v] + [len(c) for c in clients] + [8]) + 2
    sw = max([len(s) for s in servers] + [len("server \\ client")]) + 2
    out = ["server \\ client".ljust(sw) + "".join(c.ljust(width) for c in clients)]
    for s in servers:
        rows = max(len(cells[(s, c)]) for c in clients)
        for i in range(rows):
            head = s if i == 0 else ""
            out.append(head.ljust(sw) + "".join(
                (cells[(s, c)][i] if i < len(cells[(s, c)]) else "").ljust(width) for c in clients))
    return "\n".join(out)


def measurement(r: Result) -> str:
    """A measurement's mean, its runs, and the competing TCP flow's rate."""
    text = f"{r.goodput_kbps:.0f} kbps"
    if len(r.goodput_runs) > 1:
        text += f" (runs: {', '.join(map(str, r.goodput_runs))})"
    if r.crosstraffic_kbps:
        text += f"; TCP CUBIC beside it: {', '.join(map(str, r.crosstraffic_kbps))} kbps"
    return text


def measurements(results: list[Result]) -> str:
    lines = [f"{r.server} -> {r.client} {r.test} ({r.abbr}): {measurement(r)}"
             for r in results if r.goodput_kbps is not None]
    return "\n".join(lines)


def latest(results: list[Result]) -> list[Result]:
    """Each server, client and test's last result (a rerun replaces the
    earlier run in the table; the report's list keeps both)."""
    last = {(r.server, r.client, r.test): r for r in results}
    return [r for r in results if last[(r.server, r.client, r.test)] is r]


def markdown(results: list[Result], servers: list[str], clients: list[str], header: str = "") -> str:
    out = ["# Local interop runner results", ""]
    if header:
        out += [header, ""]
    current = latest(results)
    out += ["| server \\ client | " + " | ".join(clients) + " |",
            "|---|" + "---|" * len(clients)]
    for s in servers:
        out.append(f"| {s} | " + " | ".join(
            "<br>".join(cell([r for r in current if r.server == s and r.client == c]))
            for c in clients) + " |")
    m = measurements(current)
    if m:
        out += ["", "Measurements:", ""] + [f"- {line}" for line in m.split("\n")]
    out += ["", "Every run (one a later run of the same test replaced in the table is marked"
            " \"rerun below\"):", "",
            "| server | client | test | result | seconds | detail |", "|---|---|---|---|---|---|"]
    for r in results:
        detail = r.detail.replace("|", "\\|").replace("\n", " ")
        if not any(r is x for x in current):
            detail = f"rerun below. {detail}"
        kbps = f" ({measurement(r)})" if r.goodput_kbps is not None else ""
        out.append(f"| {r.server} | {r.client} | {r.test} ({r.abbr}) | {MARK[r.result]}{kbps} | "
                   f"{r.seconds} | {detail} |")
    return "\n".join(out) + "\n"


def default_binary(*relative: str) -> Path:
    for build in sorted(REPO.glob("build*")):
        p = build.joinpath(*relative)
        if p.is_file():
            return p
    return REPO / "build" / Path(*relative)


def main(argv: list[str] | None = None) -> int:
    names = list(CASES)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", default="quicbed,ngtcp2,quic-go")
    ap.add_argument("--clients", default="quicbed,ngtcp2,quic-go")
    ap.add_argument("--tests", default=",".join(names), help=f"of: {', '.join(names)}")
    ap.add_argument("--quicbed", type=Path, default=Path(os.environ.get(
        "QUICBED_BIN", default_binary("interop", "endpoint", "quicbed"))))
    ap.add_argument("--middlebox", type=Path, default=Path(os.environ.get(
        "QUICBED_MIDDLEBOX", default_binary("interop", "runner", "quicbed-middlebox"))))
    ap.add_argument("--report", type=Path, help="directory for results.json and results.md")
    ap.add_argument("--keep-failed", type=Path, help="copy the logs and captures of failed runs here")
    ap.add_argument("--keep-all", action="store_true",
                    help="with --keep-failed: keep every run (DIR/server_client_test/N), passing too")
    ap.add_argument("--repetitions", type=int,
                    help="runs of each measurement (default: the runner's 5)")
    ap.add_argument("--pairs", help="server:client pairs to run, ',' separated (default: every"
                    " server with every client)")
    ap.add_argument("--merge", type=Path, nargs="*", default=[],
                    help="results.json files of earlier runs to show with this one's")
    a = ap.parse_args(argv)
    servers, clients = a.servers.split(","), a.clients.split(",")
    pairs = [tuple(p.split(":", 1)) for p in a.pairs.split(",")] if a.pairs else \
        [(s, c) for s in servers for c in clients]
    if a.pairs:
        servers = list(dict.fromkeys(s for s, _ in pairs))
        clients = list(dict.fromkeys(c for _, c in pairs))
    tests = [t for t in a.tests.split(",") if t]  # none (--tests ''): only --merge's
    for t in tests:
        if t not in CASES:
            ap.error(f"unknown test {t!r}")
    for b in (a.quicbed, a.middlebox):
        if not os.access(b, os.X_OK):
            ap.error(f"{b} is not built")
    # SIGTERM (and SIGINT, even when started in the background with it
    # ignored) end the run through the usual cleanup: namespaces removed,
    # processes stopped, the temporary directory deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if a.keep_all and not a.keep_failed:
        ap.error("--keep-all needs --keep-failed DIR")
    runner = Runner(a.quicbed.resolve(), a.middlebox.resolve(), a.keep_failed, keep_all=a.keep_all)
    for impl in servers + clients:
        if impl not in runner.impls:
            ap.error(f"unknown implementation {impl!r}")
        if missing := runner.impls[impl].missing():
            ap.error(f"{impl}: missing {', '.join(missing)} (QUICBED_PEERS_DIR?)")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    command = " ".join(["interop/runner/local_runner.py", *(argv if argv is not None else sys.argv[1:])])
    runs = [f"{started} (load average {load}): `{command}`"]
    earlier: list[Result] = []
    for f in a.merge:
        data = json.loads(f.read_text())
        earlier += [Result(**r) for r in data["results"]]
        runs += data.get("runs", [])
        servers += [x for x in data["servers"] if x not in servers]
        clients += [x for x in data["clients"] if x not in clients]
    results: list[Result] = []

    def report() -> None:
        # Written after every run: a long matrix leaves its results so far.
        if not a.report:
            return
        a.report.mkdir(parents=True, exist_ok=True)
        (a.report / "results.json").write_text(json.dumps(
            {"servers": servers, "clients": clients, "tests": tests, "runs": runs,
             "results": [asdict(r) for r in earlier + results]}, indent=1, ensure_ascii=False))
        (a.report / "results.md").write_text(markdown(
            earlier + results, servers, clients, "Runs:\n" + "\n".join(f"- {r}" for r in runs)))

    try:
        for s, c in pairs:
            for t in tests:
                r = runner.run(s, c, CASES[t], a.repetitions if CASES[t].measure else None)
                print(f"{s} -> {c} {t}: {MARK[r.result]} {r.seconds} s {r.detail}", flush=True)
                results.append(r)
                report()
    finally:
        runner.close()
    report()
    print()
    print(table(latest(earlier + results), servers, clients))
    m = measurements(latest(earlier + results))
    if m:
        print("\nMeasurements:\n" + m)
    return 0 if all(r.result != "failed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
