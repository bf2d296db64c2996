#include "cc/delivery_rate.h"

#include "base/fixed_point.h"

namespace quicbed {

// draft-ietf-ccwg-bbr §4.1.2.3, upon sending a packet.
void DeliveryRateEstimator::on_packet_sent(SentPacket& p, uint64_t bytes_in_flight) {
  // A flight starting from nothing restarts both intervals, so that idle
  // time does not dilute the next sample.
  if (bytes_in_flight == 0) {
    first_sent_time_ = p.time_sent;
    delivered_time_ = p.time_sent;
  }
  p.first_sent_time = first_sent_time_;
  p.delivered_time = delivered_time_;
  p.delivered = delivered_;
  p.is_app_limited = app_limited_ != 0;
  p.tx_in_flight = bytes_in_flight + p.bytes;
  p.lost = lost_;
}

void DeliveryRateEstimator::begin_ack() { rs_ = RateSample(); }

// §4.1.2.3 UpdateRateSample: the newest packet acknowledged (latest send
// time) defines the sample.
void DeliveryRateEstimator::on_packet_acked(const SentPacket& p, uint64_t now) {
  delivered_ += p.bytes;
  delivered_time_ = now;
  rs_.newly_acked += p.bytes;
  if (rs_.valid && p.time_sent < newest_sent_) return;
  rs_.valid = true;
  newest_sent_ = p.time_sent;
  rs_.prior_delivered = p.delivered;
  rs_.prior_time = p.delivered_time;
  rs_.is_app_limited = p.is_app_limited;
  rs_.send_elapsed = sat_sub(p.time_sent, p.first_sent_time);
  rs_.ack_elapsed = sat_sub(now, p.delivered_time);
  rs_.rtt = sat_sub(now, p.time_sent);
  rs_.tx_in_flight = p.tx_in_flight;
  rs_.lost = p.lost;  // made relative in finish_ack
  // The next packet sent after this one counts its send interval from here.
  first_sent_time_ = p.time_sent;
}

void DeliveryRateEstimator::on_packet_lost(const SentPacket& p) {
  lost_ += p.bytes;
  rs_.newly_lost += p.bytes;
}

// §4.1.2.3 GenerateRateSample.
const RateSample& DeliveryRateEstimator::finish_ack(uint64_t min_rtt) {
  // The app-limited bubble has been delivered.
  if (app_limited_ != 0 && delivered_ > app_limited_) app_limited_ = 0;
  rs_.conn_delivered = delivered_;
  if (!rs_.valid) return rs_;
  rs_.lost = lost_ - rs_.lost;
  rs_.interval = max_u64(rs_.send_elapsed, rs_.ack_elapsed);
  rs_.delivered = delivered_ - rs_.prior_delivered;
  // An interval below min_rtt means ACK compression or a stretched ACK; the
  // rate it gives would be too high (§4.1.2.3).
  if (rs_.interval == 0 || (min_rtt != kU64Max && rs_.interval < min_rtt)) {
    rs_.delivery_rate = 0;
    return rs_;
  }
  rs_.delivery_rate = mul_div(rs_.delivered, 1'000'000, rs_.interval);
  return rs_;
}

void DeliveryRateEstimator::mark_app_limited(uint64_t bytes_in_flight) {
  const uint64_t mark = delivered_ + bytes_in_flight;
  app_limited_ = mark > 0 ? mark : 1;
}

}  // namespace quicbed
