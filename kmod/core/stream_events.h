// The stream and key events of a socket's connection (boundary.h,
// qb_conn_next_event): the core's reports (ConnectionEvents) turned into
// the values of linux/quic.h's events and queued until the glue takes
// them, within a fixed bound.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../boundary.h"
#include "stream.h"

namespace quicbed::kmod {

class StreamEventQueue {
 public:
  // Stream IDs of the streams we open carry the server bit when we are
  // the server (RFC 9000 §2.1).
  explicit StreamEventQueue(bool server) : server_(server) {}

  void on_send_state(uint64_t id, SendState st, uint64_t code);
  void on_recv_state(uint64_t id, RecvState st, uint64_t final_size);
  void on_max_data(uint64_t id, uint64_t limit);
  void on_max_streams(StreamDir dir, uint64_t limit);
  void on_key_update(bool phase);

  bool take(qb_event* out);
  uint64_t lost() const { return lost_; }

 private:
  void push(int kind, int state, uint64_t id, uint64_t code, uint64_t value);

  qb_event ring_[QB_MAX_EVENTS] = {};
  size_t head_ = 0;
  size_t count_ = 0;
  uint64_t lost_ = 0;
  bool server_;
};

}  // namespace quicbed::kmod
