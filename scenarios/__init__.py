"""quicbed's experiments: one plain Python file per scenario.

Each module has DESCRIPTION, PARAMS ({name: (default, help)}), run_one(**params, seed)
(one simulation point, the sweep task), run(out_dir, ...) (the whole grid, writing NAME.csv
and NAME.png) and summary(df) (the table the CLI prints and the plot shows). README.md's
"Python experiments" section shows how to run them; `python3 -m quicbed list` lists them.
"""

NAMES = ("loss_sweep", "rtt_bandwidth", "fairness", "handshake_latency", "bufferbloat")
DEFAULT = "loss_sweep"  # the README's main command runs it
