// Handshake latency against RTT: one QUIC connection per RTT, the time
// from Connect() to HandshakeDone (client side: 1 RTT for QUIC's 1-RTT
// handshake, plus serialization) and to the first response byte of a
// 1-request exchange. With --zeroRtt=1 the same with 0-RTT resumption,
// which needs the core's 0-RTT (the socket refuses it with a clear error
// where the core has none).
//
//   quic-handshake-latency [--zeroRtt=0]
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/quic-apps.h"
#include "ns3/quic-helper.h"

#include <iomanip>
#include <iostream>

using namespace ns3;

static Time g_handshake;
static Time g_response;

static void
Handshake(Time d)
{
    if (g_handshake.IsZero())
    {
        g_handshake = d;
    }
}

static void
Response(uint64_t, Time latency)
{
    g_response = latency;
}

static void
Connect()
{
    Config::ConnectWithoutContext("/NodeList/0/$ns3::QuicL4Protocol/SocketList/*/HandshakeDone",
                                  MakeCallback(&Handshake));
}

int
main(int argc, char* argv[])
{
    bool zeroRtt = false;
    CommandLine cmd(__FILE__);
    cmd.AddValue("zeroRtt", "Resume with 0-RTT", zeroRtt);
    cmd.Parse(argc, argv);
    Config::SetDefault("ns3::QuicSocket::ZeroRtt", BooleanValue(zeroRtt));

    std::cout << "rtt_ms handshake_ms request_ms (" << (zeroRtt ? "0-RTT" : "1-RTT") << ")\n";
    for (int rttMs : {10, 20, 50, 100, 200, 400})
    {
        g_handshake = Time();
        g_response = Time();
        NodeContainer nodes;
        nodes.Create(2);
        PointToPointHelper p2p;
        p2p.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
        p2p.SetChannelAttribute("Delay", TimeValue(MilliSeconds(rttMs) / 2));
        NetDeviceContainer devices = p2p.Install(nodes);
        InternetStackHelper internet;
        internet.Install(nodes);
        QuicHelper quic;
        quic.Install(nodes);
        Ipv4AddressHelper ipv4;
        ipv4.SetBase("10.1.1.0", "255.255.255.0");
        Ipv4InterfaceContainer ifaces = ipv4.Assign(devices);
        QuicHelper::InstallServer(nodes.Get(1), 443).Start(Seconds(0));
        ApplicationContainer client =
            QuicHelper::InstallClient(nodes.Get(0), InetSocketAddress(ifaces.GetAddress(1), 443), 1, 1, 100, 1000);
        client.Start(Seconds(1));
        client.Get(0)->TraceConnectWithoutContext("Response", MakeCallback(&Response));
        Simulator::Schedule(Seconds(1) + NanoSeconds(1), &Connect);
        Simulator::Stop(Seconds(10));
        Simulator::Run();
        std::cout << std::fixed << std::setprecision(3) << rttMs << " " << g_handshake.GetSeconds() * 1e3 << " "
                  << (g_handshake + g_response).GetSeconds() * 1e3 << "\n";
        Simulator::Destroy();
    }
    return 0;
}
