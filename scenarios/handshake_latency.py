"""Time to deliver a small request: QUIC 1-RTT, QUIC 0-RTT, and TCP + TLS 1.3, against RTT."""

import quicbed

from . import _experiment as ex

DESCRIPTION = (
    "Time from a client's connect to the server's receipt of a small request (request_bytes), "
    "against RTT: QUIC with a full 1-RTT handshake, QUIC resuming that session in 0-RTT, TCP alone "
    "(ns-3's TCP: its 1-RTT three-way handshake) and TCP + TLS 1.3. The first three are measured in "
    "one simulation per RTT on the same link; TCP + TLS 1.3 is composed: the TCP measurement plus "
    "the TLS 1.3 full handshake's duration measured as QUIC's 1-RTT handshake on that link (ns-3's "
    "TCP has no TLS), and labelled so in the 'source' column."
)
PARAMS = {
    "rtts_ms": ([10.0, 20.0, 50.0, 100.0, 200.0], "round-trip times (ms)"),
    "request_bytes": (1000, "request size (bytes), small enough to fit the first flight"),
    "rate_mbps": (100.0, "link rate (Mbit/s)"),
    "encrypt": (True, ex.ENCRYPT_HELP),
}
GAP_S = 2.0  # the connections run one after another, this far apart (plus a few RTTs), never overlapping
MEASURED = "measured"
COMPOSED = "composed"  # TCP measured + TLS 1.3's handshake measured as QUIC's 1-RTT one (DESCRIPTION)
# PARAMS that are lists of values are grid axes, named as run_one's arguments.
AXES = {"rtts_ms": "rtt_ms"}


def build(rtt_ms, request_bytes, rate_mbps, encrypt):
    ex.positive("rtts_ms", rtt_ms)
    ex.positive("rate_mbps", rate_mbps)
    if isinstance(request_bytes, bool) or not isinstance(request_bytes, int) or request_bytes < 1:
        raise ValueError(f"request_bytes must be an integer >= 1, got {request_bytes!r}")
    spacing = GAP_S + 10 * rtt_ms / 1e3
    sc = quicbed.Scenario(topology="p2p", rate=rate_mbps * 1e6, delay=rtt_ms / 2e3, queue_packets=100,
                          duration=4 * spacing)
    # The first QUIC connection's session ticket is what the second resumes in 0-RTT.
    crypto = ex.crypto_mode(encrypt)
    sc.add_quic_flow(bytes=request_bytes, start=0.0, zero_rtt=True, crypto=crypto, name="quic_1rtt")
    sc.add_quic_flow(bytes=request_bytes, start=spacing, zero_rtt=True, crypto=crypto, name="quic_0rtt")
    sc.add_tcp_flow(variant="TcpCubic", bytes=request_bytes, start=2 * spacing, name="tcp")
    return sc


def run_one(rtt_ms, request_bytes, rate_mbps, encrypt, seed):
    flows = build(rtt_ms, request_bytes, rate_mbps, encrypt).run(seed=seed).flows.set_index("name")
    rows = [{"variant": name, "handshake_ms": flows.loc[name, "handshake_time"] * 1e3,
             "delivery_ms": flows.loc[name, "completion_time"] * 1e3, "source": MEASURED}
            for name in ("quic_1rtt", "quic_0rtt", "tcp")]
    tls_ms = rows[0]["handshake_ms"]
    rows.append({"variant": "tcp_tls13", "handshake_ms": float("nan"), "delivery_ms": rows[2]["delivery_ms"] + tls_ms,
                 "source": COMPOSED})
    for row in rows:
        row["delivery_rtts"] = row["delivery_ms"] / rtt_ms
    return rows


def summary(df):
    return ex.mean_over_seeds(df, ["rtt_ms", "variant", "source"], ["handshake_ms", "delivery_ms", "delivery_rtts"])


def plot(table, fig):
    left, right = fig.subplots(1, 2)
    for variant, rows in table.groupby("variant", sort=False):
        style = "--" if rows["source"].iloc[0] == COMPOSED else "-"
        label = variant + (" (composed)" if style == "--" else "")
        left.plot(rows["rtt_ms"], rows["delivery_ms"], style, marker="o", label=label)
        right.plot(rows["rtt_ms"], rows["delivery_rtts"], style, marker="o", label=label)
    left.set(xlabel="RTT (ms)", ylabel="connect to request delivered (ms)", title="Request delivery time")
    right.set(xlabel="RTT (ms)", ylabel="in RTTs", xscale="log", title="Request delivery time / RTT")
    left.legend()
    for ax in (left, right):
        ax.grid(True, alpha=0.3)


run = ex.runner(__name__)
