"""`python3 -m quicbed`: list, describe, a real run, and usage errors (exit 2, one line, no traceback)."""

import subprocess
import sys

import pandas
import pytest

from quicbed import cli
from quicbed_env import child_env

NAMES = ["loss_sweep", "rtt_bandwidth", "fairness", "handshake_latency", "bufferbloat"]


def quicbed_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "quicbed", *args], capture_output=True, text=True, cwd=cwd,
                          env=child_env(), timeout=300)


def test_list_names_every_scenario_with_its_summary(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_describe_shows_every_parameter_with_its_default(capsys):
    assert cli.main(["describe", "fairness"]) == 0
    out = capsys.readouterr().out
    for key, (default, help_text) in cli.load_scenario("fairness").PARAMS.items():
        assert f"--{key} {cli.format_value(default)}" in out
        assert help_text in out


def test_run_writes_csv_and_png_and_prints_the_table(tmp_path):
    out = tmp_path / "loss"
    proc = quicbed_cli("run", "loss_sweep", "--ccs", "newreno,bbr", "--losses", "0.02", "--duration", "2",
                       "--rate-mbps", "10", "--workers", "1", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    df = pandas.read_csv(out / "loss_sweep.csv")
    assert list(df["cc"]) == ["newreno", "bbr"]
    assert (df["goodput_mbps"] > 0).all()
    assert (out / "loss_sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"table: {out / 'loss_sweep.csv'}" in proc.stdout
    assert f"plot:  {out / 'loss_sweep.png'}" in proc.stdout
    assert any(line.split()[:3] == ["cc", "loss", "goodput_mbps"] for line in proc.stdout.splitlines())


@pytest.mark.parametrize("args, message", [
    (["run", "nope"], "unknown scenario 'nope'"),
    (["describe", "nope"], "unknown scenario 'nope'"),
    (["run", "loss_sweep", "--bogus", "1"], "unrecognized arguments: --bogus 1"),
    (["run", "loss_sweep", "--losses", "0.1,x"], "argument --losses: expected a number, got 'x'"),
    (["run", "loss_sweep", "--losses", "0.1,,0.2"], "argument --losses: expected comma-separated values"),
    (["run", "loss_sweep", "--duration", "inf"], "argument --duration: expected a finite number"),
    (["run", "fairness", "--n_quic", "1.5"], "argument --n_quic/--n-quic: expected an integer, got '1.5'"),
    (["run", "loss_sweep", "--workers", "0"], "argument --workers: expected an integer >= 1"),
    (["run", "loss_sweep", "--scheduler", "localhost"], "expected tcp://HOST:PORT"),
    (["run", "loss_sweep", "--seeds", "1,a"], "argument --seeds: expected an integer, got 'a'"),
    # values the CLI parses but the scenario refuses: refused before anything runs
    (["run", "loss_sweep", "--losses", "0.01,1.5"], "losses: each must be in (0, 1)"),
    (["run", "loss_sweep", "--rtt-ms", "-5"], "rtt_ms must be a number > 0"),
    (["run", "fairness", "--n_quic", "1", "--n_tcp", "0"], "at least 2 flows"),
    (["run", "loss_sweep", "--ccs", "vegas"], "vegas"),
    (["run", "bufferbloat", "--queue_disc", "pie"], "pie"),
    (["list", "extra"], "unrecognized arguments: extra"),
])
def test_usage_errors_exit_2_with_one_clear_line(capsys, args, message):
    try:
        code = cli.main(args)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_usage_error_from_the_command_line_has_no_traceback():
    proc = quicbed_cli("run", "loss_sweep", "--ccs", "vegas")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "vegas" in proc.stderr
    assert proc.stdout == ""
