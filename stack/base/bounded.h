// Fixed-capacity containers with inline storage. Capacity is a compile-time
// bound; a full container refuses (returns false) instead of growing, and
// the caller maps that to the RFC's error or to back-pressure.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "base/assert.h"

namespace quicbed {

template <typename T, size_t N>
class BoundedVec {
  static_assert(N > 0);

 public:
  BoundedVec() = default;
  BoundedVec(const BoundedVec& o) {
    for (size_t i = 0; i < o.size_; ++i) new (slot(i)) T(o[i]);
    size_ = o.size_;
  }
  BoundedVec& operator=(const BoundedVec& o) {
    if (this != &o) {
      clear();
      for (size_t i = 0; i < o.size_; ++i) new (slot(i)) T(o[i]);
      size_ = o.size_;
    }
    return *this;
  }
  ~BoundedVec() { clear(); }

  static constexpr size_t capacity() { return N; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == N; }

  [[nodiscard]] bool push_back(const T& v) {
    if (full()) return false;
    new (slot(size_)) T(v);
    ++size_;
    return true;
  }
  // Insert at index i (0..size), shifting the tail up.
  [[nodiscard]] bool insert(size_t i, const T& v) {
    QB_ASSERT(i <= size_);
    if (full()) return false;
    if (i == size_) return push_back(v);
    new (slot(size_)) T(std::move((*this)[size_ - 1]));
    for (size_t j = size_ - 1; j > i; --j) (*this)[j] = std::move((*this)[j - 1]);
    (*this)[i] = v;
    ++size_;
    return true;
  }
  void erase(size_t i) {
    QB_ASSERT(i < size_);
    for (size_t j = i; j + 1 < size_; ++j) (*this)[j] = std::move((*this)[j + 1]);
    pop_back();
  }
  void pop_back() {
    QB_ASSERT(size_ > 0);
    --size_;
    live(size_)->~T();
  }
  void clear() {
    while (size_) pop_back();
  }

  T& operator[](size_t i) {
    QB_ASSERT(i < size_);
    return *live(i);
  }
  const T& operator[](size_t i) const {
    QB_ASSERT(i < size_);
    return *live(i);
  }
  T& back() { return (*this)[size_ - 1]; }
  const T& back() const { return (*this)[size_ - 1]; }
  T* begin() { return slot(0); }
  T* end() { return slot(size_); }
  const T* begin() const { return slot(0); }
  const T* end() const { return slot(size_); }

 private:
  // Raw slot address: also used for not-yet-constructed slots (placement
  // new, end()), so no std::launder here; live() is for existing elements.
  T* slot(size_t i) { return reinterpret_cast<T*>(storage_) + i; }
  const T* slot(size_t i) const { return reinterpret_cast<const T*>(storage_) + i; }
  T* live(size_t i) { return std::launder(slot(i)); }
  const T* live(size_t i) const { return std::launder(slot(i)); }

  alignas(T) unsigned char storage_[sizeof(T) * N];
  size_t size_ = 0;
};

}  // namespace quicbed
