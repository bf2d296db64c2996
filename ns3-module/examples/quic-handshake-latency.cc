// Handshake latency against RTT, with and without 0-RTT: per RTT, two
// connections from one client node to one server, the second 2 s after
// the first; each makes one request (100 bytes, 1000-byte response). For
// each it prints the time from Connect() to HandshakeDone and to the end
// of the response. The first is a full 1-RTT handshake: the response
// ends after about 2 RTTs. With --zeroRtt=1 the second resumes the
// first's session ticket and sends its request in 0-RTT packets, which
// the server answers in its first flight (0.5-RTT data, RFC 9001 §4.1.1):
// its response ends after about 1 RTT.
//
//   quic-handshake-latency [--zeroRtt=1]
#include "ns3/core-module.h"
#include "ns3/quic-apps.h"
#include "ns3/quic-helper.h"
#include "ns3/quic-link-helper.h"

#include <iomanip>
#include <iostream>

using namespace ns3;

struct Latency
{
    Time start;
    Time handshake;
    Time response;
};

static Latency g_latency[2];

static void
Handshake(Latency* l, Time d)
{
    l->handshake = d;
}

static void
Response(Latency* l, uint64_t, Time)
{
    l->response = Simulator::Now() - l->start;
}

static void
ConnectHandshake(Latency* l, uint32_t socketIndex)
{
    Config::ConnectWithoutContext("/NodeList/0/$ns3::QuicL4Protocol/SocketList/" + std::to_string(socketIndex) +
                                      "/HandshakeDone",
                                  MakeBoundCallback(&Handshake, l));
}

int
main(int argc, char* argv[])
{
    bool zeroRtt = false;
    CommandLine cmd(__FILE__);
    cmd.AddValue("zeroRtt", "Resume the second connection with 0-RTT", zeroRtt);
    cmd.Parse(argc, argv);
    Config::SetDefault("ns3::QuicSocket::ZeroRtt", BooleanValue(zeroRtt));

    std::cout << "rtt_ms first_handshake_ms first_response_ms second_handshake_ms second_response_ms ("
              << (zeroRtt ? "second in 0-RTT" : "1-RTT both") << ")\n";
    for (int rttMs : {10, 20, 50, 100, 200, 400})
    {
        QuicLinkHelper::Params lp;
        lp.rate = "100Mbps";
        lp.delay = std::to_string(rttMs / 2.0) + "ms";
        QuicLinkHelper link(lp);
        QuicHelper::InstallServer(link.Server(), 443).Start(Seconds(0));
        for (uint32_t i = 0; i < 2; ++i)
        {
            Latency* l = &g_latency[i];
            *l = Latency();
            l->start = Seconds(1 + 2 * i);
            ApplicationContainer client = QuicHelper::InstallClient(link.Client(),
                                                                    InetSocketAddress(link.ServerAddress(), 443),
                                                                    1,
                                                                    1,
                                                                    100,
                                                                    1000);
            client.Start(l->start);
            client.Get(0)->TraceConnectWithoutContext("Response", MakeBoundCallback(&Response, l));
            // The client node's i-th QUIC socket is this connection's.
            Simulator::Schedule(l->start + NanoSeconds(1), &ConnectHandshake, l, i);
        }
        Simulator::Stop(Seconds(10));
        Simulator::Run();
        std::cout << std::fixed << std::setprecision(3) << rttMs;
        for (const Latency& l : g_latency)
        {
            std::cout << " " << l.handshake.GetSeconds() * 1e3 << " " << l.response.GetSeconds() * 1e3;
        }
        std::cout << "\n";
        Simulator::Destroy();
    }
    return 0;
}
