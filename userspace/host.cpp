// Host hooks of the core for userspace processes.
#include <cstdio>
#include <cstdlib>

#include "base/assert.h"

extern "C" void quicbed_host_bug(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "quicbed: invariant broken at %s:%d: %s\n", file, line, expr);
  std::abort();
}
