// One QUIC stream (RFC 9000 §2-§4): its ID rules, the state machines of its
// sending and receiving parts (§3.1, §3.2), and the frames it takes from the
// peer and owes the peer. Data goes out through a SendBuffer and comes in
// through a ReassemblyBuffer; flow control (§4) is checked per stream here
// and per connection against the RecvFlow / SendFlow the caller passes.
//
// Sans-I/O: every call takes a frame or a value and updates state; what to
// send is asked for (next_chunk, wants_control / take_control) and
// confirmed (on_stream_sent), and the fate of what was sent is reported
// back (on_*_acked, on_*_lost).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/intrusive_list.h"
#include "base/status.h"
#include "flow.h"
#include "frame.h"
#include "reassembly.h"
#include "send_buffer.h"
#include "transport_params.h"

namespace quicbed {

// §2.1: the two low bits of a stream ID give its initiator (0x01: server)
// and direction (0x02: unidirectional); the rest numbers the streams of each
// of the four types in order of opening.
enum class StreamDir : uint8_t { kBidi = 0, kUni = 1 };

constexpr Role stream_initiator(uint64_t id) { return (id & 0x01) ? Role::kServer : Role::kClient; }
constexpr StreamDir stream_dir(uint64_t id) { return (id & 0x02) ? StreamDir::kUni : StreamDir::kBidi; }
constexpr uint64_t stream_index(uint64_t id) { return id >> 2; }
constexpr uint64_t make_stream_id(Role initiator, StreamDir dir, uint64_t index) {
  return index << 2 | (dir == StreamDir::kUni ? 0x02 : 0) | (initiator == Role::kServer ? 0x01 : 0);
}
// §2.1: a unidirectional stream carries data from its initiator only.
constexpr bool stream_has_send(uint64_t id, Role local) {
  return stream_dir(id) == StreamDir::kBidi || stream_initiator(id) == local;
}
constexpr bool stream_has_recv(uint64_t id, Role local) {
  return stream_dir(id) == StreamDir::kBidi || stream_initiator(id) != local;
}
// Whether the peer may send frame type `t` for stream `id`: STREAM,
// RESET_STREAM and STREAM_DATA_BLOCKED concern the peer's sending part, so
// need our receiving part (§19.8, §19.4, §19.13); STOP_SENDING and
// MAX_STREAM_DATA concern our sending part (§19.5, §19.10). Otherwise:
// STREAM_STATE_ERROR.
constexpr bool stream_frame_allowed(FrameType t, uint64_t id, Role local) {
  return t == FrameType::kStopSending || t == FrameType::kMaxStreamData ? stream_has_send(id, local)
                                                                         : stream_has_recv(id, local);
}

// §3.1, Figure 2.
enum class SendState : uint8_t { kReady, kSend, kDataSent, kDataRecvd, kResetSent, kResetRecvd };
// §3.2, Figure 3.
enum class RecvState : uint8_t { kRecv, kSizeKnown, kDataRecvd, kDataRead, kResetRecvd, kResetRead };

// Per-stream settings shared by a connection's streams.
struct StreamConfig {
  // The credit we give the peer on a new stream: our transport parameters
  // initial_max_stream_data_bidi_local / _bidi_remote / _uni (§18.2).
  uint64_t recv_window_bidi_local = 0;
  uint64_t recv_window_bidi_remote = 0;
  uint64_t recv_window_uni = 0;
  // Auto-tuning grows a stream's window up to this; it is also the most a
  // stream buffers out of order (the reassembly memory bound).
  uint64_t max_recv_window = 0;
  // Gaps the peer may leave in a stream's data (ReassemblyBuffer::Limits).
  // Every lost packet of a window can leave one: a slow-start overshoot into
  // a 25-packet drop-tail queue leaves dozens, so a small bound would close
  // honest connections ("too many gaps"). A segment costs one small node;
  // the window still bounds the bytes held.
  size_t max_recv_segments = 1024;
  // Bytes a stream holds for sending until acknowledged (back-pressure).
  uint64_t max_send_buffer = 0;
};

class Stream : public ListHook<> {
 public:
  // `send_limit`: the peer's initial credit for this stream, its
  // initial_max_stream_data_* for this stream's type (ignored without a
  // sending part). `config` must outlive the stream.
  Stream(Allocator& alloc, const StreamConfig& config, uint64_t id, Role local, uint64_t send_limit);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  uint64_t id() const { return id_; }
  bool has_send() const { return stream_has_send(id_, local_); }
  bool has_recv() const { return stream_has_recv(id_, local_); }
  // Meaningful only for a part the stream has.
  SendState send_state() const { return send_state_; }
  RecvState recv_state() const { return recv_state_; }
  // Both parts reached a terminal state (§3.3): nothing more to send,
  // receive or tell the application, so the stream can be freed.
  bool closed() const;

  // ---- Frames from the peer. The caller checked the stream ID against
  // the stream limits (StreamManager); these check direction and state.
  // `conn` is the connection-level receive flow control (§4.1).

  // §19.8. FLOW_CONTROL_ERROR beyond the stream's or the connection's
  // limit; FINAL_SIZE_ERROR on a final size conflict (§4.5); kNoMemory or
  // kLimitExceeded (too many gaps) from the reassembly buffer. The stream
  // is unchanged on error.
  Status on_stream(const StreamFrame& f, RecvFlow& conn);
  // §19.4, §3.2: abandons the receiving part, whose final size counts
  // against connection flow control and whose unread bytes give their
  // connection credit back (§4.5).
  Status on_reset_stream(const ResetStreamFrame& f, RecvFlow& conn);
  // §3.5: the sending part must reset, with the peer's error code.
  Status on_stop_sending(const StopSendingFrame& f);
  // §19.10: a limit that does not grow is ignored (§4.1).
  Status on_max_stream_data(const MaxStreamDataFrame& f);
  // §19.13: only the direction is checked; our updates follow consumption.
  Status on_stream_data_blocked(const StreamDataBlockedFrame& f);

  // ---- The application. kInvalidArgument for a part the stream lacks or
  // a call its state does not allow.

  // Queue data (SendBuffer::write): Ready or Send state, before finish().
  Result<size_t> write(Bytes data);
  Status finish();
  // write() without the copy (SendBuffer::write_space, commit), in the
  // same states; commit only after a write_space that succeeded.
  Result<MutBytes> write_space();
  void commit(size_t n) { send_buf_.commit(n); }
  uint64_t writable() const { return send_buf_.writable(); }
  // §3.1: abandon sending (Ready, Send, Data Sent -> Reset Sent); queues a
  // RESET_STREAM with `app_error`. No effect once the part is terminal.
  Status reset(uint64_t app_error);
  // §3.5: ask the peer to stop sending; queues STOP_SENDING while the
  // receiving part is in Recv or Size Known.
  Status stop_sending(uint64_t app_error);

  struct ReadResult {
    size_t bytes = 0;
    bool fin = false;  // everything up to the final size is read ("Data Read")
  };
  // Read in order, giving the credit back to both flow controllers. After
  // a reset, reads return nothing: see peer_reset_code().
  Result<ReadResult> read(MutBytes out, RecvFlow& conn);
  // read() without the copy: peek() is the next bytes in order, in place
  // (up to a page; empty when none, or after a reset), valid until the
  // next call that changes the stream; consume(n) takes n <= peek().size()
  // of them as read() does (n may be 0: it still reports the end).
  Result<Bytes> peek() const;
  Result<ReadResult> consume(size_t n, RecvFlow& conn);
  // The RESET_STREAM error code, in Reset Recvd / Reset Read.
  uint64_t peer_reset_code() const { return peer_reset_code_; }
  // The application has seen the reset: Reset Recvd -> Reset Read.
  void mark_reset_read();
  // The error code of the RESET_STREAM we send.
  uint64_t reset_code() const { return reset_code_; }

  // ---- Sending, driven by the connection's packet builder.

  // The next STREAM frame's data, at most max_len bytes; new data is bounded
  // by the stream's credit and by `conn_credit` (the connection's
  // SendFlow::available()). False if there is nothing to send.
  bool next_chunk(size_t max_len, uint64_t conn_credit, SendBuffer::Chunk& out) const;
  // A STREAM frame went out (write_stream may have taken less than the
  // chunk, and FIN only with all of it). Counts new bytes against both
  // flow controllers; Ready -> Send -> Data Sent (§3.1).
  void on_stream_sent(uint64_t offset, uint64_t len, bool fin, SendFlow& conn);
  // Its packet was acknowledged (Data Sent -> Data Recvd once everything
  // is) or declared lost (to be sent again). Ignored after a reset.
  void on_stream_acked(uint64_t offset, uint64_t len, bool fin);
  void on_stream_lost(uint64_t offset, uint64_t len, bool fin);

  // The stream's control frames, `t` one of RESET_STREAM, STOP_SENDING,
  // MAX_STREAM_DATA and STREAM_DATA_BLOCKED: whether one is due, and the
  // frame itself, which the caller then sends (so it checks for room
  // first: at most 25 bytes). MAX_STREAM_DATA auto-tunes with now_us and
  // rtt_us (RecvFlow::advertise). §13.3 decides what a lost one repeats; an
  // acknowledged RESET_STREAM completes the reset (Reset Recvd).
  bool wants_control(FrameType t) const;
  Frame take_control(FrameType t, uint64_t now_us, uint64_t rtt_us);
  void on_control_acked(const Frame& f);
  void on_control_lost(const Frame& f);

  const RecvFlow& recv_flow() const { return recv_flow_; }
  const SendFlow& send_flow() const { return send_flow_; }
  // RFC 9000 §7.4.1: 0-RTT rejected; SendFlow::reset_limit.
  [[nodiscard]] bool reset_send_limit(uint64_t limit) { return send_flow_.reset_limit(limit); }
  const SendBuffer& send_buffer() const { return send_buf_; }

 private:
  uint64_t initial_recv_window() const;
  ReassemblyBuffer::Limits recv_limits() const;
  // Abandon sending with `app_error` (§3.1 -> Reset Sent).
  void start_reset(uint64_t app_error);
  // Free the receive buffer after a reset: nothing in it will be read.
  void drop_received_data();
  // §3.1: the application may still write (Ready or Send, not finished
  // by a reset); §3.2: the peer reset the receiving part.
  bool send_open() const {
    return has_send() && (send_state_ == SendState::kReady || send_state_ == SendState::kSend);
  }
  bool reset_by_peer() const {
    return recv_state_ == RecvState::kResetRecvd || recv_state_ == RecvState::kResetRead;
  }
  // n bytes were read out of recv_buf_: their credit goes back to both
  // flow controllers (§4.1), and the end may be reached (§3.2 Data Read).
  ReadResult on_read(size_t n, RecvFlow& conn);

  Allocator& alloc_;
  const StreamConfig& config_;
  uint64_t id_;
  Role local_;
  SendState send_state_ = SendState::kReady;
  RecvState recv_state_ = RecvState::kRecv;
  SendFlow send_flow_;
  RecvFlow recv_flow_;  // in Reset Recvd/Read, received() is the final size
  SendBuffer send_buf_;
  ReassemblyBuffer recv_buf_;
  uint64_t reset_code_ = 0;
  uint64_t stop_code_ = 0;
  uint64_t peer_reset_code_ = 0;
  bool reset_pending_ = false;
  bool stop_pending_ = false;
};

}  // namespace quicbed
