"""quicbed: QUIC experiments in ns-3 from Python.

    import quicbed
    sc = quicbed.Scenario(topology="dumbbell", rate="10Mbps", delay="20ms")
    sc.add_quic_flow(cc="bbr")
    sc.add_tcp_flow(variant="TcpCubic")
    res = sc.run(seed=1)
    res.flows, res.timeseries, res.queue

The simulation is quicbed's QUIC core in ns-3 (the ns-3 module `quic`),
through the C++ extension quicbed._core; see bindings/README.md.
"""

from ._core import tcp_variants
from .scenario import DropList, GilbertElliott, RandomLoss, Result, Scenario, parse_rate, parse_time

__all__ = ["Scenario", "Result", "RandomLoss", "GilbertElliott", "DropList", "tcp_variants",
           "parse_rate", "parse_time"]
