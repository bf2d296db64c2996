// Packet types and the packet number spaces they belong to (RFC 9000 §12.3,
// §17). Shared by the header codec, the frame rules and the key schedule.
#pragma once

#include <cstdint>

namespace quicbed {

enum class PacketType : uint8_t {
  kInitial,
  kZeroRtt,
  kHandshake,
  kRetry,
  kVersionNegotiation,
  kOneRtt,  // short header
};

// RFC 9000 §12.3: Initial, Handshake and application data (0-RTT and 1-RTT).
enum class PnSpace : uint8_t { kInitial = 0, kHandshake = 1, kApplication = 2 };
inline constexpr int kNumPnSpaces = 3;

constexpr PnSpace pn_space_of(PacketType t) {
  return t == PacketType::kInitial     ? PnSpace::kInitial
         : t == PacketType::kHandshake ? PnSpace::kHandshake
                                       : PnSpace::kApplication;
}

}  // namespace quicbed
