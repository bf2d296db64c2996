// Hex helpers for test vectors copied from the RFCs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"

namespace quicbed::test {

// Parses hex, ignoring whitespace; aborts the test binary on bad input.
std::vector<uint8_t> from_hex(std::string_view hex);
std::string to_hex(Bytes b);
inline Bytes as_bytes(const std::vector<uint8_t>& v) { return Bytes(v.data(), v.size()); }

}  // namespace quicbed::test
