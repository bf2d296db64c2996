// A transfer over a link that loses packets at random (RateErrorModel),
// in both directions: the sink gets exactly the bytes sent, and the
// client's traces tell what recovery did (PacketLost count, final window).
//
//   quic-lossy-link --loss=0.05 --bytes=5000000 --cc=NewReno
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/quic-link-helper.h"

#include <iostream>

using namespace ns3;

static uint64_t g_lost = 0;
static uint32_t g_cwnd = 0;
static Time g_closed;

static void
Lost(uint64_t)
{
    ++g_lost;
}

static void
Cwnd(uint32_t, uint32_t v)
{
    g_cwnd = v;
}

static void
Closed(uint64_t code, bool application, bool byPeer)
{
    g_closed = Simulator::Now();
    std::cout << Simulator::Now().GetSeconds() << " s: connection closed, "
              << (application ? "application" : "transport") << " code " << code << (byPeer ? " by the peer" : "")
              << "\n";
}

static void
Connect()
{
    const std::string base = "/NodeList/0/$ns3::QuicL4Protocol/SocketList/*/";
    Config::ConnectWithoutContext(base + "PacketLost", MakeCallback(&Lost));
    Config::ConnectWithoutContext(base + "CongestionWindow", MakeCallback(&Cwnd));
    Config::ConnectWithoutContext(base + "ConnectionClosed", MakeCallback(&Closed));
}

int
main(int argc, char* argv[])
{
    double loss = 0.05;
    uint64_t bytes = 5'000'000;
    std::string cc = "Cubic";
    std::string rate = "20Mbps";
    std::string delay = "20ms";
    CommandLine cmd(__FILE__);
    cmd.AddValue("loss", "Packet loss rate, each direction", loss);
    cmd.AddValue("bytes", "Bytes to transfer", bytes);
    cmd.AddValue("cc", "Congestion control (NewReno, Cubic)", cc);
    cmd.AddValue("rate", "Link rate", rate);
    cmd.AddValue("delay", "One-way delay", delay);
    cmd.Parse(argc, argv);
    Config::SetDefault("ns3::QuicSocket::CongestionControl", StringValue(cc));

    QuicLinkHelper::Params lp;
    lp.rate = rate;
    lp.delay = delay;
    lp.lossToServer = loss;
    lp.lossToClient = loss;
    QuicLinkHelper link(lp);

    BulkSendHelper bulk("ns3::QuicSocketFactory", InetSocketAddress(link.ServerAddress(), 4433));
    bulk.SetAttribute("MaxBytes", UintegerValue(bytes));
    bulk.Install(link.Client()).Start(Seconds(0.1));
    PacketSinkHelper sinkHelper("ns3::QuicSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), 4433));
    ApplicationContainer sink = sinkHelper.Install(link.Server());
    Simulator::Schedule(Seconds(0.1) + NanoSeconds(1), &Connect);
    Simulator::Stop(Seconds(120));
    Simulator::Run();
    const uint64_t rx = DynamicCast<PacketSink>(sink.Get(0))->GetTotalRx();
    std::cout << "sent " << bytes << " bytes, received " << rx << (rx == bytes ? " (exact)" : " (INCOMPLETE)")
              << ", " << g_lost << " packets declared lost, last cwnd " << g_cwnd << " bytes, done at "
              << g_closed.GetSeconds() << " s\n";
    Simulator::Destroy();
    return rx == bytes ? 0 : 1;
}
