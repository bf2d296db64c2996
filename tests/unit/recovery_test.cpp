// RFC 9002 §5-§7 loss detection and PTO, one rule per test, with times in
// microseconds computed by hand in the comments.
#include "recovery.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <vector>

namespace quicbed {
namespace {

using Kind = LossTimerAction::Kind;
constexpr PnSpace kInit = PnSpace::kInitial;
constexpr PnSpace kHs = PnSpace::kHandshake;
constexpr PnSpace kApp = PnSpace::kApplication;

// Counts live allocations and can refuse, to check leaks and kNoMemory.
class CountingAllocator final : public Allocator {
 public:
  void* allocate(size_t size, size_t align) override {
    if (refuse) return nullptr;
    EXPECT_LE(align, alignof(std::max_align_t));
    ++live;
    bytes += size;
    return std::malloc(size);
  }
  void deallocate(void* p, size_t size) override {
    ASSERT_NE(p, nullptr);
    --live;
    bytes -= size;
    std::free(p);
  }
  bool refuse = false;
  long live = 0;
  size_t bytes = 0;
};

struct CongestionEvent {
  uint64_t now, sent_time;
  bool ecn;
  bool operator==(const CongestionEvent&) const = default;
};

// A controller that only records what recovery tells it.
class FakeCc final : public CongestionController {
 public:
  const char* name() const override { return "fake"; }
  void on_packet_sent(uint64_t now, uint64_t bytes, uint64_t bytes_in_flight) override {
    sent.push_back({now, bytes, bytes_in_flight});
  }
  void on_ack(const CcAck& ack, const RttEstimator&) override {
    acks.push_back(ack);
    // The sample lives only for the call.
    rates.push_back(ack.rate ? *ack.rate : RateSample());
  }
  void on_packet_lost(const CcLoss& l) override { losses.push_back(l); }
  bool wants_app_limited_samples() const override { return app_limited_samples; }
  bool app_limited_samples = false;
  void on_congestion_event(uint64_t now, uint64_t sent_time, bool ecn) override {
    events.push_back({now, sent_time, ecn});
  }
  void on_persistent_congestion(uint64_t now) override { persistent.push_back(now); }
  uint64_t cwnd() const override { return 12'000; }
  uint64_t ssthresh() const override { return kU64Max; }
  CcState state() const override { return CcState::kSlowStart; }
  CcRecovery recovery() const override { return CcRecovery::kNone; }
  uint64_t pacing_rate(const RttEstimator&) const override { return 0; }
  void set_max_datagram_size(uint64_t bytes) override { mds = bytes; }
  uint64_t max_datagram_size() const override { return mds; }
  uint64_t mds = 1200;

  struct Sent {
    uint64_t now, bytes, in_flight;
    bool operator==(const Sent&) const = default;
  };
  std::vector<Sent> sent;
  std::vector<CcAck> acks;
  std::vector<RateSample> rates;
  std::vector<CcLoss> losses;
  std::vector<CongestionEvent> events;
  std::vector<uint64_t> persistent;
};

class Fates final : public RecoveryEvents {
 public:
  void on_packet_acked(const SentPacket& p) override { acked.push_back(p.pn); last = p; }
  void on_packet_lost(const SentPacket& p) override { lost.push_back(p.pn); last = p; }
  void on_packet_discarded(const SentPacket& p) override { discarded.push_back(p.pn); }
  std::vector<uint64_t> acked, lost, discarded;
  SentPacket last;
};

using Pns = std::vector<uint64_t>;

class RecoveryTest : public ::testing::Test {
 protected:
  void start(bool is_server, size_t max_outstanding = 64) {
    RecoveryConfig c;
    c.is_server = is_server;
    c.max_outstanding = max_outstanding;
    rec = std::make_unique<Recovery>(alloc, cc, fates, c);
  }
  void TearDown() override {
    rec.reset();
    EXPECT_EQ(alloc.live, 0);
    EXPECT_EQ(alloc.bytes, 0u);
  }

  Status send(PnSpace space, uint64_t pn, uint64_t t, bool eliciting = true, bool in_flight = true,
              uint64_t bytes = 1000) {
    SentPacket p;
    p.space = space;
    p.pn = pn;
    p.time_sent = t;
    p.bytes = bytes;
    p.ack_eliciting = eliciting;
    p.in_flight = in_flight;
    return rec->on_packet_sent(p);
  }
  // Encodes an ACK frame for `ranges` (descending) and hands the parsed
  // frame to recovery, as the connection will.
  Status ack(PnSpace space, std::vector<Range> ranges, uint64_t now, uint64_t ack_delay = 0,
             const EcnCounts* ecn = nullptr) {
    uint8_t buf[256];
    Writer w(MutBytes(buf, sizeof buf));
    EXPECT_TRUE(write_ack(w, ranges, 0, ecn).is_ok());
    Reader r(w.written());
    Result<Frame> f = parse_frame(r);
    EXPECT_TRUE(f.is_ok());
    return rec->on_ack_received(space, f->ack, ecn != nullptr, ack_delay, now);
  }
  Status ack1(PnSpace space, uint64_t pn, uint64_t now, uint64_t ack_delay = 0) {
    return ack(space, {{pn, pn}}, now, ack_delay);
  }

  CountingAllocator alloc;
  FakeCc cc;
  Fates fates;
  std::unique_ptr<Recovery> rec;
};

// Recovery stamps each packet for delivery rate estimation
// (draft-ietf-ccwg-bbr §4.1.2), hands the controller each lost packet
// before the congestion event, and a rate sample with each ACK.
TEST_F(RecoveryTest, FeedsDeliveryRateAndLossDetailToTheController) {
  start(true);
  for (uint64_t pn = 0; pn < 5; ++pn) ASSERT_TRUE(send(kApp, pn, pn * 1'000).is_ok());
  ASSERT_TRUE(ack1(kApp, 3, 100'000).is_ok());  // pn 0 lost by packet threshold
  ASSERT_EQ(cc.losses.size(), 1u);
  const CcLoss& l = cc.losses[0];
  EXPECT_EQ(l.now, 100'000u);
  EXPECT_EQ(l.bytes, 1'000u);
  EXPECT_EQ(l.tx_in_flight, 1'000u);     // the first packet of the flight
  EXPECT_EQ(l.lost_since_sent, 1'000u);  // itself
  EXPECT_FALSE(l.is_app_limited);
  EXPECT_EQ(l.bytes_in_flight, 3'000u);  // pn 1, 2, 4
  ASSERT_EQ(cc.events.size(), 1u);
  ASSERT_EQ(cc.acks.size(), 1u);
  ASSERT_NE(cc.acks[0].rate, nullptr);
  const RateSample& rs = cc.rates[0];
  EXPECT_TRUE(rs.valid);
  // pn 3: sent at 3 ms into a flight begun at 0, acked at 100 ms.
  EXPECT_EQ(rs.prior_delivered, 0u);
  EXPECT_EQ(rs.send_elapsed, 3'000u);
  EXPECT_EQ(rs.ack_elapsed, 100'000u);
  EXPECT_EQ(rs.delivered, 1'000u);
  EXPECT_EQ(rs.delivery_rate, 10'000u);  // 1000 bytes / 0.1 s
  EXPECT_EQ(rs.tx_in_flight, 4'000u);
  EXPECT_EQ(rs.lost, 1'000u);
  EXPECT_EQ(rs.newly_lost, 1'000u);
  EXPECT_EQ(rs.newly_acked, 1'000u);
  EXPECT_EQ(rs.rtt, 97'000u);
  EXPECT_EQ(rs.conn_delivered, 1'000u);
  // Nothing to send with room left: the next packets are app-limited until
  // the current flight (3000 bytes) is delivered.
  rec->mark_app_limited();
  EXPECT_TRUE(rec->delivery_rate().app_limited());
  ASSERT_TRUE(send(kApp, 5, 101'000).is_ok());
  ASSERT_TRUE(ack(kApp, {{4, 5}}, 200'000).is_ok());
  ASSERT_EQ(cc.rates.size(), 2u);
  EXPECT_TRUE(cc.rates[1].is_app_limited);
  EXPECT_EQ(cc.rates[1].prior_delivered, 1'000u);
  EXPECT_EQ(rec->delivery_rate().delivered(), 3'000u);
}

// A controller that holds its flight down on purpose (BBR's ProbeRTT) has
// the estimator mark the flight app-limited after each ACK.
TEST_F(RecoveryTest, ControllerCanAskForAppLimitedSamples) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kApp, 1, 1'000).is_ok());
  ASSERT_TRUE(ack1(kApp, 0, 50'000).is_ok());
  EXPECT_FALSE(rec->delivery_rate().app_limited());
  cc.app_limited_samples = true;
  ASSERT_TRUE(ack1(kApp, 1, 51'000).is_ok());
  EXPECT_TRUE(rec->delivery_rate().app_limited());
  ASSERT_TRUE(send(kApp, 2, 52'000).is_ok());
  ASSERT_TRUE(ack1(kApp, 2, 100'000).is_ok());
  EXPECT_TRUE(cc.rates.back().is_app_limited);
}

TEST_F(RecoveryTest, PacketThresholdLossThenLossTimer) {
  start(true);
  for (uint64_t pn = 0; pn < 5; ++pn) ASSERT_TRUE(send(kApp, pn, pn * 1'000).is_ok());
  EXPECT_EQ(rec->bytes_in_flight(), 5'000u);
  // latest_rtt = 100000 - 3000 = 97000 = smoothed; loss_delay = 97000 * 9/8
  // = 109125. pn 0 is 3 below largest acked 3 (§6.1.1); pn 1 and 2 are
  // neither 3 below nor 109125 old.
  ASSERT_TRUE(ack1(kApp, 3, 100'000).is_ok());
  EXPECT_EQ(fates.acked, (Pns{3}));
  EXPECT_EQ(fates.lost, (Pns{0}));
  EXPECT_EQ(rec->bytes_in_flight(), 3'000u);
  EXPECT_EQ(rec->rtt().latest_rtt(), 97'000u);
  EXPECT_EQ(cc.events, (std::vector<CongestionEvent>{{100'000, 0, false}}));
  ASSERT_EQ(cc.acks.size(), 1u);
  EXPECT_EQ(cc.acks[0].bytes_acked, 1'000u);
  EXPECT_EQ(cc.acks[0].largest_acked_sent_time, 3'000u);
  EXPECT_EQ(cc.acks[0].bytes_in_flight, 3'000u);
  // §6.1.2: the loss timer is the earliest of 1000 + 109125, 2000 + 109125.
  EXPECT_EQ(rec->loss_detection_timer(), 110'125u);

  EXPECT_EQ(rec->on_loss_detection_timeout(110'124).kind, Kind::kNone);
  EXPECT_EQ(fates.lost, (Pns{0}));
  LossTimerAction a = rec->on_loss_detection_timeout(110'125);
  EXPECT_EQ(a.kind, Kind::kLossDeclared);
  EXPECT_EQ(a.space, kApp);
  EXPECT_EQ(fates.lost, (Pns{0, 1}));
  EXPECT_EQ(cc.events.back(), (CongestionEvent{110'125, 1'000, false}));
  EXPECT_EQ(rec->loss_detection_timer(), 111'125u);
  EXPECT_EQ(rec->pto_count(), 0u);  // a loss timer is not a PTO
  EXPECT_EQ(rec->bytes_in_flight(), 2'000u);
}

TEST_F(RecoveryTest, TimeThresholdLossOnAck) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kApp, 1, 20'000).is_ok());
  // rtt 30000, loss_delay 33750: pn 0 (sent at 0) is 50000 old, lost though
  // only one packet newer was acknowledged.
  ASSERT_TRUE(ack1(kApp, 1, 50'000).is_ok());
  EXPECT_EQ(fates.lost, (Pns{0}));
  EXPECT_EQ(rec->loss_detection_timer(), kNever);  // nothing left to time
}

TEST_F(RecoveryTest, TimeThresholdUsesLargerOfLatestAndSmoothed) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(ack1(kApp, 0, 30'000).is_ok());  // smoothed = latest = 30000
  ASSERT_TRUE(send(kApp, 1, 105'000).is_ok());
  ASSERT_TRUE(send(kApp, 2, 110'000).is_ok());
  // latest 80000 > smoothed (7 * 30000 + 80000) / 8 = 36250: loss_delay is
  // 80000 * 9/8 = 90000, so pn 1 is not lost yet (smoothed alone would
  // give 40781) and will be at 105000 + 90000.
  ASSERT_TRUE(ack1(kApp, 2, 190'000).is_ok());
  EXPECT_EQ(rec->rtt().smoothed_rtt(), 36'250u);
  EXPECT_TRUE(fates.lost.empty());
  EXPECT_EQ(rec->loss_detection_timer(), 195'000u);
}

TEST_F(RecoveryTest, LossDelayHasGranularityFloor) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kApp, 1, 10).is_ok());
  // rtt 100: 9/8 * 100 = 112 < kGranularity, so loss_delay = 1000.
  ASSERT_TRUE(ack1(kApp, 1, 110).is_ok());
  EXPECT_TRUE(fates.lost.empty());
  EXPECT_EQ(rec->loss_detection_timer(), 1'000u);
  EXPECT_EQ(rec->on_loss_detection_timeout(1'000).kind, Kind::kLossDeclared);
  EXPECT_EQ(fates.lost, (Pns{0}));
}

// §6.2.1: PTO = smoothed_rtt + max(4 * rttvar, kGranularity) (+ max_ack_delay
// in the Application space), doubled per expiry, reset by an ACK.
TEST_F(RecoveryTest, PtoBackoffDoublesAndAckResetsIt) {
  start(true);
  rec->on_handshake_confirmed(0);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  // No sample yet: 333000 + 4 * 166500 + 25000.
  EXPECT_EQ(rec->loss_detection_timer(), 1'024'000u);
  EXPECT_EQ(rec->on_loss_detection_timeout(1'023'999).kind, Kind::kNone);
  LossTimerAction a = rec->on_loss_detection_timeout(1'024'000);
  EXPECT_EQ(a.kind, Kind::kProbe);
  EXPECT_EQ(a.space, kApp);
  EXPECT_EQ(a.probes, 2);
  EXPECT_EQ(rec->pto_count(), 1u);
  EXPECT_TRUE(fates.lost.empty());  // a PTO declares nothing lost (§6.2.4)
  EXPECT_EQ(rec->loss_detection_timer(), 2'048'000u);  // 0 + 2 * 1024000
  ASSERT_TRUE(send(kApp, 1, 1'024'000).is_ok());
  ASSERT_TRUE(send(kApp, 2, 1'024'000).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), 3'072'000u);  // 1024000 + 2 * 1024000
  EXPECT_EQ(rec->on_loss_detection_timeout(3'072'000).kind, Kind::kProbe);
  EXPECT_EQ(rec->pto_count(), 2u);
  EXPECT_EQ(rec->loss_detection_timer(), 5'120'000u);  // 1024000 + 4 * 1024000

  // latest_rtt 3976000, loss_delay 4473000: pn 0 is lost, pn 1 will be at
  // 1024000 + 4473000; the loss timer replaces the PTO.
  ASSERT_TRUE(ack1(kApp, 2, 5'000'000).is_ok());
  EXPECT_EQ(rec->pto_count(), 0u);
  EXPECT_EQ(fates.lost, (Pns{0}));
  EXPECT_EQ(rec->loss_detection_timer(), 5'497'000u);
  EXPECT_EQ(rec->on_loss_detection_timeout(5'497'000).kind, Kind::kLossDeclared);
  EXPECT_EQ(fates.lost, (Pns{0, 1}));
  EXPECT_EQ(rec->bytes_in_flight(), 0u);
  EXPECT_EQ(rec->loss_detection_timer(), kNever);
}

// §6.2.1 and §6.2.2.1: a client not sure the server validated its address
// keeps its backoff across ACKs and arms the anti-deadlock timer with
// nothing in flight, first for Initial, then for Handshake.
TEST_F(RecoveryTest, ClientKeepsBackoffUntilAddressValidated) {
  start(false);
  ASSERT_TRUE(send(kInit, 0, 0).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), 999'000u);  // no max_ack_delay for Initial
  LossTimerAction a = rec->on_loss_detection_timeout(999'000);
  EXPECT_EQ(a.kind, Kind::kProbe);
  EXPECT_EQ(a.space, kInit);
  EXPECT_EQ(a.probes, 2);
  ASSERT_TRUE(send(kInit, 1, 999'000).is_ok());
  // Sample 100000 (pto_base 300000); pn 0 is lost by time; the backoff stays 1.
  ASSERT_TRUE(ack1(kInit, 1, 1'099'000).is_ok());
  EXPECT_EQ(fates.lost, (Pns{0}));
  EXPECT_EQ(rec->pto_count(), 1u);
  EXPECT_EQ(rec->bytes_in_flight(), 0u);
  EXPECT_EQ(rec->loss_detection_timer(), 1'699'000u);  // now + 2 * 300000

  a = rec->on_loss_detection_timeout(1'699'000);
  EXPECT_EQ(a.kind, Kind::kProbe);
  EXPECT_EQ(a.space, kInit);  // no Handshake keys: a padded Initial
  EXPECT_EQ(a.probes, 1);
  EXPECT_EQ(rec->pto_count(), 2u);
  EXPECT_EQ(rec->loss_detection_timer(), 2'899'000u);  // now + 4 * 300000

  rec->on_handshake_keys_available(1'700'000);
  EXPECT_EQ(rec->loss_detection_timer(), 2'900'000u);
  a = rec->on_loss_detection_timeout(2'900'000);
  EXPECT_EQ(a.kind, Kind::kProbe);
  EXPECT_EQ(a.space, kHs);
  EXPECT_EQ(a.probes, 1);
  EXPECT_EQ(rec->pto_count(), 3u);

  // A Handshake ACK proves the server validated us: reset, and with
  // nothing in flight no timer at all.
  ASSERT_TRUE(send(kHs, 0, 3'000'000).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), 5'400'000u);  // 3000000 + 8 * 300000
  ASSERT_TRUE(ack1(kHs, 0, 3'100'000).is_ok());
  EXPECT_EQ(rec->pto_count(), 0u);
  EXPECT_EQ(rec->loss_detection_timer(), kNever);
}

TEST_F(RecoveryTest, ServerArmsNoAntiDeadlockTimer) {
  start(true);
  ASSERT_TRUE(send(kInit, 0, 0).is_ok());
  ASSERT_TRUE(ack1(kInit, 0, 100'000).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), kNever);
  EXPECT_EQ(rec->on_loss_detection_timeout(5'000'000).kind, Kind::kNone);
}

TEST_F(RecoveryTest, PtoPicksEarliestSpaceAndDiscardMovesOn) {
  start(false);
  rec->on_handshake_keys_available(0);
  ASSERT_TRUE(send(kInit, 0, 0).is_ok());
  ASSERT_TRUE(send(kHs, 0, 5'000).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), 999'000u);  // min(0, 5000) + 999000
  LossTimerAction a = rec->on_loss_detection_timeout(999'000);
  EXPECT_EQ(a.space, kInit);
  EXPECT_EQ(rec->loss_detection_timer(), 1'998'000u);
  // §6.4 / §A.11: discarding Initial keys resets the backoff.
  rec->discard_space(kInit, 999'000);
  EXPECT_EQ(rec->pto_count(), 0u);
  EXPECT_EQ(rec->loss_detection_timer(), 1'004'000u);
  a = rec->on_loss_detection_timeout(1'004'000);
  EXPECT_EQ(a.kind, Kind::kProbe);
  EXPECT_EQ(a.space, kHs);
}

// §6.2.1: no Application PTO before the handshake is confirmed.
TEST_F(RecoveryTest, NoApplicationPtoBeforeConfirmation) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), kNever);
  ASSERT_TRUE(send(kHs, 0, 100).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), 999'100u);  // Handshake only
  rec->on_handshake_confirmed(200);
  EXPECT_EQ(rec->loss_detection_timer(), 999'100u);  // Handshake still first
  rec->discard_space(kHs, 300);
  EXPECT_EQ(rec->loss_detection_timer(), 1'024'000u);  // 0 + 999000 + 25000
  EXPECT_EQ(rec->on_loss_detection_timeout(1'024'000).space, kApp);
}

// §6.2.1: max_ack_delay lengthens only the Application PTO, so an older
// Application packet can time out after a newer Handshake one.
TEST_F(RecoveryTest, MaxAckDelayOnlyInApplicationSpace) {
  start(true);
  rec->on_handshake_confirmed(0);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kHs, 0, 10'000).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), 1'009'000u);  // vs App 1024000
  EXPECT_EQ(rec->on_loss_detection_timeout(1'009'000).space, kHs);

  start(true);
  rec->on_handshake_confirmed(0);
  rec->set_peer_max_ack_delay(5'000);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kHs, 0, 10'000).is_ok());
  EXPECT_EQ(rec->loss_detection_timer(), 1'004'000u);  // vs Handshake 1009000
  EXPECT_EQ(rec->on_loss_detection_timeout(1'004'000).space, kApp);
}

TEST_F(RecoveryTest, AmplificationBlockedServerArmsNoTimer) {
  start(true);
  ASSERT_TRUE(send(kInit, 0, 0).is_ok());
  rec->set_amplification_blocked(true, 10);
  EXPECT_EQ(rec->loss_detection_timer(), kNever);
  rec->set_amplification_blocked(false, 20);
  EXPECT_EQ(rec->loss_detection_timer(), 999'000u);
}

// §7.6: first sample 100000 at t = 100000; pn 1-5 sent at 200000, 400000,
// 600000, 800000 and `t5`, pn 6 at 1250000 and acked at 1350000 (sample
// 100000: smoothed 100000, rttvar 37500). Duration = (100000 + 150000 +
// 25000) * 3 = 825000; loss_delay 112500 makes pn 1-5 lost.
struct PcCase {
  uint64_t t5;
  bool pn5_eliciting;
  bool ack_pn3;
};

class PersistentCongestionTest : public RecoveryTest {
 protected:
  void run(const PcCase& c) {
    start(true);
    ASSERT_TRUE(send(kApp, 0, 0).is_ok());
    ASSERT_TRUE(ack1(kApp, 0, 100'000).is_ok());
    const uint64_t times[] = {200'000, 400'000, 600'000, 800'000, c.t5};
    for (uint64_t pn = 1; pn <= 5; ++pn) {
      ASSERT_TRUE(send(kApp, pn, times[pn - 1], pn != 5 || c.pn5_eliciting).is_ok());
    }
    ASSERT_TRUE(send(kApp, 6, 1'250'000).is_ok());
    std::vector<Range> ranges{{6, 6}};
    if (c.ack_pn3) ranges.push_back({3, 3});
    ASSERT_TRUE(ack(kApp, ranges, 1'350'000).is_ok());
    EXPECT_EQ(rec->rtt().smoothed_rtt(), 100'000u);
    EXPECT_EQ(rec->rtt().rttvar(), 37'500u);
    EXPECT_EQ(rec->pto_period() * 3, 825'000u);
    EXPECT_EQ(fates.lost, c.ack_pn3 ? (Pns{1, 2, 4, 5}) : (Pns{1, 2, 3, 4, 5}));
    // One congestion event per ACK, for the newest lost packet.
    EXPECT_EQ(cc.events, (std::vector<CongestionEvent>{{1'350'000, c.t5, false}}));
  }
};

TEST_F(PersistentCongestionTest, Established) {
  run({1'200'000, true, false});
  EXPECT_EQ(cc.persistent, (std::vector<uint64_t>{1'350'000}));
  EXPECT_EQ(rec->rtt().min_rtt(), 0u);  // §5.2: restarts from the next sample
  EXPECT_EQ(rec->bytes_in_flight(), 0u);
}

TEST_F(PersistentCongestionTest, DurationMustBeExceeded) {
  run({1'025'001, true, false});  // span 825001
  EXPECT_EQ(cc.persistent.size(), 1u);
}

TEST_F(PersistentCongestionTest, DurationExactlyIsNotEnough) {
  run({1'025'000, true, false});  // span 825000
  EXPECT_TRUE(cc.persistent.empty());
  EXPECT_EQ(rec->rtt().min_rtt(), 100'000u);
}

TEST_F(PersistentCongestionTest, AckedPacketBetweenBreaksThePeriod) {
  run({1'200'000, true, true});  // runs 200000-400000 and 800000-1200000
  EXPECT_TRUE(cc.persistent.empty());
}

TEST_F(PersistentCongestionTest, EndpointsMustBeAckEliciting) {
  run({1'200'000, false, false});  // ack-eliciting span 200000-800000
  EXPECT_TRUE(cc.persistent.empty());
}

// §7.6.2: only packets sent after the first RTT sample count. pn 0-3 span
// 1200000 > (300000 + 25000) * 3 but precede the first sample.
TEST_F(RecoveryTest, PersistentCongestionIgnoresPacketsBeforeFirstSample) {
  start(true);
  const uint64_t times[] = {0, 400'000, 800'000, 1'200'000, 1'300'000};
  for (uint64_t pn = 0; pn < 5; ++pn) ASSERT_TRUE(send(kApp, pn, times[pn]).is_ok());
  ASSERT_TRUE(ack1(kApp, 4, 1'400'000).is_ok());
  EXPECT_EQ(fates.lost, (Pns{0, 1, 2, 3}));
  EXPECT_EQ(cc.events, (std::vector<CongestionEvent>{{1'400'000, 1'200'000, false}}));
  EXPECT_TRUE(cc.persistent.empty());
}

// Losses found by an ACK that yields no RTT sample (it acknowledges only
// ACK-only packets) cannot establish persistent congestion.
TEST_F(RecoveryTest, PersistentCongestionNeedsAnRttSample) {
  start(true);
  // 3999000 apart, more than the (999000 + 25000) * 3 of the initial RTT.
  ASSERT_TRUE(send(kApp, 0, 1'000).is_ok());
  ASSERT_TRUE(send(kApp, 1, 4'000'000).is_ok());
  for (uint64_t pn = 2; pn < 5; ++pn) ASSERT_TRUE(send(kApp, pn, 4'100'000, false, false).is_ok());
  ASSERT_TRUE(ack1(kApp, 4, 4'200'000).is_ok());
  EXPECT_FALSE(rec->rtt().has_sample());
  EXPECT_EQ(fates.lost, (Pns{0, 1}));
  EXPECT_EQ(cc.events.size(), 1u);
  EXPECT_TRUE(cc.persistent.empty());
}

// §7.6.2: "across all packet number spaces". Handshake pn 0-4 are lost
// over 200000-1200000; an Initial packet sent at 700000 is either left
// unacknowledged (persistent congestion) or acknowledged (not).
TEST_F(RecoveryTest, PersistentCongestionSeesAcksInOtherSpaces) {
  for (bool ack_initial : {false, true}) {
    start(true);
    fates = Fates();
    cc.persistent.clear();
    ASSERT_TRUE(send(kInit, 0, 0).is_ok());
    ASSERT_TRUE(ack1(kInit, 0, 100'000).is_ok());
    ASSERT_TRUE(send(kHs, 0, 200'000).is_ok());
    ASSERT_TRUE(send(kHs, 1, 400'000).is_ok());
    ASSERT_TRUE(send(kHs, 2, 600'000).is_ok());
    ASSERT_TRUE(send(kInit, 1, 700'000).is_ok());
    // With the Initial ACK (sample 50000): smoothed 93750, rttvar 50000,
    // then 94531 and 39062, so the duration is 3 * 275779 = 827337 and
    // each of the two runs spans 400000. Without it the duration is
    // 825000 and the run spans 1000000.
    if (ack_initial) {
      ASSERT_TRUE(ack1(kInit, 1, 750'000).is_ok());
    }
    ASSERT_TRUE(send(kHs, 3, 800'000).is_ok());
    ASSERT_TRUE(send(kHs, 4, 1'200'000).is_ok());
    ASSERT_TRUE(send(kHs, 5, 1'250'000).is_ok());
    ASSERT_TRUE(ack1(kHs, 5, 1'350'000).is_ok());
    EXPECT_EQ(rec->pto_period() * 3, ack_initial ? 827'337u : 825'000u);
    EXPECT_EQ(fates.lost, (Pns{0, 1, 2, 3, 4})) << ack_initial;
    EXPECT_EQ(cc.persistent.size(), ack_initial ? 0u : 1u) << ack_initial;
  }
}

// RFC 9000 §13.1.
TEST_F(RecoveryTest, AckOfUnsentPacketIsProtocolViolation) {
  start(true);
  for (uint64_t pn = 0; pn < 3; ++pn) ASSERT_TRUE(send(kApp, pn, pn).is_ok());
  EXPECT_EQ(ack1(kApp, 3, 100'000).code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(ack(kApp, {{5, 9}, {0, 2}}, 100'000).code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(ack1(kHs, 0, 100'000).code(), ErrorCode::kProtocolViolation);  // nothing sent there
  EXPECT_TRUE(fates.acked.empty());
  EXPECT_EQ(rec->bytes_in_flight(), 3'000u);
  EXPECT_EQ(rec->largest_acked(kApp), kNever);
  EXPECT_FALSE(rec->rtt().has_sample());
  EXPECT_TRUE(ack1(kApp, 2, 100'000).is_ok());
  EXPECT_EQ(rec->largest_acked(kApp), 2u);
}

// §5.1: a sample needs the largest acknowledged newly acknowledged...
TEST_F(RecoveryTest, NoSampleWhenLargestWasAckedBefore) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kApp, 1, 65'000).is_ok());
  ASSERT_TRUE(send(kApp, 2, 70'000).is_ok());
  ASSERT_TRUE(ack(kApp, {{2, 2}, {0, 0}}, 150'000).is_ok());
  EXPECT_EQ(rec->rtt().latest_rtt(), 80'000u);
  EXPECT_TRUE(fates.lost.empty());  // pn 1: 65000 + 90000 > 150000
  ASSERT_TRUE(ack(kApp, {{0, 2}}, 170'000).is_ok());
  EXPECT_EQ(fates.acked, (Pns{0, 2, 1}));
  EXPECT_EQ(rec->rtt().latest_rtt(), 80'000u);
  EXPECT_EQ(rec->rtt().smoothed_rtt(), 80'000u);
  ASSERT_EQ(cc.acks.size(), 2u);  // the controller still hears of the bytes
  EXPECT_EQ(cc.acks[1].bytes_acked, 1'000u);
  EXPECT_EQ(cc.acks[1].largest_acked_sent_time, 65'000u);
}

// ...and an ack-eliciting packet among the newly acknowledged.
TEST_F(RecoveryTest, NoSampleFromAckOnlyPackets) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0, false, false).is_ok());
  ASSERT_TRUE(ack1(kApp, 0, 50'000).is_ok());
  EXPECT_FALSE(rec->rtt().has_sample());
  EXPECT_TRUE(cc.acks.empty());  // no bytes in flight were acknowledged
  EXPECT_TRUE(fates.acked.empty());  // an ACK-only packet has no record
  EXPECT_EQ(rec->largest_acked(kApp), 0u);
  // The largest need not be ack-eliciting itself, nor recorded: pn 2
  // (ACK-only, sent at 30000) is the largest, pn 1 elicits.
  ASSERT_TRUE(send(kApp, 1, 20'000).is_ok());
  ASSERT_TRUE(send(kApp, 2, 30'000, false, false).is_ok());
  ASSERT_TRUE(ack(kApp, {{1, 2}}, 70'000).is_ok());
  EXPECT_EQ(rec->rtt().latest_rtt(), 40'000u);
  EXPECT_EQ(fates.acked, (Pns{1}));
  // Acknowledged again, pn 2 is no longer newly acknowledged: no sample.
  ASSERT_TRUE(send(kApp, 3, 80'000).is_ok());
  ASSERT_TRUE(ack(kApp, {{3, 3}, {1, 1}}, 100'000).is_ok());
  EXPECT_EQ(rec->rtt().latest_rtt(), 20'000u);
  ASSERT_TRUE(send(kApp, 4, 110'000).is_ok());
  ASSERT_TRUE(send(kApp, 5, 120'000, false, false).is_ok());
  ASSERT_TRUE(ack(kApp, {{2, 4}}, 200'000).is_ok());  // largest 4, recorded
  EXPECT_EQ(rec->rtt().latest_rtt(), 90'000u);
  ASSERT_TRUE(send(kApp, 6, 210'000).is_ok());
  ASSERT_TRUE(ack(kApp, {{6, 6}, {4, 4}}, 230'000).is_ok());
  EXPECT_EQ(rec->rtt().latest_rtt(), 20'000u);
  // pn 5 is acknowledged late, with pn 6 acked before: not newly largest.
  ASSERT_TRUE(ack(kApp, {{4, 6}}, 300'000).is_ok());
  EXPECT_EQ(rec->rtt().latest_rtt(), 20'000u);
}

// RFC 9002 §2, RFC 9000 §13.1: packets not in flight cost no record and no
// allocation, yet their numbers count as sent: the peer may acknowledge them.
TEST_F(RecoveryTest, AckOnlyPacketsAreNumberedButNotRecorded) {
  start(true, 4);
  for (uint64_t pn = 0; pn < 10; ++pn) ASSERT_TRUE(send(kApp, pn, pn * 1'000, false, false).is_ok());
  EXPECT_EQ(alloc.live, 0);
  EXPECT_EQ(rec->outstanding(), 0u);
  EXPECT_EQ(rec->bytes_in_flight(), 0u);
  EXPECT_TRUE(cc.sent.empty());
  EXPECT_TRUE(rec->can_send(false));
  // The numbers still increase.
  EXPECT_EQ(send(kApp, 9, 10'000, false, false).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(send(kApp, 9, 10'000).code(), ErrorCode::kInvalidArgument);
  // Acknowledging them is no PROTOCOL_VIOLATION; beyond them it is.
  EXPECT_TRUE(ack(kApp, {{7, 9}, {0, 3}}, 20'000).is_ok());
  EXPECT_EQ(rec->largest_acked(kApp), 9u);
  EXPECT_EQ(ack1(kApp, 10, 20'000).code(), ErrorCode::kProtocolViolation);
  EXPECT_TRUE(fates.acked.empty());
  EXPECT_TRUE(fates.lost.empty());
  // With the record bound reached by in-flight packets, ACK-only ones still go.
  for (uint64_t pn = 10; pn < 14; ++pn) ASSERT_TRUE(send(kApp, pn, 30'000).is_ok());
  EXPECT_EQ(send(kApp, 14, 30'000).code(), ErrorCode::kLimitExceeded);
  EXPECT_TRUE(send(kApp, 15, 30'000, false, false).is_ok());
  EXPECT_EQ(alloc.live, 4);
  // An ACK of in-flight and ACK-only packets together reports only records.
  ASSERT_TRUE(ack(kApp, {{10, 15}}, 60'000).is_ok());
  EXPECT_EQ(fates.acked, (Pns{10, 11, 12, 13}));
  EXPECT_EQ(rec->rtt().latest_rtt(), 30'000u);  // pn 15's send time
  EXPECT_EQ(alloc.live, 0);
}

// §5.3: the peer's ack delay is subtracted in Handshake and Application
// space (limited to max_ack_delay once confirmed), not for Initial.
TEST_F(RecoveryTest, AckDelayHandlingPerSpace) {
  struct {
    PnSpace space;
    bool confirmed;
    uint64_t smoothed;
  } cases[] = {
      {kInit, true, 106'250},  // delay ignored: (700000 + 150000) / 8
      {kHs, false, 101'250},   // adjusted 110000
      {kApp, false, 101'250},  // adjusted 110000
      {kApp, true, 103'125},   // delay capped at 25000: adjusted 125000
  };
  for (auto& c : cases) {
    start(true);
    if (c.confirmed) rec->on_handshake_confirmed(0);
    ASSERT_TRUE(send(c.space, 0, 0).is_ok());
    ASSERT_TRUE(ack1(c.space, 0, 100'000, 7'000).is_ok());  // first sample: delay unused
    EXPECT_EQ(rec->rtt().smoothed_rtt(), 100'000u);
    ASSERT_TRUE(send(c.space, 1, 200'000).is_ok());
    ASSERT_TRUE(ack1(c.space, 1, 350'000, 40'000).is_ok());
    EXPECT_EQ(rec->rtt().latest_rtt(), 150'000u);
    EXPECT_EQ(rec->rtt().smoothed_rtt(), c.smoothed) << static_cast<int>(c.space) << c.confirmed;
  }
}

// §7.1, §A.7 ProcessECN: a grown CE count is one congestion event, for the
// send time of the newest acknowledged packet.
TEST_F(RecoveryTest, EcnCeIncreaseIsCongestionEvent) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kApp, 1, 10'000).is_ok());
  EcnCounts ecn{2, 0, 1};
  ASSERT_TRUE(ack(kApp, {{0, 0}}, 50'000, 0, &ecn).is_ok());
  EXPECT_EQ(cc.events, (std::vector<CongestionEvent>{{50'000, 0, true}}));
  ecn = {3, 0, 1};  // unchanged CE count
  ASSERT_TRUE(ack(kApp, {{0, 1}}, 60'000, 0, &ecn).is_ok());
  EXPECT_EQ(cc.events.size(), 1u);
  ASSERT_TRUE(send(kApp, 2, 70'000).is_ok());
  ecn = {3, 0, 3};
  ASSERT_TRUE(ack(kApp, {{0, 2}}, 100'000, 0, &ecn).is_ok());
  EXPECT_EQ(cc.events, (std::vector<CongestionEvent>{{50'000, 0, true}, {100'000, 70'000, true}}));
  EXPECT_TRUE(fates.lost.empty());
  // CE counts are per space: the first Handshake CE mark is new.
  ASSERT_TRUE(send(kHs, 0, 110'000).is_ok());
  ecn = {0, 0, 1};
  ASSERT_TRUE(ack(kHs, {{0, 0}}, 120'000, 0, &ecn).is_ok());
  EXPECT_EQ(cc.events.size(), 3u);
}

// §6.4: discarded packets leave bytes_in_flight without being lost.
TEST_F(RecoveryTest, DiscardSpaceDropsRecordsWithoutLoss) {
  start(false);
  rec->on_handshake_keys_available(0);
  ASSERT_TRUE(send(kInit, 0, 0, true, true, 1'200).is_ok());
  ASSERT_TRUE(send(kInit, 1, 1'000, true, true, 1'200).is_ok());
  ASSERT_TRUE(send(kHs, 0, 2'000).is_ok());
  EXPECT_EQ(rec->bytes_in_flight(), 3'400u);
  EXPECT_EQ(rec->on_loss_detection_timeout(1'000'000).space, kInit);
  EXPECT_EQ(rec->pto_count(), 1u);
  rec->discard_space(kInit, 1'000'000);
  EXPECT_EQ(fates.discarded, (Pns{0, 1}));
  EXPECT_TRUE(fates.lost.empty());
  EXPECT_TRUE(cc.events.empty());
  EXPECT_EQ(rec->bytes_in_flight(), 1'000u);
  EXPECT_EQ(rec->outstanding(), 1u);
  EXPECT_EQ(alloc.live, 1);
  EXPECT_EQ(rec->pto_count(), 0u);
  EXPECT_EQ(rec->loss_detection_timer(), 1'001'000u);  // Handshake: 2000 + 999000
}

TEST_F(RecoveryTest, RecordCountIsBoundedWithProbeReserve) {
  start(true, 4);
  EXPECT_TRUE(rec->can_send(false));
  ASSERT_TRUE(send(kApp, 0, 0).is_ok());
  ASSERT_TRUE(send(kApp, 1, 0, false, true, 300).is_ok());  // PADDING only counts too
  EXPECT_FALSE(rec->can_send(false));
  EXPECT_TRUE(rec->can_send(true));
  ASSERT_TRUE(send(kApp, 2, 0).is_ok());
  ASSERT_TRUE(send(kApp, 3, 0).is_ok());
  EXPECT_FALSE(rec->can_send(true));
  EXPECT_EQ(send(kApp, 4, 0).code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(rec->outstanding(), 4u);
  EXPECT_EQ(alloc.live, 4);
  EXPECT_EQ(rec->bytes_in_flight(), 3'300u);
  // pn 0 is lost by the packet threshold; pn 1 is not (yet): only two
  // newer ones are acknowledged and it was sent just now.
  ASSERT_TRUE(ack(kApp, {{2, 3}}, 10'000).is_ok());
  EXPECT_EQ(fates.lost, (Pns{0}));
  EXPECT_EQ(rec->outstanding(), 1u);
  EXPECT_EQ(alloc.live, 1);
  EXPECT_TRUE(rec->can_send(false));
  EXPECT_TRUE(send(kApp, 4, 10'000).is_ok());
  EXPECT_FALSE(rec->can_send(false));
}

TEST_F(RecoveryTest, AllocatorRefusalIsNoMemory) {
  start(true);
  alloc.refuse = true;
  EXPECT_EQ(send(kApp, 0, 0).code(), ErrorCode::kNoMemory);
  EXPECT_EQ(rec->outstanding(), 0u);
  EXPECT_EQ(rec->bytes_in_flight(), 0u);
  EXPECT_TRUE(cc.sent.empty());
  alloc.refuse = false;
  EXPECT_TRUE(send(kApp, 0, 0).is_ok());  // the refused number was never sent
}

TEST_F(RecoveryTest, BadSendsAreInvalidArgument) {
  start(true);
  ASSERT_TRUE(send(kApp, 5, 0).is_ok());
  EXPECT_EQ(send(kApp, 5, 0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(send(kApp, 4, 0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(send(kApp, 6, 0, true, false).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(send(kHs, 0, 0).is_ok());  // numbering is per space
  EXPECT_EQ(rec->outstanding(), 2u);
}

TEST_F(RecoveryTest, OnlyInFlightPacketsReachControllerAndTimer) {
  start(true);
  ASSERT_TRUE(send(kApp, 0, 0, false, false).is_ok());  // ACK-only
  EXPECT_TRUE(cc.sent.empty());
  EXPECT_EQ(rec->bytes_in_flight(), 0u);
  EXPECT_EQ(rec->loss_detection_timer(), kNever);
  ASSERT_TRUE(send(kApp, 1, 5, false, true, 300).is_ok());  // PADDING only
  ASSERT_TRUE(send(kHs, 0, 7, true, true, 1'200).is_ok());
  EXPECT_EQ(cc.sent, (std::vector<FakeCc::Sent>{{5, 300, 300}, {7, 1'200, 1'500}}));
  EXPECT_EQ(rec->loss_detection_timer(), 999'007u);
}

TEST_F(RecoveryTest, ItemsComeBackWithTheirPacket) {
  start(true);
  SentPacket p;
  p.space = kApp;
  p.pn = 0;
  p.bytes = 1'000;
  p.ack_eliciting = p.in_flight = true;
  ASSERT_TRUE(p.items.push_back({1, 1, 500, 4, 12'000}));
  ASSERT_TRUE(p.items.push_back({7, 0, 0, 3, 0}));
  ASSERT_TRUE(rec->on_packet_sent(p).is_ok());
  p.pn = 1;
  p.items.clear();
  ASSERT_TRUE(p.items.push_back({2, 0, 9, 8, 7}));
  ASSERT_TRUE(rec->on_packet_sent(p).is_ok());
  for (uint64_t pn = 2; pn < 5; ++pn) ASSERT_TRUE(send(kApp, pn, 0).is_ok());
  ASSERT_TRUE(ack(kApp, {{1, 4}}, 1'000).is_ok());  // pn 0 lost by threshold
  EXPECT_EQ(fates.lost, (Pns{0}));
  ASSERT_EQ(fates.last.items.size(), 2u);
  EXPECT_EQ(fates.last.items[0], (SentItem{1, 1, 500, 4, 12'000}));
  EXPECT_EQ(fates.last.items[1], (SentItem{7, 0, 0, 3, 0}));
}

TEST_F(RecoveryTest, EveryRecordIsFreed) {
  start(true);
  for (uint64_t pn = 0; pn < 10; ++pn) ASSERT_TRUE(send(kApp, pn, pn * 10).is_ok());
  for (uint64_t pn = 0; pn < 3; ++pn) ASSERT_TRUE(send(kHs, pn, 200 + pn).is_ok());
  EXPECT_EQ(alloc.live, 13);
  ASSERT_TRUE(ack(kApp, {{0, 9}}, 1'000).is_ok());
  EXPECT_EQ(alloc.live, 3);
  EXPECT_EQ(rec->outstanding(), 3u);
  // The destructor frees the rest (checked in TearDown), silently.
  rec.reset();
  EXPECT_TRUE(fates.discarded.empty());
  EXPECT_EQ(alloc.live, 0);
}

}  // namespace
}  // namespace quicbed
