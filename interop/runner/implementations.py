"""The endpoints the local runner pairs, each started as the runner starts
its image: the runner's environment (ROLE, TESTCASE, REQUESTS,
SSLKEYLOGFILE=/logs/keys.log, QLOGDIR=/logs/qlog/) and its paths (/www,
/certs, /downloads, /logs) bound in a private mount namespace.

* ``quicbed``: interop/run_endpoint.sh, the script of our image, with
  QUICBED naming the binary.
* ``quic-go``: quic-go 0.29's own interop server and client (they are
  runner endpoints already: TESTCASE selects what they do, unknown ones
  exit 127); the client takes the URLs as arguments, as its image's script
  passes them.
* ``ngtcp2``: Debian's ngtcp2 0.12.1 examples, which speak HTTP/3 only: a
  script here maps the TESTCASEs they can do to gtlsserver/gtlsclient
  options (the others exit 127). Its peers then speak h3 with it:
  ``client_params``/``server_params`` say how.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "peers")]
import peers as P  # noqa: E402

RUN_ENDPOINT = HERE.parent / "run_endpoint.sh"

# ngtcp2's endpoint script: TESTCASE -> options; $@ are the URLs (client).
_NGTCP2 = r"""
set -u
copts=""; sopts=""; mode=one
case "$TESTCASE" in
  handshake|transfer|http3|multiplexing|longrtt|blackhole|transferloss|\
  transfercorruption|ipv6|goodput|crosstraffic|ecn|rebind-port|rebind-addr) ;;
  multiconnect|handshakeloss|handshakecorruption) mode=each ;;
  chacha20) copts="--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305" ;;  # GnuTLS priority
  retry) sopts="-V" ;;
  connectionmigration)  # the server offers preferred addresses (port 4433)
    sopts="--preferred-ipv4-addr=193.167.100.100:4433 --preferred-ipv6-addr=[fd00:cafe:cafe:100::100]:4433" ;;
  keyupdate) copts="--key-update=100ms" ;;
  resumption) mode=twice; copts2="--disable-early-data" ;;
  zerortt) mode=twice; copts2="" ;;
  *) exit 127 ;;
esac
mkdir -p "$QLOGDIR"
if [ "$ROLE" = server ]; then
  exec "$NGTCP2_SERVER" --quiet --htdocs=/www --qlog-dir="$QLOGDIR" $sopts '*' 443 \
    /certs/priv.key /certs/cert.pem
fi
host=${1#https://}; host=${host%%/*}; port=${host##*:}; host=${host%:*}
host=${host#[}; host=${host%]}
# The handshake may take as long as the runner's test (its own default,
# 10 s, is shorter than amplificationlimit's dropped probes take).
get() { "$NGTCP2_CLIENT" --quiet --exit-on-all-streams-close --download=/downloads \
          --handshake-timeout=60s --qlog-dir="$QLOGDIR" $copts "$@"; }
case $mode in
  one) get "$host" "$port" "$@" ;;
  each) for u in "$@"; do get "$host" "$port" "$u" || exit 1; done ;;
  twice)
    s=$(mktemp -d)
    get --session-file="$s/session" --tp-file="$s/tp" "$host" "$port" "$1" || exit 1
    shift
    [ $# -gt 0 ] || exit 0
    get --session-file="$s/session" --tp-file="$s/tp" $copts2 "$host" "$port" "$@" ;;
esac
"""


@dataclass
class Impl:
    name: str
    alpns: tuple[str, ...]
    # Extra options (SERVER_PARAMS / CLIENT_PARAMS) for this endpoint when
    # its peer speaks only h3.
    h3_params: str = ""
    notes: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, role: str, urls: list[str]) -> list[str]:
        raise NotImplementedError

    def testcase(self, testcase: str, peer: "Impl") -> str:
        """The TESTCASE this endpoint is given against `peer`."""
        return testcase

    def missing(self) -> list[str]:
        """Programs it needs that are not there (an endpoint that cannot
        start would exit 127 like an unsupported test)."""
        progs = [self.env.get(k) for k in ("QUICBED", "NGTCP2_CLIENT", "NGTCP2_SERVER")]
        return [p for p in progs if p and not os.access(p, os.X_OK)]


class Quicbed(Impl):
    def __init__(self, binary: Path) -> None:
        super().__init__("quicbed", ("hq-interop", "h3"), "--alpn h3",
                         "our endpoint through interop/run_endpoint.sh",
                         {"QUICBED": str(binary)})

    def argv(self, role, urls):
        return ["bash", str(RUN_ENDPOINT)]


class QuicGo(Impl):
    def __init__(self) -> None:
        super().__init__("quic-go", ("hq-interop", "h3"), "", "quic-go 0.29 interop programs")

    def testcase(self, testcase: str, peer: Impl) -> str:
        # Its hq-interop test cases in h3 when the peer has only h3.
        if "hq-interop" not in peer.alpns and testcase in ("handshake", "transfer"):
            return "http3"
        return testcase

    def missing(self):
        return [str(p) for p in (P.QUICGO_SERVER, P.QUICGO_CLIENT) if not os.access(p, os.X_OK)]

    def argv(self, role, urls):
        return [str(P.QUICGO_SERVER)] if role == "server" else [str(P.QUICGO_CLIENT), *urls]


class Ngtcp2(Impl):
    def __init__(self) -> None:
        super().__init__("ngtcp2", ("h3",), "", "ngtcp2 0.12.1 (h3 only)",
                         {"NGTCP2_CLIENT": P.NGTCP2_CLIENT, "NGTCP2_SERVER": P.NGTCP2_SERVER})

    def argv(self, role, urls):
        return ["sh", "-c", _NGTCP2, "ngtcp2-endpoint", *urls]


def implementations(quicbed: Path) -> dict[str, Impl]:
    return {i.name: i for i in (Quicbed(quicbed), Ngtcp2(), QuicGo())}


def params_for(impl: Impl, peer: Impl) -> str:
    """SERVER_PARAMS / CLIENT_PARAMS for `impl` facing `peer`: h3 when the
    peer has no hq-interop."""
    return impl.h3_params if "hq-interop" not in peer.alpns else ""


def describe(impl: Impl, role: str, urls: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in impl.argv(role, urls))
