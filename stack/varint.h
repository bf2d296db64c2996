// Variable-length integers, RFC 9000 §16: the two high bits of the first
// byte give the length (1, 2, 4 or 8 bytes); values up to 2^62-1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace quicbed {

inline constexpr uint64_t kVarintMax = (uint64_t{1} << 62) - 1;

// Bytes needed to encode v (0 if v cannot be encoded).
constexpr size_t varint_size(uint64_t v) {
  return v < (1u << 6) ? 1 : v < (1u << 14) ? 2 : v < (uint64_t{1} << 30) ? 4 : v <= kVarintMax ? 8 : 0;
}
// Length from the first byte's two high bits.
constexpr size_t varint_len_from_first(uint8_t first) { return size_t{1} << (first >> 6); }

// A truncated varint fails with `err` (FRAME_ENCODING_ERROR in frames,
// TRANSPORT_PARAMETER_ERROR in transport parameters, kDropPacket in headers).
Result<uint64_t> read_varint(Reader& r, ErrorCode err = ErrorCode::kFrameEncodingError);
// kInvalidArgument if v > 2^62-1, kBufferTooSmall if it does not fit.
Status write_varint(Writer& w, uint64_t v);
// Fixed-width encoding (len 1, 2, 4 or 8), used when a length field is
// reserved before its value is known; kInvalidArgument if v does not fit.
Status write_varint_fixed(Writer& w, uint64_t v, size_t len);

}  // namespace quicbed
