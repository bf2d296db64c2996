// Round-trip time estimation, RFC 9002 §5. All times in microseconds.
#pragma once

#include <cstdint>

namespace quicbed {

// RFC 9002 §6.2.2: before any sample, smoothed_rtt = kInitialRtt and
// rttvar = kInitialRtt / 2.
inline constexpr uint64_t kInitialRttUs = 333'000;
// RFC 9002 §6.1.2 kGranularity.
inline constexpr uint64_t kGranularityUs = 1'000;

class RttEstimator {
 public:
  // RFC 9002 §5.3. `ack_delay_us` is the peer's reported delay, already
  // scaled by its ack_delay_exponent; it is ignored for Initial packets and
  // capped by max_ack_delay once the handshake is confirmed (the caller
  // passes 0 and the cap accordingly).
  void on_sample(uint64_t latest_rtt_us, uint64_t ack_delay_us, uint64_t max_ack_delay_us, bool handshake_confirmed);
  // RFC 9002 §5.2 and §9.4: a new path starts over; persistent congestion
  // refreshes min_rtt from the next sample.
  void reset() { *this = RttEstimator(); }
  void reset_min_rtt() { min_rtt_ = 0; }

  bool has_sample() const { return has_sample_; }
  uint64_t latest_rtt() const { return latest_rtt_; }
  uint64_t smoothed_rtt() const { return smoothed_rtt_; }
  uint64_t rttvar() const { return rttvar_; }
  // 0 until the first sample.
  uint64_t min_rtt() const { return min_rtt_; }

  // RFC 9002 §6.2.1: smoothed_rtt + max(4 * rttvar, kGranularity) (+
  // max_ack_delay in the application space, added by the caller).
  uint64_t pto_base() const;

 private:
  bool has_sample_ = false;
  uint64_t latest_rtt_ = 0;
  uint64_t smoothed_rtt_ = kInitialRttUs;
  uint64_t rttvar_ = kInitialRttUs / 2;
  uint64_t min_rtt_ = 0;
};

}  // namespace quicbed
