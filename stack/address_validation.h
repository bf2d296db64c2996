// A server's address validation before it keeps any state (RFC 9000 §8.1):
// what to do with a client's first Initial given the token it carries
// (§8.1.2, §8.1.3), the stateless Retry packet (§17.2.5, RFC 9001 §5.8),
// and the tokens for NEW_TOKEN frames. The Endpoint asks; token.h makes
// and opens the tokens.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/status.h"
#include "cid.h"
#include "crypto.h"
#include "packet.h"
#include "random.h"
#include "token.h"

namespace quicbed {

// The part of a client's address a NEW_TOKEN token is bound to, written
// into `out` (room for kMaxTokenAddressLen bytes); its length. A client's
// next connection usually comes from another port (§8.1.3), so a host
// gives the IP address alone.
using TokenAddressFn = size_t (*)(Bytes peer_address, uint8_t* out);
inline constexpr size_t kMaxTokenAddressLen = 64;
// The host's wall clock in microseconds (since any fixed epoch, the same
// on every server instance that shares the token key).
using TokenClockFn = uint64_t (*)();

struct AddressValidationConfig {
  // RFC 9000 §8.1.2: every new client without a valid token gets a Retry,
  // so no connection state exists for an address not proven.
  bool retry = false;
  // §8.1.3: a NEW_TOKEN frame once the handshake completes, so the
  // client's next connection skips the Retry (and the amplification limit).
  bool new_tokens = true;
  TokenLifetimes lifetimes;
  // The host's secret for tokens: the same on every server instance that
  // should accept another's tokens; unpredictable, secret.
  uint8_t token_key[kTokenKeyLen] = {};
  // May be null: NEW_TOKEN tokens are then bound to the whole address.
  TokenAddressFn token_address = nullptr;
  // The clock of the issue times tokens carry and are checked against.
  // §8.1.3: NEW_TOKEN tokens are "valid for a limited time" and are meant
  // for the client's later connections, possibly to a restarted server
  // that kept token_key. The `now` the host passes the core is often a
  // monotonic clock (CLOCK_MONOTONIC, ktime_get) that starts again at
  // boot: against it, a token from before a reboot looks issued in the
  // future (refused), or, once the new uptime passes its issue time, younger
  // than it is (accepted past its lifetime). A host whose token_key outlives
  // a boot sets a wall clock here; null: `now`, good while the key is per
  // boot (or per process).
  TokenClockFn token_clock = nullptr;
};

// What to do with a client's first Initial.
struct Admission {
  enum class Action : uint8_t {
    kAccept,        // a connection, validated or not
    kRetry,         // answer with a Retry (§8.1.2)
    kInvalidToken,  // a Retry token of ours that fails: INVALID_TOKEN (§8.1.2)
  };
  Action action = Action::kAccept;
  bool validated = false;  // the token proved the address (§8.1)
  bool retried = false;    // it was a Retry token: `odcid` is the client's first DCID
  ConnectionId odcid;
};

class AddressValidator {
 public:
  Status init(CryptoBackend& backend, const AddressValidationConfig& config);

  // §8.1.2-§8.1.3 for the Initial `h` from `peer`. A NEW_TOKEN token that
  // fails counts as none (§8.1.3: "proceed as if the client did not have
  // a validated address"); a Retry token that fails is INVALID_TOKEN,
  // since the client will take no second Retry (§8.1.2).
  Admission admit(const PacketHeader& h, Bytes peer, uint64_t now) const;

  // RFC 9000 §17.2.5: a Retry answering `h`, with a fresh Source
  // Connection ID of `cid_len` bytes and a token for `peer`, tagged per
  // RFC 9001 §5.8 (`alloc` holds the pseudo-packet meanwhile).
  Result<size_t> write_retry(MutBytes out, const PacketHeader& h, Bytes peer, size_t cid_len, Random& random,
                             Allocator& alloc, uint64_t now) const;

  // A token for a NEW_TOKEN frame to the client at `peer`, good for a
  // later connection in any version; its length in `out` (kMaxOwnTokenLen
  // bytes of room).
  Result<size_t> new_token(MutBytes out, Bytes peer, Random& random, uint64_t now) const;

  bool new_tokens() const { return config_.new_tokens; }

 private:
  // The time tokens are issued and checked at: the host's token clock, or
  // `now`.
  uint64_t token_time(uint64_t now) const { return config_.token_clock ? config_.token_clock() : now; }
  // The address bytes a NEW_TOKEN token is bound to.
  Bytes token_address(Bytes peer, uint8_t* buf) const;

  CryptoBackend* backend_ = nullptr;
  AddressValidationConfig config_;
  TokenCodec codec_;
};

}  // namespace quicbed
