"""Goodput against random loss for each congestion control, next to Mathis' model."""

import math

import quicbed

from . import _experiment as ex

DESCRIPTION = (
    "Goodput of one bulk QUIC flow against random loss (each data packet lost with probability p) for "
    "NewReno, CUBIC and BBR, next to "
    "Mathis et al.'s model C*MSS/(RTT*sqrt(p)) with C = sqrt(3/2). The link is fast and its queue "
    "large, so that loss and not the link limits the flow (the model's assumption): loss-based "
    "controls follow the model's slope, BBR does not back off on random loss. Goodput is measured "
    "after the first fifth of each run, when slow start is over."
)
PARAMS = {
    "ccs": (["newreno", "cubic", "bbr"], "congestion controls"),
    "losses": ([0.001, 0.002, 0.005, 0.01, 0.02, 0.05], "packet loss probabilities, each in (0, 1)"),
    "rtt_ms": (50.0, "base round-trip time (ms)"),
    "rate_mbps": (20.0, "link rate (Mbit/s); keep it above the model's rate at the smallest loss"),
    "duration": (30.0, "simulated seconds per run"),
    "encrypt": (False, ex.ENCRYPT_HELP),
}
# PARAMS that are lists of values are grid axes, named as run_one's arguments.
AXES = {"ccs": "cc", "losses": "loss"}
MATHIS_C = math.sqrt(1.5)  # periodic loss, one ACK per packet (Mathis et al. 1997, eq. 3)
WARMUP_FRACTION = 0.2  # of the run, before goodput is measured: slow start's overshoot is not the model


def mathis_bps(loss, rtt_ms):
    return MATHIS_C * ex.MSS_BYTES * 8 / (rtt_ms / 1e3 * math.sqrt(loss))


def build(cc, loss, rtt_ms, rate_mbps, duration, encrypt):
    if isinstance(loss, bool) or not isinstance(loss, (int, float)) or not 0 < loss < 1:
        raise ValueError(f"losses: each must be in (0, 1) (Mathis' model has no rate at 0), got {loss!r}")
    ex.positive("rtt_ms", rtt_ms)
    ex.positive("rate_mbps", rate_mbps)
    sc = quicbed.Scenario(topology="p2p", rate=rate_mbps * 1e6, delay=rtt_ms / 2e3,
                          queue_packets=ex.queue_for(rate_mbps, rtt_ms, 4),
                          loss=quicbed.RandomLoss(loss), duration=duration)
    sc.add_quic_flow(cc=cc, crypto=ex.crypto_mode(encrypt))
    return sc


def run_one(cc, loss, rtt_ms, rate_mbps, duration, encrypt, seed):
    res = build(cc, loss, rtt_ms, rate_mbps, duration, encrypt).run(seed=seed, sample_interval=0.1)
    flow = res.flows.iloc[0]
    goodput = ex.goodput_after(res, WARMUP_FRACTION * duration).iloc[0]
    model = mathis_bps(loss, rtt_ms)
    return {"goodput_mbps": goodput / 1e6, "mathis_mbps": model / 1e6, "goodput_over_mathis": goodput / model,
            "lost_packets": int(flow.lost_packets), "retransmissions": int(flow.retransmissions)}


def summary(df):
    return ex.mean_over_seeds(df, ["cc", "loss"], ["goodput_mbps", "mathis_mbps", "goodput_over_mathis",
                                                   "lost_packets"])


def plot(table, fig):
    ax = fig.subplots()
    for cc, rows in table.groupby("cc", sort=False):
        ax.plot(rows["loss"], rows["goodput_mbps"], marker="o", label=cc)
    model = table.drop_duplicates("loss").sort_values("loss")
    ax.plot(model["loss"], model["mathis_mbps"], "k--", label="Mathis C·MSS/(RTT·√p)")
    ax.set(xscale="log", yscale="log", xlabel="loss probability p", ylabel="goodput (Mbit/s)",
           title="Goodput against random loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()


run = ex.runner(__name__)
