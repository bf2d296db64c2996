// Stateless reset tokens computed from the connection ID and a host secret
// (RFC 9000 §10.3.2), so that an endpoint which has lost a connection's
// state, or never had it, can still give the token of a connection ID it
// receives a packet for: the connection puts it in its
// stateless_reset_token transport parameter and NEW_CONNECTION_ID frames,
// and the endpoint computes the same for a short header packet addressed
// to a connection ID it does not know (§10.3).
//
// token = the first 16 bytes of HMAC-SHA256(key, connection ID), which is
// HKDF-Extract (RFC 5869 §2.2) with the key as salt and the connection ID
// as input keying material: §10.3.2's "HMAC(static_key, connection_id)".
// The key must stay secret (§10.3.2: whoever knows it can reset every
// connection) and be the same for every endpoint that may see packets of
// the connection (§10.3.2, for clusters behind one address).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "cid.h"
#include "crypto.h"

namespace quicbed {

inline constexpr size_t kResetKeyLen = 32;

// Writes the token for `cid` into `token`. kInvalidArgument unless `key` is
// kResetKeyLen bytes, `cid` at most kMaxCidLen and `token`
// kStatelessResetTokenLen; the backend's errors otherwise.
Status derive_reset_token(CryptoBackend& crypto, Bytes key, Bytes cid, MutBytes token);

}  // namespace quicbed
