"""The notebooks run top to bottom headless (nbclient, a python3 kernel) on small parameters
(QUICBED_NB_SMALL=1), and every one draws its plots (image/png outputs). They run side by
side, one kernel process each, to keep within the suite's time budget."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from quicbed_env import child_env

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
# Executes one notebook in a kernel of its own and writes it, outputs included, to argv[2].
# The kernel talks over IPC sockets named after the notebook: over TCP, kernels started at
# the same moment can pick the same free port and one dies ("Address already in use").
RUNNER = """
import sys, nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
km = KernelManager(kernel_name="python3", transport="ipc", ip=sys.argv[2] + ".kernel")
try:
    NotebookClient(nb, timeout=240, km=km, resources={"metadata": {"path": sys.argv[3]}}).execute()
finally:
    nbformat.write(nb, sys.argv[2])
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """{notebook name: (exit status, stderr, executed notebook)}, all run at once."""
    work = tmp_path_factory.mktemp("notebooks")
    env = child_env(QUICBED_NB_SMALL="1")
    procs = {nb.name: subprocess.Popen([sys.executable, "-c", RUNNER, str(nb), str(work / nb.name), str(work)],
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for nb in NOTEBOOKS}
    results = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        out = work / name
        results[name] = (proc.returncode, err, nbformat.read(out, as_version=4) if out.exists() else None)
    return results


def test_the_five_notebooks_are_there():
    assert [nb.name for nb in NOTEBOOKS] == ["01_quick_start.ipynb", "02_congestion_control.ipynb",
                                             "03_fairness_tcp.ipynb", "04_handshake_latency.ipynb",
                                             "05_qlog_pcap.ipynb"]


@pytest.mark.parametrize("name", [nb.name for nb in NOTEBOOKS])
def test_notebook_runs_and_plots(executed, name):
    code, err, nb = executed[name]
    assert code == 0, err[-3000:]
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "QUICBED_NB_SMALL" in code[0].source  # the first cell sizes the runs
