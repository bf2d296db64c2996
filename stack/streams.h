// A connection's streams: the stream ID space (RFC 9000 §2.1, §3.2), the
// limits on how many streams each side may open (§4.6) with the
// MAX_STREAMS / STREAMS_BLOCKED frames that move them, and the live
// streams themselves.
//
// Bounded: the peer may have at most max_streams_bidi + max_streams_uni
// streams open at once (we raise its limit only as its streams close), and
// we at most max_local_streams. Streams come from the host Allocator; a
// fixed open-addressing table, sized from that bound when the manager is
// initialized, finds them by ID.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/intrusive_list.h"
#include "base/status.h"
#include "flow.h"
#include "frame.h"
#include "stream.h"
#include "transport_params.h"

namespace quicbed {

// The stream a stream-level frame names: STREAM, RESET_STREAM,
// STOP_SENDING, MAX_STREAM_DATA or STREAM_DATA_BLOCKED only.
uint64_t stream_id_of(const Frame& f);

struct StreamManagerConfig {
  StreamConfig stream;
  // Streams of each type the peer may have open at once: our transport
  // parameters initial_max_streams_bidi / _uni (§18.2), kept as the credit
  // that MAX_STREAMS renews as the peer's streams close (§4.6). <= 2^60.
  uint64_t max_streams_bidi = 0;
  uint64_t max_streams_uni = 0;
  // Streams we may have open at once (both types), whatever the peer allows.
  uint64_t max_local_streams = 0;
};

class StreamManager {
 public:
  // The most streams (both sides) a manager may be configured to hold.
  static constexpr uint64_t kMaxStreams = uint64_t{1} << 20;

  StreamManager(Allocator& alloc, Role local, const StreamManagerConfig& config);
  ~StreamManager();
  StreamManager(const StreamManager&) = delete;
  StreamManager& operator=(const StreamManager&) = delete;

  // Allocate the table. kInvalidArgument if the configured bound exceeds
  // kMaxStreams or a stream count exceeds 2^60 (§4.6), kNoMemory.
  Status init();

  // The peer's transport parameters (§18.2, §7.4.1): its stream count limits
  // and initial per-stream credit. Limits only grow, so applying the
  // parameters of a completed handshake after remembered 0-RTT ones is safe.
  void set_peer_params(const TransportParameters& peer);
  // RFC 9000 §7.4.1: 0-RTT was rejected, so the peer's parameters replace
  // the remembered ones even where lower. kLimitExceeded (nothing changed
  // for the streams past the first that does not fit) if the streams
  // opened or the data sent under the remembered ones exceed them.
  Status reset_peer_params(const TransportParameters& peer);

  // Open a stream of ours. kLimitExceeded when the peer's limit is reached
  // (a STREAMS_BLOCKED becomes due, §4.6) or our own bound is; kNoMemory.
  Result<Stream*> open(StreamDir dir);

  // The stream a frame of type `t` from the peer refers to, opening it and
  // every lower-numbered stream of its type if it is the peer's and new
  // (§3.2). nullptr: the stream was closed already, and the frame is to be
  // ignored. Errors: STREAM_STATE_ERROR for a frame the stream's direction
  // forbids (§19.4-§19.13) or for a stream of ours not yet opened (§19.8,
  // §19.5, §19.10); STREAM_LIMIT_ERROR beyond the limit we gave (§4.6);
  // kNoMemory.
  Result<Stream*> stream_for_frame(uint64_t id, FrameType t);

  // Apply a stream-related frame from the peer: STREAM, RESET_STREAM,
  // STOP_SENDING, MAX_STREAM_DATA, STREAM_DATA_BLOCKED (through
  // stream_for_frame and the stream's handler, freeing the stream if that
  // closed it), MAX_STREAMS and STREAMS_BLOCKED. kInvalidArgument for any
  // other frame type.
  Status on_frame(const Frame& f, RecvFlow& conn);

  Stream* find(uint64_t id) const;
  // Free `s` if both its parts are done (§3.3); a closed peer stream makes
  // room for another one (MAX_STREAMS). Call after the application reads
  // or acknowledgements arrive.
  void release_if_closed(Stream* s);

  // MAX_STREAMS and STREAMS_BLOCKED (both types): whether one is due, and
  // the frame, which the caller then sends; §13.3 for a lost one.
  bool wants_control(FrameType t) const;
  Frame take_control(FrameType t);
  void on_control_lost(const Frame& f);

  // Live streams, oldest first.
  Stream* first() const { return streams_.front(); }
  Stream* next(const Stream* s) const { return streams_.next(s); }
  size_t size() const { return streams_.size(); }

  // Peer stream credit (limit, opened as received(), closed as consumed())
  // and ours (limit, opened as sent()).
  const RecvFlow& peer_streams(StreamDir dir) const { return peer_streams_[idx(dir)]; }
  const SendFlow& local_streams(StreamDir dir) const { return local_streams_[idx(dir)]; }

 private:
  static constexpr size_t idx(StreamDir d) { return d == StreamDir::kBidi ? 0 : 1; }
  Role peer() const { return local_ == Role::kClient ? Role::kServer : Role::kClient; }
  // The peer's initial credit for a new stream's sending part.
  uint64_t send_limit_for(uint64_t id) const;
  Result<Stream*> create(uint64_t id);

  // Open addressing with linear probing; slots hold nullptr when free.
  size_t home(uint64_t id) const;
  size_t slot_of(uint64_t id) const;  // the slot holding id, or the free slot ending its probe
  void table_insert(Stream* s);
  void table_erase(const Stream* s);

  Allocator& alloc_;
  Role local_;
  StreamManagerConfig config_;
  RecvFlow peer_streams_[2];
  SendFlow local_streams_[2];
  bool open_blocked_[2] = {false, false};  // open() hit the peer's limit
  uint64_t local_open_ = 0;
  uint64_t peer_stream_data_bidi_local_ = 0;
  uint64_t peer_stream_data_bidi_remote_ = 0;
  uint64_t peer_stream_data_uni_ = 0;
  IntrusiveList<Stream> streams_;
  Stream** table_ = nullptr;
  size_t table_mask_ = 0;
  unsigned table_shift_ = 0;
};

}  // namespace quicbed
