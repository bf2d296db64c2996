// The core's base layer: Status/Result, cursors, bounded containers,
// intrusive list and integer math.
#include <gtest/gtest.h>

#include "base/bounded.h"
#include "base/bytes.h"
#include "base/fixed_point.h"
#include "base/intrusive_list.h"
#include "base/status.h"

namespace quicbed {
namespace {

TEST(Status, WireCodes) {
  EXPECT_TRUE(Status::ok().is_ok());
  Status s(ErrorCode::kFrameEncodingError, "bad");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.wire_code(), 0x07u);
  EXPECT_STREQ(s.reason(), "bad");
  // Local conditions never leak onto the wire as themselves.
  Status local(ErrorCode::kNoMemory);
  EXPECT_TRUE(local.is_local());
  EXPECT_EQ(local.wire_code(), 0x01u);
  // RFC 9001 §4.8: CRYPTO_ERROR is 0x0100 + TLS alert.
  EXPECT_EQ(Status::crypto_alert(120).wire_code(), 0x178u);
}

Result<int> half(int v) {
  if (v % 2) return Status(ErrorCode::kInvalidArgument, "odd");
  return v / 2;
}
Result<int> quarter(int v) {
  QB_ASSIGN_OR_RETURN(int h, half(v));
  return half(h);
}

TEST(Result, ValueAndPropagation) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

TEST(Cursor, ReaderNeverOverreads) {
  const uint8_t data[] = {1, 2, 3};
  Reader r(Bytes(data, 3));
  EXPECT_EQ(*r.u16(), 0x0102);
  auto v = r.u16(ErrorCode::kTransportParameterError);
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kTransportParameterError);
  EXPECT_EQ(r.position(), 2u);  // a failed read consumes nothing
  EXPECT_EQ(*r.u8(), 3);
  EXPECT_FALSE(r.bytes(1).is_ok());
}

TEST(Cursor, WriterRefusesOverflow) {
  uint8_t out[3] = {};
  Writer w(MutBytes(out, 3));
  EXPECT_TRUE(w.u16(0xabcd).is_ok());
  EXPECT_EQ(w.u16(1).code(), ErrorCode::kBufferTooSmall);
  EXPECT_TRUE(w.u8(0xef).is_ok());
  EXPECT_EQ(out[0], 0xab);
  EXPECT_EQ(out[2], 0xef);
}

TEST(BoundedVec, RefusesBeyondCapacity) {
  BoundedVec<int, 3> v;
  EXPECT_TRUE(v.push_back(1));
  EXPECT_TRUE(v.push_back(3));
  EXPECT_TRUE(v.insert(1, 2));
  EXPECT_FALSE(v.push_back(4));
  EXPECT_FALSE(v.insert(0, 0));
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 2);
  EXPECT_EQ(v[2], 3);
  v.erase(0);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], 2);
}

struct A {};
struct B {};
struct Elem : ListHook<A>, ListHook<B> {
  explicit Elem(int x) : v(x) {}
  int v;
};

TEST(IntrusiveList, ElementInTwoLists) {
  Elem e1(1), e2(2), e3(3);
  IntrusiveList<Elem, A> la;
  IntrusiveList<Elem, B> lb;
  la.push_back(&e1);
  la.push_back(&e2);
  la.push_back(&e3);
  lb.push_back(&e3);
  lb.push_front(&e1);
  la.remove(&e2);
  EXPECT_EQ(la.size(), 2u);
  EXPECT_EQ(la.front()->v, 1);
  EXPECT_EQ(la.next(la.front())->v, 3);
  EXPECT_EQ(lb.front()->v, 1);
  EXPECT_EQ(lb.back()->v, 3);
  EXPECT_FALSE((IntrusiveList<Elem, A>::linked(&e2)));
  la.insert_before(&e3, &e2);
  EXPECT_EQ(la.next(la.front())->v, 2);
  EXPECT_EQ(la.pop_front()->v, 1);
  EXPECT_EQ(la.size(), 2u);
}

TEST(FixedPoint, MulDivMatchesWideArithmetic) {
  EXPECT_EQ(mul_div(10, 20, 3), 66u);
  // Product above 2^64: 2^63 * 6 / 4 = 3 * 2^62.
  EXPECT_EQ(mul_div(uint64_t{1} << 63, 6, 4), uint64_t{3} << 62);
  EXPECT_EQ(mul_div(0xffffffffffffffffULL, 0xffffffffffffffffULL, 0xffffffffffffffffULL),
            0xffffffffffffffffULL);
  EXPECT_EQ(mul_div(kU64Max, 2, 1), kU64Max);  // saturates
  EXPECT_EQ(mul_div(1, 1, 0), kU64Max);
  // Against a 128-bit reference on a spread of values.
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    uint64_t a = x, b = (x >> 11) | 1, d = (x >> 3) | 1;
    unsigned __int128 ref = static_cast<unsigned __int128>(a) * b / d;
    uint64_t want = ref >> 64 ? kU64Max : static_cast<uint64_t>(ref);
    ASSERT_EQ(mul_div(a, b, d), want) << a << " " << b << " " << d;
  }
}

TEST(FixedPoint, Roots) {
  for (uint64_t v : {0ULL, 1ULL, 2ULL, 26ULL, 27ULL, 28ULL, 1000000ULL, 0xffffffffffffffffULL}) {
    uint64_t c = icbrt(v);
    EXPECT_LE(static_cast<unsigned __int128>(c) * c * c, v);
    EXPECT_GT(static_cast<unsigned __int128>(c + 1) * (c + 1) * (c + 1), v);
    uint64_t s = isqrt(v);
    EXPECT_LE(static_cast<unsigned __int128>(s) * s, v);
    EXPECT_GT(static_cast<unsigned __int128>(s + 1) * (s + 1), v);
  }
  EXPECT_EQ(icbrt(27), 3u);
  EXPECT_EQ(isqrt(1u << 20), 1u << 10);
}

TEST(FixedPoint, PopcountAndUFixed) {
  EXPECT_EQ(popcount64(0), 0u);
  EXPECT_EQ(popcount64(0xffffffffffffffffULL), 64u);
  EXPECT_EQ(popcount64(0x8000000000000001ULL), 2u);
  using Q = UFixed<16>;
  Q beta = Q::ratio(7, 10);  // CUBIC's beta 0.7
  EXPECT_EQ(beta.scale(1000), 699u);  // floor(1000 * 45875/65536)
  EXPECT_EQ((Q::from_int(3) * Q::ratio(1, 2)).to_int(), 1u);
  static_assert(popcount64(0xf0) == 4);
  static_assert(icbrt(64) == 4);
}

}  // namespace
}  // namespace quicbed
