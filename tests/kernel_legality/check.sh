#!/usr/bin/env bash
# Kernel-legality check of the protocol core (design.md, "Freestanding").
# Compiles every stack/*.cpp again with the flags quic.ko builds it with and
# fails if an object
#   - does not compile under them (floating point, throw, typeid and
#     dynamic_cast are compile errors with -mgeneral-regs-only/-fno-*),
#   - references a symbol outside the core's host interface (quicbed_host_*)
#     and memcpy/memmove/memset/memcmp (plus the C++ runtime hooks the module
#     provides: __cxa_pure_virtual; and __stack_chk_fail, which the kernel
#     exports), e.g. operator new, __udivti3, __popcountdi2, __cxa_atexit,
#     soft-float helpers,
#   - has a static constructor (.init_array/.ctors: CONFIG_CONSTRUCTORS is
#     off in the kernel, so it would silently never run).
# Usage: check.sh CXX STACK_DIR
set -euo pipefail
cxx=${1:?compiler}
stack=${2:?stack dir}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags=(-std=gnu++20 -O2 -c -ffreestanding -fno-exceptions -fno-rtti
  -fno-threadsafe-statics -fno-use-cxa-atexit -mgeneral-regs-only
  -mcmodel=kernel -mno-red-zone -fno-pic -fno-asynchronous-unwind-tables
  -fno-unwind-tables -nostdlib -fstack-protector-strong -Wall -Wextra -Werror
  -I"$stack")
allowed='^(memcpy|memmove|memset|memcmp|__cxa_pure_virtual|__stack_chk_fail|quicbed_host_[A-Za-z0-9_]+)$'

mapfile -t sources < <(cd "$stack" && find . -name '*.cpp' | sort)
if [ ${#sources[@]} -eq 0 ]; then
  echo "kernel_legality: no sources under $stack" >&2
  exit 1
fi
fail=0
for src in "${sources[@]}"; do
  obj="$work/$(echo "${src#./}" | tr / _).o"
  if ! "$cxx" "${flags[@]}" "$stack/$src" -o "$obj" 2>"$work/err"; then
    echo "FAIL $src: does not compile with the kernel's flags:"
    sed 's/^/    /' "$work/err" | head -20
    fail=1
    continue
  fi
  if objdump -h "$obj" | grep -Eq '\.(init_array|ctors|preinit_array)'; then
    echo "FAIL $src: has a static constructor (.init_array/.ctors)"
    fail=1
  fi
done
# Symbols are checked on the whole core linked into one relocatable object
# (references between core files resolve there), and each offending symbol
# is traced back to the sources that use it.
if [ $fail -eq 0 ]; then
  ld -r -o "$work/core.o" "$work"/*.o
  bad=$(nm -u --format=just-symbols "$work/core.o" | grep -Ev "$allowed" || true)
  for s in $bad; do
    users=$(cd "$work" && for o in *.o; do
      if [ "$o" != core.o ] && nm -u --format=just-symbols "$o" | grep -qx -- "$s"; then echo -n "${o%.o} "; fi
    done)
    echo "FAIL undefined symbol outside the host interface: $s ($(echo "$s" | c++filt)) used by: $users"
    fail=1
  done
fi
if [ $fail -ne 0 ]; then
  echo "kernel_legality: FAILED"
  exit 1
fi
echo "kernel_legality: ${#sources[@]} core sources are kernel-legal"
