// The received packet number tracker (RFC 9000 §12.3, §13.2.3) under any
// sequence of operations. Each operation is a byte and a varint-sized
// number from the input: add, remove_below or contains. Checked against a
// plain set of what was added: a number reported new was never added
// before, and is then contained; a number added before is a duplicate; a
// number reported a duplicate was added, lies below the floor or is older
// than every range of a full tracker; ranges stay descending, disjoint,
// non-adjacent and within bound.
#include <cstdint>
#include <cstdlib>
#include <set>

#include "ack_ranges.h"
#include "varint.h"

using namespace quicbed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  AckRanges acks;
  std::set<uint64_t> added;
  uint64_t base = 0;  // numbers are taken near it so that ranges meet
  Reader r(Bytes(data, size));
  while (!r.empty()) {
    const uint8_t op = *r.u8();
    auto v = read_varint(r);
    if (!v) break;
    // Mostly small steps around a moving base, sometimes anywhere.
    const uint64_t pn = (op & 0x80) ? *v : (base + (*v & 0x3f)) & kVarintMax;
    switch (op & 3) {
      case 0:
      case 1: {
        const uint64_t floor_before = acks.floor();
        const auto before = acks.ranges();
        // Older than every range of a full tracker: dropped, since it could
        // never be acknowledged (ack_ranges.cpp).
        const bool too_old = before.size() == AckRanges::kMaxRanges && pn < before.back().lo;
        const bool seen = added.count(pn) != 0;
        const AckRanges::Received got = acks.add(pn);
        if (seen && got != AckRanges::Received::kDuplicate) abort();
        if (got == AckRanges::Received::kDuplicate && !seen && pn >= floor_before && !too_old) abort();
        if (got == AckRanges::Received::kNew) {
          added.insert(pn);
          if (!acks.contains(pn) || acks.largest() < pn) abort();
        }
        if (op & 0x40) base = pn;
        break;
      }
      case 2:
        acks.remove_below(pn);
        break;
      default:
        if (added.count(pn) && !acks.contains(pn)) abort();
        break;
    }
    auto ranges = acks.ranges();
    if (ranges.size() > AckRanges::kMaxRanges) abort();
    for (size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].lo > ranges[i].hi || ranges[i].lo < acks.floor()) abort();
      if (i > 0 && ranges[i].hi + 1 >= ranges[i - 1].lo) abort();
    }
    if (!ranges.empty() && ranges[0].hi > acks.largest()) abort();
  }
  return 0;
}
