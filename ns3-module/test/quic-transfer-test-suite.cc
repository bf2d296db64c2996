// A transfer completes with the exact byte count, over clean and lossy
// links, with real crypto and with the null packet cipher; the client's
// traces (Config paths as ns-3's TCP) fire.
#include "quic-test-util.h"

#include "ns3/config.h"
#include "ns3/double.h"
#include "ns3/error-model.h"
#include "ns3/inet-socket-address.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/pointer.h"
#include "ns3/quic-apps.h"
#include "ns3/quic-helper.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/test.h"
#include "ns3/uinteger.h"

using namespace ns3;
using namespace ns3::quictest;

class QuicExactTransferTestCase : public TestCase
{
  public:
    QuicExactTransferTestCase(std::string name, Transfer t)
        : TestCase(name),
          m_t(std::move(t))
    {
    }

  private:
    void DoRun() override
    {
        TransferResult r = RunTransfer(m_t);
        NS_TEST_ASSERT_MSG_EQ(r.handshakeDone, true, "handshake completed (HandshakeDone trace)");
        NS_TEST_ASSERT_MSG_EQ(r.rxBytes, m_t.maxBytes, "the sink read exactly the bytes sent");
        NS_TEST_ASSERT_MSG_EQ(r.clientClosedCleanly, true, "the connection closed with NO_ERROR");
        NS_TEST_ASSERT_MSG_GT(r.cwndChanges, 0, "CongestionWindow trace fired");
        if (m_t.dataLoss > 0)
        {
            NS_TEST_ASSERT_MSG_GT(r.lostPackets, 0, "PacketLost trace fired on a lossy link");
        }
    }

    Transfer m_t;
};

// The QUIC-specific applications: many request/response streams at once
// and DATAGRAM echoes, over a link losing 1% each way.
class QuicStreamsAndDatagramsTestCase : public TestCase
{
  public:
    QuicStreamsAndDatagramsTestCase()
        : TestCase("20 request-response streams, 5 at a time, and 50 datagrams over 1% loss")
    {
    }

  private:
    void DoRun() override
    {
        Config::Reset();
        RngSeedManager::SetSeed(1);
        RngSeedManager::SetRun(1);
        NodeContainer nodes;
        nodes.Create(2);
        PointToPointHelper p2p;
        p2p.SetDeviceAttribute("DataRate", StringValue("10Mbps"));
        p2p.SetChannelAttribute("Delay", StringValue("20ms"));
        NetDeviceContainer devices = p2p.Install(nodes);
        for (uint32_t i = 0; i < 2; ++i)
        {
            Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
            em->SetAttribute("ErrorRate", DoubleValue(0.01));
            em->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
            em->AssignStreams(20 + i);
            devices.Get(i)->SetAttribute("ReceiveErrorModel", PointerValue(em));
        }
        InternetStackHelper internet;
        internet.Install(nodes);
        QuicHelper quic;
        quic.Install(nodes);
        QuicHelper::AssignStreams(nodes, 50);
        Ipv4AddressHelper ipv4;
        ipv4.SetBase("10.1.1.0", "255.255.255.0");
        Ipv4InterfaceContainer ifaces = ipv4.Assign(devices);
        ApplicationContainer server = QuicHelper::InstallServer(nodes.Get(1), 443);
        ApplicationContainer client = QuicHelper::InstallClient(nodes.Get(0),
                                                                InetSocketAddress(ifaces.GetAddress(1), 443),
                                                                20,
                                                                5,
                                                                1000,
                                                                100'000);
        client.Get(0)->SetAttribute("Datagrams", UintegerValue(50));
        client.Get(0)->SetAttribute("DatagramSize", UintegerValue(200));
        server.Start(Seconds(0));
        client.Start(Seconds(0.1));
        Simulator::Stop(Seconds(30));
        Simulator::Run();
        auto c = DynamicCast<QuicClientApplication>(client.Get(0));
        auto s = DynamicCast<QuicServerApplication>(server.Get(0));
        NS_TEST_EXPECT_MSG_EQ(s->GetRequestsServed(), 20, "every request reached the server");
        NS_TEST_EXPECT_MSG_EQ(c->GetResponsesCompleted(), 20, "every response read to its end");
        // DATAGRAM frames are never retransmitted (RFC 9221 §5.2): with 1%
        // loss each way about 2% of the echoes are lost.
        NS_TEST_EXPECT_MSG_GT(c->GetDatagramsEchoed(), 40, "most datagram echoes came back");
        NS_TEST_EXPECT_MSG_LT(c->GetDatagramsEchoed(), 51, "no more echoes than datagrams");
        Simulator::Destroy();
    }
};

class QuicTransferTestSuite : public TestSuite
{
  public:
    QuicTransferTestSuite()
        : TestSuite("quic-transfer", UNIT)
    {
        Transfer clean;
        clean.maxBytes = 3'000'000;
        clean.seconds = 20;
        AddTestCase(new QuicExactTransferTestCase("clean link, GnuTLS", clean), TestCase::QUICK);

        Transfer lossy = clean;
        lossy.dataLoss = 0.02;
        lossy.ackLoss = 0.02;
        AddTestCase(new QuicExactTransferTestCase("2% loss both ways, GnuTLS", lossy), TestCase::QUICK);

        Transfer veryLossy = clean;
        veryLossy.maxBytes = 1'000'000;
        veryLossy.dataLoss = 0.10;
        veryLossy.ackLoss = 0.05;
        veryLossy.seconds = 60;
        veryLossy.congestionControl = "NewReno";
        AddTestCase(new QuicExactTransferTestCase("10% data and 5% ack loss, NewReno", veryLossy), TestCase::QUICK);

        Transfer nullCipher = lossy;
        nullCipher.cryptoMode = "NullCipherForSweeps";
        AddTestCase(new QuicExactTransferTestCase("2% loss, NullCipherForSweeps", nullCipher), TestCase::QUICK);
        AddTestCase(new QuicStreamsAndDatagramsTestCase(), TestCase::QUICK);
    }
};

static QuicTransferTestSuite g_quicTransferTestSuite;
