#include "record_queue.h"

#include "keys.h"  // wipe

namespace quicbed::kmod {

RecordQueue::~RecordQueue() {
  // Records may have carried traffic secrets.
  if (buf_) wipe(buf_, cap_);
  alloc_.deallocate(buf_, cap_);
}

Status RecordQueue::reserve(size_t extra) {
  // Reclaim what the head has consumed before growing.
  if (head_ == tail_) {
    head_ = tail_ = head_taken_ = 0;
  } else if (head_ > 0 && tail_ + extra > cap_) {
    __builtin_memmove(buf_, buf_ + head_, tail_ - head_);
    tail_ -= head_;
    head_ = 0;
  }
  if (tail_ - head_ + extra > max_) return Status(ErrorCode::kLimitExceeded, "record queue full");
  if (tail_ + extra <= cap_) return Status::ok();
  size_t cap = cap_ ? cap_ : 256;
  while (cap < tail_ + extra) cap *= 2;
  if (cap > max_) cap = max_;
  auto* nb = static_cast<uint8_t*>(alloc_.allocate(cap, 1));
  if (!nb) return ErrorCode::kNoMemory;
  if (tail_) __builtin_memcpy(nb, buf_, tail_);
  if (buf_) wipe(buf_, cap_);
  alloc_.deallocate(buf_, cap_);
  buf_ = nb;
  cap_ = cap;
  return Status::ok();
}

Status RecordQueue::push(Bytes head, Bytes body) {
  if (head.size() > kMaxHead || body.size() > max_) return Status(ErrorCode::kLimitExceeded, "record too large");
  QB_TRY(reserve(kPrefix + head.size() + body.size()));
  uint8_t* p = buf_ + tail_;
  const uint32_t n = static_cast<uint32_t>(body.size());
  p[0] = static_cast<uint8_t>(head.size());
  p[1] = static_cast<uint8_t>(n >> 24);
  p[2] = static_cast<uint8_t>(n >> 16);
  p[3] = static_cast<uint8_t>(n >> 8);
  p[4] = static_cast<uint8_t>(n);
  copy_bytes(p + kPrefix, head.data(), head.size());
  copy_bytes(p + kPrefix + head.size(), body.data(), body.size());
  tail_ += kPrefix + head.size() + body.size();
  return Status::ok();
}

size_t RecordQueue::body_len_at(size_t pos) const {
  const uint8_t* p = buf_ + pos;
  return size_t{p[1]} << 24 | size_t{p[2]} << 16 | size_t{p[3]} << 8 | p[4];
}

RecordQueue::Record RecordQueue::front() const {
  const uint8_t* p = buf_ + head_;
  const size_t hl = p[0];
  const size_t bl = body_len_at(head_);
  return Record{Bytes(p + kPrefix, hl), Bytes(p + kPrefix + hl + head_taken_, bl - head_taken_)};
}

size_t RecordQueue::peek_run(MutBytes out) const {
  if (empty()) return 0;
  const uint8_t first = front().head.empty() ? 0 : front().head[0];
  size_t n = 0, pos = head_, skip = head_taken_;
  while (pos < tail_ && n < out.size()) {
    const size_t hl = buf_[pos];
    const size_t bl = body_len_at(pos);
    if ((hl ? buf_[pos + kPrefix] : 0) != first) break;
    const size_t avail = bl - skip;
    const size_t c = avail < out.size() - n ? avail : out.size() - n;
    copy_bytes(out.data() + n, buf_ + pos + kPrefix + hl + skip, c);
    n += c;
    skip = 0;
    pos += kPrefix + hl + bl;
  }
  return n;
}

void RecordQueue::take(size_t n) {
  const size_t hl = buf_[head_];
  const size_t bl = body_len_at(head_);
  head_taken_ += n < bl - head_taken_ ? n : bl - head_taken_;
  if (head_taken_ < bl) return;
  head_ += kPrefix + hl + bl;
  head_taken_ = 0;
  if (head_ == tail_) head_ = tail_ = 0;
}

}  // namespace quicbed::kmod
