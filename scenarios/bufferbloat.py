"""Bottleneck queue size against delay and goodput, per congestion control."""

import quicbed

from . import _experiment as ex

DESCRIPTION = (
    "One bulk QUIC flow through a bottleneck whose queue holds queue_sizes packets (queue_disc: "
    "fifo drop-tail by default, or red, codel, fq_codel), per congestion control: the RTT the flow "
    "saw (mean and 95th percentile of the smoothed RTT), the mean queue length and the goodput. A "
    "loss-based control fills any queue (delay grows with its size); a queue below one "
    "bandwidth-delay product costs goodput."
)
PARAMS = {
    "ccs": (["newreno", "cubic", "bbr"], "congestion controls"),
    "queue_sizes": ([5, 15, 35, 100, 300], "bottleneck queue sizes (packets)"),
    "queue_disc": ("fifo", "queue discipline: fifo, red, codel or fq_codel"),
    "rate_mbps": (10.0, "bottleneck rate (Mbit/s)"),
    "rtt_ms": (40.0, "base round-trip time (ms)"),
    "duration": (15.0, "simulated seconds per run"),
    "encrypt": (False, ex.ENCRYPT_HELP),
}
WARMUP_S = 2.0  # statistics skip the first seconds: slow start's overshoot is not the steady state
# PARAMS that are lists of values are grid axes, named as run_one's arguments.
AXES = {"ccs": "cc", "queue_sizes": "queue_packets"}


def build(cc, queue_packets, queue_disc, rate_mbps, rtt_ms, duration, encrypt):
    ex.positive("rate_mbps", rate_mbps)
    ex.positive("rtt_ms", rtt_ms)
    if ex.positive("duration", duration) <= WARMUP_S:
        raise ValueError(f"duration must exceed the {WARMUP_S:g} s warm-up the statistics skip, got {duration!r}")
    sc = quicbed.Scenario(topology="p2p", rate=rate_mbps * 1e6, delay=rtt_ms / 2e3, queue_packets=queue_packets,
                          queue_disc=queue_disc, duration=duration)
    sc.add_quic_flow(cc=cc, crypto=ex.crypto_mode(encrypt))
    return sc


def run_one(cc, queue_packets, queue_disc, rate_mbps, rtt_ms, duration, encrypt, seed):
    res = build(cc, queue_packets, queue_disc, rate_mbps, rtt_ms, duration, encrypt).run(seed=seed,
                                                                                       sample_interval=0.02)
    rtt = res.timeseries.loc[res.timeseries["time"] >= WARMUP_S, "rtt"] * 1e3
    queue = res.queue.loc[res.queue["time"] >= WARMUP_S, "packets"]
    return {"goodput_mbps": ex.goodput_after(res, WARMUP_S).iloc[0] / 1e6, "rtt_mean_ms": rtt.mean(),
            "rtt_p95_ms": rtt.quantile(0.95),
            "queue_mean_packets": queue.mean(), "lost_packets": int(res.flows["lost_packets"].iloc[0])}


def summary(df):
    return ex.mean_over_seeds(df, ["cc", "queue_packets"],
                              ["goodput_mbps", "rtt_mean_ms", "rtt_p95_ms", "queue_mean_packets", "lost_packets"])


def plot(table, fig):
    delay, goodput = fig.subplots(1, 2)
    for cc, rows in table.groupby("cc", sort=False):
        line, = delay.plot(rows["queue_packets"], rows["rtt_mean_ms"], marker="o", label=f"{cc} mean")
        delay.plot(rows["queue_packets"], rows["rtt_p95_ms"], ":", marker=".", color=line.get_color(),
                   label=f"{cc} p95")
        goodput.plot(rows["queue_packets"], rows["goodput_mbps"], marker="o", label=cc)
    delay.set(xscale="log", xlabel="queue size (packets)", ylabel="smoothed RTT (ms)", title="Delay")
    goodput.set(xscale="log", xlabel="queue size (packets)", ylabel="goodput (Mbit/s)", title="Goodput",
                ylim=(0, None))
    delay.legend(ncols=2, fontsize="small")
    goodput.legend()
    for ax in (delay, goodput):
        ax.grid(True, which="both", alpha=0.3)


run = ex.runner(__name__)
