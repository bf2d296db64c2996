#!/bin/bash
# Builds the libFuzzer targets with clang in a build directory of their own
# and runs each on its seed corpus (tests/fuzz/README.md).
#
#   run.sh [--seconds N] [--jobs J] BUILD_DIR [TARGET...]
#       each target (default: all) for N seconds (default 5) on a scratch
#       copy of its corpus; fails on any crash, leak, timeout or sanitizer
#       report. This is ctest's fuzz_smoke.
#   run.sh --long N BUILD_DIR [TARGET...]
#       the same for N seconds each, one after the other, keeping what the
#       fuzzer found in BUILD_DIR/corpus/<target> for the next run and
#       crashes in BUILD_DIR/artifacts/.
#   run.sh --regen-corpus BUILD_DIR
#       rewrites tests/fuzz/corpus/ from make_corpus (regression
#       reproducers under corpus/<target>/regress-* are kept).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
seconds=5
mode=smoke
case "${1:-}" in
  --seconds) seconds=$2; shift 2 ;;
  --long) mode=long; seconds=$2; shift 2 ;;
  --regen-corpus) mode=regen; shift ;;
esac
[ $# -ge 1 ] || { sed -n '2,18p' "$0"; exit 2; }
build=$1
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(varint packet_header frame transport_params ack_ranges reassembly conn_recv endpoint_initial)

cxx=$(command -v clang++-14 || command -v clang++ || true)
[ -n "$cxx" ] || { echo "run.sh: clang++-14 not found (scripts/deps.sh installs it)"; exit 1; }
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=None >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
if [ $mode = regen ]; then
  build_targets=(make_corpus)
else
  build_targets=("${targets[@]/%/_fuzz}")
fi
nice -n 10 cmake --build "$build" -j2 --target "${build_targets[@]}" >"$build/build.log" 2>&1 ||
  { tail -50 "$build/build.log"; exit 1; }

if [ $mode = regen ]; then
  for t in "${targets[@]}"; do
    mkdir -p "$here/corpus/$t"
    find "$here/corpus/$t" -type f ! -name 'regress-*' -delete
  done
  "$build/make_corpus" "$here/corpus"
  exit 0
fi

# Leaks are reported by the targets' own checks and by LeakSanitizer.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  if [ $mode = long ]; then
    work="$build/corpus/$t"
    mkdir -p "$work" "$build/artifacts"
    prefix="$build/artifacts/$t-"
  else
    work=$(mktemp -d)
    mkdir -p "$build/artifacts"
    prefix="$build/artifacts/$t-"
  fi
  log="$build/$t.log"
  # New inputs go to the first directory only: the seeds stay as they are.
  if nice -n 10 "$build/${t}_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$prefix" "$work" "$here/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "$t: ok, $runs executions in ${seconds}s"
  else
    echo "$t: FAILED (log: $log)"
    grep -E 'ERROR|SUMMARY|runtime error|invariant|Test unit written' "$log" | head -20
    status=1
  fi
  [ $mode = long ] || rm -rf "$work"
done
exit $status
