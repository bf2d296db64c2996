#!/usr/bin/env bash
# `cmake --install` of a build tree into a temporary prefix: every core header
# keeps its stack/ path under include/quicbed/, the userspace headers, the
# archives, the pkg-config file and (when built) the program are there, and
# tiny.cpp compiled against the installed tree alone links and runs.
# Usage: check.sh BUILD_DIR SOURCE_DIR CXX LIBDIR [EXTRA_CXXFLAGS...]
set -euo pipefail
build=$1 src=$2 cxx=$3 libdir=$4
shift 4
prefix=$(mktemp -d "${TMPDIR:-/tmp}/quicbed-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
fail() { echo "check_install: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1 || { cat "$prefix.log"; rm -f "$prefix.log"; fail "cmake --install failed"; }
rm -f "$prefix.log"

inc=$prefix/include/quicbed
n=0
while IFS= read -r h; do
  [ -f "$inc/$h" ] || fail "missing header include/quicbed/$h"
  n=$((n + 1))
done < <(cd "$src/stack" && find . -name '*.h' | sed 's|^\./||')
[ "$n" -gt 0 ] || fail "no core headers found in $src/stack"
for f in "$inc/userspace/udp_socket.h" "$inc/userspace/gnutls_crypto.h" \
         "$prefix/$libdir/libquicbed_stack.a" "$prefix/$libdir/libquicbed_userspace.a" \
         "$prefix/$libdir/libquicbed_host.a" "$prefix/$libdir/pkgconfig/quicbed.pc"; do
  [ -f "$f" ] || fail "missing ${f#"$prefix"/}"
done
if [ -f "$build/interop/endpoint/quicbed" ]; then
  [ -x "$prefix/bin/quicbed" ] || fail "missing bin/quicbed"
  "$prefix/bin/quicbed" --help >/dev/null || fail "bin/quicbed --help failed"
fi

export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
flags=$(pkg-config --cflags --libs quicbed) || fail "pkg-config quicbed failed"
# shellcheck disable=SC2086  # word splitting of the flags is intended
"$cxx" "$@" "$src/tests/install/tiny.cpp" -o "$prefix/tiny" $flags || fail "tiny.cpp does not build: $cxx $* tiny.cpp $flags"
"$prefix/tiny" || fail "tiny exited with $?"
echo "check_install: $n core headers, archives, pkg-config file and program installed; tiny links"
