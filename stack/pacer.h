// Pacing (RFC 9002 §7.7): a token bucket that releases bytes at the rate the
// congestion controller gives, allows a burst of back-to-back packets, and
// stops filling when the burst is banked, so an idle sender earns no credit
// beyond it. Integer-only: credit is kept in bytes times 10^6 so that
// rate (bytes/s) * elapsed (us) adds up exactly, with no drift over a long
// run.
#pragma once

#include <cstdint>

#include "base/fixed_point.h"

namespace quicbed {

class Pacer {
 public:
  // burst_bytes: 1 .. 2^40. The bucket starts full.
  explicit Pacer(uint64_t burst_bytes);

  // The earliest time, not before `now`, at which a packet of `bytes` may
  // leave at `rate` bytes per second. kU64Max for a rate of 0; `now` for
  // kU64Max (unpaced, e.g. no smoothed RTT). A packet larger than the burst
  // waits only for a full bucket and is paid for afterwards.
  uint64_t next_send_time(uint64_t now, uint64_t bytes, uint64_t rate) const;
  // A packet of `bytes` left at `now`. Sending before next_send_time (the
  // host woke early) leaves the bucket in debt, repaid before the next.
  void on_packet_sent(uint64_t now, uint64_t bytes, uint64_t rate);

  uint64_t burst_bytes() const { return burst_bytes_; }
  // A new burst (1 .. 2^40), e.g. the controller's send quantum
  // (draft-ietf-ccwg-bbr §5.6.3). Credit above it is dropped.
  void set_burst_bytes(uint64_t burst_bytes);
  // Whole bytes available at `now` (0 while in debt).
  uint64_t available(uint64_t now, uint64_t rate) const;

 private:
  // Credit in bytes * kScale at `now`, refilled at `rate` since the last send.
  int64_t credit_at(uint64_t now, uint64_t rate) const;

  uint64_t burst_bytes_;
  int64_t credit_;            // bytes * kScale; negative while in debt
  uint64_t last_update_ = 0;  // time credit_ was computed for
};

}  // namespace quicbed
