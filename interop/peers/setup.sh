#!/usr/bin/env bash
# Makes the real QUIC interop peers available (see README.md beside this file):
#   - installs, only if missing, the Debian packages for ngtcp2's example
#     client/server, tshark, Go 1.19 with quic-go 0.29's sources, and pytest;
#   - builds quic-go's interop client and server offline from the Debian source
#     tree into build/peers/ (skipped when up to date).
# Idempotent: a second run installs and builds nothing.
# Environment: QUICBED_PEERS_DIR overrides the output directory.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${QUICBED_PEERS_DIR:-$PWD/build/peers}
log() { echo "[peers] $*"; }

packages=(
  ngtcp2-client ngtcp2-server               # gtlsclient, gtlsserver (GnuTLS)
  tshark                                    # QUIC dissection and decryption (tshark_check.py)
  tcpdump                                   # captures (see Capture in peers.py)
  golang-go                                 # Go 1.19 toolchain
  golang-github-lucas-clemente-quic-go-dev  # quic-go 0.29 sources under /usr/share/gocode
  python3-pytest                            # tests/interop
  openssl                                   # test certificates
  iproute2 util-linux                       # ip netns, unshare (quic-go runs in a private mount ns)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  log "all ${#packages[@]} packages present"
else
  log "installing: ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture: answer "no".
  echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo[@]}" debconf-set-selections
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
fi

# --- quic-go interop client and server -------------------------------------
gopath=/usr/share/gocode
pkg=github.com/lucas-clemente/quic-go
src=$gopath/src/$pkg
for d in interop/server interop/client; do
  [ -f "$src/$d/main.go" ] || { log "missing $src/$d/main.go"; exit 1; }
done
mkdir -p "$out"

# What the binaries are built from: the Go packages' versions (dpkg keeps the
# archive's file mtimes, so an upgrade can bring sources older than our build)
# and the toolchain. Rebuild when this changes or any source is newer.
stamp_now=$( { go version; dpkg-query -W -f='${Package} ${Version}\n' 'golang-*-dev' 2>/dev/null | sort; } )
stamp_file=$out/quic-go-interop.stamp
up_to_date=1
for b in quic-go-interop-server quic-go-interop-client; do
  [ -x "$out/$b" ] || up_to_date=0
done
if [ $up_to_date -eq 1 ]; then
  [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp_now" ] || up_to_date=0
fi
if [ $up_to_date -eq 1 ]; then
  oldest=$out/quic-go-interop-server
  [ "$out/quic-go-interop-client" -ot "$oldest" ] && oldest=$out/quic-go-interop-client
  newer=$(find "$gopath/src" "$(go env GOROOT)/" -newer "$oldest" -name '*.go' -print -quit 2>/dev/null || true)
  [ -z "$newer" ] || { log "source newer than build: $newer"; up_to_date=0; }
fi

if [ $up_to_date -eq 1 ]; then
  log "quic-go interop binaries up to date in $out"
else
  export GO111MODULE=off GOPATH=$gopath GOFLAGS= GOCACHE=$out/go-cache GOTMPDIR=
  export GOPROXY=off GOTOOLCHAIN=local
  start=$(date +%s%N)
  for role in server client; do
    log "building quic-go interop $role ($(go version | cut -d' ' -f3), GO111MODULE=off GOPATH=$gopath)"
    go build -o "$out/quic-go-interop-$role.tmp" "$pkg/interop/$role"
    mv -f "$out/quic-go-interop-$role.tmp" "$out/quic-go-interop-$role"
  done
  echo "$stamp_now" >"$stamp_file"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  log "built in $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
fi

for b in /usr/bin/gtlsclient /usr/sbin/gtlsserver "$out/quic-go-interop-server" "$out/quic-go-interop-client"; do
  [ -x "$b" ] || { log "missing $b"; exit 1; }
done
log "ready: gtlsclient gtlsserver (ngtcp2 $(dpkg-query -W -f='${Version}' ngtcp2-client)), $out/quic-go-interop-{server,client}, $(tshark --version 2>/dev/null | head -1)"
