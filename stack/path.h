// Network paths of a connection (RFC 9000 §8.2 path validation, §9
// connection migration): the addresses a datagram came in on or goes out
// on, as the host writes them down, and what a connection knows of each
// path it uses or probes: whether it is validated, the bytes it may still
// send there before validation (§8, §9.3: three times what it received),
// the PATH_CHALLENGE data it awaits an answer for and the PATH_RESPONSE it
// owes. The connection decides what a path change means (conn_migration.cpp);
// this file only keeps the books.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "cid.h"
#include "frame.h"
#include "random.h"

namespace quicbed {

// Room for any socket address a host uses (a sockaddr_in6 is 28 bytes).
inline constexpr size_t kMaxPathAddressLen = 32;

// An address as the host writes it down; the core only copies and compares.
// A host that can tell its port apart (e.g. bytes 2..3 of a sockaddr) says
// where it is, so that a change of port alone (a NAT rebinding, §9.4) is
// recognized as such.
struct PathAddress {
  uint8_t len = 0;
  uint8_t bytes[kMaxPathAddressLen] = {};
  uint8_t port_at = 0;   // offset of the port in `bytes`
  uint8_t port_len = 0;  // 0: the host did not say

  Bytes view() const { return Bytes(bytes, len); }
  // False (and unchanged) if `b` is longer than kMaxPathAddressLen.
  [[nodiscard]] bool assign(Bytes b);
  bool operator==(const PathAddress& o) const { return bytes_equal(view(), o.view()); }
  // Equal but for the port (both must say where it is; else plain equality).
  bool same_host(const PathAddress& o) const;
};

// A network path: our address a datagram came in on (or goes out from) and
// the peer's.
struct Path {
  PathAddress local;
  PathAddress peer;
  bool operator==(const Path& o) const { return local == o.local && peer == o.peer; }
};

// What a connection knows about one path.
struct PathInfo {
  // The most PATH_CHALLENGE data values still answered: a challenge sent
  // again gets new data (§8.2.1), and a late answer to an earlier one
  // still counts (§8.2.2 allows any PATH_RESPONSE matching one we sent).
  static constexpr size_t kMaxChallenges = 3;

  Path path;
  bool validated = false;
  // §8: bytes received from and sent to this path's peer address, for the
  // amplification limit before validation.
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  // The peer addressed us on this path with a connection ID other than the
  // one of the path we were using (§9.5): we answer with a new one too.
  bool peer_changed_cid = false;
  ConnectionId peer_dcid;  // the last of our CIDs the peer addressed here
  // The sequence number of the peer's CID we address packets on this path
  // to; has_cid false: the connection's current one.
  bool has_cid = false;
  uint64_t cid_sequence = 0;

  // ---- Validation (§8.2): running while validating.
  bool validating = false;
  uint64_t validation_deadline = 0;  // §8.2.4: abandoned then
  uint64_t next_challenge = 0;       // when a PATH_CHALLENGE is (re)sent
  uint32_t challenges_sent = 0;
  uint8_t challenges[kMaxChallenges][kPathDataLen] = {};
  size_t challenge_count = 0;  // valid entries, newest last

  // ---- The PATH_RESPONSEs we owe on this path (§8.2.2: one for each
  // PATH_CHALLENGE, several of which may come in one packet); the newest
  // kMaxResponses when more come before any can be sent.
  static constexpr size_t kMaxResponses = 4;
  uint8_t responses[kMaxResponses][kPathDataLen] = {};
  size_t response_count = 0;
  bool response_pending() const { return response_count != 0; }
  void owe_response(const uint8_t* data);

  // What may still be sent before validation (§8, §9.3); no limit after.
  uint64_t send_budget(uint64_t factor) const;
  bool challenge_due(uint64_t now) const { return validating && now >= next_challenge; }
};

// The paths of a connection: the active one, on which everything is sent,
// and a few more being probed or kept to fall back to (§9.3.2).
class Paths {
 public:
  // The active path, a path being validated, and the last validated one.
  static constexpr size_t kMaxPaths = 4;
  static constexpr size_t kNone = kMaxPaths;
  // §8: three times the bytes received.
  static constexpr uint64_t kAmplificationFactor = 3;

  // Starts over with `p` active and validated (the handshake validates the
  // first path, RFC 9000 §8.1).
  void start(const Path& p);

  size_t size() const { return count_; }
  PathInfo& operator[](size_t i) { return paths_[i]; }
  const PathInfo& operator[](size_t i) const { return paths_[i]; }
  size_t active_index() const { return active_; }
  PathInfo& active() { return paths_[active_]; }
  const PathInfo& active() const { return paths_[active_]; }
  // The entry of `p`; kNone if unknown.
  size_t find(const Path& p) const;
  // A new, unvalidated entry for `p`. When full, the oldest entry that is
  // neither active nor `keep` makes room.
  size_t add(const Path& p, size_t keep = kNone);
  // Forgets entry `i` (not the active one); indices above it shift down.
  void remove(size_t i);
  // Makes `i` active; returns the index the previous active path has now.
  void set_active(size_t i) { active_ = i; }

  // §8.2.1: starts (or restarts) validating path `i`, abandoned at
  // `deadline`; the first PATH_CHALLENGE is due at once.
  void start_validation(size_t i, uint64_t now, uint64_t deadline);
  // Data for the next PATH_CHALLENGE on path `i` (unpredictable, §8.2.1),
  // remembered; the next one is due `retry` later.
  void take_challenge(size_t i, Random& random, uint64_t now, uint64_t retry, uint8_t* out);
  // A PATH_RESPONSE's data: the path whose challenge it answers, now
  // validated; kNone if it answers none (§8.2.2: ignored).
  size_t on_response(const uint8_t* data);
  // The earliest moment a challenge is due or a validation gives up after
  // `now`; kNever if none.
  uint64_t next_timeout(uint64_t now) const;
  // A path whose validation has timed out at `now` (§8.2.4), its
  // validation stopped; kNone if none.
  size_t take_expired(uint64_t now);

 private:
  PathInfo paths_[kMaxPaths];
  size_t count_ = 0;
  size_t active_ = 0;
};

}  // namespace quicbed
