"""interop/bench/throughput.py works: a 5 MiB transfer between our own client
and server (--only quicbed) completes, is verified by size and SHA-256, and
lands in the JSON and CSV results. The benchmark itself is not a test (see
the script); this only proves it runs. Without root it runs outside a
network namespace, on a free port.

The program comes from $QUICBED_BIN, else build/default (what scripts/test.sh
builds).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "interop" / "bench" / "throughput.py"
QUICBED = Path(os.environ.get("QUICBED_BIN", REPO / "build" / "default" / "interop" / "endpoint" / "quicbed"))


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/usr/bin/python3", str(SCRIPT), *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.skipif(not os.access(QUICBED, os.X_OK), reason=f"{QUICBED} not built (set QUICBED_BIN)")
def test_bench_quicbed_5m(tmp_path):
    r = bench("--size", "5M", "--only", "quicbed", "--out-dir", str(tmp_path),
              "--quicbed-bin", str(QUICBED))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "verified by size + SHA-256" in r.stdout
    result = json.loads((tmp_path / "throughput.json").read_text())
    assert result["meta"]["bytes"] == 5 << 20
    [run] = result["runs"]
    assert run["impl"] == "quicbed" and run["alpn"] == "hq-interop"
    assert run["ok"] and run["error"] == "" and run["verified"] == "size+sha256"
    assert run["bytes"] == 5 << 20 and run["wall_s"] > 0 and run["gbit_s"] > 0
    assert run["client_cpu_s"] >= 0 and run["server_cpu_s"] >= 0
    assert set(result["summary"]) == {"quicbed"} and result["ratios"] == {}
    rows = list(csv.DictReader(open(tmp_path / "throughput.csv")))
    assert len(rows) == 1 and rows[0]["impl"] == "quicbed" and rows[0]["ok"] == "True"


def test_bench_refuses_unknown_implementation(tmp_path):
    r = bench("--only", "msquic", "--out-dir", str(tmp_path))
    assert r.returncode == 2 and "unknown ['msquic']" in r.stderr
    assert not (tmp_path / "throughput.json").exists()
