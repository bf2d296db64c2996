"""QUIC flows against ns-3's TCP flows through one dumbbell bottleneck: shares and Jain's index."""

import quicbed

from . import _experiment as ex

DESCRIPTION = (
    "n_quic bulk QUIC flows (one run per congestion control in quic_ccs) and n_tcp bulk flows of "
    "ns-3's own TCP (tcp_variant) share a dumbbell bottleneck with a drop-tail queue of queue_bdp "
    "bandwidth-delay products. Per flow: goodput (after the first quarter of the run) and its share; per run: Jain's fairness index over "
    "all flows (1 = equal shares) and the QUIC flows' aggregate share (fair: n_quic / (n_quic + n_tcp))."
)
PARAMS = {
    "quic_ccs": (["newreno", "cubic", "bbr"], "congestion controls of the QUIC flows (one run each)"),
    "tcp_variant": ("TcpCubic", "ns-3 TCP variant of the TCP flows (TcpNewReno, TcpCubic, TcpBbr, ...)"),
    "n_quic": (2, "QUIC flows"),
    "n_tcp": (2, "TCP flows"),
    "rate_mbps": (20.0, "bottleneck rate (Mbit/s)"),
    "rtt_ms": (40.0, "base round-trip time (ms)"),
    "queue_bdp": (1.0, "bottleneck queue in bandwidth-delay products"),
    "duration": (30.0, "simulated seconds per run"),
    "encrypt": (False, ex.ENCRYPT_HELP),
}
STAGGER_S = 0.1  # flows start this far apart so that their slow starts do not drop in lockstep
WARMUP_FRACTION = 0.25  # of the run, before goodputs are measured: every flow has left slow start
# PARAMS that are lists of values are grid axes, named as run_one's arguments.
AXES = {"quic_ccs": "quic_cc"}


def build(quic_cc, tcp_variant, n_quic, n_tcp, rate_mbps, rtt_ms, queue_bdp, duration, encrypt):
    for name, count in (("n_quic", n_quic), ("n_tcp", n_tcp)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {count!r}")
    if n_quic + n_tcp < 2:
        raise ValueError(f"fairness needs at least 2 flows, got n_quic={n_quic}, n_tcp={n_tcp}")
    ex.positive("rate_mbps", rate_mbps)
    ex.positive("rtt_ms", rtt_ms)
    ex.positive("queue_bdp", queue_bdp)
    sc = quicbed.Scenario(topology="dumbbell", rate=rate_mbps * 1e6, delay=rtt_ms / 2e3,
                          queue_packets=ex.queue_for(rate_mbps, rtt_ms, queue_bdp), duration=duration)
    for i in range(n_quic):
        sc.add_quic_flow(cc=quic_cc, crypto=ex.crypto_mode(encrypt), start=STAGGER_S * i, name=f"quic{i}")
    for i in range(n_tcp):
        sc.add_tcp_flow(variant=tcp_variant, start=STAGGER_S * (n_quic + i), name=f"tcp{i}")
    return sc


def run_one(quic_cc, tcp_variant, n_quic, n_tcp, rate_mbps, rtt_ms, queue_bdp, duration, encrypt, seed):
    res = build(quic_cc, tcp_variant, n_quic, n_tcp, rate_mbps, rtt_ms, queue_bdp, duration,
                encrypt).run(seed=seed, sample_interval=0.1)
    goodput = ex.goodput_after(res, WARMUP_FRACTION * duration)
    total = goodput.sum()
    index = ex.jain(goodput)
    quic_share = goodput[res.flows["kind"] == "quic"].sum() / total
    return [{"flow": row.name, "kind": row.kind, "goodput_mbps": goodput[row.flow] / 1e6,
             "share": goodput[row.flow] / total, "jain": index, "quic_share": quic_share,
             "utilization": total / (rate_mbps * 1e6)} for row in res.flows.itertuples()]


def summary(df):
    return ex.mean_over_seeds(df, ["quic_cc", "tcp_variant", "flow", "kind"],
                              ["goodput_mbps", "share", "jain", "quic_share", "utilization"])


def plot(table, fig):
    left, right = fig.subplots(1, 2, width_ratios=[2, 1])
    ccs = list(table["quic_cc"].unique())
    flows = list(table["flow"].unique())
    width = 0.8 / len(flows)
    for i, flow in enumerate(flows):
        rows = table[table["flow"] == flow].set_index("quic_cc").reindex(ccs)
        left.bar([c + (i - (len(flows) - 1) / 2) * width for c in range(len(ccs))], rows["goodput_mbps"],
                 width, label=flow, hatch="" if rows["kind"].iloc[0] == "quic" else "//")
    left.set(xticks=range(len(ccs)), xticklabels=[f"QUIC {cc}" for cc in ccs], ylabel="goodput (Mbit/s)",
             title=f"Per-flow goodput against {table['tcp_variant'].iloc[0]}")
    left.legend(ncols=2)
    per_run = table.drop_duplicates("quic_cc")
    right.bar(range(len(ccs)), per_run["jain"], 0.6, label="Jain index")
    right.plot(range(len(ccs)), per_run["quic_share"], "ko", label="QUIC share")
    kinds = table[table["quic_cc"] == ccs[0]]["kind"]
    right.axhline((kinds == "quic").mean(), color="k", linestyle=":", label="QUIC's fair share")
    right.set(xticks=range(len(ccs)), xticklabels=ccs, ylim=(0, 1.05), title="Fairness")
    right.legend()
    for ax in (left, right):
        ax.grid(True, axis="y", alpha=0.3)


run = ex.runner(__name__)
