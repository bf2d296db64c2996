"""Scenarios: a network, its flows, and a run of it in ns-3 (quicbed._core).

A Scenario is plain data (picklable, comparable); run() validates it, hands
it to the C++ extension, which builds the ns-3 simulation with quicbed's
QUIC module and runs it without holding the GIL, and wraps the columns it
returns in a Result of pandas DataFrames.
"""

import math
import numbers
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _core

TOPOLOGIES = ("p2p", "dumbbell", "parking_lot")
QUEUE_DISCS = ("fifo", "red", "codel", "fq_codel")
QUIC_CCS = ("newreno", "cubic", "bbr")
CRYPTO_MODES = ("gnutls", "null")
# QUIC versions: 1 (RFC 9000) and 2 (RFC 9369, 0x6b3343cf on the wire).
QUIC_VERSIONS = {1: 1, 2: 0x6B3343CF}
# Initial congestion window in packets: the core's bounds (ConnectionConfig,
# RFC 9002 §7.2 default 10), which the ns-3 attribute checker also enforces.
INITIAL_WINDOW_RANGE = (2, 1001)  # [low, high)
# Byte counts and flow-control limits are QUIC varints (RFC 9000 §16).
_MAX_VARINT = 2**62
# Samples per flow a run may record (memory: 7 doubles each).
MAX_SAMPLES = 10**6

_RATE_UNITS = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}
_RATE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKMG]?)(?:bps|bit/s|b/s)\s*$")
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_TIME_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(s|ms|us|ns)\s*$")


def _number(what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return value


def _integer(what, value, minimum, limit=2**32):
    """An integer in [minimum, limit): the limits are those of the C++ side."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    if value >= limit:
        raise ValueError(f"{what} must be < {limit}, got {value}")
    return int(value)


def _probability(what, value):
    p = _number(what, value)
    if not 0 <= p <= 1:
        raise ValueError(f"{what} must be a probability in [0, 1], got {p}")
    return p


def _choice(what, value, choices):
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; one of {', '.join(choices)}")
    return value


def _quantity(value, what, pattern, units, example):
    """A number, or a string of a number and a unit of `units`."""
    if not isinstance(value, str):
        return _number(what, value)
    m = pattern.match(value)
    if not m:
        raise ValueError(f"{what} {value!r} is not {example}")
    return float(m.group(1)) * units[m.group(2)]


def parse_rate(value, what="rate"):
    """Bits per second from a number (bps) or a string like "10Mbps"."""
    bps = _quantity(value, what, _RATE_RE, _RATE_UNITS, "a rate such as '10Mbps', '500kbps' or 1e6 (bps)")
    if bps <= 0:
        raise ValueError(f"{what} must be positive, got {value!r}")
    return bps


def parse_time(value, what="time"):
    """Seconds from a number (s) or a string like "20ms"."""
    seconds = _quantity(value, what, _TIME_RE, _TIME_UNITS, "a time such as '20ms', '1.5s' or 0.02 (seconds)")
    if seconds < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return seconds


@dataclass(frozen=True)
class RandomLoss:
    """Each packet crossing a bottleneck link is lost with probability p
    (ns-3's RateErrorModel, per packet)."""

    p: float

    def __post_init__(self):
        p = _probability("RandomLoss p", self.p)
        if p >= 1:
            raise ValueError("RandomLoss p must be < 1 (nothing would arrive)")
        object.__setattr__(self, "p", p)

    def _spec(self):
        return {"kind": "random", "p": self.p}


@dataclass(frozen=True)
class GilbertElliott:
    """Bursty loss: a two-state Markov chain stepped per packet, Good -> Bad
    with p_gb and Bad -> Good with p_bg; a packet is lost with loss_good in
    Good and loss_bad in Bad (ns3-module QuicGilbertElliottErrorModel)."""

    p_gb: float
    p_bg: float
    loss_good: float = 0.0
    loss_bad: float = 1.0

    def __post_init__(self):
        for name in ("p_gb", "p_bg", "loss_good", "loss_bad"):
            object.__setattr__(self, name, _probability(f"GilbertElliott {name}", getattr(self, name)))
        if self.p_bg == 0 and self.p_gb > 0 and self.loss_bad >= 1:
            raise ValueError("GilbertElliott with p_bg = 0 and loss_bad = 1 ends in a state that loses everything")

    def _spec(self):
        return {"kind": "gilbert_elliott", "p_gb": self.p_gb, "p_bg": self.p_bg,
                "loss_good": self.loss_good, "loss_bad": self.loss_bad}


@dataclass(frozen=True)
class DropList:
    """Drops the packets with these 0-based indices, counted in the order
    they arrive over each bottleneck link in the data direction (all the
    packets of all flows that cross the link that way; ns-3's
    ReceiveListErrorModel)."""

    packets: tuple = field(default_factory=tuple)

    def __post_init__(self):
        if isinstance(self.packets, (str, bytes)) or not hasattr(self.packets, "__iter__"):
            raise TypeError(f"DropList packets must be a list of packet indices, got {self.packets!r}")
        packets = tuple(_integer("DropList packet index", i, 0) for i in self.packets)
        object.__setattr__(self, "packets", tuple(sorted(set(packets))))

    def _spec(self):
        return {"kind": "drop_list", "packets": list(self.packets)}


class Scenario:
    """A network (topology and its bottleneck links) and the flows on it.

    topology: "p2p" (two nodes, one link; every flow goes from the first to
        the second), "dumbbell" (flow i from left leaf i through the
        bottleneck to right leaf i) or "parking_lot" (`hops` bottleneck
        links in a line; flow 0 crosses all, flow k >= 1 only link
        (k-1) mod hops).
    rate, delay: each bottleneck link's rate (bps or "10Mbps") and one-way
        delay (s or "20ms"). Access links are 10x faster with no delay, so
        a dumbbell flow's base RTT is 2 * delay.
    queue_packets, queue_disc: the queue in front of each bottleneck link
        (both directions), an ns-3 traffic-control queue disc; RED, CoDel
        and FQ-CoDel mark ECN-capable packets instead of dropping them.
    loss: None, RandomLoss, GilbertElliott or DropList, applied where each
        bottleneck link delivers packets in the data direction.
    duration: simulated seconds.
    """

    def __init__(self, topology="p2p", rate="10Mbps", delay="20ms", queue_packets=100, queue_disc="fifo",
                 loss=None, duration=10.0, hops=None):
        self.topology = _choice("topology", topology, TOPOLOGIES)
        self.rate = parse_rate(rate, "rate")
        self.delay = parse_time(delay, "delay")
        self.queue_packets = _integer("queue_packets", queue_packets, 1)
        self.queue_disc = _choice("queue_disc", queue_disc, QUEUE_DISCS)
        if loss is not None and not isinstance(loss, (RandomLoss, GilbertElliott, DropList)):
            raise TypeError(f"loss must be None, RandomLoss, GilbertElliott or DropList, got {loss!r}")
        self.loss = loss
        self.duration = parse_time(duration, "duration")
        if self.duration <= 0:
            raise ValueError(f"duration must be positive, got {duration!r}")
        if topology == "parking_lot":
            self.hops = 3 if hops is None else _integer("hops", hops, 1, 1000)
        elif hops is not None:
            raise ValueError(f"hops is for the parking_lot topology only, not {topology!r}")
        else:
            self.hops = 1
        self.flows = []

    def __repr__(self):
        return (f"Scenario(topology={self.topology!r}, rate={self.rate:g}, delay={self.delay:g}, "
                f"queue_packets={self.queue_packets}, queue_disc={self.queue_disc!r}, loss={self.loss!r}, "
                f"duration={self.duration:g}, hops={self.hops}, flows={len(self.flows)})")

    def __eq__(self, other):
        return isinstance(other, Scenario) and self.__dict__ == other.__dict__

    def _add(self, kind, name, start, bytes_, **options):
        if name is None:
            name = f"{kind}{len(self.flows)}"
        elif not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        start = parse_time(start, "start")
        if bytes_ is not None:
            bytes_ = _integer("bytes", bytes_, 1, _MAX_VARINT)
        flow = {"kind": kind, "name": name, "start": start, "bytes": bytes_}
        flow.update(options)
        self.flows.append(flow)
        return len(self.flows) - 1

    def add_quic_flow(self, cc="cubic", bytes=None, start=0.0, zero_rtt=False, ecn=True, datagrams=False,
                      crypto="gnutls", max_data=None, max_stream_data=None, initial_window=10, version=1,
                      name=None):
        """A QUIC flow (quicbed's core in ns-3): `bytes` (None: send until the
        run ends) from the flow's sender to its receiver, starting at `start`.
        zero_rtt: a first connection at time 0 fetches a session ticket, and
        the flow's connection resumes it and sends in 0-RTT (so start must be
        after that handshake, about 2 RTTs). datagrams: the data travels in
        DATAGRAM frames (RFC 9221), unreliably. crypto "null": real TLS
        handshake, packets unencrypted (fast sweeps). max_data,
        max_stream_data: flow-control windows (bytes). Returns the flow's
        index."""
        cc = _choice("QUIC congestion control (cc)", cc.lower() if isinstance(cc, str) else cc, QUIC_CCS)
        for what, flag in (("zero_rtt", zero_rtt), ("ecn", ecn), ("datagrams", datagrams)):
            if not isinstance(flag, bool):
                raise TypeError(f"{what} must be True or False, got {flag!r}")
        crypto = _choice("crypto mode", crypto, CRYPTO_MODES)
        for what, window in (("max_data", max_data), ("max_stream_data", max_stream_data)):
            if window is not None:
                _integer(what, window, 1200, _MAX_VARINT)
        initial_window = _integer("initial_window", initial_window, *INITIAL_WINDOW_RANGE)
        if isinstance(version, bool) or version not in QUIC_VERSIONS:
            raise ValueError(f"QUIC version must be 1 or 2, got {version!r}")
        if zero_rtt and parse_time(start, "start") == 0:
            raise ValueError("zero_rtt needs start > 0: the session ticket comes from a first connection "
                             "made at time 0 (start after about 2 RTTs)")
        return self._add("quic", name, start, bytes, cc=cc, zero_rtt=zero_rtt, ecn=ecn, datagrams=datagrams,
                         crypto=crypto, max_data=max_data, max_stream_data=max_stream_data,
                         initial_window=initial_window, version=QUIC_VERSIONS[version])

    def add_tcp_flow(self, variant="TcpCubic", bytes=None, start=0.0, name=None):
        """A TCP flow of ns-3's own TCP with one of its congestion controls
        (quicbed.tcp_variants(): TcpNewReno, TcpCubic, TcpBbr, ...)."""
        if not isinstance(variant, str):
            raise TypeError(f"TCP variant must be a string, got {variant!r}")
        variant = variant[5:] if variant.startswith("ns3::") else variant
        known = _core.tcp_variants()
        if variant not in known:
            raise ValueError(f"unknown ns-3 TCP variant {variant!r}; one of {', '.join(sorted(known))}")
        return self._add("tcp", name, start, bytes, variant=variant)

    def add_udp_onoff(self, rate="2Mbps", on=1.0, off=1.0, start=0.0, name=None):
        """Unresponsive UDP cross traffic: `rate` while on, silent while off
        (ns-3's OnOffApplication, constant on/off periods, 1200-byte
        payloads)."""
        rate = parse_rate(rate, "UDP rate")
        on = parse_time(on, "on")
        if on <= 0:
            raise ValueError("on must be positive")
        off = parse_time(off, "off")
        return self._add("udp", name, start, None, rate=rate, on=on, off=off)

    def spec(self):
        """The scenario as the plain dict quicbed._core.run() takes."""
        if not self.flows:
            raise ValueError("the scenario has no flows: add_quic_flow, add_tcp_flow or add_udp_onoff first")
        for f in self.flows:
            if f["start"] >= self.duration:
                raise ValueError(f"flow {f['name']!r} starts at {f['start']:g} s, not before the end of the "
                                 f"run ({self.duration:g} s)")
        return {"topology": self.topology, "rate": self.rate, "delay": self.delay,
                "queue_packets": self.queue_packets, "queue_disc": self.queue_disc,
                "loss": self.loss._spec() if self.loss is not None else {"kind": "none"},
                "duration": self.duration, "hops": self.hops, "flows": [dict(f) for f in self.flows]}

    def run(self, seed=1, run=1, sample_interval=0.01, qlog_dir=None, pcap_dir=None):
        """Runs the scenario in ns-3 (without the GIL; one simulation at a
        time per process) and returns a Result. The same (scenario, seed,
        run) gives identical results, also within one process."""
        seed = _integer("seed", seed, 1)
        run = _integer("run", run, 1, 2**64)
        sample_interval = parse_time(sample_interval, "sample_interval")
        spec = self.spec()
        if not 0 < sample_interval <= self.duration:
            raise ValueError(f"sample_interval must be in (0, duration], got {sample_interval:g}")
        if self.duration / sample_interval > MAX_SAMPLES:
            raise ValueError(f"sample_interval {sample_interval:g} s gives more than {MAX_SAMPLES} samples "
                             f"per flow over {self.duration:g} s")
        qlog_dir = _output_dir("qlog_dir", qlog_dir)
        pcap_dir = _output_dir("pcap_dir", pcap_dir)
        qlog_before = _qlog_files(qlog_dir)
        columns = _core.run(spec, seed, run, sample_interval, qlog_dir or "", pcap_dir or "")
        qlog_files = sorted(p for p, stamp in _qlog_files(qlog_dir).items() if qlog_before.get(p) != stamp)
        return Result(self, seed, run, columns, qlog_files)


def _output_dir(what, path):
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path, got {path!r}")
    path = os.path.abspath(os.fspath(path))
    os.makedirs(path, exist_ok=True)
    return path


def _qlog_files(directory):
    """{path: (mtime, size)} of the qlog files in directory (runs with the
    same seed write the same file names)."""
    if directory is None:
        return {}
    out = {}
    for entry in os.scandir(directory):
        if entry.name.endswith(".sqlog"):
            st = entry.stat()
            out[entry.path] = (st.st_mtime_ns, st.st_size)
    return out


class Result:
    """What a run gives: three DataFrames and the output files.

    flows: one row per flow: flow, name, kind, cc (QUIC's cc, TCP's variant),
        start, bytes (delivered), goodput_bps (delivered bits over the time
        from start to completion, or to the end of the run), completion_time
        and first_byte_time (s after start, NaN if it did not happen),
        handshake_time (QUIC: Connect() to handshake done; NaN otherwise),
        lost_packets (the flow's data packets dropped by a bottleneck queue
        or loss model), declared_lost (QUIC's loss detection), and
        retransmissions (TCP: segments sent again; QUIC: packets declared
        lost, whose frames go out again in new packets).
    timeseries: flow, time, cwnd (bytes), rtt (smoothed, s),
        bytes_in_flight, pacing_rate (bps), delivered (bytes at the
        receiver); every sample_interval from 0, and at the end; NaN before the sender's
        first report and for UDP.
    queue: link (bottleneck link index), time, packets, bytes queued in
        front of the link in the data direction; drops and marks (ECN CE)
        by its queue disc so far.
    """

    def __init__(self, scenario, seed, run, columns, qlog_files):
        self.scenario = scenario
        self.seed = seed
        self.run = run
        flows = scenario.flows
        meta = {
            "flow": np.arange(len(flows), dtype=np.uint32),
            "name": np.array([f["name"] for f in flows], dtype=object),
            "kind": np.array([f["kind"] for f in flows], dtype=object),
            "cc": np.array([f.get("cc", f.get("variant", "")) for f in flows], dtype=object),
            "start": np.array([f["start"] for f in flows], dtype=float),
        }
        self.flows = pd.DataFrame({**meta, **columns["flows"]})
        self.timeseries = pd.DataFrame(columns["timeseries"])
        self.queue = pd.DataFrame(columns["queue"])
        self.qlog_files = qlog_files
        self.pcap_files = list(columns["pcap_files"])
        self.keylog_file = columns["keylog_file"] or None

    def arrays(self):
        """The same data as NumPy arrays: {"flows.goodput_bps": array, ...,
        "timeseries.cwnd": ..., "queue.packets": ...}."""
        out = {}
        for table in ("flows", "timeseries", "queue"):
            frame = getattr(self, table)
            for column in frame.columns:
                out[f"{table}.{column}"] = frame[column].to_numpy()
        return out

    def __repr__(self):
        return (f"<quicbed.Result seed={self.seed} run={self.run}: {len(self.flows)} flows, "
                f"{len(self.timeseries)} samples>")
