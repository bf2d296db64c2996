"""interop/bench/throughput.py works: a 5 MiB transfer between our own client
and server (--only quicbed) completes, is verified by size and SHA-256, and
lands in the JSON and CSV results. The benchmark itself is not a test (see
the script); this only proves it runs. Without root it runs outside a
network namespace, on a free port.

interop/bench/conn_load works: 500 concurrent connections to our server on
loopback all complete their handshakes and are held, and the server is still
up and serving afterwards (the full 10,000 is a documented command, see
interop/bench/README.md).

The programs come from $QUICBED_BIN (conn_load from beside it, or
$QUICBED_CONN_LOAD), else build/default (what scripts/test.sh builds).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

from quicbed_util import P, client_argv, make_www, quicbed_server, run

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "interop" / "bench" / "throughput.py"
QUICBED = Path(os.environ.get("QUICBED_BIN", REPO / "build" / "default" / "interop" / "endpoint" / "quicbed"))
CONN_LOAD = Path(os.environ.get("QUICBED_CONN_LOAD", QUICBED.parent.parent / "bench" / "conn_load"))


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


@pytest.mark.skipif(not (os.access(QUICBED, os.X_OK) and os.access(CONN_LOAD, os.X_OK)),
                    reason=f"{QUICBED} or {CONN_LOAD} not built (set QUICBED_BIN)")
def test_conn_load_500(tmp_path):
    certs = P.make_certs(tmp_path / "certs")
    www = tmp_path / "www"
    names = make_www(www, [2000])
    port = P.free_udp_port()
    with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{port}", "--timeout", "60") as server:
        r = subprocess.run([str(CONN_LOAD), "--server", f"127.0.0.1:{port}", "--ca", str(certs.ca_cert),
                            "--connections", "500", "--sockets", "4", "--concurrency", "64", "--hold", "1",
                            "--timeout", "60", "--server-pid", str(server.pid), "--json", str(tmp_path / "load.json")],
                           capture_output=True, text=True, timeout=120)
        print(r.stdout)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        result = json.loads((tmp_path / "load.json").read_text())
        assert result["connected"] == 500 and result["failed"] == 0 and result["closed_while_held"] == 0
        assert result["handshakes_per_second"] > 0 and result["engine_bytes_per_connection"] > 0
        assert "connected" in r.stderr  # progress lines
        # Still up, and serving.
        assert server.poll() is None
        c, _ = run(client_argv(P.urls("127.0.0.1", port, names), tmp_path / "dl", "--ca", str(certs.ca_cert)))
        assert c.returncode == 0, c.stderr[-2000:]
        assert (tmp_path / "dl" / names[0]).read_bytes() == (www / names[0]).read_bytes()
