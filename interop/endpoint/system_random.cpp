#include "system_random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace quicbed {

void SystemRandom::fill(MutBytes out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Connection IDs and reset tokens must not be guessable: no fallback.
      std::perror("quicbed: getrandom");
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace quicbed
