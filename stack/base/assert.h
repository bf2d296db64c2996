// Invariant checks inside the core. The core cannot abort or throw; the host
// decides what a broken invariant means (WARN in the kernel, abort in tests).
#pragma once

#ifdef __cplusplus
extern "C" {
#endif
// Provided by every host. Part of the core's host interface: the only
// external function symbols the core may reference are quicbed_host_* and
// memcpy/memmove/memset/memcmp (checked by tests/kernel_legality).
void quicbed_host_bug(const char* file, int line, const char* expr);
#ifdef __cplusplus
}
#endif

#define QB_ASSERT(cond)                                    \
  do {                                                     \
    if (__builtin_expect(!(cond), 0)) {                    \
      quicbed_host_bug(__FILE__, __LINE__, #cond);         \
      __builtin_trap();                                    \
    }                                                      \
  } while (0)
