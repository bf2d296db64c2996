// 1-RTT stream data between a real client and server Connection (RFC 9000
// §2-§4): both directions, both stream types, loss, flow control limits,
// resets, and a peer breaking stream limits.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "conn_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;
using ConnStreamTest = ExchangePairTest;

TEST_F(ConnStreamTest, BidiStreamBothWays) {
  handshake();
  expect_established();
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  EXPECT_EQ(*id, 0u);  // RFC 9000 §2.1: the client's first bidirectional stream
  Transfer up{client_.conn.get(), server_.conn.get(), *id, pattern(100'000, 1)};
  Transfer down{server_.conn.get(), client_.conn.get(), *id, pattern(70'000, 2)};
  run_until(
      [&] {
        up.pump();
        if (!server_.events.opened.empty()) down.pump();
        return up.done() && down.done();
      },
      now_ + 10 * kSec);
  ASSERT_TRUE(up.done() && down.done());
  EXPECT_EQ(up.received, up.data);
  EXPECT_EQ(down.received, down.data);
  EXPECT_EQ(server_.events.opened, std::vector<uint64_t>{0});
  EXPECT_FALSE(server_.events.readable.empty());
  // RFC 9002 §7.7: paced, at most a burst of 10 datagrams at one instant.
  for (int d : {kToServer, kToClient}) {
    size_t run = 0, longest = 0;
    for (size_t i = 0; i < sent_at_[d].size(); ++i) {
      run = i > 0 && sent_at_[d][i] == sent_at_[d][i - 1] ? run + 1 : 1;
      longest = std::max(longest, run);
    }
    EXPECT_LE(longest, kDefaultInitialWindowPackets);
    EXPECT_GE(longest, 5u);  // the burst is used, not one datagram at a time
  }
  // Both parts done on both sides (§3.3): once the last ACKs arrive the
  // streams are freed.
  run_for(1 * kSec);
  EXPECT_EQ(client_.conn->streams().size(), 0u);
  EXPECT_EQ(server_.conn->streams().size(), 0u);
  expect_established();
}

TEST_F(ConnStreamTest, UnidirectionalStreamsEachWay) {
  handshake();
  auto c = client_.conn->open_stream(StreamDir::kUni);
  auto s = server_.conn->open_stream(StreamDir::kUni);
  ASSERT_TRUE(c.is_ok() && s.is_ok());
  EXPECT_EQ(*c, 2u);  // §2.1: client-initiated unidirectional
  EXPECT_EQ(*s, 3u);  // server-initiated unidirectional
  Transfer up{client_.conn.get(), server_.conn.get(), *c, pattern(5000, 3)};
  Transfer down{server_.conn.get(), client_.conn.get(), *s, pattern(9000, 4)};
  run_until(
      [&] {
        up.pump();
        down.pump();
        return up.done() && down.done();
      },
      now_ + 5 * kSec);
  EXPECT_EQ(up.received, up.data);
  EXPECT_EQ(down.received, down.data);
  EXPECT_EQ(client_.events.opened, std::vector<uint64_t>{3});
  // A unidirectional stream is not written to by its receiver (§2.1).
  EXPECT_EQ(client_.conn->stream_write(3, bytes_of(Buf{1}), false).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ConnStreamTest, TransferSurvivesLoss) {
  // Every 13th datagram each way is lost after the handshake.
  filter_ = [](Dir, size_t i, uint64_t t) {
    return Verdict{t > 50 * kMs && i % 13 == 5 ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake();
  expect_established();
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  Transfer up{client_.conn.get(), server_.conn.get(), *id, pattern(1'000'000, 5)};
  run_until(
      [&] {
        up.pump();
        return up.done();
      },
      now_ + 60 * kSec);
  ASSERT_TRUE(up.done());
  EXPECT_EQ(up.received, up.data);
  expect_established();
}

// RFC 9002 §2: the receiver of a one-way transfer answers with ACK-only
// packets, which are not in flight: Recovery keeps no record of them, yet
// the sender's ACKs of them (riding on its data, RFC 9000 §13.2) are no
// PROTOCOL_VIOLATION (§13.1).
TEST_F(ConnStreamTest, AckOnlyPacketsLeaveNoRecord) {
  handshake();
  auto id = client_.conn->open_stream(StreamDir::kUni);
  ASSERT_TRUE(id.is_ok());
  Transfer up{client_.conn.get(), server_.conn.get(), *id, pattern(400'000, 9)};
  const uint64_t first_pn = server_.conn->space(PnSpace::kApplication).next_pn;
  size_t max_outstanding = 0;
  run_until(
      [&] {
        up.pump();
        max_outstanding = std::max(max_outstanding, server_.conn->recovery().outstanding());
        return up.done();
      },
      now_ + 10 * kSec);
  ASSERT_TRUE(up.done());
  EXPECT_EQ(up.received, up.data);
  const uint64_t server_packets = server_.conn->space(PnSpace::kApplication).next_pn - first_pn;
  EXPECT_GT(server_packets, 100u);
  // Only the few packets carrying flow control credit were recorded.
  EXPECT_LE(max_outstanding, 6u);
  // The client acknowledged the server's ACK-only packets.
  EXPECT_GE(server_.conn->recovery().largest_acked(PnSpace::kApplication), first_pn + server_packets / 2);
  expect_established();
}

TEST_F(ConnStreamTest, FlowControlHoldsTheSenderBack) {
  // The server grants 16 KB per stream and 24 KB per connection at first;
  // its windows auto-tune as the reader keeps up (RecvFlow).
  server_.config.params.initial_max_data = 24 * 1024;
  server_.config.params.initial_max_stream_data_bidi_remote = 16 * 1024;
  server_.config.max_stream_window = 64 * 1024;
  server_.config.max_connection_window = 96 * 1024;
  handshake();
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  Transfer up{client_.conn.get(), server_.conn.get(), *id, pattern(300'000, 6)};
  uint64_t max_unread = 0;
  run_until(
      [&] {
        up.pump();
        // What the client sent is never more than the server allowed (§4.1).
        const Stream* st = client_.conn->streams().find(*id);
        if (st) max_unread = std::max(max_unread, st->send_flow().sent() - up.received.size());
        return up.done();
      },
      now_ + 20 * kSec);
  ASSERT_TRUE(up.done());
  EXPECT_EQ(up.received, up.data);
  EXPECT_LE(max_unread, 96u * 1024);
}

TEST_F(ConnStreamTest, ResetStreamReachesTheReader) {
  handshake();
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(client_.conn->stream_write(*id, bytes_of(pattern(3000, 7)), false).is_ok());
  run_for(100 * kMs);
  ASSERT_TRUE(client_.conn->stream_reset(*id, 0x77).is_ok());
  run_for(100 * kMs);
  auto code = server_.conn->stream_reset_code(*id);
  ASSERT_TRUE(code.is_ok());
  EXPECT_EQ(*code, 0x77u);
  uint8_t buf[16];
  EXPECT_EQ(server_.conn->stream_read(*id, MutBytes(buf, sizeof buf)).status().code(), ErrorCode::kStreamStateError);
  expect_established();
}

TEST_F(ConnStreamTest, OpeningBeyondThePeerLimitIsRefused) {
  server_.config.params.initial_max_streams_bidi = 2;
  handshake();
  EXPECT_TRUE(client_.conn->open_stream(StreamDir::kBidi).is_ok());
  EXPECT_TRUE(client_.conn->open_stream(StreamDir::kBidi).is_ok());
  EXPECT_EQ(client_.conn->open_stream(StreamDir::kBidi).status().code(), ErrorCode::kLimitExceeded);
  // STREAMS_BLOCKED goes out (§4.6) and nothing breaks.
  run_for(200 * kMs);
  expect_established();
}

TEST_F(ConnStreamTest, KeyUpdatesEitherWay) {
  // Zero-length CIDs: the client issues none (RFC 9000 §5.1.1), so its first
  // ack-eliciting 1-RTT packet is the transfer's.
  client_.config.cid_len = 0;
  handshake();
  const auto transfer = [&](size_t up_bytes, size_t down_bytes, uint8_t seed) {
    exchange(up_bytes, down_bytes, seed, 5 * kSec);
  };
  // RFC 9001 §6.1: not before a 1-RTT packet of ours was acknowledged.
  EXPECT_EQ(client_.conn->update_keys().code(), ErrorCode::kInvalidArgument);
  transfer(20'000, 1'000, 1);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(client_.conn->update_keys().is_ok());
  EXPECT_TRUE(client_.conn->key_phase());
  // One update at a time: the peer has not followed yet.
  EXPECT_EQ(client_.conn->update_keys().code(), ErrorCode::kInvalidArgument);
  transfer(30'000, 30'000, 3);
  // The server answered with its own new keys (§6.2).
  EXPECT_TRUE(server_.conn->key_phase());
  // Now the server starts one.
  ASSERT_TRUE(server_.conn->update_keys().is_ok());
  EXPECT_FALSE(server_.conn->key_phase());
  transfer(10'000, 40'000, 5);
  EXPECT_FALSE(client_.conn->key_phase());
  expect_established();
}

// Frames a misbehaving client sends in a 1-RTT packet once the handshake
// is done, and the error the server must close with.
struct HostileCase {
  const char* name;
  Buf frames;
  uint64_t error;
  uint64_t frame_type;
};

class HostileStreamFrameTest : public ConnPairTest, public ::testing::WithParamInterface<HostileCase> {};

TEST_P(HostileStreamFrameTest, ServerClosesWithTheRfcError) {
  const HostileCase& c = GetParam();
  handshake();
  expect_established();
  const auto& key = client_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
  auto server_initial = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
  ASSERT_TRUE(server_initial.is_ok());
  queue_.push_back({now_ + kOneWayDelay, seq_++, kToServer,
                    forge_one_rtt(client_.crypto, key, server_initial->scid, 1000, c.frames)});
  run_until([&] { return client_.events.closes > 0; }, now_ + kSec);
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kLocal);
  EXPECT_EQ(server_.events.error_code, c.error);
  EXPECT_EQ(server_.events.frame_type, c.frame_type);
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kPeer);
  EXPECT_EQ(client_.events.error_code, c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Frames, HostileStreamFrameTest,
    ::testing::Values(
        // §4.6: client bidi stream 64 is the 17th; the server allows 16.
        HostileCase{"StreamBeyondMaxStreams", {0x0a, 0x40, 0x40, 0x01, 0x61}, 0x04, 0x0a},
        // §4.1: a byte at 256 KB, beyond the stream's initial credit.
        HostileCase{"StreamBeyondFlowControl", {0x0e, 0x00, 0x80, 0x04, 0x00, 0x00, 0x01, 0x61}, 0x03, 0x0e},
        // §19.8: stream 3 is the server's unidirectional stream.
        HostileCase{"StreamOnSendOnlyStream", {0x0a, 0x03, 0x01, 0x61}, 0x05, 0x0a},
        // §19.5: STOP_SENDING for a client stream not yet opened is fine,
        // for a server stream not yet opened it is STREAM_STATE_ERROR.
        HostileCase{"StopSendingOnUnopenedLocalStream", {0x05, 0x01, 0x00}, 0x05, 0x05},
        // §4.5: a RESET_STREAM whose final size changes the known one.
        HostileCase{"FinalSizeChange", {0x0b, 0x00, 0x02, 0x61, 0x62, 0x04, 0x00, 0x00, 0x05}, 0x06, 0x04},
        // §19.20: HANDSHAKE_DONE from a client.
        HostileCase{"HandshakeDoneFromClient", {0x1e}, 0x0a, 0x1e},
        // §19.7: NEW_TOKEN from a client.
        HostileCase{"NewTokenFromClient", {0x07, 0x01, 0xaa}, 0x0a, 0x07},
        // RFC 9221 §3: DATAGRAM without max_datagram_frame_size.
        HostileCase{"DatagramNotNegotiated", {0x31, 0x01, 0x61}, 0x0a, 0x31},
        // §19.11, §19.14: stream counts above 2^60.
        HostileCase{"MaxStreamsAbove2To60", {0x12, 0xd0, 0, 0, 0, 0, 0, 0, 0x01}, 0x07, 0x12},
        HostileCase{"StreamsBlockedAbove2To60", {0x17, 0xd0, 0, 0, 0, 0, 0, 0, 0x01}, 0x07, 0x17},
        // §19.8: data ending beyond 2^62-1 (FRAME_ENCODING_ERROR or
        // FLOW_CONTROL_ERROR; the offset is checked first here).
        HostileCase{"StreamEndBeyond2To62",
                    {0x0e, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x61},
                    0x07,
                    0x0e},
        // §19.8: a Length beyond the packet's end (a truncated frame).
        HostileCase{"StreamLengthBeyondPacket", {0x0a, 0x00, 0x40, 0x64, 0x61}, 0x07, 0x0a},
        // §4.5: a final size beyond the stream's flow control credit.
        HostileCase{"ResetBeyondFlowControl", {0x04, 0x00, 0x00, 0x80, 0x10, 0x00, 0x00}, 0x03, 0x04},
        // §19.10: MAX_STREAM_DATA for the client's unidirectional stream,
        // which the server only receives.
        HostileCase{"MaxStreamDataOnReceiveOnlyStream", {0x11, 0x02, 0x40, 0x64}, 0x05, 0x11},
        // §13.1: acknowledging a 1-RTT packet never sent.
        HostileCase{"AckOfUnsentPacket", {0x02, 0x43, 0xe8, 0x00, 0x00, 0x00}, 0x0a, 0x02},
        // §5.1.1: a fifth active CID where the server takes four.
        HostileCase{"NewConnectionIdBeyondLimit",
                    {0x18, 0x0a, 0x00, 0x08, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xdd, 0xdd, 0xdd,
                     0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd},
                    0x09,
                    0x18},
        // §19.16: retiring a sequence number never issued.
        HostileCase{"RetireUnissuedConnectionId", {0x19, 0x32}, 0x0a, 0x19},
        // §7.5: 1-RTT CRYPTO data far beyond what the receiver buffers.
        HostileCase{"CryptoBeyondBuffer", {0x06, 0x80, 0x10, 0x00, 0x00, 0x01, 0x61}, 0x0d, 0x06}),
    [](const ::testing::TestParamInfo<HostileCase>& i) { return std::string(i.param.name); });

TEST_F(ConnStreamTest, PathChallengeIsAnswered) {
  handshake();
  const auto& key = client_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
  auto server_initial = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
  ASSERT_TRUE(server_initial.is_ok());
  const Buf challenge = {0x1a, 1, 2, 3, 4, 5, 6, 7, 8};
  // The forged packet takes the client's next packet number, and the
  // client uses it at the same time for a packet of its own (which the
  // server then drops as a duplicate), so the server's ACK of it is no
  // PROTOCOL_VIOLATION (§13.1) for the client.
  const uint64_t pn = client_.conn->space(PnSpace::kApplication).next_pn;
  queue_.push_back({now_ + kOneWayDelay, seq_++, kToServer,
                    forge_one_rtt(client_.crypto, key, server_initial->scid, pn, challenge)});
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(client_.conn->stream_write(*id, bytes_of(Buf{1, 2, 3}), true).is_ok());
  const size_t before = sent_[kToClient].size();
  run_for(100 * kMs);
  // The server's answer, opened with its 1-RTT key: PATH_RESPONSE echoes
  // the data (RFC 9000 §8.2.2).
  const auto& skey = server_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
  PacketProtection pp;
  ASSERT_TRUE(pp.init(server_.crypto, skey.suite, *version_crypto(kVersion1), bytes_of(skey.secret)).is_ok());
  bool answered = false;
  for (size_t i = before; i < sent_[kToClient].size() && !answered; ++i) {
    Buf d = sent_[kToClient][i];
    auto h = parse_packet_header(bytes_of(d), HeaderParseOptions{8, false});
    if (!h || h->form != HeaderForm::kShort) continue;
    MutBytes packet(d.data(), h->packet_length);
    auto pnf = pp.unprotect_header(packet, h->pn_offset);
    ASSERT_TRUE(pnf.is_ok());
    // The server's 1-RTT packet numbers are still small.
    auto payload = pp.open(packet, h->pn_offset + pnf->len, decode_packet_number(0, pnf->truncated, pnf->len));
    ASSERT_TRUE(payload.is_ok());
    Reader r(*payload);
    while (!r.empty()) {
      auto f = parse_frame(r);
      ASSERT_TRUE(f.is_ok());
      if (f->type == FrameType::kPathResponse) {
        EXPECT_EQ(Buf(f->path.data.begin(), f->path.data.end()), Buf(challenge.begin() + 1, challenge.end()));
        answered = true;
      }
    }
  }
  EXPECT_TRUE(answered);
  expect_established();
}

}  // namespace
}  // namespace quicbed
