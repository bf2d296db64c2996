// The kernel host's Random: get_random_bytes through the boundary. One
// instance serves the whole module.
#pragma once

#include "random.h"

namespace quicbed::kmod {

Random& kernel_random();

}  // namespace quicbed::kmod
