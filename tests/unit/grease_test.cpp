// Greasing (RFC 9000 §6.3, §18.1; RFC 9287): the Fixed Bit goes random
// only toward a peer that advertised grease_quic_bit, and a zero one is
// accepted only by an endpoint that advertised it; a reserved transport
// parameter goes with ours; a client's version_information is checked by
// the server (RFC 9368 §4).
#include <gtest/gtest.h>

#include "endpoint_pair.h"

namespace quicbed::test {
namespace {

class GreaseTest : public EndpointPairTest {
 protected:
  // Packets of a datagram and how many have a zero Fixed Bit (the greased
  // parser reads both).
  static std::pair<int, int> fixed_bits(const Buf& d) {
    int packets = 0, zero = 0;
    Bytes rest = bytes_of(d);
    while (!rest.empty()) {
      auto h = parse_packet_header(rest, HeaderParseOptions{8, true});
      if (!h) break;
      ++packets;
      zero += (h->first_byte & 0x40) == 0;
      rest = rest.subspan(h->packet_length);
    }
    return {packets, zero};
  }

  std::pair<int, int> server_fixed_bits() const {
    std::pair<int, int> n{0, 0};
    for (const Sent& s : sent_by_server_) {
      auto [p, z] = fixed_bits(s.bytes);
      n.first += p;
      n.second += z;
    }
    return n;
  }

  // Runs a transfer big enough for many packets each way.
  void transfer(TestClient& c) {
    run_until([&] { return all_confirmed(); }, 2 * kSec);
    ASSERT_TRUE(c.conn->handshake_confirmed());
    auto id = c.conn->open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok());
    const Buf data(100 * 1024, 0x5a);
    size_t sent = 0;
    run_until(
        [&] {
          if (sent < data.size()) {
            auto n = c.conn->stream_write(*id, Bytes(data.data() + sent, data.size() - sent), true);
            if (n.is_ok()) sent += *n;
          }
          return sent == data.size() && !host_.accepted_events.empty() &&
                 host_.accepted_events[0]->received[*id].size() == data.size();
        },
        now_ + 5 * kSec);
    ASSERT_EQ(host_.accepted_events[0]->received[*id].size(), data.size());
  }

  std::vector<Buf> from_client_;
};

// Both advertise: about half the packets each way clear the bit, and the
// transfer does not notice. The client's Initials keep it (RFC 9287 §3.1).
TEST_F(GreaseTest, BothAdvertiseBothGrease) {
  config_.connection.params.grease_quic_bit = true;
  drop_to_server = [this](uint32_t, const Buf& d) {
    from_client_.push_back(d);
    return false;
  };
  start_server();
  TestClient& c = add_client(kVersion1, [](ConnectionConfig& cc) { cc.params.grease_quic_bit = true; });
  transfer(c);
  const auto [server_packets, server_zero] = server_fixed_bits();
  EXPECT_GT(server_packets, 20);
  EXPECT_GT(server_zero, server_packets / 4);
  EXPECT_LT(server_zero, server_packets * 3 / 4);
  int client_packets = 0, client_zero = 0;
  for (const Buf& d : from_client_) {
    auto h = parse_packet_header(bytes_of(d), HeaderParseOptions{8, true});
    ASSERT_TRUE(h.is_ok());
    if (h->form == HeaderForm::kLong && h->type == PacketType::kInitial) {
      EXPECT_TRUE(h->first_byte & 0x40);
      continue;
    }
    auto [p, z] = fixed_bits(d);
    client_packets += p;
    client_zero += z;
  }
  EXPECT_GT(client_zero, 0);
  EXPECT_LT(client_zero, client_packets);
}

// A client that did not advertise never sees a zero Fixed Bit; the server
// still may get them (it advertised, the client did... not, so none come).
TEST_F(GreaseTest, NoGreaseTowardAPeerThatDidNotAdvertise) {
  config_.connection.params.grease_quic_bit = true;
  start_server();
  TestClient& c = add_client(kVersion1, [](ConnectionConfig& cc) { cc.params.grease_quic_bit = false; });
  transfer(c);
  const auto [packets, zero] = server_fixed_bits();
  EXPECT_GT(packets, 20);
  EXPECT_EQ(zero, 0);
}

// RFC 9000 §17.2: without grease_quic_bit of ours, a zero Fixed Bit is an
// invalid packet, dropped before decryption.
TEST_F(GreaseTest, ZeroFixedBitDroppedWithoutAdvertising) {
  start_server();
  TestClient& c = add_client(kVersion1, [](ConnectionConfig& cc) { cc.params.grease_quic_bit = false; });
  // Clear the bit of the server's datagrams to the client.
  drop_to_client = [this, &c](uint32_t id, const Buf& d) {
    Buf copy = d;
    copy[0] &= 0xbf;
    clients_[id]->conn->receive_datagram(MutBytes(copy.data(), copy.size()), DatagramInfo{}, now_);
    (void)c;
    return true;
  };
  run_for(300 * kMs);
  EXPECT_FALSE(c.conn->handshake_complete());
  EXPECT_FALSE(c.conn->space(PnSpace::kInitial).acks.largest() != kNoPacketNumber);
}

// RFC 9000 §18.1: a reserved parameter (31*N+27) goes with ours, and the
// peer's are skipped (the handshake completes with both sending one).
TEST_F(GreaseTest, ReservedTransportParameterSent) {
  start_server();
  Buf ours;
  TestClient& c = add_client(kVersion1, [&](ConnectionConfig&) {});
  // The client handed its parameters to TLS in init(); make another one to
  // see them (the tamper hook must be set before init).
  (void)c;
  auto session = client_ctx_->new_session();
  ASSERT_TRUE(session.is_ok());
  SpyTls spy(std::move(session).value());
  spy.tamper = [&](Buf& b) { ours = b; };
  TestClient probe(99);
  ConnectionConfig cc = c.config;
  cc.tls = &spy;
  cc.events = &probe.events;
  cc.random = &probe.random;
  Connection conn(cc);
  ASSERT_TRUE(conn.init(now_).is_ok());
  ASSERT_FALSE(ours.empty());
  auto tp = TransportParameters::parse(bytes_of(ours), Role::kClient);
  ASSERT_TRUE(tp.is_ok());
  // Walk the raw list for an id of the reserved form.
  Reader r(bytes_of(ours));
  int reserved = 0;
  while (!r.empty()) {
    auto id = read_varint(r, ErrorCode::kTransportParameterError);
    auto len = read_varint(r, ErrorCode::kTransportParameterError);
    ASSERT_TRUE(id.is_ok() && len.is_ok());
    ASSERT_TRUE(r.skip(*len).is_ok());
    reserved += *id % 31 == 27;
  }
  EXPECT_EQ(reserved, 1);
  // version_information: chosen v1, v1 and v2 available (the reserved
  // version the wire list has is not kept).
  ASSERT_TRUE(tp->has_version_information);
  EXPECT_EQ(tp->version_information.chosen_version, kVersion1);
  run_until([&] { return all_confirmed(); }, 2 * kSec);
  EXPECT_TRUE(c.conn->handshake_confirmed());
}

// RFC 9368 §4: a client's Chosen Version other than the version of its
// first flight was tampered with: VERSION_NEGOTIATION_ERROR.
TEST_F(GreaseTest, ClientChosenVersionMismatchIsVersionNegotiationError) {
  start_server();
  TestClient& c = add_client(kVersion1, [&](ConnectionConfig& cc) {
    cc.versions[0] = kVersion1;
    cc.versions[1] = kVersion2;
  });
  // Too late for this client's ClientHello: a second one, tampered.
  auto session = client_ctx_->new_session();
  ASSERT_TRUE(session.is_ok());
  auto spy = std::make_unique<SpyTls>(std::move(session).value());
  spy->tamper = [](Buf& b) {
    auto tp = TransportParameters::parse(bytes_of(b), Role::kClient);
    ASSERT_TRUE(tp.is_ok());
    tp->version_information.chosen_version = kVersion2;
    Buf out(512);
    Writer w{MutBytes(out.data(), out.size())};
    ASSERT_TRUE(tp->serialize(w, Role::kClient).is_ok());
    out.resize(w.position());
    b = out;
  };
  c.conn.reset();
  c.tls = std::move(spy);
  c.config.tls = c.tls.get();
  c.conn = std::make_unique<Connection>(c.config);
  ASSERT_TRUE(c.conn->init(now_).is_ok());
  run_until([&] { return c.events.closes > 0; }, 2 * kSec);
  EXPECT_EQ(c.events.closes, 1);
  EXPECT_EQ(c.events.source, CloseInfo::Source::kPeer);
  EXPECT_EQ(c.events.error_code, 0x11u);
}

}  // namespace
}  // namespace quicbed::test
