"""quicbed.sweep on real Dask clusters: an in-process local cluster (the default)
and a `dask scheduler` + `dask worker` pair started as separate processes on
127.0.0.1, which the sweep reaches through scheduler="tcp://...".

The task functions are module-level so Dask workers import them by name; the
external worker gets this directory and quicbed on its PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas
import pytest
from distributed import Client

import quicbed
from quicbed import sweep
from quicbed.sweep_store import SweepStore

HERE = Path(__file__).resolve().parent
PACKAGE_PARENT = Path(list(quicbed.__path__)[0]).resolve().parent


# --- tasks (run on the workers) ---------------------------------------------

def quic_transfer(cc, loss, seed):
    """A real simulation run: half a simulated second of a bulk QUIC flow over a
    lossy 10 Mbps, 20 ms path (tens of milliseconds of wall time)."""
    sc = quicbed.Scenario(topology="p2p", rate="10Mbps", delay="20ms",
                          loss=quicbed.RandomLoss(loss), duration=0.5)
    sc.add_quic_flow(cc=cc)
    return sc.run(seed=seed).flows


def _mark(marks, name):
    """One line per execution, so a test can count how often a run really ran."""
    with open(Path(marks) / name, "a") as f:
        f.write(f"{os.getpid()}\n")


def _executions(marks, name):
    path = Path(marks) / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def flaky(x, marks, seed):
    _mark(marks, f"{x}-{seed}")
    if x == 2:
        raise ValueError(f"x={x} is bad")
    return {"square": x * x}


def slow(x, marks, seed):
    """Runs after the first three take 2 s: an interrupt sent once three are
    recorded lands mid-sweep even when a loaded machine is slow to deliver it
    (with 0.3 s runs, CI once finished all 8 first)."""
    time.sleep(2.0 if sum(1 for _ in Path(marks).iterdir()) >= 3 else 0.3)
    _mark(marks, f"{x}-{seed}")
    return {"x2": 2 * x}


def clashing(x, seed):
    return {"x": x + 1}  # contradicts the param x of this run


def crash(x, seed):
    os._exit(3)  # what a simulator crash does to the worker process


def serial(task, points, seeds):
    """The reference: the same runs as a plain loop in this process."""
    return pandas.DataFrame([{**p, "seed": s, **row} for p in points for s in seeds
                             for row in task(**p, seed=s).to_dict("records")])


# --- an external cluster: dask scheduler + dask worker processes ------------

def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the nanny and its worker
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """Address of a real cluster: one scheduler process, one worker process with
    two threads (two runs share one process, as on a cluster started with
    --nthreads 2), all on loopback."""
    dask = shutil.which("dask")
    assert dask, "Debian's python3-distributed ships /usr/bin/dask"
    tmp = tmp_path_factory.mktemp("dask-cluster")
    info = tmp / "scheduler.json"
    path = [str(PACKAGE_PARENT), str(HERE)] + os.environ.get("PYTHONPATH", "").split(os.pathsep)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p),
               # a run whose worker dies is given up at once (Dask's default retries it 3 times)
               DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    procs = []

    def start(name, *args):
        with open(tmp / f"{name}.log", "w") as log:
            procs.append(subprocess.Popen([dask, name, *args], stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True, env=env, cwd=tmp))

    try:
        # --dashboard-address: Dask's HTTP endpoints listen on all interfaces unless told
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info))
        deadline = time.monotonic() + 30
        address = None
        while address is None:
            assert procs[0].poll() is None, (tmp / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler wrote no scheduler file in 30 s"
            try:
                address = json.loads(info.read_text())["address"]
            except (FileNotFoundError, ValueError):  # not there yet, or half-written
                time.sleep(0.1)
        assert address.startswith("tcp://127.0.0.1:")
        start("worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "2",
              "--no-dashboard", "--dashboard-address", "127.0.0.1:0")
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


# --- grid and argument checks (no cluster) -----------------------------------

def test_grid_is_the_product_with_the_last_axis_fastest():
    assert sweep.grid(cc=["cubic", "bbr"], loss=[0, 0.01]) == [
        {"cc": "cubic", "loss": 0}, {"cc": "cubic", "loss": 0.01},
        {"cc": "bbr", "loss": 0}, {"cc": "bbr", "loss": 0.01}]
    assert sweep.grid(cc="cubic", rate=range(2)) == [{"cc": "cubic", "rate": 0},
                                                     {"cc": "cubic", "rate": 1}]
    with pytest.raises(ValueError, match="seeds="):
        sweep.grid(seed=[1, 2])
    with pytest.raises(ValueError, match="no values"):
        sweep.grid(cc=[])


def test_task_key_ignores_param_order_and_tells_runs_apart():
    assert sweep.task_key(quic_transfer, {"a": 1, "b": 2}, 1) == sweep.task_key(quic_transfer, {"b": 2, "a": 1}, 1)
    keys = {sweep.task_key(quic_transfer, {"a": 1, "b": 2}, 1), sweep.task_key(quic_transfer, {"a": 1, "b": 2}, 2),
            sweep.task_key(quic_transfer, {"a": 1.0, "b": 2}, 1), sweep.task_key(flaky, {"a": 1, "b": 2}, 1)}
    assert len(keys) == 4


def test_numpy_axes_and_seeds_are_plain_numbers_in_the_plan():
    # np.linspace / np.arange values key the same runs as the Python numbers.
    import numpy
    runs = sweep._plan(quic_transfer, sweep.grid(loss=numpy.array([0.5]), cc="bbr"),
                       numpy.arange(1, 3))
    assert [(r.params, r.seed) for r in runs] == [({"loss": 0.5, "cc": "bbr"}, 1),
                                                  ({"loss": 0.5, "cc": "bbr"}, 2)]
    assert all(type(r.params["loss"]) is float and type(r.seed) is int for r in runs)
    assert runs[0].key == sweep.task_key(quic_transfer, {"cc": "bbr", "loss": 0.5}, 1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"task": 3}, TypeError, "callable"),
    ({"grid": [{"a": 1, "b": 2}, {"b": 2, "a": 1}]}, ValueError, "twice"),
    ({"grid": [{"a": object(), "b": 1}]}, TypeError, "params must be"),
    ({"grid": [{"seed": 1}]}, ValueError, "seeds="),
    ({"grid": {"a": [1]}}, TypeError, "list of dicts"),
    ({"seeds": []}, ValueError, "at least one seed"),
    ({"seeds": [1.5]}, ValueError, "non-negative integers"),
    ({"workers": 0}, ValueError, "positive integer"),
    ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, ValueError, "scheduler="),
    ({"retries": -1}, ValueError, "non-negative integer"),
    ({"scheduler": 8786}, TypeError, "tcp://HOST:PORT"),
])
def test_bad_arguments_are_refused_before_anything_runs(kwargs, error, match):
    args = {"task": quic_transfer, "grid": [{"a": 1, "b": 2}], "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        sweep.run(**args)


# --- the store ---------------------------------------------------------------

def test_a_partial_last_line_is_a_task_not_done(tmp_path):
    with SweepStore(tmp_path, ["a"], resume=True) as store:
        store.add_result("k1", {"a": 1}, 1, '[{"v": 1}]', [{"v": 1}])
    with open(tmp_path / "results.jsonl", "a") as f:
        f.write('{"key": "k2", "params": {"a": 2}, "seed": 1, "rows": [{"v"')  # killed here
    with SweepStore(tmp_path, ["a"], resume=True) as store:
        assert store.finished() == {"k1": [{"v": 1}]}
        store.add_result("k2", {"a": 2}, 1, '[{"v": 2, "w": "new"}]', [{"v": 2, "w": "new"}])
    with SweepStore(tmp_path, ["a"], resume=True) as store:
        assert store.finished() == {"k1": [{"v": 1}], "k2": [{"v": 2, "w": "new"}]}
    # The new column w rewrote the CSV's header.
    assert pandas.read_csv(tmp_path / "results.csv").fillna("-").to_dict("records") == [
        {"a": 1, "seed": 1, "v": 1, "w": "-"}, {"a": 2, "seed": 1, "v": 2, "w": "new"}]


def test_a_damaged_line_in_the_middle_is_an_error_not_a_silent_rerun(tmp_path):
    (tmp_path / "results.jsonl").write_text('{"key": "k1", "params": {}, "seed": 1, "rows": []}\n'
                                            'garbage\n'
                                            '{"key": "k2", "params": {}, "seed": 1, "rows": []}\n')
    with pytest.raises(ValueError, match="line 2 is damaged"):
        SweepStore(tmp_path, [], resume=True).__enter__()


def test_two_sweeps_cannot_write_one_directory(tmp_path):
    with SweepStore(tmp_path, [], resume=True):
        with pytest.raises(RuntimeError, match="another sweep"):
            SweepStore(tmp_path, [], resume=True).__enter__()


# --- sweeps on clusters ------------------------------------------------------

POINTS = sweep.grid(cc=["newreno", "cubic", "bbr"], loss=[0.0, 0.02])
SEEDS = (1, 2)


def test_two_local_workers_give_the_serial_table_and_a_rerun_skips_everything(tmp_path, capsys):
    df = sweep.run(quic_transfer, POINTS, seeds=SEEDS, workers=2, out=tmp_path, progress=True)
    assert len(df) == 12 and (df["goodput_bps"] > 0).all()
    assert df.groupby(["cc", "loss"])["goodput_bps"].nunique().max() == 2  # seeds differ
    pandas.testing.assert_frame_equal(df, serial(quic_transfer, POINTS, SEEDS))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["done"], summary["failed"], summary["skipped"]) == (12, 0, 0)
    assert summary["workers"] == 2 and df.attrs["summary"] == summary
    assert "sweep: 12 done, 0 failed, 0 skipped of 12 runs" in capsys.readouterr().out
    # The CSV is the same table.
    pandas.testing.assert_frame_equal(pandas.read_csv(tmp_path / "results.csv"), df)

    again = sweep.run(quic_transfer, POINTS, seeds=SEEDS, workers=2, out=tmp_path, progress=False)
    pandas.testing.assert_frame_equal(again, df)
    assert (again.attrs["summary"]["done"], again.attrs["summary"]["skipped"]) == (0, 12)


def test_an_external_cluster_gives_the_serial_table(scheduler):
    df = sweep.run(quic_transfer, POINTS, seeds=SEEDS, scheduler=scheduler, progress=False)
    pandas.testing.assert_frame_equal(df, serial(quic_transfer, POINTS, SEEDS))
    assert df.attrs["summary"]["scheduler"] == scheduler


def test_a_failing_run_is_reported_retried_a_bounded_number_of_times_and_the_rest_finish(
        scheduler, tmp_path, capsys):
    marks = tmp_path / "marks"
    marks.mkdir()
    points = sweep.grid(x=range(4), marks=[str(marks)])
    df = sweep.run(flaky, points, seeds=(7,), scheduler=scheduler, out=tmp_path / "out",
                   retries=2, progress=False)
    assert df["x"].tolist() == [0, 1, 3] and df["square"].tolist() == [0, 1, 9]
    assert [_executions(marks, f"{x}-7") for x in range(4)] == [1, 1, 3, 1]  # 1 + retries
    summary = df.attrs["summary"]
    assert (summary["done"], summary["failed"], summary["skipped"]) == (3, 1, 0)
    assert summary["failures"] == [{"params": {"x": 2, "marks": str(marks)}, "seed": 7,
                                    "error": "ValueError: x=2 is bad"}]
    failed = pandas.read_csv(tmp_path / "out" / "failed.csv")
    assert failed[["x", "seed", "error"]].to_dict("records") == [
        {"x": 2, "seed": 7, "error": "ValueError: x=2 is bad"}]
    assert "in flaky" in failed["traceback"][0]
    printed = capsys.readouterr().out
    assert "3 done, 1 failed, 0 skipped" in printed and "x=2" in printed

    # A rerun retries only the failed run.
    again = sweep.run(flaky, points, seeds=(7,), scheduler=scheduler, out=tmp_path / "out",
                      retries=0, progress=False)
    assert (again.attrs["summary"]["failed"], again.attrs["summary"]["skipped"]) == (1, 3)
    assert [_executions(marks, f"{x}-7") for x in range(4)] == [1, 1, 4, 1]


def test_a_result_column_contradicting_a_param_is_a_reported_failure(scheduler):
    df = sweep.run(clashing, sweep.grid(x=[1]), scheduler=scheduler, retries=0, progress=False)
    assert df.empty
    assert "rename that result column" in df.attrs["failed"][0]["error"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_sweep_resumes_without_rerunning_finished_runs(scheduler, tmp_path, stop):
    marks = tmp_path / "marks"
    marks.mkdir()
    out = tmp_path / "out"
    points = sweep.grid(x=range(8), marks=[str(marks)])
    # A shell that started us in the background may have left SIGINT ignored.
    script = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
              "from quicbed import sweep; import test_sweep as t; "
              f"sweep.run(t.slow, sweep.grid(x=range(8), marks=[{str(marks)!r}]), "
              f"out={str(out)!r}, scheduler={scheduler!r}, progress=False)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE_PARENT), str(HERE)]))
    log = tmp_path / "client.log"
    with open(log, "w") as log_file:
        client = subprocess.Popen([sys.executable, "-c", script], env=env,
                                  stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        jsonl = out / "results.jsonl"
        while time.monotonic() < deadline and client.poll() is None:
            if jsonl.exists() and len(jsonl.read_text().splitlines()) >= 3:
                break
            time.sleep(0.05)
        assert client.poll() is None, log.read_text()
        client.send_signal(stop)
        client.wait(timeout=30)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    recorded = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert 3 <= len(recorded) < 8
    if stop == signal.SIGINT:  # Ctrl-C: the sweep still says what it got done
        summary = json.loads((out / "summary.json").read_text())
        assert summary["status"] == "interrupted" and summary["done"] == len(recorded)

    df = sweep.run(slow, points, out=out, scheduler=scheduler, progress=False)
    summary = df.attrs["summary"]
    assert summary["skipped"] == len(recorded) and summary["done"] == 8 - len(recorded)
    assert df["x2"].tolist() == [2 * x for x in range(8)]
    for record in recorded:  # finished before the kill: never ran again
        assert _executions(marks, f"{record['params']['x']}-1") == 1


def test_a_run_that_kills_its_worker_is_reported_and_the_cluster_goes_on(scheduler):
    df = sweep.run(crash, sweep.grid(x=[5]), scheduler=scheduler, retries=0, progress=False)
    assert df.empty
    assert [(f["params"], f["error"].split(":")[0]) for f in df.attrs["failed"]] == [
        ({"x": 5}, "KilledWorker")]
    # The nanny restarted the worker: the next sweep runs.
    assert len(sweep.run(quic_transfer, POINTS[:1], scheduler=scheduler, progress=False)) == 1
