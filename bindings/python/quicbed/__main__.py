"""`python3 -m quicbed`: the experiments' command line (cli.py)."""

import sys

from .cli import main

sys.exit(main())
