// Connection IDs (RFC 9000 §5.1): up to 20 bytes in QUIC v1 and v2, owned
// inline so a connection keeps them after the packet that carried them is
// gone. Stateless reset tokens (§10.3) travel with them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace quicbed {

inline constexpr size_t kMaxCidLen = 20;               // RFC 9000 §17.2
inline constexpr size_t kStatelessResetTokenLen = 16;  // RFC 9000 §10.3

struct ConnectionId {
  uint8_t len = 0;
  uint8_t bytes[kMaxCidLen] = {};

  Bytes view() const {
    QB_ASSERT(len <= kMaxCidLen);
    return Bytes(bytes, len);
  }
  // False (and unchanged) if b is longer than kMaxCidLen.
  [[nodiscard]] bool assign(Bytes b) {
    if (b.size() > kMaxCidLen) return false;
    len = static_cast<uint8_t>(b.size());
    copy_bytes(bytes, b.data(), b.size());
    return true;
  }
  bool operator==(const ConnectionId& o) const { return bytes_equal(view(), o.view()); }
};

}  // namespace quicbed
