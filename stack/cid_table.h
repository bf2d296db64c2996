// The endpoint's routing table: connection ID (RFC 9000 §5.1, up to 20
// bytes) -> the connection it belongs to (§5.2). Open addressing with
// linear probing in one array from the host allocator, sized once; deletion
// shifts the rest of the cluster back, so there are no tombstones and probe
// sequences stay as short as the load allows. The load is bounded at 3/4 of
// the slots (an insert beyond is kLimitExceeded, never growth), which keeps
// an expected miss under nine probes.
//
// Slots are chosen by SipHash-2-4 under a host secret: peers pick the
// connection IDs of their Initials (§7.2) and could otherwise pile them
// into one cluster and make every lookup a scan.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/status.h"
#include "cid.h"
#include "siphash.h"

namespace quicbed {

template <typename T>
class CidTable {
 public:
  // The most slots init() accepts (the slot array stays far below 2^63 bytes
  // and the count fits the hash bits used).
  static constexpr size_t kMaxCapacity = size_t{1} << 30;

  explicit CidTable(Allocator& alloc) : alloc_(alloc) {}
  ~CidTable() { release(); }
  CidTable(const CidTable&) = delete;
  CidTable& operator=(const CidTable&) = delete;

  // Allocates `capacity` slots (a power of two, 4..kMaxCapacity), all
  // empty, hashed under `key`. kInvalidArgument for another capacity or a
  // second init, kNoMemory if the allocator refuses.
  Status init(size_t capacity, const SipKey& key) {
    if (slots_ || capacity < 4 || capacity > kMaxCapacity || (capacity & (capacity - 1)) != 0)
      return Status(ErrorCode::kInvalidArgument, "CID table capacity");
    void* p = alloc_.allocate(sizeof(Slot) * capacity, alignof(Slot));
    if (!p) return Status(ErrorCode::kNoMemory, "CID table");
    slots_ = static_cast<Slot*>(p);
    for (size_t i = 0; i < capacity; ++i) new (&slots_[i]) Slot();
    mask_ = capacity - 1;
    key_ = key;
    return Status::ok();
  }

  size_t capacity() const { return slots_ ? mask_ + 1 : 0; }
  size_t size() const { return size_; }
  // The load bound: 3/4 of the slots.
  size_t max_size() const { return capacity() / 4 * 3; }

  // The value routed by `cid`; nullptr if none.
  T* find(Bytes cid) const {
    if (!slots_) return nullptr;
    for (size_t i = home(cid);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.value) return nullptr;  // the load bound leaves an empty slot to stop at
      if (bytes_equal(s.cid.view(), cid)) return s.value;
    }
  }

  // kInvalidArgument for an empty or over-long CID, a CID already present
  // or a null value; kLimitExceeded at max_size().
  Status insert(Bytes cid, T* value) {
    if (cid.empty() || cid.size() > kMaxCidLen || !value) return Status(ErrorCode::kInvalidArgument, "CID");
    if (size_ >= max_size()) return Status(ErrorCode::kLimitExceeded, "CID table full");
    size_t i = home(cid);
    for (; slots_[i].value; i = (i + 1) & mask_) {
      if (bytes_equal(slots_[i].cid.view(), cid)) return Status(ErrorCode::kInvalidArgument, "CID already routed");
    }
    (void)slots_[i].cid.assign(cid);
    slots_[i].value = value;
    ++size_;
    return Status::ok();
  }

  // False if `cid` was not in the table.
  bool remove(Bytes cid) {
    if (!slots_) return false;
    size_t hole = home(cid);
    for (;; hole = (hole + 1) & mask_) {
      if (!slots_[hole].value) return false;
      if (bytes_equal(slots_[hole].cid.view(), cid)) break;
    }
    // Backward shift: each later entry of the cluster whose home is not in
    // (hole, j] cyclically may move into the hole, which moves on to j.
    for (size_t j = (hole + 1) & mask_; slots_[j].value; j = (j + 1) & mask_) {
      const size_t k = home(slots_[j].cid.view());
      const bool k_in_range = hole < j ? (hole < k && k <= j) : (hole < k || k <= j);
      if (k_in_range) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = Slot();
    --size_;
    return true;
  }

  // The slot `cid` would hash to, for tests of the keyed spread.
  size_t home(Bytes cid) const { return static_cast<size_t>(siphash24(key_, cid)) & mask_; }

 private:
  struct Slot {
    T* value = nullptr;  // nullptr: empty
    ConnectionId cid;
  };

  void release() {
    if (!slots_) return;
    alloc_.deallocate(slots_, sizeof(Slot) * capacity());
    slots_ = nullptr;
  }

  Allocator& alloc_;
  Slot* slots_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
  SipKey key_;
};

}  // namespace quicbed
