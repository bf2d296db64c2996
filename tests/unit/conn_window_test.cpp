// The congestion options of a connection: the initial window in datagrams
// (RFC 9002 §7.2) and the switch that turns pacing (§7.7) off.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cc/window.h"
#include "conn_pair.h"

namespace quicbed {
namespace {

using test::kMs;
using test::kSec;
using test::kToServer;

class ConnWindowTest : public test::ConnPairTest {
 protected:
  // An established pair whose client has `bytes` to upload on a stream.
  void start_upload(size_t bytes) {
    handshake();
    ASSERT_FALSE(HasFatalFailure());
    expect_established();
    Result<uint64_t> id = client_.conn->open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok()) << id.status().reason();
    data_.assign(bytes, 'x');
    Result<size_t> n = client_.conn->stream_write(*id, Bytes(data_.data(), data_.size()), true);
    ASSERT_TRUE(n.is_ok() && *n == bytes);
  }

  // The client's datagrams written at one instant, from index `from` on:
  // the longest such run.
  size_t longest_burst(size_t from = 0) const {
    size_t run = 0, longest = 0;
    for (size_t i = from; i < sent_at_[kToServer].size(); ++i) {
      run = i > from && sent_at_[kToServer][i] == sent_at_[kToServer][i - 1] ? run + 1 : 1;
      longest = std::max(longest, run);
    }
    return longest;
  }

  // Forgets both connections and the link, for a fresh pair.
  void reset_pair() {
    queue_.clear();
    for (int d = 0; d < 2; ++d) {
      sent_[d].clear();
      sent_at_[d].clear();
      sent_ecn_[d].clear();
      sent_paths_[d].clear();
    }
    client_.conn.reset();
    server_.conn.reset();
    client_.events = test::Events();
    server_.events = test::Events();
  }

  std::vector<uint8_t> data_;
};

// The first flight of data is the initial window: ten datagrams by
// default, thirty when configured so (the pacer's burst follows it).
TEST_F(ConnWindowTest, InitialWindowSetsTheFirstFlight) {
  for (uint64_t packets : {kDefaultInitialWindowPackets, uint64_t{30}}) {
    SCOPED_TRACE(packets);
    client_.config.initial_window_packets = packets;
    start_upload(200'000);
    ASSERT_FALSE(HasFatalFailure());
    // The handshake's acknowledgments grew the window a little beyond it.
    EXPECT_GE(client_.conn->congestion_controller().cwnd(), packets * client_.config.max_datagram_size);
    const size_t before = sent_[kToServer].size();
    flush(kToServer);
    EXPECT_EQ(sent_[kToServer].size() - before, packets);
    EXPECT_EQ(client_.conn->recovery().bytes_in_flight(), packets * client_.config.max_datagram_size);
    reset_pair();
  }
}

// init() refuses windows below the minimum window (§7.2) or above the bound.
TEST_F(ConnWindowTest, InitialWindowOutOfRangeIsRefused) {
  for (uint64_t packets : {kMinInitialWindowPackets - 1, kMaxInitialWindowPackets + 1}) {
    client_.config.initial_window_packets = packets;
    create(client_);
    ASSERT_FALSE(HasFatalFailure());
    const Status s = client_.conn->init(0);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << packets;
    EXPECT_NE(std::string(s.reason()).find("initial_window_packets"), std::string::npos);
  }
  for (uint64_t packets : {kMinInitialWindowPackets, kMaxInitialWindowPackets}) {
    client_.config.initial_window_packets = packets;
    create(client_);
    ASSERT_FALSE(HasFatalFailure());
    EXPECT_TRUE(client_.conn->init(0).is_ok()) << packets;
    EXPECT_EQ(client_.conn->congestion_controller().cwnd(), packets * client_.config.max_datagram_size);
  }
}

// Paced, a window grown to twenty datagrams still leaves in bursts of at
// most the initial window (§7.7); with pacing off it leaves at once, as
// the ACK that opened it arrives.
TEST_F(ConnWindowTest, PacingOffSendsTheWholeWindowAtOnce) {
  for (bool pacing : {true, false}) {
    SCOPED_TRACE(pacing);
    client_.config.pacing = pacing;
    start_upload(400'000);
    ASSERT_FALSE(HasFatalFailure());
    const size_t from = sent_[kToServer].size();
    run_for(100 * kMs);
    if (pacing) {
      EXPECT_EQ(longest_burst(from), kDefaultInitialWindowPackets);
    } else {
      EXPECT_GE(longest_burst(from), 2 * kDefaultInitialWindowPackets);
    }
    reset_pair();
  }
}

}  // namespace
}  // namespace quicbed
