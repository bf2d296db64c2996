#include "ack_ranges.h"

#include "base/assert.h"
#include "varint.h"

namespace quicbed {

AckRanges::Received AckRanges::add(uint64_t pn) {
  // §12.3: packet numbers stop at 2^62-1, so pn + 1 below cannot overflow.
  QB_ASSERT(pn <= kVarintMax);
  if (pn < floor_) return Received::kDuplicate;

  // The common case: the next packet in order extends the newest range.
  const size_t n = ranges_.size();
  if (n > 0 && pn == ranges_[0].hi + 1) {
    ranges_[0].hi = pn;
    note_largest(pn);
    return Received::kNew;
  }

  // Find the first range entirely below pn; every range before it ends at
  // or above pn, so pn is a duplicate if one of them also starts at or below.
  size_t i = 0;
  for (; i < n && ranges_[i].hi >= pn; ++i) {
    if (ranges_[i].lo <= pn) return Received::kDuplicate;
  }
  // pn lies in the gap between ranges_[i - 1] (above) and ranges_[i] (below).
  const bool joins_above = i > 0 && ranges_[i - 1].lo == pn + 1;
  const bool joins_below = i < n && ranges_[i].hi + 1 == pn;
  if (joins_above && joins_below) {
    ranges_[i - 1].lo = ranges_[i].lo;  // pn filled the last hole between them
    ranges_.erase(i);
  } else if (joins_above) {
    ranges_[i - 1].lo = pn;
  } else if (joins_below) {
    ranges_[i].hi = pn;
  } else if (ranges_.full() && i == n) {
    // Older than every tracked range with no room left: it could never be
    // acknowledged, so it is dropped like a duplicate (see insert_range).
    return Received::kDuplicate;
  } else {
    insert_range(i, pn);
  }
  note_largest(pn);
  return Received::kNew;
}

void AckRanges::insert_range(size_t i, uint64_t pn) {
  if (ranges_.full()) {
    // §13.2.3: forget the oldest range and raise the floor over it so its
    // packets are never accepted again. pn older than every tracked range is
    // never inserted (add() reports it as a duplicate): a packet we process
    // must be acknowledged (§13.2.1), and dropping it only costs the peer a
    // retransmission.
    QB_ASSERT(i < ranges_.size());
    floor_ = ranges_.back().hi + 1;
    ranges_.pop_back();
  }
  const bool inserted = ranges_.insert(i, Range{pn, pn});
  QB_ASSERT(inserted);
}

void AckRanges::note_largest(uint64_t pn) {
  if (!received_any_ || pn > largest_) largest_ = pn;
  received_any_ = true;
}

void AckRanges::remove_below(uint64_t pn) {
  if (pn <= floor_) return;
  floor_ = pn;
  while (!ranges_.empty() && ranges_.back().hi < pn) ranges_.pop_back();
  if (!ranges_.empty() && ranges_.back().lo < pn) ranges_.back().lo = pn;
}

bool AckRanges::contains(uint64_t pn) const {
  if (pn < floor_) return true;
  for (const Range& r : ranges_) {
    if (r.hi < pn) return false;  // descending: every later range is lower
    if (r.lo <= pn) return true;
  }
  return false;
}

uint64_t AckRanges::largest() const {
  QB_ASSERT(received_any_);
  return largest_;
}

}  // namespace quicbed
