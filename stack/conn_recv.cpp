// Receiving: datagrams split into packets (RFC 9000 §12.2), packets
// authenticated and decrypted (RFC 9001 §5), frames dispatched (RFC 9000
// §12.4, §19).
#include "base/fixed_point.h"
#include "conn.h"

namespace quicbed {
namespace {

// RFC 9000 §7.2: a server discards an Initial whose Destination Connection
// ID is shorter than this (the minimum a client must choose).
constexpr size_t kMinClientDcidLen = 8;

}  // namespace

void Connection::receive_datagram(MutBytes datagram, const DatagramInfo& info, uint64_t now) {
  if (!initialized_ || state_ == State::kClosed || state_ == State::kDraining) return;
  now_ = now;
  // §8.1: every byte received counts toward the amplification budget,
  // including packets that are then discarded.
  bytes_received_ += datagram.size();
  if (tracer_) tracer_->datagram_received(now, datagram.size());
  // §8, §9: the path it came on; a new one gets its entry once a packet
  // authenticates (on_packet_path), so that garbage makes none.
  rx_addr_ = info.path;
  rx_datagram_len_ = datagram.size();
  rx_path_ = info.path ? paths_.find(*info.path) : paths_.active_index();
  rx_long_on_active_ = false;
  if (rx_path_ != Paths::kNone) paths_[rx_path_].bytes_received += datagram.size();
  if (state_ == State::kClosing) {
    // §10.2.1: answer with CONNECTION_CLOSE, processing nothing.
    close_frame_pending_ = true;
    update_amplification(now);
    return;
  }
  // RFC 9000 §10.3.1: a datagram none of whose packets can be processed
  // may be a Stateless Reset. Its last 16 bytes are compared before
  // decryption, which works in place, can alter them.
  const bool maybe_reset = peer_cids_.is_stateless_reset(datagram);
  bool processed = false;
  const HeaderParseOptions opts{cid_len_, local_params_.grease_quic_bit};
  Bytes first_dcid;
  bool first = true;
  size_t pos = 0;
  while (pos < datagram.size() && (state_ == State::kHandshake || state_ == State::kEstablished)) {
    MutBytes rest = datagram.subspan(pos);
    Result<PacketHeader> h = parse_packet_header(rest, opts);
    // Without a valid header the next packet cannot be found: the rest of
    // the datagram goes (§12.2).
    if (!h) {
      trace_drop(nullptr, rest.size(), DropReason::kHeaderParseError);
      break;
    }
    pos += h->packet_length;
    // §12.2: coalesced packets carry the same Destination Connection ID;
    // others are ignored.
    if (first) {
      first_dcid = h->dcid;
      first = false;
    } else if (!bytes_equal(h->dcid, first_dcid)) {
      trace_drop(&*h, h->packet_length, DropReason::kUnknownConnectionId);
      continue;
    }
    processed |= handle_packet(rest.first(h->packet_length), *h, datagram.size(), info, now);
  }
  if (!buffered_.empty()) replay_buffered(now);
  if (!processed && maybe_reset && !closing_or_draining()) {
    // §10.3.1: draining, and not a packet more.
    CloseInfo reset;
    reset.source = CloseInfo::Source::kStatelessReset;
    enter_closed_state(State::kDraining, reset, now);
  }
  update_amplification(now);
  trace_recovery();
}

bool Connection::handle_packet(MutBytes packet, const PacketHeader& h, size_t datagram_len, const DatagramInfo& info,
                               uint64_t now) {
  frame_type_ = 0;
  const size_t len = packet.size();
  const uint32_t version_before = version_;
  Status s = process_packet(packet, h, datagram_len, info, now);
  // A client that tried the keys of the server's compatible choice on an
  // Initial that did not authenticate keeps its version (RFC 9368 §2.3:
  // only a genuine server packet moves it).
  if (!s.is_ok() && version_ != version_before && !peer_seen_) (void)set_version(version_before);
  if (s.is_ok()) {
    after_packet(now);
    return true;
  }
  if (s.code() == ErrorCode::kDecryptFailed) {
    trace_drop(&h, len, DropReason::kPayloadDecryptError);
    on_decrypt_failed(h, now);
  } else if (s.code() == ErrorCode::kDropPacket) {
    trace_drop(&h, len, drop_reason_);
  } else {
    close_with_error(s, frame_type_, now);
  }
  return false;
}

Status Connection::process_packet(MutBytes packet, const PacketHeader& h, size_t datagram_len,
                                  const DatagramInfo& info, uint64_t now) {
  PacketType type = PacketType::kOneRtt;
  if (h.form == HeaderForm::kLong) {
    if (h.version == kVersionNegotiationVersion) return on_version_negotiation(h, now);
    if (h.has_invariants_only()) return drop(DropReason::kUnsupportedVersion);
    if (h.type == PacketType::kRetry) return on_retry(h, packet, now);
    // Only servers receive 0-RTT packets (RFC 9000 §17.2.3).
    type = h.type;
    const bool zero_rtt = type == PacketType::kZeroRtt && is_server();
    if (type != PacketType::kInitial && type != PacketType::kHandshake && !zero_rtt) {
      return drop(DropReason::kUnexpectedPacket);
    }
    if (h.version != version_) QB_TRY(accept_other_version(h));
  }

  const bool first_initial = is_server() && !peer_seen_;
  if (first_initial) {
    if (type != PacketType::kInitial) return drop(DropReason::kUnexpectedPacket);
    QB_TRY(accept_first_initial(h, datagram_len));
  } else if (!dcid_is_ours(h.dcid, type)) {
    return drop(DropReason::kUnknownConnectionId);
  }
  QB_TRY(check_packet_path(h));
  // §7.2: once the server's first Initial set the client's Destination
  // Connection ID, long headers with another Source Connection ID are not
  // from this server.
  if (!is_server() && peer_seen_ && h.form == HeaderForm::kLong && !bytes_equal(h.scid, peer_initial_scid_.view())) {
    return drop(DropReason::kUnexpectedSourceConnectionId);
  }

  PacketNumberSpace& s = sp(pn_space_of(type));
  // RFC 9001 §4.9: the keys are gone, and with them the packet's use.
  if (s.discarded()) return drop(DropReason::kKeyUnavailable);
  // RFC 9001 §5.7: the keys are still to come. 0-RTT packets have their
  // own keys (RFC 9001 §4.6.1), and only while TLS has not answered the
  // ClientHello may they come later; a refused or finished 0-RTT leaves
  // none (§4.6.2: never processed then).
  const bool zero_rtt = type == PacketType::kZeroRtt;
  if (zero_rtt && !can_open_zero_rtt()) {
    return zero_rtt_undecided() ? buffer_packet(packet, s.id(), info.ecn, true) : drop(DropReason::kKeyUnavailable);
  }
  if (!zero_rtt && !can_open(s)) return buffer_packet(packet, s.id(), info.ecn);

  // The 0-RTT keys open 0-RTT packets only, and those open with nothing
  // else: a 1-RTT packet is never tried with them, nor the reverse.
  PacketProtection& opener = zero_rtt                        ? zero_rtt_keys_
                             : type == PacketType::kInitial ? initial_read_keys(h.version)
                                                            : s.read;
  Result<PacketNumberField> pnf = opener.unprotect_header(packet, h.pn_offset);
  if (!pnf) return drop(DropReason::kHeaderParseError);
  const uint64_t pn = decode_packet_number(s.acks.largest(), pnf->truncated, pnf->len);
  // §17.1: no packet number beyond 2^62-1 is valid.
  if (pn > kVarintMax) return drop(DropReason::kProtocolViolation);
  // RFC 9001 §6.3, §6.5: a Key Phase bit other than the current one is a
  // late packet of the previous phase or the peer's next update.
  const bool one_rtt = type == PacketType::kOneRtt;
  const ReadKey read_key = one_rtt ? pick_one_rtt_read_key(s, key_phase_bit(packet[0]), pn, now) : ReadKey::kCurrent;
  PayloadProtection& keys = zero_rtt                         ? zero_rtt_keys_.payload()
                            : read_key == ReadKey::kPrevious ? s.prev_read
                            : read_key == ReadKey::kNext     ? s.next_read
                                                             : opener.payload();
  QB_ASSIGN_OR_RETURN(MutBytes payload, keys.open(packet, h.pn_offset + pnf->len, pn));
  // §17.2, §17.3.1: reserved bits are checked once protection is removed.
  QB_TRY(check_reserved_bits(packet[0]));
  if (!s.acks.on_packet_received(pn, info.ecn, now)) return drop(DropReason::kDuplicate);  // §12.3
  if (one_rtt) QB_TRY(on_one_rtt_opened(s, read_key, pn, now));

  // The packet is authentic: it may now change the connection.
  on_packet_path(h);
  if (first_initial) {
    peer_seen_ = true;
    trace_state_ = TraceConnectionState::kHandshakeStarted;  // a server's first state
    trace_start();
    if (local_scid_.len) events_.on_cid_issued(local_scid_);
    if (local_params_.has_preferred_address) events_.on_cid_issued(local_params_.preferred_address.connection_id);
  }
  if (!is_server() && !peer_seen_ && type == PacketType::kInitial) {
    // §7.2: the server's first Initial sets the Destination Connection ID.
    peer_seen_ = true;
    (void)peer_initial_scid_.assign(h.scid);  // the parser bounds it to 20 bytes
    peer_cids_.start(peer_initial_scid_);
    trace_state(TraceConnectionState::kHandshakeStarted);
  }
  if (is_server() && type == PacketType::kHandshake && !address_validated_) {
    // §8.1: only the client can have Handshake keys, so it owns the address.
    handshake_packet_received_ = true;
    address_validated_ = true;
    trace_state(TraceConnectionState::kPeerValidated);
  }
  if (zero_rtt) ++zero_rtt_packets_;
  // RFC 9001 §4.9.3: once the client sends 1-RTT it sends no more 0-RTT;
  // its late ones are sent again in 1-RTT after loss detection.
  if (is_server() && type == PacketType::kOneRtt) discard_zero_rtt_keys();
  // §10.1: an authenticated packet restarts the idle timer.
  last_activity_ = now;
  eliciting_sent_since_receive_ = false;

  if (tracer_) {
    TracedPacketHeader th = trace_header(h);
    th.has_packet_number = true;
    th.packet_number = pn;
    trace_packet(false, th, packet.size(), payload, peer_ack_delay_exponent_);
  }
  packet_dcid_ = h.dcid;
  bool eliciting = false;
  rx_non_probing_ = false;
  QB_TRY(process_frames(s, type, payload, eliciting, now));
  if (!s.discarded()) s.acks.on_packet_processed(eliciting, now, local_params_.max_ack_delay * 1000);
  if (type == PacketType::kOneRtt) after_packet_path(pn, now);
  return Status::ok();
}

Status Connection::accept_first_initial(const PacketHeader& h, size_t datagram_len) {
  // §14.1: a client's Initial comes in a datagram of at least 1200 bytes;
  // §7.2: with a Destination Connection ID of at least 8 bytes.
  if (datagram_len < kMinInitialDatagram || h.dcid.size() < kMinClientDcidLen) return drop(DropReason::kInvalidInitial);
  if (!initial_dcid_.assign(h.dcid) || !peer_initial_scid_.assign(h.scid)) return drop(DropReason::kInvalidInitial);
  // §7.3: after a Retry the client's first DCID comes from the token, and
  // the one this Initial carries is the Retry's Source Connection ID.
  original_dcid_ = retried_ ? retry_original_dcid_ : initial_dcid_;
  if (retried_) retry_scid_ = initial_dcid_;
  // Until the packet authenticates, all of this may be redone for another.
  local_scid_.len = static_cast<uint8_t>(cid_len_);
  random_.fill(MutBytes(local_scid_.bytes, local_scid_.len));
  local_cids_.start(local_scid_);
  peer_cids_.start(peer_initial_scid_);
  QB_TRY(derive_initial_keys(h.dcid));
  return send_transport_params();
}

bool Connection::can_open(const PacketNumberSpace& s) const {
  // RFC 9001 §5.7: a server processes no 1-RTT packet before the handshake
  // completes (it has the keys earlier, the client's Finished not yet).
  return s.can_receive() && (s.id() != PnSpace::kApplication || !is_server() || handshake_complete_);
}

Status Connection::buffer_packet(Bytes packet, PnSpace space, Ecn ecn, bool zero_rtt) {
  auto* data = buffered_.full() || packet.size() > kMaxBufferedBytes - buffered_bytes_
                   ? nullptr
                   : static_cast<uint8_t*>(alloc_.allocate(packet.size(), 1));
  if (!data) {
    ++keyless_drops_;
    if (space == PnSpace::kApplication && !zero_rtt) ++one_rtt_keyless_drops_;
    return drop(DropReason::kKeyUnavailable);
  }
  copy_bytes(data, packet.data(), packet.size());
  (void)buffered_.push_back(BufferedPacket{data, packet.size(), space, ecn, zero_rtt});
  buffered_bytes_ += packet.size();
  return Status::ok();
}

void Connection::drop_buffered() {
  for (const BufferedPacket& b : buffered_) alloc_.deallocate(b.data, b.len);
  buffered_.clear();
  buffered_bytes_ = 0;
}

void Connection::replay_buffered(uint64_t now) {
  const HeaderParseOptions opts{cid_len_, local_params_.grease_quic_bit};
  // A packet may bring the keys of another (Handshake, then 1-RTT): passes
  // repeat while one makes progress. Each packet leaves the buffer before
  // it is processed, so a pass ends.
  bool progress = true;
  while (progress && (state_ == State::kHandshake || state_ == State::kEstablished)) {
    progress = false;
    for (size_t i = 0; i < buffered_.size();) {
      const BufferedPacket b = buffered_[i];
      PacketNumberSpace& s = sp(b.space);
      // A 0-RTT packet waits while TLS may still install its keys; then
      // handle_packet opens or drops it.
      const bool waiting = b.zero_rtt ? zero_rtt_undecided() : !s.discarded() && !can_open(s);
      if (waiting) {
        ++i;
        continue;
      }
      // Out of the buffer before it is processed, which may close the
      // connection and drop the rest; `b.data` is decrypted in place.
      buffered_.erase(i);
      buffered_bytes_ -= b.len;
      MutBytes packet(b.data, b.len);
      Result<PacketHeader> h = parse_packet_header(packet, opts);
      QB_ASSERT(h.is_ok() && h->packet_length == b.len);  // it parsed when it arrived
      DatagramInfo info;
      info.ecn = b.ecn;
      rx_addr_ = nullptr;  // counted when it arrived; handshake packets move no path
      rx_path_ = Paths::kNone;
      rx_long_on_active_ = false;
      rx_datagram_len_ = 0;
      progress = true;
      (void)handle_packet(packet, *h, b.len, info, now);
      alloc_.deallocate(b.data, b.len);
    }
  }
}

bool Connection::dcid_is_ours(Bytes dcid, PacketType type) const {
  if (local_cids_.find(dcid)) return true;
  // §7.2: the client addresses its Initials to the DCID it chose until it
  // hears from the server.
  // (After a Retry: the Retry's Source Connection ID, RFC 9000 §17.2.5.2.)
  return is_server() && (type == PacketType::kInitial || type == PacketType::kZeroRtt) &&
         bytes_equal(dcid, initial_dcid_.view());
}

Status Connection::process_frames(PacketNumberSpace& s, PacketType type, Bytes payload, bool& ack_eliciting,
                                  uint64_t now) {
  // §12.4: a packet with no frame is a PROTOCOL_VIOLATION.
  if (payload.empty()) return Status(ErrorCode::kProtocolViolation, "packet without frames");
  Reader r(payload);
  while (!r.empty() && !closing_or_draining()) {
    // §19.19: CONNECTION_CLOSE names the frame type as sent (STREAM and
    // DATAGRAM with their flag bits): the type's varint value, also when
    // it is not minimally encoded (§12.4); 0 when even that is truncated.
    Reader type_reader = r;
    Result<uint64_t> sent_type = read_varint(type_reader);
    frame_type_ = sent_type ? *sent_type : 0;
    QB_ASSIGN_OR_RETURN(Frame f, parse_frame(r));
    QB_TRY(check_frame_permitted(f.type, type));
    ack_eliciting |= is_ack_eliciting(f.type);
    rx_non_probing_ |= !is_probing(f.type);  // RFC 9000 §9.1
    QB_TRY(on_frame(s, f, now));
  }
  return Status::ok();
}

Status Connection::on_frame(PacketNumberSpace& s, const Frame& f, uint64_t now) {
  switch (f.type) {
    case FrameType::kPadding:
    case FrameType::kPing:
      return Status::ok();
    case FrameType::kAck:
    case FrameType::kAckEcn:
      return on_ack_frame(s, f, now);
    case FrameType::kCrypto:
      return on_crypto_frame(s, f.crypto);
    case FrameType::kConnectionClose:
    case FrameType::kConnectionCloseApp:
      on_peer_close(f.connection_close, f.type == FrameType::kConnectionCloseApp, now);
      return Status::ok();
    case FrameType::kHandshakeDone:
      // §19.20: only servers send it; the client's handshake is confirmed.
      if (is_server()) return Status(ErrorCode::kProtocolViolation, "HANDSHAKE_DONE from a client");
      if (!tls_complete_) return Status(ErrorCode::kProtocolViolation, "HANDSHAKE_DONE before the handshake completed");
      confirm_handshake(now);
      return Status::ok();
    case FrameType::kNewToken:
      // §19.7: only servers send it; the host may keep it for next time.
      if (is_server()) return Status(ErrorCode::kProtocolViolation, "NEW_TOKEN from a client");
      events_.on_new_token(f.new_token.token);
      return Status::ok();
    case FrameType::kNewConnectionId:
      return peer_cids_.on_new_connection_id(f.new_connection_id);
    case FrameType::kRetireConnectionId: {
      QB_ASSIGN_OR_RETURN(ConnectionId retired,
                          local_cids_.on_retire_connection_id(f.retire_connection_id.sequence, packet_dcid_));
      if (retired.len == 0) return Status::ok();  // retired before: a repeat
      events_.on_cid_retired(retired);
      // §5.1.1: a replacement, if the handshake is far enough for 1-RTT.
      return handshake_complete_ ? issue_cids() : Status::ok();
    }
    case FrameType::kDatagram:
      return on_datagram_frame(f.datagram);
    case FrameType::kStream:
    case FrameType::kResetStream:
    case FrameType::kStopSending:
    case FrameType::kMaxStreamData:
    case FrameType::kStreamDataBlocked:
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      return on_stream_frame(f);
    case FrameType::kMaxData:
      (void)conn_send_.on_max(f.max_data.maximum);  // §19.9: a lower one is ignored
      return Status::ok();
    case FrameType::kPathChallenge:
      on_path_challenge(f.path, now);
      return Status::ok();
    case FrameType::kPathResponse:
      on_path_response(f.path, now);
      return Status::ok();
    case FrameType::kDataBlocked:  // §19.12: informational; MAX_DATA follows reads
      return Status::ok();
  }
  return Status::ok();
}

Status Connection::on_stream_frame(const Frame& f) {
  const Role peer = is_server() ? Role::kClient : Role::kServer;
  uint64_t opened[2] = {streams_.peer_streams(StreamDir::kBidi).received(),
                        streams_.peer_streams(StreamDir::kUni).received()};
  const StreamLimits before = stream_limits(f);
  QB_TRY(streams_.on_frame(f, conn_recv_));
  report_stream_changes(f, before);
  // §3.2: a frame may open the stream it names and every lower one.
  for (StreamDir dir : {StreamDir::kBidi, StreamDir::kUni}) {
    uint64_t& i = opened[dir == StreamDir::kBidi ? 0 : 1];
    for (; i < streams_.peer_streams(dir).received(); ++i) events_.on_stream_opened(make_stream_id(peer, dir, i));
  }
  if (f.type == FrameType::kStream || f.type == FrameType::kResetStream) {
    const uint64_t id = f.type == FrameType::kStream ? f.stream.stream_id : f.reset_stream.stream_id;
    if (streams_.find(id)) events_.on_stream_readable(id);
  }
  return Status::ok();
}

Status Connection::on_ack_frame(PacketNumberSpace& s, const Frame& f, uint64_t now) {
  // §19.3: ACK Delay is scaled by the peer's ack_delay_exponent (its
  // default until its transport parameters are known).
  const uint64_t delay = f.ack.ack_delay;
  const uint64_t delay_us = delay > (kU64Max >> peer_ack_delay_exponent_) ? kU64Max : delay << peer_ack_delay_exponent_;
  QB_TRY(recovery_.on_ack_received(s.id(), f.ack, f.type == FrameType::kAckEcn, delay_us, now));
  apply_plpmtu();  // acknowledged or lost probes may have moved the search
  return Status::ok();
}

Status Connection::on_datagram_frame(const DatagramFrame& f) {
  // RFC 9221 §3: DATAGRAM frames only when we advertised support, and none
  // larger than we said, type byte and Length field (if present) included.
  const uint64_t max = local_params_.max_datagram_frame_size;
  if (max == 0) return Status(ErrorCode::kProtocolViolation, "DATAGRAM frame not negotiated");
  const bool has_length = (frame_type_ & 0x01) != 0;
  const uint64_t size = 1 + (has_length ? varint_size(f.data.size()) : 0) + f.data.size();
  if (size > max) return Status(ErrorCode::kProtocolViolation, "DATAGRAM frame above max_datagram_frame_size");
  events_.on_datagram(f.data);
  return Status::ok();
}

Status Connection::on_crypto_frame(PacketNumberSpace& s, const CryptoFrame& f) {
  // §7.5: the reassembly window bounds out-of-order CRYPTO data
  // (CRYPTO_BUFFER_EXCEEDED beyond it).
  QB_TRY(s.crypto_in.insert(f.offset, f.data, false));
  const EncryptionLevel level = level_of(s.id());
  bool provided = false;
  for (Bytes b = s.crypto_in.peek(); !b.empty(); b = s.crypto_in.peek()) {
    QB_TRY(tls_.provide_data(level, b, *this));
    s.crypto_in.consume(b.size());
    provided = true;
  }
  if (provided && !tls_.handshake_complete()) QB_TRY(tls_.advance(*this));
  return Status::ok();
}

void Connection::on_peer_close(const ConnectionCloseFrame& f, bool application, uint64_t now) {
  CloseInfo info;
  info.source = CloseInfo::Source::kPeer;
  info.application = application;
  info.error_code = f.error_code;
  info.frame_type = f.frame_type;
  info.reason = f.reason;
  enter_closed_state(State::kDraining, info, now);
}

}  // namespace quicbed
