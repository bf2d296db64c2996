#include "path.h"

#include "base/fixed_point.h"

namespace quicbed {
namespace {

constexpr uint64_t kNoTime = kU64Max;

}  // namespace

bool PathAddress::assign(Bytes b) {
  if (b.size() > kMaxPathAddressLen) return false;
  len = static_cast<uint8_t>(b.size());
  copy_bytes(bytes, b.data(), b.size());
  return true;
}

bool PathAddress::same_host(const PathAddress& o) const {
  if (len != o.len) return false;
  const bool ports_known = port_len != 0 && port_at == o.port_at && port_len == o.port_len &&
                           size_t{port_at} + port_len <= len;
  for (size_t i = 0; i < len; ++i) {
    if (ports_known && i >= port_at && i < size_t{port_at} + port_len) continue;
    if (bytes[i] != o.bytes[i]) return false;
  }
  return true;
}

uint64_t PathInfo::send_budget(uint64_t factor) const {
  if (validated) return kU64Max;
  return sat_sub(mul_div(bytes_received, factor, 1), bytes_sent);
}

void Paths::start(const Path& p) {
  count_ = 1;
  active_ = 0;
  paths_[0] = PathInfo();
  paths_[0].path = p;
  paths_[0].validated = true;
}

size_t Paths::find(const Path& p) const {
  for (size_t i = 0; i < count_; ++i) {
    if (paths_[i].path == p) return i;
  }
  return kNone;
}

size_t Paths::add(const Path& p, size_t keep) {
  if (count_ == kMaxPaths) {
    // The oldest entry we may drop: neither active nor the one kept.
    size_t victim = kNone;
    for (size_t i = 0; i < count_ && victim == kNone; ++i) {
      if (i != active_ && i != keep) victim = i;
    }
    remove(victim);  // kMaxPaths > 2, so there is one
  }
  PathInfo& n = paths_[count_];
  n = PathInfo();
  n.path = p;
  return count_++;
}

void Paths::remove(size_t i) {
  if (i >= count_ || i == active_) return;
  for (size_t j = i; j + 1 < count_; ++j) paths_[j] = paths_[j + 1];
  --count_;
  if (active_ > i) --active_;
}

void Paths::start_validation(size_t i, uint64_t now, uint64_t deadline) {
  PathInfo& p = paths_[i];
  p.validating = true;
  p.validation_deadline = deadline;
  p.next_challenge = now;
  p.challenges_sent = 0;
  p.challenge_count = 0;
}

void Paths::take_challenge(size_t i, Random& random, uint64_t now, uint64_t retry, uint8_t* out) {
  PathInfo& p = paths_[i];
  random.fill(MutBytes(out, kPathDataLen));
  if (p.challenge_count == PathInfo::kMaxChallenges) {
    for (size_t j = 0; j + 1 < PathInfo::kMaxChallenges; ++j) copy_bytes(p.challenges[j], p.challenges[j + 1], kPathDataLen);
    --p.challenge_count;
  }
  copy_bytes(p.challenges[p.challenge_count++], out, kPathDataLen);
  ++p.challenges_sent;
  p.next_challenge = sat_add(now, retry);
}

void PathInfo::owe_response(const uint8_t* data) {
  if (response_count == kMaxResponses) {
    for (size_t i = 1; i < kMaxResponses; ++i) copy_bytes(responses[i - 1], responses[i], kPathDataLen);
    --response_count;
  }
  copy_bytes(responses[response_count++], data, kPathDataLen);
}

size_t Paths::on_response(const uint8_t* data) {
  for (size_t i = 0; i < count_; ++i) {
    PathInfo& p = paths_[i];
    if (!p.validating) continue;
    for (size_t j = 0; j < p.challenge_count; ++j) {
      if (!bytes_equal(Bytes(p.challenges[j], kPathDataLen), Bytes(data, kPathDataLen))) continue;
      p.validating = false;
      p.validated = true;
      p.challenge_count = 0;
      return i;
    }
  }
  return kNone;
}

uint64_t Paths::next_timeout(uint64_t now) const {
  uint64_t t = kNoTime;
  for (size_t i = 0; i < count_; ++i) {
    const PathInfo& p = paths_[i];
    if (!p.validating) continue;
    t = min_u64(t, p.validation_deadline);
    // A challenge already due waits for write_datagram (or for budget),
    // not for a timer.
    if (p.next_challenge > now) t = min_u64(t, p.next_challenge);
  }
  return t;
}

size_t Paths::take_expired(uint64_t now) {
  for (size_t i = 0; i < count_; ++i) {
    PathInfo& p = paths_[i];
    if (p.validating && now >= p.validation_deadline) {
      p.validating = false;
      p.challenge_count = 0;
      return i;
    }
  }
  return kNone;
}

}  // namespace quicbed
