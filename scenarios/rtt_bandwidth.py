"""How well each congestion control fills links of several rates and RTTs."""

import quicbed

from . import _experiment as ex

DESCRIPTION = (
    "One bulk QUIC flow over a point-to-point link for each link rate x RTT x congestion control, "
    "with a drop-tail queue of queue_bdp bandwidth-delay products: link utilization (goodput / rate) "
    "and the mean smoothed RTT the flow saw, against RTT, one panel per rate."
)
PARAMS = {
    "ccs": (["newreno", "cubic", "bbr"], "congestion controls"),
    "rates_mbps": ([5.0, 20.0, 50.0], "link rates (Mbit/s)"),
    "rtts_ms": ([10.0, 50.0, 150.0], "base round-trip times (ms)"),
    "queue_bdp": (1.0, "queue size in bandwidth-delay products"),
    "duration": (10.0, "simulated seconds per run"),
    "encrypt": (False, ex.ENCRYPT_HELP),
}
# PARAMS that are lists of values are grid axes, named as run_one's arguments.
AXES = {"ccs": "cc", "rates_mbps": "rate_mbps", "rtts_ms": "rtt_ms"}


def build(rate_mbps, rtt_ms, cc, queue_bdp, duration, encrypt):
    ex.positive("rates_mbps", rate_mbps)
    ex.positive("rtts_ms", rtt_ms)
    ex.positive("queue_bdp", queue_bdp)
    sc = quicbed.Scenario(topology="p2p", rate=rate_mbps * 1e6, delay=rtt_ms / 2e3,
                          queue_packets=ex.queue_for(rate_mbps, rtt_ms, queue_bdp), duration=duration)
    sc.add_quic_flow(cc=cc, crypto=ex.crypto_mode(encrypt))
    return sc


def run_one(rate_mbps, rtt_ms, cc, queue_bdp, duration, encrypt, seed):
    res = build(rate_mbps, rtt_ms, cc, queue_bdp, duration, encrypt).run(seed=seed, sample_interval=0.05)
    flow = res.flows.iloc[0]
    return {"goodput_mbps": flow.goodput_bps / 1e6, "utilization": flow.goodput_bps / (rate_mbps * 1e6),
            "srtt_mean_ms": res.timeseries["rtt"].mean() * 1e3, "lost_packets": int(flow.lost_packets)}


def summary(df):
    return ex.mean_over_seeds(df, ["rate_mbps", "rtt_ms", "cc"],
                              ["goodput_mbps", "utilization", "srtt_mean_ms", "lost_packets"])


def plot(table, fig):
    rates = table["rate_mbps"].unique()
    axes = fig.subplots(2, len(rates), sharex=True, squeeze=False)
    for column, rate in enumerate(rates):
        at_rate = table[table["rate_mbps"] == rate]
        for cc, rows in at_rate.groupby("cc", sort=False):
            axes[0][column].plot(rows["rtt_ms"], rows["utilization"], marker="o", label=cc)
            axes[1][column].plot(rows["rtt_ms"], rows["srtt_mean_ms"], marker="o", label=cc)
        axes[0][column].set(title=f"{rate:g} Mbit/s", ylim=(0, 1.05))
        base = sorted(at_rate["rtt_ms"].unique())
        axes[1][column].plot(base, base, "k:", label="base RTT")
        axes[1][column].set(xlabel="base RTT (ms)")
    axes[0][0].set(ylabel="utilization (goodput / rate)")
    axes[1][0].set(ylabel="mean smoothed RTT (ms)")
    axes[0][0].legend()
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)


run = ex.runner(__name__)
