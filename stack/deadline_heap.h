// Timer deadlines of many connections: an indexed binary min-heap. Each
// element embeds a DeadlineNode that remembers its position, so a changed
// deadline moves the node in O(log n) and the earliest is read in O(1);
// an endpoint with 10,000 connections never scans them for the next timer.
// The array of node pointers comes from the host allocator, its capacity
// fixed at init().
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/status.h"

namespace quicbed {

struct DeadlineNode {
  static constexpr size_t kNotQueued = ~size_t{0};
  uint64_t deadline = ~uint64_t{0};
  size_t heap_index = kNotQueued;
  bool queued() const { return heap_index != kNotQueued; }
};

class DeadlineHeap {
 public:
  static constexpr uint64_t kNever = ~uint64_t{0};

  explicit DeadlineHeap(Allocator& alloc) : alloc_(alloc) {}
  ~DeadlineHeap();
  DeadlineHeap(const DeadlineHeap&) = delete;
  DeadlineHeap& operator=(const DeadlineHeap&) = delete;

  // Room for `capacity` nodes. kInvalidArgument for 0 or a second init,
  // kNoMemory if the allocator refuses.
  Status init(size_t capacity);

  // Sets the node's deadline: queues it, moves it, or (kNever) takes it
  // out. A node must not be queued in two heaps; the capacity must allow a
  // new one (QB_ASSERT).
  void set(DeadlineNode& n, uint64_t deadline);
  void remove(DeadlineNode& n) { set(n, kNever); }

  // The node with the earliest deadline; nullptr when none is queued.
  DeadlineNode* top() const { return size_ ? nodes_[0] : nullptr; }
  uint64_t earliest() const { return size_ ? nodes_[0]->deadline : kNever; }
  size_t size() const { return size_; }

 private:
  void place(size_t i, DeadlineNode* n) {
    nodes_[i] = n;
    n->heap_index = i;
  }
  void sift_up(size_t i);
  void sift_down(size_t i);

  Allocator& alloc_;
  DeadlineNode** nodes_ = nullptr;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace quicbed
