// NewReno as RFC 9002 §7 and Appendix B specify it for QUIC: slow start and
// congestion avoidance by byte counting, a window halved once per recovery
// period, the minimum window after persistent congestion, and no growth
// while the sender is application-limited.
#pragma once

#include <cstdint>

#include "cc/congestion_controller.h"
#include "cc/window.h"

namespace quicbed {

class NewReno final : public CongestionController {
 public:
  // max_datagram_size: 1..kMaxCcDatagramSize; initial_window_packets:
  // kMinInitialWindowPackets..kMaxInitialWindowPackets.
  explicit NewReno(uint64_t max_datagram_size, uint64_t initial_window_packets = kDefaultInitialWindowPackets);

  const char* name() const override { return "newreno"; }
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

 private:
  uint64_t max_datagram_size_;
  uint64_t cwnd_;
  uint64_t ssthresh_ = kU64Max;  // B.3: infinite until the first congestion event
  RecoveryPeriod recovery_;
  GrowthCarry avoidance_;
};

}  // namespace quicbed
