// A flood of Initials against a server Endpoint that answers new clients
// with Retry (RFC 9000 §8.1.2): thousands of fake clients, each from its
// own address (spoofed source ports), each Initial with a fresh
// Destination Connection ID, arriving all the time. Retry is stateless: the
// endpoint's memory and connection count do not move with the flood, and
// a legitimate client, arriving in the middle of it, gets its Retry,
// completes its handshake and a small echo exchange within a bounded time.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "endpoint_pair.h"

namespace quicbed::test {
namespace {

class InitialFloodTest : public EndpointPairTest {
 protected:
  void SetUp() override {
    EndpointPairTest::SetUp();
    config_.validation.retry = true;
    for (uint8_t i = 0; i < kTokenKeyLen; ++i) config_.validation.token_key[i] = static_cast<uint8_t>(0x40 + i);
  }

  // A client's first Initial as a flooder sends it: a valid header, a
  // fresh DCID, 1200 bytes; the payload need not decrypt, as the server
  // answers with a Retry before it opens anything.
  Buf flood_initial() {
    Buf dcid(8), scid(8);
    rng_.fill(MutBytes(dcid.data(), dcid.size()));
    rng_.fill(MutBytes(scid.data(), scid.size()));
    Buf d(1200);
    rng_.fill(MutBytes(d.data(), d.size()));
    Writer w{MutBytes(d.data(), d.size())};
    LongHeader h;
    h.dcid = bytes_of(dcid);
    h.scid = bytes_of(scid);
    h.pn_len = 4;
    auto layout = write_long_header(w, h);
    EXPECT_TRUE(layout.is_ok());
    EXPECT_TRUE(write_length_field(MutBytes(d.data(), d.size()), layout->length_offset, d.size() - layout->pn_offset)
                    .is_ok());
    return d;
  }

  // `per_ms` flood Initials each millisecond for `duration`, each from the
  // next of kFakeClients addresses, while the simulation runs.
  void flood_for(uint64_t duration, int per_ms, const std::function<bool()>& done = nullptr) {
    const uint64_t end = now_ + duration;
    while (now_ < end && !(done && done())) {
      for (int i = 0; i < per_ms; ++i) {
        inject(flood_initial(), kStrayBase + static_cast<uint32_t>(flooded_++ % kFakeClients));
      }
      run_for(kMs);
      peak_bytes_ = std::max(peak_bytes_, server_alloc_.bytes_in_use());
      peak_connections_ = std::max<size_t>(peak_connections_, host_.live.size());
    }
  }

  static constexpr size_t kFakeClients = 4096;
  TestRandom rng_{0xf100d};
  size_t flooded_ = 0;
  size_t peak_bytes_ = 0;
  size_t peak_connections_ = 0;
};

TEST_F(InitialFloodTest, ServerStaysResponsiveAndStateless) {
  constexpr int kPerMs = 20;  // 20,000 Initials a second
  start_server();
  const size_t idle_bytes = server_alloc_.bytes_in_use();
  flood_for(500 * kMs, kPerMs);
  run_for(2 * kOneWayDelay);  // the last Initials arrive, their Retries leave
  // Stateless: not a byte nor a connection more for 10,000 Initials.
  EXPECT_EQ(peak_bytes_, idle_bytes);
  EXPECT_EQ(peak_connections_, 0u);
  EXPECT_EQ(host_.creates, 0);
  // Every one of them got its Retry (a Retry is smaller than the Initial
  // it answers: it reflects nothing).
  EXPECT_EQ(endpoint_->stats().retries_sent, flooded_);
  const size_t strays_before = strays_.size();
  EXPECT_EQ(strays_before, flooded_);

  // A legitimate client in the middle of the flood.
  TestClient& c = add_client();
  const uint64_t start = now_;
  bool echoed = false;
  uint64_t stream = 0;
  const Buf hello = {'h', 'e', 'l', 'l', 'o'};
  flood_for(3 * kSec, kPerMs, [&] {
    if (!c.conn->handshake_confirmed()) return false;
    if (stream == 0) {
      auto id = c.conn->open_stream(StreamDir::kBidi);
      EXPECT_TRUE(id.is_ok());
      stream = *id + 1;
      EXPECT_TRUE(c.conn->stream_write(*id, bytes_of(hello), true).is_ok());
    }
    uint8_t buf[64];
    auto r = c.conn->stream_read(stream - 1, MutBytes(buf, sizeof buf));
    if (r && r->bytes == hello.size() && Buf(buf, buf + r->bytes) == hello) echoed = true;
    return echoed;
  });
  ASSERT_TRUE(c.conn->handshake_confirmed()) << "no handshake after " << (now_ - start) / kMs << " ms of flood";
  EXPECT_TRUE(c.conn->retry_received());
  EXPECT_TRUE(echoed);
  // Four round trips (Retry, handshake, HANDSHAKE_DONE, echo) and no
  // retransmission: a lost Initial would have cost a PTO (RFC 9002 §6.2.2:
  // three times the initial RTT of 333 ms) on top.
  EXPECT_LT(now_ - start, 500 * kMs);
  EXPECT_EQ(host_.creates, 1);
  EXPECT_EQ(peak_connections_, 1u);
  RecordProperty("flood_initials", static_cast<int>(flooded_));
  RecordProperty("client_ms", static_cast<int>((now_ - start) / kMs));
}

}  // namespace
}  // namespace quicbed::test
