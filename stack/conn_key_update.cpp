// The 1-RTT key update (RFC 9001 §6) and the AEAD limits (§6.6) of a
// Connection: starting an update, following the peer's, keeping the
// previous read key for packets the network delays past an update, and
// counting what each key protected and what failed to open.
#include "conn.h"

namespace quicbed {

AeadLimits Connection::capped_aead_limits(CipherSuite suite) const {
  const AeadLimits l = aead_limits(suite);
  return AeadLimits{min_u64(l.confidentiality, aead_limit_cap_.confidentiality),
                    min_u64(l.integrity, aead_limit_cap_.integrity)};
}

Status Connection::update_keys() {
  PacketNumberSpace& s = sp(PnSpace::kApplication);
  if (!handshake_confirmed_ || !s.can_send()) return Status(ErrorCode::kInvalidArgument, "handshake not confirmed");
  // RFC 9001 §6.1: only once the peer has acknowledged a packet of the
  // current phase (and, for an update we started, has followed it).
  const uint64_t acked = recovery_.largest_acked(PnSpace::kApplication);
  if (s.read_phase != s.write_phase || acked == kNever || acked < s.first_pn_in_write_phase) {
    return Status(ErrorCode::kInvalidArgument, "current key phase not yet acknowledged");
  }
  QB_TRY(s.rotate_write());
  trace_key(true, EncryptionLevel::kApplication, s.write_generation, KeyTrigger::kLocalUpdate, false);
  trace_key(true, EncryptionLevel::kApplication, s.write_generation - 1, KeyTrigger::kLocalUpdate, true);
  return Status::ok();
}

Connection::ReadKey Connection::pick_one_rtt_read_key(const PacketNumberSpace& s, bool phase_bit, uint64_t pn,
                                                      uint64_t now) {
  expire_prev_read_key(now);
  if (phase_bit == s.read_phase) return ReadKey::kCurrent;
  // RFC 9001 §6.5: a packet of the other phase numbered below every packet
  // of the current one was sent before the update; any other is the
  // peer's next update.
  return s.prev_read.ready() && pn < s.read_phase_first_pn ? ReadKey::kPrevious : ReadKey::kNext;
}

Status Connection::on_one_rtt_opened(PacketNumberSpace& s, ReadKey key, uint64_t pn, uint64_t now) {
  if (key == ReadKey::kPrevious) return Status::ok();  // a late packet of the old phase
  if (key == ReadKey::kCurrent) {
    if (pn < s.read_phase_first_pn) s.read_phase_first_pn = pn;
    return Status::ok();
  }
  const bool peer_starts = s.read_phase == s.write_phase;
  // RFC 9001 §6.2: "If an endpoint detects a second update before it has
  // sent any packets with updated keys containing an acknowledgment for
  // the packet that initiated the key update, it indicates that its peer
  // has updated keys twice without awaiting confirmation. An endpoint MAY
  // treat such consecutive key updates as a connection error of type
  // KEY_UPDATE_ERROR."
  if (peer_starts && s.read_generation > 0 && !s.read_phase_acked) {
    return Status(ErrorCode::kKeyUpdateError, "key update before the previous one was acknowledged");
  }
  // §6.5: the old read key stays for three PTOs after the first packet
  // under the new one, for packets the network reordered.
  if (s.prev_read.ready()) discard_prev_read_key(s);
  s.rotate_read(pn, sat_add(now, mul_div(recovery_.pto_period(), 3, 1)));
  const KeyTrigger trigger = peer_starts ? KeyTrigger::kRemoteUpdate : KeyTrigger::kLocalUpdate;
  trace_key(false, EncryptionLevel::kApplication, s.read_generation, trigger, false);
  if (peer_starts) {
    // §6.2: an update the peer started is answered in kind.
    QB_TRY(s.rotate_write());
    trace_key(true, EncryptionLevel::kApplication, s.write_generation, trigger, false);
    trace_key(true, EncryptionLevel::kApplication, s.write_generation - 1, trigger, true);
  }
  QB_TRY(s.prepare_next_read());
  // Both ends are in the new phase now: the peer followed ours, or we
  // followed the peer's.
  events_.on_key_update(s.write_phase);
  return Status::ok();
}

void Connection::discard_prev_read_key(PacketNumberSpace& s) {
  s.discard_prev_read();
  trace_key(false, EncryptionLevel::kApplication, s.read_generation - 1, KeyTrigger::kLocalUpdate, true);
}

void Connection::expire_prev_read_key(uint64_t now) {
  PacketNumberSpace& s = sp(PnSpace::kApplication);
  if (s.prev_read.ready() && now >= s.prev_read_discard_at) discard_prev_read_key(s);
}

void Connection::on_ack_written(PacketNumberSpace& s, PacketType type, uint64_t largest) {
  // RFC 9001 §6.2: an ACK under write keys as new as the read keys, of a
  // packet of the current read phase, is what allows the peer's next update.
  if (type == PacketType::kOneRtt && s.write_generation == s.read_generation && largest >= s.read_phase_first_pn) {
    s.read_phase_acked = true;
  }
}

void Connection::on_decrypt_failed(const PacketHeader& h, uint64_t now) {
  // RFC 9001 §6.6: "endpoints MUST count the number of received packets
  // that fail authentication during the lifetime of a connection", across
  // all keys. Initial keys are public (§5.2): anyone may make those fail,
  // and no forgery of them needs guessing, so they are not counted.
  if (h.form == HeaderForm::kLong && h.type == PacketType::kInitial) return;
  ++decrypt_failures_;
  // "If the total number ... exceeds the integrity limit for the selected
  // AEAD, the endpoint MUST immediately close the connection with a
  // connection error of type AEAD_LIMIT_REACHED and not process any more
  // packets."
  if (decrypt_failures_ > aead_limits_.integrity) {
    close_with_error(Status(ErrorCode::kAeadLimitReached, "AEAD integrity limit reached"), 0, now);
  }
}

void Connection::after_one_rtt_sealed() {
  PacketNumberSpace& s = sp(PnSpace::kApplication);
  // RFC 9001 §6.6: "Endpoints MUST initiate a key update before the
  // confidentiality limit for the selected AEAD is reached." The update
  // starts with half of the key's packets left, so that the peer's
  // acknowledgment of the current phase (§6.1), which it needs, has the
  // time of many round trips to arrive.
  if (s.write.payload().sealed() >= aead_limits_.confidentiality / 2) (void)update_keys();
}

bool Connection::one_rtt_key_usable() {
  PacketNumberSpace& s = sp(PnSpace::kApplication);
  if (!s.write.ready() || s.write.payload().sealed() < aead_limits_.confidentiality) return true;
  // An acknowledgment that arrived meanwhile may allow the update now.
  (void)update_keys();
  return s.write.payload().sealed() < aead_limits_.confidentiality;
}

void Connection::on_key_exhausted(uint64_t now) {
  // "If a key update is not possible ..., the endpoint MUST stop using the
  // connection and only send stateless resets in response to receiving
  // packets": no CONNECTION_CLOSE, which would need the key once more.
  close_with_error(Status(ErrorCode::kAeadLimitReached, "AEAD confidentiality limit reached"), 0, now,
                   State::kDraining);
}

}  // namespace quicbed
