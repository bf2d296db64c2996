"""Each scenario of scenarios/ on tiny parameters: the CSV and PNG are written and the numbers
are physically sane. Only ratios and orderings within one run are asserted, never wall times.
The runs go to one Dask cluster shared by the module (a cluster per scenario would cost more
than the simulations)."""

import math

import pandas
import pytest
from quicbed import cli, sweep

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def scheduler():
    cli.scenario_package()  # first: the workers inherit the sys.path that finds the scenarios
    with sweep.local_cluster(2) as cluster:
        yield cluster.scheduler_address


def run(name, tmp_path, scheduler, **params):
    module = cli.load_scenario(name)
    df = module.run(str(tmp_path), progress=False, scheduler=scheduler, **params)
    assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    pandas.testing.assert_frame_equal(pandas.read_csv(tmp_path / f"{name}.csv"), df, check_dtype=False)
    return df, module.summary(df)


def test_loss_sweep_follows_mathis_for_newreno(tmp_path, scheduler):
    df, _ = run("loss_sweep", tmp_path, scheduler, ccs=["newreno", "bbr"], losses=[0.005, 0.03], rtt_ms=50.0,
                rate_mbps=20.0, duration=4.0)
    assert list(zip(df["cc"], df["loss"])) == [("newreno", 0.005), ("newreno", 0.03), ("bbr", 0.005), ("bbr", 0.03)]
    assert (df["goodput_mbps"] > 0).all() and (df["goodput_mbps"] < 20.0).all()
    assert (df["lost_packets"] > 0).all()
    model = df["mathis_mbps"].to_numpy()
    assert model[0] / model[1] == pytest.approx(math.sqrt(0.03 / 0.005))
    newreno = df[df["cc"] == "newreno"]
    # Loss-limited: more loss, less goodput, and within the model's order of magnitude.
    assert newreno["goodput_mbps"].iloc[0] > newreno["goodput_mbps"].iloc[1]
    assert ((newreno["goodput_over_mathis"] > 0.2) & (newreno["goodput_over_mathis"] < 3)).all()


def test_rtt_bandwidth_utilization_and_rtt_are_physical(tmp_path, scheduler):
    df, table = run("rtt_bandwidth", tmp_path, scheduler, ccs=["cubic"], rates_mbps=[5.0], rtts_ms=[20.0, 100.0],
                    duration=3.0)
    assert len(df) == 2
    assert ((df["utilization"] > 0) & (df["utilization"] <= 1.0)).all()
    assert (df["srtt_mean_ms"] >= df["rtt_ms"]).all()  # queueing only adds to the base RTT
    assert list(table.columns[:3]) == ["rate_mbps", "rtt_ms", "cc"]


def test_fairness_jain_index_and_shares(tmp_path, scheduler):
    df, table = run("fairness", tmp_path, scheduler, quic_ccs=["cubic"], n_quic=1, n_tcp=1, rate_mbps=10.0,
                    duration=4.0)
    assert list(df["kind"]) == ["quic", "tcp"]
    assert (df["goodput_mbps"] > 0).all()
    assert 0.5 <= df["jain"].iloc[0] <= 1.0  # 1/n is the floor for n flows
    assert df["share"].sum() == pytest.approx(1.0)
    assert df["quic_share"].iloc[0] == pytest.approx(df["share"].iloc[0])
    assert 0 < df["utilization"].iloc[0] <= 1.0


def test_handshake_latency_orders_0rtt_1rtt_and_tcp_tls(tmp_path, scheduler):
    df, table = run("handshake_latency", tmp_path, scheduler, rtts_ms=[20.0, 100.0])
    for rtt, rows in df.groupby("rtt_ms"):
        t = rows.set_index("variant")["request_ms"]
        # A full handshake costs a round trip before the request leaves; 0-RTT sends it at once;
        # TCP + TLS 1.3 needs TCP's round trip and then TLS's.
        assert t["quic_1rtt"] >= 1.5 * rtt
        assert t["quic_0rtt"] <= t["quic_1rtt"] - 0.5 * rtt
        assert t["tcp_tls13"] >= t["quic_1rtt"] + 0.5 * rtt
        assert rows.set_index("variant").loc["tcp_tls13", "source"] == "composed"
    assert set(df["source"]) == {"measured", "composed"}


def test_bufferbloat_bigger_queue_more_delay(tmp_path, scheduler):
    df, _ = run("bufferbloat", tmp_path, scheduler, ccs=["cubic"], queue_sizes=[5, 150], rate_mbps=5.0,
                duration=5.0)
    small, big = df.iloc[0], df.iloc[1]
    assert big["rtt_mean_ms"] > small["rtt_mean_ms"]
    assert big["queue_mean_packets"] > small["queue_mean_packets"]
    assert (df["goodput_mbps"] > 0).all() and (df["rtt_p95_ms"] >= df["rtt_mean_ms"]).all()


@pytest.mark.parametrize("params, message", [
    ({"losses": [0.0]}, "in (0, 1)"),
    ({"rate_mbps": 0}, "rate_mbps must be a number > 0"),
    ({"speed": 1}, "unknown parameter(s) speed"),
    ({"ccs": []}, "no values"),
])
def test_bad_parameters_raise_before_anything_runs(tmp_path, params, message):
    with pytest.raises(ValueError) as e:
        cli.load_scenario("loss_sweep").run(str(tmp_path), progress=False, **params)
    assert message in str(e.value)
    assert not any(tmp_path.iterdir())
