#!/usr/bin/env bash
# Builds, installs and removes quic.ko through DKMS (the quicbed-quic
# package: dkms.conf, `make dkms-source`) for each kernel given, writing
# only under OUT_DIR, and checks the module is the one `make` builds.
#   dkms.sh OUT_DIR KVER...
# Hermetic: DKMS's trees are OUT_DIR's (--dkmstree, --sourcetree,
# --installtree, --no-depmod, then depmod -b there), and its signing key,
# which only /etc/dkms/framework.conf can move from /var/lib/dkms, comes
# from a framework.conf of ours bind-mounted over /etc/dkms in a private
# mount namespace. Needs root (dkms install refuses otherwise), dkms and the
# kernels' linux-headers; exits 77 (skipped) without them.
# The reference module is built with `make` into
# $QUICBED_KMOD_REFERENCE/mod-KVER (run.sh's layout: ctest points it at
# kmod_qemu's directory, so it is already built) or OUT_DIR/mod-KVER.
set -euo pipefail
out=${1:?OUT_DIR}
shift
[ $# -gt 0 ] || { echo "usage: dkms.sh OUT_DIR KVER..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
kmod=$(dirname "$here")
say() { echo "[kmod dkms] $*"; }
skip() { say "SKIP: $*"; exit 77; }

command -v dkms >/dev/null || skip "dkms is not installed (scripts/deps.sh installs it)"
[ "$(id -u)" -eq 0 ] || skip "dkms install needs root"
for kver in "$@"; do
  [ -d "/lib/modules/$kver/build" ] || skip "no linux-headers-$kver"
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Into a private mount namespace, once.
if [ -z "${QUICBED_DKMS_NS:-}" ]; then
  unshare -m --propagation private true 2>/dev/null || skip "no private mount namespace (unshare -m)"
  QUICBED_DKMS_NS=1 exec unshare -m --propagation private bash "$0" "$out" "$@"
fi
rm -rf "$out/etc-dkms" "$out/src" "$out/tree" "$out/root"
mkdir -p "$out/etc-dkms" "$out/tree" "$out/root/lib/modules"
printf 'mok_signing_key="%s"\nmok_certificate="%s"\n' "$out/mok.key" "$out/mok.pub" >"$out/etc-dkms/framework.conf"
mount --bind "$out/etc-dkms" /etc/dkms

pkg=quicbed-quic/0.1
make -s -C "$kmod" dkms-source DKMS_SRC="$out/src/quicbed-quic-0.1"
dk=(dkms --dkmstree "$out/tree" --sourcetree "$out/src" --installtree "$out/root/lib/modules")
"${dk[@]}" add "$pkg"

status=0
fail() { say "FAIL $kver: $*"; status=1; }
# modinfo without what signing adds, and the defined symbols (6.12's
# modules are xz-compressed: nm reads plain ELF only).
identity() {  # module, name of its plain copy in OUT_DIR
  modinfo "$1" | grep -vE '^(filename|sig_id|signer|sig_key|sig_hashalgo|signature):|^[[:space:]]' || true
  case "$1" in
    *.xz) xz -dc "$1" >"$out/$2" ;;
    *) cp "$1" "$out/$2" ;;
  esac
  nm --defined-only "$out/$2" | awk '{print $2, $3}' | sort
}
for kver in "$@"; do
  t0=$(date +%s)
  mkdir -p "$out/root/lib/modules/$kver"
  if ! nice -n 10 "${dk[@]}" build "$pkg" -k "$kver" -j 2 >"$out/build-$kver.log" 2>&1; then
    cat "$out/build-$kver.log"
    cat "$out/tree/$pkg/build/make.log" 2>/dev/null || true
    fail "dkms build"
    continue
  fi
  say "$kver: dkms build took $(($(date +%s) - t0)) s"
  # The kernel's checkers are as silent as for the plain build (run.sh).
  makelog="$out/tree/$pkg/$kver/x86_64/log/make.log"
  if grep -E '(objtool|modpost|WARNING:|warning:)' "$makelog"; then fail "objtool/modpost/compiler warnings (above)"; fi
  if ! "${dk[@]}" install "$pkg" -k "$kver" --no-depmod >"$out/install-$kver.log" 2>&1; then
    cat "$out/install-$kver.log"
    fail "dkms install"
    continue
  fi
  # (its complaints about the kernel's own lists, not in a headers-only tree, go to the log)
  depmod -b "$out/root" "$kver" 2>"$out/depmod-$kver.log"
  # Debian's dkms installs DEST_MODULE_LOCATION /updates as updates/dkms.
  ko=$(find "$out/root/lib/modules/$kver/updates" -name 'quic.ko*')
  grep -qE '^updates/dkms/quic\.ko(\.xz|\.gz|\.zst)?:' "$out/root/lib/modules/$kver/modules.dep" ||
    fail "updates/dkms/quic.ko is not in modules.dep"
  "${dk[@]}" status "$pkg" -k "$kver" | grep -q ': installed' || fail "dkms status does not say installed"
  [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$kver" ] || fail "vermagic $(modinfo -F vermagic "$ko")"
  [ "$(modinfo -F signer "$ko")" = "DKMS module signing key" ] || fail "not signed with DKMS's key"
  # The same module as `make` builds: modinfo (srcversion: the same sources)
  # and the same symbols.
  ref="${QUICBED_KMOD_REFERENCE:-$out}/mod-$kver"
  if ! nice -n 10 make -s -C "$kmod" KVER="$kver" BUILD="$ref" -j2 >"$out/ref-$kver.log" 2>&1; then
    cat "$out/ref-$kver.log"
    fail "reference build"
  elif ! diff <(identity "$ref/quic.ko" make-$kver.ko) <(identity "$ko" dkms-$kver.ko) >"$out/identity-$kver.diff"; then
    head -40 "$out/identity-$kver.diff"
    fail "the DKMS module differs from the make-built one (above)"
  fi
  say "$kver: ${ko#"$out/root"}, $(nm --defined-only "$out/dkms-$kver.ko" | wc -l) symbols, vermagic $(modinfo -F vermagic "$ko")"
  if ! "${dk[@]}" remove "$pkg" -k "$kver" --no-depmod >"$out/remove-$kver.log" 2>&1; then
    cat "$out/remove-$kver.log"
    fail "dkms remove"
  fi
  [ -z "$(find "$out/root/lib/modules/$kver" -name 'quic.ko*')" ] || fail "the module is still installed after remove"
  [ "$status" -ne 0 ] || say "PASS $kver: dkms add/build/install/remove ($(($(date +%s) - t0)) s)"
done
# Removed for the last kernel, the package has left DKMS's tree.
[ -z "$("${dk[@]}" status "$pkg")" ] || { "${dk[@]}" status "$pkg"; say "FAIL: still in dkms status"; status=1; }
exit $status
