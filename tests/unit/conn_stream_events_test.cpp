// What a Connection reports about its streams and keys beyond data
// (ConnectionEvents): state changes of the sending and receiving parts
// (RFC 9000 §3.1, §3.2), raised limits (MAX_STREAM_DATA §19.10, MAX_STREAMS
// §19.11), and key updates both ends completed (RFC 9001 §6).
#include <gtest/gtest.h>

#include <vector>

#include "conn_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;
using Change = Events::StreamChange;

class ConnStreamEventsTest : public ExchangePairTest {
 protected:
  // A unidirectional stream of the client's with `n` bytes on their way
  // (not ended), once they arrived.
  uint64_t uni_with_data(size_t n, uint8_t seed) {
    auto id = client_.conn->open_stream(StreamDir::kUni);
    EXPECT_TRUE(id.is_ok() && client_.conn->stream_write(*id, bytes_of(pattern(n, seed)), false).is_ok());
    run_for(100 * kMs);
    return id.is_ok() ? *id : 0;
  }
};

constexpr int kSend(SendState s) { return static_cast<int>(s); }
constexpr int kRecv(RecvState s) { return static_cast<int>(s); }

TEST_F(ConnStreamEventsTest, DataAcknowledgedAndReceived) {
  handshake();
  const uint64_t id = exchange(10'000, 500, 1);
  run_for(1 * kSec);  // the last acknowledgments
  // In order, so Size Known is passed through, not reported; the request's
  // first packet, without its end, reports Recv (data pending), the
  // answer's only one Data Recvd alone.
  EXPECT_EQ(server_.events.recv_states, (std::vector<Change>{{id, kRecv(RecvState::kRecv), 0},
                                                             {id, kRecv(RecvState::kDataRecvd), 10'000}}));
  EXPECT_EQ(client_.events.recv_states, (std::vector<Change>{{id, kRecv(RecvState::kDataRecvd), 500}}));
  EXPECT_EQ(client_.events.send_states, (std::vector<Change>{{id, kSend(SendState::kDataRecvd), 0}}));
  EXPECT_EQ(server_.events.send_states, (std::vector<Change>{{id, kSend(SendState::kDataRecvd), 0}}));
  EXPECT_TRUE(client_.events.key_updates.empty());
}

TEST_F(ConnStreamEventsTest, FinBeforeTheDataUnderItIsSizeKnown) {
  handshake();
  auto id = client_.conn->open_stream(StreamDir::kUni);
  ASSERT_TRUE(id.is_ok());
  // The first datagram of the stream arrives after the rest, FIN included.
  const size_t first = sent_[kToServer].size();
  filter_ = [first](Dir d, size_t i, uint64_t) {
    return Verdict{Verdict::Fate::kDeliver, d == kToServer && i == first ? 30 * kMs : 0};
  };
  ASSERT_EQ(*client_.conn->stream_write(*id, bytes_of(pattern(3000, 3)), true), 3000u);
  run_for(200 * kMs);
  EXPECT_EQ(server_.events.recv_states, (std::vector<Change>{{*id, kRecv(RecvState::kRecv), 0},
                                                             {*id, kRecv(RecvState::kSizeKnown), 0},
                                                             {*id, kRecv(RecvState::kDataRecvd), 3000}}));
}

TEST_F(ConnStreamEventsTest, RecvIsReportedOnceWhileTheEndIsToCome) {
  handshake();
  const uint64_t id = uni_with_data(100, 7);
  EXPECT_EQ(server_.events.recv_states, (std::vector<Change>{{id, kRecv(RecvState::kRecv), 0}}));
  // More data, then the end: no second Recv.
  ASSERT_EQ(*client_.conn->stream_write(id, bytes_of(pattern(100, 8)), false), 100u);
  run_for(100 * kMs);
  ASSERT_EQ(*client_.conn->stream_write(id, Bytes(), true), 0u);
  run_for(100 * kMs);
  EXPECT_EQ(server_.events.recv_states, (std::vector<Change>{{id, kRecv(RecvState::kRecv), 0},
                                                             {id, kRecv(RecvState::kDataRecvd), 200}}));
}

TEST_F(ConnStreamEventsTest, StopSendingResetsAndTheResetIsAcknowledged) {
  handshake();
  const uint64_t id = uni_with_data(100, 4);
  ASSERT_TRUE(server_.conn->stream_stop_sending(id, 0x33).is_ok());
  run_for(300 * kMs);
  // §3.5: the peer's STOP_SENDING resets the sending part (Reset Sent),
  // with its code; the RESET_STREAM's acknowledgment ends it.
  EXPECT_EQ(client_.events.send_states, (std::vector<Change>{{id, kSend(SendState::kResetSent), 0x33},
                                                             {id, kSend(SendState::kResetRecvd), 0x33}}));
}

TEST_F(ConnStreamEventsTest, OurResetIsReportedOnceAcknowledged) {
  handshake();
  const uint64_t id = uni_with_data(100, 5);
  ASSERT_TRUE(client_.conn->stream_reset(id, 0x44).is_ok());
  EXPECT_TRUE(client_.events.send_states.empty());  // the application knows it reset
  run_for(300 * kMs);
  EXPECT_EQ(client_.events.send_states, (std::vector<Change>{{id, kSend(SendState::kResetRecvd), 0x44}}));
}

TEST_F(ConnStreamEventsTest, RaisedLimitsAreReported) {
  server_.config.params.initial_max_stream_data_bidi_remote = 4096;
  server_.config.params.initial_max_streams_bidi = 1;
  handshake();
  const uint64_t id = exchange(40'000, 10, 6);
  run_for(1 * kSec);
  // Each MAX_STREAM_DATA that raised the limit, in increasing order.
  ASSERT_FALSE(client_.events.max_stream_data.empty());
  uint64_t last = 4096;
  for (const Change& c : client_.events.max_stream_data) {
    EXPECT_EQ(c.id, id);
    EXPECT_GT(c.value, last);
    last = c.value;
  }
  // The stream is over both ways: the server allows a second one.
  EXPECT_EQ(client_.events.max_streams, (std::vector<Change>{{0, 0, 2}}));
  EXPECT_TRUE(client_.conn->open_stream(StreamDir::kBidi).is_ok());
}

TEST_F(ConnStreamEventsTest, KeyUpdatesEitherWayAreReportedOnBothEnds) {
  client_.config.cid_len = 0;
  handshake();
  exchange(5000, 5000, 10);
  ASSERT_TRUE(client_.conn->update_keys().is_ok());
  // Not complete until the peer's first packet in the new phase arrives.
  EXPECT_TRUE(client_.events.key_updates.empty());
  exchange(5000, 5000, 12);
  EXPECT_EQ(client_.events.key_updates, std::vector<bool>{true});
  EXPECT_EQ(server_.events.key_updates, std::vector<bool>{true});
  run_for(200 * kMs);  // §6.1: the server's packets of this phase acknowledged
  ASSERT_TRUE(server_.conn->update_keys().is_ok());
  exchange(5000, 5000, 14);
  run_for(200 * kMs);  // the client's first packets in the new phase arrive
  EXPECT_EQ(client_.events.key_updates, (std::vector<bool>{true, false}));
  EXPECT_EQ(server_.events.key_updates, (std::vector<bool>{true, false}));
}

}  // namespace
}  // namespace quicbed
