#include "pacer.h"

#include "base/assert.h"

namespace quicbed {

namespace {

// Credit units per byte: rate (bytes/s) * 1 us adds `rate` units.
constexpr uint64_t kScale = 1'000'000;
constexpr uint64_t kMaxBurstBytes = uint64_t{1} << 40;

int64_t to_credit(uint64_t bytes) { return static_cast<int64_t>(bytes * kScale); }

}  // namespace

Pacer::Pacer(uint64_t burst_bytes) : burst_bytes_(burst_bytes), credit_(to_credit(burst_bytes)) {
  QB_ASSERT(burst_bytes > 0 && burst_bytes <= kMaxBurstBytes);
}

int64_t Pacer::credit_at(uint64_t now, uint64_t rate) const {
  const int64_t full = to_credit(burst_bytes_);
  if (now <= last_update_ || rate == 0) return credit_;
  if (rate == kU64Max) return full;
  const uint64_t elapsed = now - last_update_;
  // Room left in the bucket; the refill is computed only below it, so the
  // product cannot overflow.
  const uint64_t room = static_cast<uint64_t>(full - credit_);
  if (elapsed >= room / rate + 1) return full;
  return credit_ + static_cast<int64_t>(rate * elapsed);
}

uint64_t Pacer::next_send_time(uint64_t now, uint64_t bytes, uint64_t rate) const {
  if (rate == kU64Max) return now;
  if (rate == 0) return kU64Max;
  if (now < last_update_) now = last_update_;
  const int64_t need = to_credit(min_u64(bytes, burst_bytes_));
  const int64_t have = credit_at(now, rate);
  if (have >= need) return now;
  const uint64_t deficit = static_cast<uint64_t>(need - have);
  return sat_add(now, deficit / rate + (deficit % rate != 0 ? 1 : 0));
}

void Pacer::on_packet_sent(uint64_t now, uint64_t bytes, uint64_t rate) {
  // Unpaced sends run up no debt for when a rate becomes known.
  credit_ = rate == kU64Max ? to_credit(burst_bytes_) : credit_at(now, rate);
  last_update_ = max_u64(last_update_, now);
  if (rate == kU64Max) return;
  // Debt is bounded so that a host ignoring the pacer cannot overflow it.
  credit_ -= to_credit(min_u64(bytes, kMaxBurstBytes));
  if (credit_ < -to_credit(kMaxBurstBytes)) credit_ = -to_credit(kMaxBurstBytes);
}

void Pacer::set_burst_bytes(uint64_t burst_bytes) {
  QB_ASSERT(burst_bytes > 0 && burst_bytes <= kMaxBurstBytes);
  burst_bytes_ = burst_bytes;
  if (credit_ > to_credit(burst_bytes)) credit_ = to_credit(burst_bytes);
}

uint64_t Pacer::available(uint64_t now, uint64_t rate) const {
  const int64_t c = credit_at(now, rate);
  return c > 0 ? static_cast<uint64_t>(c) / kScale : 0;
}

}  // namespace quicbed
