"""What a Dask worker runs for one sweep task: call the task, turn its result into rows.

This module is imported by the workers (by name, through pickle), which is why
workers of a remote cluster need quicbed installed.
"""

from __future__ import annotations

import json

import pandas


def _plain(value):
    """json.dumps hook: NumPy scalars and arrays become Python values."""
    if hasattr(value, "tolist"):  # numpy.generic and numpy.ndarray
        return value.tolist()
    raise TypeError(f"a result value of type {type(value).__name__} cannot be stored; "
                    "return numbers, strings, booleans, None or lists of them")


def _rows(result) -> list[dict]:
    if isinstance(result, pandas.DataFrame):
        return result.to_dict("records")
    if isinstance(result, dict):
        return [result]
    if isinstance(result, (list, tuple)) and all(isinstance(r, dict) for r in result):
        return list(result)
    raise TypeError(f"a sweep task must return a dict, a list of dicts or a DataFrame, "
                    f"not {type(result).__name__}")


def _without_params(row: dict, fixed: dict) -> dict:
    """The row minus columns that repeat a param or the seed (same value: dropped;
    a different value would make the table lie about which run it came from)."""
    out = {}
    for name, value in row.items():
        if not isinstance(name, str):
            raise TypeError(f"result column names must be strings, not {name!r}")
        if name in fixed:
            if value != fixed[name]:
                raise ValueError(f"the task returned {name}={value!r}, but this run has "
                                 f"{name}={fixed[name]!r}; rename that result column")
            continue
        out[name] = value
    return out


def execute(task, params: dict, seed: int) -> str:
    """Runs task(**params, seed=seed) and returns its rows as JSON text.

    JSON text, not objects: the client writes exactly these bytes to
    results.jsonl and parses them once, so a fresh sweep and a resumed one build
    their DataFrames from identical values.
    """
    result = task(**params, seed=seed)
    fixed = {**params, "seed": seed}
    rows = [_without_params(row, fixed) for row in _rows(result)]
    return json.dumps(rows, default=_plain)
