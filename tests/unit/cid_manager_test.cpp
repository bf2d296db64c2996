#include "cid_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>
#include <vector>

#include "hex.h"
#include "varint.h"

namespace quicbed {
namespace {

using test::to_hex;
using Token = std::array<uint8_t, kStatelessResetTokenLen>;

// Test CIDs and tokens are derived from a tag: the peer's CID with sequence
// number s uses tag s unless a test says otherwise.
ConnectionId cid(uint8_t tag, uint8_t len = 8) {
  ConnectionId c;
  c.len = len;
  for (uint8_t i = 0; i < len; ++i) c.bytes[i] = static_cast<uint8_t>(i == 0 ? tag : 0xc0 + i);
  return c;
}
Token token(uint8_t tag) {
  Token t;
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint8_t>(0xa0 + tag + 3 * i);
  return t;
}
Bytes view(const Token& t) { return Bytes(t.data(), t.size()); }

// --- LocalCids ----------------------------------------------------------------

uint64_t issue(LocalCids& l, uint8_t tag) {
  Token t = token(tag);
  auto r = l.issue(cid(tag), view(t));
  EXPECT_TRUE(r.is_ok()) << r.status().reason();
  return r.is_ok() ? *r : ~uint64_t{0};
}

// Issue `tag` and mark its NEW_CONNECTION_ID sent.
uint64_t issue_sent(LocalCids& l, uint8_t tag) {
  uint64_t s = issue(l, tag);
  l.on_new_connection_id_sent(s);
  return s;
}

std::vector<uint64_t> local_sequences(const LocalCids& l) {
  std::vector<uint64_t> v;
  for (const LocalCid& c : l.cids()) v.push_back(c.sequence);
  return v;
}

TEST(LocalCids, StartHoldsSequenceZero) {
  LocalCids l;
  l.start(cid(0));
  ASSERT_EQ(l.cids().size(), 1u);
  EXPECT_EQ(l.next_sequence(), 1u);
  const LocalCid* c = l.find(cid(0).view());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->sequence, 0u);
  EXPECT_EQ(l.find(cid(1).view()), nullptr);
  EXPECT_EQ(l.find(Bytes()), nullptr);
  NewConnectionIdFrame f;
  EXPECT_FALSE(l.next_new_connection_id(f));  // the handshake carried it
}

TEST(LocalCids, BudgetFollowsPeerLimitCappedByBound) {
  LocalCids l;
  l.start(cid(0));
  EXPECT_EQ(l.issue_budget(), 1u);  // §18.2 default limit 2, sequence 0 counts
  l.set_peer_limit(4);
  EXPECT_EQ(l.issue_budget(), 3u);
  l.set_peer_limit(uint64_t{1} << 60);
  EXPECT_EQ(l.issue_budget(), kMaxActiveCids - 1);
  for (uint8_t t = 1; t < kMaxActiveCids; ++t) EXPECT_EQ(issue(l, t), t);
  EXPECT_EQ(l.issue_budget(), 0u);
  Token tk = token(9);
  EXPECT_EQ(l.issue(cid(9), view(tk)).status().code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(l.cids().size(), kMaxActiveCids);
}

TEST(LocalCids, IssueRejectsBadInput) {
  LocalCids l;
  l.start(cid(0));
  l.set_peer_limit(8);
  Token tk = token(1);
  EXPECT_EQ(l.issue(ConnectionId{}, view(tk)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.issue(cid(0), view(tk)).status().code(), ErrorCode::kInvalidArgument);  // already ours
  EXPECT_EQ(l.issue(cid(1), Bytes(tk.data(), 15)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.next_sequence(), 1u);
  EXPECT_EQ(l.cids().size(), 1u);
}

TEST(LocalCids, NewConnectionIdFramesSentAndRepeatedOnLoss) {
  LocalCids l;
  l.start(cid(0));
  l.set_peer_limit(3);
  EXPECT_EQ(issue(l, 1), 1u);
  EXPECT_EQ(issue(l, 2), 2u);  // §5.1.1: increase by 1
  NewConnectionIdFrame f;
  ASSERT_TRUE(l.next_new_connection_id(f));
  EXPECT_EQ(f.sequence, 1u);
  EXPECT_EQ(f.retire_prior_to, 0u);
  EXPECT_EQ(to_hex(f.cid), to_hex(cid(1).view()));
  EXPECT_EQ(to_hex(f.stateless_reset_token), to_hex(view(token(1))));
  l.on_new_connection_id_sent(1);
  ASSERT_TRUE(l.next_new_connection_id(f));
  EXPECT_EQ(f.sequence, 2u);
  l.on_new_connection_id_sent(2);
  EXPECT_FALSE(l.next_new_connection_id(f));
  l.on_new_connection_id_lost(1);  // §13.3: repeated with the same sequence number
  ASSERT_TRUE(l.next_new_connection_id(f));
  EXPECT_EQ(f.sequence, 1u);
  EXPECT_EQ(to_hex(f.cid), to_hex(cid(1).view()));
}

TEST(LocalCids, RetireConnectionId) {
  LocalCids l;
  l.start(cid(0));
  l.set_peer_limit(3);
  issue_sent(l, 1);
  issue(l, 2);  // issued, frame not sent yet

  // §19.16: above any sequence number sent.
  EXPECT_EQ(l.on_retire_connection_id(2, cid(0).view()).status().code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(l.on_retire_connection_id(3, cid(0).view()).status().code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(l.on_retire_connection_id(kVarintMax, cid(0).view()).status().code(), ErrorCode::kProtocolViolation);
  // §19.16: the CID the packet was sent to.
  EXPECT_EQ(l.on_retire_connection_id(1, cid(1).view()).status().code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(l.cids().size(), 3u);

  EXPECT_EQ(l.issue_budget(), 0u);
  auto r = l.on_retire_connection_id(0, cid(1).view());
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(to_hex(r->view()), to_hex(cid(0).view()));
  EXPECT_EQ(l.find(cid(0).view()), nullptr);
  EXPECT_EQ(local_sequences(l), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(l.issue_budget(), 1u);  // §5.1.1: room for a replacement

  // A repeated frame retires nothing more.
  auto again = l.on_retire_connection_id(0, cid(1).view());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->len, 0u);
  EXPECT_EQ(l.cids().size(), 2u);

  l.on_new_connection_id_sent(2);
  ASSERT_TRUE(l.on_retire_connection_id(2, cid(1).view()).is_ok());
  NewConnectionIdFrame f;
  EXPECT_FALSE(l.next_new_connection_id(f));
  l.on_new_connection_id_lost(2);  // retired meanwhile: nothing to repeat
  EXPECT_FALSE(l.next_new_connection_id(f));
}

TEST(LocalCids, ZeroLengthIssuesNothingAndRefusesRetire) {
  LocalCids l;
  l.start(ConnectionId{});
  l.set_peer_limit(8);
  EXPECT_EQ(l.issue_budget(), 0u);
  Token tk = token(1);
  EXPECT_EQ(l.issue(cid(1), view(tk)).status().code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(l.issue_preferred_address(cid(1), view(tk)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.on_retire_connection_id(0, Bytes()).status().code(), ErrorCode::kProtocolViolation);
  // Routing still finds the empty CID.
  ASSERT_NE(l.find(Bytes()), nullptr);
}

TEST(LocalCids, PreferredAddressIsSequenceOneWithoutFrame) {
  LocalCids l;
  l.start(cid(0));
  Token tk = token(1);
  auto r = l.issue_preferred_address(cid(1), view(tk));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 1u);
  NewConnectionIdFrame f;
  EXPECT_FALSE(l.next_new_connection_id(f));
  EXPECT_EQ(l.issue_budget(), 0u);  // default limit 2 reached
  EXPECT_EQ(l.issue_preferred_address(cid(2), view(tk)).status().code(), ErrorCode::kInvalidArgument);
  // Sent in the transport parameters, so the peer may retire it.
  EXPECT_TRUE(l.on_retire_connection_id(1, cid(0).view()).is_ok());
}

TEST(LocalCids, RetirePriorToRotates) {
  LocalCids l;
  l.start(cid(0));
  l.set_peer_limit(2);
  issue_sent(l, 1);
  EXPECT_EQ(l.issue_budget(), 0u);

  EXPECT_EQ(l.retire_prior_to(0).code(), ErrorCode::kInvalidArgument);  // must increase
  EXPECT_EQ(l.retire_prior_to(3).code(), ErrorCode::kInvalidArgument);  // beyond next_sequence
  ASSERT_TRUE(l.retire_prior_to(2).is_ok());
  EXPECT_EQ(l.retire_prior_to(), 2u);
  NewConnectionIdFrame f;
  EXPECT_FALSE(l.next_new_connection_id(f));  // nothing at or above 2 yet
  EXPECT_EQ(l.issue_budget(), 2u);  // 0 and 1 no longer count for the peer

  EXPECT_EQ(issue(l, 2), 2u);
  ASSERT_TRUE(l.next_new_connection_id(f));
  EXPECT_EQ(f.sequence, 2u);
  EXPECT_EQ(f.retire_prior_to, 2u);
  l.on_new_connection_id_sent(2);
  // Still accepted until the peer retires them (§5.1.2).
  EXPECT_NE(l.find(cid(0).view()), nullptr);
  EXPECT_NE(l.find(cid(1).view()), nullptr);

  // §5.1.2 SHOULD NOT: no new rotation before the last one is honoured.
  EXPECT_EQ(l.retire_prior_to(3).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(l.on_retire_connection_id(0, cid(2).view()).is_ok());
  EXPECT_EQ(l.retire_prior_to(3).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(l.on_retire_connection_id(1, cid(2).view()).is_ok());

  // A frame lost before a rotation is repeated with Retire Prior To capped
  // at its own sequence number (§19.15), so the peer can retire it.
  issue_sent(l, 3);
  ASSERT_TRUE(l.retire_prior_to(4).is_ok());
  l.on_new_connection_id_lost(2);
  ASSERT_TRUE(l.next_new_connection_id(f));
  EXPECT_EQ(f.sequence, 2u);
  EXPECT_EQ(f.retire_prior_to, 2u);
}

TEST(LocalCids, RotationReannouncesNewestToCarryTheValue) {
  LocalCids l;
  l.start(cid(0));
  l.set_peer_limit(3);
  issue_sent(l, 1);
  issue_sent(l, 2);
  ASSERT_TRUE(l.retire_prior_to(1).is_ok());
  NewConnectionIdFrame f;
  ASSERT_TRUE(l.next_new_connection_id(f));
  EXPECT_EQ(f.sequence, 2u);
  EXPECT_EQ(f.retire_prior_to, 1u);
  EXPECT_EQ(to_hex(f.cid), to_hex(cid(2).view()));
}

TEST(LocalCids, FullSetCanRotate) {
  LocalCids l;
  l.start(cid(0));
  l.set_peer_limit(kMaxActiveCids);
  for (uint8_t t = 1; t < kMaxActiveCids; ++t) issue_sent(l, t);
  ASSERT_TRUE(l.retire_prior_to(kMaxActiveCids).is_ok());
  EXPECT_EQ(l.issue_budget(), kMaxActiveCids);
  for (uint8_t t = kMaxActiveCids; t < 2 * kMaxActiveCids; ++t) EXPECT_EQ(issue(l, t), t);
  EXPECT_EQ(l.cids().size(), LocalCids::kCapacity);
  EXPECT_EQ(l.issue_budget(), 0u);
}

// --- PeerCids -----------------------------------------------------------------

Status receive(PeerCids& p, uint64_t seq, uint64_t rpt, uint8_t cid_tag, uint8_t token_tag) {
  ConnectionId c = cid(cid_tag);
  Token t = token(token_tag);
  return p.on_new_connection_id(NewConnectionIdFrame{seq, rpt, c.view(), view(t)});
}
Status receive(PeerCids& p, uint64_t seq, uint64_t rpt = 0) {
  return receive(p, seq, rpt, static_cast<uint8_t>(seq), static_cast<uint8_t>(seq));
}

std::vector<uint64_t> peer_sequences(const PeerCids& p) {
  std::vector<uint64_t> v;
  for (const PeerCid& c : p.cids()) v.push_back(c.sequence);
  std::sort(v.begin(), v.end());
  return v;
}

// Drains the RETIRE_CONNECTION_ID queue as if every frame was sent and
// acknowledged, returning the sequence numbers retired.
std::set<uint64_t> drain_retirements(PeerCids& p) {
  std::set<uint64_t> out;
  uint64_t s;
  while (p.next_retire_connection_id(s)) {
    out.insert(s);
    p.on_retire_connection_id_sent(s);
    p.on_retire_connection_id_acked(s);
  }
  return out;
}

TEST(PeerCids, StartMakesSequenceZeroCurrent) {
  PeerCids p;
  EXPECT_EQ(p.current(), nullptr);
  p.start(cid(0));
  ASSERT_NE(p.current(), nullptr);
  EXPECT_EQ(p.current()->sequence, 0u);
  EXPECT_EQ(to_hex(p.current()->cid.view()), to_hex(cid(0).view()));
  EXPECT_TRUE(p.current()->used);
  EXPECT_EQ(p.unused_count(), 0u);
  // A client replaces its own choice by the server's (§7.2).
  p.start(cid(5));
  EXPECT_EQ(to_hex(p.current()->cid.view()), to_hex(cid(5).view()));
  EXPECT_EQ(p.cids().size(), 1u);
}

TEST(PeerCids, NewConnectionIdStoredAndRepeatsAccepted) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1).is_ok());
  ASSERT_TRUE(receive(p, 2).is_ok());
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(p.unused_count(), 2u);
  EXPECT_EQ(p.current()->sequence, 0u);
  // §19.15: the same frame again is not an error.
  ASSERT_TRUE(receive(p, 2).is_ok());
  ASSERT_TRUE(receive(p, 1).is_ok());
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(p.pending_retirements(), 0u);
}

TEST(PeerCids, ConflictingRepeatsAreProtocolViolations) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1).is_ok());
  // §19.15: same sequence number, other CID.
  EXPECT_EQ(receive(p, 1, 0, 7, 1).code(), ErrorCode::kProtocolViolation);
  // Same sequence number and CID, other token.
  EXPECT_EQ(receive(p, 1, 0, 1, 7).code(), ErrorCode::kProtocolViolation);
  // Same CID under another sequence number (also the handshake CID).
  EXPECT_EQ(receive(p, 2, 0, 1, 2).code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(receive(p, 2, 0, 0, 2).code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 1}));
}

TEST(PeerCids, MoreThanLimitIsConnectionIdLimitError) {
  PeerCids p(2);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1).is_ok());
  EXPECT_EQ(receive(p, 2).code(), ErrorCode::kConnectionIdLimitError);  // §5.1.1
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 1}));
  // Exceeding the limit is fine when Retire Prior To makes room (§5.1.1).
  PeerCids q(2);
  q.start(cid(0));
  ASSERT_TRUE(receive(q, 1).is_ok());
  ASSERT_TRUE(receive(q, 2, 1).is_ok());
  EXPECT_EQ(peer_sequences(q), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(drain_retirements(q), (std::set<uint64_t>{0}));
}

TEST(PeerCids, ZeroLengthPeerCannotSendNewConnectionId) {
  PeerCids p;
  p.start(ConnectionId{});
  EXPECT_EQ(receive(p, 1).code(), ErrorCode::kProtocolViolation);  // §19.15
  EXPECT_EQ(p.cids().size(), 1u);
  ASSERT_NE(p.current(), nullptr);
  EXPECT_EQ(p.current()->cid.len, 0u);
}

TEST(PeerCids, RetirePriorToRetiresLowerAndMovesCurrent) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1).is_ok());
  ASSERT_TRUE(receive(p, 2).is_ok());
  ASSERT_TRUE(receive(p, 3, 2).is_ok());  // retires 0 (current) and 1
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{2, 3}));
  ASSERT_NE(p.current(), nullptr);
  EXPECT_EQ(p.current()->sequence, 2u);
  EXPECT_TRUE(p.current()->used);
  EXPECT_EQ(p.pending_retirements(), 2u);
  EXPECT_EQ(drain_retirements(p), (std::set<uint64_t>{0, 1}));

  // §19.15: a lower Retire Prior To than seen before has no effect.
  ASSERT_TRUE(receive(p, 4, 1).is_ok());
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(p.pending_retirements(), 0u);
}

TEST(PeerCids, ReorderedFrameBelowRetirePriorToIsRetiredAtOnce) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 2, 2).is_ok());  // overtook the frame for 1
  EXPECT_EQ(drain_retirements(p), (std::set<uint64_t>{0}));
  ASSERT_TRUE(receive(p, 1).is_ok());  // §19.15: retire it, never use it
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{2}));
  EXPECT_EQ(p.pending_retirements(), 1u);
  ASSERT_TRUE(receive(p, 1).is_ok());  // a repeat does not queue it twice
  EXPECT_EQ(drain_retirements(p), (std::set<uint64_t>{1}));
  ASSERT_TRUE(receive(p, 1).is_ok());  // "unless it has already done so"
  EXPECT_EQ(p.pending_retirements(), 0u);
}

TEST(PeerCids, RepeatOfRetiredCidIsNotReused) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1).is_ok());
  ASSERT_TRUE(receive(p, 2).is_ok());
  ASSERT_TRUE(p.retire(1).is_ok());
  EXPECT_EQ(drain_retirements(p), (std::set<uint64_t>{1}));
  ASSERT_TRUE(receive(p, 1).is_ok());  // late retransmission
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(p.pending_retirements(), 0u);
}

TEST(PeerCids, SeenWindowSlidesOnHugeGaps) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 60).is_ok());
  ASSERT_TRUE(receive(p, 120).is_ok());  // 64 or more ahead of 1: the window slides to 57
  ASSERT_TRUE(receive(p, 56).is_ok());   // counted as seen: ignored
  ASSERT_TRUE(receive(p, 57).is_ok());   // still tracked: new
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 57, 60, 120}));
  // Repeats of retired ones, on both sides of the slid window, stay retired.
  ASSERT_TRUE(p.retire(57).is_ok());
  ASSERT_TRUE(p.retire(60).is_ok());
  ASSERT_TRUE(receive(p, 57).is_ok());
  ASSERT_TRUE(receive(p, 60).is_ok());
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 120}));
}

TEST(PeerCids, TooManyPendingRetirementsIsConnectionIdLimitError) {
  PeerCids p(2);
  p.start(cid(0));
  // Each frame retires its predecessor; none of the RETIRE_CONNECTION_ID
  // frames is acknowledged.
  for (uint64_t s = 1; s <= PeerCids::kMaxPendingRetirements; ++s) ASSERT_TRUE(receive(p, s, s).is_ok()) << s;
  EXPECT_EQ(p.pending_retirements(), PeerCids::kMaxPendingRetirements);
  const uint64_t next = PeerCids::kMaxPendingRetirements + 1;
  EXPECT_EQ(receive(p, next, next).code(), ErrorCode::kConnectionIdLimitError);  // §5.1.2
  // The failed frame changed nothing.
  EXPECT_EQ(p.pending_retirements(), PeerCids::kMaxPendingRetirements);
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{PeerCids::kMaxPendingRetirements}));
  EXPECT_EQ(p.current()->sequence, PeerCids::kMaxPendingRetirements);
  // Acknowledgments make room again.
  uint64_t s;
  ASSERT_TRUE(p.next_retire_connection_id(s));
  p.on_retire_connection_id_sent(s);
  p.on_retire_connection_id_acked(s);
  ASSERT_TRUE(receive(p, next, next).is_ok());
  EXPECT_EQ(p.current()->sequence, next);
}

TEST(PeerCids, ReorderedFrameNeedsARetirementSlot) {
  PeerCids p(2);
  p.start(cid(0));
  // Sequence 1 is overtaken by 2..17, each retiring its predecessor.
  for (uint64_t s = 2; s <= PeerCids::kMaxPendingRetirements + 1; ++s) ASSERT_TRUE(receive(p, s, s).is_ok()) << s;
  EXPECT_EQ(p.pending_retirements(), PeerCids::kMaxPendingRetirements);
  EXPECT_EQ(receive(p, 1).code(), ErrorCode::kConnectionIdLimitError);
  uint64_t s;
  ASSERT_TRUE(p.next_retire_connection_id(s));
  p.on_retire_connection_id_sent(s);
  p.on_retire_connection_id_acked(s);
  ASSERT_TRUE(receive(p, 1).is_ok());
  EXPECT_EQ(p.pending_retirements(), PeerCids::kMaxPendingRetirements);
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{PeerCids::kMaxPendingRetirements + 1}));
}

TEST(PeerCids, RetireFrameLifecycle) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1, 1).is_ok());
  uint64_t s = 99;
  ASSERT_TRUE(p.next_retire_connection_id(s));
  EXPECT_EQ(s, 0u);
  p.on_retire_connection_id_sent(0);
  EXPECT_FALSE(p.next_retire_connection_id(s));
  p.on_retire_connection_id_lost(0);
  ASSERT_TRUE(p.next_retire_connection_id(s));
  EXPECT_EQ(s, 0u);
  p.on_retire_connection_id_sent(0);
  p.on_retire_connection_id_acked(0);
  EXPECT_FALSE(p.next_retire_connection_id(s));
  EXPECT_EQ(p.pending_retirements(), 0u);
}

TEST(PeerCids, SwitchToUnusedAndRetire) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 2).is_ok());
  ASSERT_TRUE(receive(p, 1).is_ok());
  ASSERT_TRUE(p.switch_to_unused().is_ok());
  EXPECT_EQ(p.current()->sequence, 1u);  // the lowest unused
  EXPECT_EQ(p.unused_count(), 1u);
  EXPECT_EQ(p.retire(1).code(), ErrorCode::kInvalidArgument);   // current
  EXPECT_EQ(p.retire(7).code(), ErrorCode::kInvalidArgument);   // unknown
  ASSERT_TRUE(p.retire(0).is_ok());
  EXPECT_EQ(p.retire(0).code(), ErrorCode::kInvalidArgument);   // already retired
  ASSERT_TRUE(p.switch_to_unused().is_ok());
  EXPECT_EQ(p.current()->sequence, 2u);
  EXPECT_EQ(p.switch_to_unused().code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(p.current()->sequence, 2u);
  EXPECT_EQ(drain_retirements(p), (std::set<uint64_t>{0}));
}

TEST(PeerCids, NoCurrentUntilANewCidArrives) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1).is_ok());
  ASSERT_TRUE(receive(p, 2).is_ok());
  ASSERT_TRUE(p.switch_to_unused().is_ok());  // current 1
  ASSERT_TRUE(p.retire(0).is_ok());
  ASSERT_TRUE(p.retire(2).is_ok());
  // The peer repeats 2 with Retire Prior To 2: 1 must go, 2 is retired.
  ASSERT_TRUE(receive(p, 2, 2).is_ok());
  EXPECT_EQ(p.current(), nullptr);
  EXPECT_TRUE(p.cids().empty());
  ASSERT_TRUE(receive(p, 3, 2).is_ok());
  ASSERT_NE(p.current(), nullptr);
  EXPECT_EQ(p.current()->sequence, 3u);
  EXPECT_EQ(drain_retirements(p), (std::set<uint64_t>{0, 1, 2}));
}

TEST(PeerCids, PreferredAddress) {
  PeerCids p;
  p.start(cid(0));
  Token t = token(1);
  ASSERT_TRUE(p.add_preferred_address(cid(1), view(t)).is_ok());
  EXPECT_EQ(peer_sequences(p), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(p.unused_count(), 1u);
  EXPECT_EQ(p.add_preferred_address(ConnectionId{}, view(t)).code(), ErrorCode::kTransportParameterError);
  PeerCids z;
  z.start(ConnectionId{});
  EXPECT_EQ(z.add_preferred_address(cid(1), view(t)).code(), ErrorCode::kTransportParameterError);
}

TEST(PeerCids, ParsedFrameRoundTripFromLocalCids) {
  LocalCids l;
  l.start(cid(0));
  l.set_peer_limit(4);
  issue(l, 1);
  NewConnectionIdFrame n;
  ASSERT_TRUE(l.next_new_connection_id(n));
  Frame f;
  f.type = FrameType::kNewConnectionId;
  f.new_connection_id = n;
  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  ASSERT_TRUE(write_frame(w, f).is_ok());
  Reader r(Bytes(buf, w.position()));
  auto parsed = parse_frame(r);
  ASSERT_TRUE(parsed.is_ok());

  PeerCids p;
  p.start(cid(0));
  ASSERT_TRUE(p.on_new_connection_id(parsed->new_connection_id).is_ok());
  ASSERT_EQ(p.cids().size(), 2u);
  EXPECT_EQ(p.cids()[1].sequence, 1u);
  EXPECT_EQ(to_hex(p.cids()[1].cid.view()), to_hex(cid(1).view()));
  EXPECT_EQ(to_hex(p.cids()[1].token()), to_hex(view(token(1))));
}

// --- Stateless Reset detection (§10.3.1) ------------------------------------

std::vector<uint8_t> datagram_ending_in(const Token& t, size_t size) {
  std::vector<uint8_t> d(size, 0x5a);
  std::copy(t.begin(), t.end(), d.end() - t.size());
  return d;
}
bool is_reset(const PeerCids& p, const std::vector<uint8_t>& d) { return p.is_stateless_reset(test::as_bytes(d)); }

TEST(StatelessReset, DetectsTokenOfUsedCid) {
  PeerCids p;
  p.start(cid(0));
  ASSERT_TRUE(p.set_initial_reset_token(view(token(0))).is_ok());
  EXPECT_TRUE(is_reset(p, datagram_ending_in(token(0), 60)));
  EXPECT_TRUE(is_reset(p, datagram_ending_in(token(0), kMinStatelessResetLen)));
  // Too short to be a packet at all (§10.3).
  EXPECT_FALSE(is_reset(p, datagram_ending_in(token(0), kMinStatelessResetLen - 1)));
  EXPECT_FALSE(is_reset(p, datagram_ending_in(token(0), kStatelessResetTokenLen)));
  // Not the last 16 bytes.
  auto shifted = datagram_ending_in(token(0), 60);
  shifted.push_back(0);
  EXPECT_FALSE(is_reset(p, shifted));
  // Any single bit differs.
  for (size_t i = 0; i < kStatelessResetTokenLen * 8; ++i) {
    auto d = datagram_ending_in(token(0), 40);
    d[d.size() - kStatelessResetTokenLen + i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    EXPECT_FALSE(is_reset(p, d)) << i;
  }
}

TEST(StatelessReset, NoTokenNoDetection) {
  PeerCids p;  // a server's view of a client: sequence 0 has no token
  p.start(cid(0));
  EXPECT_FALSE(is_reset(p, std::vector<uint8_t>(40, 0)));
  EXPECT_FALSE(is_reset(p, datagram_ending_in(token(0), 40)));
  EXPECT_EQ(p.set_initial_reset_token(Bytes(token(0).data(), 15)).code(), ErrorCode::kInvalidArgument);
}

TEST(StatelessReset, OnlyUsedAndActiveCids) {
  PeerCids p(4);
  p.start(cid(0));
  ASSERT_TRUE(receive(p, 1).is_ok());
  ASSERT_TRUE(receive(p, 2).is_ok());
  // §10.3.1: not for a CID never used.
  EXPECT_FALSE(is_reset(p, datagram_ending_in(token(1), 40)));
  ASSERT_TRUE(p.switch_to_unused().is_ok());
  EXPECT_TRUE(is_reset(p, datagram_ending_in(token(1), 40)));
  EXPECT_FALSE(is_reset(p, datagram_ending_in(token(2), 40)));
  // Nor for a retired one.
  ASSERT_TRUE(p.switch_to_unused().is_ok());
  EXPECT_TRUE(is_reset(p, datagram_ending_in(token(1), 40)));
  ASSERT_TRUE(p.retire(1).is_ok());
  EXPECT_FALSE(is_reset(p, datagram_ending_in(token(1), 40)));
  EXPECT_TRUE(is_reset(p, datagram_ending_in(token(2), 40)));
  ASSERT_TRUE(receive(p, 3, 3).is_ok());  // retires 2 by Retire Prior To
  EXPECT_FALSE(is_reset(p, datagram_ending_in(token(2), 40)));
  EXPECT_TRUE(is_reset(p, datagram_ending_in(token(3), 40)));  // now current
}

// --- Stateless Reset construction (§10.3, §10.3.3) ---------------------------

std::vector<uint8_t> random_bytes(size_t n, uint8_t first) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + 7 * i);
  return v;
}

Result<size_t> build(std::vector<uint8_t>& out, size_t trigger, const std::vector<uint8_t>& rnd,
                     const Token& t = token(0)) {
  out.assign(256, 0xee);
  Writer w(MutBytes(out.data(), out.size()));
  auto r = write_stateless_reset(w, trigger, test::as_bytes(rnd), view(t));
  if (r.is_ok()) {
    EXPECT_EQ(w.position(), *r);
    out.resize(*r);
  }
  return r;
}

TEST(StatelessReset, LayoutAndSize) {
  std::vector<uint8_t> out;
  auto rnd = random_bytes(64, 0xff);
  auto r = build(out, 100, rnd);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 80u);  // 64 unpredictable bytes + token, below the trigger
  EXPECT_EQ(out[0], 0x7f);  // 01 then the low six bits of the first random byte
  EXPECT_EQ(to_hex(Bytes(out.data() + 1, 63)), to_hex(Bytes(rnd.data() + 1, 63)));
  EXPECT_EQ(to_hex(Bytes(out.data() + 64, 16)), to_hex(view(token(0))));

  auto rnd80 = random_bytes(26, 0x80);
  ASSERT_TRUE(build(out, 43, rnd80).is_ok());
  EXPECT_EQ(out.size(), 42u);  // §10.3: one byte shorter than a trigger of <= 43
  EXPECT_EQ(out[0], 0x40);
  ASSERT_TRUE(build(out, 30, rnd).is_ok());
  EXPECT_EQ(out.size(), 29u);
  ASSERT_TRUE(build(out, kMinStatelessResetLen + 1, rnd).is_ok());
  EXPECT_EQ(out.size(), kMinStatelessResetLen);

  // A reset of ours is detected by the peer holding the token.
  PeerCids p;
  p.start(cid(0));
  ASSERT_TRUE(p.set_initial_reset_token(view(token(0))).is_ok());
  ASSERT_TRUE(build(out, 1200, rnd).is_ok());
  EXPECT_TRUE(is_reset(p, out));
}

TEST(StatelessReset, TooSmallTriggerIsNotAnswered) {
  std::vector<uint8_t> out;
  auto rnd = random_bytes(64, 1);
  for (size_t trigger : {size_t{0}, size_t{1}, size_t{20}, kMinStatelessResetLen})
    EXPECT_EQ(build(out, trigger, rnd).status().code(), ErrorCode::kDropPacket) << trigger;
}

TEST(StatelessReset, BadInputs) {
  std::vector<uint8_t> out;
  EXPECT_EQ(build(out, 100, random_bytes(4, 1)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(build(out, 100, random_bytes(5, 1)).is_ok());
  EXPECT_EQ(out.size(), kMinStatelessResetLen);
  uint8_t buf[64];
  auto rnd = random_bytes(64, 1);
  Token t = token(0);
  Writer w(MutBytes(buf, sizeof buf));
  EXPECT_EQ(write_stateless_reset(w, 100, test::as_bytes(rnd), Bytes(t.data(), 15)).status().code(),
            ErrorCode::kInvalidArgument);
  Writer small(MutBytes(buf, 40));  // needs 80
  EXPECT_EQ(write_stateless_reset(small, 100, test::as_bytes(rnd), view(t)).status().code(),
            ErrorCode::kBufferTooSmall);
  EXPECT_EQ(small.position(), 0u);
}

TEST(StatelessReset, NeverLoopsNorAmplifies) {
  // §10.3.3: each reset is smaller than what triggered it, so resets
  // answering resets die out; §10.3: never 3x the trigger.
  auto rnd = random_bytes(200, 3);
  std::vector<uint8_t> out;
  for (size_t trigger = 0; trigger <= 1500; ++trigger) {
    size_t len = trigger;
    int rounds = 0;
    while (true) {
      auto r = build(out, len, rnd);
      if (!r.is_ok()) {
        EXPECT_EQ(r.status().code(), ErrorCode::kDropPacket);
        break;
      }
      EXPECT_LT(*r, len);
      EXPECT_GE(*r, kMinStatelessResetLen);
      len = *r;
      ASSERT_LT(++rounds, 1500);
    }
  }
}

}  // namespace
}  // namespace quicbed
