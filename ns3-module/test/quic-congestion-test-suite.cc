// The congestion attributes and the CongState trace: InitialWindow sets
// what the first round trip of data carries (RFC 9002 §7.2), Pacing=false
// lets an open window leave in one burst (§7.7), and CongState reports loss
// recovery in TCP's terms for every controller, BBR included.
#include "quic-test-util.h"

#include "ns3/application-container.h"
#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/inet-socket-address.h"
#include "ns3/quic-apps.h"
#include "ns3/quic-helper.h"
#include "ns3/quic-link-helper.h"
#include "ns3/quic-socket.h"
#include "ns3/simulator.h"
#include "ns3/test.h"

#include <algorithm>

namespace ns3
{

using namespace quictest;

namespace
{

// A 100 Mbit/s path of 100 ms RTT: BulkSend starts at 0.1 s, its handshake
// ends at 0.2 s, and the first flight of data reaches the sink at 0.25 s;
// the second, sent when the first's ACKs return, does not before 0.35 s.
Transfer
FirstRoundTrip(uint32_t initialWindow)
{
    Transfer t;
    t.rate = "100Mbps";
    t.delay = "50ms";
    t.seconds = 0.32;
    t.initialWindow = initialWindow;
    return t;
}

} // namespace

class QuicInitialWindowTestCase : public TestCase
{
  public:
    QuicInitialWindowTestCase()
        : TestCase("InitialWindow=40 delivers four times InitialWindow=10's bytes in the first round trip")
    {
    }

  private:
    void DoRun() override
    {
        const TransferResult ten = RunTransfer(FirstRoundTrip(10));
        const TransferResult forty = RunTransfer(FirstRoundTrip(40));
        NS_TEST_EXPECT_MSG_EQ(ten.handshakeDone && forty.handshakeDone, true, "both handshakes completed");
        // The window's datagrams of MaxDatagramSize (1452) less their
        // headers; the handshake's ACKs grew it by a datagram or two.
        NS_TEST_EXPECT_MSG_GT(ten.rxBytes, 10 * 1300, "the first window arrived");
        NS_TEST_EXPECT_MSG_LT(ten.rxBytes, 12 * 1452, "and only the first window");
        NS_TEST_EXPECT_MSG_GT(forty.rxBytes, 40 * 1300, "the first window arrived");
        NS_TEST_EXPECT_MSG_LT(forty.rxBytes, 42 * 1452, "and only the first window");
        NS_TEST_EXPECT_MSG_GT(forty.rxBytes * 10, ten.rxBytes * 35, "forty datagrams, not ten");
    }
};

// A server answers two requests, one after the other: the first response
// grows its window in slow start; the second starts with that window open
// and nothing in flight. Paced, it leaves in bursts of at most the initial
// window (RFC 9002 §7.7); with Pacing=false, all at once.
class QuicPacingTestCase : public TestCase
{
  public:
    QuicPacingTestCase()
        : TestCase("Pacing=false sends an open window in one burst; paced bursts stay within InitialWindow")
    {
    }

  private:
    struct Burst
    {
        Time last = Time(-1);
        uint64_t run = 0;
        uint64_t longest = 0;
    };

    static void Tx(Burst* b, Ptr<const Packet>, Ptr<const QuicSocket>)
    {
        b->run = Simulator::Now() == b->last ? b->run + 1 : 1;
        b->last = Simulator::Now();
        b->longest = std::max(b->longest, b->run);
    }

    static void Connect(Burst* b)
    {
        Config::ConnectWithoutContext("/NodeList/1/$ns3::QuicL4Protocol/SocketList/*/Tx", MakeBoundCallback(&Tx, b));
    }

    // The longest run of the server's datagrams sent at one instant.
    static uint64_t LongestServerBurst(bool pacing, uint32_t* responses)
    {
        ResetSimulation();
        Config::SetDefault("ns3::QuicSocket::Pacing", BooleanValue(pacing));
        QuicLinkHelper::Params lp; // 10 ms each way
        lp.rate = "100Mbps";
        QuicLinkHelper link(lp);
        QuicHelper::InstallServer(link.Server(), 443).Start(Seconds(0));
        ApplicationContainer client =
            QuicHelper::InstallClient(link.Client(), InetSocketAddress(link.ServerAddress(), 443), 2, 1, 100, 400'000);
        client.Start(Seconds(0.1));
        Burst b;
        // The server's connection socket exists once the handshake completed.
        Simulator::Schedule(Seconds(0.15), &Connect, &b);
        Simulator::Stop(Seconds(5));
        Simulator::Run();
        *responses = DynamicCast<QuicClientApplication>(client.Get(0))->GetResponsesCompleted();
        Simulator::Destroy();
        return b.longest;
    }

    void DoRun() override
    {
        uint32_t pacedResponses = 0;
        uint32_t unpacedResponses = 0;
        const uint64_t paced = LongestServerBurst(true, &pacedResponses);
        const uint64_t unpaced = LongestServerBurst(false, &unpacedResponses);
        NS_TEST_EXPECT_MSG_EQ(pacedResponses, 2, "paced: both responses");
        NS_TEST_EXPECT_MSG_EQ(unpacedResponses, 2, "unpaced: both responses");
        NS_TEST_EXPECT_MSG_LT_OR_EQ(paced, 11, "RFC 9002 §7.7: bursts of the initial window (and an ACK)");
        NS_TEST_EXPECT_MSG_GT_OR_EQ(unpaced, 40, "the open window left at once");
    }
};

// TCP's congestion states are those of its loss recovery: CA_RECOVERY in a
// recovery period (RFC 9002 §7.3.2), whatever the controller.
class QuicCongStateTestCase : public TestCase
{
  public:
    explicit QuicCongStateTestCase(const std::string& cc)
        : TestCase("CongState enters CA_RECOVERY on loss and returns to CA_OPEN, " + cc),
          m_cc(cc)
    {
    }

  private:
    void DoRun() override
    {
        Transfer t;
        t.maxBytes = 1'000'000;
        t.seconds = 30;
        t.dataLoss = 0.02;
        t.congestionControl = m_cc;
        const TransferResult r = RunTransfer(t);
        NS_TEST_EXPECT_MSG_EQ(r.rxBytes, t.maxBytes, "transfer complete");
        NS_TEST_EXPECT_MSG_GT(r.lostPackets, 0, "packets were lost");
        NS_TEST_EXPECT_MSG_GT(r.congStates[TcpSocketState::CA_RECOVERY], 0, "recovery periods");
        NS_TEST_EXPECT_MSG_GT(r.congStates[TcpSocketState::CA_OPEN], 0, "each ended");
        NS_TEST_EXPECT_MSG_EQ(r.congStates[TcpSocketState::CA_CWR], 0, "no ECN here");
    }

    std::string m_cc;
};

class QuicCongestionTestSuite : public TestSuite
{
  public:
    QuicCongestionTestSuite()
        : TestSuite("quic-congestion", UNIT)
    {
        AddTestCase(new QuicInitialWindowTestCase(), TestCase::QUICK);
        AddTestCase(new QuicPacingTestCase(), TestCase::QUICK);
        AddTestCase(new QuicCongStateTestCase("Bbr"), TestCase::QUICK);
        AddTestCase(new QuicCongStateTestCase("NewReno"), TestCase::QUICK);
    }
};

static QuicCongestionTestSuite g_quicCongestionTestSuite;

} // namespace ns3
