// RFC 9000 §8.1: before it has validated the client's address, a server
// sends at most three times the bytes it received. Here the server's first
// flight is far beyond that (a certificate chain of 12 certificates), and
// the client gets through with its Initials only: its first datagram alone
// (its Handshake packets, which would validate the address, are lost), or,
// with the server's datagrams lost too, each ClientHello it sends again
// when its PTO fires, every one raising the server's budget.
// The bytes are counted on the link, independently of the connection's own
// counters, after every datagram the server writes, while PTOs fire for
// seconds; then the client's datagrams get through and the handshake
// completes with the whole chain (which, in the second case, needs the
// server's PTO to send its lost ServerHello again although its Handshake
// packets fill the congestion window: RFC 9002 §6.2.4).
#include <gtest/gtest.h>

#include <vector>

#include "conn_pair.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

constexpr int kIntermediates = 10;

class AmplificationTest : public ConnPairTest, public ::testing::WithParamInterface<bool> {
 protected:
  static void SetUpTestSuite() { certs_ = new TestCerts(kIntermediates); }

  struct Arrival {
    uint64_t at;
    size_t bytes;
  };

  // Client bytes that reached the server by `t`.
  uint64_t client_bytes_by(uint64_t t) const {
    uint64_t n = 0;
    for (const Arrival& a : arrivals_) n += a.at <= t ? a.bytes : 0;
    return n;
  }

  std::vector<Arrival> arrivals_;
  uint64_t server_bytes_ = 0;
  uint64_t worst_excess_ = 0;  // server bytes beyond 3x, at the worst moment
  size_t server_datagrams_ = 0;
};

TEST_P(AmplificationTest, ServerSendsAtMostThreeTimesWhatItReceived) {
  const bool client_retransmits = GetParam();  // else its first datagram only
  bool blackout = true;
  filter_ = [&](Dir d, size_t i, uint64_t now) {
    const Buf& datagram = sent_[d][i];
    if (d == kToClient) {
      if (!blackout) return Verdict{};
      server_bytes_ += datagram.size();
      ++server_datagrams_;
      const uint64_t budget = 3 * client_bytes_by(now);
      if (server_bytes_ > budget) worst_excess_ = std::max(worst_excess_, server_bytes_ - budget);
      return Verdict{client_retransmits ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
    }
    bool deliver = !blackout || i == 0;
    if (blackout && client_retransmits) {
      deliver = true;
      for (PacketType t : packet_types(datagram)) deliver &= t == PacketType::kInitial;
    }
    if (!deliver) return Verdict{Verdict::Fate::kDrop, 0};
    if (blackout) arrivals_.push_back({now + kOneWayDelay, datagram.size()});
    return Verdict{};
  };
  start();
  ASSERT_FALSE(HasFatalFailure());
  run_until([] { return false; }, 8 * kSec);

  EXPECT_FALSE(server_.conn->address_validated());
  EXPECT_FALSE(server_.conn->handshake_complete());
  const uint64_t received = client_bytes_by(now_);
  ASSERT_GE(received, 1200u);
  if (client_retransmits) {
    // The ClientHello again at its PTOs, and the server's budget grew.
    EXPECT_GE(received, 3 * 1200u);
    EXPECT_GT(server_bytes_, 3 * 1200u);
  } else {
    EXPECT_EQ(received, 1200u);
    // The limit binds: the server's flight is larger than its budget.
    EXPECT_EQ(server_bytes_, 3 * received);
  }
  RecordProperty("client_bytes", static_cast<int>(received));
  RecordProperty("server_bytes", static_cast<int>(server_bytes_));
  EXPECT_EQ(worst_excess_, 0u) << "server sent " << server_bytes_ << " bytes for " << received;
  EXPECT_LE(server_bytes_, 3 * received);
  EXPECT_GE(server_datagrams_, 3u);
  // The connection's own accounting agrees with the link's.
  EXPECT_EQ(server_.conn->bytes_received(), received);
  EXPECT_EQ(server_.conn->bytes_sent(), server_bytes_);

  // The client's packets get through again: the handshake completes, the
  // whole chain verified.
  blackout = false;
  run_until([&] { return confirmed(); }, now_ + 30 * kSec);
  expect_established();
}

INSTANTIATE_TEST_SUITE_P(ClientInitials, AmplificationTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "RetransmittedClientHellos" : "FirstDatagramOnly";
                         });

}  // namespace
}  // namespace quicbed
