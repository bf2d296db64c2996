#include "malloc_allocator.h"

#include <cstdlib>

namespace quicbed {

void* MallocAllocator::allocate(size_t size, size_t align) {
  if (size == 0) size = 1;
  size_t rounded = (size + align - 1) / align * align;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(size) : std::aligned_alloc(align, rounded);
  if (p) {
    in_use_ += size;
    ++count_;
  }
  return p;
}

void MallocAllocator::deallocate(void* p, size_t size) {
  if (!p) return;
  in_use_ -= size ? size : 1;
  std::free(p);
}

}  // namespace quicbed
