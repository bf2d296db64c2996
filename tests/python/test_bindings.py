"""The Python bindings (quicbed.Scenario over quicbed._core): types and
shapes, every topology, queue, loss and cross-traffic option on tiny
scenarios, errors, determinism, the GIL, pickling. Importable after
scripts/setup_python.sh, or with PYTHONPATH=<build>/bindings/python."""

import math
import pickle
import threading
import time

import numpy as np
import pandas as pd
import pytest

import quicbed

FLOW_COLUMNS = ["flow", "name", "kind", "cc", "start", "goodput_bps", "bytes", "completion_time",
                "first_byte_time", "handshake_time", "lost_packets", "declared_lost", "retransmissions"]
QUEUE_COLUMNS = ["link", "time", "packets", "bytes", "drops", "marks"]
SERIES_COLUMNS = ["flow", "time", "cwnd", "rtt", "bytes_in_flight", "pacing_rate", "delivered"]


def small(topology="p2p", duration=1.0, **kw):
    kw.setdefault("rate", "5Mbps")
    kw.setdefault("delay", "10ms")
    return quicbed.Scenario(topology=topology, duration=duration, **kw)


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_types_and_shapes():
    sc = small()
    sc.add_quic_flow(cc="cubic")
    res = sc.run(sample_interval=0.05)
    assert isinstance(res, quicbed.Result)
    assert list(res.flows.columns) == FLOW_COLUMNS
    assert list(res.timeseries.columns) == SERIES_COLUMNS
    assert list(res.queue.columns) == QUEUE_COLUMNS
    # Samples from 0 to the end, both included.
    assert len(res.flows) == 1 and len(res.timeseries) == 21 and len(res.queue) == 21
    np.testing.assert_allclose(res.timeseries.time, np.arange(21) * 0.05)
    f = res.flows.iloc[0]
    assert f["kind"] == "quic" and f["cc"] == "cubic" and f["name"] == "quic0"
    # A bulk flow never completes; it fills most of the link after slow start.
    assert math.isnan(f["completion_time"])
    assert 0.5 * 5e6 < f["goodput_bps"] <= 5e6
    assert 0 < f["handshake_time"] < f["first_byte_time"] < 0.2
    ts = res.timeseries
    assert ts.cwnd.iloc[-1] > 0 and 0.02 <= ts.rtt.iloc[-1] < 1 and ts.pacing_rate.iloc[-1] > 0
    assert (np.diff(ts.delivered) >= 0).all() and ts.delivered.iloc[-1] == f["bytes"]
    arrays = res.arrays()
    assert set(arrays) == {f"{t}.{c}" for t, cols in
                           (("flows", FLOW_COLUMNS), ("timeseries", SERIES_COLUMNS),
                            ("queue", QUEUE_COLUMNS)) for c in cols}
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    assert res.qlog_files == [] and res.pcap_files == []


@pytest.mark.parametrize("topology,kw,links", [("dumbbell", {}, 1), ("parking_lot", {"hops": 2}, 2)])
def test_topologies_with_cross_traffic(topology, kw, links):
    sc = small(topology, duration=1.5, **kw)
    sc.add_quic_flow(cc="bbr", bytes=100_000)
    sc.add_tcp_flow(variant="TcpNewReno")
    sc.add_udp_onoff(rate="1Mbps", on=0.2, off=0.2, start=0.1)
    res = sc.run(sample_interval=0.1)
    assert list(res.flows.kind) == ["quic", "tcp", "udp"]
    assert (res.flows.bytes > 0).all()
    assert res.flows.bytes[0] == 100_000 and res.flows.completion_time[0] > 0
    assert sorted(res.queue.link.unique()) == list(range(links))
    assert len(res.timeseries) == 3 * 16
    udp = res.timeseries[res.timeseries.flow == 2]
    assert udp.cwnd.isna().all()


def test_parking_lot_paths():
    # Flow 0 crosses both links; flow 1 only the first: a lone long flow
    # sees twice the one-hop base RTT.
    sc = small("parking_lot", hops=2, duration=0.5, delay="20ms")
    sc.add_quic_flow(bytes=2000)
    sc.add_quic_flow(bytes=2000, start=0.2)
    res = sc.run()
    hs = res.flows.handshake_time
    assert 1.7 < hs[0] / hs[1] < 2.3


def test_queue_discs_bound_the_queue():
    means = {}
    for disc in ("fifo", "red", "codel", "fq_codel"):
        sc = small(queue_disc=disc, queue_packets=200, duration=2.0)
        sc.add_quic_flow(ecn=False)
        sc.add_quic_flow(ecn=False)
        res = sc.run(sample_interval=0.05)
        assert res.queue.packets.max() <= 201  # the disc and the device's one packet
        assert (res.flows.bytes > 0).all()
        means[disc] = res.queue.packets.mean()
    # CoDel's keep a standing queue well below a full drop-tail buffer's;
    # RED (ns-3's, averaging slowly) only starts to in such a short run.
    for disc in ("codel", "fq_codel"):
        assert means[disc] < 0.5 * means["fifo"], means
    assert means["red"] < means["fifo"], means


def test_random_loss_rate():
    sc = small(rate="10Mbps", duration=2.0, loss=quicbed.RandomLoss(0.02))
    sc.add_quic_flow()
    res = sc.run()
    f = res.flows.iloc[0]
    packets = f["bytes"] / 1400
    assert 0.01 < f["lost_packets"] / packets < 0.04
    assert f["declared_lost"] >= f["lost_packets"] * 0.8


def test_gilbert_elliott_losses():
    never_bad = small(loss=quicbed.GilbertElliott(p_gb=0.0, p_bg=1.0))
    never_bad.add_quic_flow(bytes=200_000)
    bursty = small(loss=quicbed.GilbertElliott(p_gb=0.02, p_bg=0.25))
    bursty.add_quic_flow(bytes=200_000)
    r0, r1 = never_bad.run(), bursty.run()
    assert r0.flows.lost_packets[0] == 0
    assert r1.flows.lost_packets[0] > 0
    assert r1.flows.bytes[0] == 200_000  # the transfer still completes


def test_drop_list_is_exact():
    sc = small(queue_packets=500, loss=quicbed.DropList([5, 6, 7, 40]))
    sc.add_quic_flow()
    res = sc.run()
    assert res.flows.lost_packets[0] == 4


@pytest.mark.parametrize("variant", ["TcpNewReno", "TcpCubic", "TcpBbr", "ns3::TcpVegas"])
def test_tcp_variants(variant):
    sc = small(duration=0.6)
    sc.add_tcp_flow(variant=variant, bytes=50_000)
    res = sc.run()
    assert res.flows.bytes[0] == 50_000 and res.flows.completion_time[0] > 0
    assert math.isnan(res.flows.handshake_time[0])
    assert res.flows.cc[0] == variant.removeprefix("ns3::")


def test_udp_onoff_rate():
    sc = small(rate="10Mbps", duration=2.0)
    sc.add_udp_onoff(rate="2Mbps", on=0.5, off=0.5)
    res = sc.run()
    # On half of the time at 2 Mbit/s: about 1 Mbit/s of payload.
    assert 0.8e6 < res.flows.goodput_bps[0] < 1.2e6


def test_tcp_retransmissions_follow_drops():
    sc = small(rate="10Mbps", duration=2.0, loss=quicbed.RandomLoss(0.01))
    sc.add_tcp_flow(variant="TcpNewReno")
    f = sc.run().flows.iloc[0]
    assert f["lost_packets"] > 0
    assert f["lost_packets"] <= f["retransmissions"] <= 2 * f["lost_packets"] + 5


@pytest.mark.parametrize("cc", ["newreno", "cubic", "bbr"])
def test_quic_ccs(cc):
    sc = small(duration=0.8)
    sc.add_quic_flow(cc=cc, bytes=150_000)
    res = sc.run()
    assert res.flows.bytes[0] == 150_000 and res.flows.completion_time[0] > 0


def test_quic_options():
    def run(**options):
        sc = small(duration=1.0)
        sc.add_quic_flow(**options)
        return sc.run(sample_interval=0.05)

    base = run()
    # The null cipher changes what is in the packets, not their sizes.
    assert_same({k: v for k, v in base.arrays().items() if k.startswith("timeseries")},
                {k: v for k, v in run(crypto="null").arrays().items() if k.startswith("timeseries")})
    assert run(version=2).flows.bytes[0] > 0
    # Small flow-control windows limit the rate (6 kB per 20 ms RTT).
    limited = run(max_data=6_000, max_stream_data=6_000)
    assert limited.flows.goodput_bps[0] < 0.8 * base.flows.goodput_bps[0]
    # DATAGRAM frames carry the data.
    dg = run(datagrams=True, bytes=100_000)
    assert 0 < dg.flows.bytes[0] <= 100_000
    # 0-RTT: the resumed connection's upload ends earlier.
    full = run(start=0.3, bytes=20_000)
    early = run(start=0.3, bytes=20_000, zero_rtt=True)
    assert early.flows.completion_time[0] < full.flows.completion_time[0]
    # A larger initial window (RFC 9002 §7.2) finishes a short transfer sooner.
    iw40 = run(start=0.3, bytes=20_000, initial_window=40)
    assert iw40.flows.completion_time[0] < full.flows.completion_time[0]


def test_ecn_marks_instead_of_drops():
    # RED marks ECT packets (no hard drops) long before a large queue
    # fills: with ECN the flow loses nothing, without it RED drops.
    lost, marks, drops = {}, {}, {}
    for ecn in (False, True):
        sc = small(rate="10Mbps", duration=5.0, queue_disc="red", queue_packets=1000)
        sc.add_quic_flow(ecn=ecn)
        res = sc.run(sample_interval=0.5)
        lost[ecn] = res.flows.declared_lost[0]
        marks[ecn], drops[ecn] = res.queue.marks.iloc[-1], res.queue.drops.iloc[-1]
    assert lost[True] == 0 and lost[False] > 0, lost
    assert marks[True] > 0 and drops[True] == 0 and marks[False] == 0 and drops[False] == lost[False]


def test_qlog_and_pcap(tmp_path):
    sc = small(duration=0.3)
    sc.add_quic_flow(bytes=10_000)
    res = sc.run(qlog_dir=tmp_path / "qlog", pcap_dir=tmp_path / "pcap")
    assert len(res.qlog_files) == 2  # client and server
    assert res.pcap_files and all((tmp_path / "pcap" / p).stat().st_size > 24 for p in res.pcap_files)
    assert res.keylog_file and (tmp_path / "pcap" / "keylog.txt").stat().st_size > 0
    # The same seed again rewrites the same files: they are still reported.
    again = sc.run(qlog_dir=tmp_path / "qlog")
    assert again.qlog_files == res.qlog_files


@pytest.mark.parametrize("make,error,message", [
    (lambda: quicbed.Scenario(rate="-5Mbps"), ValueError, "rate"),
    (lambda: quicbed.Scenario(rate=-1), ValueError, "positive"),
    (lambda: quicbed.Scenario(rate="fast"), ValueError, "not a rate"),
    (lambda: quicbed.Scenario(delay=[1]), TypeError, "delay"),
    (lambda: quicbed.Scenario(topology="ring"), ValueError, "topology"),
    (lambda: quicbed.Scenario(topology="p2p", hops=2), ValueError, "hops"),
    (lambda: quicbed.Scenario(topology="parking_lot", hops=0), ValueError, "hops"),
    (lambda: quicbed.Scenario(queue_packets=0), ValueError, "queue_packets"),
    (lambda: quicbed.Scenario(queue_packets=2.5), TypeError, "queue_packets"),
    (lambda: quicbed.Scenario(queue_packets=2**40), ValueError, "queue_packets"),
    (lambda: quicbed.Scenario(delay=float("nan")), ValueError, "finite"),
    (lambda: quicbed.Scenario(queue_disc="pie"), ValueError, "queue_disc"),
    (lambda: quicbed.Scenario(loss=0.1), TypeError, "loss"),
    (lambda: quicbed.Scenario(duration=0), ValueError, "duration"),
    (lambda: quicbed.RandomLoss(1.5), ValueError, "probability"),
    (lambda: quicbed.GilbertElliott(0.1, -0.1), ValueError, "probability"),
    (lambda: quicbed.DropList([-1]), ValueError, "DropList"),
    (lambda: quicbed.DropList("3"), TypeError, "DropList"),
    (lambda: quicbed.Scenario().add_quic_flow(cc="vegas"), ValueError, "congestion control"),
    (lambda: quicbed.Scenario().add_quic_flow(crypto="aes"), ValueError, "crypto"),
    (lambda: quicbed.Scenario().add_quic_flow(version=3), ValueError, "version"),
    (lambda: quicbed.Scenario().add_quic_flow(ecn="yes"), TypeError, "ecn"),
    (lambda: quicbed.Scenario().add_quic_flow(bytes=0), ValueError, "bytes"),
    (lambda: quicbed.Scenario().add_quic_flow(max_data=2**70), ValueError, "max_data"),
    (lambda: quicbed.Scenario().add_quic_flow(initial_window=1), ValueError, "initial_window"),
    (lambda: quicbed.Scenario().add_quic_flow(initial_window=1001), ValueError, "initial_window"),
    (lambda: quicbed.Scenario().add_quic_flow(zero_rtt=True), ValueError, "zero_rtt"),
    (lambda: quicbed.Scenario().add_tcp_flow(variant="TcpFoo"), ValueError, "TCP variant"),
    (lambda: quicbed.Scenario().add_udp_onoff(rate="0Mbps"), ValueError, "positive"),
    (lambda: quicbed.Scenario().run(), ValueError, "no flows"),
])
def test_bad_input_raises(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_run_arguments():
    sc = small()
    sc.add_quic_flow(start=2.0)
    with pytest.raises(ValueError, match="starts at"):
        sc.run()
    sc = small()
    sc.add_quic_flow()
    with pytest.raises(ValueError, match="seed"):
        sc.run(seed=0)
    with pytest.raises(TypeError, match="run"):
        sc.run(run="1")
    with pytest.raises(ValueError, match="sample_interval"):
        sc.run(sample_interval=5)
    with pytest.raises(ValueError, match="samples"):
        sc.run(sample_interval=1e-9)
    with pytest.raises(ValueError, match="seed"):
        sc.run(seed=2**32)
    # The extension checks again what would reach an ns-3 fatal error.
    spec = sc.spec()
    spec["topology"] = "ring"
    with pytest.raises(ValueError, match="topology"):
        quicbed._core.run(spec, 1, 1, 0.1, "", "")
    spec["topology"] = 7
    with pytest.raises(TypeError, match="wrong type"):
        quicbed._core.run(spec, 1, 1, 0.1, "", "")
    spec["topology"] = "p2p"
    del spec["flows"]
    with pytest.raises(KeyError):
        quicbed._core.run(spec, 1, 1, 0.1, "", "")


def lossy():
    sc = small(duration=1.0, loss=quicbed.RandomLoss(0.02))
    sc.add_quic_flow()
    sc.add_tcp_flow()
    return sc


def test_determinism_in_one_process():
    sc = lossy()
    first = sc.run(seed=3).arrays()
    other = small(duration=0.5, loss=quicbed.GilbertElliott(0.05, 0.3))
    other.add_quic_flow()
    other.run(seed=9)  # a different simulation in between
    assert_same(first, sc.run(seed=3).arrays())
    # Another seed or run number draws other losses.
    assert not np.array_equal(first["timeseries.cwnd"], sc.run(seed=4).arrays()["timeseries.cwnd"],
                              equal_nan=True)
    assert not np.array_equal(first["timeseries.cwnd"], sc.run(seed=3, run=2).arrays()["timeseries.cwnd"],
                              equal_nan=True)


def test_run_releases_the_gil():
    # While a run is in its C++ part, the main thread keeps executing
    # Python: it records loop iterations strictly inside the run.
    sc = small(rate="20Mbps", duration=3.0)
    sc.add_quic_flow()
    window = {}

    def worker():
        window["start"] = time.perf_counter()
        sc.run()
        window["end"] = time.perf_counter()

    t = threading.Thread(target=worker)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
    t.join()
    length = window["end"] - window["start"]
    inside = [x for x in ticks if window["start"] + 0.25 * length < x < window["end"] - 0.25 * length]
    assert len(inside) > 100


def test_concurrent_runs_are_serialized_and_correct():
    # ns-3's simulator is one per process: runs from two threads take
    # turns, and each gets what it would get alone.
    sc = lossy()
    alone = sc.run(seed=5).arrays()
    results = [None, None]

    def worker(i):
        results[i] = sc.run(seed=5).arrays()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert_same(r, alone)


def test_pickle_scenario_and_result():
    sc = lossy()
    res = sc.run()
    sc2 = pickle.loads(pickle.dumps(sc))
    assert sc2 == sc
    res2 = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(res2.flows, res.flows)
    pd.testing.assert_frame_equal(res2.timeseries, res.timeseries)
    pd.testing.assert_frame_equal(res2.queue, res.queue)
    # The unpickled scenario runs to the same result.
    assert_same(sc2.run().arrays(), res.arrays())
