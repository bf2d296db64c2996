"""`python3 -m quicbed list | describe NAME | run NAME [--PARAM VALUE ...]`: the experiments' command line.

A scenario's PARAMS become its options; each option's type is its default's (a list default takes
comma-separated values). Usage errors (unknown scenario or parameter, a bad value) print one line
and exit with status 2, without a traceback.
"""

import argparse
import importlib
import os
import re
import sys
import textwrap
from pathlib import Path

EXIT_USAGE = 2
EXIT_FAILED = 1
PROG = "python3 -m quicbed"


class UsageError(Exception):
    """A command line that names something that does not exist."""


def scenario_package():
    """quicbed.scenarios when installed; else the source checkout's scenarios/ above this file."""
    try:
        return importlib.import_module("quicbed.scenarios")
    except ModuleNotFoundError as e:
        if e.name != "quicbed.scenarios":
            raise
    for parent in Path(__file__).resolve().parents:
        if (parent / "scenarios" / "__init__.py").is_file() and (parent / "bindings").is_dir():
            # On sys.path (which Dask's local worker processes inherit), so that the sweep's
            # workers import the same scenarios.NAME.run_one the task names.
            if str(parent) not in sys.path:
                sys.path.insert(0, str(parent))
            return importlib.import_module("scenarios")
    raise ModuleNotFoundError("quicbed's scenarios are neither installed (quicbed.scenarios) nor in a source "
                              f"checkout above {Path(__file__).resolve().parent}")


def scenario_names():
    return list(scenario_package().NAMES)


def load_scenario(name):
    """The scenario module called name (quicbed.scenarios.NAME or, from a checkout, scenarios.NAME)."""
    package = scenario_package()
    if name not in package.NAMES:
        raise UsageError(f"unknown scenario {name!r}; known: {', '.join(package.NAMES)}")
    return importlib.import_module(f"{package.__name__}.{name}")


def _bool(text):
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _scalar_parser(default):
    if isinstance(default, bool):
        return _bool
    if isinstance(default, int):
        return _int
    if isinstance(default, float):
        return _float
    return str


def value_parser(default):
    """The argparse type of an option whose default is default (a list: comma-separated values)."""
    if not isinstance(default, (list, tuple)):
        return _scalar_parser(default)
    element = _scalar_parser(default[0]) if default else str

    def parse_list(text):
        items = [item.strip() for item in text.split(",")]
        if not all(items):
            raise argparse.ArgumentTypeError(f"expected comma-separated values, got {text!r}")
        return [element(item) for item in items]

    return parse_list


def format_value(value):
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def metavar(default):
    if isinstance(default, (list, tuple)):
        return (metavar(default[0]) if default else "VALUE") + ",..."
    return type(default).__name__.upper()


def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _scheduler(text):
    if not re.fullmatch(r"(tcp|tls)://[^/\s:]+:\d+", text):
        raise argparse.ArgumentTypeError(f"expected tcp://HOST:PORT (or tls://HOST:PORT), got {text!r}")
    return text


def run_parser(name, module):
    parser = argparse.ArgumentParser(prog=f"{PROG} run {name}", description=module.DESCRIPTION)
    params = parser.add_argument_group(f"parameters of {name}")
    for key, (default, help_text) in module.PARAMS.items():
        flags = [f"--{key}"] + ([f"--{key.replace('_', '-')}"] if "_" in key else [])
        params.add_argument(*flags, dest=key, type=value_parser(default), default=argparse.SUPPRESS,
                            metavar=metavar(default),
                            help=f"{help_text} (default: {format_value(default)})")
    options = parser.add_argument_group("run options")
    options.add_argument("--out", metavar="DIR", default=os.path.join("out", name), help="output directory (default: %(default)s)")
    options.add_argument("--seeds", metavar="N,...", type=value_parser([1]), default=[1],
                         help="comma-separated seeds; every point runs once per seed (default: 1)")
    options.add_argument("--workers", metavar="N", type=_positive_int, help="local worker processes (default: one per core)")
    options.add_argument("--scheduler", metavar="tcp://HOST:PORT", type=_scheduler,
                         help="a running Dask scheduler, tcp://HOST:PORT (its workers need quicbed installed)")
    options.add_argument("--fresh", action="store_true",
                         help="run every point again (default: a rerun into the same --out skips the points done)")
    options.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def cmd_list():
    names = scenario_names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:<{width}}  {load_scenario(name).__doc__.strip().splitlines()[0]}")
    return 0


def cmd_describe(name):
    module = load_scenario(name)
    print(name)
    print(textwrap.fill(module.DESCRIPTION, 100, initial_indent="  ", subsequent_indent="  "))
    print("\nparameters (--name value; lists are comma-separated):")
    for key, (default, help_text) in module.PARAMS.items():
        print(f"  --{key} {format_value(default)}\n      {help_text}")
    print(f"\nrun: {PROG} run {name} [--name value ...] [--out DIR] [--seeds 1,2] [--workers N] "
          "[--scheduler tcp://HOST:PORT]")
    return 0


def cmd_run(name, args):
    module = load_scenario(name)
    ns = vars(run_parser(name, module).parse_args(args))  # exits 2 on a bad option or value
    out, seeds, workers, scheduler = ns.pop("out"), ns.pop("seeds"), ns.pop("workers"), ns.pop("scheduler")
    progress, resume = not ns.pop("no_progress"), not ns.pop("fresh")
    df = module.run(out, progress=progress, workers=workers, scheduler=scheduler, seeds=seeds, resume=resume, **ns)
    print(module.summary(df).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\ntable: {os.path.join(out, name + '.csv')}\nplot:  {os.path.join(out, name + '.png')}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description="quicbed's experiments (scenarios/) on ns-3.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{list,describe,run}")
    commands.add_parser("list", help="the scenarios, one line each")
    commands.add_parser("describe", help="a scenario's description and parameters").add_argument("name")
    # run's own options depend on the scenario: parsed by run_parser (which also answers --help).
    commands.add_parser("run", help="run a scenario: run NAME [--PARAM VALUE ...] (run NAME --help)",
                        add_help=False).add_argument("name")
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.command == "list":
            return cmd_list()
        if args.command == "describe":
            return cmd_describe(args.name)
        return cmd_run(args.name, rest)
    except (UsageError, ValueError) as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (RuntimeError, OSError) as e:  # every run failed; a scheduler out of reach; a full disk
        print(f"{PROG} {args.command}: failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
