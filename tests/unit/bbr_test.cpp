// BBR (draft-ietf-ccwg-bbr) driven by the AckClock network: a paced sender
// behind a 10 Mbit/s bottleneck with a 40 ms propagation RTT, delivery rate
// samples from the real estimator, and (where a test asks) a tail-drop
// queue. The tests check the state machine, the model, and the pacing rate
// and window the draft derives from it.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "ack_clock.h"
#include "cc/bbr.h"
#include "cc/cc_holder.h"
#include "cc/windowed_filter.h"

namespace quicbed {
namespace {

using Mode = Bbr::Mode;

constexpr uint64_t kMds = 1200;
constexpr uint64_t kMs = 1000;
constexpr uint64_t kSec = 1000 * kMs;
constexpr uint64_t kRtt = 40 * kMs;
constexpr uint64_t kLink = 1'250'000;  // bytes/s (10 Mbit/s)
// Propagation plus one packet's serialisation (1200 B at 1.25 MB/s = 960 us).
constexpr uint64_t kPathRtt = kRtt + 960;
constexpr uint64_t kBdp = kLink * kPathRtt / kSec;  // 51200 bytes

struct Net {
  explicit Net(uint64_t queue_limit = 0, uint64_t seed = 1) : cc(kMds, kDefaultInitialWindowPackets, seed), clock(cc, kMds, kRtt, kLink) {
    clock.paced = true;
    clock.queue_limit_bytes = queue_limit;
  }
  // Steps until `mode` is entered (or `limit` passes); returns whether it was.
  bool run_to(Mode mode, uint64_t limit) {
    while (cc.mode() != mode && clock.now() < limit) step();
    return cc.mode() == mode;
  }
  bool run_to_probe_bw(uint64_t limit) {
    while (!in_probe_bw() && clock.now() < limit) step();
    return in_probe_bw();
  }
  bool in_probe_bw() const {
    const Mode m = cc.mode();
    return m == Mode::kProbeBwDown || m == Mode::kProbeBwCruise || m == Mode::kProbeBwRefill || m == Mode::kProbeBwUp;
  }
  void run_for(uint64_t d) {
    const uint64_t end = clock.now() + d;
    while (clock.now() < end) step();
  }
  void step() {
    ASSERT_TRUE(clock.step());
    if (modes.empty() || modes.back() != cc.mode()) {
      modes.push_back(cc.mode());
      mode_times.push_back(clock.now());
    }
  }
  Bbr cc;
  test::AckClock clock;
  std::vector<Mode> modes;
  std::vector<uint64_t> mode_times;
};

// §5.6.2: pacing_rate = pacing_gain * bw * (100 - 1) %.
uint64_t expected_pacing(uint64_t bw, uint64_t gain_pct) { return bw * gain_pct * 99 / 10'000; }

TEST(Bbr, InitialState) {
  Bbr cc(kMds);
  EXPECT_STREQ(cc.name(), "bbr");
  EXPECT_EQ(cc.mode(), Mode::kStartup);
  EXPECT_EQ(cc.state(), CcState::kBbrStartup);
  EXPECT_EQ(cc.cwnd(), 12'000u);  // RFC 9002 §7.2 initial window
  EXPECT_EQ(cc.ssthresh(), kU64Max);
  EXPECT_EQ(cc.pacing_gain(), 277u);
  EXPECT_EQ(cc.cwnd_gain(), 200u);
  EXPECT_EQ(cc.inflight_hi(), kU64Max);
  EXPECT_EQ(cc.min_rtt(), kU64Max);
  // §5.6.2 without an RTT: 2.77 * 12000 bytes per millisecond.
  RttEstimator rtt;
  EXPECT_EQ(cc.pacing_rate(rtt), 33'240'000u);
}

// §5.6.2: the first smoothed RTT sets the initial rate, 2.77 * IW / srtt.
TEST(Bbr, FirstRttSampleSetsStartupPacingRate) {
  Net n;
  n.step();
  EXPECT_EQ(n.clock.rtt().smoothed_rtt(), kRtt + 960);
  EXPECT_EQ(n.cc.pacing_rate(n.clock.rtt()), uint64_t{12'000} * 2'770'000 / (kRtt + 960));  // 811523
}

// §5.3.1-§5.3.3: Startup until the bandwidth stops growing, Drain, then
// ProbeBW; the model has the bottleneck rate and the path RTT.
TEST(Bbr, StartupDrainProbeBwOnBandwidthPlateau) {
  Net n;
  ASSERT_TRUE(n.run_to_probe_bw(5 * kSec));
  ASSERT_EQ(n.modes.size(), 3u);
  EXPECT_EQ(n.modes[0], Mode::kStartup);
  EXPECT_EQ(n.modes[1], Mode::kDrain);
  // ProbeBW starts in DOWN (§5.3.3.6); with the queue already drained the
  // same ACK finds it time to CRUISE.
  EXPECT_TRUE(n.modes[2] == Mode::kProbeBwDown || n.modes[2] == Mode::kProbeBwCruise);
  EXPECT_TRUE(n.cc.filled_pipe());
  EXPECT_EQ(n.cc.max_bw(), kLink);
  EXPECT_EQ(n.cc.bw(), kLink);
  EXPECT_EQ(n.cc.min_rtt(), kPathRtt);
  EXPECT_EQ(n.cc.bdp(), kBdp);
  // Exponential growth finds 10 Mbit/s in well under a second (three
  // rounds past the plateau); no loss, so no upper bound was learnt.
  EXPECT_LT(n.mode_times[1], 1 * kSec);
  EXPECT_EQ(n.clock.losses(), 0u);
  EXPECT_EQ(n.cc.inflight_hi(), kU64Max);
  // Drain ended once the flight was down to one BDP.
  EXPECT_LE(n.clock.bytes_in_flight(), kBdp);
  // Drain (gain 0.5) lasted about a round trip per Startup queue BDP.
  EXPECT_LT(n.mode_times[2] - n.mode_times[1], 5 * kPathRtt);
}

// §5.3.3.5.1 on a path whose BDP is about one packet (50 us propagation):
// Reno coexistence counts at least BBR's four-packet minimum window, so a
// ProbeBW cycle lasts several rounds instead of probing on every ACK.
TEST(Bbr, TinyBdpPathStillWaitsRoundsBetweenProbes) {
  Bbr cc(kMds);
  test::AckClock clock(cc, kMds, 50, kLink);
  clock.paced = true;
  std::vector<uint64_t> waits;  // rounds from each DOWN to the next REFILL
  uint64_t down_round = 0;
  Mode last = cc.mode();
  while (clock.now() < 2 * kSec) {
    ASSERT_TRUE(clock.step());
    if (cc.mode() == last) continue;
    if (cc.mode() == Mode::kProbeBwDown) down_round = cc.round_count();
    if (cc.mode() == Mode::kProbeBwRefill && down_round != 0) waits.push_back(cc.round_count() - down_round);
    last = cc.mode();
  }
  ASSERT_GE(waits.size(), 3u);
  EXPECT_LT(cc.bdp(), 2 * kMds);
  // Four rounds less the 0 or 1 the random wait starts with.
  for (uint64_t w : waits) EXPECT_GE(w, 3u);
}

// §5.3.3: DOWN -> CRUISE -> REFILL -> UP -> DOWN, with each phase's gains,
// and the pacing rate gain * bw (less 1 %) on every ACK.
TEST(Bbr, ProbeBwCyclesThroughItsPhasesWithTheirGains) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwDown, 5 * kSec));
  const size_t first = n.modes.size() - 1;
  const uint64_t end = n.clock.now() + 4 * kSec;
  bool saw[7] = {};
  while (n.clock.now() < end) {
    n.step();
    const Mode m = n.cc.mode();
    saw[static_cast<int>(m)] = true;
    uint64_t gain = 100, cwnd_gain = 200;
    if (m == Mode::kProbeBwDown) gain = 90;
    if (m == Mode::kProbeBwUp) gain = 125, cwnd_gain = 225;
    if (m == Mode::kProbeRtt) cwnd_gain = 50;
    ASSERT_EQ(n.cc.pacing_gain(), gain);
    ASSERT_EQ(n.cc.cwnd_gain(), cwnd_gain);
    // bw is the link rate exactly here, so the expectation is independent
    // of the controller's own arithmetic.
    ASSERT_EQ(n.cc.bw(), kLink);
    ASSERT_EQ(n.cc.pacing_rate(n.clock.rtt()), expected_pacing(kLink, gain));
  }
  EXPECT_TRUE(saw[static_cast<int>(Mode::kProbeBwCruise)]);
  EXPECT_TRUE(saw[static_cast<int>(Mode::kProbeBwRefill)]);
  EXPECT_TRUE(saw[static_cast<int>(Mode::kProbeBwUp)]);
  // The order of the cycle.
  for (size_t i = first; i + 1 < n.modes.size(); ++i) {
    const Mode a = n.modes[i], b = n.modes[i + 1];
    if (a == Mode::kProbeRtt || b == Mode::kProbeRtt) continue;
    if (a == Mode::kProbeBwDown) {
      EXPECT_TRUE(b == Mode::kProbeBwCruise || b == Mode::kProbeBwRefill);
    } else if (a == Mode::kProbeBwCruise) {
      EXPECT_EQ(b, Mode::kProbeBwRefill);
    } else if (a == Mode::kProbeBwRefill) {
      EXPECT_EQ(b, Mode::kProbeBwUp);
    } else if (a == Mode::kProbeBwUp) {
      EXPECT_EQ(b, Mode::kProbeBwDown);
    }
  }
  // §5.3.3.5.3: the next probe 2-3 s after the cycle started, or sooner
  // when Reno would have probed: one round per packet of the BDP
  // (§5.3.3.5.1), 42 rounds here.
  for (size_t i = first; i < n.modes.size(); ++i) {
    if (n.modes[i] != Mode::kProbeBwRefill) continue;
    uint64_t down = 0;
    for (size_t j = i; j-- > first;) {
      if (n.modes[j] == Mode::kProbeBwDown) {
        down = n.mode_times[j];
        break;
      }
    }
    if (down == 0) continue;
    EXPECT_GE(n.mode_times[i] - down, std::min<uint64_t>(2 * kSec, (kBdp / kMds - 1) * kPathRtt));
    EXPECT_LE(n.mode_times[i] - down, 3 * kSec + kPathRtt);
  }
}

// §5.6.4: in ProbeBW the window converges to cwnd_gain * BDP plus the ACK
// aggregation allowance; pacing, not the window, limits the flight.
TEST(Bbr, CwndIsGainTimesBdp) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwCruise, 5 * kSec));
  // Startup's ACKs outran its bandwidth estimate; that aggregation
  // allowance ages out of the 10-round filter (§5.5.9) in 0.5 s.
  const uint64_t startup_extra = n.cc.extra_acked();
  n.run_for(1 * kSec);
  ASSERT_EQ(n.cc.mode(), Mode::kProbeBwCruise);
  EXPECT_EQ(n.cc.bdp(), kBdp);
  // One ACK per packet on a smooth link: at most a packet of aggregation.
  EXPECT_LE(n.cc.extra_acked(), kMds);
  EXPECT_LT(n.cc.extra_acked(), startup_extra);
  EXPECT_EQ(n.cc.cwnd(), 2 * kBdp + n.cc.extra_acked());
  // Cruise paces at 0.99 bw: about one BDP in flight, not two.
  EXPECT_LE(n.clock.bytes_in_flight(), kBdp + 2 * kMds);
  EXPECT_LT(n.clock.queue_bytes(), 2 * kMds);
}

// §5.3.4: with no lower RTT sample for 5 s (ProbeRTTInterval), ProbeRTT
// cuts the window to half a BDP for 200 ms and a round, then ProbeBW
// resumes in CRUISE with the window restored.
TEST(Bbr, ProbeRttAfterMinRttWindowAndBack) {
  Net n;
  // Samples equal to min_rtt do not refresh it; the last lower one came
  // in the first round trips.
  uint64_t min_rtt_set = 0, last_min = kU64Max;
  uint64_t cwnd_before = 0;
  while (n.cc.mode() != Mode::kProbeRtt && n.clock.now() < 8 * kSec) {
    cwnd_before = n.cc.cwnd();
    n.step();
    if (n.cc.min_rtt() != last_min) {
      last_min = n.cc.min_rtt();
      min_rtt_set = n.clock.now();
    }
  }
  ASSERT_EQ(n.cc.mode(), Mode::kProbeRtt);
  const uint64_t entered = n.clock.now();
  EXPECT_GT(entered, min_rtt_set + 5 * kSec);
  EXPECT_LE(entered, min_rtt_set + 5 * kSec + 2 * kPathRtt);
  EXPECT_EQ(n.cc.cwnd_gain(), 50u);
  EXPECT_EQ(n.cc.pacing_gain(), 100u);
  // §5.6.4.5: max(BDP / 2, 4 packets).
  EXPECT_EQ(n.cc.cwnd(), kBdp / 2);
  while (n.cc.mode() == Mode::kProbeRtt) {
    n.step();
    if (n.cc.mode() == Mode::kProbeRtt) {
      ASSERT_LE(n.cc.cwnd(), kBdp / 2);
    }
  }
  const uint64_t left = n.clock.now();
  EXPECT_GE(left - entered, 200 * kMs);
  EXPECT_LE(left - entered, 200 * kMs + 3 * kPathRtt);
  EXPECT_EQ(n.cc.mode(), Mode::kProbeBwCruise);
  EXPECT_EQ(n.cc.min_rtt(), kPathRtt);
  EXPECT_GE(n.cc.cwnd(), cwnd_before);  // restored
  // The next ProbeRTT is 5 s later, not at once.
  n.run_for(4 * kSec);
  EXPECT_EQ(std::count(n.modes.begin(), n.modes.end(), Mode::kProbeRtt), 1);
}

// §5.3.4.4: ProbeRTT also comes during a Startup that never filled the
// pipe (an application offering four packets at a time), and returns to
// Startup, not ProbeBW.
TEST(Bbr, ProbeRttFromAnAppLimitedStartupReturnsToStartup) {
  Net n;
  n.clock.app_window = 4 * kMds;
  ASSERT_TRUE(n.run_to(Mode::kProbeRtt, 8 * kSec));
  EXPECT_FALSE(n.cc.filled_pipe());
  EXPECT_EQ(n.modes.front(), Mode::kStartup);
  n.run_for(400 * kMs);
  EXPECT_EQ(n.cc.mode(), Mode::kStartup);
  EXPECT_EQ(n.modes, (std::vector<Mode>{Mode::kStartup, Mode::kProbeRtt, Mode::kStartup}));
}

// §5.4.3: a sender restarting from idle in ProbeBW paces at the estimated
// bandwidth (gain 1) rather than a probing or draining gain.
TEST(Bbr, RestartFromIdlePacesAtBw) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwDown, 8 * kSec));  // DOWN after the first UP
  ASSERT_EQ(n.cc.pacing_rate(n.clock.rtt()), expected_pacing(kLink, 90));
  // The flight empties; the next packet finds nothing in flight.
  n.cc.on_packet_sent(n.clock.now() + 10 * kSec, kMds, kMds);
  EXPECT_EQ(n.cc.pacing_rate(n.clock.rtt()), expected_pacing(kLink, 100));
  EXPECT_EQ(n.cc.mode(), Mode::kProbeBwDown);
}

// A longer RTT in the path (a route change) is adopted once the 10 s
// min_rtt window has passed without the old value.
TEST(Bbr, MinRttFilterExpires) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwDown, 5 * kSec));
  // Rebuild the network with a longer propagation delay, same controller.
  test::AckClock longer(n.cc, kMds, 2 * kRtt, kLink);
  longer.paced = true;
  while (longer.now() < 12 * kSec) ASSERT_TRUE(longer.step());
  EXPECT_EQ(n.cc.min_rtt(), 2 * kRtt + 960);
}

// §5.3.1.3: Startup into a shallow buffer ends on loss above 2 % in a
// round with several loss events, before any bandwidth plateau; the flight
// then becomes inflight_hi.
TEST(Bbr, StartupExitsOnHighLossAndSetsInflightHi) {
  Net plain;
  ASSERT_TRUE(plain.run_to(Mode::kDrain, 5 * kSec));
  const uint64_t plateau_exit = plain.clock.now();

  const uint64_t queue = 20 * kMds;
  Net n(queue);
  ASSERT_TRUE(n.run_to(Mode::kDrain, 5 * kSec));
  EXPECT_LT(n.clock.now(), plateau_exit);
  EXPECT_GT(n.clock.losses(), 6u);
  EXPECT_TRUE(n.cc.filled_pipe());
  // About what the path holds: a BDP plus the queue.
  EXPECT_GE(n.cc.inflight_hi(), kBdp);
  EXPECT_LE(n.cc.inflight_hi(), kBdp + queue + 2 * kMds);
  ASSERT_TRUE(n.run_to(Mode::kProbeBwDown, 6 * kSec));
  n.run_for(100 * kMs);
  EXPECT_LE(n.cc.cwnd(), n.cc.inflight_hi());
}

// §5.5.10.2: loss above 2 % while ProbeBW_UP probes sets inflight_hi near
// the flight at which the threshold was crossed and goes DOWN at once,
// long before UP's three-round plateau rule would; later probes respect it.
TEST(Bbr, LossInProbeUpSetsInflightHi) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwRefill, 8 * kSec));
  EXPECT_EQ(n.cc.inflight_hi(), kU64Max);
  const uint64_t queue = 10 * kMds;
  n.clock.queue_limit_bytes = queue;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwUp, n.clock.now() + kSec));
  const uint64_t up = n.clock.now();
  ASSERT_TRUE(n.run_to(Mode::kProbeBwDown, up + kSec));
  EXPECT_GT(n.clock.losses(), 0u);
  // Without loss UP ends after three rounds without growth (~4 RTTs).
  EXPECT_LT(n.clock.now() - up, 3 * kPathRtt);
  ASSERT_NE(n.cc.inflight_hi(), kU64Max);
  EXPECT_GE(n.cc.inflight_hi(), kBdp);
  EXPECT_LE(n.cc.inflight_hi(), kBdp + queue + 3 * kMds);
  const uint64_t hi = n.cc.inflight_hi();
  // The next UP starts below inflight_hi and grows it only while it
  // limits the window, by loss-free rounds.
  n.run_for(50 * kMs);
  EXPECT_LE(n.cc.cwnd(), n.cc.inflight_hi());
  ASSERT_TRUE(n.run_to(Mode::kProbeBwUp, n.clock.now() + 4 * kSec));
  n.step();
  EXPECT_LE(n.cc.cwnd(), max_u64(hi, n.cc.inflight_hi()));
  EXPECT_NE(n.cc.inflight_hi(), kU64Max);
}

// §5.5.5: app-limited samples lower no estimate; max_bw holds while the
// application sends little, and the filter does not age out meanwhile.
TEST(Bbr, AppLimitedSamplesDoNotLowerBw) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwDown, 5 * kSec));
  n.clock.app_window = 4 * kMds;
  n.run_for(10 * kSec);
  EXPECT_TRUE(n.clock.delivery_rate().app_limited());
  EXPECT_EQ(n.cc.max_bw(), kLink);
  EXPECT_EQ(n.cc.bw(), kLink);
}

// The counterpart: a link that really slowed down is followed within a few
// ProbeBW cycles, since those samples are not app-limited.
TEST(Bbr, BwFollowsASlowerLink) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwDown, 5 * kSec));
  n.clock.set_link_rate(kLink / 2);
  n.run_for(12 * kSec);
  EXPECT_GE(n.cc.max_bw(), kLink / 2 - kLink / 50);
  EXPECT_LE(n.cc.max_bw(), kLink / 2 + kLink / 50);
}

// RFC 9002 §7.1 ECN-CE: a congestion signal for the round's lower bounds
// (§5.5.10.3), not an immediate window cut nor a recovery period.
TEST(Bbr, EcnCeLowersShortTermBoundsOncePerRound) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwCruise, 5 * kSec));
  const uint64_t cwnd = n.cc.cwnd();
  n.cc.on_congestion_event(n.clock.now(), n.clock.last_sent(), true);
  EXPECT_EQ(n.cc.cwnd(), cwnd);
  EXPECT_FALSE(n.cc.in_recovery());
  EXPECT_EQ(n.cc.inflight_lo(), kU64Max);
  n.run_for(3 * kPathRtt);
  // max(latest, 0.7 * previous): the flight delivered in the round.
  EXPECT_NE(n.cc.inflight_lo(), kU64Max);
  EXPECT_GE(n.cc.inflight_lo(), cwnd * 70 / 100);
  EXPECT_LE(n.cc.cwnd(), n.cc.inflight_lo());
  EXPECT_GE(n.cc.bw_lo(), kLink * 70 / 100);
  EXPECT_LE(n.cc.bw_lo(), kLink);
  EXPECT_EQ(n.cc.bw(), n.cc.bw_lo());
  // REFILL forgets the short-term bounds before probing again (§5.3.3.3).
  ASSERT_TRUE(n.run_to(Mode::kProbeBwRefill, n.clock.now() + 4 * kSec));
  EXPECT_EQ(n.cc.inflight_lo(), kU64Max);
  EXPECT_EQ(n.cc.bw_lo(), kU64Max);
}

// RFC 9002 §7.6.2: the window collapses to the minimum; BBR's floor of four
// packets (§5.6.4.1) applies from the next ACK.
TEST(Bbr, PersistentCongestionCollapsesTheWindow) {
  Net n;
  ASSERT_TRUE(n.run_to(Mode::kProbeBwCruise, 5 * kSec));
  n.cc.on_persistent_congestion(n.clock.now());
  EXPECT_EQ(n.cc.cwnd(), 2 * kMds);
  CcAck a;
  a.now = n.clock.now();
  a.bytes_acked = kMds;
  a.largest_acked_sent_time = n.clock.now();
  n.cc.on_ack(a, n.clock.rtt());
  EXPECT_GE(n.cc.cwnd(), 4 * kMds);
}

// Same seed, same run: the random ProbeBW wait is reproducible (ns-3).
TEST(Bbr, DeterministicForASeed) {
  Net a(0, 7), b(0, 7);
  a.run_for(8 * kSec);
  b.run_for(8 * kSec);
  EXPECT_EQ(a.modes, b.modes);
  EXPECT_EQ(a.mode_times, b.mode_times);
  EXPECT_EQ(a.cc.cwnd(), b.cc.cwnd());
}

TEST(Bbr, HeldByCcHolder) {
  CcHolder h(CcAlgorithm::kBbr, kMds);
  EXPECT_EQ(h.algorithm(), CcAlgorithm::kBbr);
  EXPECT_STREQ(h->name(), "bbr");
  ASSERT_NE(h.bbr(), nullptr);
  EXPECT_EQ(h.cubic(), nullptr);
  EXPECT_EQ(h->state(), CcState::kBbrStartup);
  CcHolder c(CcAlgorithm::kCubic, kMds);
  EXPECT_EQ(c.bbr(), nullptr);
}

TEST(WindowedMax, TracksTheMaximumOverTheWindow) {
  WindowedMax f(10);
  EXPECT_EQ(f.update(5, 0), 5u);
  EXPECT_EQ(f.update(3, 1), 5u);
  EXPECT_EQ(f.update(7, 2), 7u);
  EXPECT_EQ(f.update(4, 5), 7u);
  EXPECT_EQ(f.update(2, 9), 7u);
  // 7 (time 2) ages out after time 12; the best later sample takes over.
  EXPECT_EQ(f.update(1, 13), 4u);
  EXPECT_EQ(f.update(1, 40), 1u);  // everything aged out
  f.reset();
  EXPECT_EQ(f.get(), 0u);
  EXPECT_EQ(f.update(9, 100), 9u);
}

}  // namespace
}  // namespace quicbed
