// RFC 9002 §5 RTT estimation, with hand-computed microsecond values.
#include "rtt.h"

#include <gtest/gtest.h>

namespace quicbed {
namespace {

TEST(Rtt, InitialValuesBeforeAnySample) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  // §6.2.2: kInitialRtt 333 ms, rttvar = kInitialRtt / 2.
  EXPECT_EQ(rtt.smoothed_rtt(), 333'000u);
  EXPECT_EQ(rtt.rttvar(), 166'500u);
  EXPECT_EQ(rtt.min_rtt(), 0u);
  EXPECT_EQ(rtt.latest_rtt(), 0u);
  // 333000 + 4 * 166500.
  EXPECT_EQ(rtt.pto_base(), 999'000u);
}

TEST(Rtt, FirstSampleIgnoresAckDelay) {
  RttEstimator rtt;
  rtt.on_sample(100'000, 20'000, 25'000, true);
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.latest_rtt(), 100'000u);
  EXPECT_EQ(rtt.smoothed_rtt(), 100'000u);
  EXPECT_EQ(rtt.rttvar(), 50'000u);
  EXPECT_EQ(rtt.min_rtt(), 100'000u);
  EXPECT_EQ(rtt.pto_base(), 300'000u);
}

TEST(Rtt, AckDelaySubtractedFromLaterSamples) {
  RttEstimator rtt;
  rtt.on_sample(100'000, 0, 25'000, true);
  // adjusted = 120000 - 10000 = 110000 (>= min_rtt + ack_delay).
  rtt.on_sample(120'000, 10'000, 25'000, true);
  EXPECT_EQ(rtt.rttvar(), 40'000u);           // (3 * 50000 + 10000) / 4
  EXPECT_EQ(rtt.smoothed_rtt(), 101'250u);    // (7 * 100000 + 110000) / 8
  EXPECT_EQ(rtt.latest_rtt(), 120'000u);
  EXPECT_EQ(rtt.min_rtt(), 100'000u);
}

TEST(Rtt, AckDelayCappedByMaxAckDelayOnlyAfterConfirmation) {
  // Before confirmation the full 40 ms delay is subtracted: adjusted 110000.
  RttEstimator before;
  before.on_sample(100'000, 0, 25'000, false);
  before.on_sample(150'000, 40'000, 25'000, false);
  EXPECT_EQ(before.smoothed_rtt(), 101'250u);  // (700000 + 110000) / 8
  EXPECT_EQ(before.rttvar(), 40'000u);         // (150000 + 10000) / 4

  // After confirmation it is limited to max_ack_delay: adjusted 125000.
  RttEstimator after;
  after.on_sample(100'000, 0, 25'000, true);
  after.on_sample(150'000, 40'000, 25'000, true);
  EXPECT_EQ(after.smoothed_rtt(), 103'125u);  // (700000 + 125000) / 8
  EXPECT_EQ(after.rttvar(), 43'750u);         // (150000 + 25000) / 4
}

TEST(Rtt, AckDelayNotSubtractedBelowMinRtt) {
  RttEstimator rtt;
  rtt.on_sample(100'000, 0, 25'000, true);
  // 105000 < min_rtt 100000 + delay 10000: the sample is used as is.
  rtt.on_sample(105'000, 10'000, 25'000, true);
  EXPECT_EQ(rtt.smoothed_rtt(), 100'625u);  // (700000 + 105000) / 8
  EXPECT_EQ(rtt.rttvar(), 38'750u);         // (150000 + 5000) / 4
}

TEST(Rtt, MinRttIgnoresAckDelayAndCanBeReset) {
  RttEstimator rtt;
  rtt.on_sample(100'000, 0, 25'000, true);
  rtt.on_sample(80'000, 30'000, 25'000, true);
  EXPECT_EQ(rtt.min_rtt(), 80'000u);
  rtt.on_sample(90'000, 0, 25'000, true);
  EXPECT_EQ(rtt.min_rtt(), 80'000u);
  // §5.2: after persistent congestion min_rtt restarts from the next sample.
  rtt.reset_min_rtt();
  EXPECT_EQ(rtt.min_rtt(), 0u);
  rtt.on_sample(95'000, 0, 25'000, true);
  EXPECT_EQ(rtt.min_rtt(), 95'000u);
  EXPECT_TRUE(rtt.has_sample());
}

TEST(Rtt, PtoBaseUsesGranularityFloor) {
  RttEstimator rtt;
  rtt.on_sample(100, 0, 25'000, true);
  // 4 * rttvar = 200 < kGranularity 1000.
  EXPECT_EQ(rtt.pto_base(), 1'100u);
}

TEST(Rtt, ResetStartsOver) {
  RttEstimator rtt;
  rtt.on_sample(100'000, 0, 25'000, true);
  rtt.reset();
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed_rtt(), kInitialRttUs);
  EXPECT_EQ(rtt.pto_base(), 999'000u);
}

}  // namespace
}  // namespace quicbed
