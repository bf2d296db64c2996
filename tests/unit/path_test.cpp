// Paths and connection migration (RFC 9000 §8.2, §9): the books of each
// path (Paths), then a real client and server over the conn_pair link that
// tells each side the path of what it receives: NAT rebinding, peer
// migration and its validation, the amplification limit on a new path,
// congestion state across a port change or an address change, the
// client's active migration to a fresh CID, the preferred address, and
// disable_active_migration.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conn_pair.h"
#include "endpoint_pair.h"
#include "hex.h"
#include "path.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

// ---- Paths -------------------------------------------------------------------

class CountingRandom final : public Random {
 public:
  void fill(MutBytes out) override {
    for (uint8_t& b : out) b = ++n_;
  }

 private:
  uint8_t n_ = 0;
};

PathAddress addr(uint32_t host, uint16_t port) { return test_address(host, port); }

TEST(PathAddressTest, SameHostIgnoresOnlyThePort) {
  EXPECT_TRUE(addr(1, 10).same_host(addr(1, 11)));
  EXPECT_FALSE(addr(1, 10).same_host(addr(2, 10)));
  EXPECT_FALSE(addr(1, 10) == addr(1, 11));
  // Without the port's place, any difference is another host.
  PathAddress a = addr(1, 10), b = addr(1, 11);
  a.port_len = b.port_len = 0;
  EXPECT_FALSE(a.same_host(b));
}

TEST(PathsTest, ValidationByMatchingResponseOnly) {
  Paths paths;
  paths.start(Path{addr(1, 1), addr(2, 2)});
  EXPECT_TRUE(paths.active().validated);
  const size_t i = paths.add(Path{addr(1, 1), addr(3, 3)});
  EXPECT_EQ(paths.find(Path{addr(1, 1), addr(3, 3)}), i);
  EXPECT_FALSE(paths[i].validated);

  CountingRandom random;
  paths.start_validation(i, 1000, 5000);
  EXPECT_TRUE(paths[i].challenge_due(1000));
  uint8_t first[kPathDataLen], second[kPathDataLen];
  paths.take_challenge(i, random, 1000, 300, first);
  EXPECT_FALSE(paths[i].challenge_due(1200));
  EXPECT_EQ(paths.next_timeout(1200), 1300u);
  paths.take_challenge(i, random, 1300, 300, second);
  EXPECT_NE(to_hex(Bytes(first, 8)), to_hex(Bytes(second, 8)));  // §8.2.1: new data each time

  // §8.2.2: a PATH_RESPONSE matching nothing is ignored.
  uint8_t wrong[kPathDataLen] = {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0};
  EXPECT_EQ(paths.on_response(wrong), Paths::kNone);
  EXPECT_FALSE(paths[i].validated);
  // A late answer to the first challenge still validates.
  EXPECT_EQ(paths.on_response(first), i);
  EXPECT_TRUE(paths[i].validated);
  EXPECT_FALSE(paths[i].validating);
  // Once validated, the same data matches nothing any more.
  EXPECT_EQ(paths.on_response(first), Paths::kNone);
}

TEST(PathsTest, ValidationTimesOut) {
  Paths paths;
  paths.start(Path{addr(1, 1), addr(2, 2)});
  const size_t i = paths.add(Path{addr(1, 1), addr(3, 3)});
  paths.start_validation(i, 0, 2000);
  EXPECT_EQ(paths.take_expired(1999), Paths::kNone);
  EXPECT_EQ(paths.take_expired(2000), i);
  EXPECT_FALSE(paths[i].validating);
  EXPECT_FALSE(paths[i].validated);
  EXPECT_EQ(paths.next_timeout(2000), kNever);
}

TEST(PathsTest, AmplificationBudgetUntilValidated) {
  PathInfo p;
  p.bytes_received = 100;
  p.bytes_sent = 250;
  EXPECT_EQ(p.send_budget(3), 50u);  // §8: three times what came in
  p.bytes_sent = 400;
  EXPECT_EQ(p.send_budget(3), 0u);
  p.validated = true;
  EXPECT_EQ(p.send_budget(3), kU64Max);
}

TEST(PathsTest, FullTableDropsTheOldestInactivePath) {
  Paths paths;
  paths.start(Path{addr(1, 1), addr(2, 0)});
  for (uint16_t port = 1; port < Paths::kMaxPaths; ++port) paths.add(Path{addr(1, 1), addr(2, port)});
  EXPECT_EQ(paths.size(), Paths::kMaxPaths);
  const size_t keep = paths.find(Path{addr(1, 1), addr(2, 1)});
  paths.add(Path{addr(1, 1), addr(2, 99)}, keep);
  EXPECT_EQ(paths.size(), Paths::kMaxPaths);
  EXPECT_EQ(paths.active().path.peer, addr(2, 0));
  EXPECT_NE(paths.find(Path{addr(1, 1), addr(2, 1)}), Paths::kNone);
  EXPECT_EQ(paths.find(Path{addr(1, 1), addr(2, 2)}), Paths::kNone);  // the oldest other one
  EXPECT_NE(paths.find(Path{addr(1, 1), addr(2, 99)}), Paths::kNone);
}

// ---- Connections ---------------------------------------------------------------

constexpr uint32_t kClientHost = 0x0a000001;
constexpr uint32_t kServerHost = 0x0a000002;

class ConnPathTest : public ConnPairTest {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    use_paths(client_addr_, server_addr_);
  }

  // A stream from the client whose echo-less data keeps both sides
  // sending (the server acknowledges).
  void client_sends(size_t bytes) {
    auto id = client_.conn->open_stream(StreamDir::kUni);
    ASSERT_TRUE(id.is_ok()) << id.status().reason();
    Buf data(bytes, 0x61);
    auto n = client_.conn->stream_write(*id, bytes_of(data), true);
    ASSERT_TRUE(n.is_ok());
  }

  // A NAT gives the client's address `outside`; the client sends data, and
  // the server moves to the new address (§9.3).
  void rebind_client_to(const PathAddress& outside) {
    nat_ = true;
    nat_inside_ = client_addr_;
    nat_outside_ = outside;
    client_sends(3000);
    run_until([&] { return server_.conn->path().peer == outside; }, now_ + kSec);
  }

  // Bytes the server sent to / received from a peer address, per the link.
  uint64_t server_sent_to(const PathAddress& peer) const {
    uint64_t n = 0;
    for (size_t i = 0; i < sent_[kToClient].size(); ++i) {
      if (sent_paths_[kToClient][i].peer == peer) n += sent_[kToClient][i].size();
    }
    return n;
  }

  // A 1-RTT packet from the client (its keys), with packet number `pn`,
  // delivered to the server as coming from `from`.
  void forge_from_client(const PathAddress& from, Bytes dcid, uint64_t pn, const Buf& frames, size_t padding = 8) {
    const SpyTls::Key& key = client_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
    Buf d = forge_one_rtt(client_.crypto, key, dcid, pn, frames, padding);
    deliver(kToServer, d, Ecn::kNotEct, Path{from, server_addr_});
  }
  Bytes server_cid(size_t i) const { return server_.conn->local_cids().cids()[i].cid.view(); }

  std::string short_dcid(const Buf& datagram) const {
    auto h = parse_packet_header(bytes_of(datagram), HeaderParseOptions{8, false});
    if (!h || h->form != HeaderForm::kShort) return "";
    return to_hex(h->dcid);
  }

  PathAddress client_addr_ = test_address(kClientHost, 4433);
  PathAddress server_addr_ = test_address(kServerHost, 443);
};

// §9.3, §9.4: a NAT gives the client a new port. The server moves there
// after the highest-numbered non-probing packet, validates it with a
// PATH_CHALLENGE the client answers, and keeps its congestion state and
// RTT (only the port changed).
TEST_F(ConnPathTest, NatRebindingPortOnlyKeepsCongestionState) {
  handshake();
  expect_established();
  run_for(200 * kMs);
  const uint64_t srtt = server_.conn->recovery().rtt().smoothed_rtt();
  ASSERT_NE(srtt, kInitialRttUs);
  const PathAddress outside = test_address(kClientHost, 5555);
  rebind_client_to(outside);
  ASSERT_EQ(server_.conn->path().peer, outside);
  EXPECT_EQ(server_.conn->recovery().rtt().smoothed_rtt(), srtt);  // §9.4: port only
  EXPECT_FALSE(server_.conn->paths().active().validated);
  run_until([&] { return server_.conn->paths().active().validated; }, now_ + kSec);
  EXPECT_TRUE(server_.conn->paths().active().validated);
  EXPECT_EQ(server_.conn->paths().size(), 1u);  // the old path is forgotten once validated
  // The client never knew: its path and CID did not change (§9.5 lets a
  // server keep the CID after a rebinding).
  EXPECT_EQ(client_.conn->path().local, client_addr_);
  run_for(500 * kMs);
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
  EXPECT_EQ(server_.conn->streams().peer_streams(StreamDir::kUni).received(), 1u);
}

// §9.4: a new address (not just a port) starts congestion control and the
// RTT estimate over.
TEST_F(ConnPathTest, AddressChangeResetsCongestionState) {
  handshake();
  run_for(200 * kMs);
  ASSERT_NE(server_.conn->recovery().rtt().smoothed_rtt(), kInitialRttUs);
  const PathAddress outside = test_address(0x0b000009, 4433);
  rebind_client_to(outside);
  ASSERT_EQ(server_.conn->path().peer, outside);
  EXPECT_EQ(server_.conn->recovery().rtt().smoothed_rtt(), kInitialRttUs);
  EXPECT_EQ(server_.conn->recovery().rtt().min_rtt(), 0u);
  EXPECT_EQ(server_.conn->recovery().pto_count(), 0u);
  run_until([&] { return server_.conn->paths().active().validated; }, now_ + kSec);
  EXPECT_TRUE(server_.conn->paths().active().validated);
  run_for(300 * kMs);
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
}

// §13.4.2: ECN is validated on each path anew; §14.2, §9.4: the path MTU,
// congestion controller and RTT start over on a new pair of addresses, and
// stay when only the port changed (a NAT rebinding).
struct PathChangeCase {
  const char* name;
  uint32_t host;
  uint16_t port;
  bool same_hosts;
};

class PathStateTest : public ConnPathTest {
 protected:
  // ECN and a path MTU search up to 1400 bytes on both sides.
  void handshake_with_ecn_and_pmtud() {
    for (test::Endpoint* e : {&client_, &server_}) {
      e->config.ecn = true;
      e->config.pmtud = true;
      e->config.max_datagram_size = 1400;
    }
    handshake();
  }
};

class PathChangeTest : public PathStateTest, public ::testing::WithParamInterface<PathChangeCase> {};

TEST_P(PathChangeTest, RestartsPerPathState) {
  const PathChangeCase& c = GetParam();
  handshake_with_ecn_and_pmtud();
  client_sends(50'000);
  run_for(500 * kMs);
  ASSERT_EQ(server_.conn->ecn().state(), EcnState::kCapable);
  ASSERT_EQ(server_.conn->pmtud().plpmtu(), 1400u);
  const uint64_t srtt = server_.conn->recovery().rtt().smoothed_rtt();
  ASSERT_NE(srtt, kInitialRttUs);
  const PathAddress outside = test_address(c.host, c.port);
  rebind_client_to(outside);
  ASSERT_EQ(server_.conn->path().peer, outside);
  EXPECT_EQ(server_.conn->ecn().state(), EcnState::kTesting);
  EXPECT_EQ(server_.conn->pmtud().plpmtu(), c.same_hosts ? 1400u : Pmtud::kBasePlpmtu);
  EXPECT_EQ(server_.conn->max_datagram_size(), c.same_hosts ? 1400u : Pmtud::kBasePlpmtu);
  EXPECT_EQ(server_.conn->recovery().rtt().smoothed_rtt() == srtt, c.same_hosts);
  // Both come back on the new path.
  client_sends(50'000);
  run_for(kSec);
  EXPECT_EQ(server_.conn->ecn().state(), EcnState::kCapable);
  EXPECT_EQ(server_.conn->pmtud().plpmtu(), 1400u);
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
}

INSTANTIATE_TEST_SUITE_P(Rfc9000, PathChangeTest,
                         ::testing::Values(PathChangeCase{"PortOnly", kClientHost, 5555, true},
                                           PathChangeCase{"NewAddress", 0x0b000009, 4433, false}),
                         [](const auto& info) { return info.param.name; });

// §9.3.2: back from an abandoned migration, the old path's congestion
// controller, RTT, ECN and MTU state are what they were when we left it.
TEST_F(PathStateTest, AbandonedMigrationRestoresPathState) {
  handshake_with_ecn_and_pmtud();
  client_sends(100'000);
  run_for(500 * kMs);
  ASSERT_EQ(server_.conn->ecn().state(), EcnState::kCapable);
  const Path original = server_.conn->path();
  const uint64_t cwnd = server_.conn->congestion_controller().cwnd();
  const uint64_t srtt = server_.conn->recovery().rtt().smoothed_rtt();
  const PathAddress attacker = test_address(0x0c000001, 9999);
  forge_from_client(attacker, server_cid(0), 100000, Buf{0x01}, 40);  // PING: non-probing
  ASSERT_EQ(server_.conn->path().peer, attacker);
  EXPECT_EQ(server_.conn->recovery().rtt().smoothed_rtt(), kInitialRttUs);
  EXPECT_EQ(server_.conn->pmtud().plpmtu(), Pmtud::kBasePlpmtu);
  run_until([&] { return server_.conn->path() == original; }, now_ + 10 * kSec);
  ASSERT_EQ(server_.conn->path(), original);
  EXPECT_EQ(server_.conn->congestion_controller().cwnd(), cwnd);
  EXPECT_EQ(server_.conn->recovery().rtt().smoothed_rtt(), srtt);
  EXPECT_EQ(server_.conn->ecn().state(), EcnState::kCapable);
  EXPECT_EQ(server_.conn->pmtud().plpmtu(), 1400u);
  EXPECT_EQ(server_.conn->max_datagram_size(), 1400u);
  EXPECT_EQ(server_.events.closes, 0);
}

// §9.3.3, §9.3.2, §8: a spoofed packet with a larger packet number from an
// address nobody answers at moves the server there, limited to three times
// what came from it, until validation fails and it goes back.
TEST_F(ConnPathTest, UnansweredPathIsAbandonedWithinAmplificationLimit) {
  handshake();
  run_for(200 * kMs);
  const PathAddress attacker = test_address(0x0c000001, 9999);
  const Path original = server_.conn->path();
  forge_from_client(attacker, server_cid(0), 100000, Buf{0x01}, 40);  // PING: non-probing
  ASSERT_EQ(server_.conn->path().peer, attacker);
  const uint64_t received = 1 + 8 + 4 + 1 + 40 + kAeadTagLen;
  client_sends(20000);  // the server has plenty to send, and must not send it there
  run_for(100 * kMs);
  EXPECT_GT(server_sent_to(attacker), 0u);  // PATH_CHALLENGE
  EXPECT_LE(server_sent_to(attacker), 3 * received);
  run_until([&] { return server_.conn->path() == original; }, now_ + 10 * kSec);
  EXPECT_EQ(server_.conn->path(), original);
  EXPECT_LE(server_sent_to(attacker), 3 * received);
  run_for(kSec);
  EXPECT_EQ(server_.conn->state(), Connection::State::kEstablished);
  EXPECT_EQ(server_.events.closes, 0);
}

// §8.2.2: a probing-only packet from a new path gets its PATH_RESPONSE on
// that path (and a PATH_CHALLENGE), but moves nothing.
TEST_F(ConnPathTest, ProbeFromNewPathIsAnsweredThere) {
  handshake();
  run_for(200 * kMs);
  const PathAddress probe = test_address(kClientHost, 7777);
  const Path original = server_.conn->path();
  const size_t before = sent_[kToClient].size();
  const std::string old_dcid = to_hex(server_.conn->peer_cids().current()->cid.view());
  // PATH_CHALLENGE and PADDING only: a probing packet (§9.1), under a new CID.
  forge_from_client(probe, server_cid(1), 100000, Buf{0x1a, 1, 2, 3, 4, 5, 6, 7, 8}, 40);
  const uint64_t received = 1 + 8 + 4 + 9 + 40 + kAeadTagLen;
  EXPECT_EQ(server_.conn->path(), original);
  flush(kToClient);
  size_t answers = 0;
  for (size_t i = before; i < sent_[kToClient].size(); ++i) {
    if (sent_paths_[kToClient][i].peer == probe) {
      ++answers;
      // §8.2.2: expanded toward 1200 bytes as far as §8 allows: exactly
      // the budget, three times the probe.
      EXPECT_EQ(sent_[kToClient][i].size(), 3 * received);
      // §9.5: the peer used a new CID on this path, so do we.
      const std::string dcid = short_dcid(sent_[kToClient][i]);
      EXPECT_FALSE(dcid.empty());
      EXPECT_NE(dcid, old_dcid);
    }
  }
  EXPECT_EQ(answers, 1u);
  EXPECT_EQ(server_.conn->path(), original);
}

// §9.2, §9.5: the client moves to a new local address under a CID it never
// used, after the server's PATH_RESPONSE, and retires the old one.
TEST_F(ConnPathTest, ClientActiveMigrationUsesNewCid) {
  handshake();
  run_for(200 * kMs);
  const std::string old_dcid = to_hex(client_.conn->peer_cids().current()->cid.view());
  const PathAddress fresh = test_address(kClientHost, 6000);
  const Path next{fresh, server_addr_};
  const size_t before = sent_[kToServer].size();
  Status s = client_.conn->migrate(next, false, now_);
  ASSERT_TRUE(s.is_ok()) << s.reason();
  EXPECT_EQ(client_.conn->path().local, client_addr_);  // not before validation
  run_until([&] { return client_.conn->path() == next; }, now_ + kSec);
  ASSERT_EQ(client_.conn->path(), next);
  // The client's first datagram on the new path goes to a new DCID.
  std::string first_dcid;
  for (size_t i = before; i < sent_[kToServer].size() && first_dcid.empty(); ++i) {
    if (sent_paths_[kToServer][i] == next) first_dcid = short_dcid(sent_[kToServer][i]);
  }
  EXPECT_FALSE(first_dcid.empty());
  EXPECT_NE(first_dcid, old_dcid);
  EXPECT_EQ(to_hex(client_.conn->peer_cids().current()->cid.view()), first_dcid);
  client_sends(2000);
  run_until([&] { return server_.conn->path().peer == fresh; }, now_ + kSec);
  EXPECT_EQ(server_.conn->path().peer, fresh);
  run_for(500 * kMs);
  // The old CID was retired (§9.5) and replaced by the server.
  EXPECT_FALSE(server_.events.cids_retired.empty());
  EXPECT_TRUE(server_.conn->paths().active().validated);
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
}

// §8.2.4: a path that never answers is given up after the timeout; the
// client stays where it was.
TEST_F(ConnPathTest, ClientMigrationTimesOut) {
  handshake();
  run_for(200 * kMs);
  const PathAddress dead = test_address(kClientHost, 6001);
  const Path next{dead, server_addr_};
  filter_ = [&](Dir d, size_t i, uint64_t) {
    Verdict v;
    if (d == kToServer && sent_paths_[kToServer][i].local == dead) v.fate = Verdict::Fate::kDrop;
    return v;
  };
  ASSERT_TRUE(client_.conn->migrate(next, false, now_).is_ok());
  const uint64_t timeout = client_.conn->path_validation_timeout();
  EXPECT_GE(timeout, 6 * kInitialRttUs);
  const uint64_t started = now_;
  run_until([&] { return client_.conn->paths().size() == 1; }, now_ + 10 * kSec);
  EXPECT_EQ(client_.conn->paths().size(), 1u);
  EXPECT_GE(now_ - started, timeout);
  EXPECT_EQ(client_.conn->path().local, client_addr_);
  client_sends(1000);
  run_for(500 * kMs);
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
}

// §8.2.2: a PATH_RESPONSE that answers no challenge validates nothing.
TEST_F(ConnPathTest, WrongPathResponseIgnored) {
  handshake();
  run_for(200 * kMs);
  const Path next{test_address(kClientHost, 6002), server_addr_};
  filter_ = [&](Dir d, size_t i, uint64_t) {
    Verdict v;
    if (d == kToServer && sent_paths_[kToServer][i] == next) v.fate = Verdict::Fate::kDrop;
    return v;
  };
  ASSERT_TRUE(client_.conn->migrate(next, false, now_).is_ok());
  run_for(50 * kMs);
  const SpyTls::Key& key = server_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
  Buf d = forge_one_rtt(server_.crypto, key, client_.conn->local_cids().cids()[0].cid.view(), 100000,
                        Buf{0x1b, 9, 9, 9, 9, 9, 9, 9, 9});
  deliver(kToClient, d, Ecn::kNotEct, Path{server_addr_, next.local});
  EXPECT_EQ(client_.conn->path().local, client_addr_);
  EXPECT_EQ(client_.conn->paths().size(), 2u);
  EXPECT_EQ(client_.events.closes, 0);
}

// §8.2.2: every PATH_CHALLENGE is answered, also two in one packet (ngtcp2
// sends them so): the client used to echo only the last one, and the
// runner's rebind-addr check found the other unanswered.
TEST_F(ConnPathTest, EveryPathChallengeOfAPacketAnswered) {
  struct Responses : Tracer {
    void packet_sent(uint64_t, const TracedPacket& p) override {
      for (const TracedFrame& f : p.frames) {
        if (f.type == FrameType::kPathResponse) data.emplace_back(f.path.data.begin(), f.path.data.end());
      }
    }
    std::vector<Buf> data;
  } sent;
  client_.config.tracer = &sent;
  handshake();
  run_for(200 * kMs);
  const SpyTls::Key& key = server_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
  Buf d = forge_one_rtt(server_.crypto, key, client_.conn->local_cids().cids()[0].cid.view(), 100000,
                        Buf{0x1a, 1, 1, 1, 1, 1, 1, 1, 1, 0x1a, 2, 2, 2, 2, 2, 2, 2, 2});
  deliver(kToClient, d, Ecn::kNotEct, Path{server_addr_, client_addr_});
  run_for(100 * kMs);
  EXPECT_EQ(sent.data, (std::vector<Buf>{Buf(8, 1), Buf(8, 2)}));
  EXPECT_EQ(client_.events.closes, 0);
}

// §18.2: the client does not migrate when the server said so; a server
// drops packets of a deliberate migration (a new CID) but follows a NAT
// rebinding (§9).
TEST_F(ConnPathTest, DisableActiveMigrationHonoured) {
  server_.config.params.disable_active_migration = true;
  handshake();
  run_for(200 * kMs);
  Status s = client_.conn->migrate(Path{test_address(kClientHost, 6003), server_addr_}, false, now_);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  const Path original = server_.conn->path();
  // A migration anyway, under a new CID: dropped, nothing answered.
  const PathAddress elsewhere = test_address(0x0d000001, 1000);
  const size_t before = sent_[kToClient].size();
  forge_from_client(elsewhere, server_cid(1), 100000, Buf{0x01}, 40);
  EXPECT_EQ(server_.conn->path(), original);
  flush(kToClient);
  for (size_t i = before; i < sent_[kToClient].size(); ++i) EXPECT_NE(sent_paths_[kToClient][i].peer, elsewhere);
  // A NAT rebinding keeps the CID: followed.
  const PathAddress rebound = test_address(kClientHost, 1001);
  forge_from_client(rebound, server_cid(0), 100001, Buf{0x01}, 40);
  EXPECT_EQ(server_.conn->path().peer, rebound);
  EXPECT_EQ(server_.events.closes, 0);
}

// §9.6: the server offers a preferred address; the client validates it
// under the CID that came with it and moves there.
TEST_F(ConnPathTest, PreferredAddressMigration) {
  const PathAddress preferred = test_address(kServerHost + 1, 8443);
  TransportParameters& tp = server_.config.params;
  tp.has_preferred_address = true;
  tp.preferred_address.ipv4_address[0] = 10;
  tp.preferred_address.ipv4_port = 8443;
  handshake();
  expect_established();
  ASSERT_TRUE(client_.conn->peer_params().has_preferred_address);
  const ConnectionId pa_cid = client_.conn->peer_params().preferred_address.connection_id;
  // The server routes the preferred CID (sequence 1) to itself.
  EXPECT_TRUE(server_.conn->local_cids().find(pa_cid.view()) != nullptr);
  const Path next{client_addr_, preferred};
  Status s = client_.conn->migrate(next, true, now_);
  ASSERT_TRUE(s.is_ok()) << s.reason();
  run_until([&] { return client_.conn->path() == next; }, now_ + kSec);
  ASSERT_EQ(client_.conn->path(), next);
  EXPECT_EQ(to_hex(client_.conn->peer_cids().current()->cid.view()), to_hex(pa_cid.view()));
  client_sends(2000);
  run_until([&] { return server_.conn->path().local == preferred; }, now_ + kSec);
  EXPECT_EQ(server_.conn->path().local, preferred);
  run_for(500 * kMs);
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
}

// The preferred address given to a made server connection instead of its
// configuration (the kernel's socket option, before the handshake): the
// client still finds it with a CID of sequence 1 and moves there; a
// client, a second address and a handshake under way are refused.
TEST_F(ConnPathTest, PreferredAddressSetOnTheConnection) {
  const PathAddress preferred = test_address(kServerHost + 1, 8443);
  TransportParameters::PreferredAddress pa;
  pa.ipv4_address[0] = 10;
  pa.ipv4_port = 8443;
  start();
  EXPECT_EQ(client_.conn->set_preferred_address(pa).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(server_.conn->set_preferred_address(pa).is_ok());
  EXPECT_EQ(server_.conn->set_preferred_address(pa).code(), ErrorCode::kInvalidArgument);
  run_until([&] { return confirmed(); }, 10 * kSec);
  expect_established();
  EXPECT_EQ(server_.conn->set_preferred_address(pa).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(client_.conn->peer_params().has_preferred_address);
  EXPECT_EQ(client_.conn->peer_params().preferred_address.ipv4_port, 8443);
  const ConnectionId pa_cid = client_.conn->peer_params().preferred_address.connection_id;
  ASSERT_TRUE(server_.conn->local_cids().find(pa_cid.view()) != nullptr);
  EXPECT_EQ(server_.conn->local_cids().find(pa_cid.view())->sequence, 1u);
  const Path next{client_addr_, preferred};
  ASSERT_TRUE(client_.conn->migrate(next, true, now_).is_ok());
  run_until([&] { return client_.conn->path() == next; }, now_ + kSec);
  EXPECT_EQ(client_.conn->path(), next);
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
}

// The path table is bounded: probing more paths than it holds forgets the
// oldest probe and retires the CID it used (§9.5); the active path stays.
TEST_F(ConnPathTest, FullPathTableDropsOldestProbe) {
  client_.config.params.active_connection_id_limit = 8;
  server_.config.params.active_connection_id_limit = 8;
  handshake();
  run_for(200 * kMs);
  // Nothing the client sends on a new path arrives.
  filter_ = [&](Dir d, size_t i, uint64_t) {
    Verdict v;
    if (d == kToServer && !(sent_paths_[kToServer][i] == client_.conn->path())) v.fate = Verdict::Fate::kDrop;
    return v;
  };
  const Path original = client_.conn->path();
  for (uint16_t port = 7000; port < 7000 + Paths::kMaxPaths; ++port) {
    Status s = client_.conn->migrate(Path{test_address(kClientHost, port), server_addr_}, false, now_);
    ASSERT_TRUE(s.is_ok()) << s.reason();
    run_for(10 * kMs);
  }
  EXPECT_EQ(client_.conn->paths().size(), Paths::kMaxPaths);
  EXPECT_EQ(client_.conn->path(), original);
  EXPECT_EQ(client_.conn->paths().find(Path{test_address(kClientHost, 7000), server_addr_}), Paths::kNone);
  run_for(300 * kMs);
  EXPECT_FALSE(server_.events.cids_retired.empty());  // the forgotten probe's CID
  EXPECT_EQ(client_.events.closes + server_.events.closes, 0);
}

// Only a client migrates, and only once the handshake is confirmed (§9).
TEST_F(ConnPathTest, MigrateRefusedForServerAndBeforeConfirmation) {
  start();
  const Path next{test_address(kClientHost, 6004), server_addr_};
  EXPECT_EQ(client_.conn->migrate(next, false, now_).code(), ErrorCode::kInvalidArgument);
  run_until([&] { return confirmed(); }, 10 * kSec);
  EXPECT_EQ(server_.conn->migrate(Path{server_addr_, next.local}, false, now_).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client_.conn->migrate(client_.conn->path(), false, now_).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client_.conn->migrate(next, true, now_).code(), ErrorCode::kInvalidArgument);  // no preferred address
}

// ---- Through the server Endpoint ---------------------------------------------

class EndpointPathTest : public EndpointPairTest {
 protected:
  // Runs until the echo of stream `id` has come back whole (its FIN), for
  // 5 s at most; what came back.
  Buf echo_of(TestClient& c, uint64_t id) {
    Buf echoed;
    run_until(
        [&] {
          for (;;) {
            uint8_t buf[2048];
            auto r = c.conn->stream_read(id, MutBytes(buf, sizeof buf));
            if (!r || r->bytes == 0) return r && r->fin;
            echoed.insert(echoed.end(), buf, buf + r->bytes);
            if (r->fin) return true;
          }
        },
        now_ + 5 * kSec);
    return echoed;
  }
};

// §9.3: the Endpoint hands each datagram's path to its connection and
// sends where the connection says: after a NAT rebinding, the server probes
// the client's new address and the echo comes back there.
TEST_F(EndpointPathTest, NatRebindingFollowedThroughTheEndpoint) {
  start_server();
  TestClient& c = add_client();
  run_until([&] { return all_confirmed(); }, 5 * kSec);
  ASSERT_TRUE(all_confirmed());
  run_for(100 * kMs);
  ASSERT_EQ(host_.accepted_events.size(), 1u);
  const Connection& server = *host_.accepted_events[0]->conn;
  EXPECT_EQ(server.path().peer, address_of(0));

  nat_[0] = 0x100;  // the client's packets now come from address 0x100
  const size_t before = sent_by_server_.size();
  auto id = c.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  const Buf msg(5000, 0x42);
  ASSERT_TRUE(c.conn->stream_write(*id, bytes_of(msg), true).is_ok());
  const Buf echoed = echo_of(c, *id);
  EXPECT_EQ(echoed, msg);
  run_for(200 * kMs);  // the client's PATH_RESPONSE, on its way with the last ACKs
  EXPECT_EQ(server.path().peer, address_of(0x100));
  EXPECT_TRUE(server.paths().active().validated);
  EXPECT_EQ(host_.accepted_events[0]->closes, 0);
  // Everything after the rebinding went to the new address (the client's
  // id 0 again behind the NAT), nothing to the old one (a stray).
  EXPECT_GT(sent_by_server_.size(), before);
  EXPECT_TRUE(strays_.empty());
}

// A NAT rebinding between the server's handshake flight and the client's
// Finished: the client's datagram with its Finished and its first 1-RTT
// packet (the request) comes from the new address. The 1-RTT packet, sent
// once the handshake is confirmed, moves the server there (§9.3); the
// server used to count the whole datagram on the old path, answer the
// address the NAT had forgotten, and hear only the unconfirmed client's
// Handshake probes, which it can no longer read (the local runner's
// rebind-port case, its first rebinding mid-handshake).
TEST_F(EndpointPathTest, NatRebindingMidHandshakeFollowedByTheFirstOneRttPacket) {
  start_server();
  TestClient& c = add_client();
  // Until the client has the server's flight: its Finished waits to go.
  run_until([&] { return c.conn->handshake_complete(); }, 5 * kSec);
  ASSERT_TRUE(c.conn->handshake_complete());
  ASSERT_FALSE(c.conn->handshake_confirmed());
  auto id = c.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  const Buf msg(100, 0x5a);  // a request: all in the Finished datagram
  ASSERT_TRUE(c.conn->stream_write(*id, bytes_of(msg), true).is_ok());
  nat_[0] = 0x100;  // the Finished, and all after it, come from address 0x100
  const Buf echoed = echo_of(c, *id);
  EXPECT_EQ(echoed, msg);
  ASSERT_EQ(host_.accepted_events.size(), 1u);
  const Connection& server = *host_.accepted_events[0]->conn;
  EXPECT_EQ(server.path().peer, address_of(0x100));
  EXPECT_TRUE(c.conn->handshake_confirmed());
}

}  // namespace
}  // namespace quicbed
