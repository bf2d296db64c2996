// QuicGilbertElliottErrorModel against the Markov chain's closed forms:
// the fraction of packets lost is pi_bad * LossBad + pi_good * LossGood
// with pi_bad = PGoodBad / (PGoodBad + PBadGood), and with LossGood = 0
// and LossBad = 1 a run of losses lasts 1 / PBadGood packets on average;
// the same stream gives the same losses.
#include "ns3/packet.h"
#include "ns3/quic-gilbert-elliott-error-model.h"
#include "ns3/double.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/test.h"

#include <vector>

using namespace ns3;

namespace
{

std::vector<bool>
Draw(double pGoodBad, double pBadGood, double lossGood, double lossBad, uint32_t packets, int64_t stream)
{
    Ptr<QuicGilbertElliottErrorModel> em = CreateObject<QuicGilbertElliottErrorModel>();
    em->SetAttribute("PGoodBad", DoubleValue(pGoodBad));
    em->SetAttribute("PBadGood", DoubleValue(pBadGood));
    em->SetAttribute("LossGood", DoubleValue(lossGood));
    em->SetAttribute("LossBad", DoubleValue(lossBad));
    em->AssignStreams(stream);
    Ptr<Packet> p = Create<Packet>(100);
    std::vector<bool> lost;
    lost.reserve(packets);
    for (uint32_t i = 0; i < packets; ++i)
    {
        lost.push_back(em->IsCorrupt(p));
    }
    return lost;
}

} // namespace

class QuicGilbertElliottTestCase : public TestCase
{
  public:
    QuicGilbertElliottTestCase()
        : TestCase("loss fraction and burst length match the chain's stationary values")
    {
    }

  private:
    void DoRun() override
    {
        RngSeedManager::SetSeed(1);
        RngSeedManager::SetRun(1);
        constexpr uint32_t n = 400'000;
        // Gilbert: Bad loses all, Good nothing; pi_bad = 0.01 / 0.26.
        const std::vector<bool> g = Draw(0.01, 0.25, 0, 1, n, 1);
        uint64_t lost = 0;
        uint64_t bursts = 0;
        for (uint32_t i = 0; i < n; ++i)
        {
            lost += g[i];
            bursts += g[i] && (i == 0 || !g[i - 1]);
        }
        NS_TEST_EXPECT_MSG_EQ_TOL(double(lost) / n, 0.01 / 0.26, 0.004, "loss fraction = pi_bad");
        NS_TEST_EXPECT_MSG_EQ_TOL(double(lost) / bursts, 1 / 0.25, 0.3, "mean burst = 1 / PBadGood");
        // Elliott: both states lose some: pi_bad * 0.5 + pi_good * 0.01.
        const std::vector<bool> e = Draw(0.05, 0.2, 0.01, 0.5, n, 2);
        uint64_t lostE = 0;
        for (bool l : e)
        {
            lostE += l;
        }
        NS_TEST_EXPECT_MSG_EQ_TOL(double(lostE) / n, 0.2 * 0.5 + 0.8 * 0.01, 0.005, "loss fraction, both states");
        NS_TEST_EXPECT_MSG_EQ((Draw(0.01, 0.25, 0, 1, 1000, 1) == std::vector<bool>(g.begin(), g.begin() + 1000)),
                              true,
                              "same stream, same losses");
    }
};

class QuicGilbertElliottTestSuite : public TestSuite
{
  public:
    QuicGilbertElliottTestSuite()
        : TestSuite("quic-gilbert-elliott", UNIT)
    {
        AddTestCase(new QuicGilbertElliottTestCase(), TestCase::QUICK);
    }
};

static QuicGilbertElliottTestSuite g_quicGilbertElliottTestSuite;
