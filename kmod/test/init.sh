#!/bin/sh
# /init of the test guest: loads quic.ko, runs /tests/*, reports on the
# serial console as "QBTEST PASS|FAIL <name>", checks the kernel log, and
# powers off.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
ip link set lo up
echo  # the console's escape sequences end before the first result line
# The CPU's accelerated crypto drivers, as udev's coldplug loads them on a
# real machine (busybox's modprobe cannot match the cpu modalias): without
# them AES is the kernel's table-driven C code, for kTLS and quic.ko alike.
for m in aesni_intel ghash_clmulni_intel chacha_x86_64 poly1305_x86_64 sha256_ssse3 sha512_ssse3; do
  modprobe "$m" 2>/dev/null
done

result() {  # PASS|FAIL name
  echo "QBTEST $1 $2"
}

# The crypto known-answer tests run inside module init (selftest=1): the
# module refuses to load when one fails.
if modprobe quic selftest=1; then
  result PASS module_load_selftest
else
  result FAIL module_load_selftest
fi
dmesg | grep 'quic: selftest' | sed 's/^\[[ 0-9.]*\] //'

for t in /tests/*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  if "$t" >/tmp/out 2>&1; then
    result PASS "$name"
  else
    result FAIL "$name"
  fi
  sed "s/^/  $name: /" /tmp/out
done

# The benchmark, when run.sh put it in (its QBBENCH lines go straight to
# the console).
for b in /bench/*; do
  [ -x "$b" ] || continue
  if [ -x /bin/perf ]; then
    set -- perf record -q -a -g -e cpu-clock -F 499 -o /tmp/perf.data -- "$b"
  else
    set -- "$b"
  fi
  if "$@"; then
    result PASS "bench_$(basename "$b")"
  else
    result FAIL "bench_$(basename "$b")"
  fi
  # The hottest functions, self time, over all CPUs and processes.
  [ -f /tmp/perf.data ] && perf report -i /tmp/perf.data --stdio --no-children -g none --sort dso,sym \
    --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep . | sed 's/^/QBPERF /'
  # and with what each calls (children), where the time goes by caller.
  [ -f /tmp/perf.data ] && perf report -i /tmp/perf.data --stdio --children -g none --sort sym \
    --percent-limit 2 2>/dev/null | grep -v '^#' | grep . | sed 's/^/QBPERF+ /'
  rm -f /tmp/perf.data
  grep -A1 'name *: gcm(aes)' /proc/crypto | sed -n 's/^driver *: /QBBENCH AES-GCM driver: /p'
done

# Connections outlive close() for three PTOs (glue/closing.c), holding the
# module meanwhile: they end first.
i=0
while [ "$i" -lt 30 ] && ! grep -q '^ConnectionsClosing 0$' /proc/net/quic; do
  sleep 1
  i=$((i + 1))
done
grep -q '^ConnectionsClosing 0$' /proc/net/quic && result PASS closing_connections_end || result FAIL closing_connections_end

# A bound socket holds the module: rmmod is refused while it is open, and
# succeeds once it is closed.
/tests/socket_api hold >/dev/null &
holder=$!
sleep 1
if rmmod quic 2>/dev/null; then
  result FAIL module_busy_with_open_socket
else
  result PASS module_busy_with_open_socket
fi
kill $holder
wait $holder 2>/dev/null
if rmmod quic; then
  result PASS module_unload
else
  result FAIL module_unload
fi
if dmesg | grep -q 'quic: .*leaked'; then
  result FAIL module_unload_no_leak
else
  result PASS module_unload_no_leak
fi

# What the module logged about connections (why they closed).
dmesg | grep 'quic: connection' | sed 's/^\[[ 0-9.]*\] //'
# Anything the kernel complained about fails the run.
dmesg | grep -E -B 4 -A 24 'WARNING:|BUG:|Oops|Call Trace|general protection|refcount_t|leaked' |
  sed 's/^/QBTEST DMESG /'
echo "QBTEST DONE"
poweroff -f
