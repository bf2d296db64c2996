// CUBIC (RFC 9438) in integers, with HyStart++ (RFC 9406) in slow start.
#include "cc/cubic.h"

#include <gtest/gtest.h>

#include <vector>

#include "ack_clock.h"

namespace quicbed {
namespace {

constexpr uint64_t kMds = 1200;
constexpr uint64_t kMs = 1'000;
constexpr uint64_t kS = 1'000'000;

CcAck ack_of(uint64_t now, uint64_t bytes, uint64_t sent_time, bool app_limited = false) {
  CcAck a;
  a.now = now;
  a.bytes_acked = bytes;
  a.largest_acked_sent_time = sent_time;
  a.app_limited = app_limited;
  return a;
}

// Slow start (HyStart++ off) from the initial window up to `cwnd` bytes.
void grow_to(Cubic& cc, uint64_t cwnd) {
  RttEstimator rtt;
  while (cc.cwnd() < cwnd) cc.on_ack(ack_of(0, kMds, 0), rtt);
  ASSERT_EQ(cc.cwnd(), cwnd);
}

// K = cbrt((W_max - cwnd_epoch) / C) seconds with windows in segments
// (§4.2 Figure 2), here in bytes: cbrt((W_max - cwnd_epoch) / (C * mds)).
TEST(Cubic, KMatchesTheFormula) {
  // W_max = 100 segments of 1200 bytes, cwnd_epoch = 70 segments (beta 0.7):
  // cbrt(30 / 0.4) = cbrt(75) = 4.217163326... s.
  EXPECT_EQ(cubic_k_us(120'000, 84'000, 1200), 4'217'163u);
  // W_max = 10^9 bytes, cwnd_epoch = 7 * 10^8, mds 1500: 200000 segments
  // apart, cbrt(200000 / 0.4) = cbrt(500000) = 79.370052598... s. Here
  // (W_max - cwnd_epoch) * 10^18 / C needs 128 bits.
  EXPECT_EQ(cubic_k_us(1'000'000'000, 700'000'000, 1500), 79'370'052u);
  // One segment apart: cbrt(1 / 0.4) = cbrt(2.5) = 1.357208808... s.
  EXPECT_EQ(cubic_k_us(2'400, 1'200, 1200), 1'357'208u);
  EXPECT_EQ(cubic_k_us(84'000, 84'000, 1200), 0u);
  EXPECT_EQ(cubic_k_us(84'000, 90'000, 1200), 0u);
  // Capped below 2^32 us for absurd windows.
  EXPECT_EQ(cubic_k_us(kU64Max, 0, 1), kCubicMaxTimeUs);
}

// W_cubic(t) = C * (t - K)^3 + W_max (§4.2 Figure 1), C = 0.4 segments/s^3
// = 480 bytes/s^3 for 1200-byte datagrams. With K = 4.217163 s:
TEST(Cubic, WindowMatchesTheFormula) {
  const uint64_t k = 4'217'163;
  // t = 0: 120000 - 480 * 4.217163^3 = 120000 - 35999.9999 -> 84001 (the cube
  // term rounds toward zero, so the curve starts a byte above cwnd_epoch).
  EXPECT_EQ(cubic_window(120'000, k, 0, 1200), 84'001u);
  // t = 1 s: 120000 - 480 * 3.217163^3 = 120000 - 15983.08 = 104016.92.
  EXPECT_EQ(cubic_window(120'000, k, 1 * kS, 1200), 104'017u);
  // t = 2 s: 120000 - 480 * 2.217163^3 = 120000 - 5231.60 = 114768.40.
  EXPECT_EQ(cubic_window(120'000, k, 2 * kS, 1200), 114'769u);
  // t = K: the plateau, W_max.
  EXPECT_EQ(cubic_window(120'000, k, k, 1200), 120'000u);
  // t = 5 s: 120000 + 480 * 0.782837^3 = 120000 + 230.28.
  EXPECT_EQ(cubic_window(120'000, k, 5 * kS, 1200), 120'230u);
  // t = K + 1 s: + 480 * 1; t = K + 2 s: + 480 * 8.
  EXPECT_EQ(cubic_window(120'000, k, k + 1 * kS, 1200), 120'480u);
  EXPECT_EQ(cubic_window(120'000, k, k + 2 * kS, 1200), 123'840u);

  // Large windows: W_max = 10^9, K = 79.370052 s, mds 1500 (C = 600
  // bytes/s^3): K + 10 s gives W_max + 600 * 1000.
  EXPECT_EQ(cubic_window(1'000'000'000, 79'370'052, 79'370'052 + 10 * kS, 1500), 1'000'600'000u);
  // t = 2^32 - 1 us: t - K = 4215.597243 s, 10^9 + 600 * 4215.597243^3 =
  // 44950885087736.6 (t^3 alone is 7.9 * 10^28 us^3: 128-bit products).
  EXPECT_EQ(cubic_window(1'000'000'000, 79'370'052, kCubicMaxTimeUs, 1500), 44'950'885'087'736u);
  // |t - K| is capped at 2^32 - 1 us = 4294.967295 s: 10^9 + 600 *
  // 4294.967295^3 = 47537897475354.3.
  EXPECT_EQ(cubic_window(1'000'000'000, 79'370'052, uint64_t{1} << 50, 1500), 47'537'897'475'354u);
  // Far before K the window bottoms out at 0; near 2^64 it saturates.
  EXPECT_EQ(cubic_window(1'000, kCubicMaxTimeUs, 0, 1500), 0u);
  EXPECT_EQ(cubic_window(kU64Max - 10, 0, 10 * kS, 1500), kU64Max);
}

TEST(Cubic, InitialState) {
  Cubic cc(kMds);
  EXPECT_STREQ(cc.name(), "cubic");
  EXPECT_EQ(cc.cwnd(), 12'000u);
  EXPECT_EQ(cc.ssthresh(), kU64Max);
  EXPECT_EQ(cc.state(), CcState::kSlowStart);
  EXPECT_EQ(cc.hystart_phase(), HyStart::Phase::kSlowStart);
}

// §4.6: ssthresh = cwnd * 0.7, cwnd = ssthresh; W_max and cwnd_prior keep
// the window from before the reduction. The first ACK of the congestion
// avoidance stage fixes K and W_est = cwnd_epoch.
TEST(Cubic, MultiplicativeDecreaseByBeta) {
  Cubic cc(kMds);
  cc.set_hystart(false);
  grow_to(cc, 120'000);
  cc.on_congestion_event(1'000, 900, false);
  EXPECT_EQ(cc.cwnd(), 84'000u);
  EXPECT_EQ(cc.ssthresh(), 84'000u);
  EXPECT_EQ(cc.w_max(), 120'000u);
  EXPECT_EQ(cc.cwnd_prior(), 120'000u);
  EXPECT_EQ(cc.state(), CcState::kRecovery);
  // Once per recovery period (RFC 9002 §7.3.2).
  cc.on_congestion_event(1'100, 1'000, false);
  EXPECT_EQ(cc.cwnd(), 84'000u);
  // An ACK from before the period: nothing.
  RttEstimator rtt;
  rtt.on_sample(100 * kMs, 0, 0, false);
  cc.on_ack(ack_of(1'200, kMds, 1'000), rtt);
  EXPECT_EQ(cc.cwnd(), 84'000u);
  EXPECT_EQ(cc.state(), CcState::kRecovery);
  // The first ACK of a packet sent after it: congestion avoidance begins.
  cc.on_ack(ack_of(2'000, kMds, 1'001), rtt);
  EXPECT_EQ(cc.state(), CcState::kCongestionAvoidance);
  EXPECT_EQ(cc.k_us(), 4'217'163u);  // as in KMatchesTheFormula
  // W_est = 84000 + 9/17 * 1200 * 1200 / 84000 = 84009.07. At t = 0,
  // W_cubic = 84001 (WindowMatchesTheFormula) is below it: this ACK is in the
  // Reno-friendly region (§4.3), cwnd = W_est.
  EXPECT_EQ(cc.w_est(), 84'009u);
  EXPECT_EQ(cc.cwnd(), 84'009u);
  // 100 ms later: W_est = 84009 + 9/17 * 1200 * 1200 / 84009 = 84018.1, but
  // W_cubic(0.1 s) = 120000 - 480 * 4.117163^3 = 86501.6 is above it, so the
  // concave region (§4.4): target = W_cubic(t + RTT) = W_cubic(0.2 s) =
  // 120000 - 480 * 4.017163^3 = 88882.7 -> 88883 (cube term rounded toward
  // zero), cwnd += (88883 - 84009) * 1200 / 84009 = 69.6.
  cc.on_ack(ack_of(102'000, kMds, 1'002), rtt);
  EXPECT_EQ(cc.w_est(), 84'018u);
  EXPECT_EQ(cc.cwnd(), 84'078u);
}

TEST(Cubic, EcnCeReducesLikeLoss) {
  Cubic cc(kMds);
  cc.on_congestion_event(1'000, 900, true);
  EXPECT_EQ(cc.cwnd(), 8'400u);
  // Never below RFC 9002's minimum window.
  cc.on_congestion_event(2'000, 1'900, true);  // 5880
  cc.on_congestion_event(3'000, 2'900, true);  // 4116
  cc.on_congestion_event(4'000, 3'900, true);  // 2881
  cc.on_congestion_event(5'000, 4'900, true);  // 2016 -> 2400
  EXPECT_EQ(cc.cwnd(), 2'400u);
  EXPECT_EQ(cc.ssthresh(), 2'400u);
}

// §4.7: a congestion event below the previous W_max lowers W_max further,
// to cwnd * (1 + beta) / 2, to release bandwidth to new flows.
TEST(Cubic, FastConvergence) {
  for (bool fast : {true, false}) {
    Cubic cc(kMds);
    cc.set_hystart(false);
    cc.set_fast_convergence(fast);
    grow_to(cc, 120'000);
    cc.on_congestion_event(1'000, 900, false);  // W_max 120000, cwnd 84000
    cc.on_congestion_event(2'000, 1'500, false);  // a new period, cwnd 84000 < W_max
    EXPECT_EQ(cc.w_max(), fast ? 71'400u : 84'000u);  // 84000 * 0.85
    EXPECT_EQ(cc.cwnd(), 58'800u);                      // 84000 * 0.7 either way
    EXPECT_EQ(cc.cwnd_prior(), 84'000u);
  }
  // At or above W_max, W_max is simply the window before the reduction.
  // (A short RTT lets the Reno-friendly region carry cwnd past W_max fast.)
  Cubic cc(kMds);
  cc.set_hystart(false);
  test::AckClock net(cc, kMds, 1 * kMs);
  while (cc.cwnd() < 60'000) net.step();
  cc.on_congestion_event(net.now(), net.now(), false);  // W_max 60000, cwnd 42000
  while (cc.cwnd() < 61'000) net.step();
  const uint64_t above = cc.cwnd();
  cc.on_congestion_event(net.now(), net.now(), false);
  EXPECT_EQ(cc.w_max(), above);
  EXPECT_EQ(cc.cwnd(), above * 7 / 10);
}

// A run in the ack clock: slow start to 200 segments, one loss, then the
// cubic curve: concave up to W_max = 240000 bytes around t = K = cbrt(150)
// = 5.313 s, then convex.
TEST(Cubic, ConcaveThenConvexAroundWmax) {
  Cubic cc(kMds);
  cc.set_hystart(false);
  test::AckClock net(cc, kMds, 100 * kMs, 10'000'000);
  while (cc.cwnd() < 240'000) net.step();
  ASSERT_EQ(cc.cwnd(), 240'000u);
  cc.on_congestion_event(net.now(), net.now(), false);
  ASSERT_EQ(cc.cwnd(), 168'000u);
  while (cc.state() != CcState::kCongestionAvoidance) net.step();
  const uint64_t t_epoch = net.now();
  EXPECT_EQ(cc.k_us(), 5'313'292u);  // cbrt(72000 / 480) = cbrt(150) = 5.3132928 s
  EXPECT_EQ(cc.w_max(), 240'000u);

  // cwnd once per 100 ms for 9 s.
  std::vector<uint64_t> w;
  for (int i = 0; i <= 90; ++i) {
    net.run_until(t_epoch + i * 100 * kMs);
    w.push_back(cc.cwnd());
    // cwnd follows W_cubic one RTT ahead: between W_cubic(t) and W_cubic(t + 2 RTT).
    const uint64_t t = i * 100 * kMs;
    EXPECT_GE(cc.cwnd() + kMds, cubic_window(240'000, cc.k_us(), t, kMds)) << i;
    EXPECT_LE(cc.cwnd(), cubic_window(240'000, cc.k_us(), t + 200 * kMs, kMds) + kMds) << i;
  }
  auto growth = [&](int from, int to) { return w[to] - w[from]; };
  // Concave: the increase per second shrinks approaching the plateau...
  EXPECT_GT(growth(0, 10), growth(10, 20));
  EXPECT_GT(growth(10, 20), growth(20, 30));
  EXPECT_GT(growth(20, 30), growth(30, 40));
  // ...cwnd stays under W_max until about K - RTT...
  EXPECT_LT(w[50], 240'000u);
  EXPECT_GE(w[54], 240'000u);
  // ...and convex beyond: the increase per second grows again.
  EXPECT_LT(growth(55, 65), growth(65, 75));
  EXPECT_LT(growth(65, 75), growth(75, 85));
  // Outside the Reno-friendly region all along at this RTT.
  EXPECT_GT(cc.cwnd(), cc.w_est());
}

// §4.3: at short RTT Reno would grow faster than the cubic curve; cwnd then
// follows W_est (alpha_cubic = 9/17 segment per RTT, 1 once W_est reaches
// cwnd_prior). The same loss at a long RTT stays on the curve.
TEST(Cubic, RenoFriendlyRegionDominatesAtSmallRtt) {
  auto run = [](uint64_t rtt_us, uint64_t rounds, uint64_t* w_est, uint64_t* k) {
    Cubic cc(kMds);
    cc.set_hystart(false);
    test::AckClock net(cc, kMds, rtt_us);
    while (cc.cwnd() < 120'000) net.step();
    cc.on_congestion_event(net.now(), net.now(), false);  // W_max 120000, cwnd 84000
    while (cc.state() != CcState::kCongestionAvoidance) net.step();
    net.run_until(net.now() + rounds * rtt_us);
    *w_est = cc.w_est();
    *k = cc.k_us();
    return cc.cwnd();
  };
  uint64_t w_est = 0, k = 0;
  // 2 ms RTT, 40 rounds (80 ms): Reno adds about 40 * 9/17 * 1200 = 25412
  // bytes; W_cubic(80 ms) = 120000 - 480 * 4.137^3 is only 86013.
  uint64_t short_rtt = run(2 * kMs, 40, &w_est, &k);
  EXPECT_EQ(short_rtt, w_est);
  EXPECT_GT(short_rtt, 108'000u);
  EXPECT_LT(short_rtt, 111'000u);
  EXPECT_GT(short_rtt, cubic_window(120'000, k, 82 * kMs, kMds) + 20'000);
  // 100 ms RTT, 40 rounds (4 s): the curve is at 119980 while W_est is still
  // near 109000.
  uint64_t long_rtt = run(100 * kMs, 40, &w_est, &k);
  EXPECT_GT(long_rtt, w_est + 8'000);
  EXPECT_GT(long_rtt, 118'000u);
  EXPECT_LE(long_rtt, 120'000u + kMds);
}

// §5.8 and §4.2: no growth while application-limited, and that time is not
// part of t, so the curve resumes where it stopped.
TEST(Cubic, AppLimitedTimeIsNotCounted) {
  Cubic cc(kMds);
  cc.set_hystart(false);
  test::AckClock net(cc, kMds, 100 * kMs);
  while (cc.cwnd() < 120'000) net.step();
  cc.on_congestion_event(net.now(), net.now(), false);
  while (cc.state() != CcState::kCongestionAvoidance) net.step();
  const uint64_t start = net.now();
  net.run_until(start + 1 * kS);
  const uint64_t before = cc.cwnd();
  net.app_limited = true;
  net.run_until(start + 11 * kS);
  EXPECT_EQ(cc.cwnd(), before);
  net.app_limited = false;
  net.run_until(start + 12 * kS);
  // About two seconds of curve: at most W_cubic(2.1 s) = 120000 - 480 *
  // 2.117163^3 = 115445, far from W_cubic(12 s) = 120000 + 480 * 7.78^3 =
  // 346284.
  EXPECT_GT(cc.cwnd(), before);
  EXPECT_LT(cc.cwnd(), cubic_window(120'000, cc.k_us(), 2'100 * kMs, kMds) + kMds);
}

// RFC 9002 §7.6.2 with RFC 9438 §4.8: minimum window, ssthresh from beta;
// the next congestion avoidance stage has K = 0 and W_max = cwnd_epoch.
TEST(Cubic, PersistentCongestion) {
  Cubic cc(kMds);
  cc.set_hystart(false);
  grow_to(cc, 120'000);
  cc.on_congestion_event(1'000, 900, false);
  cc.on_persistent_congestion(1'000);
  EXPECT_EQ(cc.cwnd(), 2'400u);
  EXPECT_EQ(cc.ssthresh(), 84'000u);
  EXPECT_EQ(cc.state(), CcState::kSlowStart);
  RttEstimator rtt;
  rtt.on_sample(100 * kMs, 0, 0, false);
  while (cc.cwnd() < 84'000) cc.on_ack(ack_of(2'000, kMds, 1'500), rtt);
  EXPECT_EQ(cc.cwnd(), 84'000u);
  cc.on_ack(ack_of(3'000, kMds, 2'500), rtt);
  EXPECT_EQ(cc.state(), CcState::kCongestionAvoidance);
  EXPECT_EQ(cc.k_us(), 0u);
  EXPECT_EQ(cc.w_max(), 84'000u);
}

// HyStart++ in the ack clock: a 50 ms path with a 1.2 MB/s bottleneck (50
// segments in flight fill it). Slow start builds a queue, the RTT rises,
// CSS follows and then congestion avoidance, all without a loss (§4.10:
// W_max = cwnd_prior = cwnd at the exit, K = 0).
TEST(Cubic, HyStartLeavesSlowStartWithoutLoss) {
  Cubic cc(kMds);
  test::AckClock net(cc, kMds, 50 * kMs, 1'200'000);
  uint64_t css_cwnd = 0;
  uint64_t exit_cwnd = 0;
  while (net.now() < 10 * kS && exit_cwnd == 0) {
    net.step();
    if (css_cwnd == 0 && cc.hystart_phase() == HyStart::Phase::kConservative) css_cwnd = cc.cwnd();
    if (cc.hystart_phase() == HyStart::Phase::kDone) exit_cwnd = cc.cwnd();
  }
  ASSERT_NE(css_cwnd, 0u);
  ASSERT_NE(exit_cwnd, 0u);
  EXPECT_EQ(cc.ssthresh(), exit_cwnd);
  EXPECT_EQ(cc.cwnd_prior(), exit_cwnd);
  EXPECT_EQ(cc.state(), CcState::kCongestionAvoidance);
  // The delay increase was seen before four path BDPs (4 * 60000 bytes);
  // the queue is unbounded here, so nothing stops it sooner than a delay.
  EXPECT_GT(css_cwnd, 60'000u);
  EXPECT_LT(css_cwnd, 240'000u);
  // CSS grows a quarter of slow start's rate: at most 1.25x per round, over
  // the partial round it began in and CSS_ROUNDS more (1.25^6 = 3.81).
  EXPECT_GT(exit_cwnd, css_cwnd);
  EXPECT_LT(exit_cwnd, css_cwnd * 381 / 100);
  net.step();
  EXPECT_EQ(cc.k_us(), 0u);
  EXPECT_EQ(cc.w_max(), exit_cwnd);
}

// Window, ssthresh and pacing rate together through slow start, a loss,
// congestion avoidance and persistent congestion on a 100 ms path: the
// pacer sees 1.25 * cwnd / srtt (RFC 9002 §7.7) at every stage.
TEST(Cubic, WindowSsthreshAndPacingThroughEachStage) {
  using test::CcSnapshot;
  Cubic cc(kMds);
  cc.set_hystart(false);
  test::AckClock net(cc, kMds, 100 * kMs);
  net.run_until(200 * kMs);
  ASSERT_EQ(net.rtt().smoothed_rtt(), 100 * kMs);
  const CcSnapshot slow_start{48'000, kU64Max, 600'000};  // 48000 * 1.25 / 0.1 s
  EXPECT_EQ(test::snapshot(cc, net.rtt()), slow_start);
  // §4.6: beta_cubic = 0.7 for window and threshold alike.
  cc.on_congestion_event(net.now(), net.last_sent(), false);
  const CcSnapshot reduced{33'600, 33'600, 420'000};
  EXPECT_EQ(test::snapshot(cc, net.rtt()), reduced);
  while (cc.state() == CcState::kRecovery) net.step();
  net.run_until(net.now() + 1 * kS);
  ASSERT_EQ(cc.state(), CcState::kCongestionAvoidance);
  // Concave growth back towards W_max = 48000 (K = 3.2 s, so well below).
  const CcSnapshot now = test::snapshot(cc, net.rtt());
  EXPECT_GT(now.cwnd, 33'600u + kMds);
  EXPECT_LT(now.cwnd, 48'000u);
  EXPECT_EQ(now.ssthresh, 33'600u);
  EXPECT_EQ(now.pacing_rate, now.cwnd * 125 / 10);
  cc.on_persistent_congestion(net.now());
  EXPECT_EQ(test::snapshot(cc, net.rtt()), (CcSnapshot{2'400, 33'600, 30'000}));
  EXPECT_EQ(cc.state(), CcState::kSlowStart);
}

TEST(Cubic, PacingRateFollowsWindow) {
  Cubic cc(kMds);
  RttEstimator rtt;
  rtt.on_sample(20 * kMs, 0, 0, false);
  EXPECT_EQ(cc.pacing_rate(rtt), 750'000u);  // 12000 * 1.25 / 0.02
}

}  // namespace
}  // namespace quicbed
