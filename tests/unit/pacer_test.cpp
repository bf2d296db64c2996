// The token-bucket pacer (RFC 9002 §7.7).
#include "pacer.h"

#include "cc/window.h"

#include <gtest/gtest.h>

namespace quicbed {
namespace {

constexpr uint64_t kMds = 1200;
constexpr uint64_t kBurst = kDefaultInitialWindowPackets * kMds;  // 12000 bytes
constexpr uint64_t kS = 1'000'000;

// Sends `n` packets as soon as the pacer allows, from `t`; returns the time
// of the last.
uint64_t send_paced(Pacer& p, uint64_t t, int n, uint64_t bytes, uint64_t rate) {
  for (int i = 0; i < n; ++i) {
    t = p.next_send_time(t, bytes, rate);
    p.on_packet_sent(t, bytes, rate);
  }
  return t;
}

TEST(Pacer, BurstThenOnePacketPerInterval) {
  Pacer p(kBurst);
  const uint64_t rate = 1'200'000;  // one 1200-byte packet per millisecond
  EXPECT_EQ(p.available(0, rate), kBurst);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(p.next_send_time(0, kMds, rate), 0u) << i;
    p.on_packet_sent(0, kMds, rate);
  }
  EXPECT_EQ(p.available(0, rate), 0u);
  EXPECT_EQ(p.next_send_time(0, kMds, rate), 1'000u);
  EXPECT_EQ(p.next_send_time(400, kMds, rate), 1'000u);  // asking later changes nothing
  p.on_packet_sent(1'000, kMds, rate);
  EXPECT_EQ(p.next_send_time(1'000, kMds, rate), 2'000u);
  // A smaller packet needs less credit: 300 bytes take 250 us.
  EXPECT_EQ(p.next_send_time(1'000, 300, rate), 1'250u);
  // Rates that do not divide evenly round the wait up to the next microsecond:
  // 1200 bytes at 1,000,003 B/s take 1199.996 us.
  EXPECT_EQ(p.next_send_time(1'000, kMds, 1'000'003), 2'200u);
}

// Over a long run the bytes sent are rate * time plus the initial burst,
// never more, and within one packet of it.
TEST(Pacer, RateRespectedOverLongRun) {
  struct Case {
    uint64_t rate;
    // The host wakes only on multiples of this; rate * granularity must fit
    // in the burst, or the waits lose credit.
    uint64_t granularity;
  } cases[] = {{1'250'000, 1}, {1'234'567, 1}, {1'234'567, 1'000}, {100'000'000, 50}, {30'000, 1}};
  const uint64_t sizes[] = {1200, 300, 1350, 64, 1200, 999};
  for (const Case& c : cases) {
    Pacer p(kBurst);
    const uint64_t end = 10 * kS;
    uint64_t t = 0, bytes = 0;
    for (size_t i = 0;; ++i) {
      const uint64_t size = sizes[i % std::size(sizes)];
      uint64_t due = p.next_send_time(t, size, c.rate);
      t = (due + c.granularity - 1) / c.granularity * c.granularity;
      if (t > end) break;
      p.on_packet_sent(t, size, c.rate);
      bytes += size;
    }
    const uint64_t budget = c.rate * 10 + kBurst;
    EXPECT_LE(bytes, budget) << c.rate;
    EXPECT_GE(bytes + 1350, budget) << c.rate;
    // The 1% of the requirement, on the paced part alone.
    EXPECT_LT(budget - bytes, c.rate * 10 / 100) << c.rate;
  }
}

// An idle sender banks at most the burst: credit does not accumulate
// beyond it however long the pause.
TEST(Pacer, NoCreditHoardingWhileIdle) {
  Pacer p(kBurst);
  const uint64_t rate = 1'200'000;
  uint64_t t = send_paced(p, 0, 50, kMds, rate);  // burst, then 40 paced
  EXPECT_EQ(t, 40'000u);
  t += 10 * kS;
  EXPECT_EQ(p.available(t, rate), kBurst);
  EXPECT_EQ(send_paced(p, t, 10, kMds, rate), t);  // ten at once again...
  EXPECT_EQ(p.next_send_time(t, kMds, rate), t + 1'000);  // ...and no more
  // A short pause banks only what the rate earned: 3.5 ms = 4200 bytes.
  Pacer q(kBurst);
  t = send_paced(q, 0, 20, kMds, rate);  // 10 ms
  t += 3'500;
  EXPECT_EQ(q.available(t, rate), 4'200u);
}

// A host that sends before the pacer allows goes into debt, and the next
// packet waits for it to be repaid.
TEST(Pacer, EarlySendsAreRepaid) {
  Pacer p(kBurst);
  const uint64_t rate = 1'200'000;
  for (int i = 0; i < 15; ++i) p.on_packet_sent(0, kMds, rate);  // five beyond the burst
  EXPECT_EQ(p.available(0, rate), 0u);
  EXPECT_EQ(p.next_send_time(0, kMds, rate), 6'000u);  // 5 owed + 1 to send
}

// A packet larger than the burst waits for a full bucket, then is paid for.
TEST(Pacer, PacketLargerThanBurst) {
  Pacer p(3'000);
  const uint64_t rate = 1'000'000;
  EXPECT_EQ(p.next_send_time(0, 9'000, rate), 0u);
  p.on_packet_sent(0, 9'000, rate);
  EXPECT_EQ(p.next_send_time(0, 1'200, rate), 7'200u);  // 6000 owed + 1200
  EXPECT_EQ(p.next_send_time(0, 9'000, rate), 9'000u);  // 6000 owed + a full bucket
}

TEST(Pacer, RateChangesApplyFromNow) {
  Pacer p(kBurst);
  uint64_t t = send_paced(p, 0, 10, kMds, 1'200'000);
  EXPECT_EQ(p.next_send_time(t, kMds, 1'200'000), 1'000u);
  EXPECT_EQ(p.next_send_time(t, kMds, 2'400'000), 500u);
  t = send_paced(p, t, 4, kMds, 2'400'000);
  EXPECT_EQ(t, 2'000u);
}

TEST(Pacer, UnpacedAndStoppedRates) {
  Pacer p(kBurst);
  for (int i = 0; i < 100; ++i) p.on_packet_sent(5, kMds, kU64Max);
  // No smoothed RTT yet (the controller's rate saturates): no pacing, and
  // no debt either: once a rate is known, the burst is available.
  EXPECT_EQ(p.next_send_time(5, kMds, kU64Max), 5u);
  EXPECT_EQ(p.available(5, kU64Max), kBurst);
  EXPECT_EQ(p.available(5, 1'200'000), kBurst);
  // A zero rate never releases anything.
  EXPECT_EQ(p.next_send_time(5, kMds, 0), kU64Max);
  EXPECT_EQ(p.burst_bytes(), kBurst);
}

// The host's clock is the only clock; a stale `now` never sends earlier
// than the last send.
TEST(Pacer, StaleTimeIsHarmless) {
  Pacer p(kBurst);
  const uint64_t rate = 1'200'000;
  send_paced(p, 10'000, 10, kMds, rate);
  EXPECT_EQ(p.next_send_time(9'000, kMds, rate), 11'000u);
}

// A controller's send quantum (draft-ietf-ccwg-bbr §5.6.3) resizes the
// burst: a smaller one drops the credit above it, a larger one lets the
// bucket fill further.
TEST(Pacer, BurstCanBeResized) {
  Pacer p(kBurst);
  const uint64_t rate = 1'200'000;
  p.set_burst_bytes(2 * kMds);
  EXPECT_EQ(p.burst_bytes(), 2 * kMds);
  EXPECT_EQ(p.available(0, rate), 2 * kMds);
  EXPECT_EQ(send_paced(p, 0, 2, kMds, rate), 0u);      // two back to back
  EXPECT_EQ(send_paced(p, 0, 1, kMds, rate), 1'000u);  // then paced
  p.set_burst_bytes(kBurst);
  // 20 ms idle refills up to the new burst, not beyond.
  EXPECT_EQ(p.available(21'000, rate), kBurst);
}

}  // namespace
}  // namespace quicbed
