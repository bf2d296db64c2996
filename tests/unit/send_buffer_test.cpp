#include "send_buffer.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "failing_allocator.h"
#include "reassembly.h"

namespace quicbed {
namespace {

using test::FailingAllocator;
constexpr uint64_t D = SendBuffer::kPageData;
constexpr uint64_t kNoLimit = ~uint64_t{0};

uint8_t byte_at(uint64_t off) { return static_cast<uint8_t>((off * 2654435761u) >> 13); }
std::vector<uint8_t> content(uint64_t off, size_t len) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) v[i] = byte_at(off + i);
  return v;
}

// write() that must succeed; returns how many bytes it took.
size_t write_ok(SendBuffer& b, Bytes data) {
  auto n = b.write(data);
  EXPECT_TRUE(n.is_ok());
  return n.is_ok() ? *n : 0;
}

// Write `len` bytes of the stream content, all of which must be accepted.
void fill(SendBuffer& b, size_t len) {
  const std::vector<uint8_t> v = content(b.write_end(), len);
  auto n = b.write(Bytes(v.data(), v.size()));
  ASSERT_TRUE(n.is_ok());
  ASSERT_EQ(*n, len);
}

struct Sent {
  uint64_t offset;
  uint64_t len;
  bool fin;
};

// A chunk's bytes, gathered from its pieces as a STREAM frame's are.
std::vector<uint8_t> gather(const SendBuffer& b, const SendBuffer::Chunk& c) {
  std::vector<uint8_t> v;
  for (uint64_t at = c.offset; at < c.offset + c.len;) {
    const Bytes piece = b.piece(at, c.offset + c.len - at);
    EXPECT_GT(piece.size(), 0u);
    if (piece.empty()) break;
    v.insert(v.end(), piece.begin(), piece.end());
    at += piece.size();
  }
  return v;
}

// Take the next chunk, check its bytes, and mark it sent.
Sent send(SendBuffer& b, size_t max_len, uint64_t new_data_end = kNoLimit) {
  SendBuffer::Chunk c;
  EXPECT_TRUE(b.next_chunk(max_len, new_data_end, c));
  EXPECT_EQ(gather(b, c), content(c.offset, c.len));
  b.on_sent(c.offset, c.len, c.fin);
  return {c.offset, c.len, c.fin};
}

bool nothing_to_send(const SendBuffer& b, uint64_t new_data_end = kNoLimit) {
  SendBuffer::Chunk c;
  return !b.next_chunk(1 << 20, new_data_end, c);
}

TEST(SendBuffer, SendsNewDataInOrder) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 3000);
  Sent s = send(b, 1000);
  EXPECT_EQ(s.offset, 0u);
  EXPECT_EQ(s.len, 1000u);
  EXPECT_FALSE(s.fin);
  s = send(b, 5000);
  EXPECT_EQ(s.offset, 1000u);
  EXPECT_EQ(s.len, 2000u);
  EXPECT_EQ(b.sent_end(), 3000u);
  EXPECT_TRUE(nothing_to_send(b));
}

TEST(SendBuffer, OnSentReturnsNewBytesOnly) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 300);
  EXPECT_EQ(b.on_sent(0, 100, false), 100u);
  b.on_lost(0, 100, false);
  EXPECT_EQ(b.on_sent(0, 200, false), 100u);  // 0..99 retransmitted, 100..199 new
  EXPECT_EQ(b.sent_end(), 200u);
}

TEST(SendBuffer, ChunksSpanPagesInPieces) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 4 * D);
  fill(b, 2 * D + 10);
  // A chunk is not cut at a page end (one STREAM frame, not two); its
  // first piece is the part in its first page.
  SendBuffer::Chunk c;
  ASSERT_TRUE(b.next_chunk(D + 100, kNoLimit, c));
  EXPECT_EQ(c.len, D + 100);
  EXPECT_EQ(c.data.size(), D);
  EXPECT_EQ(b.piece(D, 1000).size(), 100u + 900u);
  EXPECT_EQ(b.piece(D - 10, 1000).size(), 10u);  // up to the page end
  EXPECT_EQ(send(b, D + 100).len, D + 100);       // the bytes check out, gathered
  EXPECT_EQ(send(b, 50).len, 50u);
  EXPECT_EQ(send(b, 3 * D).len, D - 140);
  EXPECT_TRUE(nothing_to_send(b));
}

TEST(SendBuffer, BackPressureAndAckFreesRoom) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 1000);
  std::vector<uint8_t> v = content(0, 1500);
  EXPECT_EQ(write_ok(b, Bytes(v.data(), v.size())), 1000u);  // bounded
  EXPECT_EQ(b.writable(), 0u);
  EXPECT_EQ(write_ok(b, Bytes(v.data() + 1000, 500)), 0u);  // full: back-pressure, not an error
  send(b, 600);
  EXPECT_EQ(b.writable(), 0u);  // sent is not acknowledged
  b.on_acked(100, 200, false);  // out of order: nothing freed yet
  EXPECT_EQ(b.writable(), 0u);
  b.on_acked(0, 100, false);
  EXPECT_EQ(b.acked_end(), 300u);
  EXPECT_EQ(b.writable(), 300u);
  EXPECT_EQ(write_ok(b, Bytes(v.data() + 1000, 500)), 300u);
}

TEST(SendBuffer, RetransmitsLostDataFirstLowestOffsetFirst) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 2500);
  for (int i = 0; i < 4; ++i) send(b, 500);  // 0..1999 sent
  b.on_lost(1000, 500, false);
  b.on_lost(0, 500, false);
  b.on_acked(500, 500, false);
  Sent s = send(b, 300);
  EXPECT_EQ(s.offset, 0u);
  EXPECT_EQ(s.len, 300u);
  s = send(b, 1000);
  EXPECT_EQ(s.offset, 300u);
  EXPECT_EQ(s.len, 200u);  // one lost range at a time
  s = send(b, 1000);
  EXPECT_EQ(s.offset, 1000u);
  EXPECT_EQ(s.len, 500u);
  s = send(b, 1000);  // then new data
  EXPECT_EQ(s.offset, 2000u);
  EXPECT_EQ(s.len, 500u);
  EXPECT_TRUE(nothing_to_send(b));
}

TEST(SendBuffer, RetransmissionIgnoresTheFlowControlLimit) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 2000);
  send(b, 1000, 1000);
  EXPECT_TRUE(nothing_to_send(b, 1000));  // new data is blocked at 1000
  b.on_lost(0, 1000, false);
  Sent s = send(b, 5000, 1000);
  EXPECT_EQ(s.offset, 0u);
  EXPECT_EQ(s.len, 1000u);
  s = send(b, 5000, 1500);
  EXPECT_EQ(s.offset, 1000u);
  EXPECT_EQ(s.len, 500u);
}

TEST(SendBuffer, SkipsLostBytesAcknowledgedThroughAnotherCopy) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 3000);
  send(b, 3000);
  b.on_lost(0, 3000, false);
  b.on_acked(1000, 1000, false);  // a retransmission that got through
  Sent s = send(b, 5000);
  EXPECT_EQ(s.offset, 0u);
  EXPECT_EQ(s.len, 1000u);
  s = send(b, 5000);
  EXPECT_EQ(s.offset, 2000u);
  EXPECT_EQ(s.len, 1000u);
  EXPECT_TRUE(nothing_to_send(b));
  // Declared lost after its bytes were acknowledged: nothing to resend.
  b.on_lost(1000, 1000, false);
  EXPECT_TRUE(nothing_to_send(b));
}

TEST(SendBuffer, AckingFreesPagesOnlyFromTheStart) {
  FailingAllocator alloc;
  {
    SendBuffer b(alloc, 10 * D);
    fill(b, 3 * D);
    EXPECT_EQ(alloc.bytes_in_use(), 3 * SendBuffer::kPageSize);
    while (b.has_unsent_data()) send(b, 1200);
    b.on_acked(D, 2 * D, false);
    EXPECT_EQ(alloc.bytes_in_use(), 3 * SendBuffer::kPageSize);  // page 0 still unacknowledged
    b.on_acked(0, D - 1, false);
    EXPECT_EQ(alloc.bytes_in_use(), 3 * SendBuffer::kPageSize);
    b.on_acked(D - 1, 1, false);
    EXPECT_EQ(b.acked_end(), 3 * D);
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
    fill(b, 10);  // continues at offset 3D on a new page
    EXPECT_EQ(send(b, 100).offset, 3 * D);
    EXPECT_EQ(alloc.bytes_in_use(), SendBuffer::kPageSize);
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(SendBuffer, FinRidesOnTheLastChunk) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 1500);
  ASSERT_TRUE(b.finish().is_ok());
  EXPECT_FALSE(send(b, 1000).fin);
  Sent s = send(b, 1000);
  EXPECT_EQ(s.offset, 1000u);
  EXPECT_EQ(s.len, 500u);
  EXPECT_TRUE(s.fin);
  EXPECT_TRUE(nothing_to_send(b));
  b.on_acked(0, 1500, false);
  EXPECT_FALSE(b.all_acked());
  b.on_acked(1000, 500, true);
  EXPECT_TRUE(b.all_acked());
}

TEST(SendBuffer, FinAloneAfterAllDataWasSent) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 100);
  send(b, 1000);
  ASSERT_TRUE(b.finish().is_ok());
  Sent s = send(b, 0);  // an empty STREAM frame with FIN needs no data room
  EXPECT_EQ(s.offset, 100u);
  EXPECT_EQ(s.len, 0u);
  EXPECT_TRUE(s.fin);
  EXPECT_TRUE(nothing_to_send(b));
  // Lost: the FIN goes again, alone.
  b.on_lost(100, 0, true);
  s = send(b, 1000);
  EXPECT_EQ(s.offset, 100u);
  EXPECT_TRUE(s.fin);
  b.on_acked(0, 100, false);
  b.on_acked(100, 0, true);
  EXPECT_TRUE(b.all_acked());
}

TEST(SendBuffer, FinWaitsForDataBlockedByFlowControl) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 100);
  ASSERT_TRUE(b.finish().is_ok());
  EXPECT_FALSE(send(b, 1000, 50).fin);
  EXPECT_TRUE(nothing_to_send(b, 50));
  EXPECT_TRUE(send(b, 1000, 100).fin);
}

TEST(SendBuffer, LostDataAndFinGoTogether) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  fill(b, 100);
  ASSERT_TRUE(b.finish().is_ok());
  ASSERT_TRUE(send(b, 1000).fin);
  b.on_lost(0, 100, true);
  Sent s = send(b, 60);
  EXPECT_FALSE(s.fin);
  s = send(b, 60);
  EXPECT_EQ(s.offset, 60u);
  EXPECT_TRUE(s.fin);
  EXPECT_TRUE(nothing_to_send(b));
}

TEST(SendBuffer, WriteAfterFinishAndFinishTwiceAreRefused) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10000);
  ASSERT_TRUE(b.finish().is_ok());
  const uint8_t x = 1;
  auto n = b.write(Bytes(&x, 1));
  ASSERT_FALSE(n.is_ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.finish().code(), ErrorCode::kInvalidArgument);
}

TEST(SendBuffer, DiscardFreesEverything) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 10 * D);
  fill(b, 3 * D);
  ASSERT_TRUE(b.finish().is_ok());
  send(b, 1000);
  b.on_lost(0, 1000, false);
  b.discard();
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
  EXPECT_EQ(b.sent_end(), 1000u);  // the final size of the reset
  EXPECT_TRUE(nothing_to_send(b));
}

// The two tests below need more holes than the range sets hold.
static_assert(SendBuffer::kMaxRanges < 34, "the overflow tests would not overflow");

TEST(SendBuffer, TooManyOutOfOrderAcksCostRetransmissionsOnly) {
  FailingAllocator alloc;
  {
    SendBuffer b(alloc, 100000);
    fill(b, 100 * 100);
    while (b.has_unsent_data()) send(b, 100);
    // Acknowledge every other frame, leaving 50 holes: more than the sets
    // can hold.
    for (uint64_t i = 1; i < 100; i += 2) b.on_acked(i * 100, 100, false);
    for (uint64_t i = 0; i < 100; i += 2) b.on_lost(i * 100, 100, false);
    // Retransmit until everything is acknowledged; each round acks what it
    // sends. Bytes resent although acknowledged are the price of the bound.
    uint64_t resent = 0;
    SendBuffer::Chunk c;
    while (b.next_chunk(1000, kNoLimit, c)) {
      resent += c.len;
      b.on_sent(c.offset, c.len, c.fin);
      b.on_acked(c.offset, c.len, c.fin);
      ASSERT_LT(resent, 100u * 100u);
    }
    EXPECT_EQ(b.acked_end(), 10000u);
    EXPECT_GE(resent, 50u * 100u);
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(SendBuffer, TooManyLostRangesAreWidenedNotForgotten) {
  FailingAllocator alloc;
  SendBuffer b(alloc, 100000);
  fill(b, 100 * 100);
  while (b.has_unsent_data()) send(b, 100);
  for (uint64_t i = 0; i < 100; i += 3) b.on_lost(i * 100, 100, false);
  // Every lost byte is resent (with some neighbours the widening added).
  std::vector<bool> resent(10000, false);
  SendBuffer::Chunk c;
  while (b.next_chunk(100000, kNoLimit, c)) {
    for (uint64_t o = c.offset; o < c.offset + c.len; ++o) resent[o] = true;
    b.on_sent(c.offset, c.len, c.fin);
  }
  for (uint64_t i = 0; i < 100; i += 3) {
    for (uint64_t o = i * 100; o < i * 100 + 100; ++o) ASSERT_TRUE(resent[o]) << o;
  }
}

// Writing through an allocator refusing every nth page: partial writes and
// kNoMemory, never a crash or a leak, and the data comes out intact.
// write_space/commit: the host copies into the buffer itself, a page at a
// time, within the bound; a commit short of the space (a fault part way
// through the application's bytes) keeps only what it names.
TEST(SendBuffer, WriteInPlace) {
  FailingAllocator alloc;
  SendBuffer b(alloc, D + 100);
  const std::vector<uint8_t> v = content(0, D + 100);
  // write_space() that must succeed.
  const auto space_of = [&b]() {
    auto space = b.write_space();
    EXPECT_TRUE(space.is_ok());
    return space.is_ok() ? *space : MutBytes();
  };
  MutBytes space = space_of();
  ASSERT_EQ(space.size(), D);  // to the end of the first page
  copy_bytes(space.data(), v.data(), 10);
  b.commit(10);
  EXPECT_EQ(b.write_end(), 10u);
  space = space_of();
  ASSERT_EQ(space.size(), D - 10);
  copy_bytes(space.data(), v.data() + 10, D - 10);
  b.commit(D - 10);
  space = space_of();  // a second page, only as far as the bound
  ASSERT_EQ(space.size(), 100u);
  copy_bytes(space.data(), v.data() + D, 100);
  b.commit(0);  // nothing taken: the page waits for the next write
  EXPECT_EQ(b.write_end(), D);
  EXPECT_EQ(write_ok(b, Bytes(v.data() + D, 100)), 100u);
  EXPECT_TRUE(space_of().empty());  // full
  while (b.has_unsent_data()) {
    const Sent s = send(b, 1000);  // checks the bytes against content()
    b.on_acked(s.offset, s.len, s.fin);
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
  ASSERT_TRUE(b.finish().is_ok());
  auto after = b.write_space();
  ASSERT_FALSE(after.is_ok());
  EXPECT_EQ(after.status().code(), ErrorCode::kInvalidArgument);
}

TEST(SendBuffer, WriteSpaceWithoutMemory) {
  FailingAllocator alloc(1);  // every allocation fails
  SendBuffer b(alloc, 1000);
  auto space = b.write_space();
  ASSERT_FALSE(space.is_ok());
  EXPECT_EQ(space.status().code(), ErrorCode::kNoMemory);
  EXPECT_EQ(b.write_end(), 0u);
}

TEST(SendBuffer, AllocationFailures) {
  for (unsigned every = 1; every <= 5; ++every) {
    FailingAllocator alloc(every);
    {
      SendBuffer b(alloc, 20 * D);
      const std::vector<uint8_t> v = content(0, 10 * D + 123);
      if (every == 1) {  // every allocation fails: nothing is stored
        auto n = b.write(Bytes(v.data(), v.size()));
        ASSERT_FALSE(n.is_ok());
        EXPECT_EQ(n.status().code(), ErrorCode::kNoMemory);
        EXPECT_EQ(b.write_end(), 0u);
        EXPECT_EQ(b.writable(), 20 * D);
      } else {
        size_t done = 0;
        for (int calls = 0; done < v.size() && calls < 1000; ++calls) {
          auto n = b.write(Bytes(v.data() + done, v.size() - done));
          if (n.is_ok()) {
            done += *n;
          } else {
            ASSERT_EQ(n.status().code(), ErrorCode::kNoMemory);
          }
        }
        ASSERT_EQ(done, v.size());
        EXPECT_GT(alloc.failures(), 0u);
        while (b.has_unsent_data()) {
          const Sent s = send(b, 1400);
          b.on_acked(s.offset, s.len, s.fin);
        }
        EXPECT_EQ(alloc.bytes_in_use(), 0u);
      }
      // Whatever this stores (or not) is freed with the buffer.
      (void)b.write(Bytes(v.data(), 2 * D));
    }
    EXPECT_EQ(alloc.bytes_in_use(), 0u) << every;
  }
}

// A lossy, reordering path: random losses and acknowledgements, everything
// the buffer sends lands in a reassembly buffer, which must end up with the
// exact stream, while the sender frees all its memory.
TEST(SendBuffer, RandomLossDeliversTheExactStream) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    FailingAllocator alloc;
    const uint64_t total = 40000;
    {
      SendBuffer b(alloc, 8 * D);
      ReassemblyBuffer r(alloc, {1 << 20, 1000, ErrorCode::kFlowControlError});
      struct Flight {
        Sent s;
        bool dropped;
      };
      std::vector<Flight> in_flight;
      std::vector<uint8_t> got;
      int rounds = 0;
      while (!b.all_acked() && ++rounds < 100000) {
        if (b.write_end() < total && b.writable() > 0) {
          fill(b, static_cast<size_t>(std::min<uint64_t>({b.writable(), total - b.write_end(), rng() % 3000 + 1})));
          if (b.write_end() == total) {
            ASSERT_TRUE(b.finish().is_ok());
          }
        }
        SendBuffer::Chunk c;
        if (b.next_chunk(rng() % 1400 + 1, kNoLimit, c)) {
          const bool dropped = rng() % 5 == 0;
          if (!dropped) {
            const std::vector<uint8_t> data = gather(b, c);
            ASSERT_TRUE(r.insert(c.offset, Bytes(data.data(), data.size()), c.fin).is_ok());
          }
          b.on_sent(c.offset, c.len, c.fin);
          in_flight.push_back({{c.offset, c.len, c.fin}, dropped});
        }
        // Resolve a random in-flight frame, in any order: a dropped one is
        // declared lost; a delivered one is acknowledged, or now and then
        // spuriously declared lost.
        if (!in_flight.empty() && (rng() % 2 || !b.next_chunk(1400, kNoLimit, c))) {
          const size_t i = rng() % in_flight.size();
          const Flight f = in_flight[i];
          in_flight.erase(in_flight.begin() + static_cast<long>(i));
          if (f.dropped || rng() % 10 == 0) {
            b.on_lost(f.s.offset, f.s.len, f.s.fin);
          } else {
            b.on_acked(f.s.offset, f.s.len, f.s.fin);
          }
        }
        std::vector<uint8_t> buf(rng() % 5000);
        const size_t n = r.read(MutBytes(buf.data(), buf.size()));
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(n));
      }
      ASSERT_TRUE(b.all_acked()) << seed;
      std::vector<uint8_t> rest(total);
      const size_t n = r.read(MutBytes(rest.data(), rest.size()));
      got.insert(got.end(), rest.begin(), rest.begin() + static_cast<long>(n));
      EXPECT_EQ(got, content(0, total)) << seed;
      EXPECT_TRUE(r.finished());
    }
    EXPECT_EQ(alloc.bytes_in_use(), 0u) << seed;
  }
}

}  // namespace
}  // namespace quicbed
