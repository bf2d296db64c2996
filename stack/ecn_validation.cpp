#include "ecn_validation.h"

namespace quicbed {

void EcnValidator::fail(EcnFailure why) {
  state_ = EcnState::kFailed;
  failure_ = why;
}

void EcnValidator::on_packet_sent(PnSpace space, Ecn ecn, bool in_flight) {
  if (ecn == Ecn::kNotEct) return;
  ++spaces_[static_cast<size_t>(space)].marked_sent;
  if (in_flight) ++marked_outstanding_;
  // Appendix A.4: after the testing packets, wait (unmarked) for the
  // verdict of their acknowledgments.
  if (state_ == EcnState::kTesting && ++testing_sent_ >= kTestingPackets) state_ = EcnState::kUnknown;
}

void EcnValidator::on_packet_lost(Ecn ecn) {
  if (ecn == Ecn::kNotEct) return;
  if (marked_outstanding_ > 0) --marked_outstanding_;
  ++marked_unacked_;
  check_all_lost();
}

void EcnValidator::on_packet_discarded(Ecn ecn) {
  if (ecn == Ecn::kNotEct) return;
  if (marked_outstanding_ > 0) --marked_outstanding_;
  ++marked_unacked_;
  check_all_lost();
}

// §13.4.2: "If all packets marked with non-zero ECN codepoints are
// subsequently lost, it can disable marking on the assumption that the
// marking caused the loss." A marked packet whose keys were discarded
// before it was acknowledged (a handshake that went on without it) never
// showed that marks get through either, so it counts as lost here.
void EcnValidator::check_all_lost() {
  if (state_ == EcnState::kUnknown && marked_outstanding_ == 0 && marked_acked_ == 0 && marked_unacked_ > 0) {
    fail(EcnFailure::kAllMarkedLost);
  }
}

void EcnValidator::on_pto() {
  if (state_ != EcnState::kTesting) return;
  if (++testing_ptos_ >= kTestingPtos || marked_acked_ == 0) state_ = EcnState::kUnknown;
}

void EcnValidator::restart() {
  if (state_ == EcnState::kDisabled) return;
  state_ = EcnState::kTesting;
  failure_ = EcnFailure::kNone;
  testing_sent_ = 0;
  testing_ptos_ = 0;
  // Marked packets still in flight on the old path resolve as they will;
  // the all-lost verdict counts the new path's fate only.
  marked_unacked_ = 0;
  marked_acked_ = 0;
}

bool EcnValidator::on_ack(const AckEcnFeedback& f) {
  marked_acked_ += f.newly_acked_marked;
  if (marked_outstanding_ >= f.newly_acked_marked) {
    marked_outstanding_ -= f.newly_acked_marked;
  } else {
    marked_outstanding_ = 0;
  }
  if (state_ == EcnState::kDisabled || state_ == EcnState::kFailed) return false;
  // §13.4.2.1: "An endpoint MUST NOT fail ECN validation as a result of
  // processing an ACK frame that does not increase the largest
  // acknowledged packet number": an older ACK carries older counts.
  if (!f.largest_newly_acked) return false;
  Space& s = spaces_[static_cast<size_t>(f.space)];
  if (!f.has_counts) {
    // §13.4.2.1: marked packets newly acknowledged without ECN counts: the
    // marks were bleached on the way, or the peer does not report them.
    if (f.newly_acked_marked > 0) fail(EcnFailure::kMissingCounts);
    return false;
  }
  const EcnCounts& c = f.counts;
  // Counts only grow (§13.4.1: each is a total since the space began).
  if (c.ect0 < s.reported.ect0 || c.ect1 < s.reported.ect1 || c.ce < s.reported.ce) {
    fail(EcnFailure::kCountsDecreased);
    return false;
  }
  // §13.4.2.1: we never send ECT(1), so the path or the peer changed marks.
  if (c.ect1 > 0) {
    fail(EcnFailure::kEct1Reported);
    return false;
  }
  // More marked packets than we ever marked in this space cannot be
  // honest (duplicates are not counted, §13.4.1). The sum cannot overflow
  // in a meaningful way: each count is a varint below 2^62.
  if (c.ect0 + c.ce > s.marked_sent) {
    fail(EcnFailure::kTooManyMarks);
    return false;
  }
  // §13.4.2.1: "ECN validation also fails if the sum of the increase in
  // ECT(0) and ECN-CE counts is less than the number of newly acknowledged
  // packets that were originally sent with an ECT(0) marking."
  const uint64_t ce_increase = c.ce - s.reported.ce;
  if ((c.ect0 - s.reported.ect0) + ce_increase < f.newly_acked_ect0) {
    fail(EcnFailure::kMarksMissing);
    return false;
  }
  s.reported = c;
  if (f.newly_acked_ect0 > 0 && (state_ == EcnState::kTesting || state_ == EcnState::kUnknown)) {
    state_ = EcnState::kCapable;
  }
  // RFC 9002 §7.1, B.7: a grown CE count is a congestion event.
  return ce_increase > 0;
}

}  // namespace quicbed
