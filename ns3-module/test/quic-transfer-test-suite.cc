// A transfer completes with the exact byte count, over clean and lossy
// links, with real crypto and with the null packet cipher; the client's
// traces (Config paths as ns-3's TCP) fire.
#include "quic-test-util.h"

#include "ns3/boolean.h"
#include "ns3/bulk-send-helper.h"
#include "ns3/config.h"
#include "ns3/double.h"
#include "ns3/packet-sink-helper.h"
#include "ns3/packet-sink.h"
#include "ns3/queue-size.h"
#include "ns3/red-queue-disc.h"
#include "ns3/string.h"
#include "ns3/tcp-socket-state.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/inet-socket-address.h"
#include "ns3/quic-apps.h"
#include "ns3/quic-helper.h"
#include "ns3/quic-link-helper.h"
#include "ns3/simulator.h"
#include "ns3/test.h"
#include "ns3/uinteger.h"

#include <filesystem>
#include <fstream>
#include <iterator>

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
        ResetSimulation();
        QuicLinkHelper::Params lp;
        lp.delay = "20ms";
        lp.lossToServer = 0.01;
        lp.lossToClient = 0.01;
        QuicLinkHelper link(lp);
        ApplicationContainer server = QuicHelper::InstallServer(link.Server(), 443);
        ApplicationContainer client = QuicHelper::InstallClient(link.Client(),
                                                                InetSocketAddress(link.ServerAddress(), 443),
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

// ECN (RFC 9000 §13.4, RFC 9002 §7.1): with Ecn=true the datagrams go
// ECT(0); a RED queue that marks instead of dropping makes the receiver
// count CE and the sender reduce its window (CongState enters CA_CWR, as
// TCP's does for ECN-Echo) although no packet is lost.
class QuicEcnTestCase : public TestCase
{
  public:
    QuicEcnTestCase()
        : TestCase("Ecn=true through a marking RED queue: window reductions without loss")
    {
    }

  private:
    static void CongState(uint32_t* entered, TcpSocketState::TcpCongState_t, TcpSocketState::TcpCongState_t now)
    {
        ++entered[now];
    }

    static void Lost(uint64_t* lost, uint64_t)
    {
        ++*lost;
    }

    static void Connect(uint32_t* entered, uint64_t* lost)
    {
        const std::string base = "/NodeList/0/$ns3::QuicL4Protocol/SocketList/*/";
        Config::ConnectWithoutContext(base + "CongState", MakeBoundCallback(&CongState, entered));
        Config::ConnectWithoutContext(base + "PacketLost", MakeBoundCallback(&Lost, lost));
    }

    void DoRun() override
    {
        ResetSimulation();
        Config::SetDefault("ns3::QuicSocket::Ecn", BooleanValue(true));
        QuicLinkHelper::Params lp;
        lp.rate = "10Mbps";
        lp.delay = "10ms";
        QuicLinkHelper link(lp);
        // The client's egress: RED marking CE from 5 packets of average
        // queue (and above its maximum threshold too: no hard drops), long
        // before its 1000-packet limit.
        TrafficControlHelper tch;
        tch.Uninstall(link.Devices().Get(0));
        tch.SetRootQueueDisc("ns3::RedQueueDisc",
                             "UseEcn", BooleanValue(true),
                             "UseHardDrop", BooleanValue(false),
                             "MinTh", DoubleValue(5),
                             "MaxTh", DoubleValue(15),
                             "MaxSize", QueueSizeValue(QueueSize("1000p")),
                             "LinkBandwidth", StringValue("10Mbps"),
                             "LinkDelay", StringValue("10ms"));
        QueueDiscContainer qdiscs = tch.Install(link.Devices().Get(0));
        BulkSendHelper bulk("ns3::QuicSocketFactory", InetSocketAddress(link.ServerAddress(), 443));
        bulk.SetAttribute("MaxBytes", UintegerValue(5'000'000));
        bulk.Install(link.Client()).Start(Seconds(0.1));
        PacketSinkHelper sinkHelper("ns3::QuicSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), 443));
        ApplicationContainer sink = sinkHelper.Install(link.Server());
        uint32_t entered[TcpSocketState::CA_LAST_STATE] = {};
        uint64_t lost = 0;
        Simulator::Schedule(Seconds(0.1) + NanoSeconds(1), &Connect, entered, &lost);
        Simulator::Stop(Seconds(20));
        Simulator::Run();
        const uint64_t marked = qdiscs.Get(0)->GetStats().GetNMarkedPackets(RedQueueDisc::UNFORCED_MARK);
        NS_TEST_EXPECT_MSG_EQ(DynamicCast<PacketSink>(sink.Get(0))->GetTotalRx(), 5'000'000, "transfer complete");
        NS_TEST_EXPECT_MSG_GT(marked, 0, "RED marked CE (the datagrams were ECT)");
        NS_TEST_EXPECT_MSG_GT(entered[TcpSocketState::CA_CWR], 0, "the sender reduced its window for CE marks");
        NS_TEST_EXPECT_MSG_EQ(entered[TcpSocketState::CA_RECOVERY], 0, "never for a loss");
        NS_TEST_EXPECT_MSG_EQ(lost, 0, "no packet was lost: the marks, not drops, drove it");
        Simulator::Destroy();
    }
};

// 0-RTT (RFC 9001 §4.6): with ZeroRtt=true a client node keeps the
// session ticket of its first connection, and its second connection to the
// same server resumes it and sends its request in 0-RTT packets, which the
// server accepts and answers at once in 0.5-RTT data (RFC 9001 §4.1.1):
// the exchange takes one round trip less than the first connection's. The
// qlogs say which packets went how.
class QuicZeroRttTestCase : public TestCase
{
  public:
    QuicZeroRttTestCase()
        : TestCase("ZeroRtt=true: the second connection's request in 0-RTT saves a round trip")
    {
    }

  private:
    static void Response(Time* at, uint64_t, Time)
    {
        *at = Simulator::Now();
    }

    // Files of `dir` whose name ends in `suffix` and that hold `text`.
    static uint32_t FilesWith(const std::string& dir, const std::string& suffix, const std::string& text)
    {
        uint32_t n = 0;
        for (const auto& e : std::filesystem::directory_iterator(dir))
        {
            const std::string name = e.path().filename().string();
            if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            {
                continue;
            }
            std::ifstream in(e.path(), std::ios::binary);
            const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            n += content.find(text) != std::string::npos ? 1 : 0;
        }
        return n;
    }

    void DoRun() override
    {
        ResetSimulation();
        const std::string dir = MakeTempDir("quic-zero-rtt");
        Config::SetDefault("ns3::QuicSocket::ZeroRtt", BooleanValue(true));
        Config::SetDefault("ns3::QuicSocket::QlogDir", StringValue(dir));
        QuicLinkHelper::Params lp;
        lp.delay = "25ms";
        const Time rtt = MilliSeconds(50);
        QuicLinkHelper link(lp);
        QuicHelper::InstallServer(link.Server(), 443).Start(Seconds(0));
        ApplicationContainer clients;
        Time done[2];
        for (uint32_t i = 0; i < 2; ++i)
        {
            ApplicationContainer c = QuicHelper::InstallClient(link.Client(),
                                                               InetSocketAddress(link.ServerAddress(), 443),
                                                               1,
                                                               1,
                                                               100,
                                                               5000);
            c.Start(Seconds(1 + i));
            c.Get(0)->TraceConnectWithoutContext("Response", MakeBoundCallback(&Response, &done[i]));
            clients.Add(c);
        }
        Simulator::Stop(Seconds(5));
        Simulator::Run();
        for (uint32_t i = 0; i < 2; ++i)
        {
            NS_TEST_EXPECT_MSG_EQ(DynamicCast<QuicClientApplication>(clients.Get(i))->GetResponsesCompleted(),
                                  1,
                                  "connection " << i << " got its response");
        }
        // From the application's start to its response's end: a handshake
        // and a request/response for the first (2 RTTs), one RTT for the
        // second. Its 5000-byte response exceeds three times what the
        // client sent first (RFC 9000 §8.1): it all goes in the server's
        // first flight only because the first connection's NEW_TOKEN
        // token validated the client's address (§8.1.3).
        const Time first = done[0] - Seconds(1);
        const Time second = done[1] - Seconds(2);
        NS_TEST_EXPECT_MSG_GT(first, 2 * rtt, "the first connection: handshake, then the exchange");
        NS_TEST_EXPECT_MSG_LT(second, first - rtt * 0.9, "0-RTT saved a round trip");
        NS_TEST_EXPECT_MSG_GT(second, rtt, "but not more");
        Simulator::Destroy();
        NS_TEST_EXPECT_MSG_EQ(CountFiles(dir), 4, "two connections, two ends each");
        NS_TEST_EXPECT_MSG_EQ(FilesWith(dir, "_client.sqlog", "\"packet_type\":\"0RTT\""),
                              1,
                              "exactly one client (the second) sent 0-RTT packets");
        NS_TEST_EXPECT_MSG_EQ(FilesWith(dir, "_server.sqlog", "\"name\":\"transport:packet_received\",\"data\":{\"header\":{\"packet_type\":\"0RTT\""),
                              1,
                              "the server processed them");
        std::filesystem::remove_all(dir);
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

        Transfer bbr = clean;
        bbr.congestionControl = "Bbr";
        AddTestCase(new QuicExactTransferTestCase("clean link, BBR", bbr), TestCase::QUICK);
        Transfer lossyBbr = lossy;
        lossyBbr.congestionControl = "Bbr";
        AddTestCase(new QuicExactTransferTestCase("2% loss both ways, BBR", lossyBbr), TestCase::QUICK);

        Transfer nullCipher = lossy;
        nullCipher.cryptoMode = "NullCipherForSweeps";
        AddTestCase(new QuicExactTransferTestCase("2% loss, NullCipherForSweeps", nullCipher), TestCase::QUICK);
        AddTestCase(new QuicStreamsAndDatagramsTestCase(), TestCase::QUICK);
        AddTestCase(new QuicEcnTestCase(), TestCase::QUICK);
        AddTestCase(new QuicZeroRttTestCase(), TestCase::QUICK);
    }
};

static QuicTransferTestSuite g_quicTransferTestSuite;
