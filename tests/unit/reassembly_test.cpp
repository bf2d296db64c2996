#include "reassembly.h"

#include <gtest/gtest.h>

#include <vector>

#include "failing_allocator.h"
#include "malloc_allocator.h"

namespace quicbed {
namespace {

constexpr uint64_t D = ReassemblyBuffer::kPageData;
constexpr ReassemblyBuffer::Limits kStream{1 << 20, 8, ErrorCode::kFlowControlError};

// The stream's content: a byte per offset that differs between nearby
// offsets, so a byte stored or read at the wrong place shows.
uint8_t byte_at(uint64_t off) { return static_cast<uint8_t>((off * 2654435761u) >> 13); }
std::vector<uint8_t> content(uint64_t off, size_t len) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) v[i] = byte_at(off + i);
  return v;
}

Status put(ReassemblyBuffer& b, uint64_t off, size_t len, bool fin = false) {
  const std::vector<uint8_t> v = content(off, len);
  return b.insert(off, Bytes(v.data(), v.size()), fin);
}

// Reads everything readable, `chunk` bytes at a time.
std::vector<uint8_t> drain(ReassemblyBuffer& b, size_t chunk = 1 << 16) {
  std::vector<uint8_t> out, buf(chunk);
  while (size_t n = b.read(MutBytes(buf.data(), buf.size()))) out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

using test::FailingAllocator;

TEST(Reassembly, InOrder) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  for (uint64_t off = 0; off < 20000; off += 1000) ASSERT_TRUE(put(b, off, 1000).is_ok());
  EXPECT_EQ(b.readable(), 20000u);
  EXPECT_EQ(b.received_end(), 20000u);
  EXPECT_EQ(drain(b), content(0, 20000));
  EXPECT_EQ(b.read_offset(), 20000u);
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_FALSE(b.finished());
}

TEST(Reassembly, OutOfOrder) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  // 9..1 arrive first: nothing readable while offset 0 is missing.
  for (uint64_t i = 9; i >= 1; --i) {
    ASSERT_TRUE(put(b, i * 1000, 1000).is_ok());
    EXPECT_EQ(b.readable(), 0u);
    EXPECT_TRUE(b.peek().empty());
  }
  ASSERT_TRUE(put(b, 0, 1000).is_ok());
  EXPECT_EQ(b.readable(), 10000u);
  EXPECT_EQ(drain(b), content(0, 10000));
}

TEST(Reassembly, InterleavedHoles) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 0, 100).is_ok());
  ASSERT_TRUE(put(b, 200, 100).is_ok());
  ASSERT_TRUE(put(b, 400, 100).is_ok());
  EXPECT_EQ(b.readable(), 100u);
  EXPECT_EQ(drain(b), content(0, 100));
  ASSERT_TRUE(put(b, 300, 100).is_ok());  // joins 200.. and 400..
  EXPECT_EQ(b.readable(), 0u);
  ASSERT_TRUE(put(b, 100, 100).is_ok());
  EXPECT_EQ(b.readable(), 400u);
  EXPECT_EQ(drain(b), content(100, 400));
}

TEST(Reassembly, OverlapsSpanningSegments) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 100, 50).is_ok());
  ASSERT_TRUE(put(b, 200, 50).is_ok());
  ASSERT_TRUE(put(b, 300, 50).is_ok());
  ASSERT_TRUE(put(b, 120, 200).is_ok());  // overlaps all three, fills both holes
  ASSERT_TRUE(put(b, 50, 60).is_ok());    // overlaps the start
  ASSERT_TRUE(put(b, 0, 50).is_ok());
  EXPECT_EQ(b.readable(), 350u);
  EXPECT_EQ(drain(b), content(0, 350));
}

TEST(Reassembly, DuplicatesAndAlreadyReadIgnored) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 0, 500).is_ok());
  ASSERT_TRUE(put(b, 0, 500).is_ok());
  ASSERT_TRUE(put(b, 100, 10).is_ok());
  EXPECT_EQ(b.readable(), 500u);
  std::vector<uint8_t> buf(300);
  ASSERT_EQ(b.read(MutBytes(buf.data(), buf.size())), 300u);
  EXPECT_EQ(buf, content(0, 300));
  // Wholly read, partly read, and empty-below-read-offset repeats.
  ASSERT_TRUE(put(b, 0, 300).is_ok());
  ASSERT_TRUE(put(b, 250, 400).is_ok());
  ASSERT_TRUE(b.insert(10, {}, false).is_ok());
  EXPECT_EQ(b.read_offset(), 300u);
  EXPECT_EQ(b.readable(), 350u);
  EXPECT_EQ(drain(b), content(300, 350));
}

TEST(Reassembly, HeldBytesAreNotOverwritten) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  const std::vector<uint8_t> first(10, 0xaa), second(30, 0xbb);
  ASSERT_TRUE(b.insert(10, Bytes(first.data(), first.size()), false).is_ok());
  ASSERT_TRUE(b.insert(0, Bytes(second.data(), second.size()), false).is_ok());
  std::vector<uint8_t> expect(30, 0xbb);
  for (size_t i = 10; i < 20; ++i) expect[i] = 0xaa;
  EXPECT_EQ(drain(b), expect);
}

TEST(Reassembly, SmallReadsAcrossPages) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  const size_t total = 3 * D + 123;
  ASSERT_TRUE(put(b, 0, total).is_ok());
  for (size_t chunk : {1, 7}) {
    SCOPED_TRACE(chunk);
    std::vector<uint8_t> buf(chunk);
    const uint64_t start = b.read_offset();
    const size_t n = b.read(MutBytes(buf.data(), buf.size()));
    ASSERT_EQ(n, chunk);
    EXPECT_EQ(buf, content(start, chunk));
  }
  EXPECT_EQ(drain(b, 13), content(8, total - 8));
}

TEST(Reassembly, PeekStopsAtPageBoundary) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 0, D + 100).is_ok());
  b.consume(D - 10);
  Bytes p = b.peek();
  ASSERT_EQ(p.size(), 10u);  // the rest of page 0
  EXPECT_EQ(std::vector<uint8_t>(p.begin(), p.end()), content(D - 10, 10));
  b.consume(10);
  p = b.peek();
  ASSERT_EQ(p.size(), 100u);
  EXPECT_EQ(std::vector<uint8_t>(p.begin(), p.end()), content(D, 100));
  // Peeking does not consume.
  EXPECT_EQ(b.peek().data(), p.data());
  EXPECT_EQ(b.read_offset(), D);
}

TEST(Reassembly, WindowBound) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, {1000, 8, ErrorCode::kFlowControlError});
  EXPECT_EQ(put(b, 900, 101).code(), ErrorCode::kFlowControlError);
  EXPECT_EQ(b.insert(1001, {}, false).code(), ErrorCode::kFlowControlError);
  EXPECT_EQ(b.received_end(), 0u);
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
  ASSERT_TRUE(put(b, 900, 100).is_ok());  // ends exactly at the window
  ASSERT_TRUE(put(b, 0, 400).is_ok());
  EXPECT_EQ(drain(b).size(), 400u);
  // Reading moves the window.
  ASSERT_TRUE(put(b, 1000, 400).is_ok());
  EXPECT_EQ(put(b, 1400, 1).code(), ErrorCode::kFlowControlError);
}

TEST(Reassembly, CryptoWindowError) {
  MallocAllocator alloc;
  // §7.5: at least 4096 bytes of out-of-order CRYPTO data must be buffered.
  ReassemblyBuffer b(alloc, {4096, 8, ErrorCode::kCryptoBufferExceeded});
  ASSERT_TRUE(put(b, 1, 4095).is_ok());
  const Status s = put(b, 4000, 97);
  EXPECT_EQ(s.code(), ErrorCode::kCryptoBufferExceeded);
  EXPECT_EQ(s.wire_code(), 0x0du);
}

TEST(Reassembly, OffsetOverflowIsWindowError) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  const uint8_t x = 0;
  EXPECT_EQ(b.insert(~uint64_t{0}, Bytes(&x, 1), false).code(), ErrorCode::kFlowControlError);
}

TEST(Reassembly, GapBound) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, {1 << 20, 3, ErrorCode::kFlowControlError});
  ASSERT_TRUE(put(b, 100, 10).is_ok());
  ASSERT_TRUE(put(b, 200, 10).is_ok());
  ASSERT_TRUE(put(b, 300, 10).is_ok());
  const size_t held = alloc.bytes_in_use();
  // A fourth disjoint segment is refused, before or after the others: as
  // back-pressure (the packet is dropped unacknowledged), not as a
  // flow-control violation, since the peer stayed within its credit.
  EXPECT_EQ(put(b, 400, 10).code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(put(b, 0, 10).code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(put(b, 150, 10).code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(alloc.bytes_in_use(), held);
  EXPECT_EQ(b.received_end(), 310u);
  // Data that extends or joins existing segments is fine.
  ASSERT_TRUE(put(b, 310, 10).is_ok());  // adjacent after
  ASSERT_TRUE(put(b, 90, 10).is_ok());   // adjacent before
  ASSERT_TRUE(put(b, 210, 90).is_ok());  // joins two: two segments left
  ASSERT_TRUE(put(b, 500, 10).is_ok());  // so a new one fits again
  ASSERT_TRUE(put(b, 0, 90).is_ok());
  EXPECT_EQ(drain(b), content(0, 110));
  ASSERT_TRUE(put(b, 110, 90).is_ok());
  EXPECT_EQ(drain(b), content(110, 210));
}

TEST(Reassembly, CryptoBoundErrors) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, {4096, 1, ErrorCode::kCryptoBufferExceeded});
  ASSERT_TRUE(put(b, 10, 10).is_ok());
  // Too many gaps is back-pressure whatever the stream kind; data beyond the
  // window is the kind's error (RFC 9000 §7.5).
  EXPECT_EQ(put(b, 30, 10).code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(put(b, 4090, 10).code(), ErrorCode::kCryptoBufferExceeded);
}

TEST(Reassembly, FinalSizeFromFin) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 100, 50, true).is_ok());
  EXPECT_TRUE(b.final_size_known());
  EXPECT_EQ(b.final_size(), 150u);
  ASSERT_TRUE(put(b, 0, 100).is_ok());
  ASSERT_TRUE(put(b, 100, 50, true).is_ok());  // repeated FIN, same size
  ASSERT_TRUE(b.insert(150, {}, false).is_ok());  // nothing beyond it
  std::vector<uint8_t> buf(149);
  ASSERT_EQ(b.read(MutBytes(buf.data(), buf.size())), 149u);
  EXPECT_FALSE(b.finished());
  ASSERT_EQ(b.read(MutBytes(buf.data(), buf.size())), 1u);
  EXPECT_TRUE(b.finished());
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(Reassembly, EmptyStreamFin) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(b.insert(0, {}, true).is_ok());
  EXPECT_TRUE(b.finished());
  EXPECT_EQ(b.final_size(), 0u);
  EXPECT_EQ(put(b, 0, 1).code(), ErrorCode::kFinalSizeError);
}

TEST(Reassembly, DataBeyondFinalSize) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 0, 100, true).is_ok());
  const Status s = put(b, 90, 11);
  EXPECT_EQ(s.code(), ErrorCode::kFinalSizeError);
  EXPECT_EQ(s.wire_code(), 0x06u);
  EXPECT_EQ(b.insert(101, {}, false).code(), ErrorCode::kFinalSizeError);
  // Even after everything was read (§4.5: "even after a stream is closed").
  EXPECT_EQ(drain(b).size(), 100u);
  EXPECT_TRUE(b.finished());
  EXPECT_EQ(put(b, 100, 1).code(), ErrorCode::kFinalSizeError);
  EXPECT_EQ(b.received_end(), 100u);
}

TEST(Reassembly, FinalSizeChanged) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 0, 100, true).is_ok());
  EXPECT_EQ(put(b, 0, 99, true).code(), ErrorCode::kFinalSizeError);  // smaller
  EXPECT_EQ(put(b, 50, 51, true).code(), ErrorCode::kFinalSizeError);  // larger
  // RESET_STREAM carries the final size alone.
  EXPECT_EQ(b.insert(120, {}, true).code(), ErrorCode::kFinalSizeError);
  ASSERT_TRUE(b.insert(100, {}, true).is_ok());
  EXPECT_EQ(b.final_size(), 100u);
}

TEST(Reassembly, FinalSizeBelowReceivedData) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 200, 100).is_ok());  // out of order: received up to 300
  EXPECT_EQ(put(b, 0, 250, true).code(), ErrorCode::kFinalSizeError);
  EXPECT_EQ(b.insert(299, {}, true).code(), ErrorCode::kFinalSizeError);
  EXPECT_FALSE(b.final_size_known());
  // Also when the data above was already read.
  ASSERT_TRUE(put(b, 0, 200).is_ok());
  EXPECT_EQ(drain(b).size(), 300u);
  EXPECT_EQ(b.insert(250, {}, true).code(), ErrorCode::kFinalSizeError);
  // Exactly the received size is fine.
  ASSERT_TRUE(b.insert(300, {}, true).is_ok());
  EXPECT_TRUE(b.finished());
}

TEST(Reassembly, FinalSizeErrorsLeaveStateAlone) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 50, 50, true).is_ok());
  const size_t held = alloc.bytes_in_use();
  EXPECT_EQ(put(b, 0, 120).code(), ErrorCode::kFinalSizeError);  // would fill 0..50
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(alloc.bytes_in_use(), held);
  ASSERT_TRUE(put(b, 0, 50).is_ok());
  EXPECT_EQ(drain(b), content(0, 100));
}

TEST(Reassembly, MemoryOnDemandAndReleasedAsRead) {
  MallocAllocator alloc;
  {
    ReassemblyBuffer b(alloc, kStream);
    EXPECT_EQ(alloc.bytes_in_use(), 0u);  // idle: nothing
    ASSERT_TRUE(put(b, 0, 3 * D).is_ok());
    const size_t three_pages = alloc.bytes_in_use();
    EXPECT_GE(three_pages, 3 * ReassemblyBuffer::kPageSize);
    EXPECT_LT(three_pages, 4 * ReassemblyBuffer::kPageSize);
    // A page is released once wholly read, not before.
    b.consume(D - 1);
    EXPECT_EQ(alloc.bytes_in_use(), three_pages);
    b.consume(1);
    EXPECT_EQ(alloc.bytes_in_use(), three_pages - ReassemblyBuffer::kPageSize);
    b.consume(2 * D);
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
    // Far-apart segments cost only their own pages.
    ASSERT_TRUE(put(b, 3 * D + 10, 5).is_ok());
    ASSERT_TRUE(put(b, 200 * D, 5).is_ok());
    EXPECT_LT(alloc.bytes_in_use(), 3 * ReassemblyBuffer::kPageSize);
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);  // destruction releases everything
}

TEST(Reassembly, ReadingLeavesPagesOfLaterSegments) {
  MallocAllocator alloc;
  ReassemblyBuffer b(alloc, kStream);
  ASSERT_TRUE(put(b, 0, 10).is_ok());
  ASSERT_TRUE(put(b, D + 5, 10).is_ok());  // second page
  EXPECT_EQ(drain(b).size(), 10u);
  // Page 0 holds nothing more: only page 1 remains.
  EXPECT_LT(alloc.bytes_in_use(), 2 * ReassemblyBuffer::kPageSize);
  EXPECT_GT(alloc.bytes_in_use(), 0u);
  ASSERT_TRUE(put(b, 10, D - 5).is_ok());
  EXPECT_EQ(drain(b), content(10, D + 5));
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

// Random overlapping inserts and reads, checked against the stream content.
// With `fail_every`, allocations fail periodically: each kNoMemory must leave
// the buffer exactly as it was, and nothing may leak.
void churn(unsigned fail_every, uint64_t seed) {
  FailingAllocator alloc(fail_every);
  constexpr uint64_t kTotal = 40000;
  {
    ReassemblyBuffer b(alloc, {16 * 1024, 6, ErrorCode::kFlowControlError});
    std::vector<uint8_t> got;
    uint64_t x = seed;
    auto rnd = [&x](uint64_t n) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      return (x >> 33) % n;
    };
    int no_memory = 0;
    for (int step = 0; step < 100000 && !b.finished(); ++step) {
      const uint64_t off = b.read_offset() + rnd(12 * 1024) - rnd(2048);
      if (off >= kTotal) continue;
      const uint64_t want = rnd(3000);
      const size_t len = static_cast<size_t>(want < kTotal - off ? want : kTotal - off);
      const bool fin = off + len == kTotal;
      const uint64_t readable = b.readable(), end = b.received_end();
      const size_t mem = alloc.bytes_in_use();
      const Status s = put(b, off, len, fin);
      if (s.code() == ErrorCode::kNoMemory) {
        ++no_memory;
        ASSERT_EQ(b.readable(), readable);
        ASSERT_EQ(b.received_end(), end);
        ASSERT_EQ(alloc.bytes_in_use(), mem);
      } else if (!s.is_ok()) {
        ASSERT_TRUE(s.code() == ErrorCode::kFlowControlError || s.code() == ErrorCode::kLimitExceeded);  // window or gaps
      }
      switch (rnd(4)) {
        case 0: {  // copy out
          std::vector<uint8_t> buf(1 + rnd(5000));
          const size_t n = b.read(MutBytes(buf.data(), buf.size()));
          got.insert(got.end(), buf.begin(), buf.begin() + n);
          break;
        }
        case 1: {  // zero-copy
          const Bytes p = b.peek();
          const size_t n = static_cast<size_t>(rnd(p.size() + 1));
          got.insert(got.end(), p.begin(), p.begin() + n);
          b.consume(n);
          break;
        }
        default:
          break;
      }
    }
    const std::vector<uint8_t> rest = drain(b);
    got.insert(got.end(), rest.begin(), rest.end());
    ASSERT_TRUE(b.finished());
    EXPECT_EQ(got, content(0, kTotal));
    if (fail_every) {
      EXPECT_GT(no_memory, 0);
    }
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(Reassembly, RandomChurn) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    churn(0, seed);
  }
}

TEST(Reassembly, FailingAllocator) {
  // Every 2nd would starve: an empty buffer needs two allocations (segment
  // and page) to accept anything; EveryOtherAllocationFails covers it.
  for (unsigned every = 3; every <= 8; ++every) {
    SCOPED_TRACE(every);
    churn(every, every * 77);
  }
}

TEST(Reassembly, EveryAllocationFails) {
  FailingAllocator alloc(1);
  {
    ReassemblyBuffer b(alloc, kStream);
    EXPECT_EQ(put(b, 0, 100).code(), ErrorCode::kNoMemory);
    EXPECT_EQ(put(b, 0, 100, true).code(), ErrorCode::kNoMemory);
    EXPECT_FALSE(b.final_size_known());  // a failed insert records nothing
    EXPECT_EQ(b.received_end(), 0u);
    EXPECT_EQ(b.readable(), 0u);
    ASSERT_TRUE(b.insert(0, {}, false).is_ok());  // needs no memory
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

// The page allocation fails after the segment node's succeeded: the node is
// released again. A second page for an existing segment fails alone.
TEST(Reassembly, EveryOtherAllocationFails) {
  FailingAllocator alloc(2);
  {
    ReassemblyBuffer b(alloc, kStream);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(put(b, 0, 100).code(), ErrorCode::kNoMemory);  // node ok, page fails
      EXPECT_EQ(alloc.bytes_in_use(), 0u);
    }
    EXPECT_EQ(put(b, 0, 2 * D).code(), ErrorCode::kNoMemory);  // node, page 0 ok, page 1 fails
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
    EXPECT_EQ(b.readable(), 0u);
  }
  FailingAllocator alloc3(3);
  {
    ReassemblyBuffer b(alloc3, kStream);
    ASSERT_TRUE(put(b, 0, 100).is_ok());                         // calls 1, 2
    const size_t held = alloc3.bytes_in_use();
    EXPECT_EQ(put(b, 100, D).code(), ErrorCode::kNoMemory);      // page 1: call 3
    EXPECT_EQ(alloc3.bytes_in_use(), held);
    EXPECT_EQ(b.readable(), 100u);
    ASSERT_TRUE(put(b, 100, D).is_ok());                         // call 4
    EXPECT_EQ(drain(b), content(0, D + 100));
  }
  EXPECT_EQ(alloc3.bytes_in_use(), 0u);
}

}  // namespace
}  // namespace quicbed
