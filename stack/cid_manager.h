// Connection ID management (RFC 9000 §5.1): the connection IDs we issue to
// the peer (LocalCids) and the ones the peer issues to us (PeerCids), their
// NEW_CONNECTION_ID / RETIRE_CONNECTION_ID bookkeeping (§19.15, §19.16), and
// the stateless reset tokens that travel with them (§10.3).
//
// The core has no random number generator: the host generates every
// connection ID, stateless reset token and unpredictable byte, and hands
// them in. A connection asks LocalCids::issue_budget() how many CIDs it
// may issue, asks the host for that many, and issue()s them.
//
// Bounds (design: every queue is bounded). Each side holds at most
// kMaxActiveCids active connection IDs, a compile-time constant rather than
// a template parameter so the code stays in one .cpp for every host: eight
// covers a handful of paths (§9.5 wants a fresh CID per path) at well under
// 1 KiB per side. Below that bound the limits are runtime values: the
// peer's active_connection_id_limit caps what we issue, and the limit we
// advertise (2..kMaxActiveCids) caps what we accept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bounded.h"
#include "base/bytes.h"
#include "base/status.h"
#include "cid.h"
#include "frame.h"

namespace quicbed {

inline constexpr size_t kMaxActiveCids = 8;
// §10.3: two fixed bits and at least 38 unpredictable bits, then the token.
inline constexpr size_t kMinStatelessResetLen = 5 + kStatelessResetTokenLen;

// --- Connection IDs we issue ------------------------------------------------

struct LocalCid {
  uint64_t sequence = 0;
  ConnectionId cid;
  uint8_t reset_token[kStatelessResetTokenLen] = {};
  bool announce = false;  // a NEW_CONNECTION_ID frame for it is due (first send, or lost)

  Bytes token() const { return Bytes(reset_token, kStatelessResetTokenLen); }
};

class LocalCids {
 public:
  // Active CIDs as the peer counts them, plus as many again that our Retire
  // Prior To has retired but the peer has not yet: we keep accepting those
  // until its RETIRE_CONNECTION_ID (§5.1.2 SHOULD), so a full set can still
  // rotate to a new one.
  static constexpr size_t kCapacity = 2 * kMaxActiveCids;

  // Starts over with the CID we put in the Source Connection ID field of our
  // first long header: sequence 0 (§5.1.1), already known to the peer. With
  // a zero-length CID the peer addresses us without one: we issue no other
  // (§5.1.1) and every RETIRE_CONNECTION_ID is a PROTOCOL_VIOLATION (§19.16).
  void start(const ConnectionId& initial);

  // The peer's active_connection_id_limit (§18.2); the RFC default, 2,
  // until its transport parameters arrive.
  void set_peer_limit(uint64_t limit);

  // How many CIDs issue() accepts now: the peer's limit (capped by
  // kMaxActiveCids) minus the CIDs it counts as active, i.e. those at or
  // above our Retire Prior To (§5.1.1 "MUST NOT provide more").
  size_t issue_budget() const;

  // Adds a CID from the host (unpredictable, §5.1; with its stateless reset
  // token, §10.3.2) under the next sequence number (§5.1.1: each one
  // increases by 1) and queues its NEW_CONNECTION_ID. Returns the sequence
  // number. kLimitExceeded when issue_budget() is 0; kInvalidArgument for an
  // empty CID, a CID already in the set, or a token that is not 16 bytes.
  Result<uint64_t> issue(const ConnectionId& cid, Bytes token);
  // A server's preferred_address CID: sequence 1 (§5.1.1), carried in the
  // transport parameter instead of a frame, so nothing is queued. Any peer
  // limit allows it (§18.2: the limit is at least 2). kInvalidArgument
  // unless only sequence 0 was issued, and as for issue().
  Result<uint64_t> issue_preferred_address(const ConnectionId& cid, Bytes token);

  // RETIRE_CONNECTION_ID for `sequence`, received in a packet whose
  // Destination Connection ID was `packet_dcid` (§19.16). PROTOCOL_VIOLATION
  // if we use zero-length CIDs, if `sequence` is above every one we sent
  // (in a frame or a transport parameter), or if it names `packet_dcid`. Returns the retired CID so the endpoint stops
  // routing it (the connection should then issue a replacement, §5.1.1);
  // a zero-length CID if `sequence` was already retired (a repeated frame).
  Result<ConnectionId> on_retire_connection_id(uint64_t sequence, Bytes packet_dcid);

  // Raise the Retire Prior To we send, asking the peer to retire every CID
  // below `sequence` (§5.1.2). The value reaches the peer only in
  // NEW_CONNECTION_ID frames: the newest CID at or above `sequence`, if
  // any, is announced again to carry it, and every CID issued after carries
  // it too; with none, the caller must issue one. kInvalidArgument unless retire_prior_to() < sequence <=
  // next_sequence(), and while the peer has not yet retired every CID below
  // the previous value (§5.1.2 SHOULD NOT).
  Status retire_prior_to(uint64_t sequence);

  // The CID a packet is addressed to, for routing; nullptr if it is not
  // ours (anymore).
  const LocalCid* find(Bytes dcid) const;
  std::span<const LocalCid> cids() const { return {cids_.begin(), cids_.size()}; }
  uint64_t next_sequence() const { return next_sequence_; }
  uint64_t retire_prior_to() const { return retire_prior_to_; }

  // NEW_CONNECTION_ID frames to send: the next one due, never sent or lost
  // (§13.3: a repeat carries the same sequence number). The frame's spans
  // point into this set; false when none is due.
  bool next_new_connection_id(NewConnectionIdFrame& out) const;
  void on_new_connection_id_sent(uint64_t sequence);
  // Queues the frame again unless the CID has been retired meanwhile.
  void on_new_connection_id_lost(uint64_t sequence);

 private:
  Result<uint64_t> add(const ConnectionId& cid, Bytes token, bool announce);

  BoundedVec<LocalCid, kCapacity> cids_;
  uint64_t next_sequence_ = 0;
  uint64_t sent_below_ = 0;  // one above the highest sequence number sent
  uint64_t retire_prior_to_ = 0;
  uint64_t peer_limit_ = 2;  // §18.2 default
  bool zero_length_ = false;
};

// --- Connection IDs the peer issues -----------------------------------------

struct PeerCid {
  uint64_t sequence = 0;
  ConnectionId cid;
  uint8_t reset_token[kStatelessResetTokenLen] = {};
  // A client's handshake CID has no token; a server's gets one only from
  // its stateless_reset_token transport parameter (§10.3).
  bool has_token = false;
  // We have addressed packets to it: only then may its token identify a
  // Stateless Reset (§10.3.1).
  bool used = false;

  Bytes token() const { return Bytes(reset_token, kStatelessResetTokenLen); }
};

class PeerCids {
 public:
  // §5.1.2: "SHOULD allow for sending and tracking a number of
  // RETIRE_CONNECTION_ID frames of at least twice" the limit we advertise.
  static constexpr size_t kMaxPendingRetirements = 2 * kMaxActiveCids;

  // `limit` is the active_connection_id_limit we advertise (§18.2): at least
  // 2, at most kMaxActiveCids.
  explicit PeerCids(uint64_t limit = kMaxActiveCids);
  uint64_t limit() const { return limit_; }

  // Starts over with the CID the peer put in the Source Connection ID field
  // of its first long header (sequence 0, §5.1.1); it becomes current. A
  // client first calls it with the Destination Connection ID it chose
  // itself, and again for the server's Initial or a Retry (§7.2), which
  // replace it.
  void start(const ConnectionId& cid);
  // A server's stateless_reset_token transport parameter: the token of
  // sequence 0 (§10.3, §18.2). kInvalidArgument unless 16 bytes.
  Status set_initial_reset_token(Bytes token);
  // A server's preferred_address CID, sequence 1 (§5.1.1).
  // TRANSPORT_PARAMETER_ERROR if the server uses zero-length CIDs or gave a
  // zero-length one (§18.2); otherwise as a NEW_CONNECTION_ID frame.
  Status add_preferred_address(const ConnectionId& cid, Bytes token);

  // A received NEW_CONNECTION_ID frame (§19.15, §5.1.1, §5.1.2).
  // PROTOCOL_VIOLATION if the peer uses zero-length CIDs, if the sequence
  // number is known with another CID or token, or the CID with another
  // sequence number; CONNECTION_ID_LIMIT_ERROR if more than limit() would
  // be active, or if the RETIRE_CONNECTION_ID frames this calls for exceed
  // kMaxPendingRetirements. Repeats are accepted; a Retire Prior To lower
  // than one seen before is ignored; a CID below the largest Retire Prior To
  // is retired at once. A current CID that gets retired is replaced by the
  // active one with the lowest sequence number. On error nothing changes.
  Status on_new_connection_id(const NewConnectionIdFrame& f);

  // The CID to address packets to. nullptr before start(), or in the corner
  // where the peer retired every CID we hold while the ones it issued since
  // have not arrived yet: the connection then has nothing to send with.
  const PeerCid* current() const;
  // Active CIDs we have not addressed any packet to yet.
  size_t unused_count() const;
  // Make the unused CID with the lowest sequence number current (e.g. for
  // migration, §9.5). The previous one stays active: retire() it when no
  // path uses it any more. kLimitExceeded if no CID is unused.
  Status switch_to_unused();
  // Marks the unused CID with the lowest sequence number (or exactly
  // `sequence`, when given) used without making it current: for a path
  // being probed (§9.5). Returns its sequence; kLimitExceeded if none.
  static constexpr uint64_t kAnySequence = ~uint64_t{0};
  Result<uint64_t> take_unused(uint64_t sequence = kAnySequence);
  // Makes the active CID `sequence` current (it becomes used).
  // kInvalidArgument if it is not active.
  Status make_current(uint64_t sequence);
  // The active CID with this sequence number; nullptr if none.
  const PeerCid* find(uint64_t sequence) const;
  // Stop using the CID with this sequence number and queue its
  // RETIRE_CONNECTION_ID (§5.1.2). kInvalidArgument if it is not active or
  // is the current one; kLimitExceeded when the retirement queue is full.
  Status retire(uint64_t sequence);
  std::span<const PeerCid> cids() const { return {cids_.begin(), cids_.size()}; }

  // §10.3.1: whether `datagram`, which could not be decrypted or associated
  // with the connection, ends in the token of a CID we have used and not
  // retired. Compares in constant time; never true for datagrams shorter
  // than kMinStatelessResetLen, which cannot be valid packets (§10.3).
  bool is_stateless_reset(Bytes datagram) const;

  // RETIRE_CONNECTION_ID frames to send: the next sequence number due,
  // never sent or lost; false when none is. An entry is kept until its
  // frame is acknowledged, which is what the bound counts (§5.1.2).
  bool next_retire_connection_id(uint64_t& sequence) const;
  void on_retire_connection_id_sent(uint64_t sequence);
  void on_retire_connection_id_acked(uint64_t sequence);
  void on_retire_connection_id_lost(uint64_t sequence);
  size_t pending_retirements() const { return retirements_.size(); }

 private:
  struct Retirement {
    uint64_t sequence;
    bool in_flight;
  };

  // The sequence numbers of every NEW_CONNECTION_ID received, so that a
  // late repeat of a CID we retired is not taken for a new one: all below
  // `floor` and, above it, those whose bit is set in `bits` (bit i is
  // floor + i). A gap of 64 or more sequence numbers is more than an honest
  // peer can open under our limit; the window then slides, counting the
  // oldest numbers as seen.
  struct SeenSequences {
    uint64_t floor = 0;
    uint64_t bits = 0;
    bool contains(uint64_t sequence) const;
    void add(uint64_t sequence);
  };

  void queue_retirement(uint64_t sequence);
  void select_current();

  BoundedVec<PeerCid, kMaxActiveCids> cids_;
  BoundedVec<Retirement, kMaxPendingRetirements> retirements_;
  SeenSequences seen_;
  uint64_t limit_;
  uint64_t largest_retire_prior_to_ = 0;
  uint64_t current_sequence_ = 0;
  bool has_current_ = false;
  bool zero_length_ = false;
};

// --- Stateless Reset (§10.3) --------------------------------------------------

// Writes a Stateless Reset answering a datagram of trigger_len bytes: the
// fixed bits 01, unpredictable bits from the host, then `token`. Its size is
// min(trigger_len - 1, unpredictable.size() + 16): always smaller than the
// trigger, so two endpoints cannot loop (§10.3.3) nor amplify (§10.3), and
// with at least 26 unpredictable bytes a trigger of 43 bytes or less gets
// one byte less (§10.3 SHOULD). Returns the size. kDropPacket when that
// would be under kMinStatelessResetLen (the trigger is too small to answer);
// kInvalidArgument for fewer than 5 unpredictable bytes or a token that is
// not 16 bytes; kBufferTooSmall if it does not fit in w.
Result<size_t> write_stateless_reset(Writer& w, size_t trigger_len, Bytes unpredictable, Bytes token);

}  // namespace quicbed
