// NEW_TOKEN tokens across a server restart (RFC 9000 §8.1.3): the issue
// time a token carries is only as durable as the clock it was read from.
// With the host's `now` (a monotonic clock that starts again at boot) a
// token from before a reboot is refused while the new uptime is behind it
// and wrongly taken as young once the uptime passes it; with the host's
// wall clock (AddressValidationConfig::token_clock) its age is its age.
#include <gtest/gtest.h>

#include <vector>

#include "address_validation.h"
#include "gnutls_crypto.h"
#include "packet.h"

namespace quicbed {
namespace {

constexpr uint64_t kHour = 3600ull * 1'000'000;
constexpr uint64_t kDay = 24 * kHour;

// The host's wall clock, as the test sets it.
uint64_t wall_now = 0;
uint64_t test_wall_clock() { return wall_now; }

// Nonces need only differ here.
class CountingRandom final : public Random {
 public:
  void fill(MutBytes out) override {
    for (uint8_t& b : out) b = static_cast<uint8_t>(++n_);
  }

 private:
  uint8_t n_ = 0;
};

struct RestartCase {
  const char* name;
  bool wall_clock;
  uint64_t issue_uptime;  // monotonic `now` when the token was issued
  uint64_t use_uptime;    // monotonic `now` after the reboot, when it comes back
  uint64_t real_age;      // wall-clock time between the two
  bool validated;
};

class TokenRestartTest : public ::testing::TestWithParam<RestartCase> {
 protected:
  // A server instance: a validator with the shared token key.
  void start_server(AddressValidator& v, bool wall_clock) {
    AddressValidationConfig config;
    for (size_t i = 0; i < kTokenKeyLen; ++i) config.token_key[i] = static_cast<uint8_t>(3 * i + 5);
    if (wall_clock) config.token_clock = test_wall_clock;
    ASSERT_TRUE(v.init(crypto_, config).is_ok());
  }
  GnutlsCrypto crypto_;
};

TEST_P(TokenRestartTest, IssueTimeSurvivesOnlyWithTheWallClock) {
  const RestartCase& c = GetParam();
  const std::vector<uint8_t> peer = {192, 0, 2, 7};
  const Bytes peer_bytes(peer.data(), peer.size());
  wall_now = 1'700'000'000ull * 1'000'000;
  std::vector<uint8_t> token(kMaxOwnTokenLen);
  {
    AddressValidator before;
    start_server(before, c.wall_clock);
    CountingRandom random;
    auto n = before.new_token(MutBytes(token.data(), token.size()), peer_bytes, random, c.issue_uptime);
    ASSERT_TRUE(n.is_ok());
    token.resize(*n);
  }
  wall_now += c.real_age;
  AddressValidator after;
  start_server(after, c.wall_clock);
  PacketHeader h;
  h.form = HeaderForm::kLong;
  h.type = PacketType::kInitial;
  h.version = kVersion1;
  h.token = Bytes(token.data(), token.size());
  EXPECT_EQ(after.admit(h, peer_bytes, c.use_uptime).validated, c.validated);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9000, TokenRestartTest,
    ::testing::Values(
        // An hour old, but issued at a higher uptime than the new boot's.
        RestartCase{"MonotonicRefusesAFreshToken", false, 3 * kDay, kHour, kHour, false},
        // Three days old (lifetime: one day), but the uptimes say a minute.
        RestartCase{"MonotonicTakesAStaleToken", false, kHour, kHour + 60'000'000, 3 * kDay, true},
        RestartCase{"WallClockTakesAFreshToken", true, 3 * kDay, kHour, kHour, true},
        RestartCase{"WallClockRefusesAStaleToken", true, kHour, kHour + 60'000'000, 3 * kDay, false}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace quicbed
