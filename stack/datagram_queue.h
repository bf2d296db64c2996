// Outgoing DATAGRAM frame payloads (RFC 9221) waiting for a packet: a FIFO
// bounded in count and in bytes, each payload copied into memory from the
// host Allocator and freed once written into a packet. DATAGRAM frames are
// never retransmitted (RFC 9221 §5.2), so nothing is kept after that: a
// lost datagram is gone, as the application expects.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bounded.h"
#include "base/bytes.h"
#include "base/status.h"

namespace quicbed {

class DatagramQueue {
 public:
  // The compile-time bound on queued datagrams; a queue's own limit is at
  // most this.
  static constexpr size_t kMaxCount = 32;

  // max_count: 1..kMaxCount (clamped); max_bytes: payload bytes queued at once.
  DatagramQueue(Allocator& alloc, size_t max_count, uint64_t max_bytes);
  ~DatagramQueue();
  DatagramQueue(const DatagramQueue&) = delete;
  DatagramQueue& operator=(const DatagramQueue&) = delete;

  // Copies `data` to the back. kLimitExceeded when the count or byte bound
  // would be crossed (back-pressure: nothing is dropped to make room),
  // kNoMemory when the allocator refuses. An empty payload is fine (§4).
  Status push(Bytes data);
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  uint64_t bytes() const { return bytes_; }
  // The oldest payload; valid until pop() or clear(). Not on an empty queue.
  Bytes front() const;
  void pop();
  void clear();

 private:
  struct Item {
    uint8_t* data;
    size_t len;
  };

  Allocator& alloc_;
  size_t max_count_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  BoundedVec<Item, kMaxCount> items_;
};

}  // namespace quicbed
