// DATAGRAM frames (RFC 9221) between a real client and server Connection:
// delivery, the size limits of both sides, the send queue's bound, no
// retransmission, congestion control, and a peer breaking the rules.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conn_pair.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

class ConnDatagramTest : public ConnPairTest {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    client_.config.params.max_datagram_frame_size = 65535;
    server_.config.params.max_datagram_frame_size = 65535;
  }

  // A 1-RTT packet with `frames` and packet number `pn` from the client,
  // on its way to the server.
  void forge_from_client(const Buf& frames, uint64_t pn) {
    const auto& key = client_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
    auto server_initial = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
    ASSERT_TRUE(server_initial.is_ok());
    queue_.push_back({now_ + kOneWayDelay, seq_++, kToServer,
                      forge_one_rtt(client_.crypto, key, server_initial->scid, pn, frames)});
  }
};

Buf pattern(size_t n, uint8_t seed) {
  Buf b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  return b;
}

TEST_F(ConnDatagramTest, DeliveredBothWaysInOrder) {
  start();
  // Before the handshake completes nothing is queued.
  EXPECT_EQ(client_.conn->datagram_send(bytes_of(Buf{1})).code(), ErrorCode::kInvalidArgument);
  run_until([&] { return confirmed(); }, 10 * kSec);
  expect_established();
  // The largest payload: a 1200-byte datagram less the short header (1 +
  // 8-byte CID + 4-byte packet number), the AEAD tag, the type byte and a
  // 2-byte Length field.
  const size_t max = 1200 - 13 - 16 - 1 - 2;
  EXPECT_EQ(client_.conn->max_datagram_payload(), max);
  EXPECT_EQ(server_.conn->max_datagram_payload(), max);
  const std::vector<Buf> up = {Buf{}, pattern(100, 1), pattern(max, 2), pattern(7, 3)};
  for (const Buf& d : up) ASSERT_TRUE(client_.conn->datagram_send(bytes_of(d)).is_ok());
  EXPECT_EQ(client_.conn->datagram_send(bytes_of(pattern(max + 1, 4))).code(), ErrorCode::kLimitExceeded);
  ASSERT_TRUE(server_.conn->datagram_send(bytes_of(pattern(300, 5))).is_ok());
  run_for(100 * kMs);
  EXPECT_EQ(server_.events.datagrams, up);
  EXPECT_EQ(client_.events.datagrams, (std::vector<Buf>{pattern(300, 5)}));
  expect_established();
}

TEST_F(ConnDatagramTest, ThePeersMaxDatagramFrameSizeLimits) {
  // RFC 9221 §3: the frame, type and Length included, within 100 bytes.
  server_.config.params.max_datagram_frame_size = 100;
  client_.config.params.max_datagram_frame_size = 0;  // the client takes none
  handshake();
  // A payload above 63 bytes takes a 2-byte Length (RFC 9000 §16).
  EXPECT_EQ(client_.conn->max_datagram_payload(), 97u);
  EXPECT_TRUE(client_.conn->datagram_send(bytes_of(pattern(97, 1))).is_ok());
  EXPECT_EQ(client_.conn->datagram_send(bytes_of(pattern(98, 1))).code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(server_.conn->max_datagram_payload(), 0u);
  EXPECT_EQ(server_.conn->datagram_send(Bytes()).code(), ErrorCode::kLimitExceeded);
  run_for(100 * kMs);
  EXPECT_EQ(server_.events.datagrams, (std::vector<Buf>{pattern(97, 1)}));
  expect_established();
}

TEST_F(ConnDatagramTest, TheSendQueueIsBounded) {
  client_.config.datagram_queue_count = 3;
  client_.config.datagram_queue_bytes = 1000;
  handshake();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client_.conn->datagram_send(bytes_of(pattern(10, 1))).is_ok());
  EXPECT_EQ(client_.conn->datagram_send(bytes_of(pattern(10, 1))).code(), ErrorCode::kLimitExceeded);
  run_for(100 * kMs);
  EXPECT_EQ(server_.events.datagrams.size(), 3u);
  // Sent datagrams leave the queue; the byte bound holds on its own.
  ASSERT_TRUE(client_.conn->datagram_send(bytes_of(pattern(600, 2))).is_ok());
  EXPECT_EQ(client_.conn->datagram_send(bytes_of(pattern(401, 3))).code(), ErrorCode::kLimitExceeded);
  EXPECT_TRUE(client_.conn->datagram_send(bytes_of(pattern(400, 3))).is_ok());
  run_for(100 * kMs);
  EXPECT_EQ(server_.events.datagrams.size(), 5u);
}

TEST_F(ConnDatagramTest, LostDatagramsAreNotRetransmitted) {
  handshake();
  const size_t first = sent_[kToServer].size();
  // The client's next datagram is lost; the three DATAGRAM frames go in it.
  filter_ = [first](Dir d, size_t i, uint64_t) {
    return Verdict{d == kToServer && i == first ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  for (uint8_t i = 0; i < 3; ++i) ASSERT_TRUE(client_.conn->datagram_send(bytes_of(pattern(50, i))).is_ok());
  ASSERT_TRUE(client_.conn->datagram_send(bytes_of(pattern(1100, 9))).is_ok());  // the next packet
  run_for(3 * kSec);
  ASSERT_GT(sent_[kToServer].size(), first);
  EXPECT_GT(sent_[kToServer][first].size(), 3u * 52);  // the lost one held the three
  // The loss was detected (RFC 9002 §6) and nothing came again.
  EXPECT_EQ(server_.events.datagrams, (std::vector<Buf>{pattern(1100, 9)}));
  EXPECT_EQ(client_.conn->recovery().bytes_in_flight(), 0u);
  expect_established();
}

TEST_F(ConnDatagramTest, DatagramsAreCongestionControlled) {
  handshake();
  run_for(200 * kMs);
  ASSERT_EQ(client_.conn->recovery().bytes_in_flight(), 0u);
  // More than the initial window (RFC 9002 §7.2: 10 datagrams) at once:
  // the client sends what the window and the pacer allow, the rest waits
  // in the queue (RFC 9221 §5.4), and what went is in flight.
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(client_.conn->datagram_send(bytes_of(pattern(1100, static_cast<uint8_t>(i)))).is_ok());
  }
  const size_t before = sent_[kToServer].size();
  flush(kToServer);
  const size_t burst = sent_[kToServer].size() - before;
  EXPECT_GE(burst, 5u);
  EXPECT_LE(burst, 10u);
  uint64_t bytes = 0;
  for (size_t i = before; i < sent_[kToServer].size(); ++i) bytes += sent_[kToServer][i].size();
  EXPECT_EQ(client_.conn->recovery().bytes_in_flight(), bytes);
  run_for(500 * kMs);
  ASSERT_EQ(server_.events.datagrams.size(), 16u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(server_.events.datagrams[i], pattern(1100, static_cast<uint8_t>(i)));
}

TEST_F(ConnDatagramTest, LargerThanAdvertisedIsProtocolViolation) {
  server_.config.params.max_datagram_frame_size = 50;
  handshake();
  // 0x31, Length 48, 48 bytes: a 50-byte frame is fine. The forged packet
  // takes the client's next packet number, which the client then uses for
  // a packet of its own (dropped as a duplicate), so that the server's ACK
  // of it is no PROTOCOL_VIOLATION (RFC 9000 §13.1) for the client.
  Buf ok = {0x31, 48};
  ok.resize(50, 0xab);
  forge_from_client(ok, client_.conn->space(PnSpace::kApplication).next_pn);
  ASSERT_TRUE(client_.conn->datagram_send(bytes_of(Buf{1})).is_ok());
  run_for(50 * kMs);
  ASSERT_EQ(server_.events.datagrams.size(), 1u);
  EXPECT_EQ(server_.events.datagrams[0], Buf(48, 0xab));
  EXPECT_EQ(server_.events.closes, 0);
  // ...49 bytes of payload (51 in all) are one too many (RFC 9221 §3).
  Buf big = {0x31, 49};
  big.resize(51, 0xab);
  forge_from_client(big, 1000);
  run_until([&] { return client_.events.closes > 0; }, now_ + kSec);
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_EQ(server_.events.error_code, 0x0au);
  EXPECT_EQ(server_.events.frame_type, 0x31u);
  EXPECT_EQ(server_.events.datagrams.size(), 1u);
  EXPECT_EQ(client_.events.error_code, 0x0au);
}

TEST_F(ConnDatagramTest, NotAdvertisedIsProtocolViolation) {
  server_.config.params.max_datagram_frame_size = 0;
  handshake();
  // Type 0x30: no Length field, the payload runs to the packet's end.
  forge_from_client(Buf{0x30, 1, 2, 3}, 1000);
  run_until([&] { return client_.events.closes > 0; }, now_ + kSec);
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_EQ(server_.events.error_code, 0x0au);
  EXPECT_EQ(server_.events.frame_type, 0x30u);
  EXPECT_TRUE(server_.events.datagrams.empty());
}

}  // namespace
}  // namespace quicbed
