#!/usr/bin/env bash
# Proves the legality check can fail: a copy of the core with one illegal
# file added (a double; a plain new; a global with a constructor; a 128-bit
# division) must be rejected, and the untouched copy accepted.
# Usage: selftest.sh CXX STACK_DIR
set -uo pipefail
cxx=${1:?compiler}
stack=${2:?stack dir}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_case() {  # name, expected (pass|fail), file body
  local name=$1 expect=$2 body=$3
  rm -rf "$work/stack" && cp -r "$stack" "$work/stack"
  # Named to sort first: the check must report it wherever it stands.
  [ -n "$body" ] && printf '%s\n' "$body" >"$work/stack/aa_illegal.cpp"
  if bash "$here/check.sh" "$cxx" "$work/stack" >"$work/out" 2>&1; then got=pass; else got=fail; fi
  if [ "$got" != "$expect" ]; then
    echo "selftest $name: expected the check to $expect, it did $got"
    cat "$work/out"
    exit 1
  fi
  if [ "$expect" = fail ] && ! grep -q 'FAIL.*aa_illegal' "$work/out"; then
    echo "selftest $name: the check failed without naming the illegal file:"
    cat "$work/out"
    exit 1
  fi
  echo "selftest $name: check did $got as expected ($(grep -m1 -E 'FAIL|legal' "$work/out" || echo 'NO MESSAGE'))"
}

run_case clean pass ""
run_case double fail 'unsigned long scale(unsigned long v) { double d = v * 0.7; return (unsigned long)d; }'
run_case plain_new fail 'struct X { int a; }; X* make_x() { return new X{1}; }'
run_case static_ctor fail 'volatile int seed = 3; struct C { C() { v = seed * 2; } int v; }; C global_c;'
run_case int128_div fail 'unsigned long div(unsigned __int128 a, unsigned long b) { return (unsigned long)(a / b); }'
echo "kernel_legality_selftest: all cases behaved"
