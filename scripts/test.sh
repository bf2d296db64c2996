#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the unit tests and
# the kernel-legality check, once in a normal build and once under
# AddressSanitizer + UBSan, then the Python suites (pytest) against the real
# interop peers. Prints each runner's summary and a total line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
quicbed_install_deps

jobs=$(nproc)
passed=0
failed=0
run_suite() {  # name, cmake args...
  local name=$1
  shift
  local dir="build/$name"
  echo "[test] configure $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUICBED_TESTS=ON "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
  echo "[test] build $dir"
  cmake --build "$dir" -j"$jobs" 2>&1 | grep -Ev '^\[ *[0-9]+%\] (Building|Linking)' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "[test] build failed: $dir"; exit 1; }
  echo "[test] ctest $dir"
  local log="$dir.ctest.log"
  set +e
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600) 2>&1 | tee "$log" | grep -Ev '^ *(Start|[0-9]+/[0-9]+ Test) ' 
  set -e
  local total fails
  total=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' "$log" | tail -1)
  fails=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
  if [ -z "$total" ]; then
    echo "[test] $name: ctest printed no summary"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + total - fails))
  failed=$((failed + fails))
}

run_pytest() {  # the Python suites: interop against real peers, then the Python experiments
  echo "[test] interop peers (installs and builds them when missing)"
  bash interop/peers/setup.sh
  local log=build/pytest.log
  set +e
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/interop $(ls -d tests/python 2>/dev/null) 2>&1 | tee "$log"
  set -e
  local line
  line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error).* in [0-9.]+s' "$log" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "[test] pytest printed no summary"
    failed=$((failed + 1))
    return
  fi
  local p f e
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)
  e=$(echo "$line" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+' || echo 0)
  passed=$((passed + p))
  failed=$((failed + f + e))
}

mkdir -p build
run_suite default -DQUICBED_SANITIZE=OFF
run_suite asan -DQUICBED_SANITIZE=ON
bash scripts/setup_python.sh build/default  # import quicbed for tests/python
run_pytest
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
