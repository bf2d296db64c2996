// A counting allocator for tests that can refuse every nth allocation, to
// exercise the core's kNoMemory paths and find leaks.
#pragma once

#include <cstddef>

#include "base/allocator.h"
#include "malloc_allocator.h"

namespace quicbed::test {

class FailingAllocator final : public Allocator {
 public:
  // every == 0: never fail.
  explicit FailingAllocator(unsigned every = 0) : every_(every) {}
  void* allocate(size_t size, size_t align) override {
    ++calls_;
    if (every_ && calls_ % every_ == 0) {
      ++failures_;
      return nullptr;
    }
    return inner_.allocate(size, align);
  }
  void deallocate(void* p, size_t size) override { inner_.deallocate(p, size); }
  void set_every(unsigned every) { every_ = every; }
  size_t bytes_in_use() const { return inner_.bytes_in_use(); }
  unsigned failures() const { return failures_; }

 private:
  MallocAllocator inner_;
  unsigned every_;
  unsigned calls_ = 0;
  unsigned failures_ = 0;
};

}  // namespace quicbed::test
