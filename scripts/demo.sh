#!/usr/bin/env bash
# The main job: installs what is missing, builds quicbed with its ns-3 module
# and the Python package quicbed (installed for /usr/bin/python3 by
# scripts/setup_python.sh), then runs the default experiment,
# scenarios/loss_sweep.py: goodput against random loss for NewReno, CUBIC
# and BBR next to Mathis' model, 18 simulations on a local Dask cluster.
# Prints the result table and leaves out/loss_sweep/loss_sweep.csv and
# out/loss_sweep/loss_sweep.png.
#
#   scripts/demo.sh [--PARAM VALUE ...]   e.g. --seeds 1,2,3 --losses 0.001,0.01
#
# Extra arguments go to `python3 -m quicbed run loss_sweep`
# (`python3 -m quicbed describe loss_sweep` lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
quicbed_install_deps

mkdir -p build
echo "[demo] configure build/demo"
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUICBED_TESTS=OFF >build/demo.configure.log 2>&1 ||
  { cat build/demo.configure.log; exit 1; }
# Builds the ns-3 module and the extension (target quicbed_python) and installs the package.
bash scripts/setup_python.sh build/demo

out=out/loss_sweep
echo "[demo] python3 -m quicbed run loss_sweep --out $out $*"
/usr/bin/python3 -m quicbed run loss_sweep --out "$out" --fresh "$@"
echo "[demo] done: table $PWD/$out/loss_sweep.csv, plot $PWD/$out/loss_sweep.png"
