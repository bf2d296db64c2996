// The 1-RTT key update (RFC 9001 §6) between a real client and server
// Connection, with packets a peer would send forged from the traffic
// secrets TLS reported: the previous read key kept for late packets of the
// old phase (§6.5), consecutive updates (§6.2), and the AEAD limits (§6.6).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "conn_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

class KeyUpdateTest : public UploadPairTest {
 protected:
  // A packet as the client would send it, with key generation `g`.
  Buf forge(int g, uint64_t pn, const Buf& frames) {
    auto server_initial = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
    EXPECT_TRUE(server_initial.is_ok());
    const auto& key = client_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
    ForgedPacket p;
    p.dcid = server_initial->scid;
    p.pn = pn;
    p.padding = 8;
    p.generation = g;
    return forge_packet(client_.crypto, key.suite, bytes_of(key.secret), p, frames);
  }
  // The client's own datagrams stop reaching the server, so that the
  // forged packet numbers alone decide what the server saw.
  void cut_client() {
    filter_ = [](Dir d, size_t, uint64_t) { return Verdict{d == kToServer ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver}; };
  }
  // After the handshake, the client (forged) starts a key update with
  // packet number p1, returned.
  uint64_t forged_update() {
    handshake();
    expect_established();
    cut_client();
    const uint64_t p1 = client_.conn->space(PnSpace::kApplication).next_pn + 100;
    deliver(kToServer, forge(1, p1, kPing));
    return p1;
  }
  const PacketNumberSpace& server_app() const { return server_.conn->space(PnSpace::kApplication); }

  static inline const Buf kPing = {0x01};
  // STREAM with Length (RFC 9000 §19.8): one byte on the client's stream 0.
  static inline const Buf kStream0 = {0x0a, 0x00, 0x01, 0x61};
};

// RFC 9001 §6.5: a packet of the old phase that the network delivers after
// the update opens with the previous read key, kept three PTOs.
struct LateCase {
  const char* name;
  uint64_t delay_ptos;  // after the update, before the late packet arrives
  bool processed;
};

class LateOldPhaseTest : public KeyUpdateTest, public ::testing::WithParamInterface<LateCase> {};

TEST_P(LateOldPhaseTest, OldKeyKeptThreePtos) {
  const LateCase& c = GetParam();
  const uint64_t p1 = forged_update();
  ASSERT_EQ(server_app().read_generation, 1u);
  EXPECT_TRUE(server_.conn->key_phase());  // §6.2: the server answered
  run_for(c.delay_ptos * server_.conn->recovery().pto_period());
  // Sent before p1, under generation 0.
  deliver(kToServer, forge(0, p1 - 10, kStream0));
  const auto& opened = server_.events.opened;
  EXPECT_EQ(std::find(opened.begin(), opened.end(), 0u) != opened.end(), c.processed);
  EXPECT_EQ(server_.events.closes, 0);
  // The key goes after three PTOs either way.
  run_for(4 * server_.conn->recovery().pto_period());
  EXPECT_FALSE(server_app().prev_read.ready());
}

INSTANTIATE_TEST_SUITE_P(Rfc9001, LateOldPhaseTest,
                         ::testing::Values(LateCase{"Immediately", 0, true}, LateCase{"AfterOnePto", 1, true},
                                           LateCase{"AfterFourPtos", 4, false}),
                         [](const auto& info) { return info.param.name; });

// RFC 9001 §6.2: a peer that updates again before we acknowledged, under
// the new keys, a packet of its previous update commits KEY_UPDATE_ERROR.
struct SecondUpdateCase {
  const char* name;
  bool acked_between;
  uint64_t error;  // 0: accepted
};

class SecondUpdateTest : public KeyUpdateTest, public ::testing::WithParamInterface<SecondUpdateCase> {};

TEST_P(SecondUpdateTest, NeedsAnAcknowledgedUpdate) {
  const SecondUpdateCase& c = GetParam();
  const uint64_t p1 = forged_update();
  ASSERT_EQ(server_app().read_generation, 1u);
  // The server's ACK of the PING goes out within its max_ack_delay.
  if (c.acked_between) run_for(2 * server_.conn->recovery().pto_period());
  deliver(kToServer, forge(2, p1 + 1, kPing));
  if (c.error == 0) {
    EXPECT_EQ(server_.events.closes, 0);
    EXPECT_EQ(server_app().read_generation, 2u);
    EXPECT_EQ(server_app().write_generation, 2u);
  } else {
    ASSERT_EQ(server_.events.closes, 1);
    EXPECT_EQ(server_.events.error_code, c.error);
  }
}

INSTANTIATE_TEST_SUITE_P(Rfc9001, SecondUpdateTest,
                         ::testing::Values(SecondUpdateCase{"AfterOurAck", true, 0},
                                           SecondUpdateCase{"BeforeOurAck", false, 0x0e}),
                         [](const auto& info) { return info.param.name; });

// RFC 9001 §6.6, integrity limit: packets failing authentication, across
// all keys, beyond the limit close the connection with AEAD_LIMIT_REACHED.
struct IntegrityCase {
  const char* name;
  uint64_t limit;
  int failures;
  bool closes;
};

class IntegrityLimitTest : public KeyUpdateTest, public ::testing::WithParamInterface<IntegrityCase> {};

TEST_P(IntegrityLimitTest, ClosesBeyondTheLimit) {
  const IntegrityCase& c = GetParam();
  server_.config.aead_limit_cap.integrity = c.limit;
  handshake();
  expect_established();
  for (int i = 0; i < c.failures; ++i) {
    Buf p = forge(0, 1000 + i, kPing);
    p[p.size() - 1] ^= 0x01;  // the tag no longer authenticates
    deliver(kToServer, p);
  }
  ASSERT_EQ(server_.events.closes, c.closes ? 1 : 0);
  if (!c.closes) return;
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kLocal);
  EXPECT_EQ(server_.events.error_code, 0x0fu);
  run_until([&] { return client_.events.closes > 0; }, now_ + kSec);
  EXPECT_EQ(client_.events.error_code, 0x0fu);  // the server told the client
}

INSTANTIATE_TEST_SUITE_P(Rfc9001, IntegrityLimitTest,
                         ::testing::Values(IntegrityCase{"AtTheLimit", 4, 4, false},
                                           IntegrityCase{"BeyondTheLimit", 4, 5, true}),
                         [](const auto& info) { return info.param.name; });

// RFC 9001 §6.6, confidentiality limit: the sender updates its key before
// the limit; when no update is possible it stops using the connection.
struct ConfidentialityCase {
  const char* name;
  uint64_t limit;
  bool server_silent;  // nothing from the server arrives: no update possible
};

class ConfidentialityLimitTest : public KeyUpdateTest, public ::testing::WithParamInterface<ConfidentialityCase> {};

TEST_P(ConfidentialityLimitTest, UpdatesOrStops) {
  const uint64_t limit = GetParam().limit;
  client_.config.aead_limit_cap.confidentiality = limit;
  handshake();
  expect_established();
  if (!GetParam().server_silent) {
    // About 250 packets: several keys' worth.
    ASSERT_TRUE(upload(300'000));
    EXPECT_GE(client_.conn->space(PnSpace::kApplication).write_generation, 5u);
    EXPECT_EQ(client_.events.closes, 0);
    EXPECT_EQ(server_.events.closes, 0);
    return;
  }
  filter_ = [](Dir d, size_t, uint64_t) { return Verdict{d == kToClient ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver}; };
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  Transfer up{client_.conn.get(), server_.conn.get(), *id, pattern(300'000, 1)};
  run_until(
      [&] {
        up.pump();
        return client_.events.closes > 0;
      },
      now_ + 20 * kSec);
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.conn->state(), Connection::State::kDraining);  // no CONNECTION_CLOSE
  EXPECT_EQ(client_.events.error_code, 0x0fu);
  // Each key sealed at most `limit` packets: the datagrams sent tell.
  const size_t sent = sent_[kToServer].size();
  run_for(kSec);
  EXPECT_EQ(sent_[kToServer].size(), sent);
  EXPECT_LE(client_.conn->space(PnSpace::kApplication).next_pn, 2 * limit);
}

INSTANTIATE_TEST_SUITE_P(Rfc9001, ConfidentialityLimitTest,
                         ::testing::Values(ConfidentialityCase{"KeyUpdates", 40, false},
                                           ConfidentialityCase{"NoUpdatePossible", 8, true}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace quicbed
