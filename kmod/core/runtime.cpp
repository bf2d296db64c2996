// The C++ runtime quic.ko must supply itself: the kernel has no libstdc++
// or libsupc++. The core allocates only through its Allocator, but virtual
// destructors and placement forms may still reference these symbols.
#include <cstddef>
#include <new>

#include "../boundary.h"
#include "base/assert.h"

extern "C" void __cxa_pure_virtual();

namespace std {
// The object behind `new (std::nothrow)`, normally in libstdc++.
const nothrow_t nothrow{};
}  // namespace std

// There are no exceptions: operator new returns nullptr on failure (the
// module is compiled with -fcheck-new, so callers test the result).
void* operator new(size_t n) { return qbk_alloc(n, __STDCPP_DEFAULT_NEW_ALIGNMENT__); }
void* operator new[](size_t n) { return qbk_alloc(n, __STDCPP_DEFAULT_NEW_ALIGNMENT__); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return qbk_alloc(n, __STDCPP_DEFAULT_NEW_ALIGNMENT__); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return qbk_alloc(n, __STDCPP_DEFAULT_NEW_ALIGNMENT__);
}
void operator delete(void* p) noexcept { qbk_free(p, 0); }
void operator delete[](void* p) noexcept { qbk_free(p, 0); }
void operator delete(void* p, size_t n) noexcept { qbk_free(p, n); }
void operator delete[](void* p, size_t n) noexcept { qbk_free(p, n); }

extern "C" void __cxa_pure_virtual() {
  qbk_bug(__FILE__, __LINE__, "pure virtual function called");
  // Not declared noreturn (objtool would see a call falling off the end).
  __builtin_trap();
}

// The core's invariant hook (stack/base/assert.h): WARN, then the caller traps.
extern "C" void quicbed_host_bug(const char* file, int line, const char* expr) { qbk_bug(file, line, expr); }
