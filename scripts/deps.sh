#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need (only the
# missing ones, so a second run costs nothing). Sourced by demo.sh/test.sh.
set -euo pipefail

QUICBED_PACKAGES=(
  g++ cmake make pkg-config binutils        # toolchain; nm/objdump/ld for the legality check
  libgnutls28-dev                           # crypto backend (and TLS, later)
  libgtest-dev libgmock-dev googletest      # unit tests
  libnghttp3-dev                            # HTTP/3 (interop/h3)
  libns3-dev ns3 libgsl-dev libxml2-dev     # ns-3 3.37 for ns3-module/ (ns3 ships what find_package(ns3) names)
  tshark                                    # the ns-3 module's pcap check (and the interop tests)
  # quic.ko (kmod/) against both Debian kernels, booted under qemu by its tests
  linux-headers-6.1.0-56-amd64 linux-headers-6.12.117+deb12-amd64
  qemu-system-x86 busybox-static cpio kmod xz-utils bc openssl ngtcp2-server
  dkms                                      # kmod/test/dkms.sh: the DKMS package (kmod/dkms.conf)
  # Python experiments (bindings/, scenarios/, notebooks/) for Debian's /usr/bin/python3
  python3-dev pybind11-dev python3-pybind11 python3-pytest python3-numpy python3-pandas
  python3-matplotlib python3-tqdm python3-nbclient python3-nbformat python3-ipykernel
  python3-distributed python3-dask                # sweeps on Dask (local cluster or --scheduler)
  clang-14 libclang-rt-14-dev                     # libFuzzer targets (tests/fuzz/)
  ethtool                                         # the local interop runner turns veth offloads off
)

quicbed_install_deps() {
  local missing=()
  for p in "${QUICBED_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "[deps] all ${#QUICBED_PACKAGES[@]} packages present"
    return
  fi
  echo "[deps] installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common (tshark) asks whether non-root users may capture: "no".
  echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo[@]}" debconf-set-selections
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}
