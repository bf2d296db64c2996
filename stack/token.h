// Address validation tokens (RFC 9000 §8.1.2-§8.1.4): what a server puts in
// a Retry packet (§17.2.5) or a NEW_TOKEN frame (§19.7), and checks when a
// client's Initial brings it back. Only the server that made a token reads
// it, so the format is ours (§8.1.4: "the token ... is opaque to the client"):
//
//   kind (1) || nonce (12) || AEAD(issued (8) || ODCID len (1) || ODCID ||
//                                  RSCID len (1) || RSCID) || tag (16)
//
// sealed with AES-128-GCM under a key derived from a host secret, with the
// kind, a QUIC version (the Retry's, or none: address_validation.cpp) and
// the client's address as associated data: a token works only from the
// address it was given to (§8.1.3: "bound to the client's IP address"), and
// nobody without the secret can forge or read one (§8.1.4: integrity and
// confidentiality). The kind byte stays in the clear so that a server can
// tell a Retry token that fails (INVALID_TOKEN, §8.1.2) from a NEW_TOKEN
// token that fails (treated as no token, §8.1.3) before decrypting.
//
// Times are the host's microseconds: a token outlives the server process
// only if the clock does (AddressValidationConfig::token_clock).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "cid.h"
#include "crypto.h"

namespace quicbed {

inline constexpr size_t kTokenKeyLen = 32;
inline constexpr size_t kTokenNonceLen = 12;
// The largest token a client keeps and sends, from Retry or NEW_TOKEN; a
// server's longer token is not used (the client then just goes without).
inline constexpr size_t kMaxTokenLen = 256;
// The largest token TokenCodec makes.
inline constexpr size_t kMaxOwnTokenLen = 1 + kTokenNonceLen + 8 + 1 + kMaxCidLen + 1 + kMaxCidLen + kAeadTagLen;

enum class TokenKind : uint8_t {
  kRetry = 0x52,     // 'R': from a Retry, for the next Initial (§8.1.2)
  kNewToken = 0x4e,  // 'N': from NEW_TOKEN, for a later connection (§8.1.3)
};

struct TokenContent {
  TokenKind kind = TokenKind::kRetry;
  uint64_t issued = 0;  // host time in microseconds
  // Retry tokens: the client's first Destination Connection ID (the
  // original_destination_connection_id to send, §7.3) and the Retry's
  // Source Connection ID, which the next Initial must address (§17.2.5.2).
  ConnectionId odcid;
  ConnectionId rscid;
};

// How long a token is good for once issued. A Retry token is used one
// round trip later, so its lifetime is short (§8.1.3: "a Retry token ...
// SHOULD have a short expiration time"); a NEW_TOKEN token waits for the
// client's next connection.
struct TokenLifetimes {
  uint64_t retry_us = 10'000'000;
  uint64_t new_token_us = 24ull * 3600 * 1'000'000;
};

// The sealing and opening of tokens under one server key. Owns its AEAD
// (returned to the backend on destruction); moves, does not copy.
class TokenCodec {
 public:
  TokenCodec() = default;
  TokenCodec(const TokenCodec&) = delete;
  TokenCodec& operator=(const TokenCodec&) = delete;
  ~TokenCodec() { reset(); }

  // `key` is kTokenKeyLen bytes of host secret; the AEAD key is derived
  // from it with HKDF (RFC 5869). kInvalidArgument for another length, the
  // backend's errors, kNoMemory if it gives no AEAD.
  Status init(CryptoBackend& backend, Bytes key);
  bool ready() const { return aead_ != nullptr; }
  void reset();

  // Writes the token of `c` for `version` and the client `address` into
  // `out` (at least kMaxOwnTokenLen bytes) and returns its length. `nonce`
  // is kTokenNonceLen unpredictable bytes from the host's Random.
  Result<size_t> seal(const TokenContent& c, uint32_t version, Bytes address, Bytes nonce, MutBytes out) const;

  // The content of `token` if this key made it for `version` and `address`
  // and it has not expired at `now`; INVALID_TOKEN otherwise (the reason
  // says which check failed).
  Result<TokenContent> open(Bytes token, uint32_t version, Bytes address, uint64_t now,
                            const TokenLifetimes& lifetimes) const;

  // The kind a token claims by its first byte, without checking it:
  // false when it is none of ours.
  static bool peek_kind(Bytes token, TokenKind* kind);

 private:
  // kind || version || address, the associated data.
  static Result<size_t> aad(TokenKind kind, uint32_t version, Bytes address, MutBytes out);

  CryptoBackend* backend_ = nullptr;
  Aead* aead_ = nullptr;
};

}  // namespace quicbed
