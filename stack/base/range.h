// An inclusive range of integers [lo, hi]: packet numbers in ACK ranges,
// byte offsets in reassembly.
#pragma once

#include <cstdint>

namespace quicbed {

struct Range {
  uint64_t lo = 0;
  uint64_t hi = 0;  // inclusive
  constexpr uint64_t length() const { return hi - lo + 1; }
  constexpr bool contains(uint64_t v) const { return v >= lo && v <= hi; }
  constexpr bool operator==(const Range&) const = default;
};

}  // namespace quicbed
