// Address validation end to end (RFC 9000 §8.1): a server Endpoint that
// answers with Retry, the client's handling of Retry (§17.2.5), the
// transport parameter checks a Retry brings (§7.3), INVALID_TOKEN, and
// NEW_TOKEN tokens that let a later connection skip the Retry (§8.1.3).
// What the wire shows is checked by decrypting the Initials, as the interop
// runner does.
#include <gtest/gtest.h>

#include "endpoint_pair.h"
#include "initial_packets.h"

namespace quicbed::test {
namespace {

// NEW_TOKEN tokens bound to a client's "IP address": the first three bytes
// of the test addresses (client ids below 2^8 share them).
size_t first_three_bytes(Bytes peer, uint8_t* out) {
  const size_t n = peer.size() < 3 ? peer.size() : 3;
  for (size_t i = 0; i < n; ++i) out[i] = peer[i];
  return n;
}

class RetryTest : public EndpointPairTest {
 protected:
  void SetUp() override {
    EndpointPairTest::SetUp();
    config_.validation.retry = true;
    for (uint8_t i = 0; i < kTokenKeyLen; ++i) config_.validation.token_key[i] = static_cast<uint8_t>(0x40 + i);
    config_.validation.token_address = first_three_bytes;
    // Every datagram a client sends, in order, before the link sees it.
    drop_to_server = [this](uint32_t id, const Buf& d) {
      from_client_[id].push_back(d);
      return drop_next_initial_ && is_initial(d) && (drop_next_initial_ = false, true);
    };
  }

  static bool is_initial(const Buf& d) {
    auto h = parse_packet_header(bytes_of(d), HeaderParseOptions{8, true});
    return h && h->form == HeaderForm::kLong && h->type == PacketType::kInitial;
  }

  // The Retry packets the server sent (to anyone), parsed.
  std::vector<Buf> retries() const {
    std::vector<Buf> out;
    for (const Sent& s : sent_by_server_) {
      auto h = parse_packet_header(bytes_of(s.bytes), HeaderParseOptions{8, true});
      if (h && h->form == HeaderForm::kLong && h->type == PacketType::kRetry) out.push_back(s.bytes);
    }
    return out;
  }

  std::map<uint32_t, std::vector<Buf>> from_client_;
  bool drop_next_initial_ = false;
};

// The runner's "retry" test case (S): a Retry with a token, a later client
// Initial with the same token, its packet number above the ones used
// before the Retry; then the transport parameters of §7.3 match.
TEST_F(RetryTest, HandshakeThroughRetry) {
  start_server();
  TestClient& c = add_client();
  run_until([&] { return all_confirmed(); }, 2 * kSec);
  ASSERT_TRUE(c.conn->handshake_confirmed()) << "client closed with 0x" << std::hex << c.events.error_code;
  EXPECT_TRUE(c.conn->retry_received());
  EXPECT_EQ(endpoint_->stats().retries_sent, 1u);
  EXPECT_EQ(endpoint_->stats().connections_accepted, 1u);
  EXPECT_EQ(host_.creates, 1);  // no state for the Initial that got the Retry

  const std::vector<Buf> rs = retries();
  ASSERT_EQ(rs.size(), 1u);
  auto retry = parse_packet_header(bytes_of(rs[0]), HeaderParseOptions{8, true});
  ASSERT_TRUE(retry.is_ok());
  ASSERT_FALSE(retry->token.empty());
  const Buf token(retry->token.begin(), retry->token.end());

  std::vector<OpenedInitial> initials;
  for (const Buf& d : from_client_[c.id]) {
    if (auto o = open_initial(crypto_, d, true)) initials.push_back(*o);
  }
  ASSERT_GE(initials.size(), 2u);
  EXPECT_TRUE(initials[0].token.empty());
  const uint64_t pre_retry_pn = initials[0].pn;
  // Every Initial after the Retry: the token, the Retry's SCID as DCID, a
  // higher packet number (§17.2.5.3).
  for (size_t i = 1; i < initials.size(); ++i) {
    EXPECT_EQ(initials[i].token, token) << i;
    EXPECT_EQ(initials[i].dcid, Buf(retry->scid.begin(), retry->scid.end())) << i;
    EXPECT_GT(initials[i].pn, pre_retry_pn) << i;
  }
  // §7.3: the server named both CIDs.
  const TransportParameters& tp = c.conn->peer_params();
  ASSERT_TRUE(tp.has_retry_source_connection_id);
  EXPECT_EQ(Buf(tp.retry_source_connection_id.view().begin(), tp.retry_source_connection_id.view().end()),
            Buf(retry->scid.begin(), retry->scid.end()));
  EXPECT_EQ(Buf(tp.original_destination_connection_id.view().begin(),
                tp.original_destination_connection_id.view().end()),
            initials[0].dcid);
  // The server connection knew the address from the start.
  ASSERT_EQ(host_.accepted_events.size(), 1u);
  EXPECT_TRUE(host_.accepted_events[0]->conn->address_validated());
}

// §8.1.2: a Retry token from another address is INVALID_TOKEN, in an
// Initial CONNECTION_CLOSE the client can read.
TEST_F(RetryTest, RetryTokenFromAnotherAddressIsInvalidToken) {
  start_server();
  TestClient& c = add_client();
  drop_next_initial_ = false;
  // Let the Retry through, then keep the client's next Initial from the
  // server and replay it from elsewhere.
  run_until([&] { return c.conn->retry_received(); }, kSec);
  ASSERT_TRUE(c.conn->retry_received());
  drop_next_initial_ = true;
  step();  // the client sends its Initial with the token; it is dropped
  ASSERT_FALSE(drop_next_initial_);
  const Buf with_token = from_client_[c.id].back();
  auto opened = open_initial(crypto_, with_token, true);
  ASSERT_TRUE(opened.has_value());
  ASSERT_FALSE(opened->token.empty());
  inject(with_token, kStrayBase + 0x100000);  // another "IP address"
  run_for(20 * kMs);
  EXPECT_EQ(endpoint_->stats().invalid_tokens, 1u);
  ASSERT_EQ(strays_.size(), 1u);
  auto close = open_initial(crypto_, strays_[0].bytes, false, bytes_of(opened->dcid));
  ASSERT_TRUE(close.has_value());
  auto cc = close_frame_of(*close);
  ASSERT_TRUE(cc.has_value());
  EXPECT_EQ(cc->error_code, 0x0bu);  // INVALID_TOKEN
  // The client's own retransmission, from its address, still gets in.
  run_until([&] { return all_confirmed(); }, now_ + 2 * kSec);
  EXPECT_TRUE(c.conn->handshake_confirmed());
  EXPECT_EQ(host_.creates, 1);
}

// RFC 9001 §5.8, RFC 9000 §17.2.5.2: a Retry with a wrong tag, or a
// second one, is discarded; the handshake goes on undisturbed.
TEST_F(RetryTest, BadTagAndSecondRetryAreIgnored) {
  config_.validation.retry = false;
  start_server();
  TestClient& c = add_client();
  step();  // the client's first Initial is out
  ASSERT_FALSE(from_client_[c.id].empty());
  auto first = parse_packet_header(bytes_of(from_client_[c.id][0]), HeaderParseOptions{8, true});
  ASSERT_TRUE(first.is_ok());
  const Buf rscid = {0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77};
  const Buf token = {1, 2, 3};
  Buf bad = forge_retry(crypto_, client_alloc_, kVersion1, first->scid, first->dcid, bytes_of(rscid),
                        bytes_of(token), false);
  c.conn->receive_datagram(MutBytes(bad.data(), bad.size()), DatagramInfo{}, now_);
  EXPECT_FALSE(c.conn->retry_received());
  // A good one is taken once; the same again is not.
  Buf good = forge_retry(crypto_, client_alloc_, kVersion1, first->scid, first->dcid, bytes_of(rscid),
                         bytes_of(token));
  Buf again = good;
  c.conn->receive_datagram(MutBytes(good.data(), good.size()), DatagramInfo{}, now_);
  EXPECT_TRUE(c.conn->retry_received());
  const Buf rscid2 = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
  Buf second = forge_retry(crypto_, client_alloc_, kVersion1, first->scid, first->dcid, bytes_of(rscid2),
                           bytes_of(token));
  c.conn->receive_datagram(MutBytes(second.data(), second.size()), DatagramInfo{}, now_);
  c.conn->receive_datagram(MutBytes(again.data(), again.size()), DatagramInfo{}, now_);
  EXPECT_EQ(c.events.closes, 0);
  // The client now addresses the forged Retry's SCID with its token, which
  // is none of the server's: as if absent (§8.1.3), and the server, not
  // asking for Retry, answers. Its transport parameters name the DCID it
  // saw, not the client's first: §7.3, TRANSPORT_PARAMETER_ERROR.
  run_until([&] { return c.events.closes > 0 || all_confirmed(); }, 2 * kSec);
  EXPECT_EQ(c.events.closes, 1);
  EXPECT_EQ(c.events.error_code, 0x08u);  // TRANSPORT_PARAMETER_ERROR
  EXPECT_EQ(c.events.reason, "original_destination_connection_id mismatch");
  std::vector<OpenedInitial> initials;
  for (const Buf& d : from_client_[c.id]) {
    if (auto o = open_initial(crypto_, d, true)) initials.push_back(*o);
  }
  ASSERT_GE(initials.size(), 2u);
  EXPECT_EQ(initials.back().token, token);
  EXPECT_EQ(initials.back().dcid, rscid);
}

// §8.1.3: the server's NEW_TOKEN lets the next connection from the same
// address skip the Retry; from another address the token is as if absent.
TEST_F(RetryTest, NewTokenSkipsTheRetryNextTime) {
  start_server();
  TestClient& first = add_client();
  run_until([&] { return all_confirmed() && !first.events.new_tokens.empty(); }, 2 * kSec);
  ASSERT_EQ(first.events.new_tokens.size(), 1u);
  EXPECT_EQ(endpoint_->stats().new_tokens_sent, 1u);
  const Buf token = first.events.new_tokens[0];
  EXPECT_EQ(token[0], static_cast<uint8_t>(TokenKind::kNewToken));

  TestClient& second = add_client(kVersion1, [&](ConnectionConfig& cc) { cc.token = bytes_of(token); });
  run_until([&] { return all_confirmed(); }, now_ + 2 * kSec);
  ASSERT_TRUE(second.conn->handshake_confirmed());
  EXPECT_FALSE(second.conn->retry_received());
  EXPECT_EQ(endpoint_->stats().retries_sent, 1u);  // the first connection's only
  auto opened = open_initial(crypto_, from_client_[second.id][0], true);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->token, token);

  // A token altered in transit, or from another "IP address": a Retry.
  Buf altered = token;
  altered[20] ^= 1;
  TestClient& third = add_client(kVersion1, [&](ConnectionConfig& cc) { cc.token = bytes_of(altered); });
  run_until([&] { return all_confirmed(); }, now_ + 2 * kSec);
  EXPECT_TRUE(third.conn->handshake_confirmed());
  EXPECT_TRUE(third.conn->retry_received());
  EXPECT_EQ(endpoint_->stats().retries_sent, 2u);
  EXPECT_EQ(endpoint_->stats().invalid_tokens, 0u);
}

// A token from a connection moved to v2 (RFC 9368 §2.3) serves the next
// connection, which starts in v1 again.
TEST_F(RetryTest, NewTokenOfAVersion2ConnectionServesAVersion1Start) {
  config_.versions[0] = kVersion2;
  config_.versions[1] = kVersion1;
  start_server();
  auto both = [](ConnectionConfig& cc) {
    cc.versions[0] = kVersion1;
    cc.versions[1] = kVersion2;
  };
  TestClient& first = add_client(kVersion1, both);
  run_until([&] { return all_confirmed() && !first.events.new_tokens.empty(); }, 2 * kSec);
  ASSERT_EQ(first.conn->version(), kVersion2);
  ASSERT_EQ(first.events.new_tokens.size(), 1u);
  const Buf token = first.events.new_tokens[0];
  TestClient& second = add_client(kVersion1, [&](ConnectionConfig& cc) {
    both(cc);
    cc.token = bytes_of(token);
  });
  run_until([&] { return all_confirmed(); }, now_ + 2 * kSec);
  EXPECT_TRUE(second.conn->handshake_confirmed());
  EXPECT_FALSE(second.conn->retry_received());
  EXPECT_EQ(second.conn->version(), kVersion2);
  EXPECT_EQ(endpoint_->stats().retries_sent, 1u);
}

// Without Retry, a NEW_TOKEN token still lifts the amplification limit of
// the next connection (§8.1.3).
TEST_F(RetryTest, NewTokenValidatesWithoutRetry) {
  config_.validation.retry = false;
  start_server();
  TestClient& first = add_client();
  run_until([&] { return all_confirmed() && !first.events.new_tokens.empty(); }, 2 * kSec);
  ASSERT_EQ(first.events.new_tokens.size(), 1u);
  const Buf token = first.events.new_tokens[0];
  TestClient& second = add_client(kVersion1, [&](ConnectionConfig& cc) { cc.token = bytes_of(token); });
  step();
  step();
  ASSERT_EQ(host_.accepted_events.size(), 2u);
  EXPECT_TRUE(host_.accepted_events[1]->conn->address_validated());
  run_until([&] { return all_confirmed(); }, now_ + 2 * kSec);
  EXPECT_TRUE(second.conn->handshake_confirmed());
  EXPECT_EQ(endpoint_->stats().retries_sent, 0u);
}

// The qlog of a lost packet that carried NEW_TOKEN (§19.7) names the frame;
// tracing it used to hit the "not a control frame" invariant and end the
// server (the local runner's handshakeloss case). The token then comes
// again (§13.3).
TEST_F(RetryTest, LostNewTokenIsTracedAndSentAgain) {
  struct LostFrames : Tracer {
    void packet_lost(uint64_t, const TracedPacketLost& p) override {
      for (const TracedFrame& f : p.frames) types.push_back(f.type);
    }
    std::vector<FrameType> types;
  } lost;
  config_.validation.retry = false;
  host_.tracer = &lost;
  start_server();
  TestClient& first = add_client();
  // The server's first 1-RTT datagrams (short header: RFC 9000 §17.3) are
  // lost; its first 1-RTT packet holds HANDSHAKE_DONE and NEW_TOKEN.
  int short_headers = 0;
  drop_to_client = [&](uint32_t, const Buf& d) { return (d[0] & 0x80) == 0 && short_headers++ < 2; };
  run_until([&] { return all_confirmed() && !first.events.new_tokens.empty(); }, 5 * kSec);
  ASSERT_GE(short_headers, 2);
  EXPECT_NE(std::find(lost.types.begin(), lost.types.end(), FrameType::kNewToken), lost.types.end());
  ASSERT_EQ(first.events.new_tokens.size(), 1u);
  EXPECT_EQ(first.events.new_tokens[0][0], static_cast<uint8_t>(TokenKind::kNewToken));
}

}  // namespace
}  // namespace quicbed::test
