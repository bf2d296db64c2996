// The ALPN list of a TLS ClientHello (RFC 8446 §4.1.2, RFC 7301 §3.1), read
// by quic.ko before any TLS runs: a client's first Initial is dispatched to
// the listening socket whose ALPN list shares a protocol with it.
#pragma once

#include <cstddef>

#include "base/bytes.h"
#include "base/status.h"

namespace quicbed::kmod {

// The protocols `hello` (a handshake message, from its type byte on)
// offers in its application_layer_protocol_negotiation extension, written
// to `out` separated by commas: the bytes written, 0 when it offers none.
// kInvalidArgument for anything but a whole, well-formed ClientHello (one
// that spans packets not received yet is not whole), kBufferTooSmall when
// the list does not fit.
Result<size_t> client_hello_alpns(Bytes hello, MutBytes out);

}  // namespace quicbed::kmod
