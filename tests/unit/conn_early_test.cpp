// Session resumption and 0-RTT between two connections (RFC 9001 §4.6,
// RFC 9000 §7.4.1): a first connection leaves the client a ticket and the
// server's transport parameters; a second one resumes with them, with or
// without 0-RTT stream data, accepted or rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "conn_pair.h"

namespace quicbed {
namespace {

using test::Buf;
using test::default_params;
using test::kMs;
using test::kSec;

constexpr char kRequest[] = "GET /index.html\r\n";

class ConnEarlyTest : public test::ConnPairTest {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    client_.tls_config.on_session_ticket = [this](const SessionTicket& t) { tickets_.push_back(t); };
  }

  // A full handshake that leaves the client a ticket.
  void first_connection() {
    handshake();
    ASSERT_FALSE(HasFatalFailure());
    run_until([&] { return !tickets_.empty(); }, now_ + 2 * kSec);
    expect_established();
    ASSERT_FALSE(tickets_.empty()) << "no NewSessionTicket reached the client";
    // RFC 9001 §4.1.3: it came in CRYPTO frames of 1-RTT packets.
    EXPECT_EQ(server_.tls->msg_types.back(), 4);
    EXPECT_FALSE(client_.conn->resumed());
    run_for(100 * kMs);  // the ticket's acknowledgement
  }

  // A new session of `e` from its context (a server keeps its ticket key).
  static void new_session(test::Endpoint& e) {
    e.conn.reset();
    e.tls.reset();
    e.events = test::Events();
    auto session = e.ctx->new_session();
    ASSERT_TRUE(session.is_ok()) << session.status().reason();
    e.tls = std::make_unique<test::SpyTls>(std::move(session).value());
    e.config.tls = e.tls.get();
  }

  // A second pair of connections; the client resumes `ticket` if given,
  // with the remembered parameters `remembered` (default: the ticket's).
  void second_connection(const SessionTicket* ticket, const TransportParameters* remembered = nullptr) {
    queue_.clear();
    for (int d = 0; d < 2; ++d) {
      sent_[d].clear();
      sent_at_[d].clear();
    }
    new_session(server_);
    new_session(client_);
    ASSERT_FALSE(HasFatalFailure());
    client_.config.zero_rtt_params = nullptr;
    if (ticket) {
      ASSERT_TRUE(client_.tls->inner().set_session(ticket->session).is_ok());
      Result<TransportParameters> tp =
          TransportParameters::parse(Bytes(ticket->transport_params.data(), ticket->transport_params.size()),
                                     Role::kServer);
      ASSERT_TRUE(tp.is_ok()) << tp.status().reason();
      remembered_ = remembered ? *remembered : *tp;
      client_.config.zero_rtt_params = &remembered_;
    }
    server_.conn = std::make_unique<Connection>(server_.config);
    client_.conn = std::make_unique<Connection>(client_.config);
    ASSERT_TRUE(server_.conn->init(now_).is_ok());
    Status s = client_.conn->init(now_);
    ASSERT_TRUE(s.is_ok()) << s.reason();
  }

  // Both ends with 0-RTT on; a first connection, then `between` (changes to
  // the second connection's configuration), then the resuming one.
  void resume_zero_rtt(const std::function<void()>& between = nullptr,
                       const TransportParameters* remembered = nullptr) {
    client_.tls_config.early_data = true;
    server_.tls_config.early_data = true;
    first_connection();
    ASSERT_FALSE(HasFatalFailure());
    if (between) between();
    second_connection(&tickets_.back(), remembered);
  }

  // The client's request, written before the handshake (0-RTT) if it may.
  uint64_t send_request() {
    Result<uint64_t> id = client_.conn->open_stream(StreamDir::kBidi);
    EXPECT_TRUE(id.is_ok()) << id.status().reason();
    if (!id) return ~uint64_t{0};
    Result<size_t> n = client_.conn->stream_write(*id, Bytes(reinterpret_cast<const uint8_t*>(kRequest),
                                                                sizeof kRequest - 1),
                                                  true);
    EXPECT_TRUE(n.is_ok() && *n == sizeof kRequest - 1);
    return *id;
  }

  // Everything `c` received on stream `id` so far (until its FIN).
  static std::string received(Connection& c, uint64_t id, bool* fin) {
    std::string got;
    *fin = false;
    uint8_t buf[256];
    for (;;) {
      auto r = c.stream_read(id, MutBytes(buf, sizeof buf));
      if (!r) break;
      got.append(reinterpret_cast<const char*>(buf), r->bytes);
      if (r->fin) {
        *fin = true;
        break;
      }
      if (r->bytes == 0) break;
    }
    return got;
  }

  bool sent_type(test::Dir d, PacketType t) const {
    for (const Buf& dg : sent_[d]) {
      for (PacketType p : packet_types(dg)) {
        if (p == t) return true;
      }
    }
    return false;
  }

  std::vector<SessionTicket> tickets_;
  TransportParameters remembered_;
};

// CRYPTO frames in 1-RTT packets reach TLS at the server too (RFC 9001
// §4.1.3): a NewSessionTicket from a client is TLS's unexpected_message.
TEST_F(ConnEarlyTest, OneRttCryptoFromTheClientReachesTls) {
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  auto key = client_.tls->secrets.find({EncryptionLevel::kApplication, KeyDirection::kWrite});
  ASSERT_NE(key, client_.tls->secrets.end());
  // A NewSessionTicket (type 4) header announcing an empty-ish body.
  const uint8_t ticket[] = {0x04, 0x00, 0x00, 0x04, 0, 0, 0, 0};
  Buf frames(64);
  Writer w{MutBytes(frames.data(), frames.size())};
  ASSERT_TRUE(write_crypto(w, CryptoFrame{0, Bytes(ticket, sizeof ticket)}).is_ok());
  frames.resize(w.position());
  const PeerCid* dcid = client_.conn->peer_cids().current();
  ASSERT_NE(dcid, nullptr);
  deliver(test::kToServer, test::forge_one_rtt(client_.crypto, key->second, dcid->cid.view(), 5000, frames));
  ASSERT_EQ(server_.events.closes, 1);
  // RFC 9001 §4.8: CRYPTO_ERROR 0x0100 + unexpected_message (10).
  EXPECT_EQ(server_.events.error_code, 0x10au) << server_.events.reason;
}

TEST_F(ConnEarlyTest, ResumedHandshakeHasNoCertificate) {
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(std::count(server_.tls->msg_types.begin(), server_.tls->msg_types.end(), 11), 1);
  second_connection(&tickets_.back());
  ASSERT_FALSE(HasFatalFailure());
  // No early_data configured: nothing in 0-RTT, and streams wait.
  EXPECT_EQ(client_.conn->early_data(), EarlyDataState::kNone);
  EXPECT_FALSE(client_.conn->open_stream(StreamDir::kBidi).is_ok());
  run_until([&] { return confirmed(); }, now_ + 5 * kSec);
  expect_established();
  EXPECT_TRUE(client_.conn->resumed());
  EXPECT_TRUE(server_.conn->resumed());
  // RFC 8446 §2.2: no Certificate (11) or CertificateVerify (15).
  EXPECT_EQ(std::count(server_.tls->msg_types.begin(), server_.tls->msg_types.end(), 11), 0);
  EXPECT_EQ(std::count(server_.tls->msg_types.begin(), server_.tls->msg_types.end(), 15), 0);
  EXPECT_FALSE(sent_type(test::kToServer, PacketType::kZeroRtt));
  EXPECT_TRUE(client_.events.early_outcomes.empty());
}

TEST_F(ConnEarlyTest, ZeroRttAcceptedAndDelivered) {
  resume_zero_rtt();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(client_.conn->early_data(), EarlyDataState::kAttempted);
  ASSERT_TRUE(client_.conn->zero_rtt_writable());
  const uint64_t id = send_request();
  // The request rides in a 0-RTT packet of the client's first datagram,
  // after its Initial (RFC 9000 §12.2).
  flush(test::kToServer);
  ASSERT_FALSE(sent_[test::kToServer].empty());
  const std::vector<PacketType> first = packet_types(sent_[test::kToServer][0]);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], PacketType::kInitial);
  EXPECT_EQ(first[1], PacketType::kZeroRtt);
  // The server reads it before the handshake completes: one flight in.
  run_until([&] { return !server_.events.readable.empty(); }, now_ + 2 * kSec);
  ASSERT_FALSE(server_.events.readable.empty());
  EXPECT_FALSE(server_.conn->handshake_complete());
  bool fin = false;
  EXPECT_EQ(received(*server_.conn, id, &fin), kRequest);
  EXPECT_TRUE(fin);
  run_until([&] { return confirmed(); }, now_ + 5 * kSec);
  expect_established();
  EXPECT_GT(server_.conn->zero_rtt_packets(), 0u);
  EXPECT_EQ(server_.conn->zero_rtt_packets(), client_.conn->zero_rtt_packets());
  EXPECT_EQ(client_.conn->early_data(), EarlyDataState::kAccepted);
  EXPECT_EQ(server_.conn->early_data(), EarlyDataState::kAccepted);
  EXPECT_EQ(client_.events.early_outcomes, std::vector<bool>{true});
  EXPECT_EQ(server_.events.early_outcomes, std::vector<bool>{true});
  EXPECT_TRUE(client_.conn->resumed());
  // The 0-RTT packets were acknowledged in 1-RTT ones: nothing in flight.
  run_for(200 * kMs);
  EXPECT_EQ(client_.conn->recovery().bytes_in_flight(), 0u);
}

// RFC 9001 §4.1.1: the server has 1-RTT keys once it sent its Finished,
// so it answers a 0-RTT request in its first flight (0.5-RTT data), and
// the client has the response when its own handshake completes: one round
// trip after the request, not two.
TEST_F(ConnEarlyTest, ZeroRttRequestAnsweredInTheServersFirstFlight) {
  resume_zero_rtt();
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t id = send_request();
  run_until([&] { return !server_.events.readable.empty(); }, now_ + 2 * kSec);
  ASSERT_FALSE(server_.events.readable.empty());
  ASSERT_FALSE(server_.conn->handshake_complete());
  ASSERT_TRUE(sent_[test::kToClient].empty()) << "the server has not answered the ClientHello yet";
  bool fin = false;
  EXPECT_EQ(received(*server_.conn, id, &fin), kRequest);
  EXPECT_TRUE(fin);
  ASSERT_TRUE(server_.conn->streams_usable());
  const std::string response(2000, 'r');
  Result<size_t> n = server_.conn->stream_write(
      id, Bytes(reinterpret_cast<const uint8_t*>(response.data()), response.size()), true);
  ASSERT_TRUE(n.is_ok()) << n.status().reason();
  EXPECT_EQ(*n, response.size());
  flush(test::kToClient);
  // The first flight: Initial, Handshake and the response's 1-RTT packets
  // at one instant, within the anti-amplification limit (flush checks it).
  size_t one_rtt = 0;
  for (const Buf& dg : sent_[test::kToClient]) {
    const std::vector<PacketType> types = packet_types(dg);
    one_rtt += static_cast<size_t>(std::count(types.begin(), types.end(), PacketType::kOneRtt));
  }
  EXPECT_GE(one_rtt, 2u);
  for (uint64_t t : sent_at_[test::kToClient]) EXPECT_EQ(t, sent_at_[test::kToClient][0]);
  EXPECT_FALSE(server_.conn->handshake_complete());
  std::string got;
  bool done = false;
  run_until(
      [&] {
        if (client_.events.readable.empty()) return false;
        got += received(*client_.conn, id, &done);
        return done;
      },
      now_ + 2 * kSec);
  EXPECT_TRUE(done);
  EXPECT_EQ(got, response);
  // Read in the step that completed the client's handshake.
  EXPECT_TRUE(client_.conn->handshake_complete());
  EXPECT_EQ(client_.events.handshake_completes, 1);
  EXPECT_EQ(sent_[test::kToClient].size(), sent_at_[test::kToClient].size());
  EXPECT_EQ(sent_at_[test::kToClient].back(), sent_at_[test::kToClient][0]) << "no second server flight was needed";
  run_until([&] { return confirmed(); }, now_ + 5 * kSec);
  expect_established();
}

// An ordinary handshake is unchanged: the server writes nothing before
// the client's Finished, so its first flight has no 1-RTT packet.
TEST_F(ConnEarlyTest, FullHandshakeServerFlightHasNoOneRttPacket) {
  start();
  ASSERT_FALSE(HasFatalFailure());
  run_until([&] { return !sent_[test::kToClient].empty(); }, now_ + 2 * kSec);
  flush(test::kToClient);
  ASSERT_FALSE(sent_[test::kToClient].empty());
  EXPECT_TRUE(server_.conn->streams_usable());  // it could: it has 1-RTT keys
  EXPECT_FALSE(server_.conn->handshake_complete());
  for (size_t i = 0; i < sent_[test::kToClient].size() && sent_at_[test::kToClient][i] == sent_at_[test::kToClient][0];
       ++i) {
    const std::vector<PacketType> types = packet_types(sent_[test::kToClient][i]);
    EXPECT_EQ(std::count(types.begin(), types.end(), PacketType::kOneRtt), 0) << "datagram " << i;
  }
  run_until([&] { return confirmed(); }, now_ + 5 * kSec);
  expect_established();
}

TEST_F(ConnEarlyTest, ZeroRttRejectedDataResentInOneRtt) {
  // The same server (same ticket key) now with a lower stream limit than
  // its tickets were issued under: it refuses 0-RTT (RFC 9000 §7.4.1).
  resume_zero_rtt([&] { server_.config.params.initial_max_streams_bidi = 8; });
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(client_.conn->early_data(), EarlyDataState::kAttempted);
  // One stream: within the remembered limits and the server's new ones.
  const uint64_t id = send_request();
  run_until([&] { return confirmed() && !server_.events.readable.empty(); }, now_ + 5 * kSec);
  EXPECT_TRUE(sent_type(test::kToServer, PacketType::kZeroRtt));
  EXPECT_GT(client_.conn->zero_rtt_packets(), 0u);
  EXPECT_EQ(server_.conn->zero_rtt_packets(), 0u);  // RFC 9001 §4.6.2: none processed
  EXPECT_EQ(client_.conn->early_data(), EarlyDataState::kRejected);
  EXPECT_EQ(client_.events.early_outcomes, std::vector<bool>{false});
  EXPECT_EQ(server_.events.early_outcomes, std::vector<bool>{false});
  ASSERT_FALSE(server_.events.readable.empty());
  bool fin = false;
  EXPECT_EQ(received(*server_.conn, id, &fin), kRequest);
  EXPECT_TRUE(fin);
  expect_established();
}

TEST_F(ConnEarlyTest, LostZeroRttDataIsRepaired) {
  resume_zero_rtt();
  ASSERT_FALSE(HasFatalFailure());
  // The client's first datagram (Initial + 0-RTT with the request) is lost;
  // the ClientHello comes again on PTO, and the request's loss is detected
  // in the Application space (RFC 9002 §6), where it goes again.
  filter_ = [](test::Dir d, size_t index, uint64_t) {
    return test::Verdict{d == test::kToServer && index == 0 ? test::Verdict::Fate::kDrop : test::Verdict::Fate::kDeliver};
  };
  const uint64_t id = send_request();
  run_until([&] { return confirmed() && !server_.events.readable.empty(); }, now_ + 10 * kSec);
  expect_established();
  bool fin = false;
  EXPECT_EQ(received(*server_.conn, id, &fin), kRequest);
  EXPECT_TRUE(fin);
  EXPECT_TRUE(client_.conn->resumed());
}

TEST_F(ConnEarlyTest, RejectedUnderLimitsItExceededFailsLocally) {
  // The server now lets the client have one stream; 0-RTT used two.
  resume_zero_rtt([&] { server_.config.params.initial_max_streams_bidi = 1; });
  ASSERT_FALSE(HasFatalFailure());
  (void)send_request();
  (void)send_request();
  run_until([&] { return client_.events.closes > 0; }, now_ + 5 * kSec);
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.events.error_code, static_cast<uint64_t>(ErrorCode::kInternalError));
  EXPECT_NE(client_.events.reason.find("0-RTT rejected"), std::string::npos) << client_.events.reason;
}

TEST_F(ConnEarlyTest, UnknownTicketMeansFullHandshakeAndOneRttData) {
  // A server restarted with a new ticket key: the ticket is stale.
  resume_zero_rtt([&] {
    server_.conn.reset();
    server_.tls.reset();
    auto ctx = GnutlsTlsContext::create(server_.tls_config);
    ASSERT_TRUE(ctx.is_ok());
    server_.ctx = std::move(ctx).value();
  });
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t id = send_request();
  run_until([&] { return confirmed() && !server_.events.readable.empty(); }, now_ + 5 * kSec);
  expect_established();
  EXPECT_FALSE(client_.conn->resumed());
  EXPECT_FALSE(server_.conn->resumed());
  EXPECT_EQ(std::count(server_.tls->msg_types.begin(), server_.tls->msg_types.end(), 11), 1);
  EXPECT_EQ(server_.conn->zero_rtt_packets(), 0u);
  EXPECT_EQ(client_.events.early_outcomes, std::vector<bool>{false});
  bool fin = false;
  EXPECT_EQ(received(*server_.conn, id, &fin), kRequest);
  EXPECT_TRUE(fin);
}

TEST_F(ConnEarlyTest, AcceptedWithReducedLimitsIsProtocolViolation) {
  // The client remembers more than the server will say this time, and the
  // server (whose parameters did not change) accepts 0-RTT.
  TransportParameters more = default_params();
  more.initial_max_data += 1;
  resume_zero_rtt(nullptr, &more);
  ASSERT_FALSE(HasFatalFailure());
  (void)send_request();
  run_until([&] { return client_.events.closes > 0; }, now_ + 5 * kSec);
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kLocal);
  // RFC 9000 §7.4.1: a server accepting 0-RTT must not lower a limit.
  EXPECT_EQ(client_.events.error_code, static_cast<uint64_t>(ErrorCode::kProtocolViolation));
  EXPECT_NE(client_.events.reason.find("initial_max_data"), std::string::npos) << client_.events.reason;
  run_until([&] { return server_.events.closes > 0; }, now_ + 2 * kSec);
  EXPECT_EQ(server_.events.error_code, static_cast<uint64_t>(ErrorCode::kProtocolViolation));
}

TEST_F(ConnEarlyTest, ZeroRttKeysOpenOnlyZeroRttPackets) {
  resume_zero_rtt();
  ASSERT_FALSE(HasFatalFailure());
  run_until([&] { return server_.conn->early_data() == EarlyDataState::kAccepted || server_.conn->handshake_complete(); },
            now_ + 100 * kMs);
  auto key = client_.tls->secrets.find({EncryptionLevel::kEarlyData, KeyDirection::kWrite});
  ASSERT_NE(key, client_.tls->secrets.end());
  // A 1-RTT packet (short header) sealed with the 0-RTT key: the server
  // must not open it (RFC 9001 §4.6.1: 0-RTT keys protect 0-RTT packets).
  Frame ping;
  ping.type = FrameType::kPing;
  Buf frames(8);
  Writer w{MutBytes(frames.data(), frames.size())};
  ASSERT_TRUE(write_frame(w, ping).is_ok());
  frames.resize(w.position());
  const PeerCid* dcid = client_.conn->peer_cids().current();
  ASSERT_NE(dcid, nullptr);
  Buf forged = test::forge_one_rtt(client_.crypto, key->second, dcid->cid.view(), 1000, frames);
  deliver(test::kToServer, forged);
  run_until([&] { return confirmed(); }, now_ + 5 * kSec);
  expect_established();
  // Whether it was tried at once or kept until the handshake completed
  // (RFC 9001 §5.7), it never authenticated: packet number 1000 is unseen.
  const uint64_t largest = server_.conn->space(PnSpace::kApplication).acks.largest();
  EXPECT_TRUE(largest == kNoPacketNumber || largest < 1000) << largest;
}

}  // namespace
}  // namespace quicbed

namespace quicbed {
namespace {

// RFC 9369 §3.2: version 2 numbers the long header types differently
// (0-RTT is 0b10); the packet helpers write and read them per version.
TEST_F(ConnEarlyTest, ZeroRttInVersion2) {
  client_.config.version = kVersion2;
  server_.config.version = kVersion2;
  resume_zero_rtt();
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t id = send_request();
  flush(test::kToServer);
  ASSERT_FALSE(sent_[test::kToServer].empty());
  const Buf& d = sent_[test::kToServer][0];
  const std::vector<PacketType> types = packet_types(d);
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[1], PacketType::kZeroRtt);
  auto h = parse_packet_header(Bytes(d.data(), d.size()), HeaderParseOptions{8, false});
  ASSERT_TRUE(h.is_ok());
  auto z = parse_packet_header(Bytes(d.data(), d.size()).subspan(h->packet_length), HeaderParseOptions{8, false});
  ASSERT_TRUE(z.is_ok());
  EXPECT_EQ(z->version, kVersion2);
  EXPECT_EQ((z->first_byte >> 4) & 0x03, long_type_bits(kVersion2, PacketType::kZeroRtt));
  run_until([&] { return confirmed() && !server_.events.readable.empty(); }, now_ + 5 * kSec);
  expect_established();
  EXPECT_GT(server_.conn->zero_rtt_packets(), 0u);
  bool fin = false;
  EXPECT_EQ(received(*server_.conn, id, &fin), kRequest);
}

// RFC 9000 §12.4 Table 3: the frames a 0-RTT packet may not carry, each in
// a 0-RTT packet sealed with the client's real 0-RTT key: the server closes
// with PROTOCOL_VIOLATION naming the frame (the malformed-input matrix's
// 0-RTT rows; malformed_frames_test has the others).
struct ZeroRttRow {
  const char* name;
  Buf frames;
  uint64_t frame_type;
};
void PrintTo(const ZeroRttRow& row, std::ostream* os) { *os << row.name; }

class ZeroRttTable3Test : public ConnEarlyTest, public ::testing::WithParamInterface<ZeroRttRow> {};

TEST_P(ZeroRttTable3Test, ServerClosesWithProtocolViolation) {
  const ZeroRttRow& row = GetParam();
  resume_zero_rtt();
  ASSERT_FALSE(HasFatalFailure());
  // Until the server has its 0-RTT keys, and before the client's
  // Finished makes it drop them (RFC 9001 §4.9.3).
  run_until([&] { return server_.tls->secrets.count({EncryptionLevel::kEarlyData, KeyDirection::kRead}) > 0; },
            now_ + 100 * kMs);
  ASSERT_FALSE(server_.conn->handshake_complete());
  auto key = client_.tls->secrets.find({EncryptionLevel::kEarlyData, KeyDirection::kWrite});
  ASSERT_NE(key, client_.tls->secrets.end());
  // Addressed as the client's 0-RTT packets are: to the DCID of its first
  // Initial (RFC 9000 §7.2), from its SCID.
  auto first = parse_packet_header(test::bytes_of(sent_[test::kToServer][0]), HeaderParseOptions{});
  ASSERT_TRUE(first.is_ok());
  test::ForgedPacket p;
  p.type = PacketType::kZeroRtt;
  p.dcid = first->dcid;
  p.scid = first->scid;
  p.pn = 1000;
  deliver(test::kToServer, test::forge_packet(client_.crypto, key->second.suite, test::bytes_of(key->second.secret), p,
                                              row.frames));
  ASSERT_EQ(server_.events.closes, 1) << row.name;
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kLocal);
  EXPECT_EQ(server_.events.error_code, static_cast<uint64_t>(ErrorCode::kProtocolViolation));
  EXPECT_EQ(server_.events.frame_type, row.frame_type);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9000, ZeroRttTable3Test,
    ::testing::Values(ZeroRttRow{"Ack", {0x02, 0x00, 0x00, 0x00, 0x00}, 0x02},
                      ZeroRttRow{"Crypto", {0x06, 0x00, 0x01, 0x61}, 0x06},
                      ZeroRttRow{"NewToken", {0x07, 0x01, 0xaa}, 0x07},
                      ZeroRttRow{"PathResponse", {0x1b, 1, 2, 3, 4, 5, 6, 7, 8}, 0x1b},
                      ZeroRttRow{"HandshakeDone", {0x1e}, 0x1e}),
    [](const ::testing::TestParamInfo<ZeroRttRow>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace quicbed
