// RFC 9002 §7.8 between a real client and server Connection: a sender
// whose application sends less than the congestion window allows does not
// grow the window (NewReno, CUBIC); one that fills it does.
#include <gtest/gtest.h>

#include "conn_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

struct AppLimitedCase {
  const char* name;
  CcAlgorithm cc;
  bool bulk;  // the application always has data (else a trickle)
  bool grows;
};

class AppLimitedTest : public UploadPairTest, public ::testing::WithParamInterface<AppLimitedCase> {};

TEST_P(AppLimitedTest, WindowGrowsOnlyWhenUsed) {
  const AppLimitedCase& c = GetParam();
  client_.config.cc = c.cc;
  handshake();
  expect_established();
  const uint64_t initial = client_.conn->congestion_controller().cwnd();
  if (c.bulk) {
    ASSERT_TRUE(upload(400'000));
  } else {
    // A kilobyte every 50 ms (2.5 RTTs): a few percent of the window.
    auto id = client_.conn->open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok());
    const Buf chunk = pattern(1000, 3);
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(client_.conn->stream_write(*id, bytes_of(chunk), false).is_ok());
      run_for(50 * kMs);
    }
    EXPECT_EQ(server_.conn->streams().find(*id)->recv_state(), RecvState::kRecv);
  }
  const uint64_t after = client_.conn->congestion_controller().cwnd();
  if (c.grows) {
    EXPECT_GT(after, 2 * initial);
  } else {
    EXPECT_EQ(after, initial);
  }
  expect_established();
}

INSTANTIATE_TEST_SUITE_P(Rfc9002, AppLimitedTest,
                         ::testing::Values(AppLimitedCase{"NewRenoTrickle", CcAlgorithm::kNewReno, false, false},
                                           AppLimitedCase{"CubicTrickle", CcAlgorithm::kCubic, false, false},
                                           AppLimitedCase{"NewRenoBulk", CcAlgorithm::kNewReno, true, true},
                                           AppLimitedCase{"CubicBulk", CcAlgorithm::kCubic, true, true}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace quicbed
