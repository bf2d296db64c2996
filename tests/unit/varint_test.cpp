#include "varint.h"

#include <gtest/gtest.h>

#include "hex.h"

namespace quicbed {
namespace {

using test::from_hex;

// RFC 9000 §A.1 sample encodings.
TEST(Varint, RfcSamples) {
  struct {
    const char* hex;
    uint64_t value;
  } cases[] = {
      {"c2197c5eff14e88c", 151288809941952652ULL},
      {"9d7f3e7d", 494878333},
      {"7bbd", 15293},
      {"25", 37},
      {"4025", 37},  // two-byte encoding of 37 is also valid
  };
  for (auto& c : cases) {
    auto bytes = from_hex(c.hex);
    Reader r(test::as_bytes(bytes));
    auto v = read_varint(r);
    ASSERT_TRUE(v.is_ok()) << c.hex;
    EXPECT_EQ(*v, c.value) << c.hex;
    EXPECT_TRUE(r.empty());
  }
}

TEST(Varint, RoundTripBoundaries) {
  const uint64_t values[] = {0, 63, 64, 16383, 16384, (1u << 30) - 1, 1u << 30, kVarintMax};
  const size_t sizes[] = {1, 1, 2, 2, 4, 4, 8, 8};
  for (size_t i = 0; i < std::size(values); ++i) {
    uint8_t buf[8];
    Writer w(MutBytes(buf, sizeof buf));
    ASSERT_TRUE(write_varint(w, values[i]).is_ok());
    EXPECT_EQ(w.position(), sizes[i]);
    EXPECT_EQ(varint_size(values[i]), sizes[i]);
    Reader r(Bytes(buf, w.position()));
    EXPECT_EQ(*read_varint(r), values[i]);
  }
}

TEST(Varint, TooLargeRejected) {
  uint8_t buf[8];
  Writer w(MutBytes(buf, sizeof buf));
  EXPECT_EQ(write_varint(w, kVarintMax + 1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(varint_size(kVarintMax + 1), 0u);
}

TEST(Varint, FixedWidth) {
  uint8_t buf[8];
  Writer w(MutBytes(buf, sizeof buf));
  ASSERT_TRUE(write_varint_fixed(w, 5, 4).is_ok());
  EXPECT_EQ(test::to_hex(Bytes(buf, 4)), "80000005");
  Writer w2(MutBytes(buf, sizeof buf));
  EXPECT_EQ(write_varint_fixed(w2, 64, 1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_varint_fixed(w2, 1, 3).code(), ErrorCode::kInvalidArgument);
}

TEST(Varint, TruncatedInputReturnsCallersError) {
  // Every prefix of every multi-byte encoding must fail without overreading.
  auto full = from_hex("c2197c5eff14e88c");
  for (size_t n = 0; n < full.size(); ++n) {
    Reader r(Bytes(full.data(), n));
    auto v = read_varint(r, ErrorCode::kTransportParameterError);
    ASSERT_FALSE(v.is_ok()) << n;
    EXPECT_EQ(v.status().code(), ErrorCode::kTransportParameterError);
  }
}

TEST(Varint, BufferTooSmall) {
  uint8_t buf[3];
  Writer w(MutBytes(buf, sizeof buf));
  EXPECT_EQ(write_varint(w, 1u << 20).code(), ErrorCode::kBufferTooSmall);
  EXPECT_EQ(w.position(), 0u);
}

}  // namespace
}  // namespace quicbed
