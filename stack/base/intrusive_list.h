// Doubly linked intrusive list (no allocation: the hook lives in the
// element). An element joins several lists by deriving from one ListHook per
// list, each with its own tag type:
//   struct Sent : ListHook<InFlight>, ListHook<Lost> { ... };
//   IntrusiveList<Sent, InFlight> in_flight;
#pragma once

#include <cstddef>

#include "base/assert.h"

namespace quicbed {

struct DefaultListTag {};

template <typename Tag = DefaultListTag>
struct ListHook {
  ListHook* prev = nullptr;
  ListHook* next = nullptr;
  bool linked() const { return next != nullptr; }
};

template <typename T, typename Tag = DefaultListTag>
class IntrusiveList {
  using Hook = ListHook<Tag>;

 public:
  IntrusiveList() { head_.prev = head_.next = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_.next == &head_; }
  size_t size() const { return size_; }
  static bool linked(const T* e) { return static_cast<const Hook*>(e)->linked(); }

  void push_back(T* e) { link_before(&head_, e); }
  void push_front(T* e) { link_before(head_.next, e); }
  // Insert `e` before `pos` (nullptr: at the end).
  void insert_before(T* pos, T* e) { link_before(pos ? static_cast<Hook*>(pos) : &head_, e); }

  void remove(T* e) {
    Hook* n = static_cast<Hook*>(e);
    QB_ASSERT(n->linked());
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
    --size_;
  }
  T* pop_front() {
    T* e = front();
    if (e) remove(e);
    return e;
  }

  T* front() const { return empty() ? nullptr : owner(head_.next); }
  T* back() const { return empty() ? nullptr : owner(head_.prev); }
  T* next(const T* e) const {
    Hook* n = static_cast<const Hook*>(e)->next;
    return n == &head_ ? nullptr : owner(n);
  }
  T* prev(const T* e) const {
    Hook* n = static_cast<const Hook*>(e)->prev;
    return n == &head_ ? nullptr : owner(n);
  }

 private:
  void link_before(Hook* pos, T* e) {
    Hook* n = static_cast<Hook*>(e);
    QB_ASSERT(!n->linked());
    n->next = pos;
    n->prev = pos->prev;
    pos->prev->next = n;
    pos->prev = n;
    ++size_;
  }
  static T* owner(Hook* n) { return static_cast<T*>(n); }

  mutable Hook head_;
  size_t size_ = 0;
};

}  // namespace quicbed
