// Credit-based flow control (RFC 9000 §4): one receiver and one sender
// object per stream and per connection. Offsets here are absolute: a
// stream's byte offsets, or for a connection the sum over its streams.
//
// The same counters also serve stream-count limits (§4.6), which follow the
// same rules: an advertised maximum that only grows, a blocked signal sent
// once per maximum, and an update when half the credit is used.
#pragma once

#include <cstdint>

namespace quicbed {

// What we let the peer send, and when to tell it it may send more.
class RecvFlow {
 public:
  // `initial_limit` is the transport parameter we advertised (§18.2); it is
  // also the first window, which auto-tuning grows up to `max_window`.
  RecvFlow(uint64_t initial_limit, uint64_t max_window);

  // §4.1: data ending at `end` (one past its last byte) is within the limit
  // we advertised. The caller reports FLOW_CONTROL_ERROR otherwise (or
  // STREAM_LIMIT_ERROR for stream counts).
  bool allows(uint64_t end) const { return end <= limit_; }
  // Record data up to `end` as received; the caller checked allows().
  void on_received(uint64_t end);
  // The application consumed n more bytes, freeing their credit.
  void on_consumed(uint64_t n);

  // §4.2: whether a MAX_DATA / MAX_STREAM_DATA is due: more than half of the
  // window's credit is used, or a lost update must be repeated (§13.3).
  bool should_update() const { return resend_ || credit_low(); }
  // The limit to send in that frame, which the caller then sends. A new
  // limit gives a full window of credit past what was consumed; the window
  // doubles (up to max_window) when the previous update was less than two
  // round trips ago, i.e. the peer used half a window in under 2 RTTs and
  // the window is smaller than about four bandwidth-delay products. The
  // first update has no previous one to measure from. Times in microseconds.
  uint64_t advertise(uint64_t now_us, uint64_t rtt_us);
  // A frame carrying `limit` was lost: repeat it if it is still current
  // (§13.3: the most recent value is what gets retransmitted).
  void on_update_lost(uint64_t limit);

  uint64_t limit() const { return limit_; }
  uint64_t received() const { return received_; }
  uint64_t consumed() const { return consumed_; }
  uint64_t window() const { return window_; }

 private:
  // Half the window is used, and a new limit would be higher than the
  // current one (a zero window never grows).
  bool credit_low() const { return consumed_ + window_ > limit_ && limit_ - consumed_ <= window_ / 2; }

  uint64_t limit_;
  uint64_t window_;
  uint64_t max_window_;
  uint64_t received_ = 0;
  uint64_t consumed_ = 0;
  uint64_t last_update_us_ = 0;
  bool updated_ = false;  // last_update_us_ is set
  bool resend_ = false;
};

// What the peer lets us send.
class SendFlow {
 public:
  explicit SendFlow(uint64_t initial_limit) : limit_(initial_limit) {}

  uint64_t limit() const { return limit_; }
  uint64_t sent() const { return sent_; }
  uint64_t available() const { return limit_ - sent_; }
  // n <= available() more bytes (or streams) were used.
  void on_sent(uint64_t n);
  // §4.1: a MAX_DATA / MAX_STREAM_DATA / MAX_STREAMS that does not raise the
  // limit is ignored (frames can arrive out of order). True if it raised it.
  bool on_max(uint64_t limit);
  // RFC 9000 §7.4.1: 0-RTT was rejected, so the limit remembered from an
  // earlier connection no longer holds and the peer's new one replaces it,
  // lower or not. False (and unchanged) if more than `limit` was sent.
  [[nodiscard]] bool reset_limit(uint64_t limit);

  // §4.1, §4.6: a DATA_BLOCKED / STREAM_DATA_BLOCKED / STREAMS_BLOCKED is due:
  // the sender has something to send (`has_data`), no credit left, and has
  // not reported this limit yet.
  bool should_send_blocked(bool has_data) const {
    return has_data && available() == 0 && !(blocked_reported_ && blocked_at_ == limit_);
  }
  // The caller sends the frame; returns the limit it carries.
  uint64_t on_blocked_sent();
  // A blocked frame carrying `limit` was lost: report again if the limit is
  // unchanged (§13.3: resent only while still blocked at that limit).
  void on_blocked_lost(uint64_t limit);

 private:
  uint64_t limit_;
  uint64_t sent_ = 0;
  uint64_t blocked_at_ = 0;
  bool blocked_reported_ = false;
};

}  // namespace quicbed
