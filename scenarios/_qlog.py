"""Reading the qlog files a run writes (qlog 0.3, JSON-SEQ: records separated by RS, 0x1e)."""

import json
import os


def read(path):
    """(header, events) of one qlog file; event times are in ms of simulated time."""
    with open(path) as f:
        records = [json.loads(r) for r in f.read().split("\x1e") if r.strip()]
    return records[0], records[1:]


def stream_arrivals(paths, stream_bytes):
    """{connection start (s): when its server's QUIC stack held the first stream_bytes of stream 0 (s)},
    one entry per connection whose server received that much. A connection is the pair of files
    <ODCID>_client.sqlog and <ODCID>_server.sqlog; it starts with the client's first event."""
    starts, arrivals = {}, {}
    for path in paths:
        odcid, _, role = os.path.basename(path).rpartition(".")[0].rpartition("_")
        _, events = read(path)
        if role == "client" and events:
            starts[odcid] = events[0]["time"] / 1e3
        elif role == "server":
            ranges = []  # of stream 0 received so far; what counts is the prefix from offset 0
            for e in events:
                if e["name"] != "transport:packet_received":
                    continue
                ranges += [(f["offset"], f["offset"] + f["length"]) for f in e["data"].get("frames", [])
                           if f["frame_type"] == "stream" and f["stream_id"] == 0]
                if _prefix(ranges) >= stream_bytes:
                    arrivals[odcid] = e["time"] / 1e3
                    break
    return {starts[odcid]: t for odcid, t in arrivals.items() if odcid in starts}


def _prefix(ranges):
    """How many bytes from offset 0 the (start, end) ranges cover without a gap."""
    end = 0
    for start, stop in sorted(ranges):
        if start > end:
            break
        end = max(end, stop)
    return end
