#include "cc/hystart.h"

namespace quicbed {

void HyStart::on_packet_sent(uint64_t now) {
  if (!window_end_pending_) return;
  window_end_ = now;
  window_end_pending_ = false;
}

uint64_t HyStart::rtt_thresh(uint64_t last_round_min_rtt_us) {
  return max_u64(kMinRttThreshUs, min_u64(last_round_min_rtt_us / kMinRttDivisor, kMaxRttThreshUs));
}

// §4.2: "At the start of each round during standard slow start and CSS".
void HyStart::start_round() {
  round_started_ = true;
  window_end_pending_ = true;
  last_round_min_rtt_ = current_round_min_rtt_;
  current_round_min_rtt_ = kU64Max;
  rtt_sample_count_ = 0;
  if (phase_ != Phase::kConservative) return;
  if (css_rounds_ == kCssRounds) {
    phase_ = Phase::kDone;
  } else {
    ++css_rounds_;
  }
}

uint64_t HyStart::on_ack(uint64_t largest_acked_sent_time, uint64_t bytes_acked, uint64_t rtt_sample_us) {
  if (phase_ == Phase::kDone) return bytes_acked;
  const Phase phase = phase_;
  if (!window_end_pending_ && (!round_started_ || largest_acked_sent_time >= window_end_)) start_round();

  // §4.2: cwnd += min(N, L * SMSS) in slow start, divided by
  // CSS_GROWTH_DIVISOR in CSS; L is infinite (paced).
  uint64_t growth = bytes_acked;
  if (phase == Phase::kConservative) {
    css_carry_ += bytes_acked;
    growth = css_carry_ / kCssGrowthDivisor;
    css_carry_ %= kCssGrowthDivisor;
  }
  if (phase_ == Phase::kDone) return growth;

  if (rtt_sample_us != kNoRttSample) {
    current_round_min_rtt_ = min_u64(current_round_min_rtt_, rtt_sample_us);
    ++rtt_sample_count_;
  }
  if (rtt_sample_count_ < kNRttSample) return growth;
  if (phase_ == Phase::kSlowStart) {
    // A delay increase of RttThresh over the last round: leave for CSS.
    if (current_round_min_rtt_ != kU64Max && last_round_min_rtt_ != kU64Max &&
        current_round_min_rtt_ >= last_round_min_rtt_ + rtt_thresh(last_round_min_rtt_)) {
      css_baseline_min_rtt_ = current_round_min_rtt_;
      phase_ = Phase::kConservative;
      css_rounds_ = 0;
    }
  } else if (current_round_min_rtt_ < css_baseline_min_rtt_) {
    // The exit was spurious: resume slow start, HyStart++ included.
    css_baseline_min_rtt_ = kU64Max;
    phase_ = Phase::kSlowStart;
  }
  return growth;
}

}  // namespace quicbed
