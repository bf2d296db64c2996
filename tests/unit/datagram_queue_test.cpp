// The bounded queue of outgoing DATAGRAM payloads (stack/datagram_queue.h).
#include "datagram_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "failing_allocator.h"

namespace quicbed {
namespace {

using Buf = std::vector<uint8_t>;
Bytes b(const Buf& v) { return Bytes(v.data(), v.size()); }

TEST(DatagramQueue, FifoWithCopies) {
  test::FailingAllocator alloc;
  DatagramQueue q(alloc, 4, 1000);
  Buf a{1, 2, 3}, e{}, c(500, 7);
  ASSERT_TRUE(q.push(b(a)).is_ok());
  ASSERT_TRUE(q.push(b(e)).is_ok());  // RFC 9221 §4: an empty payload is a datagram too
  ASSERT_TRUE(q.push(b(c)).is_ok());
  a[0] = 9;  // the queue holds its own copy
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.bytes(), 503u);
  EXPECT_EQ(alloc.bytes_in_use(), 503u);
  EXPECT_EQ(Buf(q.front().begin(), q.front().end()), (Buf{1, 2, 3}));
  q.pop();
  EXPECT_TRUE(q.front().empty());
  q.pop();
  EXPECT_EQ(Buf(q.front().begin(), q.front().end()), c);
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(DatagramQueue, BoundsAreBackPressure) {
  test::FailingAllocator alloc;
  {
    DatagramQueue q(alloc, 2, 100);
    Buf small(10), big(91);
    ASSERT_TRUE(q.push(b(small)).is_ok());
    EXPECT_EQ(q.push(b(big)).code(), ErrorCode::kLimitExceeded);  // 101 bytes
    ASSERT_TRUE(q.push(b(Buf(90))).is_ok());                     // exactly 100
    EXPECT_EQ(q.push(Bytes()).code(), ErrorCode::kLimitExceeded);  // third one
    EXPECT_EQ(q.size(), 2u);
    q.pop();
    EXPECT_TRUE(q.push(Bytes()).is_ok());
    // The count is clamped to the compile-time bound.
    DatagramQueue wide(alloc, 1000, 1 << 20);
    for (size_t i = 0; i < DatagramQueue::kMaxCount; ++i) ASSERT_TRUE(wide.push(b(small)).is_ok());
    EXPECT_EQ(wide.push(b(small)).code(), ErrorCode::kLimitExceeded);
  }
  // The destructor freed what was still queued.
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(DatagramQueue, AllocatorRefusalIsNoMemory) {
  test::FailingAllocator alloc(1);
  DatagramQueue q(alloc, 4, 1000);
  EXPECT_EQ(q.push(b(Buf(5))).code(), ErrorCode::kNoMemory);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.push(Bytes()).is_ok());  // no allocation needed
  alloc.set_every(0);
  EXPECT_TRUE(q.push(b(Buf(5))).is_ok());
  q.clear();
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

}  // namespace
}  // namespace quicbed
