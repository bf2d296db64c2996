// What the connection learns about its path beyond loss and delay: ECN
// validation (RFC 9000 §13.4.2, ecn_validation.h) and the path MTU search
// (RFC 8899, RFC 9000 §14.3, pmtud.h); the glue between those state
// machines, loss recovery, the congestion controller and the tracer.
#include "cc/window.h"
#include "conn.h"

namespace quicbed {

bool Connection::on_ecn_feedback(const AckEcnFeedback& f) { return ecn_.on_ack(f); }

uint64_t Connection::mtu_probe_size(size_t room, uint64_t now) const {
  const uint64_t size = pmtud_.probe_size();
  // RFC 9000 §14.4: probes are 1-RTT packets, ack-eliciting and so subject
  // to the congestion window and the pacer like any other (RFC 8899 §3
  // requirement 7: probes are congestion controlled).
  if (size == 0 || size > room || !handshake_confirmed_ || state_ != State::kEstablished) return 0;
  if (!spaces_[idx(PnSpace::kApplication)].can_send() || !recovery_.can_send(false) || !can_send_data(now)) return 0;
  return size;
}

void Connection::apply_plpmtu() {
  if (pmtud_.state() == Pmtud::State::kDisabled || pmtud_.plpmtu() == max_datagram_size_) return;
  max_datagram_size_ = pmtud_.plpmtu();
  // RFC 9002 §7.2: the controller counts in the new datagram size.
  cc_->set_max_datagram_size(max_datagram_size_);
}

namespace {

// qlog's MTU event reports the search done once it settles.
bool search_done(Pmtud::State s) { return s == Pmtud::State::kSearchComplete; }

}  // namespace

void Connection::trace_path() {
  if (!tracer_) return;
  if (ecn_.state() != traced_ecn_state_) {
    tracer_->ecn_state_updated(now_, traced_ecn_state_, ecn_.state());
    traced_ecn_state_ = ecn_.state();
  }
  if (max_datagram_size_ != traced_mtu_ || search_done(pmtud_.state()) != search_done(traced_pmtud_state_)) {
    tracer_->mtu_updated(now_, traced_mtu_, max_datagram_size_, search_done(pmtud_.state()));
    traced_mtu_ = max_datagram_size_;
  }
  traced_pmtud_state_ = pmtud_.state();
}

}  // namespace quicbed
