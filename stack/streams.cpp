#include "streams.h"

#include "base/assert.h"
#include "base/fixed_point.h"

namespace quicbed {

uint64_t stream_id_of(const Frame& f) {
  switch (f.type) {
    case FrameType::kStream:
      return f.stream.stream_id;
    case FrameType::kResetStream:
      return f.reset_stream.stream_id;
    case FrameType::kStopSending:
      return f.stop_sending.stream_id;
    case FrameType::kMaxStreamData:
      return f.max_stream_data.stream_id;
    default:
      QB_ASSERT(f.type == FrameType::kStreamDataBlocked);
      return f.stream_data_blocked.stream_id;
  }
}

StreamManager::StreamManager(Allocator& alloc, Role local, const StreamManagerConfig& config)
    : alloc_(alloc),
      local_(local),
      config_(config),
      // Stream counts are credit without auto-tuning: window == max window.
      peer_streams_{RecvFlow(config.max_streams_bidi, config.max_streams_bidi),
                    RecvFlow(config.max_streams_uni, config.max_streams_uni)},
      // Until the peer's transport parameters arrive we may open nothing.
      local_streams_{SendFlow(0), SendFlow(0)} {}

StreamManager::~StreamManager() {
  while (Stream* s = streams_.pop_front()) destroy(alloc_, s);
  if (table_) alloc_.deallocate(table_, (table_mask_ + 1) * sizeof(Stream*));
}

Status StreamManager::init() {
  QB_ASSERT(!table_);
  if (config_.max_streams_bidi > kMaxStreamCount || config_.max_streams_uni > kMaxStreamCount) {
    return Status(ErrorCode::kInvalidArgument, "stream count above 2^60");
  }
  const uint64_t bound = config_.max_streams_bidi + config_.max_streams_uni + config_.max_local_streams;
  if (bound > kMaxStreams) return Status(ErrorCode::kInvalidArgument, "too many streams");
  // At most half full, so probe sequences stay short.
  unsigned bits = 1;
  while ((uint64_t{1} << bits) < 2 * bound) ++bits;
  const size_t slots = size_t{1} << bits;
  void* mem = alloc_.allocate(slots * sizeof(Stream*), alignof(Stream*));
  if (!mem) return ErrorCode::kNoMemory;
  table_ = static_cast<Stream**>(mem);
  for (size_t i = 0; i < slots; ++i) table_[i] = nullptr;
  table_mask_ = slots - 1;
  table_shift_ = 64 - bits;
  return Status::ok();
}

void StreamManager::set_peer_params(const TransportParameters& peer) {
  (void)local_streams_[idx(StreamDir::kBidi)].on_max(peer.initial_max_streams_bidi);
  (void)local_streams_[idx(StreamDir::kUni)].on_max(peer.initial_max_streams_uni);
  peer_stream_data_bidi_local_ = peer.initial_max_stream_data_bidi_local;
  peer_stream_data_bidi_remote_ = peer.initial_max_stream_data_bidi_remote;
  peer_stream_data_uni_ = peer.initial_max_stream_data_uni;
  for (Stream* s = first(); s; s = next(s)) {
    if (!s->has_send()) continue;
    const Status st = s->on_max_stream_data(MaxStreamDataFrame{s->id(), send_limit_for(s->id())});
    QB_ASSERT(st.is_ok());
  }
}

Status StreamManager::reset_peer_params(const TransportParameters& peer) {
  if (!local_streams_[idx(StreamDir::kBidi)].reset_limit(peer.initial_max_streams_bidi) ||
      !local_streams_[idx(StreamDir::kUni)].reset_limit(peer.initial_max_streams_uni)) {
    return Status(ErrorCode::kLimitExceeded, "more streams open than the peer now allows");
  }
  peer_stream_data_bidi_local_ = peer.initial_max_stream_data_bidi_local;
  peer_stream_data_bidi_remote_ = peer.initial_max_stream_data_bidi_remote;
  peer_stream_data_uni_ = peer.initial_max_stream_data_uni;
  for (Stream* s = first(); s; s = next(s)) {
    if (s->has_send() && !s->reset_send_limit(send_limit_for(s->id()))) {
      return Status(ErrorCode::kLimitExceeded, "more stream data sent than the peer now allows");
    }
  }
  return Status::ok();
}

uint64_t StreamManager::send_limit_for(uint64_t id) const {
  if (stream_dir(id) == StreamDir::kUni) return peer_stream_data_uni_;
  // §18.2, from the peer's side: "bidi_local" covers the streams it opens,
  // "bidi_remote" the ones we open.
  return stream_initiator(id) == local_ ? peer_stream_data_bidi_remote_ : peer_stream_data_bidi_local_;
}

Result<Stream*> StreamManager::open(StreamDir dir) {
  QB_ASSERT(table_);
  SendFlow& credit = local_streams_[idx(dir)];
  if (credit.available() == 0) {
    open_blocked_[idx(dir)] = true;
    return Status(ErrorCode::kLimitExceeded, "peer's stream limit reached");
  }
  if (local_open_ >= config_.max_local_streams) return Status(ErrorCode::kLimitExceeded, "local stream bound");
  QB_ASSIGN_OR_RETURN(Stream* s, create(make_stream_id(local_, dir, credit.sent())));
  credit.on_sent(1);
  ++local_open_;
  open_blocked_[idx(dir)] = false;
  return s;
}

Result<Stream*> StreamManager::create(uint64_t id) {
  Stream* s = make<Stream>(alloc_, alloc_, config_.stream, id, local_, send_limit_for(id));
  if (!s) return ErrorCode::kNoMemory;
  streams_.push_back(s);
  table_insert(s);
  return s;
}

Result<Stream*> StreamManager::stream_for_frame(uint64_t id, FrameType t) {
  QB_ASSERT(table_);
  if (!stream_frame_allowed(t, id, local_)) {
    return Status(ErrorCode::kStreamStateError, "frame not allowed in the stream's direction");
  }
  const StreamDir dir = stream_dir(id);
  const uint64_t index = stream_index(id);
  if (stream_initiator(id) == local_) {
    if (index >= local_streams_[idx(dir)].sent()) {
      return Status(ErrorCode::kStreamStateError, "frame for a stream we have not opened");
    }
    return find(id);
  }
  RecvFlow& credit = peer_streams_[idx(dir)];
  if (!credit.allows(index + 1)) return Status(ErrorCode::kStreamLimitError, "peer stream beyond MAX_STREAMS");
  // §3.2: a stream opens with every lower-numbered stream of its type. The
  // limit keeps their number within the table's bound.
  for (uint64_t i = credit.received(); i <= index; ++i) {
    Result<Stream*> s = create(make_stream_id(peer(), dir, i));
    if (!s) return s.status();
    credit.on_received(i + 1);
  }
  return find(id);
}

Status StreamManager::on_frame(const Frame& f, RecvFlow& conn) {
  switch (f.type) {
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni: {
      // §19.11: a limit that does not grow is ignored.
      const StreamDir dir = f.type == FrameType::kMaxStreamsBidi ? StreamDir::kBidi : StreamDir::kUni;
      (void)local_streams_[idx(dir)].on_max(f.max_streams.maximum);
      return Status::ok();
    }
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      // §19.14: informational; our MAX_STREAMS follow closed streams.
      return Status::ok();
    case FrameType::kStream:
    case FrameType::kResetStream:
    case FrameType::kStopSending:
    case FrameType::kMaxStreamData:
    case FrameType::kStreamDataBlocked:
      break;
    default:
      return Status(ErrorCode::kInvalidArgument, "not a stream frame");
  }
  QB_ASSIGN_OR_RETURN(Stream* s, stream_for_frame(stream_id_of(f), f.type));
  if (!s) return Status::ok();
  Status st;
  switch (f.type) {
    case FrameType::kStream:
      st = s->on_stream(f.stream, conn);
      break;
    case FrameType::kResetStream:
      st = s->on_reset_stream(f.reset_stream, conn);
      break;
    case FrameType::kStopSending:
      st = s->on_stop_sending(f.stop_sending);
      break;
    case FrameType::kMaxStreamData:
      st = s->on_max_stream_data(f.max_stream_data);
      break;
    default:
      st = s->on_stream_data_blocked(f.stream_data_blocked);
      break;
  }
  QB_TRY(st);
  release_if_closed(s);
  return Status::ok();
}

void StreamManager::release_if_closed(Stream* s) {
  if (!s->closed()) return;
  table_erase(s);
  streams_.remove(s);
  if (stream_initiator(s->id()) == local_) {
    --local_open_;
  } else {
    // §4.6: a closed peer stream is credit consumed, to be renewed.
    peer_streams_[idx(stream_dir(s->id()))].on_consumed(1);
  }
  destroy(alloc_, s);
}

bool StreamManager::wants_control(FrameType t) const {
  switch (t) {
    case FrameType::kMaxStreamsBidi:
      return peer_streams_[0].should_update();
    case FrameType::kMaxStreamsUni:
      return peer_streams_[1].should_update();
    case FrameType::kStreamsBlockedBidi:
      return local_streams_[0].should_send_blocked(open_blocked_[0]);
    case FrameType::kStreamsBlockedUni:
      return local_streams_[1].should_send_blocked(open_blocked_[1]);
    default:
      return false;
  }
}

Frame StreamManager::take_control(FrameType t) {
  QB_ASSERT(wants_control(t));
  Frame f;
  f.type = t;
  if (t == FrameType::kMaxStreamsBidi || t == FrameType::kMaxStreamsUni) {
    // No auto-tuning for stream counts, hence no clock: an RTT of 0 never
    // tunes (and the window is already its maximum).
    f.max_streams.maximum = peer_streams_[t == FrameType::kMaxStreamsBidi ? 0 : 1].advertise(0, 0);
  } else {
    f.streams_blocked.limit = local_streams_[t == FrameType::kStreamsBlockedBidi ? 0 : 1].on_blocked_sent();
  }
  return f;
}

void StreamManager::on_control_lost(const Frame& f) {
  // §13.3: MAX_STREAMS repeats the current value; STREAMS_BLOCKED is
  // repeated while still blocked at the same limit.
  switch (f.type) {
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
      peer_streams_[f.type == FrameType::kMaxStreamsBidi ? 0 : 1].on_update_lost(f.max_streams.maximum);
      break;
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      local_streams_[f.type == FrameType::kStreamsBlockedBidi ? 0 : 1].on_blocked_lost(f.streams_blocked.limit);
      break;
    default:
      break;
  }
}

size_t StreamManager::home(uint64_t id) const {
  // Fibonacci hashing: IDs of one type differ by multiples of 4, which the
  // multiplication spreads over the high bits.
  return static_cast<size_t>((id * 0x9E3779B97F4A7C15ULL) >> table_shift_);
}

size_t StreamManager::slot_of(uint64_t id) const {
  size_t i = home(id);
  while (table_[i] && table_[i]->id() != id) i = (i + 1) & table_mask_;
  return i;
}

Stream* StreamManager::find(uint64_t id) const {
  QB_ASSERT(table_);
  return table_[slot_of(id)];
}

void StreamManager::table_insert(Stream* s) {
  const size_t i = slot_of(s->id());
  QB_ASSERT(!table_[i]);
  table_[i] = s;
}

void StreamManager::table_erase(const Stream* s) {
  size_t hole = slot_of(s->id());
  QB_ASSERT(table_[hole] == s);
  table_[hole] = nullptr;
  // Backward-shift deletion: pull later entries of the probe run into the
  // hole when their home slot does not lie after it, so lookups never stop
  // early at a hole and no tombstones are needed.
  for (size_t j = (hole + 1) & table_mask_; table_[j]; j = (j + 1) & table_mask_) {
    const size_t h = home(table_[j]->id());
    if (((j - h) & table_mask_) >= ((j - hole) & table_mask_)) {
      table_[hole] = table_[j];
      table_[j] = nullptr;
      hole = j;
    }
  }
}

}  // namespace quicbed
