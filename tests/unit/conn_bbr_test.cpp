// BBR in a real connection: a server sends a file to a client through a
// 10 Mbit/s FIFO bottleneck (tests/support/bottleneck.h) on a 20 ms path.
// The delivery rate estimator gets its packets from Recovery, the pacer its
// rate from BBR, and the trace the BBR modes.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "bottleneck.h"
#include "cc/bbr.h"
#include "conn_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;
using Mode = Bbr::Mode;

constexpr uint64_t kLink = 1'250'000;  // bytes/s
constexpr uint64_t kFile = 3'000'000;

// Records the congestion states the connection traces.
class StateTracer final : public Tracer {
 public:
  void congestion_state_updated(uint64_t, CcState old_state, CcState new_state, CongestionTrigger) override {
    if (states.empty()) states.push_back(old_state);
    states.push_back(new_state);
  }
  std::vector<CcState> states;
};

class ConnBbrTest : public ConnPairTest {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    client_.config.cc = CcAlgorithm::kBbr;
    server_.config.cc = CcAlgorithm::kBbr;
    server_.config.tracer = &tracer_;
  }

  // Downloads kFile through `link`; returns the modes the server's BBR was
  // seen in between steps.
  std::set<Mode> download(Bottleneck& link, uint64_t* elapsed) {
    filter_ = [&](Dir d, size_t i, uint64_t t) {
      return d == kToClient ? link.pass(sent_[d][i].size(), t) : Verdict{};
    };
    std::set<Mode> seen;
    handshake();
    expect_established();
    if (HasFatalFailure()) return seen;
    auto id = server_.conn->open_stream(StreamDir::kUni);
    EXPECT_TRUE(id.is_ok());
    if (!id) return seen;
    Transfer down{server_.conn.get(), client_.conn.get(), *id, pattern(kFile, 9)};
    const uint64_t start = now_;
    const Bbr* bbr = server_.conn->bbr();
    EXPECT_NE(bbr, nullptr);
    if (!bbr) return seen;
    run_until(
        [&] {
          down.pump();
          seen.insert(bbr->mode());
          return down.done();
        },
        now_ + 60 * kSec);
    *elapsed = now_ - start;
    EXPECT_TRUE(down.done());
    EXPECT_EQ(down.received.size(), down.data.size());
    EXPECT_TRUE(down.received == down.data);
    expect_established();
    return seen;
  }

  static bool any_probe_bw(const std::set<Mode>& s) {
    return s.count(Mode::kProbeBwDown) || s.count(Mode::kProbeBwCruise) || s.count(Mode::kProbeBwRefill) ||
           s.count(Mode::kProbeBwUp);
  }

  StateTracer tracer_;
};

TEST_F(ConnBbrTest, DownloadThroughBottleneckReachesProbeBw) {
  Bottleneck link(kLink);
  uint64_t elapsed = 0;
  const std::set<Mode> seen = download(link, &elapsed);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(seen.count(Mode::kStartup));
  EXPECT_TRUE(any_probe_bw(seen));
  const Bbr& bbr = *server_.conn->bbr();
  EXPECT_TRUE(bbr.filled_pipe());
  // The model found the link: within 10 % of its rate, and the 20 ms path
  // RTT plus at most the client's ACK delay.
  EXPECT_GE(bbr.max_bw(), kLink * 90 / 100);
  EXPECT_LE(bbr.max_bw(), kLink * 105 / 100);
  EXPECT_GE(bbr.min_rtt(), 2 * kOneWayDelay);
  EXPECT_LE(bbr.min_rtt(), 2 * kOneWayDelay + 30 * kMs);
  // Goodput: the file at the link rate plus Startup's ramp, with no queue
  // of BBR's making beyond a few BDPs (BDP = 1.25 MB/s * 20 ms = 25 KB).
  // (Measured: 2.52 s for the 2.4 s the link needs, a 40 KB peak queue.)
  EXPECT_LT(elapsed, kFile * kSec / kLink + 500 * kMs);
  EXPECT_LT(link.max_queued(), 2 * 25'000u);
  EXPECT_EQ(link.drops(), 0u);
  // The trace names the modes (qlog congestion_state_updated).
  ASSERT_GE(tracer_.states.size(), 3u);
  EXPECT_EQ(tracer_.states[0], CcState::kBbrStartup);
  EXPECT_EQ(tracer_.states[1], CcState::kBbrDrain);
  bool traced_probe_bw = false;
  for (CcState s : tracer_.states) traced_probe_bw |= s == CcState::kBbrProbeBwCruise || s == CcState::kBbrProbeBwDown;
  EXPECT_TRUE(traced_probe_bw);
  // The estimator counted every byte delivered, and with the file sent the
  // server has nothing left while its window is open: app-limited
  // (draft-ietf-ccwg-bbr §4.1.2.4), so idle-time samples cannot lower bw.
  EXPECT_GT(server_.conn->recovery().delivery_rate().delivered(), kFile);
  EXPECT_TRUE(server_.conn->recovery().delivery_rate().app_limited());
}

// A shallow tail-drop buffer (12 packets, half a BDP): losses shape the
// model's upper bound, and the file still arrives intact.
TEST_F(ConnBbrTest, DownloadThroughShallowBufferWithLoss) {
  Bottleneck link(kLink, 12 * 1200);
  uint64_t elapsed = 0;
  const std::set<Mode> seen = download(link, &elapsed);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(any_probe_bw(seen));
  EXPECT_GT(link.drops(), 0u);
  const Bbr& bbr = *server_.conn->bbr();
  EXPECT_NE(bbr.inflight_hi(), kU64Max);
  EXPECT_GE(bbr.max_bw(), kLink * 80 / 100);
  EXPECT_LT(elapsed, kFile * kSec / kLink + 500 * kMs);
}

}  // namespace
}  // namespace quicbed
