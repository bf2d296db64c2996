#include "finished_probe.h"

namespace quicbed::kmod {

namespace {
constexpr uint8_t kFinished = 20;  // RFC 8446 §4 HandshakeType
}  // namespace

void FinishedProbe::feed(Bytes data) {
  size_t i = 0;
  while (i < data.size()) {
    if (got_ < 4) {
      if (got_ == 0) {
        type_ = data[i];
        left_ = 0;
      } else {
        left_ = left_ << 8 | data[i];
      }
      ++got_;
      ++i;
    } else {
      const size_t n = data.size() - i < left_ ? data.size() - i : left_;
      left_ -= static_cast<uint32_t>(n);
      i += n;
    }
    if (got_ == 4 && left_ == 0) {
      if (type_ == kFinished) finished_ = true;
      got_ = 0;
    }
  }
}

}  // namespace quicbed::kmod
