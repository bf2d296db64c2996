// The packet numbers received in one packet number space (RFC 9000 §12.3),
// as the disjoint ranges an ACK frame reports (§19.3), newest first.
//
// In-order arrival extends the newest range in O(1); a loss or reordering
// opens a new range, filling a gap merges two. A peer decides how many gaps
// there are, so the number of ranges is bounded at compile time: when the
// bound is hit the oldest range is forgotten, as §13.2.3 allows ("Receivers
// can limit the number of ACK Ranges they remember"). §13.2.3 also requires
// that a discarded range never lets its packets be accepted again; this is
// the "minimum packet number that increases as ranges are discarded" it
// suggests: every packet number below floor() counts as already received.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bounded.h"
#include "base/range.h"

namespace quicbed {

class AckRanges {
 public:
  // Enough for heavy loss or reordering within one ACK interval; an ACK
  // frame with this many ranges still fits a small packet (§19.3: two
  // varints per range).
  static constexpr size_t kMaxRanges = 32;

  enum class Received : uint8_t {
    kNew,        // process the packet
    kDuplicate,  // already received (or below the floor): discard it (§12.3)
  };

  // Record packet number `pn` (at most 2^62-1, §12.3).
  [[nodiscard]] Received add(uint64_t pn);

  // Stop acknowledging packet numbers below `pn`: once the peer has
  // acknowledged a packet carrying an ACK frame, the receiver need not repeat
  // packets up to that frame's Largest Acknowledged (§13.2.4), so callers
  // pass Largest Acknowledged + 1. They stay below the floor, so duplicates
  // of them are still detected.
  void remove_below(uint64_t pn);

  // True if `pn` was received or lies below the floor.
  bool contains(uint64_t pn) const;

  // The ranges to acknowledge, in descending order, disjoint and not
  // adjacent: the input of the ACK frame serializer. May be empty after
  // remove_below() even though packets were received.
  std::span<const Range> ranges() const { return {ranges_.begin(), ranges_.size()}; }

  // The largest packet number received. Kept even when remove_below() or the
  // bound has emptied ranges(), because packet number decoding needs it
  // (§13.2.3, §A.3). Only valid once received_any().
  bool received_any() const { return received_any_; }
  uint64_t largest() const;

  // Packet numbers below this count as received (0: none forgotten yet).
  uint64_t floor() const { return floor_; }

 private:
  // Open a range for `pn` at index i, forgetting the oldest when full.
  void insert_range(size_t i, uint64_t pn);
  void note_largest(uint64_t pn);

  BoundedVec<Range, kMaxRanges> ranges_;  // descending: ranges_[0] is newest
  uint64_t floor_ = 0;
  uint64_t largest_ = 0;
  bool received_any_ = false;
};

}  // namespace quicbed
