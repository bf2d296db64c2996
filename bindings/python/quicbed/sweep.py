"""Parameter sweeps on Dask distributed: one task per (params, seed) run.

    from quicbed import sweep
    points = sweep.grid(cc=["newreno", "cubic", "bbr"], loss=[0.001, 0.01])
    df = sweep.run(task, points, seeds=(1, 2), out="results/loss")

By default the tasks run on a local cluster started here (one worker process
per core, one task at a time per process); `scheduler="tcp://HOST:PORT"` runs
them on an existing cluster whose workers have quicbed installed. Results
stream back as tasks finish and go to `out` at once, so a rerun after an
interruption skips what is done (sweep_store.py has the file layout). Failed
tasks are retried `retries` times by Dask, then reported with their params
and error; they never stop the rest. docs/sweeps.md has the full story.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy
import pandas
from distributed import Client, LocalCluster, as_completed
from tqdm import tqdm

from .sweep_store import SweepStore, columns_of, table_rows
from .sweep_task import execute

__all__ = ["grid", "run", "task_key", "local_cluster"]

# Failures listed under the summary line; the rest are in failed.csv and the summary.
_FAILURES_SHOWN = 5


def grid(**axes) -> list[dict]:
    """Every combination of the axes, the last axis varying fastest.

    A list, tuple, range or other iterable is an axis; a string or any other
    single value is a one-value axis. grid(cc=["cubic", "bbr"], loss=[0, 0.01])
    -> [{"cc": "cubic", "loss": 0}, {"cc": "cubic", "loss": 0.01}, ...].
    """
    if "seed" in axes:
        raise ValueError("'seed' is not a grid axis: pass seeds= to sweep.run")
    names = list(axes)
    values = []
    for name, axis in axes.items():
        if isinstance(axis, (str, bytes)) or not isinstance(axis, Iterable):
            axis = [axis]
        axis = list(axis)
        if not axis:
            raise ValueError(f"grid axis {name!r} has no values")
        values.append(axis)
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def _task_name(task) -> str:
    return f"{getattr(task, '__module__', '')}.{getattr(task, '__qualname__', type(task).__name__)}"


def task_key(task, params: Mapping, seed: int) -> str:
    """A stable id of one run: the task's name, the params (any order) and the seed.

    It names the run in results.jsonl, so it must not depend on the process,
    the machine or the order of the keyword arguments.
    """
    try:
        text = json.dumps({"task": _task_name(task), "params": params, "seed": seed},
                          sort_keys=True, separators=(",", ":"))
    except TypeError as e:
        raise TypeError(f"sweep params must be numbers, strings, booleans, None or lists "
                        f"of them (they become table columns): {e}") from None
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class _Run:
    index: int  # position in the result table's order
    params: dict
    seed: int
    key: str


def _plain_params(point) -> dict:
    if not isinstance(point, Mapping):
        raise TypeError(f"each grid point must be a dict of params, not {type(point).__name__}")
    params = {}
    for name, value in point.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"param name {name!r} is not a keyword argument name")
        if name == "seed":
            raise ValueError("'seed' cannot be a param: pass seeds= to sweep.run")
        # NumPy scalars (np.linspace axes) become Python numbers for JSON and the key.
        params[name] = value.item() if isinstance(value, numpy.generic) else value
    return params


def _plan(task, points, seeds) -> list[_Run]:
    if not callable(task):
        raise TypeError(f"task must be a callable, not {type(task).__name__}")
    if isinstance(points, Mapping):
        raise TypeError("grid must be a list of dicts (sweep.grid(...) builds one), not a dict")
    seeds = [seeds] if isinstance(seeds, (int, numpy.integer)) else list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    seeds = [s.item() if isinstance(s, numpy.integer) else s for s in seeds]  # np.arange
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
    runs, seen = [], set()
    for point in points:  # grid order, then seed order: the order of the result table
        params = _plain_params(point)
        for seed in seeds:
            key = task_key(task, params, seed)
            if key in seen:
                raise ValueError(f"the sweep has the run {params} seed={seed} twice")
            seen.add(key)
            runs.append(_Run(len(runs), params, seed, key))
    return runs


def _check_size(name, value, least):
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        kind = "a positive" if least else "a non-negative"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}")


def local_cluster(workers: int | None = None) -> LocalCluster:
    """The cluster sweep.run starts by default: `workers` processes (default:
    this machine's cores) with one thread each, everything on 127.0.0.1.

    Keep one across sweeps (a notebook, a benchmark) to pay its start-up once:
        with sweep.local_cluster(4) as cluster:
            df = sweep.run(task, points, scheduler=cluster.scheduler_address)
    """
    if workers is None:
        workers = len(os.sched_getaffinity(0))
    _check_size("workers", workers, 1)
    # Every server on loopback: Dask's HTTP endpoints listen on all interfaces
    # unless told otherwise (Debian has no bokeh, so there is no dashboard anyway).
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        worker_dashboard_address="127.0.0.1:0",
                        scheduler_kwargs={"dashboard": False},
                        # failures are reported by the sweep, not as worker log noise
                        silence_logs=logging.ERROR)


@contextlib.contextmanager
def _client(workers, scheduler):
    if scheduler is not None:
        with Client(scheduler, set_as_default=False) as client:
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster, set_as_default=False) as client:
        yield client


def _describe(params: dict, seed: int) -> str:
    return " ".join(f"{k}={v!r}" for k, v in params.items()) + f" seed={seed}"


def _error_of(future, result) -> tuple[str, str]:
    """The error line and traceback of a run that did not finish; `result` is what
    as_completed(raise_errors=False) gave for it."""
    if future.status == "cancelled":  # the scheduler forgot it: cluster lost or shut down
        return "CancelledError: the cluster dropped the task", ""
    _, exc, tb = result
    trace = "".join(traceback.format_exception(type(exc), exc, tb))
    return f"{type(exc).__name__}: {exc}", trace


def _print_summary(summary: dict, failures: list[dict], out) -> None:
    where = f" on {summary['workers']} workers" if summary["workers"] else ""
    print(f"sweep: {summary['done']} done, {summary['failed']} failed, "
          f"{summary['skipped']} skipped of {summary['tasks']} runs in "
          f"{summary['wall_time_s']:.1f} s{where}"
          + ("" if summary["status"] == "complete" else f" ({summary['status']})"))
    for f in failures[:_FAILURES_SHOWN]:
        print(f"  failed: {_describe(f['params'], f['seed'])}: {f['error']}")
    if len(failures) > _FAILURES_SHOWN:
        print(f"  ... {len(failures) - _FAILURES_SHOWN} more failures"
              + (f" in {os.path.join(out, 'failed.csv')}" if out else ""))
    if out is not None:
        print(f"sweep: results in {out}")
    sys.stdout.flush()


def _stream(client, task, pending, retries, finished, failures, store, summary, bar):
    """Submits every pending run and records each one as it finishes, in any order."""
    futures = {client.submit(execute, task, r.params, r.seed, retries=retries,
                             key=f"quicbed-sweep-{r.key}"): r
               for r in pending}
    # with_results: results are fetched on Dask's event loop as runs finish, not
    # one round trip at a time from here.
    for future, result in as_completed(futures, loop=client.loop, with_results=True,
                                       raise_errors=False):
        r = futures.pop(future)
        if future.status == "finished":
            rows_json = result
            finished[r.key] = json.loads(rows_json)
            if store is not None:
                store.add_result(r.key, r.params, r.seed, rows_json, finished[r.key])
            summary["done"] += 1
        else:
            error, trace = _error_of(future, result)
            failures.append({"index": r.index, "params": r.params, "seed": r.seed,
                             "error": error, "traceback": trace})
            if store is not None:
                store.add_failure(r.params, r.seed, error, trace)
            summary["failed"] += 1
        future.release()  # the cluster may forget it now
        bar.update(1)


def run(task, grid, seeds=(1,), out=None, workers=None, scheduler=None,
        retries=2, progress=True, resume=True) -> pandas.DataFrame:
    """Runs task(**params, seed=s) for every grid point and seed on Dask; returns the table.

    task      a picklable module-level callable returning a dict, a list of dicts
              or a DataFrame (its rows).
    grid      a list of param dicts (sweep.grid builds the product of axes).
    seeds     the seeds of each point (an int is one seed).
    out       a directory for results.csv, failed.csv, summary.json (and
              results.jsonl); with resume=True a rerun skips runs recorded there.
    workers   size of the local cluster (default: this machine's cores).
    scheduler "tcp://HOST:PORT" of an existing Dask cluster instead.
    retries   how many times Dask reruns a failed task before it is reported.

    The table has the param columns, "seed", then the result columns, ordered by
    grid point, then seed, then the task's own row order, whatever the number
    of workers. df.attrs["summary"] holds the summary and df.attrs["failed"]
    the failed runs (params, seed, error, traceback).
    """
    runs = _plan(task, grid, seeds)
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address like 'tcp://HOST:PORT', "
                        f"not {type(scheduler).__name__}")
    if scheduler is not None and workers is not None:
        raise ValueError("workers= sizes the local cluster; with scheduler= the "
                         "cluster's own workers run the tasks")
    if workers is not None:
        _check_size("workers", workers, 1)
    _check_size("retries", retries, 0)
    param_names = columns_of([r.params for r in runs], [])

    started = time.monotonic()
    store = SweepStore(out, param_names, resume) if out is not None else None
    with store if store is not None else contextlib.nullcontext():
        finished = store.finished() if store is not None else {}
        pending = [r for r in runs if r.key not in finished]
        summary = {"tasks": len(runs), "done": 0, "failed": 0,
                   "skipped": len(runs) - len(pending), "retries": retries,
                   "workers": 0, "scheduler": scheduler or "local", "status": "interrupted",
                   "wall_time_s": 0.0}
        failures = []
        bar = tqdm(total=len(runs), initial=summary["skipped"], disable=not progress,
                   desc="sweep", unit="run")
        try:
            if pending:
                with _client(workers, scheduler) as client:
                    summary["workers"] = len(client.scheduler_info()["workers"])
                    _stream(client, task, pending, retries, finished, failures, store,
                            summary, bar)
            summary["status"] = "complete"
        finally:
            bar.close()
            summary["wall_time_s"] = round(time.monotonic() - started, 3)
            # grid order, not completion order
            failures[:] = [{k: v for k, v in f.items() if k != "index"}
                           for f in sorted(failures, key=lambda f: f["index"])]
            summary["failures"] = [{k: f[k] for k in ("params", "seed", "error")}
                                   for f in failures]
            if store is not None and summary["status"] == "complete":
                store.finish([r.key for r in runs], failures, summary)
            elif store is not None:
                store.write_summary(summary)
            _print_summary(summary, failures, out)

    rows = [row for r in runs if r.key in finished
            for row in table_rows(r.params, r.seed, finished[r.key])]
    df = pandas.DataFrame.from_records(rows, columns=columns_of(rows, param_names + ["seed"]))
    df.attrs["summary"] = summary
    df.attrs["failed"] = failures
    return df
