#include "cc/cc_holder.h"

#include <new>
#include <type_traits>

#include "base/assert.h"

namespace quicbed {

static_assert(std::is_trivially_destructible_v<NewReno> && std::is_trivially_destructible_v<Cubic> &&
                  std::is_trivially_destructible_v<Bbr>,
              "CcHolder never runs a controller's destructor");

CcHolder::CcHolder(CcAlgorithm algorithm, uint64_t max_datagram_size, uint64_t initial_window_packets)
    : algorithm_(algorithm), initial_window_packets_(initial_window_packets) {
  reset(max_datagram_size);
}

void CcHolder::reset(uint64_t max_datagram_size) {
  switch (algorithm_) {
    case CcAlgorithm::kCubic:
      cc_ = new (storage_) Cubic(max_datagram_size, initial_window_packets_);
      return;
    case CcAlgorithm::kBbr:
      cc_ = new (storage_) Bbr(max_datagram_size, initial_window_packets_);
      return;
    case CcAlgorithm::kNewReno:
      break;
  }
  cc_ = new (storage_) NewReno(max_datagram_size, initial_window_packets_);
}

void CcHolder::copy_from(const CcHolder& o) {
  QB_ASSERT(o.algorithm_ == algorithm_);
  switch (algorithm_) {
    case CcAlgorithm::kCubic:
      cc_ = new (storage_) Cubic(*static_cast<const Cubic*>(o.cc_));
      return;
    case CcAlgorithm::kBbr:
      cc_ = new (storage_) Bbr(*static_cast<const Bbr*>(o.cc_));
      return;
    case CcAlgorithm::kNewReno:
      break;
  }
  cc_ = new (storage_) NewReno(*static_cast<const NewReno*>(o.cc_));
}

Cubic* CcHolder::cubic() {
  return algorithm_ == CcAlgorithm::kCubic ? static_cast<Cubic*>(cc_) : nullptr;
}

const Bbr* CcHolder::bbr() const {
  return algorithm_ == CcAlgorithm::kBbr ? static_cast<const Bbr*>(cc_) : nullptr;
}

}  // namespace quicbed
