// The host's source of unpredictable bytes. The core has no RNG of its own
// (the kernel has get_random_bytes, ns-3 its RNG streams for reproducible
// runs, userspace getrandom): connection IDs (RFC 9000 §5.1), stateless
// reset tokens (§10.3) and PATH_CHALLENGE data (§8.2) come from here.
#pragma once

#include "base/bytes.h"

namespace quicbed {

class Random {
 public:
  // Fill `out` with bytes an off-path attacker cannot predict.
  virtual void fill(MutBytes out) = 0;

 protected:
  ~Random() = default;
};

}  // namespace quicbed
