// The host's memory. The core never calls operator new or malloc: every
// allocation goes through an Allocator the host passes in (kmalloc in the
// kernel, malloc in userspace, a failing one in tests).
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace quicbed {

class Allocator {
 public:
  // Returns nullptr on failure; the core turns that into kNoMemory.
  virtual void* allocate(size_t size, size_t align) = 0;
  virtual void deallocate(void* p, size_t size) = 0;

 protected:
  // Not virtual: a virtual destructor would make every interface reference
  // operator delete, which the kernel build must not.
  ~Allocator() = default;
};

// Construct a T in memory from `a`; nullptr when the allocator refuses.
template <typename T, typename... Args>
T* make(Allocator& a, Args&&... args) {
  void* p = a.allocate(sizeof(T), alignof(T));
  if (!p) return nullptr;
  return new (p) T(std::forward<Args>(args)...);
}

template <typename T>
void destroy(Allocator& a, T* p) {
  if (!p) return;
  p->~T();
  a.deallocate(p, sizeof(T));
}

}  // namespace quicbed
