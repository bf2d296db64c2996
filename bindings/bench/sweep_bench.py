#!/usr/bin/python3
"""Sweep throughput: runs per minute of short simulations on 1 and 2 local Dask
workers, and the cost per run that the sweep adds to calling the task directly.

    PYTHONPATH=build/default/bindings/python \
        /usr/bin/python3 bindings/bench/sweep_bench.py [--runs 24] [--duration 10] [--rounds 2]

(no PYTHONPATH once scripts/setup_python.sh has installed quicbed)

Each run is a point-to-point QUIC bulk transfer (10 Mbps, 20 ms, random loss)
of --duration simulated seconds. The clusters are started before the clock
starts (their start-up time is printed on its own line), so the numbers are
the steady state a long sweep sees. On a shared machine compare the ratios,
not the absolute rates; --rounds repeats every measurement and keeps the best.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time

import quicbed
from quicbed import sweep

CCS = ["newreno", "cubic", "bbr"]


def short_run(cc, loss, duration, seed):
    sc = quicbed.Scenario(topology="p2p", rate="10Mbps", delay="20ms",
                          loss=quicbed.RandomLoss(loss), duration=duration)
    sc.add_quic_flow(cc=cc)
    return sc.run(seed=seed).flows


def nothing(i, seed):
    return {"i": i}


def timed_sweep(task, points, cluster):
    """Wall time of sweep.run on a running cluster, writing its files as a real sweep does."""
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
        started = time.monotonic()
        df = sweep.run(task, points, out=out, scheduler=cluster.scheduler_address,
                       progress=False, resume=False)
        wall = time.monotonic() - started
    assert df.attrs["summary"]["failed"] == 0, df.attrs["failed"]
    return wall


def timed_loop(points):
    started = time.monotonic()
    for p in points:
        short_run(**p, seed=1)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="simulation runs per measurement")
    parser.add_argument("--duration", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measurement rounds; the best (shortest) of each kind counts")
    args = parser.parse_args()
    losses = [0.001 * (i + 1) for i in range(-(-args.runs // len(CCS)))]
    points = sweep.grid(cc=CCS, loss=losses, duration=[args.duration])[:args.runs]
    n = len(points)
    print(f"{n} runs of {args.duration} simulated s, best of {args.rounds} rounds; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")

    short_run(**points[0], seed=1)  # loads ns-3 once, as a worker does before its first run
    with contextlib.ExitStack() as stack:
        clusters = {}
        for workers in (1, 2):
            started = time.monotonic()
            clusters[workers] = stack.enter_context(sweep.local_cluster(workers))
            print(f"cluster start-up, {workers} worker(s): {time.monotonic() - started:.1f} s")
        # Rounds interleave the kinds, so that a change of the machine's load
        # hits all of them alike.
        best = {}
        for _ in range(args.rounds):
            times = {"direct": timed_loop(points),
                     1: timed_sweep(short_run, points, clusters[1]),
                     2: timed_sweep(short_run, points, clusters[2]),
                     "empty": timed_sweep(nothing, sweep.grid(i=range(n)), clusters[1])}
            best = {k: min(v, best.get(k, v)) for k, v in times.items()}

    for kind, label in (("direct", "direct loop      "), (1, "sweep, 1 worker  "),
                        (2, "sweep, 2 workers ")):
        print(f"{label}: {n / best[kind] * 60:8.1f} runs/min ({best[kind] / n * 1000:.1f} ms/run)")
    print(f"speed-up 2 workers / 1 worker        : {best[1] / best[2]:.2f}x")
    print(f"sweep on 1 worker / direct loop      : {best[1] / best['direct']:.2f}x time")
    print(f"overhead per run (1 worker - direct) : {(best[1] - best['direct']) / n * 1000:.1f} ms "
          f"({(best[1] - best['direct']) / best['direct'] * 100:.0f}% of a run)")
    print(f"overhead per run (empty tasks)       : {best['empty'] / n * 1000:.1f} ms")


if __name__ == "__main__":
    main()
