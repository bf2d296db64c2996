#include "flow.h"

#include <gtest/gtest.h>

namespace quicbed {
namespace {

constexpr uint64_t kRtt = 50'000;  // us

// RFC 9000 §7.4.1: a rejected 0-RTT's remembered limit gives way to the
// peer's new one, lower too, unless more was already sent.
TEST(SendFlow, ResetLimitLowersButNotBelowWhatWasSent) {
  SendFlow f(1000);
  f.on_sent(300);
  EXPECT_FALSE(f.reset_limit(299));
  EXPECT_EQ(f.limit(), 1000u);
  EXPECT_TRUE(f.reset_limit(300));
  EXPECT_EQ(f.available(), 0u);
  EXPECT_TRUE(f.should_send_blocked(true));
  EXPECT_TRUE(f.reset_limit(5000));
  EXPECT_EQ(f.available(), 4700u);
}

TEST(RecvFlow, AllowsUpToTheLimitOnly) {
  RecvFlow f(1000, 8000);
  EXPECT_EQ(f.limit(), 1000u);
  EXPECT_TRUE(f.allows(0));
  EXPECT_TRUE(f.allows(1000));
  EXPECT_FALSE(f.allows(1001));  // §4.1: the caller's FLOW_CONTROL_ERROR
  f.on_received(600);
  f.on_received(400);  // out of order: the highest offset counts
  EXPECT_EQ(f.received(), 600u);
}

TEST(RecvFlow, UpdateWhenHalfTheWindowIsConsumed) {
  RecvFlow f(1000, 1000);
  f.on_received(1000);
  EXPECT_FALSE(f.should_update());
  f.on_consumed(499);
  EXPECT_FALSE(f.should_update());
  f.on_consumed(1);  // 500 of 1000 consumed: credit left is half the window
  EXPECT_TRUE(f.should_update());
  EXPECT_EQ(f.advertise(1'000'000, kRtt), 1500u);  // consumed + window
  EXPECT_EQ(f.limit(), 1500u);
  EXPECT_FALSE(f.should_update());
  EXPECT_TRUE(f.allows(1500));
  EXPECT_FALSE(f.allows(1501));
}

TEST(RecvFlow, ZeroWindowNeverUpdates) {
  RecvFlow f(0, 0);
  EXPECT_FALSE(f.should_update());
  EXPECT_FALSE(f.allows(1));
}

// Receive and consume just enough to leave half a window of credit, then
// advertise at `now`: one update cycle.
uint64_t cycle(RecvFlow& f, uint64_t now) {
  const uint64_t n = f.limit() - f.consumed() - f.window() / 2;
  f.on_received(f.consumed() + n);
  f.on_consumed(n);
  EXPECT_TRUE(f.should_update());
  return f.advertise(now, kRtt);
}

TEST(RecvFlow, AutoTuningDoublesWhenUpdatesComeWithinTwoRtts) {
  RecvFlow f(1000, 4000);
  uint64_t now = 10'000'000;
  // The first update has nothing to compare with: no tuning.
  EXPECT_EQ(cycle(f, now), 500u + 1000u);
  EXPECT_EQ(f.window(), 1000u);
  // Half a window consumed in just under 2 RTTs: the window doubles.
  now += 2 * kRtt - 1;
  EXPECT_EQ(cycle(f, now), 1000u + 2000u);
  EXPECT_EQ(f.window(), 2000u);
  now += kRtt;
  EXPECT_EQ(cycle(f, now), 2000u + 4000u);
  EXPECT_EQ(f.window(), 4000u);
  // At the maximum: no further growth however fast.
  now += 1;
  EXPECT_EQ(cycle(f, now), 4000u + 4000u);
  EXPECT_EQ(f.window(), 4000u);
}

TEST(RecvFlow, AutoTuningKeepsTheWindowWhenUpdatesAreSlow) {
  RecvFlow f(1000, 4000);
  uint64_t now = 0;
  cycle(f, now);
  now += 2 * kRtt;  // exactly 2 RTTs: not faster than 2 RTTs
  cycle(f, now);
  EXPECT_EQ(f.window(), 1000u);
  now += 10 * kRtt;
  cycle(f, now);
  EXPECT_EQ(f.window(), 1000u);
}

TEST(RecvFlow, AutoTuningCapsAtTheMaximumNotADoubling) {
  RecvFlow f(3000, 5000);
  cycle(f, 0);
  cycle(f, 1);
  EXPECT_EQ(f.window(), 5000u);
}

TEST(RecvFlow, MaximumBelowInitialKeepsInitial) {
  RecvFlow f(3000, 1000);
  cycle(f, 0);
  cycle(f, 1);
  EXPECT_EQ(f.window(), 3000u);
}

TEST(RecvFlow, LostUpdateRepeatsTheCurrentLimitOnly) {
  RecvFlow f(1000, 8000);
  const uint64_t first = cycle(f, 0);
  const uint64_t second = cycle(f, 10 * kRtt);
  ASSERT_GT(second, first);
  f.on_update_lost(first);  // superseded
  EXPECT_FALSE(f.should_update());
  f.on_update_lost(second);
  EXPECT_TRUE(f.should_update());
  // A repeat carries the same value and does not count as an update for
  // auto-tuning.
  const uint64_t window = f.window();
  EXPECT_EQ(f.advertise(10 * kRtt + 1, kRtt), second);
  EXPECT_EQ(f.window(), window);
  EXPECT_FALSE(f.should_update());
}

TEST(SendFlow, IgnoresLimitsThatDoNotIncrease) {
  SendFlow f(1000);
  EXPECT_EQ(f.available(), 1000u);
  f.on_sent(400);
  EXPECT_EQ(f.available(), 600u);
  EXPECT_TRUE(f.on_max(2000));
  EXPECT_FALSE(f.on_max(1500));  // §4.1: reordered, smaller: ignored
  EXPECT_FALSE(f.on_max(2000));
  EXPECT_EQ(f.limit(), 2000u);
  EXPECT_EQ(f.available(), 1600u);
  EXPECT_EQ(f.sent(), 400u);
}

TEST(SendFlow, BlockedOncePerLimit) {
  SendFlow f(100);
  EXPECT_FALSE(f.should_send_blocked(true));  // credit left
  f.on_sent(100);
  EXPECT_FALSE(f.should_send_blocked(false));  // nothing to send
  EXPECT_TRUE(f.should_send_blocked(true));
  EXPECT_EQ(f.on_blocked_sent(), 100u);
  EXPECT_FALSE(f.should_send_blocked(true));  // already said so at 100
  EXPECT_TRUE(f.on_max(200));
  EXPECT_FALSE(f.should_send_blocked(true));
  f.on_sent(100);
  EXPECT_TRUE(f.should_send_blocked(true));  // a new limit, a new report
  EXPECT_EQ(f.on_blocked_sent(), 200u);
}

TEST(SendFlow, LostBlockedIsRepeatedOnlyAtTheSameLimit) {
  SendFlow f(0);
  ASSERT_TRUE(f.should_send_blocked(true));
  EXPECT_EQ(f.on_blocked_sent(), 0u);
  f.on_blocked_lost(0);
  EXPECT_TRUE(f.should_send_blocked(true));
  EXPECT_EQ(f.on_blocked_sent(), 0u);
  ASSERT_TRUE(f.on_max(10));
  f.on_blocked_lost(0);  // stale: the limit moved on
  f.on_sent(10);
  ASSERT_TRUE(f.should_send_blocked(true));
  EXPECT_EQ(f.on_blocked_sent(), 10u);
  f.on_blocked_lost(0);
  EXPECT_FALSE(f.should_send_blocked(true));
}

}  // namespace
}  // namespace quicbed
