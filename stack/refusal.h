// A server's stateless refusal of a client's first Initial (RFC 9000
// §5.2.2, §8.1.2): an Initial packet carrying CONNECTION_CLOSE, protected
// with the Initial keys of the client's Destination Connection ID (RFC 9001
// §5.2). The userspace Endpoint and the kernel host's stateless answers
// both send it.
#pragma once

#include <cstddef>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto.h"
#include "packet.h"
#include "random.h"

namespace quicbed {

// The refusal of the Initial `h` (a supported version) with `code`:
// CONNECTION_REFUSED (the server takes no connection now) or INVALID_TOKEN
// (a Retry token that fails), a Source Connection ID of `scid_len` random
// bytes; its length in `out`.
Result<size_t> write_initial_refusal(MutBytes out, const PacketHeader& h, ErrorCode code, size_t scid_len,
                                     CryptoBackend& crypto, Random& random);

}  // namespace quicbed
