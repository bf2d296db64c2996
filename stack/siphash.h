// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012): a keyed 64-bit PRF over short inputs, integers only. The endpoint
// hashes connection IDs with it under a host secret, so a peer choosing its
// connection IDs cannot aim them at one bucket of the routing table.
#pragma once

#include <cstdint>

#include "base/bytes.h"

namespace quicbed {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;

  // The 16 key bytes as the paper reads them: two little-endian words.
  static SipKey from_bytes(const uint8_t bytes[16]);
};

uint64_t siphash24(const SipKey& key, Bytes data);

}  // namespace quicbed
