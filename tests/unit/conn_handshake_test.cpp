// The connection engine end to end: a client and a server Connection in one
// process, with real GnuTLS sessions, exchanging datagrams over an
// in-memory link driven by a virtual clock. The link can drop, duplicate
// and delay (reorder) datagrams by their index in each direction, and the
// tests can inject garbage or forge the packets a misbehaving peer would
// send (with keys derived as RFC 9001 §5.2 says, or taken from a TLS
// session through a spy).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "conn_pair.h"
#include "initial_packets.h"

namespace quicbed {
namespace {

using namespace quicbed::test;
using ConnHandshakeTest = ConnPairTest;

TEST_F(ConnHandshakeTest, HandshakeCompletesInTwoRoundTrips) {
  handshake();
  expect_established();
  // Client Initial (t=0) -> server flight (10 ms) -> client Finished (20 ms)
  // -> HANDSHAKE_DONE (30 ms) reaches the client at 40 ms.
  EXPECT_EQ(now_, 4 * kOneWayDelay);
  EXPECT_EQ(client_.tls->alpn().size(), 10u);
  EXPECT_EQ(client_.conn->peer_params().initial_max_data, 1u << 20);
  EXPECT_EQ(server_.conn->peer_params().active_connection_id_limit, 4u);
  // RFC 9000 §14.1: every datagram with an Initial packet is >= 1200 bytes
  // (the server's carry ack-eliciting Initials here too).
  for (int d : {kToServer, kToClient}) {
    for (const Buf& datagram : sent_[d]) {
      auto types = packet_types(datagram);
      if (std::find(types.begin(), types.end(), PacketType::kInitial) != types.end()) {
        EXPECT_GE(datagram.size(), 1200u);
      }
    }
  }
  // The client's first datagram is one padded Initial.
  ASSERT_FALSE(sent_[kToServer].empty());
  EXPECT_EQ(sent_[kToServer][0].size(), 1200u);
  EXPECT_EQ(packet_types(sent_[kToServer][0]), std::vector<PacketType>{PacketType::kInitial});
  // The server's first flight coalesces Initial and Handshake (§12.2).
  ASSERT_FALSE(sent_[kToClient].empty());
  auto first = packet_types(sent_[kToClient][0]);
  ASSERT_GE(first.size(), 2u);
  EXPECT_EQ(first[0], PacketType::kInitial);
  EXPECT_EQ(first[1], PacketType::kHandshake);

  // Quiet afterwards: ACKs settle and nothing closes.
  run_for(2 * kSec);
  expect_established();
}

TEST_F(ConnHandshakeTest, FirstClientInitialLost) {
  filter_ = [](Dir d, size_t i, uint64_t) {
    return Verdict{d == kToServer && i == 0 ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake();
  expect_established();
  // The client's PTO (RFC 9002 §6.2.2.1, 3 * 333 ms initially) resent it.
  EXPECT_GT(now_, 900 * kMs);
  EXPECT_LT(now_, 1100 * kMs);
  EXPECT_GE(sent_[kToServer][1].size(), 1200u);
}

TEST_F(ConnHandshakeTest, ServerFirstFlightLost) {
  // Everything the server sends in answer to the first ClientHello.
  filter_ = [](Dir d, size_t, uint64_t sent_at) {
    return Verdict{d == kToClient && sent_at <= kOneWayDelay ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake();
  expect_established();
  EXPECT_GT(now_, 900 * kMs);
  EXPECT_LT(now_, 2200 * kMs);
}

// The server's first 1-RTT datagram (HANDSHAKE_DONE) is lost, and so is
// every 1-RTT datagram of the client until it is confirmed: no ACK ever
// tells the server of the loss. The client, unconfirmed, arms no PTO for
// its 1-RTT data (RFC 9002 §6.2.1) and its Handshake probes reach a server
// that has discarded those keys; only the server's probes can end this,
// and they do by repeating HANDSHAKE_DONE (RFC 9000 §13.3). The local
// runner's handshakeloss case ran into it.
TEST_F(ConnHandshakeTest, ServerProbesRepeatHandshakeDone) {
  size_t server_short_headers = 0;
  filter_ = [&](Dir d, size_t i, uint64_t) {
    const bool short_header = (sent_[d][i][0] & 0x80) == 0;  // RFC 9000 §17.3
    bool drop = false;
    if (d == kToClient && short_header) drop = server_short_headers++ == 0;
    if (d == kToServer && short_header) drop = !client_.conn->handshake_confirmed();
    return Verdict{drop ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake(10 * kSec);
  ASSERT_GE(server_short_headers, 2u);
  EXPECT_TRUE(client_.conn->handshake_confirmed());
  expect_established();
}

// Every server Initial with CRYPTO data (the ServerHello) is lost for a
// while, and only those: the client acknowledges the server's other
// Initials (ACK, PING), so the server declares its CRYPTO packets lost and
// its congestion window shrinks, while its Handshake packets keep the PTO
// in the Handshake space. The probes must still carry the Initial CRYPTO
// data (RFC 9002 §6.2.4); it used to wait for a window its Handshake
// probes kept full, and the handshake never ended (the local runner's
// handshakecorruption case).
TEST_F(ConnHandshakeTest, ProbesCarryLostInitialCryptoDataOfTheOtherSpace) {
  auto has_crypto = [this](const Buf& d) {
    const Buf& first = sent_[kToServer][0];
    auto h = parse_packet_header(bytes_of(first), HeaderParseOptions{8, true});
    if (!h) return false;
    auto o = open_initial(client_.crypto, d, false, h->dcid);
    if (!o) return false;
    Reader r(Bytes(o->payload.data(), o->payload.size()));
    while (!r.empty()) {
      Result<Frame> f = parse_frame(r);
      if (!f) return false;
      if (f->type == FrameType::kCrypto) return true;
    }
    return false;
  };
  size_t dropped = 0;
  filter_ = [&](Dir d, size_t i, uint64_t sent_at) {
    const bool drop = d == kToClient && sent_at < 3 * kSec && has_crypto(sent_[d][i]);
    dropped += drop;
    return Verdict{drop ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake(20 * kSec);
  EXPECT_GE(dropped, 3u);
  expect_established();
}

// Everything one side sends for a while is lost: its PTO fires again and
// again (RFC 9002 §6.2.4), and its probes (a small PING-only packet may be
// coalesced ahead of another, RFC 9000 §12.2) must come out intact until
// the peer hears one. The server's blackouts from 1.1 s on once broke it.
struct Blackout {
  Dir dir;
  uint64_t duration;
};
void PrintTo(const Blackout& b, std::ostream* os) {
  *os << (b.dir == kToClient ? "server" : "client") << " blackout " << b.duration / kMs << " ms";
}

class BlackoutTest : public ConnHandshakeTest, public ::testing::WithParamInterface<Blackout> {};

TEST_P(BlackoutTest, HandshakeCompletesAndEveryDatagramParses) {
  const Blackout b = GetParam();
  filter_ = [b](Dir d, size_t, uint64_t sent_at) {
    return Verdict{d == b.dir && sent_at < b.duration ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake(30 * kSec);
  expect_established();
  EXPECT_GT(now_, b.duration);
  // Every datagram parses into packets end to end, both ways; a server's
  // probes included some with a tiny packet (under 64 bytes) ahead of
  // another, the case that went wrong.
  bool tiny_first = false;
  for (Dir d : {kToServer, kToClient}) {
    for (const Buf& datagram : sent_[d]) {
      size_t total = 0;
      std::vector<size_t> lengths;
      Bytes rest = bytes_of(datagram);
      while (!rest.empty()) {
        auto h = parse_packet_header(rest, HeaderParseOptions{8, false});
        ASSERT_TRUE(h.is_ok());
        lengths.push_back(h->packet_length);
        total += h->packet_length;
        rest = rest.subspan(h->packet_length);
      }
      EXPECT_EQ(total, datagram.size());
      tiny_first |= d == kToClient && lengths.size() > 1 && lengths[0] < 64;
    }
  }
  if (b.dir == kToClient) {
    EXPECT_TRUE(tiny_first);
  }
}

INSTANTIATE_TEST_SUITE_P(Durations, BlackoutTest,
                         ::testing::Values(Blackout{kToClient, 1100 * kMs}, Blackout{kToClient, 1500 * kMs},
                                           Blackout{kToClient, 2000 * kMs}, Blackout{kToClient, 2500 * kMs},
                                           Blackout{kToClient, 4000 * kMs}, Blackout{kToServer, 2500 * kMs}),
                         [](const ::testing::TestParamInfo<Blackout>& i) {
                           return std::string(i.param.dir == kToClient ? "Server" : "Client") +
                                  std::to_string(i.param.duration / kMs) + "ms";
                         });

TEST_F(ConnHandshakeTest, ReorderedDatagrams) {
  // Every first datagram of a burst arrives after the one sent next.
  filter_ = [](Dir, size_t i, uint64_t) { return Verdict{Verdict::Fate::kDeliver, i % 2 == 0 ? 3 * kMs : 0}; };
  handshake();
  expect_established();
}

TEST_F(ConnHandshakeTest, ServerFlightReversed) {
  // The server's first flight arrives in reverse order: the packets the
  // client cannot decrypt yet wait for their keys (RFC 9001 §5.7), so the
  // handshake takes the 5 ms of delay longer, and no PTO (about 1 s).
  filter_ = [](Dir d, size_t i, uint64_t sent_at) {
    uint64_t extra = d == kToClient && sent_at <= kOneWayDelay ? (5 - std::min<size_t>(i, 4)) * kMs : 0;
    return Verdict{Verdict::Fate::kDeliver, extra};
  };
  handshake();
  expect_established();
  ASSERT_GE(sent_[kToClient].size(), 3u);
  EXPECT_EQ(now_, 4 * kOneWayDelay + 5 * kMs);
  EXPECT_EQ(client_.conn->recovery().pto_count(), 0u);
  EXPECT_EQ(server_.conn->recovery().pto_count(), 0u);
}

TEST_F(ConnHandshakeTest, ClientOneRttAheadOfItsFinished) {
  // The client's 1-RTT data overtakes the datagram with its Finished (its
  // second, 15 ms late): the server keeps it until its handshake completes
  // (RFC 9001 §5.7) and reads it the moment the Finished arrives.
  filter_ = [](Dir d, size_t i, uint64_t) {
    return Verdict{Verdict::Fate::kDeliver, d == kToServer && i == 1 ? 15 * kMs : 0};
  };
  start();
  ASSERT_FALSE(HasFatalFailure());
  bool written = false;
  run_until(
      [&] {
        if (!written && client_.conn->handshake_complete()) {
          flush(kToServer);  // the Finished goes first, on its own
          auto id = client_.conn->open_stream(StreamDir::kBidi);
          EXPECT_TRUE(id.is_ok());
          EXPECT_TRUE(client_.conn->stream_write(*id, bytes_of(Buf{1, 2, 3}), true).is_ok());
          written = true;
        }
        return !server_.events.readable.empty();
      },
      5 * kSec);
  ASSERT_FALSE(server_.events.readable.empty());
  ASSERT_GE(sent_[kToServer].size(), 3u);
  // The Finished in a Handshake packet (coalesced with the client's last
  // Initial ACK and a 1-RTT packet of NEW_CONNECTION_ID frames), then the data.
  EXPECT_EQ(packet_types(sent_[kToServer][1]),
            (std::vector<PacketType>{PacketType::kInitial, PacketType::kHandshake, PacketType::kOneRtt}));
  EXPECT_EQ(packet_types(sent_[kToServer][2]), std::vector<PacketType>{PacketType::kOneRtt});
  const uint64_t finished_at = sent_at_[kToServer][1] + kOneWayDelay + 15 * kMs;
  EXPECT_LT(sent_at_[kToServer][2] + kOneWayDelay, finished_at);  // it did overtake
  EXPECT_EQ(now_, finished_at);
  run_until([&] { return confirmed(); }, 5 * kSec);
  expect_established();
}

// Counts packet_dropped events by trigger.
class DropTracer final : public Tracer {
 public:
  void packet_dropped(uint64_t, const TracedPacketDrop& d) override { drops.push_back(d.trigger); }
  size_t count(DropReason r) const { return std::count(drops.begin(), drops.end(), r); }
  std::vector<DropReason> drops;
};

TEST_F(ConnHandshakeTest, PacketsAheadOfTheirKeysAreBounded) {
  DropTracer tracer;
  client_.config.tracer = &tracer;
  start();
  ASSERT_FALSE(HasFatalFailure());
  flush(kToServer);
  auto client_initial = parse_packet_header(bytes_of(sent_[kToServer][0]), HeaderParseOptions{});
  ASSERT_TRUE(client_initial.is_ok());
  // Handshake packets for the client before it has Handshake keys: forged,
  // they will never open, but that cannot be known yet.
  TestRandom rng(5);
  Buf scid(8);
  rng.fill(MutBytes(scid.data(), scid.size()));
  const auto handshake_packet = [&](size_t size) {
    Buf p(size);
    rng.fill(MutBytes(p.data(), p.size()));
    Writer w{MutBytes(p.data(), p.size())};
    LongHeader h;
    h.type = PacketType::kHandshake;
    h.dcid = client_initial->scid;
    h.scid = bytes_of(scid);
    h.pn_len = 2;
    auto layout = write_long_header(w, h);
    EXPECT_TRUE(layout.is_ok());
    MutBytes packet(p.data(), p.size());
    EXPECT_TRUE(write_length_field(packet, layout->length_offset, size - layout->pn_offset).is_ok());
    return p;
  };
  // 8 KB at most: 3000 + 3000 + 100 + 1000 are kept, 2500 would cross it;
  // 4 packets at most: the last one, of 40 bytes, is dropped too.
  for (size_t size : {3000, 3000, 2500, 100, 1000, 40}) deliver(kToClient, handshake_packet(size));
  EXPECT_EQ(tracer.count(DropReason::kKeyUnavailable), 2u);
  EXPECT_EQ(tracer.drops.size(), 2u);
  // Once the keys arrive, the four are processed: not from this server
  // (RFC 9000 §7.2), so dropped. The handshake goes on regardless.
  run_until([&] { return confirmed(); }, 10 * kSec);
  expect_established();
  EXPECT_EQ(tracer.count(DropReason::kUnexpectedSourceConnectionId), 4u);
}

TEST_F(ConnHandshakeTest, DuplicatedDatagrams) {
  filter_ = [](Dir, size_t, uint64_t) { return Verdict{Verdict::Fate::kDuplicate, 0}; };
  handshake();
  expect_established();
  EXPECT_EQ(now_, 4 * kOneWayDelay);
  run_for(1 * kSec);
  expect_established();
}

TEST_F(ConnHandshakeTest, ServerRespectsAmplificationLimit) {
  // Only the client's first datagram gets through for 5 seconds: the server
  // may then send no more than 3 * 1200 bytes (RFC 9000 §8.1), however
  // often its PTO fires.
  bool blackout = true;
  filter_ = [&blackout](Dir d, size_t i, uint64_t) {
    return Verdict{d == kToServer && i > 0 && blackout ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  start();
  run_until([] { return false; }, 5 * kSec);
  EXPECT_EQ(server_.conn->bytes_received(), 1200u);
  EXPECT_FALSE(server_.conn->address_validated());
  EXPECT_LE(server_.conn->bytes_sent(), 3600u);
  // It did resend (PTO) up to the limit rather than stop after one flight.
  EXPECT_GT(server_.conn->bytes_sent(), 2400u);
  const size_t sent_in_blackout = sent_[kToClient].size();
  EXPECT_EQ(server_.conn->next_timeout() == kNever || server_.conn->next_timeout() > now_, true);
  // Once the client gets through again, the handshake completes.
  blackout = false;
  run_until([&] { return confirmed(); }, 30 * kSec);
  expect_established();
  EXPECT_GT(sent_[kToClient].size(), sent_in_blackout);
}

TEST_F(ConnHandshakeTest, GarbageDatagramsIgnored) {
  TestRandom rng(99);
  start();
  ASSERT_FALSE(HasFatalFailure());
  // Before each step, each side gets garbage: random bytes, a long header
  // of our version with a random body, or a real datagram cut short or
  // with a byte flipped.
  const auto garbage = [&](Dir d) {
    Buf g;
    switch (rng.below(4)) {
      case 0:
        g.resize(1 + rng.below(1500));
        rng.fill(MutBytes(g.data(), g.size()));
        break;
      case 1:
        g.resize(1200 + rng.below(100));
        rng.fill(MutBytes(g.data(), g.size()));
        g[0] = static_cast<uint8_t>(0xc0 | (g[0] & 0x3f));
        g[1] = 0, g[2] = 0, g[3] = 0, g[4] = 1;  // QUIC v1
        g[5] = static_cast<uint8_t>(rng.below(21));
        break;
      default: {
        const std::vector<Buf>& seen = sent_[d];
        if (seen.empty()) return g;
        g = seen[rng.below(seen.size())];
        if (rng.below(2)) {
          g.resize(rng.below(g.size()));
        } else {
          g[rng.below(g.size())] ^= static_cast<uint8_t>(1 + rng.below(255));
        }
      }
    }
    return g;
  };
  for (int i = 0; i < 400 && !confirmed(); ++i) {
    for (Dir d : {kToServer, kToClient}) {
      Buf g = garbage(d);
      if (!g.empty()) deliver(d, g);
    }
    if (!step()) break;
  }
  run_until([&] { return confirmed(); }, 30 * kSec);
  expect_established();
  // Established: also 1-RTT packets with the right Destination Connection
  // ID and a random body, flipped key phase bits included (RFC 9001 §6.3:
  // they fail to open with either key and change nothing).
  auto client_initial = parse_packet_header(bytes_of(sent_[kToServer][0]), HeaderParseOptions{});
  auto server_initial = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
  ASSERT_TRUE(client_initial.is_ok() && server_initial.is_ok());
  for (int i = 0; i < 200; ++i) {
    for (Dir d : {kToServer, kToClient}) {
      Buf g = garbage(d);
      if (i % 2 == 0) {
        const Bytes dcid = d == kToServer ? server_initial->scid : client_initial->scid;
        g.resize(1 + dcid.size() + 20 + rng.below(1200));
        rng.fill(MutBytes(g.data(), g.size()));
        g[0] = static_cast<uint8_t>(0x40 | (g[0] & 0x3f));
        std::copy(dcid.begin(), dcid.end(), g.begin() + 1);
      }
      if (!g.empty()) deliver(d, g);
    }
    step(now_ + kMs);
  }
  run_for(2 * kSec);
  expect_established();
  EXPECT_EQ(client_.conn->key_phase(), false);
  EXPECT_EQ(server_.conn->key_phase(), false);
}

TEST_F(ConnHandshakeTest, GarbageBeforeTheFirstInitialIsIgnored) {
  start();
  ASSERT_FALSE(HasFatalFailure());
  TestRandom rng(7);
  for (int i = 0; i < 200; ++i) {
    Buf g(1 + rng.below(1400));
    rng.fill(MutBytes(g.data(), g.size()));
    if (i % 2) {
      // A plausible Initial: v1, a DCID of 8..20 bytes, 1200+ bytes.
      g.resize(1200 + rng.below(200));
      g[0] = 0xc3;
      g[1] = 0, g[2] = 0, g[3] = 0, g[4] = 1;
      g[5] = static_cast<uint8_t>(8 + rng.below(13));
    }
    deliver(kToServer, g);
    Buf out(1500);
    EXPECT_EQ(server_.conn->write_datagram(MutBytes(out.data(), out.size()), now_), 0u);
  }
  EXPECT_EQ(server_.conn->state(), Connection::State::kHandshake);
  EXPECT_EQ(server_.events.closes, 0);
  run_until([&] { return confirmed(); }, 10 * kSec);
  expect_established();
}

// ---- Forged packets ---------------------------------------------------------

// A client Initial as a misbehaving client would write it: `frames`, then
// PADDING up to a 1200-byte datagram, protected with the Initial keys
// derived from `dcid` (RFC 9001 §5.2).
Buf forge_client_initial(CryptoBackend& crypto, Bytes dcid, Bytes scid, uint64_t pn, const Buf& frames) {
  auto secrets = derive_initial_secrets(crypto, *version_crypto(kVersion1), dcid);
  EXPECT_TRUE(secrets.is_ok());
  ForgedPacket p;
  p.type = PacketType::kInitial;
  p.dcid = dcid;
  p.scid = scid;
  p.pn = pn;
  p.pn_len = 2;
  p.pad_to = 1200;
  return forge_packet(crypto, kInitialSuite, secrets->client.bytes(), p, frames);
}

// The payload of the first (Initial) packet of a server datagram, opened
// with the server's Initial keys for the client's `dcid`.
Buf open_server_initial(CryptoBackend& crypto, Buf datagram, Bytes dcid) {
  auto h = parse_packet_header(bytes_of(datagram), HeaderParseOptions{});
  if (!h || h->type != PacketType::kInitial) return {};
  auto secrets = derive_initial_secrets(crypto, *version_crypto(kVersion1), dcid);
  PacketProtection pp;
  EXPECT_TRUE(pp.init(crypto, kInitialSuite, *version_crypto(kVersion1), secrets->server.bytes()).is_ok());
  MutBytes packet(datagram.data(), h->packet_length);
  auto pnf = pp.unprotect_header(packet, h->pn_offset);
  if (!pnf) return {};
  auto payload = pp.open(packet, h->pn_offset + pnf->len, decode_packet_number(kNoPacketNumber, pnf->truncated, pnf->len));
  if (!payload) return {};
  return Buf(payload->begin(), payload->end());
}

// The CONNECTION_CLOSE frame among `payload`'s frames.
bool find_close(const Buf& payload, FrameType& type, uint64_t& code, uint64_t& frame_type) {
  Reader r(bytes_of(payload));
  while (!r.empty()) {
    auto f = parse_frame(r);
    if (!f) return false;
    if (f->type == FrameType::kConnectionClose || f->type == FrameType::kConnectionCloseApp) {
      type = f->type;
      code = f->connection_close.error_code;
      frame_type = f->connection_close.frame_type;
      return true;
    }
  }
  return false;
}

struct ForgedCase {
  const char* name;
  Buf frames;
  ErrorCode expected;
  uint64_t frame_type;
};

class ForgedInitialTest : public ConnHandshakeTest, public ::testing::WithParamInterface<ForgedCase> {};

TEST_P(ForgedInitialTest, ServerClosesWithTheRfcError) {
  const ForgedCase& c = GetParam();
  create(server_);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(server_.conn->init(0).is_ok());
  const Buf dcid = {1, 2, 3, 4, 5, 6, 7, 8};
  const Buf scid = {9, 9, 9, 9};
  Buf forged = forge_client_initial(server_.crypto, bytes_of(dcid), bytes_of(scid), 0, c.frames);
  deliver(kToServer, forged);

  EXPECT_EQ(server_.conn->state(), Connection::State::kClosing);
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kLocal);
  EXPECT_EQ(server_.events.error_code, static_cast<uint64_t>(c.expected));
  EXPECT_EQ(server_.events.frame_type, c.frame_type);

  // It says so in a CONNECTION_CLOSE (0x1c) in an Initial packet, within
  // its amplification budget.
  Buf out(1500);
  size_t n = server_.conn->write_datagram(MutBytes(out.data(), out.size()), 0);
  ASSERT_GT(n, 0u);
  EXPECT_LE(n, 3600u);
  out.resize(n);
  Buf payload = open_server_initial(server_.crypto, out, bytes_of(dcid));
  FrameType type{};
  uint64_t code = 0, frame_type = 0;
  ASSERT_TRUE(find_close(payload, type, code, frame_type));
  EXPECT_EQ(type, FrameType::kConnectionClose);
  EXPECT_EQ(code, static_cast<uint64_t>(c.expected));
  EXPECT_EQ(frame_type, c.frame_type);
  // Once only, until another packet arrives (§10.2.1).
  EXPECT_EQ(server_.conn->write_datagram(MutBytes(out.data(), out.size()), 0), 0u);

  // Closing lasts three PTOs (§10.2), then the connection is gone.
  uint64_t t = server_.conn->next_timeout();
  ASSERT_NE(t, kNever);
  EXPECT_GE(t, 3 * 999 * kMs);
  server_.conn->on_timeout(t);
  EXPECT_TRUE(server_.conn->is_terminated());
  EXPECT_EQ(server_.conn->next_timeout(), kNever);
}

INSTANTIATE_TEST_SUITE_P(
    Frames, ForgedInitialTest,
    ::testing::Values(
        // RFC 9000 §12.4 Table 3: HANDSHAKE_DONE, STREAM and NEW_TOKEN are
        // not allowed in Initial packets.
        ForgedCase{"HandshakeDoneInInitial", {0x1e}, ErrorCode::kProtocolViolation, 0x1e},
        ForgedCase{"StreamInInitial", {0x0a, 0x00, 0x01, 0x61}, ErrorCode::kProtocolViolation, 0x0a},
        ForgedCase{"NewTokenInInitial", {0x07, 0x01, 0xaa}, ErrorCode::kProtocolViolation, 0x07},
        ForgedCase{"ResetStreamInInitial", {0x04, 0x00, 0x00, 0x00}, ErrorCode::kProtocolViolation, 0x04},
        ForgedCase{"StopSendingInInitial", {0x05, 0x00, 0x00}, ErrorCode::kProtocolViolation, 0x05},
        ForgedCase{"MaxDataInInitial", {0x10, 0x44, 0x00}, ErrorCode::kProtocolViolation, 0x10},
        ForgedCase{"MaxStreamsInInitial", {0x12, 0x04}, ErrorCode::kProtocolViolation, 0x12},
        ForgedCase{"RetireConnectionIdInInitial", {0x19, 0x00}, ErrorCode::kProtocolViolation, 0x19},
        ForgedCase{"PathChallengeInInitial", {0x1a, 1, 2, 3, 4, 5, 6, 7, 8}, ErrorCode::kProtocolViolation, 0x1a},
        ForgedCase{"ApplicationCloseInInitial", {0x1d, 0x00, 0x00}, ErrorCode::kProtocolViolation, 0x1d},
        ForgedCase{"DatagramInInitial", {0x31, 0x01, 0x61}, ErrorCode::kProtocolViolation, 0x31},
        // §12.4: an unknown frame type is FRAME_ENCODING_ERROR.
        ForgedCase{"UnknownFrameType", {0x21}, ErrorCode::kFrameEncodingError, 0x21},
        // §19.6: a CRYPTO frame longer than the packet (2000 bytes).
        ForgedCase{"TruncatedCrypto", {0x06, 0x00, 0x47, 0xd0, 0x01}, ErrorCode::kFrameEncodingError, 0x06},
        // §13.1: acknowledging a packet number never sent.
        ForgedCase{"AckOfUnsentPacket", {0x02, 0x05, 0x00, 0x00, 0x00}, ErrorCode::kProtocolViolation, 0x02},
        // §7.5: CRYPTO data far beyond what the receiver buffers.
        ForgedCase{"CryptoBeyondBuffer", {0x06, 0x80, 0x10, 0x00, 0x00, 0x01, 0x61}, ErrorCode::kCryptoBufferExceeded,
                   0x06}),
    [](const ::testing::TestParamInfo<ForgedCase>& i) { return std::string(i.param.name); });

TEST_F(ConnHandshakeTest, InitialWithShortDcidOrDatagramIsDropped) {
  create(server_);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(server_.conn->init(0).is_ok());
  // §7.2: a DCID under 8 bytes; §14.1: a datagram under 1200 bytes. Both
  // carry a frame that would otherwise close the connection.
  const Buf short_dcid = {1, 2, 3, 4, 5, 6, 7};
  deliver(kToServer, forge_client_initial(server_.crypto, bytes_of(short_dcid), {}, 0, {0x1e}));
  const Buf dcid = {1, 2, 3, 4, 5, 6, 7, 8};
  Buf small = forge_client_initial(server_.crypto, bytes_of(dcid), {}, 0, {0x1e});
  small.resize(1100);
  deliver(kToServer, small);
  EXPECT_EQ(server_.conn->state(), Connection::State::kHandshake);
  EXPECT_EQ(server_.events.closes, 0);
  Buf out(1500);
  EXPECT_EQ(server_.conn->write_datagram(MutBytes(out.data(), out.size()), 0), 0u);
}

TEST_F(ConnHandshakeTest, ClientSendingHandshakeDoneIsProtocolViolation) {
  handshake();
  expect_established();
  // A 1-RTT packet from the client carrying HANDSHAKE_DONE (RFC 9000
  // §19.20: a server MUST treat it as a PROTOCOL_VIOLATION), protected with
  // the client's real 1-RTT key and addressed to the server's CID.
  const auto& key = client_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
  auto server_initial = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
  ASSERT_TRUE(server_initial.is_ok());
  Buf packet = forge_one_rtt(client_.crypto, key, server_initial->scid, 1000, {0x1e});
  queue_.push_back({now_ + kOneWayDelay, seq_++, kToServer, packet});

  run_until([&] { return client_.conn->state() == Connection::State::kDraining; }, now_ + kSec);
  EXPECT_EQ(server_.conn->state(), Connection::State::kClosing);
  EXPECT_EQ(server_.events.error_code, 0x0au);
  EXPECT_EQ(server_.events.frame_type, 0x1eu);
  // The client hears it in the server's CONNECTION_CLOSE (§10.2.2).
  ASSERT_EQ(client_.conn->state(), Connection::State::kDraining);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kPeer);
  EXPECT_FALSE(client_.events.application);
  EXPECT_EQ(client_.events.error_code, 0x0au);
  EXPECT_EQ(client_.events.frame_type, 0x1eu);
  EXPECT_FALSE(client_.events.reason.empty());
  // Both go away after three PTOs.
  run_until([&] { return client_.conn->is_terminated() && server_.conn->is_terminated(); }, now_ + 10 * kSec);
  EXPECT_TRUE(client_.conn->is_terminated());
  EXPECT_TRUE(server_.conn->is_terminated());
}

TEST_F(ConnHandshakeTest, TransportParameterMismatchIsTransportParameterError) {
  // The server claims another original_destination_connection_id (§7.3).
  server_.tls_config.role = Role::kServer;
  start();
  ASSERT_FALSE(HasFatalFailure());
  // The server's parameters are set when the first Initial arrives: tamper
  // from then on.
  server_.tls->tamper = [](Buf& b) {
    auto tp = TransportParameters::parse(bytes_of(b), Role::kServer);
    ASSERT_TRUE(tp.is_ok());
    TransportParameters t = *tp;
    t.original_destination_connection_id.bytes[0] ^= 1;
    b.assign(512, 0);
    Writer w{MutBytes(b.data(), b.size())};
    ASSERT_TRUE(t.serialize(w, Role::kServer).is_ok());
    b.resize(w.position());
  };
  run_until([&] { return client_.events.closes > 0 && server_.events.closes > 0; }, 5 * kSec);
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kLocal);
  EXPECT_EQ(client_.events.error_code, 0x08u);
  EXPECT_FALSE(client_.conn->handshake_complete());
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kPeer);
  EXPECT_EQ(server_.events.error_code, 0x08u);
}

TEST_F(ConnHandshakeTest, AlpnMismatchClosesWithCryptoError) {
  client_.tls_config.alpn = {"h3"};
  start();
  run_until([&] { return client_.events.closes > 0; }, 5 * kSec);
  // RFC 9001 §8.1: no_application_protocol, CRYPTO_ERROR 0x0100 + 120.
  EXPECT_EQ(server_.events.error_code, 0x178u);
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kLocal);
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kPeer);
  EXPECT_EQ(client_.events.error_code, 0x178u);
  EXPECT_EQ(client_.conn->state(), Connection::State::kDraining);
}

TEST_F(ConnHandshakeTest, ApplicationCloseReachesThePeer) {
  handshake();
  expect_established();
  client_.conn->close(0x42, "done", now_);
  EXPECT_EQ(client_.conn->state(), Connection::State::kClosing);
  run_until([&] { return server_.events.closes > 0; }, now_ + kSec);
  EXPECT_EQ(server_.conn->state(), Connection::State::kDraining);
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kPeer);
  EXPECT_TRUE(server_.events.application);
  EXPECT_EQ(server_.events.error_code, 0x42u);
  EXPECT_EQ(server_.events.reason, "done");
  run_until([&] { return client_.conn->is_terminated() && server_.conn->is_terminated(); }, now_ + 10 * kSec);
  EXPECT_TRUE(client_.conn->is_terminated());
  EXPECT_TRUE(server_.conn->is_terminated());
}

TEST_F(ConnHandshakeTest, IdleTimeoutClosesSilently) {
  client_.config.params.max_idle_timeout = 5'000;   // ms
  server_.config.params.max_idle_timeout = 60'000;  // the smaller one wins (§10.1)
  handshake();
  expect_established();
  const size_t sent_before = sent_[kToServer].size() + sent_[kToClient].size();
  run_until([&] { return client_.conn->is_terminated() && server_.conn->is_terminated(); }, 20 * kSec);
  for (Endpoint* e : {&client_, &server_}) {
    EXPECT_TRUE(e->conn->is_terminated());
    ASSERT_EQ(e->events.closes, 1);
    EXPECT_EQ(e->events.source, CloseInfo::Source::kIdleTimeout);
  }
  EXPECT_GT(now_, 5 * kSec);
  EXPECT_LT(now_, 6 * kSec);
  // Silently: no CONNECTION_CLOSE went out.
  size_t sent_after = sent_[kToServer].size() + sent_[kToClient].size();
  EXPECT_LE(sent_after - sent_before, 4u);  // the last ACKs at most
}

TEST_F(ConnHandshakeTest, StatelessResetDrainsTheClient) {
  handshake();
  expect_established();
  ASSERT_TRUE(client_.conn->peer_params().has_stateless_reset_token);
  const Bytes token(client_.conn->peer_params().stateless_reset_token, kStatelessResetTokenLen);
  Buf unpredictable(40);
  client_.random.fill(MutBytes(unpredictable.data(), unpredictable.size()));
  const auto reset = [&](Bytes tok) {
    Buf out(60);
    Writer w{MutBytes(out.data(), out.size())};
    auto n = write_stateless_reset(w, 100, bytes_of(unpredictable), tok);
    EXPECT_TRUE(n.is_ok());
    out.resize(n.is_ok() ? *n : 0);
    return out;
  };
  // Another token is just an undecryptable datagram (§10.3.1).
  Buf wrong(token.begin(), token.end());
  wrong[0] ^= 1;
  deliver(kToClient, reset(bytes_of(wrong)));
  EXPECT_EQ(client_.conn->state(), Connection::State::kEstablished);
  deliver(kToClient, reset(token));
  EXPECT_EQ(client_.conn->state(), Connection::State::kDraining);
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kStatelessReset);
  // Not a packet more from the client.
  const size_t sent = sent_[kToServer].size();
  run_for(5 * kSec);
  EXPECT_EQ(sent_[kToServer].size(), sent);
  EXPECT_TRUE(client_.conn->is_terminated());
}

}  // namespace
}  // namespace quicbed
