#include "stream.h"

#include <new>

#include "base/assert.h"
#include "base/fixed_point.h"

namespace quicbed {

Stream::Stream(Allocator& alloc, const StreamConfig& config, uint64_t id, Role local, uint64_t send_limit)
    : alloc_(alloc),
      config_(config),
      id_(id),
      local_(local),
      send_flow_(send_limit),
      recv_flow_(initial_recv_window(), config.max_recv_window),
      send_buf_(alloc, config.max_send_buffer),
      recv_buf_(alloc, recv_limits()) {}

uint64_t Stream::initial_recv_window() const {
  if (stream_dir(id_) == StreamDir::kUni) return config_.recv_window_uni;
  // §18.2: "bidi_local" is the credit for streams we open, "bidi_remote"
  // for streams the peer opens.
  return stream_initiator(id_) == local_ ? config_.recv_window_bidi_local : config_.recv_window_bidi_remote;
}

ReassemblyBuffer::Limits Stream::recv_limits() const {
  // Credit never reaches past the read offset by more than the largest
  // window (RecvFlow keeps it at least the initial one), so flow control
  // catches an excess before the buffer's own bound can.
  return {max_u64(config_.max_recv_window, initial_recv_window()), config_.max_recv_segments,
          ErrorCode::kFlowControlError};
}

bool Stream::closed() const {
  const bool send_done = !has_send() || send_state_ == SendState::kDataRecvd ||
                         send_state_ == SendState::kResetRecvd;
  const bool recv_done = !has_recv() || recv_state_ == RecvState::kDataRead ||
                         recv_state_ == RecvState::kResetRead;
  return send_done && recv_done;
}

Status Stream::on_stream(const StreamFrame& f, RecvFlow& conn) {
  if (!has_recv()) return Status(ErrorCode::kStreamStateError, "STREAM on a send-only stream");
  const uint64_t end = f.offset + f.data.size();  // < 2^62: the frame parser checked
  if (reset_by_peer()) {
    // The data is abandoned, but the final size still binds it (§4.5).
    const uint64_t final_size = recv_flow_.received();
    if (end > final_size || (f.fin && end != final_size)) {
      return Status(ErrorCode::kFinalSizeError, "STREAM conflicts with the reset's final size");
    }
    return Status::ok();
  }
  // §4.1: the stream's limit, then the connection's, which counts each
  // stream's highest offset received.
  if (!recv_flow_.allows(end)) return Status(ErrorCode::kFlowControlError, "stream data beyond MAX_STREAM_DATA");
  const uint64_t conn_end = conn.received() + sat_sub(end, recv_flow_.received());
  if (!conn.allows(conn_end)) return Status(ErrorCode::kFlowControlError, "stream data beyond MAX_DATA");
  QB_TRY(recv_buf_.insert(f.offset, f.data, f.fin));
  recv_flow_.on_received(end);
  conn.on_received(conn_end);

  // §3.2: Recv -> Size Known on a FIN, -> Data Recvd once every byte up to
  // the final size is here.
  if (recv_state_ == RecvState::kRecv && recv_buf_.final_size_known()) recv_state_ = RecvState::kSizeKnown;
  if (recv_state_ == RecvState::kSizeKnown &&
      recv_buf_.read_offset() + recv_buf_.readable() == recv_buf_.final_size()) {
    recv_state_ = RecvState::kDataRecvd;
  }
  return Status::ok();
}

Status Stream::on_reset_stream(const ResetStreamFrame& f, RecvFlow& conn) {
  if (!has_recv()) return Status(ErrorCode::kStreamStateError, "RESET_STREAM on a send-only stream");
  if (reset_by_peer()) {
    if (f.final_size != recv_flow_.received()) return Status(ErrorCode::kFinalSizeError, "final size changed");
    return Status::ok();
  }
  // The final size is the credit the peer used (§4.5), so it obeys both
  // limits, and the same final size rules as a FIN (checked by insert).
  if (!recv_flow_.allows(f.final_size)) {
    return Status(ErrorCode::kFlowControlError, "final size beyond MAX_STREAM_DATA");
  }
  const uint64_t conn_end = conn.received() + sat_sub(f.final_size, recv_flow_.received());
  if (!conn.allows(conn_end)) return Status(ErrorCode::kFlowControlError, "final size beyond MAX_DATA");
  QB_TRY(recv_buf_.insert(f.final_size, {}, true));
  recv_flow_.on_received(f.final_size);
  conn.on_received(conn_end);
  // Everything was read already: the application has the whole stream and
  // nothing changes (Figure 3 has no exit from Data Read).
  if (recv_state_ == RecvState::kDataRead) return Status::ok();

  // §4.5: bytes that will never be read give their connection credit back.
  conn.on_consumed(f.final_size - recv_buf_.read_offset());
  recv_state_ = RecvState::kResetRecvd;
  peer_reset_code_ = f.error_code;
  drop_received_data();
  return Status::ok();
}

void Stream::drop_received_data() {
  // ReassemblyBuffer frees its memory only as data is read; rebuilding it
  // empty releases everything at once. Its counters are no longer needed:
  // recv_flow_ keeps the final size.
  recv_buf_.~ReassemblyBuffer();
  new (&recv_buf_) ReassemblyBuffer(alloc_, recv_limits());
}

Status Stream::on_stop_sending(const StopSendingFrame& f) {
  if (!has_send()) return Status(ErrorCode::kStreamStateError, "STOP_SENDING on a receive-only stream");
  // §3.5: a RESET_STREAM is due in Ready and Send, and may be deferred in
  // Data Sent; we send it at once. The error code is the peer's.
  start_reset(f.error_code);
  return Status::ok();
}

Status Stream::on_max_stream_data(const MaxStreamDataFrame& f) {
  if (!has_send()) return Status(ErrorCode::kStreamStateError, "MAX_STREAM_DATA on a receive-only stream");
  (void)send_flow_.on_max(f.maximum);
  return Status::ok();
}

Status Stream::on_stream_data_blocked(const StreamDataBlockedFrame&) {
  if (!has_recv()) return Status(ErrorCode::kStreamStateError, "STREAM_DATA_BLOCKED on a send-only stream");
  return Status::ok();
}

Result<size_t> Stream::write(Bytes data) {
  if (!send_open()) return Status(ErrorCode::kInvalidArgument, "stream not writable");
  return send_buf_.write(data);
}

Result<MutBytes> Stream::write_space() {
  if (!send_open()) return Status(ErrorCode::kInvalidArgument, "stream not writable");
  return send_buf_.write_space();
}

Status Stream::finish() {
  if (!send_open()) return Status(ErrorCode::kInvalidArgument, "stream not writable");
  return send_buf_.finish();
}

Status Stream::reset(uint64_t app_error) {
  if (!has_send()) return Status(ErrorCode::kInvalidArgument, "receive-only stream");
  start_reset(app_error);
  return Status::ok();
}

void Stream::start_reset(uint64_t app_error) {
  if (send_state_ != SendState::kReady && send_state_ != SendState::kSend && send_state_ != SendState::kDataSent) {
    return;
  }
  send_state_ = SendState::kResetSent;
  reset_code_ = app_error;
  reset_pending_ = true;
  send_buf_.discard();
}

Status Stream::stop_sending(uint64_t app_error) {
  if (!has_recv()) return Status(ErrorCode::kInvalidArgument, "send-only stream");
  if (recv_state_ == RecvState::kRecv || recv_state_ == RecvState::kSizeKnown) {
    stop_code_ = app_error;
    stop_pending_ = true;
  }
  return Status::ok();
}

Result<Stream::ReadResult> Stream::read(MutBytes out, RecvFlow& conn) {
  if (!has_recv()) return Status(ErrorCode::kInvalidArgument, "send-only stream");
  if (reset_by_peer()) return ReadResult{};
  return on_read(recv_buf_.read(out), conn);
}

Result<Bytes> Stream::peek() const {
  if (!has_recv()) return Status(ErrorCode::kInvalidArgument, "send-only stream");
  if (reset_by_peer()) return Bytes();
  return recv_buf_.peek();
}

Result<Stream::ReadResult> Stream::consume(size_t n, RecvFlow& conn) {
  if (!has_recv()) return Status(ErrorCode::kInvalidArgument, "send-only stream");
  if (reset_by_peer()) return ReadResult{};
  QB_ASSERT(n <= recv_buf_.peek().size());
  recv_buf_.consume(n);
  return on_read(n, conn);
}

// The n bytes just taken out of recv_buf_ give their credit back.
Stream::ReadResult Stream::on_read(size_t n, RecvFlow& conn) {
  recv_flow_.on_consumed(n);
  conn.on_consumed(n);
  if (recv_state_ == RecvState::kDataRecvd && recv_buf_.finished()) recv_state_ = RecvState::kDataRead;
  return ReadResult{n, recv_state_ == RecvState::kDataRead};
}

void Stream::mark_reset_read() {
  if (recv_state_ == RecvState::kResetRecvd) recv_state_ = RecvState::kResetRead;
}

bool Stream::next_chunk(size_t max_len, uint64_t conn_credit, SendBuffer::Chunk& out) const {
  if (!has_send() || send_state_ == SendState::kDataRecvd || send_state_ == SendState::kResetSent ||
      send_state_ == SendState::kResetRecvd) {
    return false;
  }
  const uint64_t new_data_end = min_u64(send_flow_.limit(), sat_add(send_flow_.sent(), conn_credit));
  return send_buf_.next_chunk(max_len, new_data_end, out);
}

void Stream::on_stream_sent(uint64_t offset, uint64_t len, bool fin, SendFlow& conn) {
  QB_ASSERT(send_state_ == SendState::kReady || send_state_ == SendState::kSend ||
            send_state_ == SendState::kDataSent);
  const uint64_t fresh = send_buf_.on_sent(offset, len, fin);
  send_flow_.on_sent(fresh);
  conn.on_sent(fresh);
  if (send_state_ == SendState::kReady) send_state_ = SendState::kSend;
  if (fin) send_state_ = SendState::kDataSent;
}

void Stream::on_stream_acked(uint64_t offset, uint64_t len, bool fin) {
  if (send_state_ != SendState::kSend && send_state_ != SendState::kDataSent) return;
  send_buf_.on_acked(offset, len, fin);
  if (send_state_ == SendState::kDataSent && send_buf_.all_acked()) send_state_ = SendState::kDataRecvd;
}

void Stream::on_stream_lost(uint64_t offset, uint64_t len, bool fin) {
  if (send_state_ != SendState::kSend && send_state_ != SendState::kDataSent) return;
  send_buf_.on_lost(offset, len, fin);
}

bool Stream::wants_control(FrameType t) const {
  switch (t) {
    case FrameType::kResetStream:
      return reset_pending_ && send_state_ == SendState::kResetSent;
    case FrameType::kStopSending:
      // §13.3: pointless once the receiving part has all data or a reset.
      return stop_pending_ && (recv_state_ == RecvState::kRecv || recv_state_ == RecvState::kSizeKnown);
    case FrameType::kMaxStreamData:
      // §3.2: once the final size is known no more credit is needed.
      return has_recv() && recv_state_ == RecvState::kRecv && recv_flow_.should_update();
    case FrameType::kStreamDataBlocked:
      return has_send() && (send_state_ == SendState::kReady || send_state_ == SendState::kSend) &&
             send_flow_.should_send_blocked(send_buf_.has_unsent_data());
    default:
      return false;
  }
}

Frame Stream::take_control(FrameType t, uint64_t now_us, uint64_t rtt_us) {
  QB_ASSERT(wants_control(t));
  Frame f;
  f.type = t;
  switch (t) {
    case FrameType::kResetStream:
      reset_pending_ = false;
      // §4.5: the final size is the credit consumed, i.e. every byte sent.
      f.reset_stream = {id_, reset_code_, send_buf_.sent_end()};
      break;
    case FrameType::kStopSending:
      stop_pending_ = false;
      f.stop_sending = {id_, stop_code_};
      break;
    case FrameType::kMaxStreamData:
      f.max_stream_data = {id_, recv_flow_.advertise(now_us, rtt_us)};
      break;
    default:  // kStreamDataBlocked; §3.1: it moves Ready to Send as STREAM does
      f.stream_data_blocked = {id_, send_flow_.on_blocked_sent()};
      if (send_state_ == SendState::kReady) send_state_ = SendState::kSend;
      break;
  }
  return f;
}

void Stream::on_control_acked(const Frame& f) {
  if (f.type == FrameType::kResetStream && send_state_ == SendState::kResetSent) {
    send_state_ = SendState::kResetRecvd;
  }
}

void Stream::on_control_lost(const Frame& f) {
  // §13.3 says what each frame repeats, and until when.
  switch (f.type) {
    case FrameType::kResetStream:  // until acknowledged
      if (send_state_ == SendState::kResetSent) reset_pending_ = true;
      break;
    case FrameType::kStopSending:  // until the receiving part is Data Recvd or Reset Recvd
      if (recv_state_ == RecvState::kRecv || recv_state_ == RecvState::kSizeKnown) stop_pending_ = true;
      break;
    case FrameType::kMaxStreamData:  // the current value, until Size Known
      if (recv_state_ == RecvState::kRecv) recv_flow_.on_update_lost(f.max_stream_data.maximum);
      break;
    case FrameType::kStreamDataBlocked:  // while still blocked at that limit
      send_flow_.on_blocked_lost(f.stream_data_blocked.limit);
      break;
    default:
      break;
  }
}

}  // namespace quicbed
