// Address validation at the connection (RFC 9000 §8.1): a client's handling
// of Retry (§17.2.5), the connection ID parameters a Retry adds (§7.3),
// the server's NEW_TOKEN frames (§8.1.3), and the greased Fixed Bit
// (RFC 9287), which a client learns to accept along the same way. The
// Endpoint makes and checks the tokens themselves (token.h).
#include "conn.h"

namespace quicbed {

Status Connection::on_retry(const PacketHeader& h, Bytes packet, uint64_t now) {
  // §17.2.5.2: a client accepts one Retry, and none once a packet of the
  // server was processed; servers never receive one.
  if (is_server() || retry_received_ || peer_seen_) return drop(DropReason::kUnexpectedPacket);
  if (h.version != version_) return drop(DropReason::kUnexpectedVersion);
  if (!bytes_equal(h.dcid, local_scid_.view())) return drop(DropReason::kUnknownConnectionId);
  // §17.2.5.2: "A client MUST discard a Retry packet that contains a Source
  // Connection ID field that is identical to the Destination Connection ID
  // field of its Initial packet."
  if (bytes_equal(h.scid, original_dcid_.view())) return drop(DropReason::kUnexpectedSourceConnectionId);
  // RFC 9001 §5.8: the integrity tag over our original DCID proves the
  // Retry answers our Initial (an off-path forger cannot know the DCID).
  if (!verify_retry_tag(crypto_, alloc_, *vc_, original_dcid_.view(), packet)) {
    return drop(DropReason::kPayloadDecryptError);
  }
  // A token we could not send whole is as good as none: carry on as if
  // the Retry were lost (the server answers the next Initial again).
  if (h.token.size() > kMaxTokenLen) return drop(DropReason::kDosPrevention);
  if (tracer_) {
    TracedPacketHeader th = trace_header(h);
    trace_packet(false, th, packet.size(), Bytes(), peer_ack_delay_exponent_);
  }

  retry_received_ = true;
  (void)retry_scid_.assign(h.scid);  // the parser bounds it to 20 bytes
  copy_bytes(token_, h.token.data(), h.token.size());
  token_len_ = h.token.size();
  // §7.2: the Retry's Source Connection ID is our Destination Connection
  // ID from now on, and the Initial keys come from it (RFC 9001 §5.2).
  peer_cids_.start(retry_scid_);
  initial_dcid_ = retry_scid_;
  QB_TRY(derive_initial_keys(retry_scid_.view()));
  // RFC 9002 §6.3: the Initial packets sent so far will never be
  // acknowledged; their CRYPTO data (the ClientHello, unchanged) goes
  // again in new packets, whose numbers continue above the ones used
  // (RFC 9000 §17.2.5.3).
  recovery_.discard_space(PnSpace::kInitial, now);
  sp(PnSpace::kInitial).requeue_crypto();
  return Status::ok();
}

Status Connection::check_retry_cids(const TransportParameters& tp) const {
  // §7.3: a server that sent a Retry names the Source Connection ID it
  // used; one that did not sends no such parameter. Either mismatch is a
  // TRANSPORT_PARAMETER_ERROR.
  if (!retry_received_) {
    if (tp.has_retry_source_connection_id) {
      return Status(ErrorCode::kTransportParameterError, "retry_source_connection_id without Retry");
    }
    return Status::ok();
  }
  if (!tp.has_retry_source_connection_id) {
    return Status(ErrorCode::kTransportParameterError, "retry_source_connection_id missing after Retry");
  }
  if (!(tp.retry_source_connection_id == retry_scid_)) {
    return Status(ErrorCode::kTransportParameterError, "retry_source_connection_id mismatch");
  }
  return Status::ok();
}

Status Connection::send_new_token(Bytes token) {
  if (!is_server() || !handshake_complete_ || closing_or_draining() || state_ == State::kClosed) {
    return Status(ErrorCode::kInvalidArgument, "NEW_TOKEN only from an established server");
  }
  // §19.7: the token must not be empty.
  if (token.empty() || token.size() > kMaxOwnTokenLen) return Status(ErrorCode::kInvalidArgument, "token length");
  copy_bytes(new_token_, token.data(), token.size());
  new_token_len_ = token.size();
  new_token_pending_ = true;
  return Status::ok();
}

bool Connection::write_new_token(Writer& w) {
  Frame f;
  f.type = FrameType::kNewToken;
  f.new_token.token = Bytes(new_token_, new_token_len_);
  if (!write_frame(w, f)) return false;
  new_token_pending_ = false;
  return true;
}

void Connection::grease_fixed_bit(uint8_t& first_byte, PacketType type) {
  // RFC 9287 §3: only toward a peer that advertised grease_quic_bit, so
  // only once its transport parameters are in (a server has the client's
  // before its first Initial; a client's Initials keep the bit, §3.1).
  if (!has_peer_params_ || !peer_params_.grease_quic_bit) return;
  if (!is_server() && type == PacketType::kInitial) return;
  if (grease_bits_left_ == 0) {
    random_.fill(MutBytes(reinterpret_cast<uint8_t*>(&grease_bits_), sizeof grease_bits_));
    grease_bits_left_ = 64;
  }
  const bool clear = (grease_bits_ & 1) != 0;
  grease_bits_ >>= 1;
  --grease_bits_left_;
  if (clear) first_byte = static_cast<uint8_t>(first_byte & ~0x40u);
}

}  // namespace quicbed
