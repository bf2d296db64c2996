// The userspace Allocator: malloc/free, with a running byte count so tests
// and benchmarks can report memory per connection and find leaks.
#pragma once

#include <cstddef>

#include "base/allocator.h"

namespace quicbed {

class MallocAllocator final : public Allocator {
 public:
  void* allocate(size_t size, size_t align) override;
  void deallocate(void* p, size_t size) override;

  size_t bytes_in_use() const { return in_use_; }
  size_t allocations() const { return count_; }

 private:
  size_t in_use_ = 0;
  size_t count_ = 0;
};

}  // namespace quicbed
