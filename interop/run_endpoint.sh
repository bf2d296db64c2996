#!/bin/bash
# quic-interop-runner entry point of the quicbed image (and of the local
# runner, interop/runner/, which runs this same script in each endpoint
# network namespace with the same environment and paths).
#
# The runner's contract: ROLE=client|server, TESTCASE, REQUESTS (space-
# separated https://server{4,6,46}:443/FILE URLs), SSLKEYLOGFILE, QLOGDIR,
# SERVER_PARAMS / CLIENT_PARAMS (extra options); the server serves /www on
# UDP 443 with /certs/{cert.pem,priv.key}; the client saves each file under
# /downloads + its URL path. A TESTCASE we do not support exits 127 (the
# runner probes with a random name). The simulator's readiness probe (a
# long-header datagram of version 0x57414954) is answered with Version
# Negotiation by the server itself.
set -u

QUICBED=${QUICBED:-quicbed}
ROLE=${ROLE:-}
TESTCASE=${TESTCASE:-}
REQUESTS=${REQUESTS:-}
QLOGDIR=${QLOGDIR:-/logs/qlog}
SSLKEYLOGFILE=${SSLKEYLOGFILE:-/logs/keys.log}
LOGS=${LOGS:-/logs}

# The image's routing (routes through the simulator, checksum offload off).
# The local runner sets the namespaces up itself and has no /setup.sh.
if [ -x /setup.sh ]; then /setup.sh; fi

alpn=hq-interop
client_opts=()
server_opts=()
connections=one        # one: all REQUESTS in one connection; each: one per URL
                       # twice: the first URL, then the rest (a resumed connection)
case "$TESTCASE" in
  handshake|transfer|longrtt|multiplexing|blackhole|amplificationlimit|\
  transferloss|transfercorruption|ipv6|goodput|crosstraffic|rebind-port|rebind-addr)
    ;;
  handshakeloss|handshakecorruption|multiconnect)
    connections=each ;;
  chacha20)
    client_opts+=(--ciphers TLS_CHACHA20_POLY1305_SHA256)
    server_opts+=(--ciphers TLS_CHACHA20_POLY1305_SHA256) ;;
  http3)
    alpn=h3 ;;
  resumption)
    connections=twice ;;
  zerortt)
    connections=twice
    client_opts+=(--early-data); server_opts+=(--early-data) ;;
  retry)
    server_opts+=(--retry) ;;
  keyupdate)
    client_opts+=(--key-update) ;;
  ecn)
    client_opts+=(--ecn on); server_opts+=(--ecn on) ;;
  v2)
    # The client starts in v1 and the server moves it to v2 (RFC 9368
    # compatible negotiation): the server must prefer v2.
    client_opts+=(--version v1 --other-versions "v2,v1")
    server_opts+=(--versions "v2,v1") ;;
  connectionmigration)
    # The runner gave this test case to the server (which offers a
    # preferred address on port 4433 of server46, in both families, and the
    # client, given "transfer", moves there), and later to the client
    # (which migrates actively, to a new local port under a new connection
    # ID, after its first megabyte).
    server_opts+=(--preferred-address 193.167.100.100:4433
                  --preferred-address "[fd00:cafe:cafe:100::100]:4433")
    client_opts+=(--migrate-after 1000000) ;;
  *)
    echo "run_endpoint.sh: unsupported test case '$TESTCASE'" >&2
    exit 127 ;;
esac

mkdir -p "$QLOGDIR" "$LOGS"
common=(--qlog-dir "$QLOGDIR" --keylog "$SSLKEYLOGFILE")
# The server offers both ALPNs and answers in the one its client chose.
client_opts+=(--alpn "$alpn")

if [ "$ROLE" = client ]; then
  # The image waits for the simulator (the local runner starts the client
  # only once its middlebox runs).
  if [ -x /wait-for-it.sh ]; then /wait-for-it.sh sim:57832 -s -t 30; fi
  trust=(--insecure)
  if [ -f /certs/ca.pem ]; then trust=(--ca /certs/ca.pem); fi
  read -r -a urls <<<"$REQUESTS"
  [ ${#urls[@]} -gt 0 ] || { echo "run_endpoint.sh: REQUESTS is empty" >&2; exit 1; }
  fetch() {  # fetch [extra options] -- URL...
    local extra=()
    while [ "$1" != -- ]; do extra+=("$1"); shift; done
    shift
    # shellcheck disable=SC2086  # CLIENT_PARAMS is a list of options
    "$QUICBED" client --download-dir /downloads "${trust[@]}" "${common[@]}" \
      "${client_opts[@]}" "${extra[@]}" ${CLIENT_PARAMS:-} "$@"
  }
  case $connections in
    one) fetch -- "${urls[@]}" ;;
    each)
      for u in "${urls[@]}"; do fetch -- "$u" || exit 1; done ;;
    twice)
      session=$(mktemp -d)/session
      # The first connection only stores the ticket: --early-data applies
      # to the resumed one.
      # shellcheck disable=SC2086  # CLIENT_PARAMS is a list of options
      "$QUICBED" client --download-dir /downloads "${trust[@]}" "${common[@]}" \
        --alpn "$alpn" --session-file "$session" ${CLIENT_PARAMS:-} "${urls[0]}" || exit 1
      [ ${#urls[@]} -gt 1 ] || exit 0
      fetch --session-file "$session" -- "${urls[@]:1}" ;;
  esac
  exit $?
elif [ "$ROLE" = server ]; then
  # shellcheck disable=SC2086
  exec "$QUICBED" server --listen "[::]:443" --cert /certs/cert.pem --key /certs/priv.key \
    --root /www "${common[@]}" "${server_opts[@]}" ${SERVER_PARAMS:-}
else
  echo "run_endpoint.sh: ROLE must be client or server, not '$ROLE'" >&2
  exit 1
fi
