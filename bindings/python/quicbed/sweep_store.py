"""The on-disk record of a sweep (its `out` directory), written as results arrive.

Why two result files: the CSV is the table people open, but CSV forgets types
(an int column with a gap turns float, a string "1" turns int). A resumed sweep
must return exactly the DataFrame an uninterrupted one returns, so the exact
values are kept as JSON, one line per finished task, and the CSV is derived
from them.

    results.jsonl  one line per finished task: {"key", "params", "seed", "rows"};
                   what a rerun reads to skip finished tasks.
    results.csv    the result table (param columns, seed, result columns);
                   appended per task, rewritten in grid order when the sweep ends.
    failed.csv     the runs that failed in the latest sweep: params, seed, error,
                   traceback (absent when none failed).
    summary.json   counts and wall time of the latest sweep.
    .lock          held while a sweep writes here, so two sweeps never interleave.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
from pathlib import Path

RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
FAILED_CSV = "failed.csv"
SUMMARY_JSON = "summary.json"
LOCK = ".lock"


def table_rows(params: dict, seed: int, rows: list[dict]) -> list[dict]:
    """The rows of one task as they appear in the result table: params, seed, results."""
    return [{**params, "seed": seed, **row} for row in rows]


def columns_of(rows: list[dict], first: list[str]) -> list[str]:
    """`first`, then every other key of `rows` in the order it first appears."""
    seen = dict.fromkeys(first)
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _csv_value(value):
    # JSON arrays and objects (a task may return a list) go to the CSV as JSON
    # text; None stays an empty cell, which pandas reads back as NaN.
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


class SweepStore:
    """One sweep's output directory; use as a context manager (it holds the lock)."""

    def __init__(self, out_dir, param_names: list[str], resume: bool):
        self.dir = Path(out_dir)
        self._param_names = list(param_names)
        self._resume = resume
        self._finished: dict[str, dict] = {}  # key -> record, in file order
        self._csv_columns: list[str] = []
        self._lock_file = None
        self._jsonl = None

    def __enter__(self) -> "SweepStore":
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.dir / LOCK, "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise RuntimeError(f"another sweep is writing to {self.dir} right now") from None
        if self._resume:
            self._load()
        else:
            for name in (RESULTS_JSONL, RESULTS_CSV, SUMMARY_JSON):
                (self.dir / name).unlink(missing_ok=True)
        # Failed runs are retried by a rerun, so a stale failed.csv would misreport.
        (self.dir / FAILED_CSV).unlink(missing_ok=True)
        self._jsonl = open(self.dir / RESULTS_JSONL, "a", encoding="utf-8")
        self._rewrite_csv(list(self._finished.values()))
        return self

    def __exit__(self, *exc) -> None:
        self._jsonl.close()
        self._lock_file.close()  # closing releases the flock

    def finished(self) -> dict[str, list[dict]]:
        """Result rows of every task recorded so far, by task key."""
        return {key: record["rows"] for key, record in self._finished.items()}

    def _load(self) -> None:
        path = self.dir / RESULTS_JSONL
        if not path.exists():
            return
        data = path.read_bytes()
        good_end = 0
        for number, line in enumerate(data.splitlines(keepends=True), start=1):
            try:
                record = json.loads(line)
                complete = line.endswith(b"\n")
            except ValueError:
                complete = False
            if not complete:
                if good_end + len(line) < len(data):
                    raise ValueError(f"{path} line {number} is damaged; delete the file or "
                                     "run with resume=False to start over")
                # A sweep killed mid-write leaves a partial last line: that task is not done.
                break
            self._finished[record["key"]] = record
            good_end += len(line)
        if good_end < len(data):
            with open(path, "r+b") as f:
                f.truncate(good_end)

    def add_result(self, key: str, params: dict, seed: int, rows_json: str,
                   rows: list[dict]) -> None:
        """Records a finished task: a JSON line first (what resume trusts), then its CSV rows."""
        line = '{"key": %s, "params": %s, "seed": %d, "rows": %s}\n' % (
            json.dumps(key), json.dumps(params), seed, rows_json)
        self._jsonl.write(line)
        self._jsonl.flush()
        self._finished[key] = {"key": key, "params": params, "seed": seed, "rows": rows}
        new = table_rows(params, seed, rows)
        if all(name in self._csv_columns for row in new for name in row):
            self._append_csv(new)
        else:  # a new column: the header changes, so the file is written again
            self._rewrite_csv(list(self._finished.values()))

    def add_failure(self, params: dict, seed: int, error: str, trace: str) -> None:
        """Records a failed run at once, so an interrupted sweep still shows it."""
        self._write_failures([{"params": params, "seed": seed, "error": error,
                               "traceback": trace}], "a")

    def finish(self, ordered_keys: list[str], failures: list[dict], summary: dict) -> None:
        """Rewrites results.csv (the returned DataFrame) and failed.csv in grid order,
        then writes summary.json."""
        self._rewrite_csv([self._finished[k] for k in ordered_keys if k in self._finished])
        if failures:
            self._write_failures(failures, "w")
        self.write_summary(summary)

    def write_summary(self, summary: dict) -> None:
        tmp = self.dir / (SUMMARY_JSON + ".tmp")
        tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.dir / SUMMARY_JSON)

    def _write_failures(self, failures: list[dict], mode: str) -> None:
        path = self.dir / FAILED_CSV
        header = mode == "w" or not path.exists()
        with open(path, mode, newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, self._param_names + ["seed", "error", "traceback"])
            if header:
                writer.writeheader()
            writer.writerows({**{k: _csv_value(v) for k, v in fail["params"].items()},
                              "seed": fail["seed"], "error": fail["error"],
                              "traceback": fail["traceback"]} for fail in failures)

    def _append_csv(self, rows: list[dict]) -> None:
        with open(self.dir / RESULTS_CSV, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, self._csv_columns)
            writer.writerows({k: _csv_value(v) for k, v in row.items()} for row in rows)

    def _rewrite_csv(self, records: list[dict]) -> None:
        rows = [r for record in records
                for r in table_rows(record["params"], record["seed"], record["rows"])]
        self._csv_columns = columns_of(rows, self._param_names + ["seed"])
        tmp = self.dir / (RESULTS_CSV + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, self._csv_columns)
            writer.writeheader()
            writer.writerows({k: _csv_value(v) for k, v in row.items()} for row in rows)
        os.replace(tmp, self.dir / RESULTS_CSV)
