// Datagram Packetization Layer Path MTU Discovery (DPLPMTUD, RFC 8899) for
// QUIC (RFC 9000 §14.3, §14.4): which UDP payload size ordinary packets may
// use (the PLPMTU), which size to probe next, and what acknowledged or lost
// probes and ordinary packets say about the path.
//
// The PLPMTU starts at BASE_PLPMTU, QUIC's 1200 bytes (RFC 9000 §14.1;
// RFC 8899 §5.1.4), which every QUIC path must carry. Once the handshake is
// confirmed the search (RFC 8899 §5.2 SEARCHING) probes, one probe at a
// time, sizes between the largest confirmed one and the upper bound
// min(host maximum, peer's max_udp_payload_size) (§14.3): first the bound
// itself (most paths carry it, one round trip settles it), then a binary
// search down to the byte, so the PLPMTU ends equal to the path's largest
// payload. A size is given up after MAX_PROBES lost probes (RFC 8899
// §5.1.2). Probes are PING + PADDING packets (RFC 9000 §14.4) that the
// connection builds; their loss is not a congestion signal and nothing in
// them is repeated.
//
// Black holes (RFC 8899 §4.3, §5.2 "black hole detection"): once packets
// larger than the base are in use, kBlackHoleLosses of them lost in a row,
// each sent after the newest large packet that was acknowledged (so that
// the path took smaller packets meanwhile, or nothing at all), or
// kBlackHolePtos consecutive probe timeouts, send the PLPMTU back to the
// base and the search starts over.
//
// SEARCH_COMPLETE ends with the PMTU_RAISE_TIMER (RFC 8899 §5.1.1): after
// it expires, a PLPMTU below the upper bound is searched again, in case
// the path grew.
#pragma once

#include <cstdint>

#include "base/fixed_point.h"

namespace quicbed {

class Pmtud {
 public:
  // RFC 9000 §14.1: the smallest maximum datagram size of a QUIC path.
  static constexpr uint64_t kBasePlpmtu = 1200;
  // RFC 8899 §5.1.2: MAX_PROBES.
  static constexpr uint32_t kMaxProbes = 3;
  // RFC 8899 §5.1.1: PMTU_RAISE_TIMER, 600 s.
  static constexpr uint64_t kDefaultRaiseIntervalUs = 600'000'000;
  static constexpr uint32_t kBlackHoleLosses = 3;
  static constexpr uint32_t kBlackHolePtos = 3;

  // RFC 8899 §5.2 states; ERROR (a path below the base) cannot be told
  // apart from a broken path in QUIC, whose idle timeout handles it.
  enum class State : uint8_t { kDisabled, kBase, kSearching, kSearchComplete };

  // `max`: the host's largest UDP payload, at least the base (the
  // connection checks it); a disabled search keeps the PLPMTU at `max`
  // (the host vouches for the path).
  Pmtud(bool enabled, uint64_t max, uint64_t raise_interval_us);

  State state() const { return state_; }
  // The largest UDP payload ordinary packets may use now.
  uint64_t plpmtu() const { return plpmtu_; }
  // The search's upper bound (the host's maximum until start()).
  uint64_t upper_bound() const { return bound_; }
  uint32_t black_holes() const { return black_holes_; }
  uint64_t probes_sent() const { return probes_sent_; }
  uint64_t probes_lost() const { return probes_lost_; }

  // The handshake is confirmed (probes are 1-RTT packets) and the peer's
  // max_udp_payload_size is known (§14.3: no datagram above it).
  void start(uint64_t peer_max_udp_payload, uint64_t now);

  // The size of the probe to send now, 0 for none (one probe at a time).
  uint64_t probe_size() const;
  void on_probe_sent(uint64_t size);
  void on_probe_acked(uint64_t size, uint64_t now);
  void on_probe_lost(uint64_t size, uint64_t now);

  // Ordinary packets, for black hole detection.
  void on_packet_acked(uint64_t size, uint64_t time_sent);
  void on_packet_lost(uint64_t size, uint64_t time_sent, uint64_t now);
  // The probe timeout expired for the `pto_count`-th time in a row.
  void on_pto(uint32_t pto_count, uint64_t now);

  // The PMTU_RAISE_TIMER; kU64Max when not armed.
  uint64_t next_timeout() const { return raise_at_; }
  void on_timeout(uint64_t now);
  // The connection moved to a path with another pair of IP addresses: the
  // estimate, which is per pair (RFC 9000 §14.2), starts over from
  // BASE_PLPMTU with a new search. Nothing before start().
  void restart(uint64_t now);

 private:
  // Picks the next size to probe, or ends the search.
  void next_candidate(uint64_t now);
  void black_hole(uint64_t now);

  State state_;
  uint64_t host_max_;
  uint64_t raise_interval_us_;
  uint64_t bound_;
  uint64_t plpmtu_;
  // The search interval: lo_ is confirmed, hi_ is known (or assumed, at
  // bound_ + 1) not to work; candidate_ is the size being probed.
  uint64_t lo_ = kBasePlpmtu;
  uint64_t hi_ = kBasePlpmtu + 1;
  uint64_t candidate_ = 0;
  uint32_t candidate_losses_ = 0;
  uint64_t in_flight_ = 0;  // size of the probe in flight, 0 if none
  uint64_t raise_at_ = kU64Max;
  // Black hole detection: when the current PLPMTU was adopted, the send
  // time of the newest large packet acknowledged, and large losses since.
  uint64_t plpmtu_since_ = 0;
  uint64_t large_acked_sent_ = 0;
  uint32_t large_losses_ = 0;
  uint32_t black_holes_ = 0;
  uint64_t probes_sent_ = 0;
  uint64_t probes_lost_ = 0;
};

}  // namespace quicbed
