// DPLPMTUD (RFC 8899, RFC 9000 §14.3-§14.4): the search of pmtud.h on its
// own against paths of every size, its black hole detection and raise
// timer; then between a real client and server over a link with an MTU,
// one that shrinks in the middle of a transfer, and a peer whose
// max_udp_payload_size is the limit.
#include <gtest/gtest.h>

#include <algorithm>

#include "conn_pair.h"
#include "pmtud.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

constexpr uint64_t kMax = 1452;
constexpr uint64_t kRaise = 600 * kSec;

// Runs the search over a path that carries datagrams of up to `mtu` bytes,
// each probe answered at once. Returns the probes sent.
uint64_t search(Pmtud& p, uint64_t mtu, uint64_t& now) {
  uint64_t probes = 0;
  for (int i = 0; i < 200; ++i) {
    const uint64_t size = p.probe_size();
    if (size == 0) break;
    p.on_probe_sent(size);
    ++probes;
    EXPECT_EQ(p.probe_size(), 0u) << "one probe at a time";
    now += 10 * kMs;
    if (size <= mtu) {
      p.on_probe_acked(size, now);
    } else {
      p.on_probe_lost(size, now);
    }
  }
  return probes;
}

TEST(Pmtud, DisabledUsesTheHostMaximum) {
  Pmtud p(false, kMax, kRaise);
  EXPECT_EQ(p.state(), Pmtud::State::kDisabled);
  EXPECT_EQ(p.plpmtu(), kMax);
  p.start(65527, 0);
  EXPECT_EQ(p.probe_size(), 0u);
  p.on_pto(10, 0);
  EXPECT_EQ(p.plpmtu(), kMax);
}

TEST(Pmtud, StartsAtTheBaseAndProbesOnlyOnceStarted) {
  Pmtud p(true, kMax, kRaise);
  EXPECT_EQ(p.state(), Pmtud::State::kBase);
  EXPECT_EQ(p.plpmtu(), Pmtud::kBasePlpmtu);
  EXPECT_EQ(p.probe_size(), 0u);  // not before the handshake is confirmed
  p.start(65527, 0);
  EXPECT_EQ(p.state(), Pmtud::State::kSearching);
  EXPECT_EQ(p.probe_size(), kMax);  // the bound first
}

TEST(Pmtud, APathThatCarriesTheBoundTakesOneProbe) {
  Pmtud p(true, kMax, kRaise);
  uint64_t now = 0;
  p.start(65527, now);
  EXPECT_EQ(search(p, 9000, now), 1u);
  EXPECT_EQ(p.plpmtu(), kMax);
  EXPECT_EQ(p.state(), Pmtud::State::kSearchComplete);
  EXPECT_EQ(p.next_timeout(), kU64Max);  // nothing above to find
}

TEST(Pmtud, ThePeersMaxUdpPayloadSizeBoundsTheSearch) {
  Pmtud p(true, kMax, kRaise);
  uint64_t now = 0;
  p.start(1300, now);  // RFC 9000 §14.3
  EXPECT_EQ(p.upper_bound(), 1300u);
  EXPECT_EQ(p.probe_size(), 1300u);
  search(p, 9000, now);
  EXPECT_EQ(p.plpmtu(), 1300u);
}

TEST(Pmtud, BinarySearchEndsExactlyAtThePathMtu) {
  for (uint64_t mtu : {1200, 1201, 1250, 1280, 1350, 1399, 1400, 1451, 1452}) {
    Pmtud p(true, kMax, kRaise);
    uint64_t now = 0;
    p.start(65527, now);
    const uint64_t probes = search(p, mtu, now);
    EXPECT_EQ(p.plpmtu(), mtu);
    EXPECT_EQ(p.state(), Pmtud::State::kSearchComplete);
    // Every failed size cost MAX_PROBES probes; at most log2(253) sizes.
    EXPECT_EQ(p.probes_lost() % Pmtud::kMaxProbes, 0u);
    EXPECT_LE(probes, 9u * Pmtud::kMaxProbes) << mtu;
    // Below the bound: the raise timer will look again (RFC 8899 §5.1.1).
    EXPECT_EQ(p.next_timeout(), mtu < kMax ? now + kRaise : kU64Max) << mtu;
  }
}

TEST(Pmtud, ASizeIsGivenUpAfterMaxProbesLosses) {
  Pmtud p(true, kMax, kRaise);
  p.start(65527, 0);
  for (uint32_t i = 1; i < Pmtud::kMaxProbes; ++i) {
    ASSERT_EQ(p.probe_size(), kMax);
    p.on_probe_sent(kMax);
    p.on_probe_lost(kMax, i);
  }
  EXPECT_EQ(p.probe_size(), kMax);  // not yet
  p.on_probe_sent(kMax);
  p.on_probe_lost(kMax, 10);
  EXPECT_EQ(p.probe_size(), (Pmtud::kBasePlpmtu + kMax) / 2);
  EXPECT_EQ(p.plpmtu(), Pmtud::kBasePlpmtu);  // losses never lower it below what was confirmed
}

TEST(Pmtud, RaiseTimerSearchesAgain) {
  Pmtud p(true, kMax, kRaise);
  uint64_t now = 0;
  p.start(65527, now);
  search(p, 1300, now);
  ASSERT_EQ(p.plpmtu(), 1300u);
  const uint64_t at = p.next_timeout();
  p.on_timeout(at - 1);
  EXPECT_EQ(p.probe_size(), 0u);
  p.on_timeout(at);
  EXPECT_EQ(p.state(), Pmtud::State::kSearching);
  EXPECT_EQ(p.next_timeout(), kU64Max);
  EXPECT_EQ(p.probe_size(), kMax);
  // The path grew meanwhile.
  now = at;
  search(p, 1452, now);
  EXPECT_EQ(p.plpmtu(), kMax);
}

TEST(Pmtud, LargeLossesAfterTheLastLargeAckAreABlackHole) {
  Pmtud p(true, kMax, kRaise);
  uint64_t now = 0;
  p.start(65527, now);
  search(p, kMax, now);
  ASSERT_EQ(p.plpmtu(), kMax);
  const uint64_t t = now;
  // Packets sent before the PLPMTU was adopted, small ones, and those
  // older than a large packet that got through say nothing.
  p.on_packet_lost(kMax, t - 1, t + 100);
  p.on_packet_lost(1000, t + 1, t + 100);
  p.on_packet_acked(kMax, t + 5);
  p.on_packet_lost(kMax, t + 2, t + 100);
  p.on_packet_lost(kMax, t + 3, t + 100);
  p.on_packet_lost(kMax, t + 4, t + 100);
  EXPECT_EQ(p.black_holes(), 0u);
  // A large ack in between starts the count over.
  p.on_packet_lost(kMax, t + 6, t + 100);
  p.on_packet_lost(kMax, t + 7, t + 100);
  p.on_packet_acked(kMax, t + 8);
  p.on_packet_lost(kMax, t + 9, t + 100);
  p.on_packet_lost(kMax, t + 10, t + 100);
  EXPECT_EQ(p.black_holes(), 0u);
  p.on_packet_lost(kMax, t + 11, t + 100);
  EXPECT_EQ(p.black_holes(), 1u);
  EXPECT_EQ(p.plpmtu(), Pmtud::kBasePlpmtu);
  EXPECT_EQ(p.state(), Pmtud::State::kSearching);
  EXPECT_EQ(p.probe_size(), kMax);
  // Large packets of the old PLPMTU still being declared lost do not
  // count against the base.
  for (int i = 0; i < 5; ++i) p.on_packet_lost(kMax, t + 12, t + 200);
  EXPECT_EQ(p.black_holes(), 1u);
  // The search finds the narrower path.
  now = t + 300;
  search(p, 1280, now);
  EXPECT_EQ(p.plpmtu(), 1280u);
}

TEST(Pmtud, RepeatedProbeTimeoutsAreABlackHole) {
  Pmtud p(true, kMax, kRaise);
  uint64_t now = 0;
  p.start(65527, now);
  p.on_pto(5, now);  // at the base already: nothing to fall back from
  EXPECT_EQ(p.black_holes(), 0u);
  search(p, kMax, now);
  p.on_pto(Pmtud::kBlackHolePtos - 1, now);
  EXPECT_EQ(p.plpmtu(), kMax);
  p.on_pto(Pmtud::kBlackHolePtos, now);
  EXPECT_EQ(p.plpmtu(), Pmtud::kBasePlpmtu);
  EXPECT_EQ(p.black_holes(), 1u);
}

TEST(Pmtud, ALateProbeAcknowledgmentStillCounts) {
  Pmtud p(true, kMax, kRaise);
  p.start(65527, 0);
  p.on_probe_sent(kMax);
  p.on_probe_lost(kMax, 1);  // declared lost, then its ACK comes after all
  p.on_probe_acked(kMax, 2);
  EXPECT_EQ(p.plpmtu(), kMax);
  EXPECT_EQ(p.state(), Pmtud::State::kSearchComplete);
}

// ---- Between two connections ------------------------------------------------

// What the tracer hears of the search (connectivity:mtu_updated).
struct MtuTracer final : Tracer {
  struct Update {
    uint64_t old_mtu, new_mtu;
    bool done;
  };
  void mtu_updated(uint64_t, uint64_t old_mtu, uint64_t new_mtu, bool done) override {
    updates.push_back({old_mtu, new_mtu, done});
  }
  std::vector<Update> updates;
};

class PmtudConnTest : public UploadPairTest {
 protected:
  void SetUp() override {
    UploadPairTest::SetUp();
    for (Endpoint* e : {&client_, &server_}) {
      e->config.pmtud = true;
      e->config.max_datagram_size = kMax;
    }
  }

  // The largest datagram of direction `d` that the link carried.
  size_t largest_delivered(Dir d) const {
    size_t m = 0;
    for (const Buf& b : sent_[d])
      if (!link_mtu_[d] || b.size() <= link_mtu_[d]) m = std::max(m, b.size());
    return m;
  }
};

TEST_F(PmtudConnTest, TheUpperBoundIsCheckedLikeAnyDatagramSize) {
  for (uint64_t bad : {uint64_t{1199}, kMaxCcDatagramSize + 1}) {
    client_.config.max_datagram_size = bad;
    create(client_);
    ASSERT_FALSE(HasFatalFailure());
    const Status s = client_.conn->init(0);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_F(PmtudConnTest, ReachesTheLinkMtuExactly) {
  MtuTracer tracer;
  client_.config.tracer = &tracer;
  link_mtu_[kToServer] = link_mtu_[kToClient] = 1350;
  handshake();
  expect_established();
  // Until the handshake is confirmed, nothing above the base (§14.1).
  EXPECT_LE(largest_delivered(kToServer), Pmtud::kBasePlpmtu);
  ASSERT_TRUE(upload(200'000));
  run_for(5 * kSec);  // the server's search runs on its PTOs: it sends only ACKs
  for (Endpoint* e : {&client_, &server_}) {
    const Connection& c = *e->conn;
    EXPECT_EQ(c.pmtud().state(), Pmtud::State::kSearchComplete);
    EXPECT_EQ(c.max_datagram_size(), 1350u);
    EXPECT_EQ(c.congestion_controller().max_datagram_size(), 1350u);
    EXPECT_GT(c.pmtud().probes_lost(), 0u);
    // RFC 9000 §14.4: lost probes are no congestion signal; this link
    // loses nothing else.
    EXPECT_EQ(c.congestion_controller().ssthresh(), kU64Max);
    EXPECT_EQ(c.pmtud().black_holes(), 0u);
  }
  EXPECT_EQ(largest_delivered(kToServer), 1350u);
  EXPECT_EQ(largest_delivered(kToClient), 1350u);
  // Each confirmed size, from the base up, the last one settled.
  ASSERT_FALSE(tracer.updates.empty());
  EXPECT_EQ(tracer.updates.front().old_mtu, Pmtud::kBasePlpmtu);
  for (size_t i = 1; i < tracer.updates.size(); ++i) {
    EXPECT_EQ(tracer.updates[i].old_mtu, tracer.updates[i - 1].new_mtu);
    EXPECT_GE(tracer.updates[i].new_mtu, tracer.updates[i - 1].new_mtu);
  }
  EXPECT_EQ(tracer.updates.back().new_mtu, 1350u);
  EXPECT_TRUE(tracer.updates.back().done);
  // Ordinary data uses the discovered size from then on.
  const size_t first = sent_[kToServer].size();
  ASSERT_TRUE(upload(300'000));
  const size_t full = static_cast<size_t>(std::count_if(sent_[kToServer].begin() + first, sent_[kToServer].end(),
                                                        [](const Buf& b) { return b.size() == 1350; }));
  EXPECT_GE(full, 300'000u / 1350);
  EXPECT_EQ(largest_delivered(kToServer), 1350u);
  expect_established();
}

TEST_F(PmtudConnTest, AnOpenPathReachesTheBoundWithOneProbe) {
  handshake();
  ASSERT_TRUE(upload(100'000));
  EXPECT_EQ(client_.conn->max_datagram_size(), kMax);
  EXPECT_EQ(client_.conn->pmtud().probes_sent(), 1u);
  EXPECT_EQ(client_.conn->pmtud().probes_lost(), 0u);
  EXPECT_EQ(largest_delivered(kToServer), kMax);
}

TEST_F(PmtudConnTest, ThePeersMaxUdpPayloadSizeIsTheLimit) {
  server_.config.params.max_udp_payload_size = 1300;
  handshake();
  ASSERT_TRUE(upload(100'000));
  EXPECT_EQ(client_.conn->pmtud().upper_bound(), 1300u);
  EXPECT_EQ(client_.conn->max_datagram_size(), 1300u);
  for (const Buf& b : sent_[kToServer]) EXPECT_LE(b.size(), 1300u);
}

TEST_F(PmtudConnTest, PmtudOffSendsTheConfiguredSizeAtOnce) {
  client_.config.pmtud = server_.config.pmtud = false;
  handshake();
  ASSERT_TRUE(upload(100'000));
  EXPECT_EQ(client_.conn->pmtud().state(), Pmtud::State::kDisabled);
  EXPECT_EQ(client_.conn->pmtud().probes_sent(), 0u);
  EXPECT_EQ(client_.conn->max_datagram_size(), kMax);
  EXPECT_EQ(largest_delivered(kToServer), kMax);
}

// The path's MTU shrinks under a transfer using 1452-byte datagrams:
// every large packet vanishes from then on. Black hole detection falls
// back to the base, the search finds the new MTU, and the data all arrives.
TEST_F(PmtudConnTest, BlackHoleMidTransferFallsBackAndCompletes) {
  handshake();
  bool shrunk = false;
  ASSERT_TRUE(upload(2'000'000, 60 * kSec, [&] {
    if (!shrunk && client_.conn->max_datagram_size() == kMax && sent_[kToServer].size() > 300) {
      link_mtu_[kToServer] = 1280;
      shrunk = true;
    }
  }));
  ASSERT_TRUE(shrunk);
  run_for(2 * kSec);
  EXPECT_GE(client_.conn->pmtud().black_holes(), 1u);
  EXPECT_EQ(client_.conn->max_datagram_size(), 1280u);
  EXPECT_EQ(client_.conn->pmtud().state(), Pmtud::State::kSearchComplete);
  expect_established();
}

}  // namespace
}  // namespace quicbed
