// Congestion control against theory.
//
// Mathis et al. (1997): a loss-based AIMD sender under random loss with
// probability p sends C / (RTT * sqrt(p)) packets per second, C = sqrt(3/2)
// (window halved per loss event, one packet per RTT growth, byte-counted
// acknowledgements as QUIC has, RFC 9002 §7.3.3). QUIC NewReno over a link
// that is never the bottleneck, with random loss on the data direction
// only, must come within 20 % of it for p in 0.1-2 %.
//
// Jain's fairness index: CUBIC QUIC flows and ns-3's TcpCubic flows sharing
// a drop-tail bottleneck get a goodput index of at least 0.9.
#include "quic-test-util.h"

#include "ns3/quic-dumbbell-helper.h"
#include "ns3/quic-helper.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/config.h"
#include "ns3/test.h"

#include <cmath>
#include <iostream>

using namespace ns3;
using namespace ns3::quictest;

class QuicMathisTestCase : public TestCase
{
  public:
    QuicMathisTestCase(double p, double seconds)
        : TestCase("NewReno under random loss p=" + std::to_string(p * 100).substr(0, 4) +
                   "%: Mathis within 20%"),
          m_p(p),
          m_seconds(seconds)
    {
    }

  private:
    void DoRun() override
    {
        Transfer t;
        t.rate = "1Gbps"; // never the bottleneck: the window alone limits
        t.delay = "25ms"; // RTT 50 ms
        t.dataLoss = m_p;
        t.seconds = m_seconds;
        t.congestionControl = "NewReno";
        TransferResult r = RunTransfer(t);
        const double rtt = 0.050;
        const double predicted = std::sqrt(1.5) / (rtt * std::sqrt(m_p)); // packets per second
        const double measured = r.clientDatagrams / (m_seconds - 0.1);
        const double ratio = measured / predicted;
        std::cout << "Mathis p=" << m_p << ": " << measured << " packets/s, model " << predicted
                  << ", ratio " << ratio << " (" << r.lostPackets << " lost)\n";
        NS_TEST_EXPECT_MSG_GT(ratio, 0.8, "goodput within 20% of Mathis (below)");
        NS_TEST_EXPECT_MSG_LT(ratio, 1.2, "goodput within 20% of Mathis (above)");
    }

    double m_p;
    double m_seconds;
};

class QuicCubicFairnessTestCase : public TestCase
{
  public:
    QuicCubicFairnessTestCase()
        : TestCase("CUBIC QUIC vs TcpCubic in a dumbbell: Jain index >= 0.9")
    {
    }

  private:
    void DoRun() override
    {
        Config::Reset();
        RngSeedManager::SetSeed(1);
        RngSeedManager::SetRun(1);
        Config::SetDefault("ns3::QuicSocket::CongestionControl", StringValue("Cubic"));
        QuicDumbbellHelper::Params params;
        params.quicFlows = 2;
        params.tcpFlows = 2;
        params.bottleneckRate = "20Mbps";
        params.bottleneckDelay = "10ms"; // RTT 40 ms
        params.queuePackets = 70;        // one BDP
        QuicDumbbellHelper dumbbell(params);
        NodeContainer all;
        for (uint32_t i = 0; i < dumbbell.Flows(); ++i)
        {
            all.Add(dumbbell.Dumbbell().GetLeft(i));
            all.Add(dumbbell.Dumbbell().GetRight(i));
        }
        QuicHelper::AssignStreams(all, 300);
        dumbbell.MarkWindowStart(Seconds(10));
        Simulator::Stop(Seconds(m_seconds));
        Simulator::Run();
        std::vector<double> g = dumbbell.Goodputs();
        const double jain = QuicDumbbellHelper::JainIndex(g);
        std::cout << "Jain: goodputs (Mbit/s)";
        for (uint32_t i = 0; i < g.size(); ++i)
        {
            std::cout << " " << (dumbbell.IsQuic(i) ? "quic " : "tcp ") << g[i] / 1e6;
        }
        std::cout << ", index " << jain << "\n";
        Simulator::Destroy();
        NS_TEST_EXPECT_MSG_GT(jain, 0.9, "Jain's fairness index of QUIC CUBIC and TCP CUBIC flows");
    }

    double m_seconds = 60;
};

class QuicCcTheoryTestSuite : public TestSuite
{
  public:
    QuicCcTheoryTestSuite()
        : TestSuite("quic-cc-theory", UNIT)
    {
        // Simulated time for about 100 loss events or more at each p.
        AddTestCase(new QuicMathisTestCase(0.001, 300), TestCase::QUICK);
        AddTestCase(new QuicMathisTestCase(0.005, 200), TestCase::QUICK);
        AddTestCase(new QuicMathisTestCase(0.01, 150), TestCase::QUICK);
        AddTestCase(new QuicMathisTestCase(0.02, 100), TestCase::QUICK);
        AddTestCase(new QuicCubicFairnessTestCase(), TestCase::QUICK);
    }
};

static QuicCcTheoryTestSuite g_quicCcTheoryTestSuite;
