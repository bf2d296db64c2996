#include "cc/cubic.h"

#include "base/assert.h"

namespace quicbed {

namespace {

using u128 = unsigned __int128;

// RFC 9438 §5.1: C = 0.4 segments per second cubed.
constexpr uint64_t kCNum = 2;
constexpr uint64_t kCDen = 5;
// §4.6: beta_cubic = 0.7.
constexpr uint64_t kBetaNum = 7;
constexpr uint64_t kBetaDen = 10;
// §4.7: W_max = cwnd * (1 + beta_cubic) / 2 = cwnd * 0.85.
constexpr uint64_t kFastConvergenceNum = 17;
constexpr uint64_t kFastConvergenceDen = 20;
// §4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) = 9/17.
constexpr uint64_t kAlphaNum = 9;
constexpr uint64_t kAlphaDen = 17;
// Microseconds cubed per second cubed.
constexpr uint64_t kUsCubedPerS = 1'000'000'000'000'000'000ULL;

// C * max_datagram_size * d^3 bytes for d microseconds: floor(2 * mds * d^3
// / (5 * 10^18)). d < 2^32 keeps d^2 in 64 bits.
uint64_t cube_term(uint64_t d_us, uint64_t max_datagram_size) {
  if (d_us > kCubicMaxTimeUs) d_us = kCubicMaxTimeUs;
  return mul_div(d_us * d_us, kCNum * max_datagram_size * d_us, kCDen * kUsCubedPerS);
}

}  // namespace

// The largest k < 2^32 with C * mds * k^3 <= (w_max - cwnd_epoch) * 10^18,
// found bit by bit with 128-bit products only.
uint64_t cubic_k_us(uint64_t w_max, uint64_t cwnd_epoch, uint64_t max_datagram_size) {
  if (cwnd_epoch >= w_max) return 0;
  const u128 limit = static_cast<u128>(w_max - cwnd_epoch) * (kCDen * kUsCubedPerS);
  const u128 scale = kCNum * max_datagram_size;
  uint64_t k = 0;
  for (int bit = 31; bit >= 0; --bit) {
    uint64_t c = k | (uint64_t{1} << bit);
    if (static_cast<u128>(c * c) * c * scale <= limit) k = c;
  }
  return k;
}

uint64_t cubic_window(uint64_t w_max, uint64_t k_us, uint64_t t_us, uint64_t max_datagram_size) {
  if (t_us >= k_us) return sat_add(w_max, cube_term(t_us - k_us, max_datagram_size));
  return sat_sub(w_max, cube_term(k_us - t_us, max_datagram_size));
}

Cubic::Cubic(uint64_t max_datagram_size, uint64_t initial_window_packets)
    : max_datagram_size_(max_datagram_size), cwnd_(initial_window(max_datagram_size, initial_window_packets)) {
  QB_ASSERT(max_datagram_size > 0 && max_datagram_size <= kMaxCcDatagramSize);
  QB_ASSERT(initial_window_packets >= kMinInitialWindowPackets && initial_window_packets <= kMaxInitialWindowPackets);
}

void Cubic::on_packet_sent(uint64_t now, uint64_t, uint64_t) {
  if (hystart_enabled_) hystart_.on_packet_sent(now);
}

void Cubic::on_ack(const CcAck& ack, const RttEstimator& rtt) {
  recovery_.on_ack(ack.largest_acked_sent_time);
  const uint64_t since_last_ack = sat_sub(ack.now, last_ack_time_);
  last_ack_time_ = max_u64(last_ack_time_, ack.now);
  // RFC 9002 B.5: no growth for packets sent before the recovery period.
  if (recovery_.covers(ack.largest_acked_sent_time)) return;
  if (ack.app_limited) {
    // RFC 9438 §5.8 / RFC 9002 §7.8: no growth, and the time the window
    // was not updated is left out of t (§4.2), so W_cubic does not leap
    // ahead when the application comes back.
    if (in_epoch_) t_epoch_ = min_u64(sat_add(t_epoch_, since_last_ack), ack.now);
    return;
  }
  if (cwnd_ < ssthresh_) {
    slow_start(ack, rtt);
  } else {
    avoid_congestion(ack, rtt);
  }
}

void Cubic::slow_start(const CcAck& ack, const RttEstimator& rtt) {
  if (!hystart_enabled_ || hystart_.phase() == HyStart::Phase::kDone) {
    cwnd_ = sat_add(cwnd_, ack.bytes_acked);
    return;
  }
  uint64_t sample = rtt.has_sample() ? rtt.latest_rtt() : kNoRttSample;
  cwnd_ = sat_add(cwnd_, hystart_.on_ack(ack.largest_acked_sent_time, ack.bytes_acked, sample));
  if (hystart_.phase() == HyStart::Phase::kDone) {
    // RFC 9406 §4.2: CSS ran its rounds; enter congestion avoidance. RFC
    // 9438 §4.10: no loss, so W_max is undefined: cwnd_prior = cwnd, and
    // the stage starts with K = 0 and W_max = cwnd_epoch.
    ssthresh_ = cwnd_;
    cwnd_prior_ = cwnd_;
    w_max_from_epoch_ = true;
  }
}

// RFC 9438 §4.2-§4.5, on each ACK in congestion avoidance.
void Cubic::avoid_congestion(const CcAck& ack, const RttEstimator& rtt) {
  if (!in_epoch_) start_epoch(ack.now);
  const uint64_t t = sat_sub(ack.now, t_epoch_);

  // §4.3 Figure 4: W_est += alpha_cubic * segments_acked / cwnd, in bytes
  // alpha_cubic * mds * bytes_acked / cwnd; alpha_cubic becomes 1 once W_est
  // reaches cwnd_prior.
  if (w_est_ >= cwnd_prior_) {
    w_est_ = sat_add(w_est_, est_carry_.step(max_datagram_size_, ack.bytes_acked, cwnd_));
  } else {
    w_est_ = sat_add(w_est_, est_carry_.step(kAlphaNum * max_datagram_size_, ack.bytes_acked, kAlphaDen * cwnd_));
  }

  // §4.3: the Reno-friendly region, where Reno would have the larger window.
  if (cubic_window(w_max_, k_us_, t, max_datagram_size_) < w_est_) {
    cwnd_ = max_u64(cwnd_, w_est_);
    return;
  }
  // §4.2: target = W_cubic(t + RTT), bounded to [cwnd, 1.5 * cwnd]; §4.4 and
  // §4.5 (concave below W_max, convex above): cwnd += (target - cwnd) / cwnd
  // per segment acknowledged.
  uint64_t target = cubic_window(w_max_, k_us_, sat_add(t, rtt.smoothed_rtt()), max_datagram_size_);
  target = min_u64(max_u64(target, cwnd_), sat_add(cwnd_, cwnd_ / 2));
  cwnd_ = sat_add(cwnd_, cubic_carry_.step(target - cwnd_, ack.bytes_acked, cwnd_));
}

// The first ACK of a congestion avoidance stage fixes t_epoch, cwnd_epoch
// (= cwnd), K and W_est (§4.2, §4.3).
void Cubic::start_epoch(uint64_t now) {
  in_epoch_ = true;
  t_epoch_ = now;
  w_est_ = cwnd_;
  est_carry_.reset();
  cubic_carry_.reset();
  // After a timeout or a loss-free HyStart++ exit, and in the corner where
  // the minimum window exceeds W_max, the curve plateaus at cwnd_epoch.
  if (w_max_from_epoch_ || w_max_ <= cwnd_) {
    w_max_ = cwnd_;
    k_us_ = 0;
    w_max_from_epoch_ = false;
  } else {
    k_us_ = cubic_k_us(w_max_, cwnd_, max_datagram_size_);
  }
}

// §4.6 and §4.7. ECN-CE gets the loss response: QUIC's minimum window
// (RFC 9002 §7.2) is 2 * max_datagram_size either way.
void Cubic::on_congestion_event(uint64_t now, uint64_t sent_time, bool ecn) {
  if (recovery_.covers(sent_time)) return;
  recovery_.start(now, ecn);
  // RFC 9406 §4.2: congestion during slow start or CSS ends HyStart++.
  hystart_.on_congestion();
  if (fast_convergence_ && cwnd_ < w_max_) {
    w_max_ = mul_div(cwnd_, kFastConvergenceNum, kFastConvergenceDen);
  } else {
    w_max_ = cwnd_;
  }
  cwnd_prior_ = cwnd_;
  // §4.6 allows cwnd in place of flight_size when the window cannot grow
  // while application-limited, which RFC 9002 §7.8 (on_ack) ensures.
  ssthresh_ = max_u64(mul_div(cwnd_, kBetaNum, kBetaDen), minimum_window(max_datagram_size_));
  cwnd_ = ssthresh_;
  in_epoch_ = false;
  w_max_from_epoch_ = false;
}

// RFC 9002 B.8 after on_congestion_event set ssthresh with beta_cubic (RFC
// 9438 §4.8); the next congestion avoidance stage plateaus at its start.
void Cubic::on_persistent_congestion(uint64_t now) {
  cwnd_ = minimum_window(max_datagram_size_);
  recovery_.clear(now);
  in_epoch_ = false;
  w_max_from_epoch_ = true;
}

// RFC 9438 counts segments of max_datagram_size bytes: W_max, K and W_est
// stay in bytes, and the next window steps use the new size.
void Cubic::set_max_datagram_size(uint64_t bytes) {
  QB_ASSERT(bytes > 0 && bytes <= kMaxCcDatagramSize);
  max_datagram_size_ = bytes;
  cwnd_ = window_for_datagram_size(cwnd_, bytes);
}

CcState Cubic::state() const {
  if (recovery_.active()) return CcState::kRecovery;
  return cwnd_ < ssthresh_ ? CcState::kSlowStart : CcState::kCongestionAvoidance;
}

}  // namespace quicbed
