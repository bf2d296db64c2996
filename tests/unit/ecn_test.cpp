// ECN (RFC 9000 §13.4, RFC 9002 §7.1 and B.7): the validation state machine
// of ecn_validation.h on its own, then between a real client and server
// whose link can bleach, re-mark or CE-mark the IP codepoint, and with a
// peer that reports counts it cannot have seen.
#include <gtest/gtest.h>

#include <vector>

#include "conn_pair.h"
#include "ecn_validation.h"
#include "endpoint_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;
constexpr PnSpace kApp = PnSpace::kApplication;

AckEcnFeedback ack(uint64_t ect0_acked, bool has_counts, EcnCounts counts, bool largest_newly_acked = true) {
  AckEcnFeedback f;
  f.space = kApp;
  f.has_counts = has_counts;
  f.counts = counts;
  f.largest_newly_acked = largest_newly_acked;
  f.newly_acked_ect0 = ect0_acked;
  f.newly_acked_marked = ect0_acked;
  return f;
}

void send(EcnValidator& v, int n) {
  for (int i = 0; i < n; ++i) v.on_packet_sent(kApp, v.codepoint(), true);
}

TEST(EcnValidator, MarksTheTestingPacketsThenWaits) {
  EcnValidator v(true);
  EXPECT_EQ(v.state(), EcnState::kTesting);
  for (uint64_t i = 0; i < EcnValidator::kTestingPackets; ++i) {
    EXPECT_EQ(v.codepoint(), Ecn::kEct0);
    v.on_packet_sent(kApp, v.codepoint(), true);
  }
  // Appendix A.4: testing is over, unmarked until the verdict.
  EXPECT_EQ(v.state(), EcnState::kUnknown);
  EXPECT_EQ(v.codepoint(), Ecn::kNotEct);
  EXPECT_FALSE(v.on_ack(ack(4, true, {4, 0, 0})));
  EXPECT_EQ(v.state(), EcnState::kCapable);
  EXPECT_EQ(v.codepoint(), Ecn::kEct0);
  EXPECT_EQ(v.peer_counts(kApp), (EcnCounts{4, 0, 0}));
}

TEST(EcnValidator, DisabledMarksNothingAndTrustsNothing) {
  EcnValidator v(false);
  EXPECT_EQ(v.state(), EcnState::kDisabled);
  EXPECT_EQ(v.codepoint(), Ecn::kNotEct);
  v.on_packet_sent(kApp, v.codepoint(), true);
  EXPECT_FALSE(v.on_ack(ack(0, true, {0, 0, 1})));
}

TEST(EcnValidator, CeIncreaseIsASignalOnlyWhenItGrows) {
  EcnValidator v(true);
  send(v, 4);
  EXPECT_TRUE(v.on_ack(ack(2, true, {1, 0, 1})));  // §13.4.2.1: CE counts for ECT(0)
  EXPECT_EQ(v.state(), EcnState::kCapable);
  EXPECT_FALSE(v.on_ack(ack(1, true, {2, 0, 1})));
  EXPECT_TRUE(v.on_ack(ack(1, true, {2, 0, 2})));
}

struct FailureCase {
  const char* name;
  AckEcnFeedback first;   // after 6 marked packets
  AckEcnFeedback second;  // fails
  EcnFailure why;
};

class EcnValidatorFailure : public ::testing::TestWithParam<FailureCase> {};

TEST_P(EcnValidatorFailure, StopsMarking) {
  const FailureCase& c = GetParam();
  EcnValidator v(true);
  send(v, 6);
  EXPECT_FALSE(v.on_ack(c.first));
  ASSERT_NE(v.state(), EcnState::kFailed);
  EXPECT_FALSE(v.on_ack(c.second));  // a failed validation is never a CE signal
  EXPECT_EQ(v.state(), EcnState::kFailed);
  EXPECT_EQ(v.failure(), c.why);
  EXPECT_EQ(v.codepoint(), Ecn::kNotEct);
  // For good: even honest counts later change nothing.
  send(v, 1);
  EXPECT_FALSE(v.on_ack(ack(1, true, {6, 0, 1})));
  EXPECT_EQ(v.state(), EcnState::kFailed);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9000Sec13_4_2_1, EcnValidatorFailure,
    ::testing::Values(
        // Marked packets acknowledged by an ACK without counts: bleached.
        FailureCase{"MissingCounts", ack(0, false, {}), ack(2, false, {}), EcnFailure::kMissingCounts},
        // Counts present but the ECT(0) marks did not arrive.
        FailureCase{"Bleached", ack(2, true, {2, 0, 0}), ack(2, true, {3, 0, 0}), EcnFailure::kMarksMissing},
        FailureCase{"Decreased", ack(2, true, {2, 0, 0}), ack(1, true, {1, 0, 1}), EcnFailure::kCountsDecreased},
        FailureCase{"Ect1", ack(2, true, {2, 0, 0}), ack(1, true, {2, 1, 0}), EcnFailure::kEct1Reported},
        FailureCase{"MoreThanSent", ack(2, true, {2, 0, 0}), ack(1, true, {7, 0, 0}), EcnFailure::kTooManyMarks}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(EcnValidator, ReorderedAckCannotFailValidation) {
  EcnValidator v(true);
  send(v, 6);
  EXPECT_FALSE(v.on_ack(ack(4, true, {4, 0, 0})));
  // §13.4.2.1: an ACK that does not raise the largest acknowledged carries
  // older counts; neither its lower counts nor its missing ones count.
  EXPECT_FALSE(v.on_ack(ack(1, true, {1, 0, 0}, false)));
  EXPECT_FALSE(v.on_ack(ack(1, false, {}, false)));
  EXPECT_EQ(v.state(), EcnState::kCapable);
}

TEST(EcnValidator, AllMarkedPacketsLostFails) {
  EcnValidator v(true);
  send(v, static_cast<int>(EcnValidator::kTestingPackets));
  EXPECT_EQ(v.state(), EcnState::kUnknown);
  for (uint64_t i = 0; i + 1 < EcnValidator::kTestingPackets; ++i) v.on_packet_lost(Ecn::kEct0);
  EXPECT_EQ(v.state(), EcnState::kUnknown);  // one is still out
  v.on_packet_lost(Ecn::kEct0);
  EXPECT_EQ(v.state(), EcnState::kFailed);
  EXPECT_EQ(v.failure(), EcnFailure::kAllMarkedLost);
}

TEST(EcnValidator, TestingEndsAtTheFirstProbeTimeoutWithoutAnAck) {
  EcnValidator v(true);
  send(v, 2);
  v.on_pto();
  EXPECT_EQ(v.state(), EcnState::kUnknown);
  // The marked packet was only late: its acknowledgment validates.
  EXPECT_FALSE(v.on_ack(ack(1, true, {1, 0, 0})));
  EXPECT_EQ(v.state(), EcnState::kCapable);
}

TEST(EcnValidator, TestingEndsAfterThreeProbeTimeouts) {
  EcnValidator v(true);
  send(v, 2);
  v.on_ack(ack(1, true, {1, 0, 0}, false));  // reordered: no verdict, but one got through
  send(v, 1);
  for (uint32_t i = 1; i < EcnValidator::kTestingPtos; ++i) v.on_pto();
  EXPECT_EQ(v.state(), EcnState::kTesting);
  v.on_pto();
  EXPECT_EQ(v.state(), EcnState::kUnknown);
  EXPECT_EQ(v.codepoint(), Ecn::kNotEct);
}

TEST(EcnValidator, MarkedPacketsLostOrDiscardedAreAllLost) {
  EcnValidator v(true);
  send(v, 2);
  v.on_pto();
  ASSERT_EQ(v.state(), EcnState::kUnknown);
  // One lost, one discarded with its keys: all gone, none acknowledged.
  v.on_packet_lost(Ecn::kEct0);
  EXPECT_EQ(v.state(), EcnState::kUnknown);
  v.on_packet_discarded(Ecn::kEct0);
  EXPECT_EQ(v.state(), EcnState::kFailed);
  EXPECT_EQ(v.failure(), EcnFailure::kAllMarkedLost);
}

TEST(EcnValidator, OneMarkedPacketAcknowledgedIsNotAllLost) {
  EcnValidator v(true);
  send(v, static_cast<int>(EcnValidator::kTestingPackets));
  // Acknowledged without counts while the largest did not move: no verdict.
  v.on_ack(ack(1, false, {}, false));
  for (uint64_t i = 1; i < EcnValidator::kTestingPackets; ++i) v.on_packet_lost(Ecn::kEct0);
  EXPECT_EQ(v.state(), EcnState::kUnknown);
}

// ---- Between two connections ------------------------------------------------

class EcnConnTest : public UploadPairTest {
 protected:
  void SetUp() override {
    UploadPairTest::SetUp();
    client_.config.ecn = server_.config.ecn = true;
  }

  static size_t count(const std::vector<Ecn>& v, Ecn e) { return static_cast<size_t>(std::count(v.begin(), v.end(), e)); }

  // A 1-RTT ACK_ECN frame from the server acknowledging every packet number
  // the client used, with `counts`, delivered to the client as if sent now.
  void forge_server_ack(EcnCounts counts) {
    const uint64_t largest = client_.conn->space(kApp).next_pn - 1;
    const Range ranges[] = {{0, largest}};
    Buf frames(128);
    Writer w{MutBytes(frames.data(), frames.size())};
    ASSERT_TRUE(write_ack(w, ranges, 0, &counts).is_ok());
    frames.resize(w.position());
    auto first = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
    ASSERT_TRUE(first.is_ok());
    const auto& key = server_.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
    deliver(kToClient, forge_one_rtt(server_.crypto, key, first->dcid, 1u << 20, frames), Ecn::kEct0);
  }
};

// The interop runner's ECN check: every packet of both sides ECT(0), and
// ACK frames with ECN counts both ways.
TEST_F(EcnConnTest, CleanPathValidatesAndMarksEveryDatagram) {
  handshake();
  expect_established();
  ASSERT_TRUE(upload(200'000));
  for (test::Endpoint* e : {&client_, &server_}) {
    EXPECT_EQ(e->conn->ecn().state(), EcnState::kCapable);
    EXPECT_EQ(e->conn->ecn().failure(), EcnFailure::kNone);
    // The peer counted our packets in the handshake spaces and 1-RTT.
    EXPECT_GT(e->conn->ecn().peer_counts(PnSpace::kInitial).ect0, 0u);
    EXPECT_GT(e->conn->ecn().peer_counts(kApp).ect0, 0u);
    EXPECT_EQ(e->conn->ecn().peer_counts(kApp).ce, 0u);
  }
  for (Dir d : {kToServer, kToClient}) {
    EXPECT_EQ(count(sent_ecn_[d], Ecn::kEct0), sent_ecn_[d].size()) << "direction " << d;
  }
  // The server counted most of what the client sent; ACK-only packets the
  // client sent after the server's last ACK are the difference.
  EXPECT_GT(client_.conn->ecn().peer_counts(kApp).ect0, 100u);
}

// A router that clears the ECN field: the peer sees no marks, sends plain
// ACKs, and marked packets acknowledged without counts fail validation.
TEST_F(EcnConnTest, BleachingPathFailsValidation) {
  ecn_path_ = [](Dir, size_t, Ecn) { return Ecn::kNotEct; };
  handshake();
  expect_established();
  ASSERT_TRUE(upload(100'000));
  for (Dir d : {kToServer, kToClient}) {
    test::Endpoint& e = from(d);
    EXPECT_EQ(e.conn->ecn().state(), EcnState::kFailed);
    EXPECT_EQ(e.conn->ecn().failure(), EcnFailure::kMissingCounts);
    // At most the testing packets went out marked, then none.
    EXPECT_LE(count(sent_ecn_[d], Ecn::kEct0), EcnValidator::kTestingPackets);
    EXPECT_EQ(sent_ecn_[d].back(), Ecn::kNotEct);
  }
}

// A firewall that drops every ECN-marked packet: the testing period ends
// at the first PTO (no marked packet was acknowledged), the unmarked
// packets get through, the marked ones are all lost, and ECN is off for
// the rest of the connection.
TEST_F(EcnConnTest, PathDroppingMarkedPacketsStillConnects) {
  filter_ = [&](Dir d, size_t i, uint64_t) {
    return sent_ecn_[d][i] == Ecn::kNotEct ? Verdict{} : Verdict{Verdict::Fate::kDrop, 0};
  };
  handshake(30 * kSec);
  expect_established();
  const uint64_t handshake_time = now_;
  ASSERT_TRUE(upload(50'000));
  EXPECT_EQ(client_.conn->ecn().state(), EcnState::kFailed);
  EXPECT_EQ(client_.conn->ecn().failure(), EcnFailure::kAllMarkedLost);
  // The first Initial only: its PTO ends the testing.
  EXPECT_EQ(count(sent_ecn_[kToServer], Ecn::kEct0), 1u);
  EXPECT_LT(handshake_time, 10 * kSec) << "the handshake took " << handshake_time / kMs << " ms";
  // The server never saw a marked packet and its own marks never arrived.
  EXPECT_NE(server_.conn->ecn().state(), EcnState::kCapable);
}

// A router that re-marks ECT(0) as ECT(1): honest counts of what the peer
// saw, which are not what we sent.
TEST_F(EcnConnTest, RemarkedToEct1FailsValidation) {
  ecn_path_ = [](Dir, size_t, Ecn e) { return e == Ecn::kEct0 ? Ecn::kEct1 : e; };
  handshake();
  expect_established();
  ASSERT_TRUE(upload(50'000));
  for (test::Endpoint* e : {&client_, &server_}) {
    EXPECT_EQ(e->conn->ecn().state(), EcnState::kFailed);
    EXPECT_EQ(e->conn->ecn().failure(), EcnFailure::kEct1Reported);
    EXPECT_EQ(e->conn->datagram_ecn(), Ecn::kNotEct);
  }
}

// A peer whose ACK_ECN counts are impossible: more marked packets than
// were ever sent, or counts going down. ECN goes, the connection stays
// (RFC 9000 §13.4.2.2: no error, only no more marks).
TEST_F(EcnConnTest, PeerReportingWrongCountsDisablesEcn) {
  handshake();
  expect_established();
  ASSERT_TRUE(upload(30'000));
  ASSERT_EQ(client_.conn->ecn().state(), EcnState::kCapable);
  const EcnCounts honest = client_.conn->ecn().peer_counts(kApp);
  // The client sends more, still marked; the forged ACK covers it.
  auto id = client_.conn->open_stream(StreamDir::kUni);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(client_.conn->stream_write(*id, bytes_of(pattern(5000, 9)), true).is_ok());
  flush(kToServer);
  EXPECT_EQ(sent_ecn_[kToServer].back(), Ecn::kEct0);
  forge_server_ack(EcnCounts{honest.ect0 + 1'000'000, 0, honest.ce});
  EXPECT_EQ(client_.conn->ecn().state(), EcnState::kFailed);
  EXPECT_EQ(client_.conn->ecn().failure(), EcnFailure::kTooManyMarks);
  EXPECT_EQ(client_.conn->state(), Connection::State::kEstablished);
  // The client's next packets go unmarked. (The forged packet number is
  // one the server never used, so the exchange cannot go on for long: the
  // server would take the client's ACK of it for a protocol violation.)
  auto more = client_.conn->open_stream(StreamDir::kUni);
  ASSERT_TRUE(more.is_ok());
  ASSERT_TRUE(client_.conn->stream_write(*more, bytes_of(pattern(3000, 5)), true).is_ok());
  const size_t before = sent_[kToServer].size();
  flush(kToServer);
  ASSERT_GT(sent_[kToServer].size(), before);
  EXPECT_EQ(sent_ecn_[kToServer].back(), Ecn::kNotEct);
  EXPECT_EQ(client_.events.closes, 0);
}

TEST_F(EcnConnTest, PeerReportingDecreasingCountsDisablesEcn) {
  handshake();
  expect_established();
  ASSERT_TRUE(upload(30'000));
  ASSERT_EQ(client_.conn->ecn().state(), EcnState::kCapable);
  auto id = client_.conn->open_stream(StreamDir::kUni);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(client_.conn->stream_write(*id, bytes_of(pattern(5000, 9)), true).is_ok());
  flush(kToServer);
  forge_server_ack(EcnCounts{1, 0, 0});
  EXPECT_EQ(client_.conn->ecn().state(), EcnState::kFailed);
  EXPECT_EQ(client_.conn->ecn().failure(), EcnFailure::kCountsDecreased);
  EXPECT_EQ(client_.conn->state(), Connection::State::kEstablished);
}

// RFC 9002 §7.1, B.7: CE marks are a congestion event, one per round trip
// however many packets of that round were marked (the recovery period),
// with NewReno and CUBIC alike; no packet is lost.
class EcnCeTest : public EcnConnTest, public ::testing::WithParamInterface<CcAlgorithm> {};

// What the tracer hears of ECN: state changes and congestion triggers.
struct EcnTracer final : Tracer {
  void ecn_state_updated(uint64_t, EcnState, EcnState new_state) override { states.push_back(new_state); }
  void congestion_state_updated(uint64_t, CcState, CcState, CongestionTrigger trigger) override {
    if (trigger == CongestionTrigger::kEcn) ++ecn_triggers;
  }
  void packet_lost(uint64_t, const TracedPacketLost&) override { ++lost; }
  void recovery_state_updated(uint64_t, CcRecovery, CcRecovery new_state) override {
    if (new_state != CcRecovery::kNone) recoveries.push_back(new_state);
  }
  std::vector<EcnState> states;
  std::vector<CcRecovery> recoveries;  // entered, in order (ns-3's CA_CWR for kEcn)
  int ecn_triggers = 0;
  int lost = 0;
};

TEST_P(EcnCeTest, CeMarksReduceTheWindowOncePerRoundTrip) {
  client_.config.cc = GetParam();
  EcnTracer tracer;
  client_.config.tracer = &tracer;
  // Two bursts of ten CE-marked datagrams, far apart.
  auto marked = [](size_t i) { return (i >= 40 && i < 50) || (i >= 400 && i < 410); };
  ecn_path_ = [&](Dir d, size_t i, Ecn e) { return d == kToServer && e == Ecn::kEct0 && marked(i) ? Ecn::kCe : e; };
  handshake();
  expect_established();
  std::vector<uint64_t> ssthresholds;
  std::vector<uint64_t> reductions_at;  // index of the next datagram when the window shrank
  uint64_t last_cwnd = 0;
  const CongestionController& cc = client_.conn->congestion_controller();
  ASSERT_TRUE(upload(1'500'000, 60 * kSec, [&] {
    if (cc.ssthresh() != (ssthresholds.empty() ? kU64Max : ssthresholds.back())) {
      ssthresholds.push_back(cc.ssthresh());
      reductions_at.push_back(sent_[kToServer].size());
      EXPECT_LT(cc.cwnd(), last_cwnd);
    }
    last_cwnd = cc.cwnd();
  }));
  ASSERT_GE(sent_[kToServer].size(), 420u);
  EXPECT_EQ(ssthresholds.size(), 2u) << "one reduction per burst";
  EXPECT_EQ(client_.conn->ecn().state(), EcnState::kCapable);
  EXPECT_EQ(client_.conn->ecn().peer_counts(kApp).ce, 20u);
  for (size_t at : reductions_at) EXPECT_GT(at, 40u);
  if (ssthresholds.size() == 2) {
    EXPECT_LT(ssthresholds[1], ssthresholds[0]);
  }
  // qlog: validated once, each recovery period started by ECN, no loss.
  EXPECT_EQ(tracer.states, std::vector<EcnState>{EcnState::kCapable});
  EXPECT_EQ(tracer.ecn_triggers, 2);
  EXPECT_EQ(tracer.recoveries, (std::vector<CcRecovery>{CcRecovery::kEcn, CcRecovery::kEcn}));
  EXPECT_EQ(tracer.lost, 0);
}

INSTANTIATE_TEST_SUITE_P(Controllers, EcnCeTest, ::testing::Values(CcAlgorithm::kNewReno, CcAlgorithm::kCubic),
                         [](const auto& info) {
                           return std::string(info.param == CcAlgorithm::kNewReno ? "NewReno" : "Cubic");
                         });

// The server Endpoint hands each connection's codepoint to the host with
// the datagram (Transmit::ecn); clients and server validate each other.
using EcnEndpointTest = EndpointPairTest;

TEST_F(EcnEndpointTest, TransmitCarriesTheConnectionsCodepoint) {
  config_.connection.ecn = true;
  client_config = [](ConnectionConfig& c) { c.ecn = true; };
  start_server();
  TestClient& c = add_client();
  run_until([&] { return all_confirmed(); }, 5 * kSec);
  ASSERT_TRUE(c.conn->handshake_confirmed());
  auto id = c.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(c.conn->stream_write(*id, bytes_of(pattern(20'000, 1)), true).is_ok());
  run_for(500 * kMs);
  ASSERT_EQ(host_.accepted_events.size(), 1u);
  ASSERT_EQ(host_.accepted_events[0]->received[*id].size(), 20'000u);
  ASSERT_FALSE(sent_by_server_.empty());
  for (const Sent& s : sent_by_server_) EXPECT_EQ(s.ecn, Ecn::kEct0);
  EXPECT_EQ(host_.accepted_events[0]->conn->ecn().state(), EcnState::kCapable);
  EXPECT_EQ(c.conn->ecn().state(), EcnState::kCapable);
}

}  // namespace
}  // namespace quicbed
