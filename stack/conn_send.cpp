// Sending: one datagram at a time, coalescing a packet per packet number
// space in the order Initial, Handshake, 1-RTT (RFC 9000 §12.2: the short
// header packet, having no Length field, comes last), padding datagrams
// that carry Initial packets (§14.1), within the anti-amplification limit
// (§8.1), the congestion window, the pacer and the loss detection record
// bound (RFC 9002 §7, §7.7).
#include "base/fixed_point.h"
#include "conn.h"
#include "conn_packet_draft.h"

namespace quicbed {
namespace {

// RFC 9001 §5.4.2: header protection samples 16 bytes starting 4 bytes
// after the start of the Packet Number field, so the packet number and
// payload together span at least 4 bytes (the tag supplies the 16).
constexpr size_t kMinPnAndPayload = 4;

constexpr FrameType kManagerControls[] = {FrameType::kMaxStreamsBidi, FrameType::kMaxStreamsUni,
                                          FrameType::kStreamsBlockedBidi, FrameType::kStreamsBlockedUni};
constexpr FrameType kStreamControls[] = {FrameType::kResetStream, FrameType::kStopSending, FrameType::kMaxStreamData,
                                         FrameType::kStreamDataBlocked};

// The value a flow control frame carries, which decides its fate (§13.3).
uint64_t control_value(const Frame& f) {
  switch (f.type) {
    case FrameType::kMaxData:
      return f.max_data.maximum;
    case FrameType::kDataBlocked:
      return f.data_blocked.limit;
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
      return f.max_streams.maximum;
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      return f.streams_blocked.limit;
    case FrameType::kMaxStreamData:
      return f.max_stream_data.maximum;
    case FrameType::kStreamDataBlocked:
      return f.stream_data_blocked.limit;
    case FrameType::kResetStream:
      return f.reset_stream.final_size;
    default:
      return 0;
  }
}

}  // namespace

size_t Connection::send_limit() const {
  uint64_t limit = max_datagram_size_;
  // RFC 9000 §8.1: three times the bytes received, until validation.
  if (!address_validated_) {
    limit = min_u64(limit, sat_sub(mul_div(bytes_received_, kAmplificationFactor, 1), bytes_sent_));
  }
  // §9.3: the same limit on a new peer address until it is validated (the
  // client's own addresses are not the server's to mind).
  if (is_server()) limit = min_u64(limit, paths_.active().send_budget(kAmplificationFactor));
  return static_cast<size_t>(limit);
}

bool Connection::can_send_data(uint64_t now) const {
  return recovery_.bytes_in_flight() < cc_->cwnd() &&
         pacer_.next_send_time(now, max_datagram_size_, pacing_rate()) <= now;
}

void Connection::mark_app_limited(uint64_t now) {
  const PacketNumberSpace& app = spaces_[idx(PnSpace::kApplication)];
  if (!app.can_send() || !recovery_.can_send(false)) return;
  const bool nothing_to_send = !handshake_done_pending_ && !app_data_pending();
  // RFC 9002 §7.8: with less in flight than the window and nothing more to
  // send (no data, or flow control holds it), the window is underused and
  // must not grow; data held back by the window or the pacer alone is not
  // ("SHOULD NOT consider itself application limited if it would have
  // fully utilized the congestion window without pacing delay").
  recovery_.set_app_limited(nothing_to_send && recovery_.bytes_in_flight() < cc_->cwnd());
  // draft-ietf-ccwg-bbr §4.1.2.4: nothing to send although the window and
  // the pacer would let data go, so delivery rate samples of the current
  // flight measure the application, not the path.
  if (nothing_to_send && can_send_data(now)) recovery_.mark_app_limited();
}

bool Connection::wants_to_send(const PacketNumberSpace& s, uint64_t now) const {
  if (s.acks.ack_due(now) || s.probes > 0) return true;
  // RFC 9000 §8.2: path validation frames go whatever the window says,
  // like probes (their loss is the path's business).
  if (s.id() == PnSpace::kApplication && path_frames_pending(now) && recovery_.can_send(true)) return true;
  if (!recovery_.can_send(false) || !can_send_data(now)) return false;
  SendBuffer::Chunk c;
  if (s.crypto_out.next_chunk(1, kU64Max, c)) return true;
  return s.id() == PnSpace::kApplication && (handshake_done_pending_ || new_token_pending_ || app_data_pending());
}

bool Connection::app_data_pending() const {
  if (path_frames_pending(now_) || conn_recv_.should_update() || !datagrams_.empty()) return true;
  NewConnectionIdFrame ncid;
  uint64_t sequence;
  if (local_cids_.next_new_connection_id(ncid) || peer_cids_.next_retire_connection_id(sequence)) return true;
  for (FrameType t : kManagerControls) {
    if (streams_.wants_control(t)) return true;
  }
  bool unsent = false;
  for (const Stream* s = streams_.first(); s; s = streams_.next(s)) {
    for (FrameType t : kStreamControls) {
      if (s->wants_control(t)) return true;
    }
    SendBuffer::Chunk c;
    if (s->next_chunk(1, conn_send_.available(), c)) return true;
    unsent |= s->send_buffer().has_unsent_data();
  }
  return conn_send_.should_send_blocked(unsent);
}

size_t Connection::write_datagram(MutBytes out, uint64_t now, Path* path) {
  if (!initialized_ || state_ == State::kClosed || state_ == State::kDraining) return 0;
  now_ = now;
  const bool closing = state_ == State::kClosing;
  if (closing && !close_frame_pending_) return 0;
  // RFC 9001 §6.6: no packet beyond the 1-RTT key's confidentiality limit
  // (after the handshake every packet is 1-RTT).
  if (!one_rtt_key_usable()) return 0;
  // §8.2: probes of other paths first (a PATH_RESPONSE is not delayed,
  // §8.2.2), then the active path.
  tx_path_ = paths_.active_index();
  pad_path_ = false;
  if (path) *path = paths_.active().path;
  if (!closing) {
    if (const size_t n = write_path_probe(out, now, path)) return n;
  }
  // The controller may size the pacer's bursts (BBR's send quantum).
  if (const uint64_t quantum = cc_->send_quantum()) pacer_.set_burst_bytes(quantum);
  // A DPLPMTUD probe is a datagram of its own, of the probed size (within
  // the amplification limit of a path not validated yet, §9.3).
  const uint64_t probe_room =
      is_server() ? min_u64(out.size(), paths_.active().send_budget(kAmplificationFactor)) : out.size();
  const uint64_t probe = closing ? 0 : mtu_probe_size(static_cast<size_t>(probe_room), now);
  const size_t limit = probe               ? static_cast<size_t>(probe)
                       : out.size() < send_limit() ? out.size()
                                                   : send_limit();
  MutBytes datagram = out.first(limit);
  // RFC 9000 §13.4: one codepoint for every packet of the datagram.
  const Ecn mark = ecn_.codepoint();

  PacketDraft drafts[kNumPnSpaces];
  size_t n = 0;
  size_t pos = 0;
  bool pad_datagram = false;
  for (PacketNumberSpace& s : spaces_) {
    // A client without 1-RTT keys writes its Application data in 0-RTT
    // packets while it has their keys (RFC 9001 §4.6.1); never a
    // CONNECTION_CLOSE, which goes in Initial or Handshake packets then.
    // A DPLPMTUD probe is a 1-RTT packet alone in its datagram.
    const bool zero_rtt = !closing && s.id() == PnSpace::kApplication && sending_zero_rtt();
    if (probe) {
      if (s.id() != PnSpace::kApplication) continue;
    } else if ((!s.can_send() && !zero_rtt) || (!closing && !wants_to_send(s, now))) {
      continue;
    }
    const bool initial = s.id() == PnSpace::kInitial;
    // §14.1: every datagram with a client's Initial is at least 1200 bytes,
    // as is every one with a server's ack-eliciting Initial.
    if (initial && !is_server() && limit < kMinInitialDatagram) continue;
    PacketDraft& d = drafts[n];
    if (!open_packet(d, s, datagram, pos)) break;
    d.record.ecn = mark;
    if (probe) {
      // RFC 9000 §14.4: PING and PADDING, ack-eliciting and in flight.
      Frame f;
      f.type = FrameType::kPing;
      if (write_frame(d.w, f)) {
        d.mark_eliciting();
        d.record.mtu_probe = true;
      }
    } else if (closing) {
      write_close_frame(d);
    } else {
      fill_packet(d, s, !initial || limit >= kMinInitialDatagram, now);
    }
    if (d.empty()) continue;  // nothing fit: its packet number stays unused
    // The header protection minimum now, before the next packet is placed
    // after this one (a PING-only probe is shorter). open_packet left room.
    const Status padded = d.pad_to(d.pn_offset + kMinPnAndPayload);
    QB_ASSERT(padded.is_ok());
    ++s.next_pn;
    pos = d.start + d.w.position() + kAeadTagLen;
    if (initial && (!is_server() || d.record.ack_eliciting)) pad_datagram = true;
    ++n;
  }
  if (n == 0) {
    mark_app_limited(now);
    return 0;
  }

  size_t end = 0;
  bool eliciting = false;
  bool in_flight = false;
  bool handshake_sent = false;
  for (size_t i = 0; i < n; ++i) {
    PacketDraft& d = drafts[i];
    size_t min_end = probe ? static_cast<size_t>(probe) : pad_datagram ? kMinInitialDatagram : 0;
    // §8.2.1, §8.2.2: a datagram with PATH_CHALLENGE or PATH_RESPONSE is
    // expanded to 1200 bytes, as far as the amplification limit allows.
    if (pad_path_ && min_end < kMinInitialDatagram) min_end = limit < kMinInitialDatagram ? limit : kMinInitialDatagram;
    Result<size_t> sealed = seal_packet(d, i + 1 == n ? min_end : 0);
    if (!sealed) {
      close_with_error(sealed.status(), 0, now);
      return 0;
    }
    end = *sealed;
    eliciting |= d.record.ack_eliciting;
    in_flight |= d.record.in_flight;
    handshake_sent |= d.type == PacketType::kHandshake;
    // A CONNECTION_CLOSE is never repeated for loss. Every other packet
    // number goes to Recovery, which records the packets in flight and only
    // numbers the others (ACK-only, RFC 9002 §2): the peer acknowledges
    // those along with its own data (RFC 9000 §13.1).
    if (closing) {
      ecn_.on_packet_sent(d.record.space, mark, false);
      continue;
    }
    d.record.time_sent = now;
    Status st = recovery_.on_packet_sent(d.record);
    if (!st && !d.record.ack_eliciting) {
      // At the record bound (or without memory) a padded packet that
      // elicits nothing still goes (ACKs must flow; the client pads its
      // Initial ACKs, §14.1), numbered but untracked, as if not in flight.
      d.record.in_flight = false;
      st = recovery_.on_packet_sent(d.record);
    }
    if (!st) close_with_error(st, 0, now);
    ecn_.on_packet_sent(d.record.space, mark, d.record.in_flight);
  }
  datagram_ecn_ = mark;
  if (!closing && drafts[n - 1].type == PacketType::kOneRtt) after_one_rtt_sealed();
  if (probe) pmtud_.on_probe_sent(probe);
  bytes_sent_ += end;
  paths_.active().bytes_sent += end;
  if (tracer_) tracer_->datagram_sent(now, end);
  if (in_flight && !closing) pacer_.on_packet_sent(now, end, pacing_rate());
  if (closing) close_frame_pending_ = false;
  // RFC 9000 §10.1: the first ack-eliciting packet after a receipt restarts
  // the idle timer.
  if (eliciting && !eliciting_sent_since_receive_) {
    last_activity_ = now;
    eliciting_sent_since_receive_ = true;
  }
  // RFC 9001 §4.9.1: a client discards Initial keys when it first sends a
  // Handshake packet.
  if (!is_server() && handshake_sent && !closing) discard_space(PnSpace::kInitial, now);
  update_amplification(now);
  trace_recovery();
  return end;
}

bool Connection::open_packet(PacketDraft& d, PacketNumberSpace& s, MutBytes datagram, size_t pos) {
  const PeerCid* dst = send_cid();
  if (!dst || pos + kAeadTagLen >= datagram.size()) return false;
  // Only a 0-RTT sender gets here without the space's write keys.
  d.type = s.can_send() ? packet_type_of(s.id()) : PacketType::kZeroRtt;
  d.start = pos;
  d.bytes = datagram.subspan(pos);
  d.w = Writer(d.bytes.first(d.bytes.size() - kAeadTagLen));
  const uint64_t pn = s.next_pn;
  d.pn_len = packet_number_length(pn, recovery_.largest_acked(s.id()));
  if (d.type == PacketType::kOneRtt) {
    ShortHeader h;
    h.dcid = dst->cid.view();
    h.packet_number = pn;
    h.pn_len = d.pn_len;
    h.key_phase = s.write_phase;
    auto offset = write_short_header(d.w, h);
    if (!offset) return false;
    d.pn_offset = *offset;
    grease_fixed_bit(d.bytes[0], d.type);
  } else {
    LongHeader h;
    h.type = d.type;
    h.version = version_;
    h.dcid = dst->cid.view();
    h.scid = local_scid_.view();
    h.packet_number = pn;
    h.pn_len = d.pn_len;
    // RFC 9000 §17.2.2: a client's Initials carry its token (§8.1.2-§8.1.3).
    if (d.type == PacketType::kInitial && !is_server()) h.token = Bytes(token_, token_len_);
    auto layout = write_long_header(d.w, h);
    if (!layout) return false;
    d.pn_offset = layout->pn_offset;
    d.length_offset = layout->length_offset;
    grease_fixed_bit(d.bytes[0], d.type);
  }
  d.header_len = d.w.position();
  // Room for the header protection minimum (write_datagram pads to it).
  if (d.w.remaining() + d.pn_len < kMinPnAndPayload) return false;
  d.record = SentPacket();
  d.record.pn = pn;
  d.record.space = s.id();
  return true;
}

void Connection::fill_packet(PacketDraft& d, PacketNumberSpace& s, bool allow_eliciting, uint64_t now) {
  Writer& w = d.w;
  // An ACK rides on every packet of the space while one is owed (§13.2);
  // never in 0-RTT (RFC 9000 §12.4, Table 3). In the Application space only
  // for an ack-eliciting packet: a peer that only acknowledges (a client
  // downloading) would otherwise have an ACK frame in about every other
  // packet of ours, bytes taken from the data for nothing (§13.2.1: its
  // ACK-only packets are acknowledged with the next ACK due anyway).
  const bool zero_rtt = d.type == PacketType::kZeroRtt;
  const bool app = s.id() == PnSpace::kApplication;
  bool ack_ranges = false;  // an ACK with more than one range was written
  if ((app ? s.acks.owes_ack() : s.acks.has_ack()) && !zero_rtt) {
    ack_ranges = s.acks.range_count() > 1;
    Result<uint64_t> largest = s.acks.write_ack(w, now, local_params_.ack_delay_exponent);
    if (largest) {
      d.add(SentItem{kItemAck, 0, 0, 0, *largest});
      on_ack_written(s, d.type, *largest);
    } else {
      ack_ranges = false;
    }
  }
  if (d.type == PacketType::kOneRtt && allow_eliciting && recovery_.can_send(true)) fill_path_frames(d, now);
  // RFC 9002 §6.2.4: probes go out whatever the congestion window says.
  const bool probe = s.probes > 0;
  if (!allow_eliciting || !recovery_.can_send(probe) || !(probe || can_send_data(now))) return;
  if (s.id() == PnSpace::kApplication && handshake_done_pending_ && !d.record.items.full()) {
    Frame f;
    f.type = FrameType::kHandshakeDone;
    if (write_frame(w, f)) {
      handshake_done_pending_ = false;
      d.add(SentItem{kItemHandshakeDone, 0, 0, 0, 0});
      d.mark_eliciting();
    }
  }
  while (!d.record.items.full() && !zero_rtt) {
    SendBuffer::Chunk c;
    if (!s.crypto_out.next_chunk(w.remaining(), kU64Max, c)) break;
    Result<size_t> n = write_crypto(w, CryptoFrame{c.offset, c.data});
    if (!n) break;
    s.crypto_out.on_sent(c.offset, *n, false);
    d.add(SentItem{kItemCrypto, 0, static_cast<uint32_t>(*n), 0, c.offset});
    d.mark_eliciting();
  }
  if (s.id() == PnSpace::kApplication) fill_app_frames(d, now);
  // RFC 9000 §13.2.4: our ACK-only packets are not acknowledged for their
  // own sake, and only an acknowledgment of one of our ACKs lets us drop
  // its ranges. With more than one range to repeat and nothing ack-eliciting
  // in flight in the space (whose ACK would do), a PING makes this packet
  // elicit one: at most about once per round trip.
  if (app && ack_ranges && !d.record.ack_eliciting && !zero_rtt &&
      recovery_.ack_eliciting_in_flight(PnSpace::kApplication) == 0) {
    Frame f;
    f.type = FrameType::kPing;
    if (write_frame(w, f)) d.mark_eliciting();
  }
  if (probe && !d.record.ack_eliciting) {
    Frame f;
    f.type = FrameType::kPing;
    if (write_frame(w, f)) d.mark_eliciting();
  }
  if (probe && d.record.ack_eliciting) --s.probes;
}

void Connection::fill_app_frames(PacketDraft& d, uint64_t now) {
  Writer& w = d.w;
  const uint64_t rtt = recovery_.rtt().smoothed_rtt();
  // 0-RTT carries no PATH_RESPONSE nor RETIRE_CONNECTION_ID (RFC 9000
  // §12.4, §12.5); neither can be due before the handshake anyway.
  const bool one_rtt = d.type == PacketType::kOneRtt;
  // Flow control first (§4): credit for the peer, and our own blockage.
  if (conn_recv_.should_update() && d.has_control_room()) {
    Frame f;
    f.type = FrameType::kMaxData;
    f.max_data.maximum = conn_recv_.advertise(now, rtt);
    (void)write_control(d, f, 0, f.max_data.maximum);
  }
  bool unsent = false;
  for (const Stream* s = streams_.first(); s && !unsent; s = streams_.next(s)) {
    unsent = s->send_buffer().has_unsent_data();
  }
  if (conn_send_.should_send_blocked(unsent) && d.has_control_room()) {
    Frame f;
    f.type = FrameType::kDataBlocked;
    f.data_blocked.limit = conn_send_.on_blocked_sent();
    (void)write_control(d, f, 0, f.data_blocked.limit);
  }
  for (FrameType t : kManagerControls) {
    if (streams_.wants_control(t) && d.has_control_room()) {
      const Frame f = streams_.take_control(t);
      (void)write_control(d, f, 0, control_value(f));
    }
  }
  for (Stream* s = streams_.first(); s; s = streams_.next(s)) {
    for (FrameType t : kStreamControls) {
      if (s->wants_control(t) && d.has_control_room()) {
        const Frame f = s->take_control(t, now, rtt);
        (void)write_control(d, f, s->id(), control_value(f));
      }
    }
  }

  if (one_rtt) fill_cid_frames(d);
  if (one_rtt && new_token_pending_ && !d.record.items.full() && write_new_token(d.w)) {
    d.add(SentItem{kItemNewToken, 0, 0, 0, 0});
    d.mark_eliciting();
  }
  fill_datagrams(d);

  // STREAM data, round robin: each packet starts with the stream after the
  // one that filled the previous packet.
  Stream* start = streams_.find(next_stream_);
  if (!start) start = streams_.first();
  for (Stream* s = start; s;) {
    bool full = d.record.items.full();
    SendBuffer::Chunk c;
    while (!full && s->next_chunk(w.remaining(), conn_send_.available(), c)) {
      // One frame for the chunk, whichever buffer pages it spans; without
      // a Length field when it fills the packet (write_stream_header).
      Result<size_t> n = write_stream_header(w, StreamFrame{s->id(), c.offset, Bytes(), c.fin}, c.len);
      if (!n) {
        full = true;
        break;
      }
      for (uint64_t at = c.offset, end = c.offset + *n; at < end;) {
        const Bytes piece = s->send_buffer().piece(at, end - at);
        const Status copied = w.bytes(piece);
        QB_ASSERT(copied.is_ok());  // the header announced what fits
        at += piece.size();
      }
      const bool fin = c.fin && *n == c.len;
      s->on_stream_sent(c.offset, *n, fin, conn_send_);
      d.add(SentItem{kItemStream, fin, static_cast<uint32_t>(*n), s->id(), c.offset});
      d.mark_eliciting();
      full = d.record.items.full();
    }
    Stream* next = streams_.next(s) ? streams_.next(s) : streams_.first();
    if (full) {
      next_stream_ = next->id();
      return;
    }
    s = next == start ? nullptr : next;
  }
}

void Connection::fill_cid_frames(PacketDraft& d) {
  Frame f;
  f.type = FrameType::kNewConnectionId;
  while (!d.record.items.full() && local_cids_.next_new_connection_id(f.new_connection_id)) {
    if (!write_frame(d.w, f)) return;
    local_cids_.on_new_connection_id_sent(f.new_connection_id.sequence);
    d.add(SentItem{kItemNewConnectionId, 0, 0, 0, f.new_connection_id.sequence});
    d.mark_eliciting();
  }
  f.type = FrameType::kRetireConnectionId;
  while (!d.record.items.full() && peer_cids_.next_retire_connection_id(f.retire_connection_id.sequence)) {
    if (!write_frame(d.w, f)) return;
    peer_cids_.on_retire_connection_id_sent(f.retire_connection_id.sequence);
    d.add(SentItem{kItemRetireConnectionId, 0, 0, 0, f.retire_connection_id.sequence});
    d.mark_eliciting();
  }
}

void Connection::fill_datagrams(PacketDraft& d) {
  // RFC 9221 §5: oldest first, each whole in one packet, before stream
  // data (datagrams are for what would be stale once retransmitted). Once
  // written a datagram is forgotten: it is never repeated (§5.2).
  while (!datagrams_.empty()) {
    Frame f;
    f.type = FrameType::kDatagram;
    f.datagram.data = datagrams_.front();
    if (!write_frame(d.w, f)) {
      // One that does not fit even a datagram's first, empty packet (the
      // peer's connection ID grew since it was queued) never will: it is
      // dropped, as the network might have.
      if (d.empty() && d.start == 0) datagrams_.pop();
      return;
    }
    datagrams_.pop();
    d.mark_eliciting();
  }
}

bool Connection::write_control(PacketDraft& d, const Frame& f, uint64_t id, uint64_t value) {
  const SentItem item{kItemControl, static_cast<uint8_t>(f.type), 0, id, value};
  if (!write_frame(d.w, f)) {
    // The caller checked the room, so this is not expected; the frame is
    // then as good as lost.
    on_control_fate(item, false);
    return false;
  }
  d.add(item);
  d.mark_eliciting();
  return true;
}

void Connection::write_close_frame(PacketDraft& d) {
  // RFC 9000 §10.2.3: an application's close travels in Initial and
  // Handshake packets as a transport CONNECTION_CLOSE with
  // APPLICATION_ERROR, without its reason, which is the application's.
  const bool app = close_info_.application;
  const bool one_rtt = d.type == PacketType::kOneRtt;
  Frame f;
  f.type = app && one_rtt ? FrameType::kConnectionCloseApp : FrameType::kConnectionClose;
  f.connection_close.error_code =
      app && !one_rtt ? static_cast<uint64_t>(ErrorCode::kApplicationError) : close_info_.error_code;
  f.connection_close.frame_type = app ? 0 : close_info_.frame_type;
  f.connection_close.reason = app && !one_rtt ? Bytes() : close_info_.reason;
  if (!write_frame(d.w, f)) {
    f.connection_close.reason = Bytes();
    (void)write_frame(d.w, f);
  }
}

Result<size_t> Connection::seal_packet(PacketDraft& d, size_t min_end) {
  if (min_end > d.start + kAeadTagLen) QB_TRY(d.pad_to(min_end - d.start - kAeadTagLen));
  const size_t total = d.w.position() + kAeadTagLen;
  MutBytes packet = d.bytes.first(total);
  if (d.type != PacketType::kOneRtt) QB_TRY(write_length_field(packet, d.length_offset, total - d.pn_offset));
  if (tracer_) {
    TracedPacketHeader h;
    h.type = d.type;
    h.has_packet_number = true;
    h.packet_number = d.record.pn;
    h.has_dcid = true;
    h.dcid = send_cid()->cid;  // open_packet found one
    if (d.type != PacketType::kOneRtt) {
      h.has_version = h.has_scid = true;
      h.version = version_;
      h.scid = local_scid_;
      h.length = total - d.pn_offset;
    }
    const size_t payload_at = d.pn_offset + d.pn_len;
    trace_packet(true, h, total, d.bytes.subspan(payload_at, d.w.position() - payload_at),
                 local_params_.ack_delay_exponent);
  }
  PacketProtection& keys = d.type == PacketType::kZeroRtt ? zero_rtt_keys_ : sp(d.record.space).write;
  QB_TRY(keys.protect(packet, d.pn_offset, d.pn_len, d.record.pn));
  if (d.type == PacketType::kZeroRtt) ++zero_rtt_packets_;
  d.record.bytes = total;
  return d.start + total;
}

}  // namespace quicbed
