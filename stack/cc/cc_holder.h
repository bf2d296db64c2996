// One congestion controller of a chosen algorithm, held in place: the
// connection owns a CcHolder by value and never asks the allocator for its
// controller. The controllers are trivially destructible (the interface
// has no virtual destructor, see base/allocator.h), so nothing runs when
// the holder goes away.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cc/bbr.h"
#include "cc/congestion_controller.h"
#include "cc/cubic.h"
#include "cc/newreno.h"
#include "cc/window.h"

namespace quicbed {

class CcHolder {
 public:
  // max_datagram_size: 1..kMaxCcDatagramSize; initial_window_packets:
  // kMinInitialWindowPackets..kMaxInitialWindowPackets (RFC 9002 §7.2).
  CcHolder(CcAlgorithm algorithm, uint64_t max_datagram_size,
           uint64_t initial_window_packets = kDefaultInitialWindowPackets);
  // The controller lives inside the holder, so the holder stays put.
  CcHolder(const CcHolder&) = delete;
  CcHolder& operator=(const CcHolder&) = delete;

  CcAlgorithm algorithm() const { return algorithm_; }
  CongestionController& get() { return *cc_; }
  const CongestionController& get() const { return *cc_; }
  CongestionController* operator->() { return cc_; }
  const CongestionController* operator->() const { return cc_; }
  // A fresh controller of the same algorithm, in the same place (RFC 9000
  // §9.4: a new path starts from the initial window).
  void reset(uint64_t max_datagram_size);
  // Becomes a copy of `o`'s controller, state and all; `o` runs the same
  // algorithm (the connection keeps a path's controller to return to it).
  void copy_from(const CcHolder& o);
  // The CUBIC controller for its own options, or nullptr.
  Cubic* cubic();
  // The BBR controller for its model, or nullptr.
  const Bbr* bbr() const;

 private:
  static constexpr size_t kSize = max_u64(max_u64(sizeof(Cubic), sizeof(NewReno)), sizeof(Bbr));
  static constexpr size_t kAlign = max_u64(max_u64(alignof(Cubic), alignof(NewReno)), alignof(Bbr));

  alignas(kAlign) unsigned char storage_[kSize];
  CcAlgorithm algorithm_;
  uint64_t initial_window_packets_;
  CongestionController* cc_;
};

}  // namespace quicbed
