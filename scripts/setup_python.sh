#!/usr/bin/env bash
# Builds the Python package quicbed (bindings/) in a build directory and
# installs it into /usr/bin/python3's site-packages, so that
# `/usr/bin/python3 -c "import quicbed"` works from any directory without
# PYTHONPATH. scripts/test.sh and scripts/demo.sh call it after their build.
#
#   scripts/setup_python.sh [BUILD_DIR]     (default: build/default)
#
# DESTDIR=/some/root installs under that root instead (a trial install).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/default}

if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "[python] configure $build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
site=$(cmake -L -N "$build" 2>/dev/null | sed -n 's/^QUICBED_PYTHON_SITE:PATH=//p')
if [ -z "$site" ]; then
  echo "[python] $build has no Python bindings: they need ns-3 (libns3-dev ns3) and pybind11-dev (scripts/deps.sh)"
  exit 1
fi
echo "[python] build quicbed ($build)"
cmake --build "$build" -j"$(nproc)" --target quicbed_python 2>&1 | grep -Ev '^\[ *[0-9]+%\] (Building|Linking|Built)' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "[python] build failed"; exit 1; }
# A fresh copy: files removed from the package must not linger.
rm -rf "${DESTDIR:-}$site/quicbed"
cmake --install "$build" --component python >/dev/null
if [ -z "${DESTDIR:-}" ]; then
  (cd / && /usr/bin/python3 -c "import quicbed") || { echo "[python] import quicbed failed after install"; exit 1; }
fi
echo "[python] quicbed installed in ${DESTDIR:-}$site/quicbed"
