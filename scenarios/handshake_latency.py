"""Time to deliver a small request: QUIC 1-RTT, QUIC 0-RTT, and TCP + TLS 1.3, against RTT."""

import tempfile

import quicbed

from . import _experiment as ex
from . import _qlog

DESCRIPTION = (
    "Time from a client's connect until the server has a small request (request_bytes), against RTT: "
    "QUIC with a full 1-RTT handshake, QUIC resuming an earlier session in 0-RTT, TCP alone (ns-3's "
    "TCP, its three-way handshake) and TCP + TLS 1.3. QUIC's time is when the server's QUIC stack "
    "has received the request (from the server's qlog); app_delivery_ms is when the server application "
    "has it (ns-3's QUIC socket hands 0-RTT data over on arrival). "
    "QUIC and TCP are measured in one simulation per RTT on the same link; ns-3's TCP has no TLS, so "
    "TCP + TLS 1.3 is composed: the TCP measurement plus TLS 1.3's full handshake measured as QUIC's "
    "1-RTT handshake on that link, marked 'composed' in the source column."
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
    crypto = ex.crypto_mode(encrypt)
    sc.add_quic_flow(bytes=request_bytes, start=spacing, crypto=crypto, name="quic_1rtt")
    # zero_rtt: a first connection at time 0 fetches the session ticket this one resumes.
    sc.add_quic_flow(bytes=request_bytes, start=2 * spacing, zero_rtt=True, crypto=crypto, name="quic_0rtt")
    sc.add_tcp_flow(variant="TcpCubic", bytes=request_bytes, start=3 * spacing, name="tcp")
    return sc


def run_one(rtt_ms, request_bytes, rate_mbps, encrypt, seed):
    sc = build(rtt_ms, request_bytes, rate_mbps, encrypt)
    with tempfile.TemporaryDirectory(prefix="quicbed-handshake-") as qlog_dir:
        res = sc.run(seed=seed, qlog_dir=qlog_dir)
        arrivals = _qlog.stream_arrivals(res.qlog_files, request_bytes)
    rows = {}
    for flow in res.flows.itertuples():
        if flow.kind == "quic":  # the connection that started when the flow did
            arrival = next(t for start, t in arrivals.items() if abs(start - flow.start) < 1e-6) - flow.start
        else:  # TCP hands in-order bytes to the application as they arrive
            arrival = flow.completion_time
        rows[flow.name] = {"variant": flow.name, "handshake_ms": flow.handshake_time * 1e3,
                           "request_ms": arrival * 1e3, "app_delivery_ms": flow.completion_time * 1e3,
                           "source": MEASURED}
    tls_ms = rows["quic_1rtt"]["handshake_ms"]  # TLS 1.3's full handshake, as QUIC's 1-RTT connection measured it
    tcp = rows["tcp"]
    rows["tcp_tls13"] = {"variant": "tcp_tls13", "handshake_ms": float("nan"), "request_ms": tcp["request_ms"] + tls_ms,
                         "app_delivery_ms": tcp["app_delivery_ms"] + tls_ms, "source": COMPOSED}
    for row in rows.values():
        row["request_rtts"] = row["request_ms"] / rtt_ms
    return list(rows.values())


def summary(df):
    return ex.mean_over_seeds(df, ["rtt_ms", "variant", "source"],
                              ["request_ms", "request_rtts", "app_delivery_ms", "handshake_ms"])


def plot(table, fig):
    left, right = fig.subplots(1, 2)
    for (variant, rows), marker in zip(table.groupby("variant", sort=False), "os^D"):
        style = "--" if rows["source"].iloc[0] == COMPOSED else "-"
        label = variant + (" (composed)" if style == "--" else "")
        left.plot(rows["rtt_ms"], rows["request_ms"], style, marker=marker, label=label)
        right.plot(rows["rtt_ms"], rows["request_rtts"], style, marker=marker, label=label)
    left.set(xlabel="RTT (ms)", ylabel="connect to request at the server (ms)", title="Request latency")
    right.set(xlabel="RTT (ms)", ylabel="in RTTs", xscale="log", ylim=(0, None), title="Request latency / RTT")
    left.legend()
    for ax in (left, right):
        ax.grid(True, alpha=0.3)


run = ex.runner(__name__)
