#include "early_writes.h"

namespace quicbed::kmod {

namespace {
// Record header: flags, then the stream ID (8 bytes, big endian).
constexpr uint8_t kOpen = 1, kUni = 2, kFin = 4;
constexpr size_t kHead = 9;

// RFC 9000 §2.1: a client's n-th stream of a type.
uint64_t client_stream_id(uint64_t n, bool uni) { return n * 4 + (uni ? 2 : 0); }
}  // namespace

Result<uint64_t> EarlyWrites::push(int64_t sid, bool open, bool uni, bool fin, Bytes data) {
  uint64_t id;
  if (open) {
    id = client_stream_id(opened_[uni], uni);
    if (sid != -1 && static_cast<uint64_t>(sid) != id) return Status(ErrorCode::kInvalidArgument, "not the next stream");
  } else {
    if (sid == -1) sid = last_;
    // One of ours opened here: client-initiated (low bit 0), counted.
    if (sid < 0 || (sid & 1) || static_cast<uint64_t>(sid) / 4 >= opened_[(sid & 2) != 0]) {
      return Status(ErrorCode::kInvalidArgument, "stream not open");
    }
    id = static_cast<uint64_t>(sid);
    uni = (sid & 2) != 0;
  }
  uint8_t head[kHead] = {static_cast<uint8_t>((open ? kOpen : 0) | (uni ? kUni : 0) | (fin ? kFin : 0))};
  for (int i = 0; i < 8; ++i) head[1 + i] = static_cast<uint8_t>(id >> (56 - 8 * i));
  QB_TRY(q_.push(Bytes(head, kHead), data));
  if (open) {
    ++opened_[uni];
    last_ = static_cast<int64_t>(id);
  }
  return id;
}

Status EarlyWrites::flush(Connection& c) {
  while (!q_.empty() && c.streams_usable()) {
    const RecordQueue::Record r = q_.front();
    const uint8_t flags = r.head[0];
    const bool uni = flags & kUni;
    uint64_t id = 0;
    for (int i = 0; i < 8; ++i) id = id << 8 | r.head[1 + i];
    if ((flags & kOpen) && id / 4 == flushed_[uni]) {
      Result<uint64_t> got = c.open_stream(uni ? StreamDir::kUni : StreamDir::kBidi);
      // The peer's stream limit (remembered or new): later.
      if (!got.is_ok() && got.status().code() == ErrorCode::kLimitExceeded) return Status::ok();
      if (!got.is_ok()) return got.status();
      if (*got != id) return Status(ErrorCode::kInternalError, "early stream got another ID");
      ++flushed_[uni];
    }
    const bool fin = flags & kFin;
    Result<size_t> n = c.stream_write(id, r.body, fin);
    if (!n.is_ok()) return n.status();
    const bool all = *n == r.body.size();
    q_.take(*n);
    // Flow control took part of it: the rest when credit comes.
    if (!all) return Status::ok();
  }
  return Status::ok();
}

}  // namespace quicbed::kmod
