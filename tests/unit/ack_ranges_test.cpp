#include "ack_ranges.h"

#include <gtest/gtest.h>

#include <vector>

namespace quicbed {
namespace {

using Received = AckRanges::Received;

std::vector<Range> ranges_of(const AckRanges& a) { return {a.ranges().begin(), a.ranges().end()}; }

void add_all(AckRanges& a, std::initializer_list<uint64_t> pns) {
  for (uint64_t pn : pns) ASSERT_EQ(a.add(pn), Received::kNew) << pn;
}

TEST(AckRanges, EmptyAtStart) {
  AckRanges a;
  EXPECT_FALSE(a.received_any());
  EXPECT_TRUE(a.ranges().empty());
  EXPECT_FALSE(a.contains(0));
  EXPECT_EQ(a.floor(), 0u);
}

TEST(AckRanges, InOrderExtendsOneRange) {
  AckRanges a;
  for (uint64_t pn = 0; pn < 1000; ++pn) ASSERT_EQ(a.add(pn), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{0, 999}}));
  EXPECT_EQ(a.largest(), 999u);
  EXPECT_TRUE(a.contains(0));
  EXPECT_TRUE(a.contains(999));
  EXPECT_FALSE(a.contains(1000));
}

TEST(AckRanges, FirstPacketNeedNotBeZero) {
  AckRanges a;
  add_all(a, {7, 8});
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{7, 8}}));
  EXPECT_FALSE(a.contains(6));
  EXPECT_EQ(a.add(6), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{6, 8}}));
}

TEST(AckRanges, GapsMakeDescendingRanges) {
  AckRanges a;
  add_all(a, {0, 1, 2, 5, 6, 9});
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{9, 9}, {5, 6}, {0, 2}}));
  EXPECT_EQ(a.largest(), 9u);
  for (uint64_t pn : {3, 4, 7, 8, 10}) EXPECT_FALSE(a.contains(pn)) << pn;
  for (uint64_t pn : {0, 2, 5, 6, 9}) EXPECT_TRUE(a.contains(pn)) << pn;
}

TEST(AckRanges, ReorderedPacketsBelowLargest) {
  AckRanges a;
  add_all(a, {10, 4, 7});
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{10, 10}, {7, 7}, {4, 4}}));
  EXPECT_EQ(a.largest(), 10u);  // an older packet does not lower it
}

TEST(AckRanges, FillingGapsMerges) {
  AckRanges a;
  add_all(a, {0, 1, 2, 5, 6, 9});
  // Extends the upper range downward.
  ASSERT_EQ(a.add(4), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{9, 9}, {4, 6}, {0, 2}}));
  // Extends the lower range upward.
  ASSERT_EQ(a.add(7), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{9, 9}, {4, 7}, {0, 2}}));
  // Closes a one-packet hole: two ranges become one.
  ASSERT_EQ(a.add(8), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{4, 9}, {0, 2}}));
  ASSERT_EQ(a.add(3), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{0, 9}}));
}

TEST(AckRanges, DuplicatesDetected) {
  AckRanges a;
  add_all(a, {0, 1, 2, 5, 6, 9});
  for (uint64_t pn : {0, 1, 2, 5, 6, 9}) EXPECT_EQ(a.add(pn), Received::kDuplicate) << pn;
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{9, 9}, {5, 6}, {0, 2}}));
  EXPECT_EQ(a.largest(), 9u);
}

TEST(AckRanges, LargestPacketNumber) {
  AckRanges a;
  const uint64_t max = (uint64_t{1} << 62) - 1;  // §12.3
  add_all(a, {max - 1, max});
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{max - 1, max}}));
  EXPECT_EQ(a.add(max), Received::kDuplicate);
}

// Every other packet number: each one opens a range.
AckRanges full_of_odd_packets() {
  AckRanges a;
  for (uint64_t i = 0; i < AckRanges::kMaxRanges; ++i) {
    EXPECT_EQ(a.add(2 * i + 1), Received::kNew);
  }
  return a;
}

TEST(AckRanges, BoundForgetsLowestRangeAndRaisesFloor) {
  AckRanges a = full_of_odd_packets();
  const uint64_t n = AckRanges::kMaxRanges;
  ASSERT_EQ(a.ranges().size(), n);
  EXPECT_EQ(a.ranges().back(), (Range{1, 1}));
  EXPECT_EQ(a.floor(), 0u);
  EXPECT_FALSE(a.contains(0));

  // One more range: {1,1} is forgotten, and everything up to it now counts
  // as received.
  ASSERT_EQ(a.add(2 * n + 1), Received::kNew);
  EXPECT_EQ(a.ranges().size(), n);
  EXPECT_EQ(a.ranges().front(), (Range{2 * n + 1, 2 * n + 1}));
  EXPECT_EQ(a.ranges().back(), (Range{3, 3}));
  EXPECT_EQ(a.floor(), 2u);
  // 0 was never received, but a packet this old is refused (§13.2.3).
  EXPECT_TRUE(a.contains(0));
  EXPECT_EQ(a.add(0), Received::kDuplicate);
  EXPECT_EQ(a.add(1), Received::kDuplicate);
  // 2 is above the floor and still a real gap.
  EXPECT_FALSE(a.contains(2));
  // Filling a gap needs no new range, so nothing more is forgotten.
  ASSERT_EQ(a.add(2), Received::kNew);
  EXPECT_EQ(a.ranges().back(), (Range{2, 3}));
  EXPECT_EQ(a.floor(), 2u);
}

TEST(AckRanges, BoundWithNewRangeInTheMiddle) {
  AckRanges a;
  const uint64_t n = AckRanges::kMaxRanges;
  // Ranges at 10, 20, ..., 10n.
  for (uint64_t i = 1; i <= n; ++i) ASSERT_EQ(a.add(10 * i), Received::kNew);
  ASSERT_EQ(a.add(25), Received::kNew);  // between {30} and {20}
  EXPECT_EQ(a.ranges().size(), n);
  EXPECT_EQ(a.floor(), 11u);  // {10} forgotten
  EXPECT_EQ(a.ranges().back(), (Range{20, 20}));
  EXPECT_EQ(a.ranges()[n - 2], (Range{25, 25}));
  EXPECT_EQ(a.add(10), Received::kDuplicate);
  // 11 is at the floor but older than every range, with no room: dropped.
  EXPECT_EQ(a.add(11), Received::kDuplicate);
  EXPECT_EQ(a.add(21), Received::kNew);  // joins {20}
}

TEST(AckRanges, BoundWithNewPacketOlderThanAllRanges) {
  AckRanges a;
  const uint64_t n = AckRanges::kMaxRanges;
  for (uint64_t i = 1; i <= n; ++i) ASSERT_EQ(a.add(10 * i), Received::kNew);
  const std::vector<Range> before = ranges_of(a);
  // The new packet would be the oldest range and could never be
  // acknowledged (§13.2.1): it is dropped and nothing changes.
  EXPECT_EQ(a.add(5), Received::kDuplicate);
  EXPECT_EQ(ranges_of(a), before);
  EXPECT_EQ(a.floor(), 0u);
  EXPECT_FALSE(a.contains(5));
}

TEST(AckRanges, RangesStaySortedAndDisjointUnderChurn) {
  AckRanges a;
  std::vector<bool> seen(4000, false);
  uint64_t x = 12345;
  for (int step = 0; step < 20000; ++step) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const uint64_t pn = (x >> 33) % seen.size();
    const bool was_new = !a.contains(pn);
    EXPECT_EQ(a.add(pn) == Received::kNew, was_new) << pn;
    seen[pn] = true;
    auto r = a.ranges();
    for (size_t i = 0; i < r.size(); ++i) {
      ASSERT_LE(r[i].lo, r[i].hi);
      ASSERT_GE(r[i].lo, a.floor());
      if (i > 0) {
        ASSERT_LT(r[i].hi + 1, r[i - 1].lo);  // descending, not adjacent
      }
    }
  }
  // Whatever is acknowledged was really received.
  for (const Range& r : a.ranges()) {
    for (uint64_t pn = r.lo; pn <= r.hi; ++pn) EXPECT_TRUE(seen[pn]) << pn;
  }
}

TEST(AckRanges, RemoveBelow) {
  AckRanges a;
  add_all(a, {0, 1, 2, 5, 6, 9, 10});
  // The peer acknowledged an ACK frame whose Largest Acknowledged was 5.
  a.remove_below(6);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{9, 10}, {6, 6}}));
  EXPECT_EQ(a.floor(), 6u);
  EXPECT_EQ(a.add(5), Received::kDuplicate);
  EXPECT_EQ(a.add(3), Received::kDuplicate);  // a gap, but no longer accepted
  EXPECT_EQ(a.add(7), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{9, 10}, {6, 7}}));
  // A lower value never lowers the floor.
  a.remove_below(2);
  EXPECT_EQ(a.floor(), 6u);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{9, 10}, {6, 7}}));
}

TEST(AckRanges, RemoveBelowEverythingKeepsLargest) {
  AckRanges a;
  add_all(a, {0, 1, 2});
  a.remove_below(3);
  EXPECT_TRUE(a.ranges().empty());
  EXPECT_TRUE(a.received_any());
  EXPECT_EQ(a.largest(), 2u);  // still needed to decode packet numbers
  EXPECT_EQ(a.add(2), Received::kDuplicate);
  EXPECT_EQ(a.add(3), Received::kNew);
  EXPECT_EQ(ranges_of(a), (std::vector<Range>{{3, 3}}));
  EXPECT_EQ(a.largest(), 3u);
}

}  // namespace
}  // namespace quicbed
