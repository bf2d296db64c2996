#!/usr/bin/env bash
# Boots a Debian kernel under qemu (TCG) with quic.ko and the guest tests,
# and reports the results the guest prints.
#   run.sh KVER OUT_DIR
# KVER is a Debian kernel release (6.1.0-56-amd64, 6.12.117+deb12-amd64);
# QUICBED_KMOD_KO boots a prebuilt quic.ko instead of the one built here;
# QUICBED_KMOD_BULK_MB sizes the guest's bulk transfer (default 100, the issue's
# 100 MB: 7-16 s under TCG since the path MTU search); QUICBED_KMOD_BENCH=1 adds the
# throughput benchmark (bench/throughput.c: QUIC vs TCP vs kTLS, its
# QBBENCH lines; =only leaves the GnuTLS tests out; QUICBED_KMOD_BENCH_MB bytes per run, default 8;
# QUICBED_KMOD_BENCH_MTU the loopback MTU for it, default unchanged;
# QUICBED_KMOD_BENCH_SIZE one write size instead of all four;
# QUICBED_KMOD_BENCH_MODE one kind only (quic, tcp or ktls), for a profile;
# QUICBED_KMOD_PERF=1 samples the whole guest with perf while the benchmark
# runs and prints the hottest functions as QBPERF lines);
# its linux-headers package must be installed. The kernel image package is
# fetched with apt-get download and unpacked (never installed) into
# OUT_DIR/image-KVER, kept between runs. Exit status 0 when every guest test
# passed, the module loaded and unloaded, and the kernel log has no oops or
# warning.
set -euo pipefail
kver=${1:?KVER}
out=${2:?OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
kmod=$(dirname "$here")
mkdir -p "$out"
out=$(cd "$out" && pwd)
t0=$(date +%s.%N)
elapsed() { printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
say() { echo "[kmod $kver $(elapsed)s] $*"; }

# ---- The module
say "building quic.ko"
modbuild="$out/mod-$kver"
# (and sample/quic_sample.ko, the kernel user of its in-kernel API)
if ! nice make -s -C "$kmod" KVER="$kver" BUILD="$modbuild" -j2 sample >"$out/build-$kver.log" 2>&1; then
  cat "$out/build-$kver.log"
  say "FAIL: module build"
  exit 1
fi
# The kernel's own checkers must be silent about our objects.
if grep -E '(objtool|modpost|WARNING:|warning:)' "$out/build-$kver.log"; then
  say "FAIL: objtool/modpost/compiler warnings (above)"
  exit 1
fi

# `make install` lays out the module (depmod'ed; 6.12 compresses it with
# xz, and signs it when it can), quic(7) and the in-kernel API (the
# headers a kernel user includes, quic.ko's exported symbols for its
# modpost) under a DESTDIR; the man page formats without a groff warning.
dest="$out/dest-$kver"
kapi="$dest/usr/local/src/quicbed-quic"
rm -rf "$dest"
if ! nice make -s -C "$kmod" KVER="$kver" BUILD="$modbuild" DESTDIR="$dest" install >"$out/install-$kver.log" 2>&1 ||
  ! grep -qE '^updates/quic\.ko(\.xz)?:' "$dest/lib/modules/$kver/modules.dep" ||
  ! cmp -s "$kmod/include/net/quic.h" "$kapi/include/net/quic.h" ||
  ! cmp -s "$kmod/include/uapi/linux/quic.h" "$kapi/include/linux/quic.h" ||
  ! grep -q 'quic_kernel_sendmsg' "$kapi/$kver/Module.symvers" ||
  [ ! -f "$dest/usr/local/share/man/man7/quic.7" ] || [ -n "$(groff -man -ww -z "$kmod/man/quic.7" 2>&1)" ]; then
  cat "$out/install-$kver.log"
  say "FAIL: make install or the man page"
  exit 1
fi

# ---- The kernel image, unpacked once
image="$out/image-$kver"
if [ ! -f "$image/boot/vmlinuz-$kver" ]; then
  say "fetching linux-image-$kver"
  rm -rf "$image" "$out/deb-$kver"
  mkdir -p "$out/deb-$kver"
  (cd "$out/deb-$kver" && apt-get -o DPkg::Lock::Timeout=600 -q download "linux-image-$kver" >/dev/null 2>&1 ||
    apt-get -o DPkg::Lock::Timeout=600 -q download "linux-image-$kver-unsigned")
  dpkg-deb -x "$out/deb-$kver"/linux-image-*.deb "$image"
  rm -rf "$out/deb-$kver"
fi

# ---- Guest programs (static, so the initramfs needs no libc)
root="$out/root-$kver"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests,lib/modules/"$kver"/extra}
for src in "$here"/guest/*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  gcc -static -O2 -Wall -Wextra -Werror -I"$kmod/include/uapi" -o "$root/tests/$name" "$src" ||
    { say "FAIL: building guest program $name"; exit 1; }
done

# Programs that need GnuTLS (libquic) run dynamically linked: they, Debian's
# ngtcp2 server and every library they load go into the guest.
# They are built the way a user builds a program for the in-kernel QUIC API:
# against libquic as `make install` lays it out (netinet/quic.h,
# linux/quic.h, libquic.so.1, libquic.pc), found with pkg-config; the
# guest gets libquic.so.1 where Debian keeps libraries.
libdir=/usr/lib/$(gcc -print-multiarch)
lqdest="$out/libquic-$kver"
rm -rf "$lqdest"
if ! nice make -s -C "$kmod/libquic" BUILD="$out/libquic-build-$kver" PREFIX=/usr LIBDIR="$libdir" \
  DESTDIR="$lqdest" install >"$out/libquic-$kver.log" 2>&1; then
  cat "$out/libquic-$kver.log"
  say "FAIL: libquic make install"
  exit 1
fi
libquic_flags=$(PKG_CONFIG_SYSROOT_DIR="$lqdest" PKG_CONFIG_PATH="$lqdest$libdir/pkgconfig" \
  pkg-config --cflags --libs libquic)
copy_with_libs() {  # binary, destination inside the root
  install -D -m 755 "$1" "$root/$2"
  for lib in $(LD_LIBRARY_PATH="$lqdest$libdir" ldd "$1" | grep -o '/[^ ]*'); do
    dst=${lib#"$lqdest"}
    [ -e "$root$dst" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$dst"
  done
}
build_dynamic() {  # source directory, destination directory inside the root
  for src in "$1"/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    # shellcheck disable=SC2086  # the flags are words (GnuTLS's come with libquic.pc)
    gcc -O2 -Wall -Wextra -Werror -o "$out/$name-$kver" "$src" $libquic_flags -lpthread ||
      { say "FAIL: building guest program $name"; exit 1; }
    copy_with_libs "$out/$name-$kver" "$2/$name"
  done
}
# QUICBED_KMOD_BENCH=only: the benchmark without the GnuTLS tests.
if [ "${QUICBED_KMOD_BENCH:-}" != only ]; then
  build_dynamic "$here/guest/dynamic" tests
  build_dynamic "$kmod/tools" bin  # quic-handshaked, the net/handshake agent
fi
# The throughput benchmark runs after the tests when asked for.
if [ -n "${QUICBED_KMOD_BENCH:-}" ]; then build_dynamic "$here/bench" bench; fi
# perf (Debian's linux-perf) for QUICBED_KMOD_PERF: cpu-clock sampling works
# under TCG, which has no hardware counters.
if [ -n "${QUICBED_KMOD_PERF:-}" ]; then
  command -v perf >/dev/null || { say "FAIL: QUICBED_KMOD_PERF needs perf (apt-get install linux-perf)"; exit 1; }
  copy_with_libs "$(command -v perf)" bin/perf
fi
# Debian's ngtcp2 examples (GnuTLS): the server and the client.
for peer in /usr/sbin/gtlsserver /usr/bin/gtlsclient; do
  [ -x "$peer" ] && copy_with_libs "$peer" "bin/$(basename "$peer")"
done
# Our userspace endpoint program, when a build of it is given
# (QUICBED_PROGRAM, set by ctest), and files for it to serve.
if [ -n "${QUICBED_PROGRAM:-}" ] && [ -x "$QUICBED_PROGRAM" ]; then
  copy_with_libs "$QUICBED_PROGRAM" bin/quicbed
fi
mkdir -p "$root/www"
echo "hello from quicbed" >"$root/www/hello.txt"
head -c 1048576 /dev/urandom >"$root/www/1mb.bin"
# A throwaway P-256 certificate for the servers in the guest.
mkdir -p "$root/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 2 \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 \
  -keyout "$root/certs/key.pem" -out "$root/certs/cert.pem" 2>/dev/null

# ---- initramfs: busybox, the kernel modules the tests need, ours
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
ln -sf ../bin/busybox "$root/sbin/modprobe"
mods="$image/lib/modules/$kver"
for dir in kernel/crypto kernel/arch/x86/crypto kernel/lib/crypto kernel/net/ipv4 kernel/net/ipv6 kernel/net/tls; do
  [ -d "$mods/$dir" ] || continue
  mkdir -p "$root/lib/modules/$kver/$dir"
  cp -r "$mods/$dir/." "$root/lib/modules/$kver/$dir/"
done
cp "$mods"/modules.order "$mods"/modules.builtin* "$root/lib/modules/$kver/" 2>/dev/null || true
# 6.12 ships xz-compressed modules; busybox loads plain ones.
find "$root/lib/modules" -name '*.ko.xz' -exec xz -d -f {} +
cp "$modbuild/quic.ko" "$modbuild/sample/quic_sample.ko" "$root/lib/modules/$kver/extra/"
# QUICBED_KMOD_KO: boot that quic.ko (.ko or .ko.xz) instead, e.g. the one
# DKMS built (test/dkms.sh leaves OUT_DIR/dkms-KVER.ko); the sample's
# symbol versions come from our build of the same sources.
if [ -n "${QUICBED_KMOD_KO:-}" ]; then
  say "booting $QUICBED_KMOD_KO"
  case "$QUICBED_KMOD_KO" in
    *.xz) xz -dc "$QUICBED_KMOD_KO" >"$root/lib/modules/$kver/extra/quic.ko" ;;
    *) cp "$QUICBED_KMOD_KO" "$root/lib/modules/$kver/extra/quic.ko" ;;
  esac
fi
depmod -b "$root" "$kver"
cp "$here/init.sh" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs-$kver.cpio.gz"
say "initramfs $(du -h "$out/initramfs-$kver.cpio.gz" | cut -f1)"

# ---- Boot (no_timer_check: under a loaded host TCG can miss the kernel's
# early IO-APIC timer check, which then panics)
log="$out/console-$kver.log"
say "booting under qemu (TCG)"
set +e
timeout "${QUICBED_KMOD_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp 2 \
  -kernel "$image/boot/vmlinuz-$kver" -initrd "$out/initramfs-$kver.cpio.gz" \
  -append "console=ttyS0 panic=-1 oops=panic quiet no_timer_check QUICBED_BULK_MB=${QUICBED_KMOD_BULK_MB:-100} QUICBED_BENCH_MB=${QUICBED_KMOD_BENCH_MB:-8} QUICBED_BENCH_MTU=${QUICBED_KMOD_BENCH_MTU:-0} QUICBED_BENCH_SIZE=${QUICBED_KMOD_BENCH_SIZE:-0} QUICBED_BENCH_MODE=${QUICBED_KMOD_BENCH_MODE:-}" \
  -nographic -no-reboot -nodefaults -serial stdio -display none -net none </dev/null >"$log" 2>&1
rc=$?
set -e
# No carriage returns or terminal escapes (SeaBIOS clears the screen).
sed -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' "$log" >"$log.txt" && mv "$log.txt" "$log"
say "qemu exited with $rc after boot; console log: $log"

# ---- Results
grep -aE '^(QBTEST|QBBENCH|QBPERF|quic:)' "$log" || true
pass=$(grep -c '^QBTEST PASS ' "$log" || true)
fail=$(grep -c '^QBTEST FAIL ' "$log" || true)
status=0
if ! grep -q '^QBTEST DONE' "$log"; then
  say "FAIL: the guest did not finish (panic, oops or timeout); last lines:"
  tail -30 "$log"
  status=1
fi
if grep -qE '^QBTEST DMESG ' "$log"; then
  say "FAIL: the kernel log has warnings:"
  grep -E '^QBTEST DMESG ' "$log"
  status=1
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ] || status=1
say "$pass passed, $fail failed"
exit $status
