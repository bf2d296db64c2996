// BBR (draft-ietf-ccwg-bbr, "BBRv3") in integers: a model of the path, the
// maximum recent delivery rate (max_bw) and the minimum recent round-trip
// time (min_rtt), sets the pacing rate to a gain times the bandwidth and the
// window to a gain times the bandwidth-delay product. The state machine
// (§5.3): Startup doubles the rate each round until the bandwidth stops
// growing or loss is high; Drain empties the queue Startup built; ProbeBW
// cycles DOWN, CRUISE, REFILL and UP to probe for more bandwidth and make
// room for other flows; ProbeRTT shrinks the flight every few seconds to
// see the path's propagation delay. Loss and ECN-CE bound the flight from
// above (inflight_hi, learned when probing) and, per round, from below
// (bw_lo, inflight_lo).
//
// Gains are percentages (2.77 = 277), exact for every constant the draft
// gives. Rates are bytes per second, times microseconds, volumes bytes.
// Delivery rate samples come from the connection's DeliveryRateEstimator
// through CcAck::rate; an ACK without one updates only the window.
#pragma once

#include <cstdint>

#include "cc/congestion_controller.h"
#include "cc/window.h"
#include "cc/windowed_filter.h"

namespace quicbed {

class Bbr final : public CongestionController {
 public:
  // draft-ietf-ccwg-bbr §2.4-§2.13 constants; gains in percent.
  static constexpr uint64_t kGainUnit = 100;
  static constexpr uint64_t kStartupPacingGain = 277;  // 4 ln 2
  static constexpr uint64_t kDefaultCwndGain = 200;    // also Startup's
  static constexpr uint64_t kDrainPacingGain = 50;
  static constexpr uint64_t kProbeBwDownPacingGain = 90;
  static constexpr uint64_t kProbeBwUpPacingGain = 125;
  static constexpr uint64_t kProbeBwUpCwndGain = 225;
  static constexpr uint64_t kProbeRttCwndGain = 50;
  static constexpr uint64_t kPacingMarginPercent = 1;
  static constexpr uint64_t kLossThreshPercent = 2;
  static constexpr uint64_t kBetaPercent = 70;
  static constexpr uint64_t kHeadroomPercent = 15;
  static constexpr uint64_t kFullBwGrowthPercent = 125;
  static constexpr uint64_t kFullBwCount = 3;
  static constexpr uint64_t kStartupFullLossCount = 6;
  static constexpr uint64_t kMinRttFilterLenUs = 10'000'000;
  static constexpr uint64_t kProbeRttIntervalUs = 5'000'000;
  static constexpr uint64_t kProbeRttDurationUs = 200'000;
  static constexpr uint64_t kExtraAckedFilterLenRounds = 10;
  static constexpr uint64_t kMaxRenoRounds = 63;
  static constexpr uint64_t kMaxProbeUpRounds = 30;
  static constexpr uint64_t kProbeWaitBaseUs = 2'000'000;
  static constexpr uint64_t kProbeWaitRandUs = 1'000'000;

  enum class Mode : uint8_t { kStartup, kDrain, kProbeBwDown, kProbeBwCruise, kProbeBwRefill, kProbeBwUp, kProbeRtt };

  // max_datagram_size: 1..kMaxCcDatagramSize; initial_window_packets:
  // kMinInitialWindowPackets..kMaxInitialWindowPackets (BBR.InitialCwnd,
  // §5.6.4.1). `seed` drives the random ProbeBW wait (§5.3.3.5.3), so runs
  // with one seed are reproducible.
  explicit Bbr(uint64_t max_datagram_size, uint64_t initial_window_packets = kDefaultInitialWindowPackets,
               uint64_t seed = 0x9e3779b97f4a7c15ULL);

  const char* name() const override { return "bbr"; }
  void on_packet_sent(uint64_t now, uint64_t bytes, uint64_t bytes_in_flight) override;
  void on_ack(const CcAck& ack, const RttEstimator& rtt) override;
  void on_congestion_event(uint64_t now, uint64_t sent_time, bool ecn) override;
  void on_persistent_congestion(uint64_t now) override;
  void on_packet_lost(const CcLoss& loss) override;
  void set_max_datagram_size(uint64_t bytes) override;
  uint64_t max_datagram_size() const override { return mds_; }
  // §5.3.4.4: ProbeRTT's small flight says nothing about the bandwidth.
  bool wants_app_limited_samples() const override { return mode_ == Mode::kProbeRtt; }

  uint64_t cwnd() const override { return cwnd_; }
  // BBR keeps no slow start threshold.
  uint64_t ssthresh() const override { return kU64Max; }
  CcState state() const override;
  // Its modes are not recovery states: loss recovery (§5.6.4.4) runs in
  // every mode. ECN-CE starts none (on_congestion_event).
  CcRecovery recovery() const override { return recovery_.phase(); }
  uint64_t pacing_rate(const RttEstimator& rtt) const override;
  uint64_t send_quantum() const override { return send_quantum_; }

  // The model, for traces and tests.
  Mode mode() const { return mode_; }
  uint64_t bw() const { return bw_; }
  uint64_t max_bw() const { return max_bw_; }
  uint64_t min_rtt() const { return min_rtt_; }
  uint64_t bdp() const { return bdp_multiple(bw_, kGainUnit); }
  uint64_t pacing_gain() const { return pacing_gain_; }
  uint64_t cwnd_gain() const { return cwnd_gain_; }
  uint64_t inflight_hi() const { return inflight_hi_; }
  uint64_t inflight_lo() const { return inflight_lo_; }
  uint64_t bw_lo() const { return bw_lo_; }
  uint64_t extra_acked() const { return extra_acked_.get(); }
  uint64_t round_count() const { return round_count_; }
  bool filled_pipe() const { return filled_pipe_; }
  bool in_recovery() const { return recovery_.active(); }

 private:
  enum class AckPhase : uint8_t { kInit, kProbeStarting, kProbeStopping, kRefilling, kProbeFeedback };

  // §5.2 per-ACK steps.
  void update_round(const RateSample& rs);
  void update_latest_delivery_signals(const RateSample& rs);
  void advance_latest_delivery_signals(const RateSample& rs);
  void update_congestion_signals(const RateSample& rs);
  void update_max_bw(const RateSample& rs);
  void advance_max_bw_filter();
  void update_ack_aggregation(const RateSample& rs, uint64_t now);
  void check_full_bw_reached(const RateSample& rs);
  void check_startup_high_loss(const RateSample& rs);
  void check_startup_done();
  void check_drain(uint64_t bytes_in_flight, uint64_t now);
  void update_probe_bw_cycle_phase(const RateSample& rs, uint64_t bytes_in_flight, uint64_t now);
  void adapt_upper_bounds(const RateSample& rs, uint64_t now);
  void update_min_rtt(const RateSample& rs, uint64_t now);
  void check_probe_rtt(const RateSample& rs, uint64_t bytes_in_flight, uint64_t now);
  void bound_bw_for_model();
  void set_pacing_rate(uint64_t gain);
  void set_send_quantum();
  void set_cwnd(const RateSample& rs, uint64_t bytes_in_flight);

  // §5.3 transitions.
  void enter_startup();
  void enter_drain();
  void enter_probe_bw(uint64_t now);
  void start_probe_bw_down(uint64_t now);
  void start_probe_bw_cruise();
  void start_probe_bw_refill();
  void start_probe_bw_up();
  void enter_probe_rtt();
  void exit_probe_rtt(uint64_t now);
  void set_mode(Mode m, uint64_t pacing_gain, uint64_t cwnd_gain);

  // §5.3.3 helpers.
  bool is_in_probe_bw() const;
  bool is_probing_bw() const;
  bool is_time_to_probe_bw(uint64_t now);
  bool is_time_to_cruise(uint64_t bytes_in_flight) const;
  bool is_time_to_go_down();
  bool is_reno_coexistence_probe_time() const;
  void pick_probe_wait();
  void raise_inflight_hi_slope();
  void probe_inflight_hi_upward(const RateSample& rs);
  bool is_inflight_too_high(uint64_t lost, uint64_t tx_in_flight) const;
  void handle_inflight_too_high(bool app_limited, uint64_t tx_in_flight, uint64_t now);
  void note_loss();
  void reset_congestion_signals();
  void reset_lower_bounds();
  void reset_full_bw();
  void start_round() { next_round_delivered_ = delivered_; }

  // §5.6 volumes.
  uint64_t bdp_multiple(uint64_t bw, uint64_t gain) const;
  uint64_t inflight(uint64_t bw, uint64_t gain) const;
  uint64_t target_inflight() const;
  uint64_t inflight_with_headroom() const;
  uint64_t probe_rtt_cwnd() const;
  uint64_t quantization_budget(uint64_t inflight) const;
  uint64_t min_pipe_cwnd() const { return 4 * mds_; }
  uint64_t next_random();

  uint64_t mds_;
  uint64_t initial_cwnd_;
  uint64_t rng_;
  bool started_ = false;  // the first packet was sent or acked
  Mode mode_ = Mode::kStartup;
  uint64_t pacing_gain_ = kStartupPacingGain;
  uint64_t cwnd_gain_ = kDefaultCwndGain;
  uint64_t cwnd_;
  uint64_t pacing_rate_ = 0;
  bool pacing_from_rtt_ = false;
  uint64_t send_quantum_;

  // Round counting (§5.5.1), by delivered bytes.
  uint64_t delivered_ = 0;
  uint64_t next_round_delivered_ = 0;
  uint64_t round_count_ = 0;
  bool round_start_ = false;
  bool cwnd_limited_ = false;       // the flight reached cwnd this round
  bool cwnd_limited_now_ = false;   // ... in the round being counted

  // Bandwidth model (§5.5.2-§5.5.5).
  uint64_t max_bw_slots_[2] = {0, 0};  // current and previous ProbeBW cycle
  uint64_t cycle_count_ = 0;
  uint64_t max_bw_ = 0;
  uint64_t bw_ = 0;
  uint64_t bw_lo_ = kU64Max;
  uint64_t inflight_lo_ = kU64Max;
  uint64_t inflight_hi_ = kU64Max;
  uint64_t bw_latest_ = 0;
  uint64_t inflight_latest_ = 0;
  uint64_t loss_round_delivered_ = 0;
  bool loss_round_start_ = false;
  bool loss_in_round_ = false;
  uint64_t loss_events_in_round_ = 0;  // Startup's high-loss exit
  uint64_t lost_in_round_ = 0;
  uint64_t last_loss_inflight_ = 0;  // bytes in flight after the last loss

  // Startup exit (§5.3.1.2).
  bool filled_pipe_ = false;
  bool full_bw_now_ = false;
  uint64_t full_bw_ = 0;
  uint64_t full_bw_count_ = 0;

  // ProbeBW (§5.3.3).
  AckPhase ack_phase_ = AckPhase::kInit;
  uint64_t cycle_stamp_ = 0;
  uint64_t bw_probe_wait_ = 0;
  uint64_t rounds_since_bw_probe_ = 0;
  bool bw_probe_samples_ = false;
  uint64_t bw_probe_up_rounds_ = 0;
  uint64_t bw_probe_up_acks_ = 0;
  uint64_t bw_probe_up_cnt_ = kU64Max;

  // min_rtt and ProbeRTT (§5.3.4).
  uint64_t min_rtt_ = kU64Max;
  uint64_t min_rtt_stamp_ = 0;
  uint64_t probe_rtt_min_delay_ = kU64Max;
  uint64_t probe_rtt_min_stamp_ = 0;
  bool probe_rtt_expired_ = false;
  uint64_t probe_rtt_done_stamp_ = 0;
  bool probe_rtt_round_done_ = false;
  bool idle_restart_ = false;
  uint64_t prior_cwnd_ = 0;

  // ACK aggregation (§5.5.9).
  WindowedMax extra_acked_{kExtraAckedFilterLenRounds};
  uint64_t extra_acked_interval_start_ = 0;
  uint64_t extra_acked_delivered_ = 0;

  // Loss recovery (§5.6.4.4), the RFC 9002 period.
  RecoveryPeriod recovery_;
  bool packet_conservation_ = false;
  uint64_t recovery_round_end_ = 0;
};

}  // namespace quicbed
