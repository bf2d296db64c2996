#include "cc/bbr.h"

#include "base/assert.h"

namespace quicbed {

namespace {

constexpr uint64_t kUsPerSec = 1'000'000;
// §5.6.3: the send quantum is at most 64 KB.
constexpr uint64_t kMaxSendQuantum = 64 * 1024;

uint64_t percent(uint64_t v, uint64_t pct) { return mul_div(v, pct, Bbr::kGainUnit); }

}  // namespace

Bbr::Bbr(uint64_t max_datagram_size, uint64_t initial_window_packets, uint64_t seed)
    : mds_(max_datagram_size),
      initial_cwnd_(initial_window(max_datagram_size, initial_window_packets)),
      rng_(seed ? seed : 1),
      cwnd_(initial_cwnd_),
      send_quantum_(2 * max_datagram_size) {
  QB_ASSERT(max_datagram_size > 0 && max_datagram_size <= kMaxCcDatagramSize);
  QB_ASSERT(initial_window_packets >= kMinInitialWindowPackets && initial_window_packets <= kMaxInitialWindowPackets);
  // §5.6.2 BBRInitPacingRate without an RTT sample: the initial window per
  // millisecond, times the Startup gain. The first RTT sample replaces it.
  pacing_rate_ = mul_div(initial_cwnd_, kStartupPacingGain * 1'000, kGainUnit);
  set_send_quantum();
  enter_startup();
}

// xorshift64: the ProbeBW wait needs only spread, not secrecy.
uint64_t Bbr::next_random() {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

// DPLPMTUD changed the datagram size (RFC 9000 §14.3): the model is in
// bytes and keeps what it learned; only the floors in datagrams follow.
void Bbr::set_max_datagram_size(uint64_t bytes) {
  QB_ASSERT(bytes > 0 && bytes <= kMaxCcDatagramSize);
  mds_ = bytes;
  cwnd_ = max_u64(cwnd_, min_pipe_cwnd());
}

CcState Bbr::state() const {
  switch (mode_) {
    case Mode::kStartup: return CcState::kBbrStartup;
    case Mode::kDrain: return CcState::kBbrDrain;
    case Mode::kProbeBwDown: return CcState::kBbrProbeBwDown;
    case Mode::kProbeBwCruise: return CcState::kBbrProbeBwCruise;
    case Mode::kProbeBwRefill: return CcState::kBbrProbeBwRefill;
    case Mode::kProbeBwUp: return CcState::kBbrProbeBwUp;
    case Mode::kProbeRtt: return CcState::kBbrProbeRtt;
  }
  return CcState::kBbrStartup;
}

uint64_t Bbr::pacing_rate(const RttEstimator&) const { return pacing_rate_; }

void Bbr::set_mode(Mode m, uint64_t pacing_gain, uint64_t cwnd_gain) {
  mode_ = m;
  pacing_gain_ = pacing_gain;
  cwnd_gain_ = cwnd_gain;
}

// ---- Sending ---------------------------------------------------------------

void Bbr::on_packet_sent(uint64_t now, uint64_t bytes, uint64_t bytes_in_flight) {
  if (!started_) {
    // §5.2 BBRInit: the min_rtt and ProbeRTT clocks start now.
    started_ = true;
    min_rtt_stamp_ = now;
    probe_rtt_min_stamp_ = now;
    cycle_stamp_ = now;
    extra_acked_interval_start_ = now;
  } else if (bytes_in_flight == bytes) {
    // §5.4.3 restart from idle: the flight was empty. ACK aggregation is
    // measured afresh, and ProbeBW paces at the estimated bandwidth rather
    // than probing it from a cold start.
    idle_restart_ = true;
    extra_acked_interval_start_ = now;
    if (is_in_probe_bw()) set_pacing_rate(kGainUnit);
  }
  // C.is_cwnd_limited: no room for another full-sized packet.
  if (bytes_in_flight + mds_ > cwnd_) cwnd_limited_now_ = true;
}

// ---- ACKs ------------------------------------------------------------------

void Bbr::on_ack(const CcAck& ack, const RttEstimator& rtt) {
  const bool was_recovering = recovery_.active();
  recovery_.on_ack(ack.largest_acked_sent_time);
  if (was_recovering && !recovery_.active()) {
    // §5.6.4.4: leaving recovery restores the window recovery cut.
    packet_conservation_ = false;
    cwnd_ = max_u64(cwnd_, prior_cwnd_);
  }

  RateSample rs;
  if (ack.rate) {
    rs = *ack.rate;
  } else {
    rs.newly_acked = ack.bytes_acked;
  }
  if (!started_) {
    started_ = true;
    min_rtt_stamp_ = probe_rtt_min_stamp_ = cycle_stamp_ = extra_acked_interval_start_ = ack.now;
  }
  // §5.6.2: the initial pacing rate from the first smoothed RTT.
  if (!pacing_from_rtt_ && rtt.has_sample() && rtt.smoothed_rtt() > 0) {
    pacing_from_rtt_ = true;
    pacing_rate_ = mul_div(initial_cwnd_, kStartupPacingGain * (kUsPerSec / kGainUnit), rtt.smoothed_rtt());
  }

  if (rs.valid) {
    delivered_ = rs.conn_delivered;
    if (packet_conservation_ && rs.prior_delivered >= recovery_round_end_) packet_conservation_ = false;
    // §5.2 BBRUpdateModelAndState.
    update_latest_delivery_signals(rs);
    update_congestion_signals(rs);
    update_ack_aggregation(rs, ack.now);
    check_full_bw_reached(rs);
    check_startup_done();
    check_drain(ack.bytes_in_flight, ack.now);
    update_probe_bw_cycle_phase(rs, ack.bytes_in_flight, ack.now);
    update_min_rtt(rs, ack.now);
    check_probe_rtt(rs, ack.bytes_in_flight, ack.now);
    advance_latest_delivery_signals(rs);
    bound_bw_for_model();
    // §5.2 BBRUpdateControlParameters.
    set_pacing_rate(pacing_gain_);
    set_send_quantum();
  }
  set_cwnd(rs, ack.bytes_in_flight);
}

// §5.5.1 round counting: a round ends when a packet sent after the
// previous round ended is acknowledged.
void Bbr::update_round(const RateSample& rs) {
  round_start_ = false;
  if (rs.prior_delivered < next_round_delivered_) return;
  start_round();
  ++round_count_;
  ++rounds_since_bw_probe_;
  round_start_ = true;
  cwnd_limited_ = cwnd_limited_now_;
  cwnd_limited_now_ = false;
}

// §5.5.10.3 BBRUpdateLatestDeliverySignals.
void Bbr::update_latest_delivery_signals(const RateSample& rs) {
  loss_round_start_ = false;
  bw_latest_ = max_u64(bw_latest_, rs.delivery_rate);
  inflight_latest_ = max_u64(inflight_latest_, rs.delivered);
  if (rs.prior_delivered >= loss_round_delivered_) {
    loss_round_delivered_ = delivered_;
    loss_round_start_ = true;
  }
}

void Bbr::advance_latest_delivery_signals(const RateSample& rs) {
  if (!loss_round_start_) return;
  bw_latest_ = rs.delivery_rate;
  inflight_latest_ = rs.delivered;
}

// §5.5.10.3 BBRUpdateCongestionSignals and BBRAdaptLowerBoundsFromCongestion:
// once per round with loss, outside bandwidth probing, the short-term
// bounds shrink by Beta but not below what the round delivered.
void Bbr::update_congestion_signals(const RateSample& rs) {
  update_max_bw(rs);
  if (!loss_round_start_) return;
  check_startup_high_loss(rs);
  if (!is_probing_bw() && loss_in_round_) {
    if (bw_lo_ == kU64Max) bw_lo_ = max_bw_;
    if (inflight_lo_ == kU64Max) inflight_lo_ = cwnd_;
    bw_lo_ = max_u64(bw_latest_, percent(bw_lo_, kBetaPercent));
    inflight_lo_ = max_u64(inflight_latest_, percent(inflight_lo_, kBetaPercent));
  }
  loss_in_round_ = false;
  loss_events_in_round_ = 0;
}

// §5.5.5 BBRUpdateMaxBw: app-limited samples only raise the estimate.
void Bbr::update_max_bw(const RateSample& rs) {
  update_round(rs);
  if (rs.delivery_rate == 0) return;
  if (rs.delivery_rate >= max_bw_ || !rs.is_app_limited) {
    max_bw_slots_[1] = max_u64(max_bw_slots_[1], rs.delivery_rate);
    max_bw_ = max_u64(max_bw_slots_[0], max_bw_slots_[1]);
  }
}

// §5.5.5: the filter covers the current and the previous ProbeBW cycle.
void Bbr::advance_max_bw_filter() {
  ++cycle_count_;
  max_bw_slots_[0] = max_bw_slots_[1];
  max_bw_slots_[1] = 0;
  max_bw_ = max_bw_slots_[0];
}

// §5.5.9 BBRUpdateACKAggregation: data acknowledged beyond what the
// estimated bandwidth explains, the max over ten rounds, is headroom the
// window needs when ACKs come in bursts.
void Bbr::update_ack_aggregation(const RateSample& rs, uint64_t now) {
  const uint64_t interval = sat_sub(now, extra_acked_interval_start_);
  uint64_t expected = mul_div(bw_, interval, kUsPerSec);
  if (extra_acked_delivered_ <= expected) {
    extra_acked_delivered_ = 0;
    extra_acked_interval_start_ = now;
    expected = 0;
  }
  extra_acked_delivered_ += rs.newly_acked;
  const uint64_t extra = min_u64(extra_acked_delivered_ - expected, cwnd_);
  extra_acked_.update(extra, round_count_);
}

// §5.3.1.2: the pipe is full when max_bw grew less than 25 % in three
// consecutive non-app-limited rounds. Also ends ProbeBW_UP.
void Bbr::check_full_bw_reached(const RateSample& rs) {
  if (full_bw_now_ || !round_start_ || rs.is_app_limited || max_bw_ == 0) return;
  if (max_bw_ >= percent(full_bw_, kFullBwGrowthPercent) && max_bw_ > full_bw_) {
    reset_full_bw();
    full_bw_ = max_bw_;
    return;
  }
  ++full_bw_count_;
  full_bw_now_ = full_bw_count_ >= kFullBwCount;
  if (full_bw_now_) filled_pipe_ = true;
}

// §5.3.1.3 BBRCheckStartupHighLoss: a round of Startup in recovery with
// at least kStartupFullLossCount loss events (one per batch of losses the
// ACKs or the timer declared) and a loss rate above kLossThresh ends
// Startup, and the flight it reached becomes inflight_hi.
void Bbr::check_startup_high_loss(const RateSample& rs) {
  if (filled_pipe_ || mode_ != Mode::kStartup || !recovery_.active()) return;
  if (loss_events_in_round_ < kStartupFullLossCount) return;
  if (!is_inflight_too_high(rs.lost, rs.tx_in_flight) && !is_inflight_too_high(lost_in_round_, inflight_latest_)) {
    return;
  }
  filled_pipe_ = true;
  inflight_hi_ = max_u64(bdp_multiple(max_bw_, kGainUnit), inflight_latest_);
}

void Bbr::check_startup_done() {
  if (mode_ == Mode::kStartup && filled_pipe_) enter_drain();
}

// §5.3.2: Drain ends when the flight is down to one BDP.
void Bbr::check_drain(uint64_t bytes_in_flight, uint64_t now) {
  if (mode_ == Mode::kDrain && bytes_in_flight <= inflight(bw_, kGainUnit)) enter_probe_bw(now);
}

// ---- State transitions (§5.3) ---------------------------------------------

void Bbr::enter_startup() { set_mode(Mode::kStartup, kStartupPacingGain, kDefaultCwndGain); }

void Bbr::enter_drain() { set_mode(Mode::kDrain, kDrainPacingGain, kDefaultCwndGain); }

void Bbr::enter_probe_bw(uint64_t now) {
  cwnd_gain_ = kDefaultCwndGain;
  start_probe_bw_down(now);
}

// §5.3.3.6 BBRStartProbeBW_DOWN.
void Bbr::start_probe_bw_down(uint64_t now) {
  reset_congestion_signals();
  bw_probe_up_cnt_ = kU64Max;
  pick_probe_wait();
  cycle_stamp_ = now;
  ack_phase_ = AckPhase::kProbeStopping;
  start_round();
  set_mode(Mode::kProbeBwDown, kProbeBwDownPacingGain, kDefaultCwndGain);
}

void Bbr::start_probe_bw_cruise() { set_mode(Mode::kProbeBwCruise, kGainUnit, kDefaultCwndGain); }

// REFILL sends at the estimated bandwidth for a round, so that UP's
// higher rate measures the path and not a queue that drained meanwhile.
void Bbr::start_probe_bw_refill() {
  reset_lower_bounds();
  bw_probe_up_rounds_ = 0;
  bw_probe_up_acks_ = 0;
  ack_phase_ = AckPhase::kRefilling;
  start_round();
  set_mode(Mode::kProbeBwRefill, kGainUnit, kDefaultCwndGain);
}

void Bbr::start_probe_bw_up() {
  ack_phase_ = AckPhase::kProbeStarting;
  start_round();
  reset_full_bw();
  full_bw_ = max_bw_;
  set_mode(Mode::kProbeBwUp, kProbeBwUpPacingGain, kProbeBwUpCwndGain);
  raise_inflight_hi_slope();
}

void Bbr::enter_probe_rtt() { set_mode(Mode::kProbeRtt, kGainUnit, kProbeRttCwndGain); }

// §5.3.4.4 BBRExitProbeRTT.
void Bbr::exit_probe_rtt(uint64_t now) {
  reset_lower_bounds();
  if (filled_pipe_) {
    start_probe_bw_down(now);
    start_probe_bw_cruise();
  } else {
    enter_startup();
  }
}

// ---- ProbeBW (§5.3.3) -------------------------------------------------------

bool Bbr::is_in_probe_bw() const {
  return mode_ == Mode::kProbeBwDown || mode_ == Mode::kProbeBwCruise || mode_ == Mode::kProbeBwRefill ||
         mode_ == Mode::kProbeBwUp;
}

bool Bbr::is_probing_bw() const {
  return mode_ == Mode::kStartup || mode_ == Mode::kProbeBwRefill || mode_ == Mode::kProbeBwUp;
}

// §5.3.3.5.3: wait 2 to 3 s, and 0 or 1 extra rounds, between probes.
void Bbr::pick_probe_wait() {
  rounds_since_bw_probe_ = next_random() & 1;
  bw_probe_wait_ = kProbeWaitBaseUs + next_random() % kProbeWaitRandUs;
}

void Bbr::update_probe_bw_cycle_phase(const RateSample& rs, uint64_t bytes_in_flight, uint64_t now) {
  if (!filled_pipe_) return;
  adapt_upper_bounds(rs, now);
  if (!is_in_probe_bw()) return;
  switch (mode_) {
    case Mode::kProbeBwDown:
      if (is_time_to_probe_bw(now)) return;
      if (is_time_to_cruise(bytes_in_flight)) start_probe_bw_cruise();
      break;
    case Mode::kProbeBwCruise:
      is_time_to_probe_bw(now);
      break;
    case Mode::kProbeBwRefill:
      // After one round of refilling, probe.
      if (round_start_) {
        bw_probe_samples_ = true;
        start_probe_bw_up();
      }
      break;
    case Mode::kProbeBwUp:
      if (is_time_to_go_down()) start_probe_bw_down(now);
      break;
    default:
      break;
  }
}

bool Bbr::is_time_to_probe_bw(uint64_t now) {
  if (now > sat_add(cycle_stamp_, bw_probe_wait_) || is_reno_coexistence_probe_time()) {
    start_probe_bw_refill();
    return true;
  }
  return false;
}

// §5.3.3.5.1: probe at least as often as Reno would fill the same window.
// The window counts at least BBR's minimum (four packets): on a path whose
// BDP is under a packet (loopback, a LAN) the draft's formula gives zero
// rounds, and ProbeBW would probe on every ACK, never holding a lower bound.
bool Bbr::is_reno_coexistence_probe_time() const {
  const uint64_t reno_rounds = max_u64(target_inflight(), min_pipe_cwnd()) / mds_;
  return rounds_since_bw_probe_ >= min_u64(reno_rounds, kMaxRenoRounds);
}

bool Bbr::is_time_to_cruise(uint64_t bytes_in_flight) const {
  if (bytes_in_flight > inflight_with_headroom()) return false;
  return bytes_in_flight <= inflight(max_bw_, kGainUnit);
}

bool Bbr::is_time_to_go_down() {
  if ((cwnd_limited_ || cwnd_limited_now_) && cwnd_ >= inflight_hi_) {
    // Limited by inflight_hi, not the path: keep probing.
    reset_full_bw();
    full_bw_ = max_bw_;
  } else if (full_bw_now_) {
    return true;
  }
  return false;
}

// §5.3.3.6 BBRAdaptUpperBounds.
void Bbr::adapt_upper_bounds(const RateSample& rs, uint64_t now) {
  if (ack_phase_ == AckPhase::kProbeStarting && round_start_) ack_phase_ = AckPhase::kProbeFeedback;
  if (ack_phase_ == AckPhase::kProbeStopping && round_start_) {
    bw_probe_samples_ = false;
    ack_phase_ = AckPhase::kInit;
    if (is_in_probe_bw() && !rs.is_app_limited) advance_max_bw_filter();
  }
  if (is_inflight_too_high(rs.lost, rs.tx_in_flight)) {
    if (bw_probe_samples_) handle_inflight_too_high(rs.is_app_limited, rs.tx_in_flight, now);
    return;
  }
  if (inflight_hi_ == kU64Max) return;
  if (rs.tx_in_flight > inflight_hi_) inflight_hi_ = rs.tx_in_flight;
  if (mode_ == Mode::kProbeBwUp) probe_inflight_hi_upward(rs);
}

// §5.3.3.6: inflight_hi grows 1, 2, 4, ... packets per round while UP is
// limited by it.
void Bbr::raise_inflight_hi_slope() {
  const uint64_t growth_packets = uint64_t{1} << bw_probe_up_rounds_;
  bw_probe_up_rounds_ = min_u64(bw_probe_up_rounds_ + 1, kMaxProbeUpRounds);
  bw_probe_up_cnt_ = max_u64(cwnd_ / growth_packets, 1);  // bytes acked per packet of growth
}

void Bbr::probe_inflight_hi_upward(const RateSample& rs) {
  if (!(cwnd_limited_ || cwnd_limited_now_) || cwnd_ < inflight_hi_) return;
  bw_probe_up_acks_ += rs.newly_acked;
  if (bw_probe_up_acks_ >= bw_probe_up_cnt_) {
    const uint64_t delta = bw_probe_up_acks_ / bw_probe_up_cnt_;
    bw_probe_up_acks_ -= delta * bw_probe_up_cnt_;
    inflight_hi_ = sat_add(inflight_hi_, mul_div(delta, mds_, 1));
  }
  if (round_start_) raise_inflight_hi_slope();
}

// §5.5.10.2 IsInflightTooHigh: more than kLossThresh of the flight lost.
bool Bbr::is_inflight_too_high(uint64_t lost, uint64_t tx_in_flight) const {
  return lost > 0 && lost > percent(tx_in_flight, kLossThreshPercent);
}

// §5.5.10.2 BBRHandleInflightTooHigh: probing overfilled the path; the
// flight when that became visible is the upper bound.
void Bbr::handle_inflight_too_high(bool app_limited, uint64_t tx_in_flight, uint64_t now) {
  bw_probe_samples_ = false;
  if (!app_limited) inflight_hi_ = max_u64(tx_in_flight, percent(target_inflight(), kBetaPercent));
  if (mode_ == Mode::kProbeBwUp) start_probe_bw_down(now);
}

void Bbr::reset_congestion_signals() {
  loss_in_round_ = false;
  loss_events_in_round_ = 0;
  lost_in_round_ = 0;
  bw_latest_ = 0;
  inflight_latest_ = 0;
}

void Bbr::reset_lower_bounds() {
  bw_lo_ = kU64Max;
  inflight_lo_ = kU64Max;
}

void Bbr::reset_full_bw() {
  full_bw_ = 0;
  full_bw_count_ = 0;
  full_bw_now_ = false;
}

// ---- min_rtt and ProbeRTT (§5.3.4) ------------------------------------------

void Bbr::update_min_rtt(const RateSample& rs, uint64_t now) {
  probe_rtt_expired_ = now > sat_add(probe_rtt_min_stamp_, kProbeRttIntervalUs);
  if (rs.rtt > 0 && (rs.rtt < probe_rtt_min_delay_ || probe_rtt_expired_)) {
    probe_rtt_min_delay_ = rs.rtt;
    probe_rtt_min_stamp_ = now;
  }
  const bool min_rtt_expired = now > sat_add(min_rtt_stamp_, kMinRttFilterLenUs);
  if (probe_rtt_min_delay_ < min_rtt_ || min_rtt_expired) {
    min_rtt_ = probe_rtt_min_delay_;
    min_rtt_stamp_ = probe_rtt_min_stamp_;
  }
}

void Bbr::check_probe_rtt(const RateSample& rs, uint64_t bytes_in_flight, uint64_t now) {
  if (mode_ != Mode::kProbeRtt && probe_rtt_expired_ && !idle_restart_) {
    prior_cwnd_ = (recovery_.active() || mode_ == Mode::kProbeRtt) ? max_u64(prior_cwnd_, cwnd_) : cwnd_;
    enter_probe_rtt();
    probe_rtt_done_stamp_ = 0;
    ack_phase_ = AckPhase::kProbeStopping;
    start_round();
  }
  if (mode_ == Mode::kProbeRtt) {
    // §5.3.4.4 BBRHandleProbeRTT: hold the small flight for 200 ms and a
    // round once it is reached.
    if (probe_rtt_done_stamp_ == 0 && bytes_in_flight <= probe_rtt_cwnd()) {
      probe_rtt_done_stamp_ = sat_add(now, kProbeRttDurationUs);
      probe_rtt_round_done_ = false;
      start_round();
    } else if (probe_rtt_done_stamp_ != 0) {
      if (round_start_) probe_rtt_round_done_ = true;
      if (probe_rtt_round_done_ && now > probe_rtt_done_stamp_) {
        probe_rtt_min_stamp_ = now;
        cwnd_ = max_u64(cwnd_, prior_cwnd_);
        exit_probe_rtt(now);
      }
    }
  }
  if (rs.delivered > 0) idle_restart_ = false;
}

// ---- Losses ------------------------------------------------------------------

void Bbr::note_loss() {
  if (!loss_in_round_) loss_round_delivered_ = delivered_;
  loss_in_round_ = true;
}

// §5.5.10.2 BBRHandleLostPacket: while probing, a loss rate above
// kLossThresh since the packet was sent caps the flight at the estimated
// flight when the threshold was crossed.
void Bbr::on_packet_lost(const CcLoss& loss) {
  note_loss();
  lost_in_round_ += loss.bytes;
  last_loss_inflight_ = loss.bytes_in_flight;
  if (!bw_probe_samples_) return;
  if (!is_inflight_too_high(loss.lost_since_sent, loss.tx_in_flight)) return;
  // §5.5.10.2 BBRInflightAtLoss: the flight before this packet plus the
  // part of the loss that the threshold allowed.
  const uint64_t inflight_prev = sat_sub(loss.tx_in_flight, loss.bytes);
  const uint64_t lost_prev = sat_sub(loss.lost_since_sent, loss.bytes);
  const uint64_t allowed = percent(inflight_prev, kLossThreshPercent);
  const uint64_t lost_prefix = allowed > lost_prev ? mul_div(allowed - lost_prev, kGainUnit, kGainUnit - kLossThreshPercent) : 0;
  handle_inflight_too_high(loss.is_app_limited, inflight_prev + lost_prefix, loss.now);
}

// RFC 9002 §7.3.2 recovery period, with §5.6.4.4's packet conservation for
// its first round. ECN-CE (RFC 9002 §7.1) is a congestion signal for the
// round's lower bounds but does not cut the window.
void Bbr::on_congestion_event(uint64_t now, uint64_t sent_time, bool ecn) {
  note_loss();
  if (ecn) return;
  ++loss_events_in_round_;
  if (recovery_.covers(sent_time)) return;
  prior_cwnd_ = (recovery_.active() || mode_ == Mode::kProbeRtt) ? max_u64(prior_cwnd_, cwnd_) : cwnd_;
  recovery_.start(now, false);
  packet_conservation_ = true;
  recovery_round_end_ = delivered_;
  cwnd_ = max_u64(last_loss_inflight_ + mds_, min_pipe_cwnd());
}

// RFC 9002 §7.6.2: the window collapses; the model is kept.
void Bbr::on_persistent_congestion(uint64_t now) {
  prior_cwnd_ = max_u64(prior_cwnd_, cwnd_);
  cwnd_ = minimum_window(mds_);
  recovery_.clear(now);
  packet_conservation_ = false;
}

// ---- Control parameters (§5.6) -----------------------------------------------

void Bbr::bound_bw_for_model() { bw_ = min_u64(max_bw_, bw_lo_); }

// §5.6.2 BBRSetPacingRateWithGain: gain * bw, less a 1 % margin; before the
// pipe is full it only grows.
void Bbr::set_pacing_rate(uint64_t gain) {
  if (bw_ == 0) return;
  const uint64_t rate = mul_div(bw_, gain * (kGainUnit - kPacingMarginPercent), kGainUnit * kGainUnit);
  if (filled_pipe_ || rate > pacing_rate_) pacing_rate_ = rate;
}

// §5.6.3: about a millisecond of data, between two packets and 64 KB.
void Bbr::set_send_quantum() {
  send_quantum_ = min_u64(max_u64(pacing_rate_ / 1'000, 2 * mds_), kMaxSendQuantum);
}

uint64_t Bbr::bdp_multiple(uint64_t bw, uint64_t gain) const {
  if (min_rtt_ == kU64Max) return percent(initial_cwnd_, gain);
  return percent(mul_div(bw, min_rtt_, kUsPerSec), gain);
}

// §5.6.4.2 BBRQuantizationBudget: room for the sender's and receiver's
// batching, and UP's extra two packets.
uint64_t Bbr::quantization_budget(uint64_t inflight) const {
  inflight = max_u64(inflight, 3 * send_quantum_);
  inflight = max_u64(inflight, min_pipe_cwnd());
  if (mode_ == Mode::kProbeBwUp) inflight = sat_add(inflight, 2 * mds_);
  return inflight;
}

uint64_t Bbr::inflight(uint64_t bw, uint64_t gain) const { return quantization_budget(bdp_multiple(bw, gain)); }

uint64_t Bbr::target_inflight() const { return min_u64(bdp_multiple(bw_, kGainUnit), cwnd_); }

// §5.3.3.6: leave kHeadroom of inflight_hi free for other flows.
uint64_t Bbr::inflight_with_headroom() const {
  if (inflight_hi_ == kU64Max) return kU64Max;
  const uint64_t headroom = max_u64(mds_, percent(inflight_hi_, kHeadroomPercent));
  return max_u64(sat_sub(inflight_hi_, headroom), min_pipe_cwnd());
}

uint64_t Bbr::probe_rtt_cwnd() const {
  return max_u64(bdp_multiple(bw_, kProbeRttCwndGain), min_pipe_cwnd());
}

// §5.6.4.4-§5.6.4.6 BBRSetCwnd.
void Bbr::set_cwnd(const RateSample& rs, uint64_t bytes_in_flight) {
  const uint64_t max_inflight = quantization_budget(sat_add(bdp_multiple(bw_, cwnd_gain_), extra_acked_.get()));
  // §5.6.4.4 BBRModulateCwndForRecovery.
  if (rs.newly_lost > 0) cwnd_ = max_u64(sat_sub(cwnd_, rs.newly_lost), mds_);
  if (packet_conservation_) {
    cwnd_ = max_u64(cwnd_, bytes_in_flight + rs.newly_acked);
  } else {
    if (filled_pipe_) {
      cwnd_ = min_u64(sat_add(cwnd_, rs.newly_acked), max_inflight);
    } else if (cwnd_ < max_inflight || delivered_ < initial_cwnd_) {
      cwnd_ = sat_add(cwnd_, rs.newly_acked);
    }
    cwnd_ = max_u64(cwnd_, min_pipe_cwnd());
  }
  // §5.6.4.5 BBRBoundCwndForProbeRTT.
  if (mode_ == Mode::kProbeRtt) cwnd_ = min_u64(cwnd_, probe_rtt_cwnd());
  // §5.6.4.6 BBRBoundCwndForModel.
  uint64_t cap = kU64Max;
  if (is_in_probe_bw() && mode_ != Mode::kProbeBwCruise) {
    cap = inflight_hi_;
  } else if (mode_ == Mode::kProbeRtt || mode_ == Mode::kProbeBwCruise) {
    cap = inflight_with_headroom();
  }
  cap = min_u64(cap, inflight_lo_);
  cap = max_u64(cap, min_pipe_cwnd());
  cwnd_ = min_u64(cwnd_, cap);
}

}  // namespace quicbed
