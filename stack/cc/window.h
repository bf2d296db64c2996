// What the loss-based controllers (NewReno, CUBIC) share: the RFC 9002
// window bounds, the recovery period, the pacing rate derived from a window,
// and exact integer accumulation of fractional window growth.
#pragma once

#include <cstdint>

#include "base/fixed_point.h"
#include "cc/congestion_controller.h"
#include "rtt.h"

namespace quicbed {

// The initial window in datagrams (ConnectionConfig::initial_window_packets):
// RFC 9002 §7.2's ten by default. At least the minimum window's two (§7.2);
// the upper bound keeps the window's bytes (times 65535) far from overflow
// while leaving room for large-initial-window experiments.
inline constexpr uint64_t kDefaultInitialWindowPackets = 10;
inline constexpr uint64_t kMinInitialWindowPackets = 2;
inline constexpr uint64_t kMaxInitialWindowPackets = 1000;

// RFC 9002 §7.2: min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)).
// For `packets` other than ten the byte cap scales with them (14720 is ten
// datagrams of 1472 bytes), so that large datagrams never make an initial
// window of more bytes than the same count of ordinary ones would.
// packets: kMinInitialWindowPackets..kMaxInitialWindowPackets.
constexpr uint64_t initial_window(uint64_t max_datagram_size, uint64_t packets = kDefaultInitialWindowPackets) {
  return min_u64(packets * max_datagram_size, max_u64(packets * 1'472, 2 * max_datagram_size));
}

// RFC 9002 §7.2 kMinimumWindow.
constexpr uint64_t minimum_window(uint64_t max_datagram_size) { return 2 * max_datagram_size; }

// RFC 9002 §7.2 when the maximum datagram size changes mid-connection:
// the window keeps what it learned, but never stays below the minimum
// window of the new size. Returns the new window.
constexpr uint64_t window_for_datagram_size(uint64_t cwnd, uint64_t max_datagram_size) {
  return max_u64(cwnd, minimum_window(max_datagram_size));
}

// Datagram sizes the controllers accept. The upper bound keeps CUBIC's
// products (2 * size * t^3 with t < 2^32 us) inside 128 bits.
inline constexpr uint64_t kMaxCcDatagramSize = 65'535;

// RFC 9002 §7.7: rate = N * congestion_window / smoothed_rtt with N = 1.25,
// so that RTT variation does not leave the window underused. Bytes per
// second; kU64Max (unpaced) when smoothed_rtt is 0.
inline uint64_t window_pacing_rate(uint64_t cwnd, const RttEstimator& rtt) {
  return mul_div(cwnd, 1'250'000, rtt.smoothed_rtt());
}

// RFC 9002 §7.3.2 and Appendix B: the recovery period starts at a congestion
// event; packets sent at or before its start time neither grow the window
// (B.5) nor reduce it again (B.6). It ends, and the sender is back in
// congestion avoidance, when a packet sent after the start is acknowledged.
//
// It also tells what started it (CcRecovery): a loss or an ECN-CE count,
// and after persistent congestion, until a packet sent after the collapse
// is acknowledged, that the window collapsed.
class RecoveryPeriod {
 public:
  // B.2 InCongestionRecovery.
  bool covers(uint64_t sent_time) const { return started_ && sent_time <= start_time_; }
  // `ecn`: an ECN-CE count started it (RFC 9002 §7.1), not a loss.
  void start(uint64_t now, bool ecn) {
    started_ = true;
    active_ = true;
    collapsed_ = false;
    start_time_ = now;
    ecn_ = ecn;
  }
  void on_ack(uint64_t largest_acked_sent_time) {
    if (active_ && !covers(largest_acked_sent_time)) active_ = false;
    if (collapsed_ && largest_acked_sent_time > collapse_time_) collapsed_ = false;
  }
  // B.8: persistent congestion forgets the period (congestion_recovery_start_time
  // = 0), so the next loss starts a new one; the collapse at `now` is noted.
  void clear(uint64_t now) {
    *this = RecoveryPeriod();
    collapsed_ = true;
    collapse_time_ = now;
  }
  // Still waiting for the first acknowledgment of a packet sent after the start.
  bool active() const { return active_; }
  CcRecovery phase() const {
    if (active_) return ecn_ ? CcRecovery::kEcn : CcRecovery::kLoss;
    return collapsed_ ? CcRecovery::kPersistentCongestion : CcRecovery::kNone;
  }

 private:
  bool started_ = false;
  bool active_ = false;
  bool ecn_ = false;
  bool collapsed_ = false;
  uint64_t start_time_ = 0;
  uint64_t collapse_time_ = 0;
};

// Window growth of a * b / den bytes per acknowledgment (RFC 9002 B.5's
// max_datagram_size * acked / cwnd, CUBIC's (target - cwnd) * acked / cwnd),
// with the remainder carried to the next call. Without the carry, small
// ACKs against a large window would each round down to no growth at all;
// with it, acknowledging one window of bytes grows the window by exactly
// what the formula says (RFC 3465 byte counting).
class GrowthCarry {
 public:
  uint64_t step(uint64_t a, uint64_t b, uint64_t den) {
    if (den == 0) return 0;
    uint64_t q = mul_div(a, b, den);
    if (q == kU64Max) return q;  // saturated: no remainder to carry
    // The remainder of a*b/den, by multiplication only (no 128-bit division).
    uint64_t r = static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b - static_cast<unsigned __int128>(q) * den);
    carry_ %= den;  // den may have shrunk since the carry was taken
    if (carry_ >= den - r) {
      carry_ -= den - r;
      ++q;
    } else {
      carry_ += r;
    }
    return q;
  }
  void reset() { carry_ = 0; }

 private:
  uint64_t carry_ = 0;
};

}  // namespace quicbed
