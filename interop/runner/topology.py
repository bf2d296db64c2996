"""The quic-interop-runner's topology on one machine: three network
namespaces, client - simulator - server, joined by two veth pairs, with the
runner's addresses, and the real-time ns-3 middlebox (quicbed-middlebox)
bridging the simulator's two veths.

    client ns                sim ns                            server ns
    eth0 193.167.0.100  ---  sim-c [ns-3: emu - p2p - emu] sim-s  ---  eth0 193.167.100.100
         fd00:cafe:cafe:0::100                                          fd00:cafe:cafe:100::100

Each endpoint routes 193.167.0.0/16 and fd00:cafe:cafe::/48 through its
gateway (.2 / ::2), a static neighbour entry with the MAC of the simulator's
veth it faces (the middlebox answers no ARP or neighbour discovery), and
sends with checksum offload off (`ethtool -K eth0 tx off`, as the runner's
image does: the middlebox forwards frames as they are, and software
segmentation then also splits UDP GSO batches). The simulator's veths have
no addresses and no IPv6: only the middlebox handles their frames.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "peers")]
import peers as P  # noqa: E402

CLIENT4, SERVER4 = "193.167.0.100", "193.167.100.100"
CLIENT6, SERVER6 = "fd00:cafe:cafe:0::100", "fd00:cafe:cafe:100::100"
GATEWAY4 = {"client": "193.167.0.2", "server": "193.167.100.2"}
GATEWAY6 = {"client": "fd00:cafe:cafe:0::2", "server": "fd00:cafe:cafe:100::2"}
ADDRESSES = {"client": (CLIENT4 + "/24", CLIENT6 + "/64"),
             "server": (SERVER4 + "/24", SERVER6 + "/64")}
SIM_DEV = {"client": "sim-c", "server": "sim-s"}
# The runner's host names (its docker-compose network aliases).
HOSTS = (f"{SERVER4} server4 server46 server\n{SERVER6} server6 server46 server\n"
         f"{CLIENT4} client4 client46 client\n{CLIENT6} client6 client46 client\n")

FD_NET_DEVICE_LIB = "/usr/lib/x86_64-linux-gnu/libns3-fd-net-device.so.37"
RAW_SOCK_CREATOR = "/usr/libexec/ns3/ns3.37-raw-sock-creator"


def raw_sock_creator_path(lib: str = FD_NET_DEVICE_LIB) -> str:
    """Where Debian's ns-3 looks for its raw-socket creator: the path of
    its own build tree, compiled into the fd-net-device library."""
    m = re.search(rb"(/[^\0]*/ns3\.\d+-raw-sock-creator)\0", Path(lib).read_bytes())
    if not m:
        raise RuntimeError(f"no raw-sock-creator path in {lib}")
    return m.group(1).decode()


def sh(*argv: str, netns: str | None = None, check: bool = True) -> str:
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    p = subprocess.run(full, capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(full)}: {p.stderr.strip()}")
    return p.stdout


class Topology:
    """The three namespaces and the veths; removed on exit. Root only."""

    def __init__(self, prefix: str = "qbr") -> None:
        tag = uuid.uuid4().hex[:6]
        self.ns = {r: f"{prefix}-{tag}-{r}" for r in ("client", "sim", "server")}
        self.mac: dict[str, str] = {}  # client, server, sim-c, sim-s

    def __enter__(self) -> "Topology":
        try:
            self._create()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _link_mac(self, netns: str, dev: str) -> str:
        return json.loads(sh("ip", "-j", "link", "show", "dev", dev, netns=netns))[0]["address"]

    def _create(self) -> None:
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", netns=ns)
        sim = self.ns["sim"]
        for s in ("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"):
            sh("sysctl", "-qw", s, netns=sim)
        for role in ("client", "server"):
            ns, dev = self.ns[role], SIM_DEV[role]
            sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth",
               "peer", "name", dev, "netns", sim)
            sh("ip", "link", "set", dev, "promisc", "on", "up", netns=sim)
            sh("ethtool", "-K", dev, "tx", "off", netns=sim)
            self.mac[dev] = self._link_mac(sim, dev)
            for s in ("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"):
                sh("sysctl", "-qw", s, netns=ns)
            sh("ip", "link", "set", "eth0", "up", netns=ns)
            sh("ethtool", "-K", "eth0", "tx", "off", netns=ns)
            self.mac[role] = self._link_mac(ns, "eth0")
            a4, a6 = ADDRESSES[role]
            sh("ip", "addr", "add", a4, "dev", "eth0", netns=ns)
            sh("ip", "-6", "addr", "add", a6, "dev", "eth0", "nodad", netns=ns)
            gw4, gw6 = GATEWAY4[role], GATEWAY6[role]
            for gw in (gw4, gw6):
                sh("ip", "neigh", "replace", gw, "lladdr", self.mac[dev], "dev", "eth0",
                   "nud", "permanent", netns=ns)
            sh("ip", "route", "add", "193.167.0.0/16", "via", gw4, netns=ns)
            sh("ip", "-6", "route", "add", "fd00:cafe:cafe::/48", "via", gw6, netns=ns)

    def __exit__(self, *exc) -> None:
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)

    def middlebox_args(self) -> list[str]:
        return [f"--left-dev={SIM_DEV['client']}", f"--right-dev={SIM_DEV['server']}",
                f"--left-mac={self.mac['sim-c']}", f"--right-mac={self.mac['sim-s']}",
                f"--left-peer-mac={self.mac['client']}", f"--right-peer-mac={self.mac['server']}"]


def raw_sock_tree(tmp: Path) -> tuple[str, Path]:
    """A directory to mount at the first component of the raw-socket
    creator's build path (e.g. /build) holding a copy of the creator at the
    rest of it: (top-level name, host directory)."""
    path = Path(raw_sock_creator_path())
    top = path.parts[1]
    root = tmp / "ns3-raw-sock"
    dest = root.joinpath(*path.parts[2:])
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(RAW_SOCK_CREATOR, dest)
    return top, root


def start_middlebox(topo: Topology, tmp: Path, binary: Path, options: list[str],
                    log: Path) -> subprocess.Popen:
    """quicbed-middlebox between the topology's veths, in the simulator's
    namespace and a private mount namespace where Debian's ns-3 finds its
    raw-socket creator; its output goes to `log`. Stop it with P.stop."""
    top, root = raw_sock_tree(tmp)
    mnt = tmp / "middlebox-root"
    mnt.mkdir()
    argv = [str(binary), *topo.middlebox_args(), *options]
    with open(log, "wb") as out:
        return subprocess.Popen(["ip", "netns", "exec", topo.ns["sim"], *P._jail(mnt, {top: root}, argv)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
