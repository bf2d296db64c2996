#!/usr/bin/env bash
# pcap through the devices is real QUIC: tshark decrypts the dumbbell
# example's bottleneck capture with the TLS key log the sockets wrote and
# finds the TLS handshake (ClientHello, ServerHello) and STREAM frames.
# Skipped (77) without tshark.
set -euo pipefail
example=$1
command -v tshark >/dev/null || { echo "tshark not installed: skipped"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$example" --quic=1 --tcp=0 --seconds=2 --pcap=1 --keylog="$dir/keys.txt" >/dev/null
pcap=$(ls quic-dumbbell-*.pcap)
count() {
  tshark -r "$pcap" -o "tls.keylog_file:$dir/keys.txt" -Y "$1" -T fields -e frame.number 2>/dev/null | wc -l
}
hello=$(count "tls.handshake.type == 1")
server_hello=$(count "tls.handshake.type == 2")
stream=$(count "quic.stream.stream_id == 0")
echo "ClientHello packets: $hello, ServerHello: $server_hello, packets with stream 0 data: $stream"
[ "$hello" -ge 1 ] && [ "$server_hello" -ge 1 ] && [ "$stream" -ge 100 ]
