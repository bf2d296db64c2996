// Byte spans and bounds-checked cursors. Every parser in the core reads
// through Reader and every serializer writes through Writer, so no codec
// indexes raw memory: a short input becomes an error, never an overread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"

namespace quicbed {

using Bytes = std::span<const uint8_t>;
using MutBytes = std::span<uint8_t>;

inline void copy_bytes(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n) __builtin_memcpy(dst, src, n);
}
inline bool bytes_equal(Bytes a, Bytes b) {
  return a.size() == b.size() && (a.empty() || __builtin_memcmp(a.data(), b.data(), a.size()) == 0);
}

class Reader {
 public:
  explicit Reader(Bytes data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  Bytes rest() const { return data_.subspan(pos_); }
  Bytes consumed() const { return data_.first(pos_); }

  // Each read fails with `err` when the input is too short; callers pass the
  // RFC error that a truncated field means in their context.
  Result<uint8_t> u8(ErrorCode err = ErrorCode::kFrameEncodingError) {
    if (remaining() < 1) return Status(err, "truncated");
    return data_[pos_++];
  }
  Result<uint16_t> u16(ErrorCode err = ErrorCode::kFrameEncodingError) { return be<uint16_t>(2, err); }
  Result<uint32_t> u32(ErrorCode err = ErrorCode::kFrameEncodingError) { return be<uint32_t>(4, err); }
  // Lengths are 64-bit because they come from varints: on a 32-bit host a
  // size_t parameter would silently truncate a hostile 2^32+k to k.
  Result<Bytes> bytes(uint64_t n, ErrorCode err = ErrorCode::kFrameEncodingError) {
    if (remaining() < n) return Status(err, "truncated");
    Bytes b = data_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return b;
  }
  Status skip(uint64_t n, ErrorCode err = ErrorCode::kFrameEncodingError) {
    if (remaining() < n) return Status(err, "truncated");
    pos_ += static_cast<size_t>(n);
    return Status::ok();
  }
  // Peek without consuming; 0 if empty (callers check remaining()).
  uint8_t peek() const { return empty() ? 0 : data_[pos_]; }

 private:
  template <typename T>
  Result<T> be(size_t n, ErrorCode err) {
    if (remaining() < n) return Status(err, "truncated");
    T v = 0;
    for (size_t i = 0; i < n; ++i) v = static_cast<T>((v << 8) | data_[pos_ + i]);
    pos_ += n;
    return v;
  }

  Bytes data_;
  size_t pos_ = 0;
};

class Writer {
 public:
  explicit Writer(MutBytes out) : out_(out) {}

  size_t remaining() const { return out_.size() - pos_; }
  size_t position() const { return pos_; }
  MutBytes written() const { return out_.first(pos_); }
  uint8_t* cursor() const { return out_.data() + pos_; }

  Status u8(uint8_t v) { return be(v, 1); }
  Status u16(uint16_t v) { return be(v, 2); }
  Status u32(uint32_t v) { return be(v, 4); }
  // Big-endian integer of 1..8 bytes (packet numbers use 1..4).
  Status be(uint64_t v, size_t n) {
    if (remaining() < n) return ErrorCode::kBufferTooSmall;
    for (size_t i = 0; i < n; ++i) out_[pos_ + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    pos_ += n;
    return Status::ok();
  }
  Status bytes(Bytes b) {
    if (remaining() < b.size()) return ErrorCode::kBufferTooSmall;
    copy_bytes(out_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
    return Status::ok();
  }
  Status fill(uint8_t v, size_t n) {
    if (remaining() < n) return ErrorCode::kBufferTooSmall;
    if (n) __builtin_memset(out_.data() + pos_, v, n);
    pos_ += n;
    return Status::ok();
  }
  Status advance(size_t n) {
    if (remaining() < n) return ErrorCode::kBufferTooSmall;
    pos_ += n;
    return Status::ok();
  }

 private:
  MutBytes out_;
  size_t pos_ = 0;
};

}  // namespace quicbed
