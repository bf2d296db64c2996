// NewReno (RFC 9002 §7, Appendix B), the helpers the loss-based controllers
// share, and CcHolder.
#include <gtest/gtest.h>

#include "ack_clock.h"
#include "cc/cc_holder.h"
#include "cc/newreno.h"
#include "cc/window.h"

namespace quicbed {
namespace {

constexpr uint64_t kMds = 1200;

CcAck ack_of(uint64_t now, uint64_t bytes, uint64_t sent_time, bool app_limited = false) {
  CcAck a;
  a.now = now;
  a.bytes_acked = bytes;
  a.largest_acked_sent_time = sent_time;
  a.app_limited = app_limited;
  return a;
}

// Acknowledges `bytes` in datagram-sized ACKs, all for packets sent at `sent_time`.
void ack_bytes(CongestionController& cc, uint64_t now, uint64_t bytes, uint64_t sent_time, uint64_t per_ack = kMds) {
  RttEstimator rtt;
  for (uint64_t done = 0; done < bytes; done += per_ack) cc.on_ack(ack_of(now, per_ack, sent_time), rtt);
}

// RFC 9002 §7.2 with DPLPMTUD: when the datagram size changes, the window
// keeps what it learned, stays at least the new minimum window, and grows
// and shrinks in the new size from then on; both controllers.
TEST(CcWindow, MaxDatagramSizeChangeFollowsInBothControllers) {
  for (CcAlgorithm a : {CcAlgorithm::kNewReno, CcAlgorithm::kCubic}) {
    CcHolder h(a, kMds);
    CongestionController& cc = h.get();
    EXPECT_EQ(cc.max_datagram_size(), kMds);
    const uint64_t before = cc.cwnd();
    cc.set_max_datagram_size(1452);
    EXPECT_EQ(cc.max_datagram_size(), 1452u);
    EXPECT_EQ(cc.cwnd(), before);
    cc.on_congestion_event(1'000, 900, false);
    cc.on_persistent_congestion(1'000);
    EXPECT_EQ(cc.cwnd(), minimum_window(1452));
    // Back to the base (a black hole): the window is never below its minimum.
    cc.set_max_datagram_size(1200);
    EXPECT_EQ(cc.cwnd(), minimum_window(1452));
    cc.on_persistent_congestion(2'000);
    EXPECT_EQ(cc.cwnd(), minimum_window(1200));
    cc.set_max_datagram_size(9000);
    EXPECT_EQ(cc.cwnd(), minimum_window(9000));
  }
}

// BBR keeps its model in bytes; its window minimum (4 datagrams) follows.
TEST(CcWindow, MaxDatagramSizeChangeInBbr) {
  CcHolder h(CcAlgorithm::kBbr, kMds);
  CongestionController& cc = h.get();
  cc.on_persistent_congestion(1'000);
  EXPECT_EQ(cc.cwnd(), minimum_window(kMds));
  cc.set_max_datagram_size(1452);
  EXPECT_EQ(cc.max_datagram_size(), 1452u);
  EXPECT_EQ(cc.cwnd(), 4u * 1452);
}

// RFC 9002 §7.2: min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)).
TEST(CcWindow, InitialAndMinimumWindow) {
  EXPECT_EQ(initial_window(1200), 12'000u);  // 10 * 1200
  EXPECT_EQ(initial_window(1000), 10'000u);  // 10 * 1000
  EXPECT_EQ(initial_window(1472), 14'720u);  // 10 * 1472 = 14720 exactly
  EXPECT_EQ(initial_window(1500), 14'720u);  // 15000 capped by 14720
  EXPECT_EQ(initial_window(9000), 18'000u);  // 2 * 9000 above 14720, below 90000
  EXPECT_EQ(minimum_window(1200), 2'400u);
  EXPECT_EQ(minimum_window(1500), 3'000u);
}

// ConnectionConfig::initial_window_packets: N datagrams, the byte cap of
// §7.2 scaled from ten datagrams of 1472 bytes to N.
TEST(CcWindow, InitialWindowOfOtherSizes) {
  EXPECT_EQ(initial_window(1200, 32), 38'400u);                  // 32 * 1200
  EXPECT_EQ(initial_window(1500, 32), 47'104u);                  // 48000 capped by 32 * 1472
  EXPECT_EQ(initial_window(9000, 4), 18'000u);                   // 2 * 9000 above 4 * 1472
  EXPECT_EQ(initial_window(1200, kMinInitialWindowPackets), minimum_window(1200));
  EXPECT_EQ(initial_window(1452, kDefaultInitialWindowPackets), initial_window(1452));
  // Every controller starts there, and a path reset (RFC 9000 §9.4) goes
  // back there, not to ten datagrams.
  for (CcAlgorithm a : {CcAlgorithm::kNewReno, CcAlgorithm::kCubic, CcAlgorithm::kBbr}) {
    CcHolder h(a, kMds, 32);
    EXPECT_EQ(h->cwnd(), 38'400u) << h->name();
    h->on_persistent_congestion(1'000);
    EXPECT_EQ(h->cwnd(), minimum_window(kMds)) << h->name();
    h.reset(kMds);
    EXPECT_EQ(h->cwnd(), 38'400u) << h->name();
  }
  EXPECT_EQ(CcHolder(CcAlgorithm::kCubic, kMds, kMaxInitialWindowPackets)->cwnd(), 1'200'000u);
}

// The recovery every controller reports (what ns-3 calls CongState): a
// loss's period or an ECN-CE count's until a packet sent after its start
// is acknowledged; after persistent congestion, the collapse until a
// packet sent after it is.
TEST(CcRecoveryState, LossEcnAndCollapseInTheLossBasedControllers) {
  for (CcAlgorithm a : {CcAlgorithm::kNewReno, CcAlgorithm::kCubic}) {
    CcHolder h(a, kMds);
    CongestionController& cc = h.get();
    RttEstimator rtt;
    EXPECT_EQ(cc.recovery(), CcRecovery::kNone);
    cc.on_congestion_event(1'000, 900, false);
    EXPECT_EQ(cc.recovery(), CcRecovery::kLoss) << cc.name();
    cc.on_ack(ack_of(1'100, kMds, 1'000), rtt);  // sent at the start: still in it
    EXPECT_EQ(cc.recovery(), CcRecovery::kLoss) << cc.name();
    cc.on_ack(ack_of(1'200, kMds, 1'001), rtt);
    EXPECT_EQ(cc.recovery(), CcRecovery::kNone) << cc.name();
    cc.on_congestion_event(2'000, 1'500, true);
    EXPECT_EQ(cc.recovery(), CcRecovery::kEcn) << cc.name();
    EXPECT_EQ(cc.state(), CcState::kRecovery);
    cc.on_ack(ack_of(2'100, kMds, 2'001), rtt);
    EXPECT_EQ(cc.recovery(), CcRecovery::kNone) << cc.name();
    // RFC 9002 B.8: a congestion event, then persistent congestion.
    cc.on_congestion_event(3'000, 2'500, false);
    cc.on_persistent_congestion(3'000);
    EXPECT_EQ(cc.recovery(), CcRecovery::kPersistentCongestion) << cc.name();
    EXPECT_NE(cc.state(), CcState::kRecovery);
    cc.on_ack(ack_of(3'100, kMds, 2'900), rtt);
    EXPECT_EQ(cc.recovery(), CcRecovery::kPersistentCongestion) << cc.name();
    cc.on_ack(ack_of(3'200, kMds, 3'050), rtt);
    EXPECT_EQ(cc.recovery(), CcRecovery::kNone) << cc.name();
    // A loss after the collapse starts a period of its own (B.8).
    cc.on_congestion_event(4'000, 2'950, false);
    cc.on_persistent_congestion(4'000);
    cc.on_congestion_event(4'100, 4'050, false);
    EXPECT_EQ(cc.recovery(), CcRecovery::kLoss) << cc.name();
  }
}

// BBR's modes are not recovery states; its loss recovery (§5.6.4.4) is
// reported like the others'. ECN-CE cuts no window there: no recovery.
TEST(CcRecoveryState, BbrReportsLossRecoveryNotItsModes) {
  CcHolder h(CcAlgorithm::kBbr, kMds);
  CongestionController& cc = h.get();
  RttEstimator rtt;
  EXPECT_EQ(cc.state(), CcState::kBbrStartup);
  EXPECT_EQ(cc.recovery(), CcRecovery::kNone);
  cc.on_congestion_event(1'000, 900, true);
  EXPECT_EQ(cc.recovery(), CcRecovery::kNone);
  cc.on_congestion_event(1'000, 900, false);
  EXPECT_EQ(cc.recovery(), CcRecovery::kLoss);
  EXPECT_EQ(cc.state(), CcState::kBbrStartup);
  cc.on_ack(ack_of(1'200, kMds, 1'001), rtt);
  EXPECT_EQ(cc.recovery(), CcRecovery::kNone);
  cc.on_persistent_congestion(2'000);
  EXPECT_EQ(cc.recovery(), CcRecovery::kPersistentCongestion);
  cc.on_ack(ack_of(2'200, kMds, 2'001), rtt);
  EXPECT_EQ(cc.recovery(), CcRecovery::kNone);
}

// RFC 9002 §7.7 with N = 1.25.
TEST(CcWindow, PacingRate) {
  RttEstimator rtt;
  // No sample: smoothed_rtt = 333 ms; 12000 * 1.25 / 0.333 = 45045.04.
  EXPECT_EQ(window_pacing_rate(12'000, rtt), 45'045u);
  rtt.on_sample(100'000, 0, 0, false);
  EXPECT_EQ(window_pacing_rate(12'000, rtt), 150'000u);  // 12000 * 1.25 / 0.1
  rtt.reset();
  rtt.on_sample(0, 0, 0, false);  // smoothed_rtt 0: unpaced
  EXPECT_EQ(window_pacing_rate(12'000, rtt), kU64Max);
}

// Many small steps add up to exactly what one big step would.
TEST(CcWindow, GrowthCarryIsExact) {
  GrowthCarry g;
  uint64_t sum = 0;
  for (int i = 0; i < 132; ++i) sum += g.step(1200, 100, 13'200);  // 1200 * 100 / 13200 = 9.09 each
  EXPECT_EQ(sum, 1200u);
  g.reset();
  sum = 0;
  for (int i = 0; i < 3; ++i) sum += g.step(1, 1, 3);
  EXPECT_EQ(sum, 1u);
  // A denominator that shrinks under the carry reduces it modulo the new one.
  g.reset();
  EXPECT_EQ(g.step(2, 1, 3), 0u);  // 2/3: carry 2
  EXPECT_EQ(g.step(1, 1, 2), 0u);  // carry 2 mod 2 = 0, plus 1/2: carry 1
  EXPECT_EQ(g.step(1, 1, 2), 1u);  // carry 1 plus 1/2 = 1
  EXPECT_EQ(g.step(5, 5, 0), 0u);  // no window, no growth
}

TEST(NewReno, InitialState) {
  NewReno cc(kMds);
  EXPECT_STREQ(cc.name(), "newreno");
  EXPECT_EQ(cc.cwnd(), 12'000u);
  EXPECT_EQ(cc.ssthresh(), kU64Max);
  EXPECT_EQ(cc.state(), CcState::kSlowStart);
}

// §7.3.1: each RTT's worth of ACKs doubles the window.
TEST(NewReno, SlowStartDoublesPerRoundTrip) {
  NewReno cc(kMds);
  test::AckClock net(cc, kMds, 100'000);
  net.run_until(100'000);
  EXPECT_EQ(cc.cwnd(), 24'000u);
  EXPECT_EQ(net.acks(), 10u);
  net.run_until(200'000);
  EXPECT_EQ(cc.cwnd(), 48'000u);
  net.run_until(300'000);
  EXPECT_EQ(cc.cwnd(), 96'000u);
  EXPECT_EQ(net.acks(), 10u + 20u + 40u);
  EXPECT_EQ(cc.state(), CcState::kSlowStart);
}

// B.6: ssthresh = cwnd / 2, cwnd = max(ssthresh, kMinimumWindow).
TEST(NewReno, LossHalvesWindow) {
  NewReno cc(kMds);
  ack_bytes(cc, 10, 12'000, 0);
  ASSERT_EQ(cc.cwnd(), 24'000u);
  cc.on_congestion_event(1'000, 500, false);
  EXPECT_EQ(cc.cwnd(), 12'000u);
  EXPECT_EQ(cc.ssthresh(), 12'000u);
  EXPECT_EQ(cc.state(), CcState::kRecovery);
}

TEST(NewReno, LossNeverGoesBelowMinimumWindow) {
  NewReno cc(kMds);
  uint64_t t = 0;
  for (int i = 0; i < 5; ++i) {
    t += 1'000;
    cc.on_congestion_event(t, t, false);  // each packet sent at the previous start: a new period
  }
  // 12000 -> 6000 -> 3000 -> 2400 (ssthresh 1500) -> 2400 (ssthresh 1200) -> 2400 (ssthresh 1200).
  EXPECT_EQ(cc.cwnd(), 2'400u);
  EXPECT_EQ(cc.ssthresh(), 1'200u);
}

TEST(NewReno, EcnCeReducesLikeLoss) {
  NewReno cc(kMds);
  cc.on_congestion_event(1'000, 900, true);
  EXPECT_EQ(cc.cwnd(), 6'000u);
  EXPECT_EQ(cc.ssthresh(), 6'000u);
}

// §7.3.2 / B.5 / B.6: events for packets sent before the recovery period
// began neither reduce again nor grow the window; the period ends when a
// packet sent after its start is acknowledged.
TEST(NewReno, OneReductionPerRecoveryPeriod) {
  NewReno cc(kMds);
  ack_bytes(cc, 10, 12'000, 0);  // cwnd 24000
  cc.on_congestion_event(1'000, 900, false);
  ASSERT_EQ(cc.cwnd(), 12'000u);
  cc.on_congestion_event(1'100, 999, false);  // sent before the start
  cc.on_congestion_event(1'200, 1'000, false);  // sent at the start: still covered
  cc.on_congestion_event(1'300, 1'000, true);
  EXPECT_EQ(cc.cwnd(), 12'000u);
  EXPECT_EQ(cc.ssthresh(), 12'000u);

  ack_bytes(cc, 1'400, 12'000, 1'000);  // ACKs of packets from before the period
  EXPECT_EQ(cc.cwnd(), 12'000u);
  EXPECT_EQ(cc.state(), CcState::kRecovery);

  cc.on_ack(ack_of(1'500, 1'200, 1'001), RttEstimator());  // first packet sent after the start
  EXPECT_EQ(cc.state(), CcState::kCongestionAvoidance);
  EXPECT_EQ(cc.cwnd(), 12'000u + 120u);  // 1200 * 1200 / 12000

  cc.on_congestion_event(1'600, 1'001, false);  // a new period
  EXPECT_EQ(cc.cwnd(), 6'060u);
  EXPECT_EQ(cc.state(), CcState::kRecovery);
}

// §7.3.3 / B.5: cwnd += max_datagram_size * acked / cwnd per ACK, so one
// window of ACKs adds a little under one datagram (the window grows along
// the way). Integer remainders are carried, so the result matches the
// real-valued formula to the byte however the window is cut into ACKs.
TEST(NewReno, CongestionAvoidanceByteCounting) {
  for (uint64_t per_ack : {uint64_t{1200}, uint64_t{10}}) {
    NewReno cc(kMds);
    ack_bytes(cc, 10, 12'000, 0);               // 24000
    cc.on_congestion_event(1'000, 900, false);  // 12000, ssthresh 12000
    ASSERT_EQ(cc.cwnd(), 12'000u);
    cc.on_ack(ack_of(2'000, per_ack, 1'500), RttEstimator());
    // 1200 * 1200 / 12000 = 120; 1200 * 10 / 12000 = 1.
    EXPECT_EQ(cc.cwnd(), 12'000u + per_ack / 10);
    ack_bytes(cc, 2'000, 12'000 - per_ack, 1'500, per_ack);
    // Real-valued: c += 1200 * 1200 / c ten times from 12000 gives 13150.38;
    // c += 1200 * 10 / c 1200 times gives 13145.38. Without the carry, every
    // 10-byte ACK after the first would add 0 (12000 / 12001 < 1).
    EXPECT_EQ(cc.cwnd(), per_ack == 1200 ? 13'150u : 13'145u) << per_ack;
    EXPECT_LE(cc.cwnd(), 12'000u + kMds);  // never more than one datagram per window
    EXPECT_EQ(cc.state(), CcState::kCongestionAvoidance);
  }
}

// §7.6.2 / B.8: the window collapses to kMinimumWindow and the recovery
// period is forgotten; slow start resumes up to the ssthresh the loss set.
TEST(NewReno, PersistentCongestionCollapsesToMinimumWindow) {
  NewReno cc(kMds);
  ack_bytes(cc, 10, 12'000, 0);  // 24000
  cc.on_congestion_event(1'000, 900, false);
  cc.on_persistent_congestion(1'000);
  EXPECT_EQ(cc.cwnd(), 2'400u);
  EXPECT_EQ(cc.ssthresh(), 12'000u);
  EXPECT_EQ(cc.state(), CcState::kSlowStart);
  // No recovery period any more: an ACK of an old packet grows the window.
  cc.on_ack(ack_of(1'100, 1'200, 900), RttEstimator());
  EXPECT_EQ(cc.cwnd(), 3'600u);
  // And a loss of an old packet reduces again.
  cc.on_congestion_event(1'200, 800, false);
  EXPECT_EQ(cc.cwnd(), 2'400u);
  EXPECT_EQ(cc.ssthresh(), 1'800u);
}

// §7.8: no increase, in slow start or congestion avoidance, while the
// sender is application-limited.
TEST(NewReno, AppLimitedDoesNotGrow) {
  NewReno cc(kMds);
  RttEstimator rtt;
  for (int i = 0; i < 10; ++i) cc.on_ack(ack_of(10, kMds, 0, true), rtt);
  EXPECT_EQ(cc.cwnd(), 12'000u);
  cc.on_congestion_event(1'000, 900, false);  // 6000, congestion avoidance
  for (int i = 0; i < 20; ++i) cc.on_ack(ack_of(2'000, kMds, 1'500, true), rtt);
  EXPECT_EQ(cc.cwnd(), 6'000u);
  cc.on_ack(ack_of(2'000, kMds, 1'500, false), rtt);
  EXPECT_EQ(cc.cwnd(), 6'240u);  // 6000 + 1200 * 1200 / 6000
}

TEST(NewReno, PacingRateFollowsWindow) {
  NewReno cc(kMds);
  RttEstimator rtt;
  rtt.on_sample(50'000, 0, 0, false);
  EXPECT_EQ(cc.pacing_rate(rtt), 300'000u);  // 12000 * 1.25 / 0.05
}

// Window, ssthresh and pacing rate together at each stage of a run over a
// 100 ms path: the pacer sees 1.25 * cwnd / srtt (§7.7) whatever changed it.
TEST(NewReno, WindowSsthreshAndPacingThroughEachStage) {
  using test::CcSnapshot;
  NewReno cc(kMds);
  test::AckClock net(cc, kMds, 100'000);
  net.run_until(200'000);
  ASSERT_EQ(net.rtt().smoothed_rtt(), 100'000u);
  // Two round trips of slow start; 48000 * 1.25 / 0.1 s.
  EXPECT_EQ(test::snapshot(cc, net.rtt()), (CcSnapshot{48'000, kU64Max, 600'000}));
  // A loss halves the window, and the rate with it.
  cc.on_congestion_event(net.now(), net.last_sent(), false);
  EXPECT_EQ(test::snapshot(cc, net.rtt()), (CcSnapshot{24'000, 24'000, 300'000}));
  // Recovery ends with the first ACK of a packet sent after the loss; the
  // window then grows about one datagram per round trip.
  while (cc.state() == CcState::kRecovery) net.step();
  const uint64_t ca_start = cc.cwnd();
  net.run_until(net.now() + 300'000);
  EXPECT_EQ(cc.state(), CcState::kCongestionAvoidance);
  EXPECT_GT(cc.cwnd(), ca_start + 2 * kMds);
  EXPECT_LE(cc.cwnd(), ca_start + 4 * kMds);
  EXPECT_EQ(test::snapshot(cc, net.rtt()), (CcSnapshot{cc.cwnd(), 24'000, cc.cwnd() * 125 / 10}));
  // Persistent congestion: the minimum window, ssthresh from the loss.
  cc.on_persistent_congestion(net.now());
  EXPECT_EQ(test::snapshot(cc, net.rtt()), (CcSnapshot{2'400, 24'000, 30'000}));
}

TEST(CcHolder, BuildsEachAlgorithmInPlace) {
  CcHolder reno(CcAlgorithm::kNewReno, kMds);
  EXPECT_EQ(reno.algorithm(), CcAlgorithm::kNewReno);
  EXPECT_STREQ(reno->name(), "newreno");
  EXPECT_EQ(reno.cubic(), nullptr);
  reno->on_congestion_event(1'000, 900, false);
  EXPECT_EQ(reno.get().cwnd(), 6'000u);  // halved

  CcHolder cubic(CcAlgorithm::kCubic, 1500);
  EXPECT_EQ(cubic.algorithm(), CcAlgorithm::kCubic);
  EXPECT_STREQ(cubic->name(), "cubic");
  ASSERT_NE(cubic.cubic(), nullptr);
  EXPECT_EQ(cubic->cwnd(), 14'720u);
  cubic->on_congestion_event(1'000, 900, false);
  EXPECT_EQ(cubic->cwnd(), 10'304u);  // 14720 * 0.7
  EXPECT_EQ(cubic.cubic()->w_max(), 14'720u);
  // The holder's storage is in the object itself.
  const auto* base = reinterpret_cast<const unsigned char*>(&cubic);
  const auto* cc = reinterpret_cast<const unsigned char*>(&cubic.get());
  EXPECT_GE(cc, base);
  EXPECT_LT(cc, base + sizeof(CcHolder));
}

}  // namespace
}  // namespace quicbed
