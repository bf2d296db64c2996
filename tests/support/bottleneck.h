// A FIFO bottleneck link for the connection-pair fixtures: datagrams are
// serialised at a fixed rate behind those still queued, and a datagram
// that would find more than `queue_limit_bytes` queued ahead of it is
// dropped (tail drop; 0 = unbounded). Plugs into ConnPairTest's Filter as
// the extra delay of each datagram.
#pragma once

#include <cstdint>

#include "conn_pair.h"

namespace quicbed::test {

class Bottleneck {
 public:
  Bottleneck(uint64_t bytes_per_s, uint64_t queue_limit_bytes = 0)
      : rate_(bytes_per_s), limit_(queue_limit_bytes) {}

  // The fate of a datagram of `bytes` entering the link at `now`.
  Verdict pass(uint64_t bytes, uint64_t now) {
    const uint64_t start = free_at_ > now ? free_at_ : now;
    const uint64_t queued = (start - now) * rate_ / 1'000'000;
    if (limit_ != 0 && queued + bytes > limit_) {
      ++drops_;
      return Verdict{Verdict::Fate::kDrop, 0};
    }
    // Serialisation in whole microseconds, rounded up.
    free_at_ = start + (bytes * 1'000'000 + rate_ - 1) / rate_;
    max_queued_ = queued > max_queued_ ? queued : max_queued_;
    return Verdict{Verdict::Fate::kDeliver, free_at_ - now};
  }

  uint64_t drops() const { return drops_; }
  uint64_t max_queued() const { return max_queued_; }

 private:
  uint64_t rate_;
  uint64_t limit_;
  uint64_t free_at_ = 0;
  uint64_t drops_ = 0;
  uint64_t max_queued_ = 0;
};

}  // namespace quicbed::test
