// Tracing: what the connection tells the host's Tracer (trace.h), if it
// has one. A packet's frames are summarized from its plaintext, parsed once
// more here, so that building packets and processing frames know nothing
// of tracing; the list lives in the connection (kMaxTracedFrames), not on
// the stack, which a kernel host keeps small.
#include "conn.h"

namespace quicbed {
namespace {

Role other(Role r) { return r == Role::kServer ? Role::kClient : Role::kServer; }

bool same_metrics(const TracedMetrics& a, const TracedMetrics& b) {
  return a.min_rtt_us == b.min_rtt_us && a.smoothed_rtt_us == b.smoothed_rtt_us &&
         a.latest_rtt_us == b.latest_rtt_us && a.rtt_variance_us == b.rtt_variance_us &&
         a.pto_count == b.pto_count && a.congestion_window == b.congestion_window &&
         a.bytes_in_flight == b.bytes_in_flight && a.ssthresh == b.ssthresh && a.pacing_rate == b.pacing_rate;
}

}  // namespace

void Connection::trace_start() {
  if (!tracer_) return;
  TracedConnectionStarted e;
  e.src_cid = local_scid_;
  // A client has only the Destination Connection ID it chose so far.
  e.dst_cid = is_server() ? peer_initial_scid_ : original_dcid_;
  tracer_->connection_started(now_, e);
  tracer_->parameters_set(now_, TraceOwner::kLocal, local_params_);
  // The Initial keys, derived from the client's first Destination
  // Connection ID (RFC 9001 §5.2) rather than reported by TLS.
  trace_key(false, EncryptionLevel::kInitial, 0, KeyTrigger::kTls, false);
  trace_key(true, EncryptionLevel::kInitial, 0, KeyTrigger::kTls, false);
}

void Connection::trace_packet(bool sent, const TracedPacketHeader& h, uint64_t size, Bytes payload,
                              uint64_t ack_delay_exponent) {
  if (!tracer_) return;
  size_t n = 0;
  Reader r(payload);
  while (!r.empty() && n < kMaxTracedFrames) {
    // A frame that does not parse ends the list; a received packet is then
    // closed on by process_frames, which reports why.
    Result<Frame> f = parse_frame(r);
    if (!f) break;
    trace_frames_[n++] = trace_frame(*f, ack_delay_exponent);
  }
  TracedPacket p;
  p.header = h;
  p.size = size;
  p.frames = std::span<const TracedFrame>(trace_frames_, n);
  if (sent) {
    tracer_->packet_sent(now_, p);
  } else {
    tracer_->packet_received(now_, p);
  }
}

void Connection::trace_drop(const PacketHeader* h, uint64_t size, DropReason reason) {
  if (!tracer_) return;
  TracedPacketDrop d;
  if (h) {
    d.header = trace_header(*h);
  } else {
    d.header.type_known = false;
  }
  d.size = size;
  d.trigger = reason;
  tracer_->packet_dropped(now_, d);
}

void Connection::trace_state(TraceConnectionState st) {
  if (st == trace_state_) return;
  if (tracer_) tracer_->connection_state_updated(now_, trace_state_, st);
  trace_state_ = st;
}

void Connection::trace_key(bool write, EncryptionLevel level, uint64_t generation, KeyTrigger trigger,
                           bool discarded) {
  if (!tracer_) return;
  TracedKey k;
  k.sender = write ? role_ : other(role_);
  k.level = level;
  k.generation = generation;
  k.trigger = trigger;
  if (discarded) {
    tracer_->key_discarded(now_, k);
  } else {
    tracer_->key_updated(now_, k);
  }
}

void Connection::trace_lost(const SentPacket& p) {
  if (!tracer_) return;
  // The frames are rebuilt from what the packet's record kept: its data and
  // control frames (an ACK's ranges are not kept).
  static_assert(kMaxSentItems <= kMaxTracedFrames);
  size_t n = 0;
  for (const SentItem& it : p.items) {
    TracedFrame& t = trace_frames_[n];
    switch (it.kind) {
      case kItemAck:
        continue;
      case kItemCrypto:
        t.type = FrameType::kCrypto;
        t.data = TracedData{0, it.offset, it.length, false};
        break;
      case kItemStream:
        t.type = FrameType::kStream;
        t.data = TracedData{it.id, it.offset, it.length, it.flags != 0};
        break;
      case kItemHandshakeDone:
        t.type = FrameType::kHandshakeDone;
        break;
      case kItemNewConnectionId:  // the CID may be gone: its sequence number says which
        t.type = FrameType::kNewConnectionId;
        t.new_connection_id = NewConnectionIdFrame{it.offset, 0, Bytes(), Bytes()};
        break;
      case kItemRetireConnectionId:
        t.type = FrameType::kRetireConnectionId;
        t.retire_connection_id.sequence = it.offset;
        break;
      case kItemNewToken:  // the token itself is not kept (the endpoint mints a new one)
        t.type = FrameType::kNewToken;
        t.new_token = NewTokenFrame{Bytes()};
        break;
      case kItemControl:
        t = trace_frame(control_frame(it), 0);
        break;
    }
    ++n;
  }
  TracedPacketLost l;
  l.header.type = packet_type_of(p.space);
  l.header.has_packet_number = true;
  l.header.packet_number = p.pn;
  l.frames = std::span<const TracedFrame>(trace_frames_, n);
  tracer_->packet_lost(now_, l);
}

void Connection::trace_closed(const CloseInfo& info) {
  if (!tracer_) return;
  TracedConnectionClosed e;
  e.application = info.application;
  e.error_code = info.error_code;
  e.reason = info.reason;
  switch (info.source) {
    case CloseInfo::Source::kLocal:
    case CloseInfo::Source::kPeer:
      e.owner = info.source == CloseInfo::Source::kLocal ? TraceOwner::kLocal : TraceOwner::kRemote;
      e.trigger = info.application      ? CloseTrigger::kApplication
                  : info.error_code == 0 ? CloseTrigger::kClean
                  // RFC 9368: a version negotiation failure, or an attempt
                  // that Version Negotiation ended.
                  : info.error_code == static_cast<uint64_t>(ErrorCode::kVersionNegotiationError)
                      ? CloseTrigger::kVersionMismatch
                      : CloseTrigger::kError;
      break;
    case CloseInfo::Source::kIdleTimeout:
      e.trigger = CloseTrigger::kIdleTimeout;
      break;
    case CloseInfo::Source::kStatelessReset:
      e.owner = TraceOwner::kRemote;
      e.trigger = CloseTrigger::kStatelessReset;
      break;
  }
  tracer_->connection_closed(now_, e);
}

void Connection::trace_recovery() {
  if (!tracer_) return;
  const RttEstimator& rtt = recovery_.rtt();
  TracedMetrics m;
  m.min_rtt_us = rtt.min_rtt();
  m.smoothed_rtt_us = rtt.smoothed_rtt();
  m.latest_rtt_us = rtt.latest_rtt();
  m.rtt_variance_us = rtt.rttvar();
  m.pto_count = recovery_.pto_count();
  m.congestion_window = cc_->cwnd();
  m.bytes_in_flight = recovery_.bytes_in_flight();
  m.ssthresh = cc_->ssthresh();
  m.pacing_rate = pacing_rate();
  if (!same_metrics(m, traced_metrics_)) {
    tracer_->metrics_updated(now_, m);
    traced_metrics_ = m;
  }
  const CcState st = cc_->state();
  const CcRecovery rec = cc_->recovery();
  if (st != traced_cc_state_) {
    // A recovery period that an ECN-CE count started (RFC 9002 §7.1), or
    // the window's collapse (§7.6.2).
    CongestionTrigger trigger = CongestionTrigger::kNone;
    if (rec != traced_recovery_ && rec == CcRecovery::kEcn) trigger = CongestionTrigger::kEcn;
    if (rec != traced_recovery_ && rec == CcRecovery::kPersistentCongestion) {
      trigger = CongestionTrigger::kPersistentCongestion;
    }
    tracer_->congestion_state_updated(now_, traced_cc_state_, st, trigger);
    traced_cc_state_ = st;
  }
  if (rec != traced_recovery_) {
    tracer_->recovery_state_updated(now_, traced_recovery_, rec);
    traced_recovery_ = rec;
  }
  trace_path();
}

}  // namespace quicbed
