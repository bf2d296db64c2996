#include "stream_events.h"

namespace quicbed::kmod {

namespace {

// linux/quic.h numbers the send states QUIC_STREAM_SEND_STATE_READY (0) to
// _RESET_RECVD (5) and the receive states QUIC_STREAM_RECV_STATE_RECV (6)
// to _RESET_READ (11), each in the order of RFC 9000's Figures 2 and 3,
// which SendState and RecvState follow too.
constexpr int kFirstRecvState = 6;
static_assert(static_cast<int>(SendState::kResetRecvd) == 5 && static_cast<int>(RecvState::kResetRead) == 5);

}  // namespace

void StreamEventQueue::push(int kind, int state, uint64_t id, uint64_t code, uint64_t value) {
  if (count_ == QB_MAX_EVENTS) {
    ++lost_;
    return;
  }
  qb_event& e = ring_[(head_ + count_) % QB_MAX_EVENTS];
  e.kind = kind;
  e.state = state;
  e.id = static_cast<int64_t>(id);
  e.code = code;
  e.value = value;
  ++count_;
}

bool StreamEventQueue::take(qb_event* out) {
  if (count_ == 0) return false;
  *out = ring_[head_];
  head_ = (head_ + 1) % QB_MAX_EVENTS;
  --count_;
  return true;
}

void StreamEventQueue::on_send_state(uint64_t id, SendState st, uint64_t code) {
  push(QB_EV_STREAM_STATE, static_cast<int>(st), id, code, 0);
}

void StreamEventQueue::on_recv_state(uint64_t id, RecvState st, uint64_t final_size) {
  push(QB_EV_STREAM_STATE, kFirstRecvState + static_cast<int>(st), id, 0, final_size);
}

void StreamEventQueue::on_max_data(uint64_t id, uint64_t limit) { push(QB_EV_MAX_DATA, 0, id, 0, limit); }

void StreamEventQueue::on_max_streams(StreamDir dir, uint64_t limit) {
  // The stream count `limit` allows streams of indexes 0..limit-1: the
  // event carries the ID of the last (the draft's max_stream, whose two
  // low bits are the stream type). A raised limit is never 0.
  const uint64_t last = make_stream_id(server_ ? Role::kServer : Role::kClient, dir, limit - 1);
  push(QB_EV_MAX_STREAMS, 0, last, 0, last);
}

void StreamEventQueue::on_key_update(bool phase) { push(QB_EV_KEY_UPDATE, 0, 0, 0, phase ? 1 : 0); }

}  // namespace quicbed::kmod
