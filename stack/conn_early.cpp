// 0-RTT (RFC 9001 §4.6, RFC 9000 §7.4.1): the client's early stream data in
// 0-RTT packets under the server's remembered limits, the server's
// processing of them, and what a rejection undoes.
#include "conn.h"

namespace quicbed {

Status Connection::on_zero_rtt_secret(KeyDirection dir, CipherSuite suite, Bytes secret) {
  // RFC 9001 §4.6.1: the client writes 0-RTT, the server reads it; a
  // secret the other way round is TLS's bug, not the peer's.
  const bool ours = is_server() ? dir == KeyDirection::kRead : dir == KeyDirection::kWrite;
  if (!ours) return Status(ErrorCode::kInternalError, "0-RTT secret in the wrong direction");
  // A client without the server's remembered parameters has no limits to
  // send 0-RTT under (RFC 9000 §7.4.1): it leaves the keys unused.
  if (!is_server() && !has_zero_rtt_params_) return Status::ok();
  if (handshake_complete_ || (!is_server() && sp(PnSpace::kApplication).can_send())) {
    return Status(ErrorCode::kInternalError, "0-RTT secret after 1-RTT keys");
  }
  QB_TRY(zero_rtt_keys_.init(crypto_, suite, *vc_, secret));
  trace_key(!is_server(), EncryptionLevel::kEarlyData, 0, KeyTrigger::kTls, false);
  if (!is_server()) {
    early_state_ = EarlyDataState::kAttempted;
    // §7.4.1: the remembered limits apply until the server's new ones
    // arrive; both only ever raise what streams and flow control allow.
    streams_.set_peer_params(zero_rtt_params_);
    (void)conn_send_.on_max(zero_rtt_params_.initial_max_data);
    max_datagram_size_ = min_u64(max_datagram_size_, zero_rtt_params_.max_udp_payload_size);
  }
  return Status::ok();
}

Status Connection::update_early_data(const TransportParameters* peer) {
  if (is_server() || early_state_ != EarlyDataState::kAttempted) return Status::ok();
  const EarlyDataState s = tls_.early_data_state();
  if (s == EarlyDataState::kAccepted) {
    early_state_ = s;
    // RFC 9000 §7.4.1: an accepting server must not lower a limit the
    // 0-RTT data may have used.
    if (peer) QB_TRY(check_zero_rtt_limits(zero_rtt_params_, *peer));
    report_early_data();
    return Status::ok();
  }
  if (s != EarlyDataState::kRejected) return Status::ok();
  early_state_ = s;
  // RFC 9001 §4.6.2: the server processed none of it. Nothing more goes in
  // 0-RTT, and every 0-RTT packet is abandoned (out of flight, no
  // congestion signal, RFC 9002 §6.4) with its data queued again, for
  // 1-RTT packets on the same streams: the server saw none of them.
  discard_zero_rtt_keys();
  recovery_.discard_space(PnSpace::kApplication, now_);
  // RFC 9000 §7.4.1: the remembered limits no longer hold; the server's
  // new ones apply, even lower. Data already written beyond them cannot be
  // sent again as it is (this stack does not rewind streams): a local
  // failure, named as such.
  if (peer) {
    Status fits = streams_.reset_peer_params(*peer);
    if (fits && !conn_send_.reset_limit(peer->initial_max_data)) {
      fits = Status(ErrorCode::kLimitExceeded, "more data sent than the peer now allows");
    }
    if (!fits) return Status(ErrorCode::kInternalError, "0-RTT rejected under lower limits than it used");
  }
  report_early_data();
  return Status::ok();
}

void Connection::report_early_data() {
  if (early_reported_) return;
  if (is_server()) early_state_ = tls_.early_data_state();
  if (early_state_ != EarlyDataState::kAccepted && early_state_ != EarlyDataState::kRejected) return;
  early_reported_ = true;
  events_.on_early_data(early_state_ == EarlyDataState::kAccepted);
}

void Connection::discard_zero_rtt_keys() {
  if (!zero_rtt_keys_.ready()) return;
  zero_rtt_keys_.header().reset();
  zero_rtt_keys_.payload().reset();
  trace_key(!is_server(), EncryptionLevel::kEarlyData, 0, KeyTrigger::kTls, true);
}

bool Connection::sending_zero_rtt() const {
  return !is_server() && zero_rtt_keys_.ready() && !spaces_[idx(PnSpace::kApplication)].can_send() &&
         early_state_ != EarlyDataState::kRejected;
}

bool Connection::zero_rtt_undecided() const {
  // The server's Handshake keys come with its answer to the ClientHello,
  // which settles early data: before that a 0-RTT packet may wait.
  return is_server() && !zero_rtt_keys_.ready() && !spaces_[idx(PnSpace::kHandshake)].write.ready() &&
         !handshake_complete_;
}

}  // namespace quicbed
