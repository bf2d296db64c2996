// HyStart++ (RFC 9406): slow start that leaves early when the round-trip
// time rises, through Conservative Slow Start (CSS), before the losses of
// an overshoot. Any window-based controller can drive it during slow start
// (cwnd < ssthresh): it says how much each ACK grows the window and when to
// move to congestion avoidance.
//
// Rounds (§4.2 windowEnd) are tracked by send time rather than sequence
// number: a round ends when an ACK covers the first packet sent after the
// round began.
#pragma once

#include <cstdint>

#include "base/fixed_point.h"

namespace quicbed {

// An ACK that produced no RTT sample.
inline constexpr uint64_t kNoRttSample = kU64Max;

class HyStart {
 public:
  // RFC 9406 §4.3, in microseconds.
  static constexpr uint64_t kMinRttThreshUs = 4'000;
  static constexpr uint64_t kMaxRttThreshUs = 16'000;
  static constexpr uint64_t kMinRttDivisor = 8;
  static constexpr uint32_t kNRttSample = 8;
  static constexpr uint64_t kCssGrowthDivisor = 4;
  static constexpr uint32_t kCssRounds = 5;
  // L (§4.3) is infinite: the core always paces.

  enum class Phase : uint8_t {
    kSlowStart,     // standard slow start with delay-increase detection
    kConservative,  // CSS
    kDone,          // CSS ran its rounds (ssthresh = cwnd), or congestion was seen
  };

  void on_packet_sent(uint64_t now);
  // One ACK during slow start: `bytes_acked` newly acknowledged, the newest
  // of them sent at `largest_acked_sent_time`, and the RTT sample it gave
  // (kNoRttSample if none). Returns how many bytes the window grows by. When
  // the phase becomes kDone here, the caller sets ssthresh = cwnd (§4.2:
  // "enter congestion avoidance").
  uint64_t on_ack(uint64_t largest_acked_sent_time, uint64_t bytes_acked, uint64_t rtt_sample_us);
  // §4.2: loss or ECN-CE during slow start or CSS ends HyStart++; the
  // controller's own congestion response sets ssthresh.
  void on_congestion() { phase_ = Phase::kDone; }

  Phase phase() const { return phase_; }
  // §4.2 RttThresh for the last round's minimum RTT.
  static uint64_t rtt_thresh(uint64_t last_round_min_rtt_us);

 private:
  void start_round();

  Phase phase_ = Phase::kSlowStart;
  bool round_started_ = false;
  // A round has begun but its first packet is not sent yet (windowEnd unset).
  bool window_end_pending_ = false;
  uint64_t window_end_ = 0;  // send time of the current round's first packet
  uint64_t last_round_min_rtt_ = kU64Max;
  uint64_t current_round_min_rtt_ = kU64Max;
  uint64_t css_baseline_min_rtt_ = kU64Max;
  uint32_t rtt_sample_count_ = 0;
  // Rounds begun in the current CSS; it ends when the kCssRounds-th completes
  // (the partial round in which CSS was entered does not count).
  uint32_t css_rounds_ = 0;
  // CSS grows by bytes_acked / kCssGrowthDivisor; the bytes left over.
  uint64_t css_carry_ = 0;
};

}  // namespace quicbed
