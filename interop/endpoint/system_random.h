// The Random of the userspace endpoint: the kernel's CSPRNG (getrandom).
#pragma once

#include "random.h"

namespace quicbed {

class SystemRandom final : public Random {
 public:
  void fill(MutBytes out) override;
};

}  // namespace quicbed
