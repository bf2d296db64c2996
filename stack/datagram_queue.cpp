#include "datagram_queue.h"

namespace quicbed {

DatagramQueue::DatagramQueue(Allocator& alloc, size_t max_count, uint64_t max_bytes)
    : alloc_(alloc),
      max_count_(max_count < 1 ? 1 : max_count > kMaxCount ? kMaxCount : max_count),
      max_bytes_(max_bytes) {}

DatagramQueue::~DatagramQueue() { clear(); }

Status DatagramQueue::push(Bytes data) {
  if (items_.size() >= max_count_ || data.size() > max_bytes_ - bytes_) {
    return Status(ErrorCode::kLimitExceeded, "datagram queue full");
  }
  Item it{nullptr, data.size()};
  if (!data.empty()) {
    it.data = static_cast<uint8_t*>(alloc_.allocate(data.size(), 1));
    if (!it.data) return ErrorCode::kNoMemory;
    copy_bytes(it.data, data.data(), data.size());
  }
  const bool pushed = items_.push_back(it);
  QB_ASSERT(pushed);  // max_count_ <= kMaxCount
  bytes_ += data.size();
  return Status::ok();
}

Bytes DatagramQueue::front() const {
  QB_ASSERT(!items_.empty());
  return Bytes(items_[0].data, items_[0].len);
}

void DatagramQueue::pop() {
  QB_ASSERT(!items_.empty());
  const Item it = items_[0];
  if (it.data) alloc_.deallocate(it.data, it.len);
  bytes_ -= it.len;
  items_.erase(0);
}

void DatagramQueue::clear() {
  while (!items_.empty()) pop();
}

}  // namespace quicbed
