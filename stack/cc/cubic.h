// CUBIC (RFC 9438) in integers: windows in bytes, times in microseconds,
// C = 0.4 and beta_cubic = 0.7 as exact fractions, HyStart++ (RFC 9406) in
// the first slow start. The recovery period, window bounds and pacing rate
// are RFC 9002's, as for NewReno.
#pragma once

#include <cstdint>

#include "cc/congestion_controller.h"
#include "cc/hystart.h"
#include "cc/window.h"

namespace quicbed {

// |t - K| in the cubic function, and K, are capped here (about 71 minutes):
// far beyond any useful K, and it keeps 2 * max_datagram_size * |t - K|^3
// in 128 bits.
inline constexpr uint64_t kCubicMaxTimeUs = (uint64_t{1} << 32) - 1;

// RFC 9438 §4.2 Figure 2, K = cbrt((W_max - cwnd_epoch) / C) seconds with
// windows in segments; here floor(K) in microseconds for windows in bytes.
// 0 when cwnd_epoch >= w_max.
uint64_t cubic_k_us(uint64_t w_max, uint64_t cwnd_epoch, uint64_t max_datagram_size);

// RFC 9438 §4.2 Figure 1, W_cubic(t) = C * (t - K)^3 + W_max, in bytes
// (C * max_datagram_size bytes per second cubed). The cube term is rounded
// toward zero; the result saturates instead of overflowing.
uint64_t cubic_window(uint64_t w_max, uint64_t k_us, uint64_t t_us, uint64_t max_datagram_size);

class Cubic final : public CongestionController {
 public:
  // max_datagram_size: 1..kMaxCcDatagramSize; initial_window_packets:
  // kMinInitialWindowPackets..kMaxInitialWindowPackets.
  explicit Cubic(uint64_t max_datagram_size, uint64_t initial_window_packets = kDefaultInitialWindowPackets);

  const char* name() const override { return "cubic"; }
  void on_packet_sent(uint64_t now, uint64_t bytes, uint64_t bytes_in_flight) override;
  void on_ack(const CcAck& ack, const RttEstimator& rtt) override;
  void on_congestion_event(uint64_t now, uint64_t sent_time, bool ecn) override;
  void on_persistent_congestion(uint64_t now) override;
  void set_max_datagram_size(uint64_t bytes) override;
  uint64_t max_datagram_size() const override { return max_datagram_size_; }

  uint64_t cwnd() const override { return cwnd_; }
  uint64_t ssthresh() const override { return ssthresh_; }
  CcState state() const override;
  CcRecovery recovery() const override { return recovery_.phase(); }
  uint64_t pacing_rate(const RttEstimator& rtt) const override { return window_pacing_rate(cwnd_, rtt); }

  // RFC 9438 §4.7: fast convergence SHOULD be on, and SHOULD be off when the
  // flow is known to be alone on its path. On by default.
  void set_fast_convergence(bool on) { fast_convergence_ = on; }
  // RFC 9438 §4.10: HyStart++ (default) or standard slow start. Takes
  // effect only before the first slow start ends.
  void set_hystart(bool on) { hystart_enabled_ = on; }
  HyStart::Phase hystart_phase() const { return hystart_enabled_ ? hystart_.phase() : HyStart::Phase::kDone; }

  // The current congestion avoidance stage (RFC 9438 §4.1 variables), for
  // traces and tests. K and W_est are set on the stage's first ACK.
  uint64_t w_max() const { return w_max_; }
  uint64_t k_us() const { return k_us_; }
  uint64_t w_est() const { return w_est_; }
  uint64_t cwnd_prior() const { return cwnd_prior_; }

 private:
  void slow_start(const CcAck& ack, const RttEstimator& rtt);
  void avoid_congestion(const CcAck& ack, const RttEstimator& rtt);
  void start_epoch(uint64_t now);

  uint64_t max_datagram_size_;
  uint64_t cwnd_;
  uint64_t ssthresh_ = kU64Max;
  RecoveryPeriod recovery_;
  HyStart hystart_;
  bool hystart_enabled_ = true;
  bool fast_convergence_ = true;

  // A congestion avoidance stage has begun (t_epoch, K, W_est are set).
  bool in_epoch_ = false;
  // The next stage follows a timeout (§4.8) or a slow start left without
  // loss (§4.10): K = 0 and W_max = cwnd_epoch.
  bool w_max_from_epoch_ = false;
  uint64_t t_epoch_ = 0;
  uint64_t w_max_ = 0;
  uint64_t k_us_ = 0;
  uint64_t w_est_ = 0;
  uint64_t cwnd_prior_ = 0;
  uint64_t last_ack_time_ = 0;
  GrowthCarry est_carry_;
  GrowthCarry cubic_carry_;
};

}  // namespace quicbed
