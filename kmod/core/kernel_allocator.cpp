#include "kernel_allocator.h"

#include "../boundary.h"

namespace quicbed::kmod {

void* KernelAllocator::allocate(size_t size, size_t align) { return qbk_alloc(size, align); }

void KernelAllocator::deallocate(void* p, size_t size) { qbk_free(p, size); }

constinit KernelAllocator g_kernel_allocator;

}  // namespace quicbed::kmod
