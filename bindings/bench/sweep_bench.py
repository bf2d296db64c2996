#!/usr/bin/python3
"""Sweep throughput: runs per minute of short simulations on 1 and 2 local Dask
workers, and the cost per run that the sweep adds to calling the task directly.

    PYTHONPATH=build/default/bindings/python \
        /usr/bin/python3 bindings/bench/sweep_bench.py [--runs 24] [--duration 10]

(no PYTHONPATH once scripts/setup_python.sh has installed quicbed)

Each run is a point-to-point QUIC bulk transfer (10 Mbps, 20 ms, random loss)
of --duration simulated seconds. The clusters are started before the clock
starts (their start-up time is printed on its own line), so the numbers are
the steady state a long sweep sees. On a shared machine compare the ratios,
not the absolute rates.
"""

from __future__ import annotations

import argparse
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


def timed_sweep(task, points, n_workers):
    """Wall time of sweep.run on an already running local cluster, and its start-up time."""
    started = time.monotonic()
    with sweep.local_cluster(n_workers) as cluster, tempfile.TemporaryDirectory() as out:
        startup = time.monotonic() - started
        started = time.monotonic()
        df = sweep.run(task, points, out=out, scheduler=cluster.scheduler_address,
                       progress=False, resume=False)
        wall = time.monotonic() - started
    assert df.attrs["summary"]["failed"] == 0, df.attrs["failed"]
    return wall, startup


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="simulation runs per measurement")
    parser.add_argument("--duration", type=float, default=10.0, help="simulated seconds per run")
    args = parser.parse_args()
    losses = [0.001 * (i + 1) for i in range(-(-args.runs // len(CCS)))]
    points = sweep.grid(cc=CCS, loss=losses, duration=[args.duration])[:args.runs]
    n = len(points)
    print(f"{n} runs of {args.duration} simulated s; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}")

    short_run(**points[0], seed=1)  # loads ns-3 once, as a worker does before its first run
    started = time.monotonic()
    for p in points:
        short_run(**p, seed=1)
    direct = time.monotonic() - started
    print(f"direct loop      : {n / direct * 60:8.1f} runs/min ({direct / n * 1000:.1f} ms/run)")

    walls = {}
    for workers in (1, 2):
        wall, startup = timed_sweep(short_run, points, workers)
        walls[workers] = wall
        print(f"sweep, {workers} worker{'s' if workers > 1 else ' '}: {n / wall * 60:8.1f} runs/min "
              f"({wall / n * 1000:.1f} ms/run; cluster start-up {startup:.1f} s)")
    noop, _ = timed_sweep(nothing, sweep.grid(i=range(n)), 1)

    print(f"speed-up 2 workers / 1 worker        : {walls[1] / walls[2]:.2f}x")
    print(f"sweep on 1 worker / direct loop      : {walls[1] / direct:.2f}x time")
    print(f"overhead per run (1 worker - direct) : {(walls[1] - direct) / n * 1000:.1f} ms "
          f"({(walls[1] - direct) / direct * 100:.0f}% of a run)")
    print(f"overhead per run (empty tasks)       : {noop / n * 1000:.1f} ms")


if __name__ == "__main__":
    main()
