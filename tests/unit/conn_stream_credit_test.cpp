// RFC 9000 §4.6: stream count credit between a real client and server
// Connection. A receiver renews MAX_STREAMS as the peer's streams close
// (once half the credit is used), so that a client opening many short
// streams in a row keeps going instead of stalling on the limit each time.
#include <gtest/gtest.h>

#include <set>

#include "conn_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

struct CreditCase {
  const char* name;
  uint64_t streams;
  uint64_t limit;  // the server's initial_max_streams_uni
};

class StreamCreditTest : public ConnPairTest, public ::testing::WithParamInterface<CreditCase> {};

TEST_P(StreamCreditTest, ManyShortStreamsDoNotStall) {
  const CreditCase& c = GetParam();
  server_.config.params.initial_max_streams_uni = c.limit;
  handshake();
  expect_established();
  const uint64_t start = now_;
  const Buf payload = pattern(100, 7);
  uint64_t opened = 0;
  uint64_t blocked = 0;  // times the client found no credit
  std::set<uint64_t> finished;
  size_t readable_seen = 0;
  run_until(
      [&] {
        while (opened < c.streams) {
          auto id = client_.conn->open_stream(StreamDir::kUni);
          if (!id) {
            ++blocked;
            break;
          }
          ++opened;
          auto n = client_.conn->stream_write(*id, bytes_of(payload), true);
          EXPECT_TRUE(n.is_ok() && *n == payload.size());
        }
        for (; readable_seen < server_.events.readable.size(); ++readable_seen) {
          const uint64_t id = server_.events.readable[readable_seen];
          uint8_t buf[256];
          while (server_.conn->streams().find(id)) {
            auto r = server_.conn->stream_read(id, MutBytes(buf, sizeof buf));
            if (!r) break;
            if (r->fin) finished.insert(id);
            if (r->bytes == 0) break;
          }
        }
        return finished.size() == c.streams;
      },
      now_ + 60 * kSec);
  ASSERT_EQ(finished.size(), c.streams);
  // The credit allows c.limit streams per round trip at most: the ideal is
  // streams / limit round trips. A receiver that renewed the credit only
  // once it was used up, or a round trip late, would need twice that.
  const uint64_t rtt = 2 * kOneWayDelay;
  const uint64_t rounds = (now_ - start + rtt - 1) / rtt;
  const uint64_t ideal = c.streams / c.limit;
  RecordProperty("round_trips", static_cast<int>(rounds));
  EXPECT_LE(rounds, ideal + ideal / 2) << rounds << " round trips, " << blocked << " times blocked";
  expect_established();
}

INSTANTIATE_TEST_SUITE_P(Rfc9000, StreamCreditTest,
                         ::testing::Values(CreditCase{"Thousand", 1000, 100}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace quicbed
