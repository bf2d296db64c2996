"""`quicbed client --key-update` (RFC 9001 §6): the client moves to the
next key phase once the handshake is confirmed and the peer follows; the
transfer completes byte for byte and the capture shows Key Phase 1 in both
directions (the runner's U check, which run_endpoint.sh's keyupdate case
relies on). Peer: quic-go's interop server (it answers key updates)."""

from __future__ import annotations

import sys

from quicbed_util import REPO, needs_peers
from test_quicbed_hq import fetch_from_quicgo

sys.path[:0] = [str(REPO / "interop" / "runner")]
import checks as C  # noqa: E402


@needs_peers
def test_client_key_update_with_quicgo(tmp_path, certs):
    r, _ = fetch_from_quicgo(tmp_path, certs, [1 << 20], "--key-update")
    trace = C.Trace(tmp_path / "capture.pcap", [tmp_path / "client-keys.log"])
    phase1 = {row[0] for row in trace.fields(["udp.srcport"], "quic.key_phase == 1")}
    assert "443" in phase1, "the server never sent in key phase 1"
    assert phase1 - {"443"}, "the client never sent in key phase 1"
    assert "key update: now in key phase 1" in r.stderr


@needs_peers
def test_client_without_key_update_stays_in_phase_0(tmp_path, certs):
    fetch_from_quicgo(tmp_path, certs, [1 << 20])
    trace = C.Trace(tmp_path / "capture.pcap", [tmp_path / "client-keys.log"])
    assert trace.fields(["frame.number"], "quic.key_phase == 1") == []
