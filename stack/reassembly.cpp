#include "reassembly.h"

#include <new>

#include "base/assert.h"
#include "base/fixed_point.h"

namespace quicbed {
namespace {

// The first element of an ascending `list` for which below(e) is false, or
// nullptr. Walks from the end the caller names, which it picks as the one
// nearer the target: in-order data lands at the back, so appends are O(1).
template <typename T, typename Below>
T* first_not_below(const IntrusiveList<T>& list, bool from_front, Below below) {
  if (from_front) {
    T* e = list.front();
    while (e && below(e)) e = list.next(e);
    return e;
  }
  T* e = list.back();
  if (!e || below(e)) return nullptr;
  for (T* p = list.prev(e); p && !below(p); p = list.prev(p)) e = p;
  return e;
}


}  // namespace

ReassemblyBuffer::ReassemblyBuffer(Allocator& alloc, const Limits& limits)
    : alloc_(alloc), limits_(limits) {
  QB_ASSERT(limits.max_segments >= 1);
  QB_ASSERT(limits.error != ErrorCode::kNoError);
}

ReassemblyBuffer::~ReassemblyBuffer() {
  while (Segment* s = segments_.pop_front()) destroy(alloc_, s);
  while (Page* p = pages_.pop_front()) free_page(p);
}

Status ReassemblyBuffer::insert(uint64_t offset, Bytes data, bool fin) {
  // An end past 2^64 is past any window (varints keep real frames far below).
  if (data.size() > kU64Max - offset) return Status(limits_.error, "offset overflows");
  const uint64_t end = offset + data.size();

  // §4.5: once known, the final size cannot change and no data lies beyond
  // it; it can never be below data already received. (§20.1 FINAL_SIZE_ERROR
  // lists these three cases.)
  if (final_size_known_ && end > final_size_) {
    return Status(ErrorCode::kFinalSizeError, "data beyond final size");
  }
  if (fin && final_size_known_ && end != final_size_) {
    return Status(ErrorCode::kFinalSizeError, "final size changed");
  }
  if (fin && end < received_end_) {
    return Status(ErrorCode::kFinalSizeError, "final size below received data");
  }
  // §4.1 flow control for streams, §7.5 CRYPTO buffering: both bound how far
  // past the read position the peer may send.
  if (end > sat_add(read_offset_, limits_.window)) {
    return Status(limits_.error, "data beyond receive window");
  }

  // Bytes below read_offset_ were delivered already (§2.2: data at an offset
  // does not change), so only the rest is stored.
  const uint64_t start = max_u64(offset, read_offset_);
  if (start < end) QB_TRY(store(start, data.subspan(static_cast<size_t>(start - offset))));
  received_end_ = max_u64(received_end_, end);
  if (fin) {
    final_size_known_ = true;
    final_size_ = end;
  }
  return Status::ok();
}

Status ReassemblyBuffer::store(uint64_t start, Bytes data) {
  const uint64_t end = start + data.size();  // exclusive; end > start
  const uint64_t last = end - 1;

  // The segments overlapping or adjacent to [start, last] merge with it into
  // one; with none, the data opens a new segment, which the bound may refuse.
  Segment* first = first_segment_touching(start);
  Segment* last_seg = nullptr;
  for (Segment* s = first; s && s->bytes.lo <= end; s = segments_.next(s)) last_seg = s;
  Segment* fresh = nullptr;
  if (!last_seg) {
    if (segments_.size() >= limits_.max_segments) return Status(ErrorCode::kLimitExceeded, "too many gaps");
    fresh = make<Segment>(alloc_);
    if (!fresh) return ErrorCode::kNoMemory;
  }
  if (Status s = allocate_pages(start / kPageData, last / kPageData); !s) {
    destroy(alloc_, fresh);
    return s;
  }

  // Nothing can fail from here on. Copy only into the gaps between held
  // segments: held bytes are never overwritten.
  Page* page = first_page_from(start / kPageData);
  uint64_t pos = start;
  Segment* stop = last_seg ? segments_.next(last_seg) : first;
  for (Segment* s = first; s != stop; s = segments_.next(s)) {
    if (s->bytes.lo > pos) {
      page = copy_in(page, pos, data.subspan(static_cast<size_t>(pos - start),
                                             static_cast<size_t>(s->bytes.lo - pos)));
    }
    pos = max_u64(pos, s->bytes.hi + 1);
  }
  if (pos < end) copy_in(page, pos, data.subspan(static_cast<size_t>(pos - start)));

  if (!last_seg) {
    fresh->bytes = Range{start, last};
    segments_.insert_before(first, fresh);  // first lies wholly above, or is null
    return Status::ok();
  }
  const uint64_t hi = max_u64(last_seg->bytes.hi, last);
  while (last_seg != first) {
    Segment* s = last_seg;
    last_seg = segments_.prev(s);
    segments_.remove(s);
    destroy(alloc_, s);
  }
  first->bytes = Range{min_u64(first->bytes.lo, start), hi};
  return Status::ok();
}

Status ReassemblyBuffer::allocate_pages(uint64_t first, uint64_t last) {
  // All or nothing: the missing pages are gathered aside and linked in only
  // once every allocation has succeeded.
  IntrusiveList<Page> fresh;
  Page* have = first_page_from(first);
  for (uint64_t index = first; index <= last; ++index) {
    if (have && have->index == index) {
      have = pages_.next(have);
      continue;
    }
    void* mem = alloc_.allocate(kPageSize, alignof(Page));
    if (!mem) {
      while (Page* p = fresh.pop_front()) free_page(p);
      return ErrorCode::kNoMemory;
    }
    Page* p = new (mem) Page;
    p->index = index;
    fresh.push_back(p);
  }
  Page* at = first_page_from(first);
  while (Page* p = fresh.pop_front()) {
    while (at && at->index < p->index) at = pages_.next(at);
    pages_.insert_before(at, p);
  }
  return Status::ok();
}

ReassemblyBuffer::Page* ReassemblyBuffer::copy_in(Page* page, uint64_t offset, Bytes data) {
  while (!data.empty()) {
    const uint64_t index = offset / kPageData;
    while (page->index < index) {
      page = pages_.next(page);
      QB_ASSERT(page);
    }
    QB_ASSERT(page->index == index);
    const uint64_t at = offset % kPageData;
    const size_t n = static_cast<size_t>(min_u64(kPageData - at, data.size()));
    copy_bytes(page->data() + at, data.data(), n);
    offset += n;
    data = data.subspan(n);
  }
  return page;
}

ReassemblyBuffer::Segment* ReassemblyBuffer::first_segment_touching(uint64_t start) const {
  if (segments_.empty()) return nullptr;
  const bool from_front = sat_sub(start, segments_.front()->bytes.lo) <
                          sat_sub(segments_.back()->bytes.hi, start);
  return first_not_below(segments_, from_front,
                         [start](const Segment* s) { return s->bytes.hi + 1 < start; });
}

ReassemblyBuffer::Page* ReassemblyBuffer::first_page_from(uint64_t index) const {
  if (pages_.empty()) return nullptr;
  const bool from_front =
      sat_sub(index, pages_.front()->index) < sat_sub(pages_.back()->index, index);
  return first_not_below(pages_, from_front, [index](const Page* p) { return p->index < index; });
}

void ReassemblyBuffer::free_page(Page* p) {
  p->~Page();
  alloc_.deallocate(p, kPageSize);
}

uint64_t ReassemblyBuffer::readable() const {
  const Segment* head = segments_.front();
  return head && head->bytes.lo == read_offset_ ? head->bytes.length() : 0;
}

Bytes ReassemblyBuffer::peek() const {
  const uint64_t n = readable();
  if (n == 0) return {};
  // No page lies wholly below the first held byte, so the front page is
  // the one holding read_offset_.
  Page* page = pages_.front();
  QB_ASSERT(page && page->index == read_offset_ / kPageData);
  const uint64_t at = read_offset_ % kPageData;
  return Bytes(page->data() + at, static_cast<size_t>(min_u64(kPageData - at, n)));
}

void ReassemblyBuffer::consume(uint64_t n) {
  QB_ASSERT(n <= readable());
  if (n == 0) return;
  read_offset_ += n;
  Segment* head = segments_.front();
  if (head->bytes.hi < read_offset_) {
    segments_.remove(head);
    destroy(alloc_, head);
  } else {
    head->bytes.lo = read_offset_;
  }
  // Release every page that now lies wholly below the first held byte.
  const Segment* next = segments_.front();
  while (Page* p = pages_.front()) {
    if (next && (p->index + 1) * kPageData > next->bytes.lo) break;
    pages_.remove(p);
    free_page(p);
  }
}

size_t ReassemblyBuffer::read(MutBytes out) {
  size_t done = 0;
  while (done < out.size()) {
    const Bytes b = peek();
    if (b.empty()) break;
    const size_t n = b.size() < out.size() - done ? b.size() : out.size() - done;
    copy_bytes(out.data() + done, b.data(), n);
    consume(n);
    done += n;
  }
  return done;
}

}  // namespace quicbed
