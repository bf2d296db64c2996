#include "flow.h"

#include "base/assert.h"
#include "base/fixed_point.h"

namespace quicbed {

RecvFlow::RecvFlow(uint64_t initial_limit, uint64_t max_window)
    : limit_(initial_limit),
      window_(initial_limit),
      max_window_(max_window > initial_limit ? max_window : initial_limit) {}

void RecvFlow::on_received(uint64_t end) {
  QB_ASSERT(allows(end));
  if (end > received_) received_ = end;
}

void RecvFlow::on_consumed(uint64_t n) {
  QB_ASSERT(n <= received_ - consumed_);
  consumed_ += n;
}

uint64_t RecvFlow::advertise(uint64_t now_us, uint64_t rtt_us) {
  resend_ = false;
  if (!credit_low()) return limit_;  // a repeat of the current limit
  if (updated_ && sat_sub(now_us, last_update_us_) < sat_add(rtt_us, rtt_us)) {
    window_ = window_ > max_window_ / 2 ? max_window_ : window_ * 2;
  }
  limit_ = consumed_ + window_;
  last_update_us_ = now_us;
  updated_ = true;
  return limit_;
}

void RecvFlow::on_update_lost(uint64_t limit) {
  if (limit == limit_) resend_ = true;
}

void SendFlow::on_sent(uint64_t n) {
  QB_ASSERT(n <= available());
  sent_ += n;
}

bool SendFlow::on_max(uint64_t limit) {
  if (limit <= limit_) return false;
  limit_ = limit;
  return true;
}

bool SendFlow::reset_limit(uint64_t limit) {
  if (limit < sent_) return false;
  limit_ = limit;
  blocked_reported_ = false;
  return true;
}

uint64_t SendFlow::on_blocked_sent() {
  blocked_reported_ = true;
  blocked_at_ = limit_;
  return limit_;
}

void SendFlow::on_blocked_lost(uint64_t limit) {
  if (blocked_reported_ && blocked_at_ == limit && limit == limit_) blocked_reported_ = false;
}

}  // namespace quicbed
