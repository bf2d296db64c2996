"""The environment of a child process (the CLI, a notebook kernel) that must import the same
quicbed as this test process, wherever that came from (a build tree on PYTHONPATH or the
installed package)."""

import os
from pathlib import Path

import quicbed

PACKAGE_PARENT = Path(list(quicbed.__path__)[0]).resolve().parent


def child_env(**extra):
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
    return env
