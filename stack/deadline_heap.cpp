#include "deadline_heap.h"

namespace quicbed {

DeadlineHeap::~DeadlineHeap() {
  for (size_t i = 0; i < size_; ++i) nodes_[i]->heap_index = DeadlineNode::kNotQueued;
  if (nodes_) alloc_.deallocate(nodes_, sizeof(DeadlineNode*) * capacity_);
}

Status DeadlineHeap::init(size_t capacity) {
  if (nodes_ || capacity == 0 || capacity > ~size_t{0} / sizeof(DeadlineNode*))
    return Status(ErrorCode::kInvalidArgument, "deadline heap capacity");
  void* p = alloc_.allocate(sizeof(DeadlineNode*) * capacity, alignof(DeadlineNode*));
  if (!p) return Status(ErrorCode::kNoMemory, "deadline heap");
  nodes_ = static_cast<DeadlineNode**>(p);
  capacity_ = capacity;
  return Status::ok();
}

void DeadlineHeap::set(DeadlineNode& n, uint64_t deadline) {
  if (!n.queued()) {
    n.deadline = deadline;
    if (deadline == kNever) return;
    QB_ASSERT(size_ < capacity_);
    place(size_, &n);
    ++size_;
    sift_up(n.heap_index);
    return;
  }
  QB_ASSERT(n.heap_index < size_ && nodes_[n.heap_index] == &n);
  if (deadline == kNever) {
    // The last node fills the hole, then finds its place from there.
    const size_t i = n.heap_index;
    --size_;
    n.heap_index = DeadlineNode::kNotQueued;
    n.deadline = kNever;
    if (i == size_) return;
    DeadlineNode* moved = nodes_[size_];
    place(i, moved);
    sift_up(i);
    sift_down(moved->heap_index);
    return;
  }
  const uint64_t old = n.deadline;
  n.deadline = deadline;
  if (deadline < old) {
    sift_up(n.heap_index);
  } else if (deadline > old) {
    sift_down(n.heap_index);
  }
}

void DeadlineHeap::sift_up(size_t i) {
  DeadlineNode* n = nodes_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (nodes_[parent]->deadline <= n->deadline) break;
    place(i, nodes_[parent]);
    i = parent;
  }
  place(i, n);
}

void DeadlineHeap::sift_down(size_t i) {
  DeadlineNode* n = nodes_[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= size_) break;
    if (child + 1 < size_ && nodes_[child + 1]->deadline < nodes_[child]->deadline) ++child;
    if (n->deadline <= nodes_[child]->deadline) break;
    place(i, nodes_[child]);
    i = child;
  }
  place(i, n);
}

}  // namespace quicbed
