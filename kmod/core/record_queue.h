// A bounded FIFO of byte records in one buffer from the host Allocator:
// records go in at the tail and come out at the head, whole or in parts.
// The buffer grows (doubling) up to a fixed bound; a record that would pass
// it is refused, so a peer or a process cannot make the kernel buffer
// without limit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/status.h"

namespace quicbed::kmod {

class RecordQueue {
 public:
  // `max_bytes`: the most bytes stored at once, headers included.
  RecordQueue(Allocator& alloc, size_t max_bytes) : alloc_(alloc), max_(max_bytes) {}
  ~RecordQueue();
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;

  // Appends a record: a small fixed header (`head`, up to kMaxHead bytes)
  // and a body. kLimitExceeded beyond the bound, kNoMemory.
  static constexpr size_t kMaxHead = 16;
  Status push(Bytes head, Bytes body);

  bool empty() const { return head_ == tail_; }
  size_t bytes() const { return tail_ - head_; }

  // The record at the head: its header, and its body from the part not yet
  // taken. Only when !empty().
  struct Record {
    Bytes head;
    Bytes body;
  };
  Record front() const;
  // Copies, without taking them, the bodies of the records from the front
  // on (the front's from the part not yet taken) into `out`, concatenated,
  // as long as their header's first byte is the front's: the bytes copied
  // (at most out.size()). 0 when empty.
  size_t peek_run(MutBytes out) const;
  // Takes `n` bytes of the front record's body; the whole record goes once
  // its body is taken (a record with an empty body goes at once).
  void take(size_t n);

 private:
  // Record layout: u8 head length, u32 body length, head, body.
  static constexpr size_t kPrefix = 5;
  Status reserve(size_t extra);
  size_t body_len_at(size_t pos) const;

  Allocator& alloc_;
  const size_t max_;
  uint8_t* buf_ = nullptr;
  size_t cap_ = 0;
  size_t head_ = 0;       // offset of the front record
  size_t head_taken_ = 0;  // bytes of its body already taken
  size_t tail_ = 0;
};

}  // namespace quicbed::kmod
