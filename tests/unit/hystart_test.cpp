// HyStart++ (RFC 9406) driven round by round.
#include "cc/hystart.h"

#include <gtest/gtest.h>

namespace quicbed {
namespace {

using Phase = HyStart::Phase;

constexpr uint64_t kMds = 1200;
constexpr uint64_t kMs = 1'000;

// Round r's packets are sent at r seconds. The ACKs of round r acknowledge
// round r-1's packets; the first of them ends round r-1 (it covers the
// first packet sent in it), after which round r's first packet goes out.
class Rounds {
 public:
  // ACKs of one round, one per RTT sample; returns the window growth.
  uint64_t round(std::initializer_list<uint64_t> rtts) {
    ++round_;
    uint64_t growth = 0;
    bool first = true;
    for (uint64_t rtt : rtts) {
      growth += ack(rtt);
      if (first) h.on_packet_sent(round_ * 1'000'000);
      first = false;
    }
    return growth;
  }
  uint64_t round(int n, uint64_t rtt) {
    ++round_;
    uint64_t growth = 0;
    for (int i = 0; i < n; ++i) {
      growth += ack(rtt);
      if (i == 0) h.on_packet_sent(round_ * 1'000'000);
    }
    return growth;
  }
  // One more ACK in the current round.
  uint64_t ack(uint64_t rtt, uint64_t bytes = kMds) { return h.on_ack((round_ - 1) * 1'000'000, bytes, rtt); }

  HyStart h;

 private:
  uint64_t round_ = 0;
};

TEST(HyStart, RttThresholdIsClamped) {
  // §4.2: RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH)).
  EXPECT_EQ(HyStart::rtt_thresh(10 * kMs), 4 * kMs);    // 1.25 ms -> 4 ms
  EXPECT_EQ(HyStart::rtt_thresh(80 * kMs), 10 * kMs);   // 80 / 8
  EXPECT_EQ(HyStart::rtt_thresh(100 * kMs), 12'500u);   // 100 / 8
  EXPECT_EQ(HyStart::rtt_thresh(1'000 * kMs), 16 * kMs);  // 125 ms -> 16 ms
}

TEST(HyStart, SteadyRttStaysInSlowStart) {
  Rounds r;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(r.round(8, 100 * kMs), 8 * kMds);  // §4.2: cwnd += N in slow start
    EXPECT_EQ(r.h.phase(), Phase::kSlowStart);
  }
}

// §4.2: with at least N_RTT_SAMPLE samples in the round, a round minimum of
// lastRoundMinRTT + RttThresh or more leaves slow start for CSS.
TEST(HyStart, RttIncreaseEntersCss) {
  Rounds r;
  r.round(8, 100 * kMs);
  // 100 ms + 12.5 ms threshold; the 8th sample is the first that may decide.
  r.round(7, 112'500);
  EXPECT_EQ(r.h.phase(), Phase::kSlowStart);
  EXPECT_EQ(r.ack(112'500), kMds);  // the deciding ACK still grows as slow start
  EXPECT_EQ(r.h.phase(), Phase::kConservative);
  // §4.2: cwnd += N / CSS_GROWTH_DIVISOR in CSS.
  EXPECT_EQ(r.ack(112'500), kMds / 4);
}

TEST(HyStart, RttJustBelowThresholdStaysInSlowStart) {
  Rounds r;
  r.round(8, 100 * kMs);
  r.round(20, 112'499);
  EXPECT_EQ(r.h.phase(), Phase::kSlowStart);
  // The first round has no previous round to compare with.
  Rounds first;
  first.round(20, 500 * kMs);
  EXPECT_EQ(first.h.phase(), Phase::kSlowStart);
}

// The round minimum decides, not single samples.
TEST(HyStart, OneLowSampleKeepsSlowStart) {
  Rounds r;
  r.round(8, 100 * kMs);
  r.round({130 * kMs, 130 * kMs, 101 * kMs, 130 * kMs, 130 * kMs, 130 * kMs, 130 * kMs, 130 * kMs, 130 * kMs});
  EXPECT_EQ(r.h.phase(), Phase::kSlowStart);
}

TEST(HyStart, AcksWithoutSampleDoNotCount) {
  Rounds r;
  r.round(8, 100 * kMs);
  r.round(7, 120 * kMs);
  EXPECT_EQ(r.ack(kNoRttSample), kMds);
  EXPECT_EQ(r.h.phase(), Phase::kSlowStart);  // still 7 samples
  r.ack(120 * kMs);
  EXPECT_EQ(r.h.phase(), Phase::kConservative);
}

// §4.2: in CSS, a round minimum below cssBaselineMinRtt (after
// N_RTT_SAMPLE samples) means the exit was spurious: back to slow start.
TEST(HyStart, RttFallingBackResumesSlowStart) {
  Rounds r;
  r.round(8, 100 * kMs);
  r.round(8, 120 * kMs);  // CSS, baseline 120 ms
  ASSERT_EQ(r.h.phase(), Phase::kConservative);
  EXPECT_EQ(r.round(7, 110 * kMs), 7 * kMds / 4);
  EXPECT_EQ(r.h.phase(), Phase::kConservative);  // 7 samples are not enough
  r.ack(110 * kMs);
  EXPECT_EQ(r.h.phase(), Phase::kSlowStart);
  EXPECT_EQ(r.ack(110 * kMs), kMds);  // full slow start growth again
  // HyStart++ is live again: the next round's increase enters CSS again
  // (110 ms + 13.75 ms).
  r.round(8, 123'750);
  EXPECT_EQ(r.h.phase(), Phase::kConservative);
}

// §4.2: after CSS_ROUNDS rounds in CSS, congestion avoidance. The round in
// which CSS began does not count.
TEST(HyStart, CssEndsAfterCssRounds) {
  Rounds r;
  r.round(8, 100 * kMs);
  r.round(10, 120 * kMs);  // CSS from its 8th ACK
  ASSERT_EQ(r.h.phase(), Phase::kConservative);
  for (uint32_t i = 0; i < HyStart::kCssRounds; ++i) {
    EXPECT_EQ(r.round(8, 125 * kMs), 8 * kMds / 4) << i;
    EXPECT_EQ(r.h.phase(), Phase::kConservative) << i;
  }
  // The first ACK of the next round completes the fifth CSS round.
  EXPECT_EQ(r.round(1, 125 * kMs), kMds / 4);
  EXPECT_EQ(r.h.phase(), Phase::kDone);
}

TEST(HyStart, CssGrowthCarriesRemainders) {
  Rounds r;
  r.round(8, 100 * kMs);
  r.round(8, 120 * kMs);
  ASSERT_EQ(r.h.phase(), Phase::kConservative);
  uint64_t growth = 0;
  for (int i = 0; i < 4; ++i) growth += r.ack(120 * kMs, 1);
  EXPECT_EQ(growth, 1u);  // four 1-byte ACKs: 4 / CSS_GROWTH_DIVISOR
}

// A round ends only when an ACK covers a packet sent after it began: ACKs
// before the round's first packet leaves belong to the same round.
TEST(HyStart, RoundNeedsAPacketSentAfterItBegan) {
  HyStart h;
  for (int i = 0; i < 8; ++i) h.on_ack(0, kMds, 100 * kMs);  // round 1, nothing sent yet
  for (int i = 0; i < 8; ++i) h.on_ack(5'000'000, kMds, 150 * kMs);
  EXPECT_EQ(h.phase(), Phase::kSlowStart);  // still round 1: its minimum is 100 ms
  h.on_packet_sent(6'000'000);
  for (int i = 0; i < 8; ++i) h.on_ack(5'999'999, kMds, 150 * kMs);  // sent before it: round 1
  EXPECT_EQ(h.phase(), Phase::kSlowStart);
  for (int i = 0; i < 8; ++i) h.on_ack(6'000'000, kMds, 150 * kMs);  // round 2
  EXPECT_EQ(h.phase(), Phase::kConservative);
}

// §4.2: loss or ECN-CE ends HyStart++; growth is then plain slow start for
// whoever still asks.
TEST(HyStart, CongestionEndsIt) {
  Rounds r;
  r.round(8, 100 * kMs);
  r.h.on_congestion();
  EXPECT_EQ(r.h.phase(), Phase::kDone);
  EXPECT_EQ(r.round(8, 200 * kMs), 8 * kMds);
  EXPECT_EQ(r.h.phase(), Phase::kDone);
}

}  // namespace
}  // namespace quicbed
