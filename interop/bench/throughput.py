#!/usr/bin/python3
"""Bulk-transfer benchmark over loopback: one large file, one connection, for
each implementation talking to itself:

* ``quicbed``: our ``quicbed`` client and server, ALPN hq-interop;
* ``ngtcp2``: ngtcp2 0.12.1's gtlsclient/gtlsserver, ALPN h3 (the only one
  they speak);
* ``quic-go``: quic-go 0.29's interop client/server, ALPN hq-interop.

For each: wall time from starting the client to its exit (process start and
handshake included), throughput, CPU time of the client and of the server
(user + system, every thread), CPU seconds per GB, peak memory; the download
is checked against the served file (size + SHA-256). Prints a table with the
ratios ours/ngtcp2 and ours/quic-go; writes JSON, CSV and (with
python3-matplotlib) a PNG bar plot into --out-dir.

Same conditions for all: every pair runs alone in a network namespace of its
own (quic-go's server insists on port 443), serves the file from tmpfs and
downloads into tmpfs (--sink tmpfs, verified) or into /dev/null through a
symlink that every client opens like a file (--sink null, unverifiable).
Key logs and qlog are off for all three. Each peer keeps its own defaults
(congestion control, windows, GSO: ngtcp2's and our server send with UDP
GSO, quic-go 0.29 does not).

Needs root (namespaces) and interop/peers/setup.sh; without root only the
implementations that need no namespace run, on a free loopback port.

    /usr/bin/python3 interop/bench/throughput.py --size 1G
    /usr/bin/python3 interop/bench/throughput.py --size 200M --only quicbed,ngtcp2

The quicbed binary: --quicbed-bin, else $QUICBED_BIN, else the RelWithDebInfo
build in build/bench:
    cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUICBED_TESTS=OFF
    cmake --build build/bench -j2 --target quicbed
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "interop" / "peers"))
import peers as P  # noqa: E402

DEFAULT_QUICBED = REPO / "build" / "bench" / "interop" / "endpoint" / "quicbed"
FILE_NAME = "bench.bin"
IMPLS = ("quicbed", "ngtcp2", "quic-go")
ALPN = {"quicbed": "hq-interop", "ngtcp2": "h3", "quic-go": "hq-interop"}
PORT = 4433                      # ours and ngtcp2's in a namespace of ours
GB = 10**9                       # throughput and CPU per GB use decimal units
TICK = os.sysconf("SC_CLK_TCK")
# quic-go's interop programs create a qlog file per connection in $QLOGDIR
# and the client panics when it is unset; os.Create fails under /proc, which
# they take as "no qlog" (interop/utils/logging.go).
QUICGO_NO_QLOG = "/proc"


def parse_size(text: str) -> int:
    """'1G', '200M', '5M', '64K' (powers of 1024, as dd and truncate) or bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    if t and t[-1] in units:
        value = float(t[:-1]) * units[t[-1]]
    else:
        value = float(t)
    if value < 1:
        raise argparse.ArgumentTypeError(f"size {text!r} is not positive")
    return int(value)


def human(n: float) -> str:
    for unit, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= f:
            return f"{n / f:.1f} {unit}"
    return f"{int(n)} B"


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------
# measuring processes


def proc_cpu(pid: int) -> tuple[float, float] | None:
    """(own user+system seconds of every thread, reaped children's seconds)
    of `pid` from /proc/PID/stat, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = stat.rsplit(")", 1)[1].split()  # fields after the command name; f[0] is field 3
    return (int(f[11]) + int(f[12])) / TICK, (int(f[13]) + int(f[14])) / TICK


def proc_hwm_kb(pid: int) -> int | None:
    """Peak resident set (VmHWM) of `pid` in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class Reaper(threading.Thread):
    """Waits for a child with wait4, so the exit time and its rusage are
    exact; sets the Popen's returncode."""

    def __init__(self, popen: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.popen, self.end, self.rusage = popen, None, None

    def run(self) -> None:
        _, status, self.rusage = os.wait4(self.popen.pid, 0)
        self.end = time.monotonic()
        self.popen.returncode = os.waitstatus_to_exitcode(status)


# --------------------------------------------------------------------------
# command lines


@dataclass
class Setup:
    tmp: Path
    www: Path
    certs: P.Certs
    quicbed: Path
    netns: str | None
    port: int        # ours and ngtcp2's (quic-go's is fixed at 443)


def commands(impl: str, s: Setup, downloads: Path, work: Path) -> tuple[P.Command, P.Command]:
    """(server, client) for `impl`, without key logs or qlog."""
    port = 443 if impl == "quic-go" else s.port
    addr = "127.0.0.1"
    if impl == "quicbed":
        ns = ["ip", "netns", "exec", s.netns] if s.netns else []
        server = P.Command([*ns, str(s.quicbed), "server", "--listen", f"{addr}:{port}",
                            "--cert", str(s.certs.cert), "--key", str(s.certs.key),
                            "--root", str(s.www), "--alpn", "hq-interop"],
                           log=work / "quicbed-server.log", description="quicbed server")
        client = P.Command([*ns, str(s.quicbed), "client", "--alpn", "hq-interop",
                            "--ca", str(s.certs.ca_cert), "--download-dir", str(downloads),
                            *P.urls(addr, port, [FILE_NAME])],
                           log=work / "quicbed-client.log", description="quicbed client")
        return server, client
    peer = P.PEERS[impl]
    common = dict(alpn=ALPN[impl], keylog=work / "unused-keys.log",
                  qlog_dir=work / "unused-qlog", workdir=work, netns=s.netns)
    kw = {"capture_friendly": False} if impl == "ngtcp2" else {}
    server = peer.server(addr=addr, port=port, www=s.www, cert=s.certs.cert,
                         key=s.certs.key, **common, **kw)
    client = peer.client(addr=addr, port=port, files=[FILE_NAME], downloads=downloads,
                         **common)
    for c in (server, client):
        c.env.pop("SSLKEYLOGFILE", None)
        c.argv = [a for a in c.argv if not a.startswith("--qlog-dir=")]
        if "QLOGDIR" in c.env:
            c.env["QLOGDIR"] = QUICGO_NO_QLOG
    return server, client


# --------------------------------------------------------------------------
# one run


@dataclass
class Run:
    impl: str
    alpn: str
    run: int
    sink: str
    bytes: int
    ok: bool = False
    error: str = ""
    wall_s: float = 0.0
    gbit_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    cpu_s: float = 0.0
    client_cpu_s_per_gb: float = 0.0
    server_cpu_s_per_gb: float = 0.0
    cpu_s_per_gb: float = 0.0
    client_hwm_kb: int = 0         # peak resident set, sampled every 0.1 s
    server_hwm_kb: int = 0
    verified: str = ""
    loadavg_before: float = 0.0


def transfer(impl: str, index: int, s: Setup, size: int, digest: str, sink: str,
             timeout: float) -> Run:
    r = Run(impl, ALPN[impl], index, sink, size)
    r.loadavg_before = os.getloadavg()[0]
    work = s.tmp / f"{impl}-{index}"
    downloads = work / "downloads"
    downloads.mkdir(parents=True)
    target = downloads / FILE_NAME
    if sink == "null":
        target.symlink_to("/dev/null")
    server_cmd, client_cmd = commands(impl, s, downloads, work)
    port = 443 if impl == "quic-go" else s.port
    server = server_cmd.start()
    try:
        P.wait_listening(server, port, timeout=20)
        server_before = proc_cpu(server.pid)
        t0 = time.monotonic()
        client = client_cmd.start()
        reaper = Reaper(client)
        reaper.start()
        client_children = 0.0  # the namespace/jail helpers it ran before exec'ing the client
        next_report = t0 + 1.0
        while reaper.is_alive():
            reaper.join(0.1)
            cpu = proc_cpu(client.pid)
            if cpu:
                client_children = cpu[1]
            # The rusage's ru_maxrss would count this Python process, forked
            # before exec; VmHWM starts afresh at exec.
            r.client_hwm_kb = max(r.client_hwm_kb, proc_hwm_kb(client.pid) or 0)
            now = time.monotonic()
            if now >= next_report and reaper.is_alive():
                next_report = now + 1.0
                if sink == "tmpfs" and target.exists():
                    got = target.stat().st_size
                    say(f"  {impl}: {human(got)} of {human(size)} ({100 * got / size:.0f} %), "
                        f"{now - t0:.1f} s")
                else:
                    say(f"  {impl}: {now - t0:.1f} s")
            if now - t0 > timeout:
                P.stop(client)
                reaper.join(5)
                raise TimeoutError(f"client still running after {timeout:.0f} s")
        server_after = proc_cpu(server.pid)
        r.server_hwm_kb = proc_hwm_kb(server.pid) or 0
    except (RuntimeError, TimeoutError) as e:
        r.error = str(e)
        return r
    finally:
        P.stop(server)
    r.wall_s = reaper.end - t0
    ru = reaper.rusage
    r.client_cpu_s = max(0.0, ru.ru_utime + ru.ru_stime - client_children)
    if server_before and server_after:
        r.server_cpu_s = server_after[0] - server_before[0]
    if client.returncode != 0:
        log = client_cmd.log.read_text(errors="replace")[-1500:] if client_cmd.log else ""
        r.error = f"client exited with {client.returncode}: {log}"
        return r
    if sink == "tmpfs":
        if not target.exists():
            r.error = "nothing downloaded"
            return r
        got = target.stat().st_size
        if got != size:
            r.error = f"downloaded {got} bytes, expected {size}"
            return r
        if sha256_file(target) != digest:
            r.error = "download differs from the served file (SHA-256)"
            return r
        r.verified = "size+sha256"
        target.unlink()
    else:
        if not target.is_symlink() or os.readlink(target) != "/dev/null":
            r.error = "the client replaced the /dev/null symlink"
            return r
        r.verified = "exit status only (null sink)"
    r.ok = True
    r.gbit_s = size * 8 / r.wall_s / 1e9
    r.cpu_s = r.client_cpu_s + r.server_cpu_s
    r.client_cpu_s_per_gb = r.client_cpu_s * GB / size
    r.server_cpu_s_per_gb = r.server_cpu_s * GB / size
    r.cpu_s_per_gb = r.cpu_s * GB / size
    return r


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def make_file(path: Path, size: int) -> str:
    """Random bytes (no compression anywhere could help); returns the SHA-256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 << 20))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# reporting


SUMMARY_FIELDS = ("wall_s", "gbit_s", "client_cpu_s", "server_cpu_s", "cpu_s",
                  "client_cpu_s_per_gb", "server_cpu_s_per_gb", "cpu_s_per_gb",
                  "client_hwm_kb", "server_hwm_kb")


def summarize(runs: list[Run]) -> dict[str, dict]:
    """Per implementation, the median of its successful runs."""
    out = {}
    for impl in IMPLS:
        ok = [r for r in runs if r.impl == impl and r.ok]
        if ok:
            out[impl] = {"alpn": ALPN[impl], "runs": len(ok),
                         **{k: statistics.median(getattr(r, k) for r in ok) for k in SUMMARY_FIELDS}}
    return out


RATIO_FIELDS = (("gbit_s", "throughput"), ("cpu_s_per_gb", "CPU/GB total"),
                ("client_cpu_s_per_gb", "CPU/GB client"), ("server_cpu_s_per_gb", "CPU/GB server"))


def ratios(summary: dict[str, dict]) -> dict[str, dict]:
    ours = summary.get("quicbed")
    out = {}
    for other in ("ngtcp2", "quic-go"):
        theirs = summary.get(other)
        if ours and theirs:
            out[f"quicbed/{other}"] = {k: (ours[k] / theirs[k] if theirs[k] else None)
                                       for k, _ in RATIO_FIELDS}
    return out


def table(summary: dict[str, dict], rat: dict[str, dict], runs: list[Run]) -> str:
    head = ("impl", "ALPN", "wall s", "Gbit/s", "cli CPU s", "srv CPU s",
            "cli s/GB", "srv s/GB", "tot s/GB", "cli RSS MiB", "srv RSS MiB")
    rows = [head]
    for impl, m in summary.items():
        rows.append((impl, m["alpn"], f"{m['wall_s']:.2f}", f"{m['gbit_s']:.2f}",
                     f"{m['client_cpu_s']:.2f}", f"{m['server_cpu_s']:.2f}",
                     f"{m['client_cpu_s_per_gb']:.2f}", f"{m['server_cpu_s_per_gb']:.2f}",
                     f"{m['cpu_s_per_gb']:.2f}", f"{m['client_hwm_kb'] / 1024:.0f}",
                     f"{m['server_hwm_kb'] / 1024:.0f}"))
    for r in runs:
        if not r.ok:
            rows.append((r.impl, r.alpn, "FAILED", *[""] * (len(head) - 3)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    for name, rv in rat.items():
        parts = [f"{label} {rv[k]:.2f}x" if rv[k] is not None else f"{label} n/a"
                 for k, label in RATIO_FIELDS]
        lines.append(f"{name}: " + ", ".join(parts))
    return "\n".join(lines)


def write_outputs(out_dir: Path, meta: dict, runs: list[Run], summary: dict, rat: dict) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    js, cs, png = out_dir / "throughput.json", out_dir / "throughput.csv", out_dir / "throughput.png"
    js.write_text(json.dumps({"meta": meta, "runs": [asdict(r) for r in runs],
                              "summary": summary, "ratios": rat}, indent=2) + "\n")
    with open(cs, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(runs[0]).keys()) if runs else ["impl"])
        w.writeheader()
        for r in runs:
            w.writerow(asdict(r))
    written = [js, cs]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("plot skipped: python3-matplotlib is not installed (apt-get install python3-matplotlib)")
        return written
    if summary:
        names = list(summary)
        fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
        a.bar(names, [summary[n]["gbit_s"] for n in names], color="tab:blue")
        a.set_ylabel("Gbit/s")
        a.set_title(f"throughput, {human(meta['bytes'])}, one connection")
        cli = [summary[n]["client_cpu_s_per_gb"] for n in names]
        srv = [summary[n]["server_cpu_s_per_gb"] for n in names]
        b.bar(names, cli, label="client", color="tab:orange")
        b.bar(names, srv, bottom=cli, label="server", color="tab:green")
        b.set_ylabel("CPU s per GB")
        b.set_title("CPU per GB transferred")
        b.legend()
        fig.tight_layout()
        fig.savefig(png, dpi=120)
        plt.close(fig)
        written.append(png)
    return written


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=parse_size("1G"),
                    help="file size: 1G (default), 200M, 5M... (powers of 1024)")
    ap.add_argument("--only", default=",".join(IMPLS),
                    help=f"comma-separated subset of {','.join(IMPLS)}")
    ap.add_argument("--repeat", type=int, default=1, help="runs per implementation (median reported)")
    ap.add_argument("--sink", choices=("tmpfs", "null"), default="tmpfs",
                    help="tmpfs: the client saves into tmpfs, checked by size and SHA-256 "
                         "(default); null: into /dev/null through a symlink, not checked")
    ap.add_argument("--out-dir", type=Path, default=REPO / "out" / "bench")
    ap.add_argument("--quicbed-bin", type=Path,
                    default=Path(os.environ.get("QUICBED_BIN", DEFAULT_QUICBED)))
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds a transfer may take (default 60 + 1 s per 5 MB)")
    args = ap.parse_args(argv)

    impls = [i.strip() for i in args.only.split(",") if i.strip()]
    bad = [i for i in impls if i not in IMPLS]
    if bad or not impls:
        ap.error(f"--only: unknown {bad}; choose from {','.join(IMPLS)}")
    root = os.geteuid() == 0
    problems = []
    if "quicbed" in impls and not os.access(args.quicbed_bin, os.X_OK):
        problems.append(f"quicbed: {args.quicbed_bin} is not built (see --help)")
    missing = [m for m in P.missing_tools() if "tshark" not in m and "tcpdump" not in m]
    if "ngtcp2" in impls and any("gtls" in m for m in missing):
        problems.append("ngtcp2: gtlsclient/gtlsserver missing (run interop/peers/setup.sh)")
    if "quic-go" in impls and any("quic-go" in m for m in missing):
        problems.append("quic-go: interop binaries missing (run interop/peers/setup.sh)")
    if "quic-go" in impls and not root:
        problems.append("quic-go: needs root (its server binds port 443 in a namespace of ours)")
    if problems:
        for p in problems:
            say(f"cannot run {p}")
        return 2
    timeout = args.timeout or 60 + args.size / 5e6

    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    tmp = Path(tempfile.mkdtemp(prefix="quicbed-bench-", dir=base))
    runs: list[Run] = []
    try:
        say(f"files in {tmp} ({'tmpfs' if base else 'the default temp dir'}); "
            f"client sink: {'tmpfs file, verified by size + SHA-256' if args.sink == 'tmpfs' else '/dev/null symlink, not verified'}")
        www = tmp / "www"
        www.mkdir()
        say(f"writing {human(args.size)} of random bytes to serve")
        digest = make_file(www / FILE_NAME, args.size)
        certs = P.make_certs(tmp / "certs")
        for impl in impls:
            for i in range(args.repeat):
                with (P.NetNs("quicbed-bench") if root else _NoNs()) as ns:
                    s = Setup(tmp, www, certs, args.quicbed_bin.resolve(), ns.name if ns else None,
                              PORT if ns else P.free_udp_port())
                    say(f"{impl} ({ALPN[impl]}): run {i + 1}/{args.repeat}, "
                        f"{'netns ' + ns.name if ns else 'no netns (not root)'}, "
                        f"load average {os.getloadavg()[0]:.2f}")
                    r = transfer(impl, i, s, args.size, digest, args.sink, timeout)
                runs.append(r)
                if r.ok:
                    say(f"  {impl}: {r.wall_s:.2f} s, {r.gbit_s:.2f} Gbit/s, CPU client "
                        f"{r.client_cpu_s:.2f} s + server {r.server_cpu_s:.2f} s, {r.verified}")
                else:
                    say(f"  {impl}: FAILED: {r.error}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = summarize(runs)
    rat = ratios(summary)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
        "bytes": args.size, "sink": args.sink, "repeat": args.repeat,
        "quicbed_bin": str(args.quicbed_bin), "netns": root,
        "alpn": {i: ALPN[i] for i in impls}, "versions": versions(),
        "notes": "wall = client start to exit (handshake included); CPU = user+system of "
                 "every thread (client: wait4 rusage minus its pre-exec helpers; server: "
                 "/proc/PID/stat delta over the transfer); GB = 1e9 bytes; medians over runs; "
                 "key logs and qlog off; each peer's own defaults otherwise",
    }
    print()
    print(f"{human(args.size)} over loopback, one connection, sink {args.sink}, "
          f"median of {args.repeat} run(s):")
    print(table(summary, rat, runs))
    for path in write_outputs(args.out_dir, meta, runs, summary, rat):
        say(f"wrote {path}")
    return 0 if runs and all(r.ok for r in runs) else 1


def versions() -> dict[str, str]:
    """The tree's revision and the Debian versions of the peers."""
    def out(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                                  cwd=REPO).stdout.strip()
        except OSError:
            return ""
    return {"quicbed": out("git", "describe", "--always", "--dirty"),
            "ngtcp2": out("dpkg-query", "-W", "-f=${Version}", "ngtcp2-client"),
            "quic-go": out("dpkg-query", "-W", "-f=${Version}",
                           "golang-github-lucas-clemente-quic-go-dev")}


class _NoNs:
    """Stands for a NetNs when not root: everything runs in the caller's."""

    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        pass


if __name__ == "__main__":
    sys.exit(main())
