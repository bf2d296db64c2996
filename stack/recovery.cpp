#include "recovery.h"

namespace quicbed {

Recovery::Recovery(Allocator& alloc, CongestionController& cc, RecoveryEvents& events, const RecoveryConfig& config)
    : alloc_(alloc),
      cc_(cc),
      events_(events),
      is_server_(config.is_server),
      max_outstanding_(config.max_outstanding),
      max_ack_delay_(config.max_ack_delay_us) {
  QB_ASSERT(max_outstanding_ > kProbeReserve);
}

Recovery::~Recovery() {
  for (Space& s : spaces_) {
    while (Record* r = s.sent.pop_front()) {
      send_order_.remove(r);
      destroy(alloc_, r);
    }
  }
}

bool Recovery::can_send(bool probe) const {
  size_t limit = probe ? max_outstanding_ : max_outstanding_ - kProbeReserve;
  return send_order_.size() < limit;
}

Status Recovery::on_packet_sent(const SentPacket& p) {
  Space& s = spaces_[idx(p.space)];
  if (p.ack_eliciting && !p.in_flight) return Status(ErrorCode::kInvalidArgument, "ack-eliciting packet not in flight");
  if (s.largest_sent != kNever && p.pn <= s.largest_sent) {
    return Status(ErrorCode::kInvalidArgument, "packet number does not increase");
  }
  if (!p.in_flight) {
    // §2: not in flight, so nothing to detect as lost or to count.
    s.largest_sent = p.pn;
    s.unrecorded_pn = p.pn;
    s.unrecorded_time = p.time_sent;
    return Status::ok();
  }
  if (send_order_.size() >= max_outstanding_) return Status(ErrorCode::kLimitExceeded, "too many packets in flight");
  Record* r = make<Record>(alloc_);
  if (!r) return ErrorCode::kNoMemory;
  r->packet = p;
  rate_.on_packet_sent(r->packet, bytes_in_flight_);
  r->ack_before = ack_after_last_;
  ack_after_last_ = false;
  s.sent.push_back(r);
  send_order_.push_back(r);
  s.largest_sent = p.pn;
  if (p.ack_eliciting) {
    s.time_of_last_ack_eliciting = p.time_sent;
    ++s.ack_eliciting_in_flight;
  }
  bytes_in_flight_ += p.bytes;
  cc_.on_packet_sent(p.time_sent, p.bytes, bytes_in_flight_);
  set_loss_detection_timer(p.time_sent);
  return Status::ok();
}

Status Recovery::on_ack_received(PnSpace space, const AckFrame& ack, bool has_ecn, uint64_t ack_delay_us,
                                 uint64_t now) {
  Space& s = spaces_[idx(space)];
  // RFC 9000 §13.1: we can tell a packet number above the largest we sent.
  if (s.largest_sent == kNever || ack.largest_acked > s.largest_sent) {
    return Status(ErrorCode::kProtocolViolation, "ACK of a packet never sent");
  }
  const bool largest_newly_acked = s.largest_acked == kNever || ack.largest_acked > s.largest_acked;
  if (largest_newly_acked) s.largest_acked = ack.largest_acked;
  if (space == PnSpace::kHandshake) handshake_ack_received_ = true;

  SpaceList acked;
  take_acked(s, ack, acked);
  // §A.7: nothing to do unless a packet is newly acknowledged. A packet
  // without a record cannot tell, except as a new largest acknowledged,
  // which may declare older packets lost.
  if (acked.empty() && !largest_newly_acked) return Status::ok();

  // §5.1: a sample only when the largest acknowledged is newly acknowledged
  // and something newly acknowledged elicited the ACK (its delay is then
  // bounded by max_ack_delay). The largest may be a packet without record.
  const Record* largest = acked.back();  // nullptr if only unrecorded ones
  uint64_t largest_sent_time = kNever;
  if (largest && largest->packet.pn == ack.largest_acked) {
    largest_sent_time = largest->packet.time_sent;
  } else if (largest_newly_acked && ack.largest_acked == s.unrecorded_pn) {
    largest_sent_time = s.unrecorded_time;
  }
  bool eliciting = false;
  uint64_t bytes_acked = 0;
  AckEcnFeedback ecn;
  ecn.space = space;
  ecn.has_counts = has_ecn;
  if (has_ecn) ecn.counts = ack.ecn;
  ecn.largest_newly_acked = largest_newly_acked;
  rate_.begin_ack();
  for (const Record* r = acked.front(); r; r = acked.next(r)) {
    eliciting |= r->packet.ack_eliciting;
    bytes_acked += r->packet.bytes;
    rate_.on_packet_acked(r->packet, now);
    ecn.newly_acked_ect0 += r->packet.ecn == Ecn::kEct0;
    ecn.newly_acked_marked += r->packet.ecn != Ecn::kNotEct;
  }
  if (largest_sent_time != kNever && eliciting) {
    if (!rtt_.has_sample()) first_rtt_sample_time_ = now;
    // §5.3: Initial ACKs are not delayed on purpose, so their delay is ignored.
    uint64_t delay = space == PnSpace::kInitial ? 0 : ack_delay_us;
    rtt_.on_sample(sat_sub(now, largest_sent_time), delay, max_ack_delay_, handshake_confirmed_);
  }

  for (const Record* r = acked.front(); r; r = acked.next(r)) events_.on_packet_acked(r->packet);

  // §7.1, §A.7 ProcessECN: a CE count that grows is a congestion signal for
  // the newest packet this ACK covers whose send time is known (else the
  // next ACK carries the signal), once the connection's ECN validation
  // (RFC 9000 §13.4.2) says the counts can be used.
  const uint64_t newest_sent = largest_sent_time != kNever ? largest_sent_time
                               : largest                    ? largest->packet.time_sent
                                                            : kNever;
  const bool ecn_usable = events_.on_ecn_feedback(ecn);
  if (ecn_usable && has_ecn && ack.ecn.ce > s.ecn_ce && newest_sent != kNever) {
    s.ecn_ce = ack.ecn.ce;
    cc_.on_congestion_event(now, newest_sent, true);
  }

  SpaceList lost;
  detect_lost(s, now, lost);
  on_packets_lost(lost, now);

  // §A.7: losses reach the controller before the acknowledgments, so that
  // a recovery period they start already covers the acked packets.
  if (largest && bytes_acked > 0) {
    CcAck a;
    a.now = now;
    a.bytes_acked = bytes_acked;
    a.largest_acked_sent_time = largest->packet.time_sent;
    a.bytes_in_flight = bytes_in_flight_;
    a.app_limited = app_limited_;
    a.rate = &rate_.finish_ack(rtt_.has_sample() ? rtt_.min_rtt() : kU64Max);
    cc_.on_ack(a, rtt_);
    if (cc_.wants_app_limited_samples()) rate_.mark_app_limited(bytes_in_flight_);
  }
  while (Record* r = acked.pop_front()) destroy(alloc_, r);

  // §6.2.1: an acknowledgment resets the backoff, except at a client not
  // yet sure the server has validated its address.
  if (peer_completed_address_validation()) pto_count_ = 0;
  set_loss_detection_timer(now);
  return Status::ok();
}

// Moves the records `ack` covers from `s` to `acked`, in packet number
// order. Ranges come largest first, so the space list is walked from its end.
void Recovery::take_acked(Space& s, const AckFrame& ack, SpaceList& acked) {
  Record* r = s.sent.back();
  for (Range range : ack.ranges()) {
    while (r && r->packet.pn > range.hi) r = s.sent.prev(r);
    while (r && r->packet.pn >= range.lo) {
      Record* prev = s.sent.prev(r);
      s.sent.remove(r);
      unlink(r, true);
      acked.push_front(r);
      r = prev;
    }
    if (!r) break;
  }
}

// §6.1, §A.10: packets at or below the largest acknowledged are lost when
// kPacketThreshold newer ones are acknowledged or when they were sent
// kTimeThreshold RTTs ago; the earliest time a remaining one will be is the
// space's loss time. Lost records move to `lost`; they stay in send order
// until persistent congestion has been judged.
void Recovery::detect_lost(Space& s, uint64_t now, SpaceList& lost) {
  QB_ASSERT(s.largest_acked != kNever);  // callers: an ACK, or a loss time one set
  s.loss_time = kNever;
  uint64_t rtt = rtt_.latest_rtt() > rtt_.smoothed_rtt() ? rtt_.latest_rtt() : rtt_.smoothed_rtt();
  uint64_t loss_delay = mul_div(rtt, kTimeThresholdNum, kTimeThresholdDen);
  if (loss_delay < kGranularityUs) loss_delay = kGranularityUs;
  Record* r = s.sent.front();
  while (r && r->packet.pn <= s.largest_acked) {
    Record* next = s.sent.next(r);
    uint64_t lost_at = sat_add(r->packet.time_sent, loss_delay);
    if (lost_at <= now || s.largest_acked >= r->packet.pn + kPacketThreshold) {
      s.sent.remove(r);
      lost.push_back(r);
    } else if (lost_at < s.loss_time) {
      s.loss_time = lost_at;
    }
    r = next;
  }
}

// §A.10 OnPacketsLost and §B.8: one congestion event for the newest lost
// packet (every record is in flight), then persistent congestion. Lost
// DPLPMTUD probes are left out: RFC 9000 §14.4, their loss says the path
// is too narrow, not congested.
void Recovery::on_packets_lost(SpaceList& lost, uint64_t now) {
  if (lost.empty()) return;
  bool persistent = in_persistent_congestion(lost);
  uint64_t newest_sent = kNever;
  for (Record* r = lost.front(); r; r = lost.next(r)) {
    unlink(r, false);
    if (!r->packet.mtu_probe) {
      rate_.on_packet_lost(r->packet);
      CcLoss l;
      l.now = now;
      l.bytes = r->packet.bytes;
      l.tx_in_flight = r->packet.tx_in_flight;
      l.lost_since_sent = rate_.lost() - r->packet.lost;
      l.is_app_limited = r->packet.is_app_limited;
      l.bytes_in_flight = bytes_in_flight_;
      cc_.on_packet_lost(l);
      newest_sent = r->packet.time_sent;
    }
    events_.on_packet_lost(r->packet);
  }
  if (newest_sent != kNever) cc_.on_congestion_event(now, newest_sent, false);
  if (persistent) {
    // §5.2: min_rtt restarts from the next sample.
    rtt_.reset_min_rtt();
    cc_.on_persistent_congestion(now);
  }
  while (Record* r = lost.pop_front()) destroy(alloc_, r);
}

// §7.6.2: two ack-eliciting packets lost, both sent after the first RTT
// sample, further apart than the persistent congestion duration, with no
// packet of any space sent between them acknowledged.
bool Recovery::in_persistent_congestion(const SpaceList& lost) const {
  if (!rtt_.has_sample()) return false;
  // §7.6.1: max_ack_delay counts whichever space the losses are in.
  uint64_t duration = mul_div(pto_period(), kPersistentCongestionThreshold, 1);
  bool started = false;
  uint64_t start = 0;
  const Record* prev = nullptr;
  for (const Record* r = lost.front(); r; r = lost.next(r)) {
    if (prev && acked_between(prev, r)) started = false;
    prev = r;
    if (!r->packet.ack_eliciting || r->packet.mtu_probe || r->packet.time_sent <= first_rtt_sample_time_) continue;
    if (!started) {
      started = true;
      start = r->packet.time_sent;
    } else if (r->packet.time_sent - start > duration) {
      return true;
    }
  }
  return false;
}

// Whether a packet sent after `a` and before `b` (both still in send order,
// `a` first) was acknowledged.
bool Recovery::acked_between(const Record* a, const Record* b) const {
  for (const Record* x = send_order_.next(a);; x = send_order_.next(x)) {
    QB_ASSERT(x);
    if (x->ack_before) return true;
    if (x == b) return false;
  }
}

// Takes `r` out of send order and of the in-flight accounting. Its
// successor inherits the knowledge that something before it was acked.
void Recovery::unlink(Record* r, bool acked) {
  bool ack_before = acked || r->ack_before;
  if (Record* next = send_order_.next(r)) {
    next->ack_before |= ack_before;
  } else {
    ack_after_last_ |= ack_before;
  }
  send_order_.remove(r);
  QB_ASSERT(bytes_in_flight_ >= r->packet.bytes);
  bytes_in_flight_ -= r->packet.bytes;
  if (r->packet.ack_eliciting) --spaces_[idx(r->packet.space)].ack_eliciting_in_flight;
}

LossTimerAction Recovery::on_loss_detection_timeout(uint64_t now) {
  LossTimerAction action;
  if (timer_ == kNever || now < timer_) return action;
  PnSpace space = PnSpace::kInitial;
  if (earliest_loss_time(&space) != kNever) {
    SpaceList lost;
    detect_lost(spaces_[idx(space)], now, lost);
    QB_ASSERT(!lost.empty());
    on_packets_lost(lost, now);
    set_loss_detection_timer(now);
    action.kind = LossTimerAction::Kind::kLossDeclared;
    action.space = space;
    return action;
  }
  action.kind = LossTimerAction::Kind::kProbe;
  if (ack_eliciting_in_flight() == 0) {
    // §6.2.2.1: the client's anti-deadlock probe. A Handshake packet proves
    // address ownership; a padded Initial earns amplification credit.
    QB_ASSERT(!peer_completed_address_validation());
    action.space = handshake_keys_ ? PnSpace::kHandshake : PnSpace::kInitial;
    action.probes = 1;
  } else {
    pto_time_and_space(now, &action.space);
    action.probes = 2;
  }
  ++pto_count_;
  set_loss_detection_timer(now);
  return action;
}

void Recovery::discard_space(PnSpace space, uint64_t now) {
  Space& s = spaces_[idx(space)];
  while (Record* r = s.sent.pop_front()) {
    unlink(r, false);
    events_.on_packet_discarded(r->packet);
    destroy(alloc_, r);
  }
  s.time_of_last_ack_eliciting = 0;
  s.loss_time = kNever;
  pto_count_ = 0;
  set_loss_detection_timer(now);
}

void Recovery::on_handshake_keys_available(uint64_t now) {
  handshake_keys_ = true;
  set_loss_detection_timer(now);
}

void Recovery::on_handshake_confirmed(uint64_t now) {
  handshake_confirmed_ = true;
  set_loss_detection_timer(now);
}

void Recovery::set_amplification_blocked(bool blocked, uint64_t now) {
  amplification_blocked_ = blocked;
  set_loss_detection_timer(now);
}

// §A.8 SetLossDetectionTimer.
void Recovery::set_loss_detection_timer(uint64_t now) {
  PnSpace space = PnSpace::kInitial;
  uint64_t loss_time = earliest_loss_time(&space);
  if (loss_time != kNever) {
    timer_ = loss_time;
    return;
  }
  // §6.2.2.1: a server blocked by the anti-amplification limit could not
  // send a probe, and an endpoint with nothing to probe for needs no timer
  // once the peer has validated its address.
  if (amplification_blocked_ || (ack_eliciting_in_flight() == 0 && peer_completed_address_validation())) {
    timer_ = kNever;
    return;
  }
  timer_ = pto_time_and_space(now, &space);
}

uint64_t Recovery::earliest_loss_time(PnSpace* space) const {
  uint64_t earliest = kNever;
  for (size_t i = 0; i < kNumPnSpaces; ++i) {
    if (spaces_[i].loss_time < earliest) {
      earliest = spaces_[i].loss_time;
      *space = static_cast<PnSpace>(i);
    }
  }
  return earliest;
}

// §6.2.1, §A.8 GetPtoTimeAndSpace: the earliest PTO over the spaces with
// ack-eliciting packets in flight; kNever when only the Application space
// has some before the handshake is confirmed (§6.2.1: its PTO waits).
uint64_t Recovery::pto_time_and_space(uint64_t now, PnSpace* space) const {
  uint64_t duration = backoff(rtt_.pto_base());
  if (ack_eliciting_in_flight() == 0) {
    // §6.2.2.1: anti-deadlock timer of a client, counted from now.
    *space = handshake_keys_ ? PnSpace::kHandshake : PnSpace::kInitial;
    return sat_add(now, duration);
  }
  uint64_t earliest = kNever;
  *space = PnSpace::kInitial;
  for (size_t i = 0; i < kNumPnSpaces; ++i) {
    const Space& s = spaces_[i];
    if (s.ack_eliciting_in_flight == 0) continue;
    if (static_cast<PnSpace>(i) == PnSpace::kApplication) {
      if (!handshake_confirmed_) break;
      // §6.2.1: only the Application space waits for delayed ACKs.
      duration = sat_add(duration, backoff(max_ack_delay_));
    }
    uint64_t t = sat_add(s.time_of_last_ack_eliciting, duration);
    if (t < earliest) {
      earliest = t;
      *space = static_cast<PnSpace>(i);
    }
  }
  return earliest;
}

// §6.2.1: the PTO period doubles with each consecutive expiry.
uint64_t Recovery::backoff(uint64_t duration) const {
  if (pto_count_ >= 64 || duration > (kU64Max >> pto_count_)) return kU64Max;
  return duration << pto_count_;
}

size_t Recovery::ack_eliciting_in_flight() const {
  size_t n = 0;
  for (const Space& s : spaces_) n += s.ack_eliciting_in_flight;
  return n;
}

// §A.6 PeerCompletedAddressValidation: a server's address is validated by
// construction; a client knows once the server acknowledged a Handshake
// packet or the handshake is confirmed (RFC 9000 §8.1).
bool Recovery::peer_completed_address_validation() const {
  return is_server_ || handshake_ack_received_ || handshake_confirmed_;
}

}  // namespace quicbed
