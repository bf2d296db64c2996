"""What every scenario does around its simulations.

A scenario module supplies PARAMS, AXES (which of PARAMS are lists of values, and the name
of run_one's argument each value goes to), build(**point) (the quicbed.Scenario of one
point of the grid), run_one(**point, seed), summary(df) and plot(table, fig).
run_scenario checks the parameters by building every point before anything runs (so a
bad value is a ValueError at once, not a failed task per point), runs the grid through
quicbed.sweep, and writes NAME.csv (one row per run) and NAME.png into the output
directory.
"""

import math
import os
import sys


def resolve(name, spec, given):
    """The full parameter set: the given values over PARAMS' defaults; unknown names refused."""
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ValueError(f"{name}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(spec)}")
    return {key: given.get(key, default) for key, (default, _help) in spec.items()}


ENCRYPT_HELP = ("true: GnuTLS packet protection; false: packets in clear behind the same real TLS "
                "handshake (ns-3 module's NullCipherForSweeps: faster, same packet sizes)")


def crypto_mode(encrypt):
    """The Scenario's crypto= for a scenario's encrypt parameter."""
    if not isinstance(encrypt, bool):
        raise ValueError(f"encrypt must be true or false, got {encrypt!r}")
    return "gnutls" if encrypt else "null"


def positive(param, value):
    """value, when it is a number > 0 (durations, rates, RTTs the model divides by)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{param} must be a number > 0, got {value!r}")
    return value


# RFC 9002 §7.2 counts windows in max_datagram_size units: the ns-3 module's default
# MaxDatagramSize (UDP payload) is the packet size of queues sized in BDPs and of Mathis' MSS.
MSS_BYTES = 1452


def queue_for(rate_mbps, rtt_ms, bdp_multiple):
    """Queue size in packets: bdp_multiple bandwidth-delay products of full-size packets (at least 2)."""
    bdp_packets = rate_mbps * 1e6 * rtt_ms / 1e3 / 8 / MSS_BYTES
    return max(2, int(math.ceil(bdp_multiple * bdp_packets)))


def goodput_after(res, t0):
    """Each flow's goodput (bit/s) from simulated time t0 to the end of the run, from its delivered
    bytes: the steady state, without the slow start the whole-run goodput_bps includes."""
    ts = res.timeseries[res.timeseries["time"] >= t0].groupby("flow")
    first, last = ts.first(), ts.last()
    return (last["delivered"] - first["delivered"]) * 8 / (last["time"] - first["time"])


def jain(values):
    """Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when all are equal, 1/n when one takes all."""
    values = list(values)
    squares = sum(v * v for v in values)
    return sum(values) ** 2 / (len(values) * squares) if squares > 0 else float("nan")


def mean_over_seeds(df, keys, columns):
    """One row per grid point (keys, in grid order): the mean of columns over seeds, and how many seeds."""
    grouped = df.groupby(keys, sort=False)
    table = grouped[columns].mean()
    table["seeds"] = grouped["seed"].nunique()
    return table.reset_index()


def runner(module_name):
    """The run() of the scenario module module_name (the contract's signature)."""

    def run(out_dir, progress=True, workers=None, scheduler=None, seeds=(1,), resume=True, **params):
        """Runs the grid of params (PARAMS' defaults for the others) for each seed; returns one row per run.
        With resume, runs already recorded in out_dir (by an interrupted or earlier call) are not redone."""
        return run_scenario(sys.modules[module_name], out_dir, progress=progress, workers=workers,
                            scheduler=scheduler, seeds=seeds, resume=resume, params=params)

    return run


def run_scenario(module, out_dir, *, progress, workers, scheduler, seeds, resume, params):
    # Imported here, not above: Dask and matplotlib take seconds to import, which `quicbed list`
    # and `describe` (and the sweep's workers, which only call run_one) do not need.
    from matplotlib.figure import Figure  # not pyplot: no global backend switch, notebooks keep theirs

    from quicbed import sweep

    name = module.__name__.rsplit(".", 1)[-1]
    params = resolve(name, module.PARAMS, params)
    points = sweep.grid(**{module.AXES.get(key, key): value for key, value in params.items()})
    for point in points:
        module.build(**point)
    os.makedirs(out_dir, exist_ok=True)
    runs_dir = os.path.join(out_dir, "runs")  # the sweep's incremental results: a rerun resumes
    df = sweep.run(module.run_one, points, seeds=seeds, out=runs_dir, workers=workers,
                   scheduler=scheduler, progress=progress, resume=resume)
    if df.empty:
        raise RuntimeError(f"{name}: every run failed; the errors are in {os.path.join(runs_dir, 'failed.csv')}")
    df.to_csv(os.path.join(out_dir, f"{name}.csv"), index=False)
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    module.plot(module.summary(df), fig)
    fig.savefig(os.path.join(out_dir, f"{name}.png"), dpi=110)
    return df
