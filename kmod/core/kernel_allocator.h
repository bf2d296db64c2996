// The kernel host's Allocator: kmalloc (vmalloc for large blocks) through
// the boundary. One instance serves the whole module.
#pragma once

#include "base/allocator.h"

namespace quicbed::kmod {

class KernelAllocator final : public Allocator {
 public:
  void* allocate(size_t size, size_t align) override;
  void deallocate(void* p, size_t size) override;
};

// The module's one instance, constant-initialised (the kernel runs no C++
// constructors).
extern KernelAllocator g_kernel_allocator;
inline Allocator& kernel_allocator() { return g_kernel_allocator; }

}  // namespace quicbed::kmod
