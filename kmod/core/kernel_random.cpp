#include "kernel_random.h"

#include "../boundary.h"

namespace quicbed::kmod {

namespace {

class KernelRandom final : public Random {
 public:
  void fill(MutBytes out) override { qbk_random(out.data(), out.size()); }
};

// Constant-initialised: the kernel runs no C++ constructors.
constinit KernelRandom g_random;

}  // namespace

Random& kernel_random() { return g_random; }

}  // namespace quicbed::kmod
