"""Paths and connection migration (RFC 9000 §8.2, §9) of the quicbed
program against ngtcp2 0.12.1 in both roles, and ours against ours, in a
network namespace of its own (loopback: 127.0.0.1 and 127.0.0.2).

Checked like the quic-interop-runner's rebind-port / connectionmigration
cases, from a capture decrypted with the key log: the server probes every
new client address with PATH_CHALLENGE, the client answers with
PATH_RESPONSE on it, and (active migration) the client's first packet on a
new path goes to a connection ID it never used before. Every file is
compared byte for byte. quic-go 0.29 does no migration, so it is not here.

    QUICBED_BIN=build-x/interop/endpoint/quicbed /usr/bin/python3 -m pytest -v -s tests/interop/test_quicbed_migration.py
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from dataclasses import dataclass, field

from quicbed_util import (P, TIMEOUT, assert_identical, check_capture, client_argv, make_www, needs_peers,
                          quicbed_server, run)

PORT = 4433
PATH_CHALLENGE, PATH_RESPONSE = 0x1a, 0x1b
# Large enough that the transfer is under way when the path changes.
SIZES = [8 << 20, 1024]
FIELDS = ["ip.src", "udp.srcport", "ip.dst", "udp.dstport", "quic.header_form", "quic.dcid", "quic.frame_type"]


@dataclass
class Paths:
    """What a capture says about the paths, each a (client address, server
    address) pair of (ip, port), in the order the client first used them."""
    paths: list = field(default_factory=list)
    server_addrs: set = field(default_factory=set)
    challenged: set = field(default_factory=set)  # paths the server sent PATH_CHALLENGE on
    answered: set = field(default_factory=set)    # paths the client sent PATH_RESPONSE on
    first_dcid: dict = field(default_factory=dict)  # path -> DCID of the client's first short header on it
    dcids: dict = field(default_factory=dict)       # path -> every short-header DCID the client used on it


def paths_of(pcap, keylog, port: int = PORT) -> Paths:
    argv = ["tshark", "-n", "-r", str(pcap), "-o", f"tls.keylog_file:{keylog}", "-d", f"udp.port=={port},quic",
            "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        argv += ["-e", f]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True).stdout
    p = Paths()
    for line in out.splitlines():
        cols = line.split("\t") + [""] * len(FIELDS)
        v = dict(zip(FIELDS, cols))
        src, dst = (v["ip.src"], v["udp.srcport"]), (v["ip.dst"], v["udp.dstport"])
        frames = {int(x, 0) for x in v["quic.frame_type"].split(",") if x}
        forms = [x for x in v["quic.header_form"].split(",") if x]
        dcids = [x for x in v["quic.dcid"].split(",") if x]
        if v["udp.dstport"] == str(port):  # client -> server
            path = (src, dst)
            if path not in p.paths:
                p.paths.append(path)
            if PATH_RESPONSE in frames:
                p.answered.add(path)
            # A short header (form 0) alone in its datagram: its DCID.
            if forms == ["0"] and dcids:
                p.first_dcid.setdefault(path, dcids[0])
                p.dcids.setdefault(path, set()).add(dcids[0])
        else:
            path = (dst, src)
            if PATH_CHALLENGE in frames:
                p.challenged.add(path)
        p.server_addrs.add(path[1])
    return p


def assert_rebinding(p: Paths, min_paths: int = 2) -> None:
    """The interop runner's rebind check: each path after the first was
    probed by the server and answered by the client."""
    assert len(p.paths) >= min_paths, f"the client never changed path: {p.paths}"
    for path in p.paths[1:]:
        assert path in p.challenged, f"the server sent no PATH_CHALLENGE on {path}"
        assert path in p.answered, f"no PATH_RESPONSE on {path}"


def assert_new_dcid(p: Paths) -> None:
    """connectionmigration: the first packet on each new path goes to a
    connection ID no earlier path used (RFC 9000 §9.5)."""
    seen = set(p.dcids.get(p.paths[0], set()))
    for path in p.paths[1:]:
        assert path in p.first_dcid, f"no short header on {path}"
        assert p.first_dcid[path] not in seen, f"{path} reuses DCID {p.first_dcid[path]}"
        seen |= p.dcids[path]


def with_options(cmd: P.Command, program: str, *options: str) -> P.Command:
    """`cmd` with `options` right after its program name."""
    i = cmd.argv.index(program)
    cmd.argv[i + 1:i + 1] = list(options)
    return cmd


@contextlib.contextmanager
def namespace(extra_addr: str | None = None):
    """A network namespace of our own, with `extra_addr` on lo as well."""
    with P.NetNs() as ns:
        if extra_addr:
            subprocess.run(["ip", "-n", ns.name, "addr", "add", f"{extra_addr}/8", "dev", "lo"], check=True,
                           timeout=30)
        yield ns


def transfer_files(tmp_path):
    """The files served (random, SIZES) and where they go: www, downloads,
    the client's key log, the names."""
    www, dl, keylog = tmp_path / "www", tmp_path / "downloads", tmp_path / "client-keys.log"
    return www, dl, keylog, make_www(www, SIZES)


def log_of(path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


# ---- ngtcp2's client, our server ------------------------------------------------

def peer_client_run(tmp_path, certs, *client_opts, server_opts=(), extra_addr=None):
    www, dl, keylog, names = transfer_files(tmp_path)
    with namespace(extra_addr) as ns:
        c = P.PEERS["ngtcp2"].client(addr="127.0.0.1", port=PORT, files=names, downloads=dl, alpn="h3",
                                     keylog=keylog, qlog_dir=tmp_path / "client-qlog", workdir=tmp_path,
                                     netns=ns.name)
        with_options(c, P.NGTCP2_CLIENT, *client_opts)
        with P.Capture(tmp_path / "capture.pcap", PORT, netns=ns.name) as cap:
            with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{PORT}", "--no-gso", "-v", "--qlog-dir",
                                str(tmp_path / "server-qlog"), *server_opts, netns=ns.name):
                rc = c.run(timeout=TIMEOUT)
    log = log_of(c.log)
    server_log = log_of(tmp_path / "quicbed-server.log")
    assert rc == 0, f"ngtcp2 client exited with {rc}: {log[-2000:]}\nserver: {server_log[-2000:]}"
    assert_identical(www, dl, names, log)
    check_capture(tmp_path, cap, keylog, PORT, alpn="h3")
    return paths_of(tmp_path / "capture.pcap", keylog), server_log


def qlog_states(qlog_dir) -> list[str]:
    states = []
    for f in sorted(qlog_dir.glob("*.sqlog")):
        states += re.findall(r'"connectivity:migration_state_updated".*?"state":"([a-z_]+)"', f.read_text())
    return states


@needs_peers
def test_ngtcp2_client_nat_rebinding(tmp_path, certs):
    """gtlsclient --nat-rebinding: a new port, same CID; our server follows,
    probing the new path.

    gtlsclient's simulation abandons its old socket without sending from the
    new one, so while a download is under way nobody speaks first (measured:
    gtlsclient against gtlsserver stalls the same way). --delay-stream makes
    the request itself the first packet from the new port."""
    p, _ = peer_client_run(tmp_path, certs, "--change-local-addr=20ms", "--nat-rebinding", "--delay-stream=150ms")
    assert_rebinding(p)
    assert p.first_dcid[p.paths[1]] == p.first_dcid[p.paths[0]]  # a rebinding keeps the CID
    states = qlog_states(tmp_path / "server-qlog")
    assert "migration_started" in states and "probing_successful" in states, states


@needs_peers
def test_ngtcp2_client_active_migration(tmp_path, certs):
    """gtlsclient --change-local-addr: a new port and a new CID; our server
    probes the path and answers with a new CID of the client's too."""
    p, _ = peer_client_run(tmp_path, certs, "--change-local-addr=20ms")
    assert_rebinding(p)
    assert_new_dcid(p)


@needs_peers
def test_ngtcp2_client_to_our_preferred_address(tmp_path, certs):
    """Our server offers 127.0.0.2 as its preferred address (RFC 9000 §9.6);
    gtlsclient validates it and moves there."""
    p, _ = peer_client_run(tmp_path, certs, server_opts=("--preferred-address", f"127.0.0.2:{PORT}"),
                           extra_addr="127.0.0.2")
    assert p.paths[-1][1] == ("127.0.0.2", str(PORT)), p.paths
    assert_rebinding(p)
    assert_new_dcid(p)  # §9.6: the preferred address's own CID


# ---- our client, ngtcp2's server ------------------------------------------------

def our_client_run(tmp_path, certs, *client_opts, server_opts=(), extra_addr=None):
    www, dl, keylog, names = transfer_files(tmp_path)
    srv = P.PEERS["ngtcp2"]
    with namespace(extra_addr) as ns:
        s = srv.server(addr="127.0.0.1", port=PORT, www=www, cert=certs.cert, key=certs.key, alpn="h3",
                       keylog=tmp_path / "server-keys.log", qlog_dir=tmp_path / "server-qlog",
                       workdir=tmp_path, netns=ns.name)
        with_options(s, P.NGTCP2_SERVER, *server_opts)
        with P.Capture(tmp_path / "capture.pcap", PORT, netns=ns.name) as cap:
            sp = s.start()
            try:
                P.wait_listening(sp, PORT)
                r, _ = run(client_argv(P.urls("127.0.0.1", PORT, names), dl, "--alpn", "h3", "-v", "--no-gso",
                                       "--ca", str(certs.ca_cert), "--keylog", str(keylog), "--qlog-dir",
                                       str(tmp_path / "client-qlog"), *client_opts, netns=ns.name))
            finally:
                P.stop(sp)
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}\n" \
                              f"server: {log_of(tmp_path / 'ngtcp2-server.log')[-2000:]}"
    assert_identical(www, dl, names, r.stderr)
    check_capture(tmp_path, cap, keylog, PORT, alpn="h3")
    return paths_of(tmp_path / "capture.pcap", keylog), r.stderr


@needs_peers
def test_our_client_rebinds_to_ngtcp2(tmp_path, certs):
    """Our client switches to a new port keeping its CID (a NAT rebinding);
    ngtcp2's server probes the new path, our client answers."""
    p, log = our_client_run(tmp_path, certs, "--rebind-after", str(1 << 20))
    assert "rebound to local" in log, log[-2000:]
    assert_rebinding(p)


@needs_peers
def test_our_client_migrates_to_ngtcp2(tmp_path, certs):
    """Our client migrates to a new port under a new CID (RFC 9000 §9.2):
    it probes first, ngtcp2 answers and probes back, the transfer goes on."""
    p, log = our_client_run(tmp_path, certs, "--migrate-after", str(1 << 20))
    assert "now on path" in log, log[-2000:]
    assert_rebinding(p)
    assert_new_dcid(p)
    states = qlog_states(tmp_path / "client-qlog")
    assert "probing_started" in states and "migration_complete" in states, states


@needs_peers
def test_our_client_to_ngtcp2_preferred_address(tmp_path, certs):
    """gtlsserver --preferred-ipv4-addr: our client validates the preferred
    address after the handshake and moves there (RFC 9000 §9.6)."""
    p, log = our_client_run(tmp_path, certs, server_opts=(f"--preferred-ipv4-addr=127.0.0.2:{PORT}",),
                            extra_addr="127.0.0.2")
    assert "probing the server's preferred address 127.0.0.2" in log, log[-2000:]
    assert p.paths[-1][1] == ("127.0.0.2", str(PORT)), p.paths
    assert_rebinding(p)
    assert_new_dcid(p)


# ---- ours against ours -------------------------------------------------------------

def ours_run(tmp_path, certs, *client_opts, server_opts=(), extra_addr=None):
    www, dl, keylog, names = transfer_files(tmp_path)
    with namespace(extra_addr) as ns:
        with P.Capture(tmp_path / "capture.pcap", PORT, netns=ns.name) as cap:
            with quicbed_server(tmp_path, certs, www, f"127.0.0.1:{PORT}", "--no-gso", "-v", *server_opts,
                                netns=ns.name):
                r, _ = run(client_argv(P.urls("127.0.0.1", PORT, names), dl, "-v", "--no-gso", "--ca",
                                       str(certs.ca_cert), "--keylog", str(keylog), *client_opts, netns=ns.name))
    assert r.returncode == 0, f"client exited with {r.returncode}: {r.stderr[-3000:]}\n" \
                              f"server: {log_of(tmp_path / 'quicbed-server.log')[-2000:]}"
    assert_identical(www, dl, names, r.stderr)
    check_capture(tmp_path, cap, keylog, PORT)
    return paths_of(tmp_path / "capture.pcap", keylog), r.stderr


@needs_peers
def test_ours_migration_and_rebinding(tmp_path, certs):
    """Our client rebinds, then migrates under a new CID, against our
    server: each new path probed and answered."""
    p, log = ours_run(tmp_path, certs, "--rebind-after", str(1 << 20), "--migrate-after", str(3 << 20))
    assert "rebound to local" in log and "now on path" in log, log[-2000:]
    assert_rebinding(p, min_paths=3)
    # The rebinding keeps the CID; the migration's path (the third) has a fresh one.
    assert p.first_dcid[p.paths[1]] == p.first_dcid[p.paths[0]]
    assert p.first_dcid[p.paths[2]] not in p.dcids[p.paths[0]] | p.dcids[p.paths[1]]


@needs_peers
def test_ours_preferred_address(tmp_path, certs):
    p, log = ours_run(tmp_path, certs, server_opts=("--preferred-address", f"127.0.0.2:{PORT}"),
                      extra_addr="127.0.0.2")
    assert "now on path" in log and "127.0.0.2" in log, log[-2000:]
    assert p.paths[-1][1] == ("127.0.0.2", str(PORT)), p.paths
    assert_rebinding(p)
    assert_new_dcid(p)


@needs_peers
def test_ours_disable_active_migration(tmp_path, certs):
    """A server that sent disable_active_migration: our client does not
    migrate (it says why) and the download completes on the first path."""
    p, log = ours_run(tmp_path, certs, "--migrate-after", str(1 << 20), server_opts=("--disable-active-migration",))
    assert "the server disabled active migration" in log, log[-2000:]
    assert len(p.paths) == 1, p.paths
