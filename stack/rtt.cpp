#include "rtt.h"

namespace quicbed {

void RttEstimator::on_sample(uint64_t latest_rtt_us, uint64_t ack_delay_us, uint64_t max_ack_delay_us,
                             bool handshake_confirmed) {
  latest_rtt_ = latest_rtt_us;
  // §5.2: min_rtt ignores ack delay.
  if (min_rtt_ == 0 || latest_rtt_us < min_rtt_) min_rtt_ = latest_rtt_us;
  if (!has_sample_) {
    // §5.3: the first sample initialises the estimator.
    has_sample_ = true;
    smoothed_rtt_ = latest_rtt_us;
    rttvar_ = latest_rtt_us / 2;
    return;
  }
  // §5.3: after confirmation the ack delay is limited to max_ack_delay, and
  // it is subtracted only if that does not go below min_rtt.
  if (handshake_confirmed && ack_delay_us > max_ack_delay_us) ack_delay_us = max_ack_delay_us;
  uint64_t adjusted = latest_rtt_us;
  if (latest_rtt_us >= min_rtt_ + ack_delay_us) adjusted = latest_rtt_us - ack_delay_us;
  uint64_t diff = smoothed_rtt_ > adjusted ? smoothed_rtt_ - adjusted : adjusted - smoothed_rtt_;
  rttvar_ = (3 * rttvar_ + diff) / 4;
  smoothed_rtt_ = (7 * smoothed_rtt_ + adjusted) / 8;
}

uint64_t RttEstimator::pto_base() const {
  uint64_t var = 4 * rttvar_;
  return smoothed_rtt_ + (var > kGranularityUs ? var : kGranularityUs);
}

}  // namespace quicbed
