// The fuzz targets' Random: deterministic, so that every input reproduces.
#pragma once

#include <cstdint>

#include "random.h"

namespace quicbed::fuzz {

class CountingRandom final : public Random {
 public:
  void fill(MutBytes out) override {
    for (uint8_t& b : out) {
      ++n_;
      b = static_cast<uint8_t>(n_ * 0x9d + (n_ >> 8));
    }
  }

 private:
  uint64_t n_ = 0;
};

}  // namespace quicbed::fuzz
