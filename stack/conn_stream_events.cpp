// The stream changes a Connection reports to its host (ConnectionEvents):
// state changes of a stream's sending and receiving parts (RFC 9000 §3.1,
// §3.2) and raised limits (MAX_STREAM_DATA §19.10, MAX_STREAMS §19.11).
// Each is found by comparing a stream (or the stream limit) before and
// after the frame or acknowledgment that may change it.
#include "conn.h"

namespace quicbed {

namespace {

bool is_max_streams(FrameType t) { return t == FrameType::kMaxStreamsBidi || t == FrameType::kMaxStreamsUni; }

bool names_stream(FrameType t) {
  switch (t) {
    case FrameType::kStream:
    case FrameType::kResetStream:
    case FrameType::kStopSending:
    case FrameType::kMaxStreamData:
    case FrameType::kStreamDataBlocked:
      return true;
    default:
      return false;
  }
}

StreamDir max_streams_dir(FrameType t) { return t == FrameType::kMaxStreamsBidi ? StreamDir::kBidi : StreamDir::kUni; }

}  // namespace

Connection::StreamLimits Connection::stream_limits(const Frame& f) const {
  StreamLimits l;
  if (is_max_streams(f.type)) {
    l.max_streams = streams_.local_streams(max_streams_dir(f.type)).limit();
    return l;
  }
  if (!names_stream(f.type)) return l;
  const Stream* s = streams_.find(stream_id_of(f));
  if (!s) return l;  // not open yet: it starts in Ready / Recv
  l.stream_known = true;
  l.send = s->send_state();
  l.recv = s->recv_state();
  if (s->has_recv()) l.received = s->recv_flow().received();
  l.max_stream_data = s->send_flow().limit();
  return l;
}

void Connection::report_stream_changes(const Frame& f, const StreamLimits& before) {
  if (is_max_streams(f.type)) {
    const StreamDir dir = max_streams_dir(f.type);
    const uint64_t limit = streams_.local_streams(dir).limit();
    if (limit > before.max_streams) events_.on_max_streams(dir, limit);
    return;
  }
  if (!names_stream(f.type)) return;
  // A frame never frees the stream it names before it is read or
  // acknowledged (only those reach a terminal state on both parts).
  const Stream* s = streams_.find(stream_id_of(f));
  if (!s) return;
  if (s->has_send()) {
    // A new stream's sending part starts with the peer's initial credit:
    // only a MAX_STREAM_DATA raises it.
    if (before.stream_known && s->send_flow().limit() > before.max_stream_data) {
      events_.on_stream_max_data(s->id(), s->send_flow().limit());
    }
    if (f.type == FrameType::kStopSending && s->send_state() != before.send) report_send_state(*s, before.send);
  }
  // Recv: the first data of the receiving part arrived and its last
  // fragment has not (draft-lxin-quic-socket-apis, "QUIC_EVENT_STREAM_UPDATE":
  // pending data, the final size unknown); once per stream, since the
  // highest offset received never falls. A frame bringing all the data
  // with the FIN reports Data Recvd alone.
  if (s->has_recv() && f.type == FrameType::kStream && before.recv == RecvState::kRecv && before.received == 0 &&
      s->recv_state() == RecvState::kRecv && s->recv_flow().received() > 0) {
    events_.on_stream_recv_state(s->id(), RecvState::kRecv, 0);
  }
  if (s->has_recv() && s->recv_state() != before.recv) {
    // The peer's reset is reported through on_stream_readable.
    if (s->recv_state() == RecvState::kSizeKnown) events_.on_stream_recv_state(s->id(), RecvState::kSizeKnown, 0);
    if (s->recv_state() == RecvState::kDataRecvd) {
      events_.on_stream_recv_state(s->id(), RecvState::kDataRecvd, s->recv_flow().received());
    }
  }
}

void Connection::report_send_state(const Stream& s, SendState before) {
  const SendState now = s.send_state();
  if (now == before) return;
  switch (now) {
    case SendState::kDataRecvd:
      events_.on_stream_send_state(s.id(), now, 0);
      break;
    case SendState::kResetSent:
    case SendState::kResetRecvd:
      events_.on_stream_send_state(s.id(), now, s.reset_code());
      break;
    default:
      break;
  }
}

}  // namespace quicbed
