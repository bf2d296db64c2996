// Delivery rate estimation (draft-ietf-ccwg-bbr §4.1.2): per-packet stamps,
// the per-ACK sample over max(send, ACK) interval, app-limited bubbles and
// loss accounting, with hand-computed numbers.
#include <gtest/gtest.h>

#include "cc/delivery_rate.h"

namespace quicbed {
namespace {

constexpr uint64_t kMs = 1000;

SentPacket packet(uint64_t time_sent, uint64_t bytes = 1000) {
  SentPacket p;
  p.time_sent = time_sent;
  p.bytes = bytes;
  p.in_flight = true;
  return p;
}

// Ten packets 1 ms apart from an idle start, each acked 50 ms after the
// first was sent plus its offset: the samples are ACK-interval bound.
TEST(DeliveryRate, SampleUsesTheLongerOfSendAndAckIntervals) {
  DeliveryRateEstimator e;
  SentPacket p[10];
  uint64_t in_flight = 0;
  for (int i = 0; i < 10; ++i) {
    p[i] = packet(i * kMs);
    e.on_packet_sent(p[i], in_flight);
    in_flight += p[i].bytes;
    EXPECT_EQ(p[i].delivered, 0u);
    EXPECT_EQ(p[i].delivered_time, 0u);  // the flight started at 0
    EXPECT_EQ(p[i].first_sent_time, 0u);
    EXPECT_EQ(p[i].tx_in_flight, in_flight);
    EXPECT_FALSE(p[i].is_app_limited);
  }
  for (int i = 0; i < 10; ++i) {
    e.begin_ack();
    e.on_packet_acked(p[i], 50 * kMs + i * kMs);
    const RateSample& rs = e.finish_ack(kU64Max);
    ASSERT_TRUE(rs.valid);
    EXPECT_EQ(rs.delivered, (i + 1) * 1000u);
    EXPECT_EQ(rs.send_elapsed, i * kMs);
    EXPECT_EQ(rs.ack_elapsed, 50 * kMs + i * kMs);
    EXPECT_EQ(rs.interval, 50 * kMs + i * kMs);
    EXPECT_EQ(rs.rtt, 50 * kMs);
    EXPECT_EQ(rs.newly_acked, 1000u);
    EXPECT_EQ(rs.conn_delivered, (i + 1) * 1000u);
  }
  // The last: 10000 bytes over 59 ms.
  EXPECT_EQ(e.sample().delivery_rate, 169'491u);
  EXPECT_EQ(e.delivered(), 10'000u);
}

// A packet sent once ACKs flow carries the delivered count and time of the
// last ACK; acked one RTT later it measures one RTT of delivery.
TEST(DeliveryRate, SteadyStateMeasuresTheAckClock) {
  DeliveryRateEstimator e;
  SentPacket a = packet(0), b = packet(0);
  e.on_packet_sent(a, 0);
  e.on_packet_sent(b, 1000);
  e.begin_ack();
  e.on_packet_acked(a, 100 * kMs);
  e.on_packet_acked(b, 100 * kMs);
  e.finish_ack(kU64Max);
  SentPacket c = packet(100 * kMs);
  e.on_packet_sent(c, 0);  // idle again: the flight restarts at its send
  EXPECT_EQ(c.delivered, 2000u);
  EXPECT_EQ(c.delivered_time, 100 * kMs);
  EXPECT_EQ(c.first_sent_time, 100 * kMs);
  SentPacket d = packet(110 * kMs);
  e.on_packet_sent(d, 1000);
  e.begin_ack();
  e.on_packet_acked(c, 200 * kMs);
  e.on_packet_acked(d, 210 * kMs);
  const RateSample& rs = e.finish_ack(kU64Max);
  // The newest acked (d) defines the sample: 2000 bytes since its stamp
  // (delivered 2000 at 100 ms) over max(10 ms send, 110 ms ack).
  EXPECT_EQ(rs.prior_delivered, 2000u);
  EXPECT_EQ(rs.delivered, 2000u);
  EXPECT_EQ(rs.interval, 110 * kMs);
  EXPECT_EQ(rs.delivery_rate, 18'181u);
  EXPECT_EQ(rs.newly_acked, 2000u);
}

// §4.1.2.3: an interval below min_rtt (ACK compression) gives no rate.
TEST(DeliveryRate, IntervalBelowMinRttGivesNoRate) {
  DeliveryRateEstimator e;
  SentPacket a = packet(0);
  e.on_packet_sent(a, 0);
  e.begin_ack();
  e.on_packet_acked(a, 10 * kMs);
  const RateSample& rs = e.finish_ack(20 * kMs);
  EXPECT_TRUE(rs.valid);
  EXPECT_EQ(rs.delivered, 1000u);
  EXPECT_EQ(rs.delivery_rate, 0u);
}

// §4.1.2.4: packets sent during an app-limited bubble give app-limited
// samples until the bubble's data has been delivered.
TEST(DeliveryRate, AppLimitedBubbleEndsWhenDelivered) {
  DeliveryRateEstimator e;
  SentPacket a = packet(0);
  e.on_packet_sent(a, 0);
  e.mark_app_limited(1000);  // delivered 0 + 1000 in flight
  EXPECT_TRUE(e.app_limited());
  SentPacket b = packet(1 * kMs);
  e.on_packet_sent(b, 1000);
  EXPECT_TRUE(b.is_app_limited);
  EXPECT_FALSE(a.is_app_limited);
  e.begin_ack();
  e.on_packet_acked(a, 50 * kMs);
  EXPECT_FALSE(e.finish_ack(kU64Max).is_app_limited);
  EXPECT_TRUE(e.app_limited());  // delivered 1000, not above the mark
  e.begin_ack();
  e.on_packet_acked(b, 51 * kMs);
  EXPECT_TRUE(e.finish_ack(kU64Max).is_app_limited);
  EXPECT_FALSE(e.app_limited());  // delivered 2000 > 1000
  SentPacket c = packet(52 * kMs);
  e.on_packet_sent(c, 0);
  EXPECT_FALSE(c.is_app_limited);
  // A mark with nothing delivered nor in flight still marks.
  DeliveryRateEstimator fresh;
  fresh.mark_app_limited(0);
  EXPECT_TRUE(fresh.app_limited());
}

// Loss accounting: C.lost, RS.lost since the sample's packet was sent and
// RS.newly_lost for this ACK.
TEST(DeliveryRate, LossesAreCounted) {
  DeliveryRateEstimator e;
  SentPacket a = packet(0), b = packet(1 * kMs), c = packet(2 * kMs);
  e.on_packet_sent(a, 0);
  e.on_packet_sent(b, 1000);
  e.on_packet_sent(c, 2000);
  EXPECT_EQ(c.lost, 0u);
  e.begin_ack();
  e.on_packet_lost(a);
  e.on_packet_acked(c, 50 * kMs);
  const RateSample& rs = e.finish_ack(kU64Max);
  EXPECT_EQ(e.lost(), 1000u);
  EXPECT_EQ(rs.lost, 1000u);
  EXPECT_EQ(rs.newly_lost, 1000u);
  EXPECT_EQ(rs.tx_in_flight, 3000u);
  SentPacket d = packet(50 * kMs);
  e.on_packet_sent(d, 1000);
  EXPECT_EQ(d.lost, 1000u);
}

// An ACK of nothing with delivery state gives no sample.
TEST(DeliveryRate, EmptyAckIsInvalid) {
  DeliveryRateEstimator e;
  e.begin_ack();
  EXPECT_FALSE(e.finish_ack(kU64Max).valid);
}

}  // namespace
}  // namespace quicbed
