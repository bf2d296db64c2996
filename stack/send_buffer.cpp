#include "send_buffer.h"

#include <new>

#include "base/assert.h"
#include "base/fixed_point.h"

namespace quicbed {

size_t SendBuffer::ByteRanges::first_touching(Range r) const {
  size_t i = 0;
  while (i < ranges_.size() && ranges_[i].hi + 1 < r.lo) ++i;
  return i;
}

bool SendBuffer::ByteRanges::add(Range r) {
  const size_t i = first_touching(r);
  if (i == ranges_.size() || ranges_[i].lo > r.hi + 1) return ranges_.insert(i, r);
  // ranges_[i] and every following range starting at or before r.hi + 1
  // merge with r into ranges_[i].
  Range& m = ranges_[i];
  m.lo = min_u64(m.lo, r.lo);
  m.hi = max_u64(m.hi, r.hi);
  while (i + 1 < ranges_.size() && ranges_[i + 1].lo <= m.hi + 1) {
    m.hi = max_u64(m.hi, ranges_[i + 1].hi);
    ranges_.erase(i + 1);
  }
  return true;
}

void SendBuffer::ByteRanges::add_widening(Range r) {
  if (add(r)) return;
  // Full, and r lies strictly between ranges_[i - 1] and ranges_[i]: stretch
  // whichever is nearer over r (and the gap between them).
  const size_t i = first_touching(r);
  const bool left = i == ranges_.size() ||
                    (i > 0 && r.lo - ranges_[i - 1].hi <= ranges_[i].lo - r.hi);
  if (left) {
    ranges_[i - 1].hi = r.hi;
  } else {
    ranges_[i].lo = r.lo;
  }
}

void SendBuffer::ByteRanges::subtract(Range r) {
  size_t i = first_touching(r);
  while (i < ranges_.size() && ranges_[i].lo <= r.hi) {
    Range& m = ranges_[i];
    if (m.hi < r.lo) {  // only adjacent
      ++i;
    } else if (m.lo >= r.lo && m.hi <= r.hi) {
      ranges_.erase(i);
    } else if (m.lo >= r.lo) {
      m.lo = r.hi + 1;
      ++i;
    } else if (m.hi <= r.hi) {
      m.hi = r.lo - 1;
      ++i;
    } else {
      // r is strictly inside m: split, if there is room for the upper part.
      const Range upper{r.hi + 1, m.hi};
      if (ranges_.full()) return;
      m.hi = r.lo - 1;
      (void)ranges_.insert(i + 1, upper);
      return;
    }
  }
}

void SendBuffer::ByteRanges::remove_below(uint64_t v) {
  while (!ranges_.empty() && ranges_[0].lo < v) {
    if (ranges_[0].hi >= v) {
      ranges_[0].lo = v;
      return;
    }
    ranges_.erase(0);
  }
}

SendBuffer::SendBuffer(Allocator& alloc, uint64_t max_buffered) : alloc_(alloc), max_buffered_(max_buffered) {}

SendBuffer::~SendBuffer() {
  while (Page* p = pages_.pop_front()) free_page(p);
}

Result<size_t> SendBuffer::write(Bytes data) {
  if (fin_ != Fin::kNone) return Status(ErrorCode::kInvalidArgument, "write after finish");
  size_t done = 0;
  while (done < data.size()) {
    Result<MutBytes> space = write_space();
    if (!space.is_ok()) {
      if (done == 0) return space.status();
      break;  // the allocator refused a page part way
    }
    if (space->empty()) break;  // full
    const size_t k = space->size() < data.size() - done ? space->size() : data.size() - done;
    copy_bytes(space->data(), data.data() + done, k);
    commit(k);
    done += k;
  }
  return done;
}

Result<MutBytes> SendBuffer::write_space() {
  if (fin_ != Fin::kNone) return Status(ErrorCode::kInvalidArgument, "write after finish");
  const uint64_t room = writable();
  if (room == 0) return MutBytes();
  const uint64_t index = write_end_ / kPageData;
  const uint64_t at = write_end_ % kPageData;
  Page* page = pages_.back();
  if (!page || page->index != index) {
    void* mem = alloc_.allocate(kPageSize, alignof(Page));
    if (!mem) return ErrorCode::kNoMemory;
    page = new (mem) Page;
    page->index = index;
    pages_.push_back(page);
  }
  return MutBytes(page->data() + at, static_cast<size_t>(min_u64(kPageData - at, room)));
}

void SendBuffer::commit(size_t n) {
  if (n == 0) return;
  QB_ASSERT(fin_ == Fin::kNone && n <= writable());
  QB_ASSERT(!pages_.empty() && pages_.back()->index == write_end_ / kPageData &&
            write_end_ % kPageData + n <= kPageData);
  write_end_ += n;
}

Status SendBuffer::finish() {
  if (fin_ != Fin::kNone) return Status(ErrorCode::kInvalidArgument, "already finished");
  fin_ = Fin::kQueued;
  return Status::ok();
}

bool SendBuffer::next_chunk(size_t max_len, uint64_t new_data_end, Chunk& out) const {
  const auto make = [&](uint64_t offset, uint64_t len) {
    out.offset = offset;
    out.len = min_u64(len, max_len);
    out.data = out.len == 0 ? Bytes() : piece(offset, out.len);
    out.fin = fin_ == Fin::kQueued && offset + out.len == write_end_;
    return true;
  };
  if (max_len > 0) {
    // §13.3: lost data is sent again in new frames, before new data (a
    // receiver can only deliver in order). Parts acknowledged since, by
    // another copy, are skipped.
    for (const Range& lost : lost_) {
      uint64_t pos = lost.lo;
      uint64_t last = lost.hi;
      for (const Range& a : acked_) {
        if (a.hi < pos) continue;
        if (a.lo <= pos) {
          pos = a.hi + 1;
          continue;
        }
        last = min_u64(last, a.lo - 1);
        break;
      }
      if (pos <= last) return make(pos, last - pos + 1);
    }
    const uint64_t end = min_u64(write_end_, new_data_end);
    if (end > sent_end_) return make(sent_end_, end - sent_end_);
  }
  if (fin_ == Fin::kQueued && sent_end_ == write_end_) return make(write_end_, 0);
  return false;
}

uint64_t SendBuffer::on_sent(uint64_t offset, uint64_t len, bool fin) {
  const uint64_t end = offset + len;
  QB_ASSERT(offset <= sent_end_ && end <= write_end_);
  if (len > 0 && offset < sent_end_) lost_.subtract(Range{offset, min_u64(end, sent_end_) - 1});
  const uint64_t fresh = sat_sub(end, sent_end_);
  sent_end_ += fresh;
  if (fin) {
    QB_ASSERT(fin_ != Fin::kNone && end == write_end_);
    if (fin_ == Fin::kQueued) fin_ = Fin::kInFlight;
  }
  return fresh;
}

void SendBuffer::on_acked(uint64_t offset, uint64_t len, bool fin) {
  if (fin) {
    QB_ASSERT(fin_ != Fin::kNone);
    fin_ = Fin::kAcked;
  }
  const uint64_t lo = max_u64(offset, acked_end_);
  const uint64_t end = offset + len;
  if (lo >= end) return;
  QB_ASSERT(end <= sent_end_);
  const Range r{lo, end - 1};
  lost_.subtract(r);
  if (lo > acked_end_) {
    if (!acked_.add(r)) lost_.add_widening(r);
    return;
  }
  // The acknowledged prefix grows, absorbing out-of-order ranges it reaches.
  acked_end_ = end;
  for (const Range& a : acked_) {
    if (a.lo > acked_end_) break;
    acked_end_ = max_u64(acked_end_, a.hi + 1);
  }
  acked_.remove_below(acked_end_);
  lost_.remove_below(acked_end_);
  free_acked_pages();
}

void SendBuffer::on_lost(uint64_t offset, uint64_t len, bool fin) {
  if (fin && fin_ == Fin::kInFlight) fin_ = Fin::kQueued;
  const uint64_t lo = max_u64(offset, acked_end_);
  const uint64_t end = offset + len;
  if (lo >= end) return;
  QB_ASSERT(end <= sent_end_);
  lost_.add_widening(Range{lo, end - 1});
  // Bytes another copy already delivered need not go again.
  for (const Range& a : acked_) lost_.subtract(a);
}

void SendBuffer::discard() {
  while (Page* p = pages_.pop_front()) free_page(p);
  lost_.clear();
  acked_.clear();
  acked_end_ = write_end_ = sent_end_;
  fin_ = Fin::kNone;
}

Bytes SendBuffer::piece(uint64_t offset, uint64_t max_len) const {
  const uint64_t at = offset % kPageData;
  const uint64_t len = min_u64(max_len, kPageData - at);
  return Bytes(page_for(offset)->data() + at, static_cast<size_t>(len));
}

SendBuffer::Page* SendBuffer::page_for(uint64_t offset) const {
  QB_ASSERT(offset >= acked_end_ && offset < write_end_);
  const uint64_t index = offset / kPageData;
  // Pages are contiguous: walk from the nearer end.
  Page* p;
  if (index - pages_.front()->index <= pages_.back()->index - index) {
    p = pages_.front();
    while (p->index < index) p = pages_.next(p);
  } else {
    p = pages_.back();
    while (p->index > index) p = pages_.prev(p);
  }
  QB_ASSERT(p->index == index);
  return p;
}

void SendBuffer::free_acked_pages() {
  // With everything acknowledged, the page holding the next write is freed
  // too: an idle stream holds no memory, and write() reallocates it.
  const bool all = acked_end_ == write_end_;
  while (Page* p = pages_.front()) {
    if (!all && (p->index + 1) * kPageData > acked_end_) break;
    pages_.remove(p);
    free_page(p);
  }
}

void SendBuffer::free_page(Page* p) {
  p->~Page();
  alloc_.deallocate(p, kPageSize);
}

}  // namespace quicbed
