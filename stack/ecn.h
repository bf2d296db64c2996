// ECN codepoints of the IP header (RFC 3168 §5) as the host reads them from
// a received datagram; a QUIC receiver counts them per packet number space
// and reports the counts in ACK frames (RFC 9000 §13.4.1).
#pragma once

#include <cstdint>

namespace quicbed {

enum class Ecn : uint8_t { kNotEct = 0, kEct1 = 1, kEct0 = 2, kCe = 3 };

}  // namespace quicbed
