// The smallest QUIC script: BulkSend to a PacketSink over a point-to-point
// link, exactly as with TCP, except for one attribute (Protocol). Prints the
// bytes received and the goodput; --qlog, --pcap and --cwnd show the traces;
// --flows=N makes N connections to the one listening socket.
//
//   quic-bulk-send --maxBytes=10000000 --rate=100Mbps --delay=10ms --qlog=/tmp/q
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/quic-link-helper.h"

#include <iostream>

using namespace ns3;

static void
CwndChange(uint32_t /* oldValue */, uint32_t newValue)
{
    std::cout << Simulator::Now().GetSeconds() << " cwnd " << newValue << "\n";
}

static void
TraceCwnd()
{
    Config::ConnectWithoutContext("/NodeList/0/$ns3::QuicL4Protocol/SocketList/*/CongestionWindow",
                                  MakeCallback(&CwndChange));
}

int
main(int argc, char* argv[])
{
    uint64_t maxBytes = 10'000'000;
    std::string rate = "100Mbps";
    std::string delay = "10ms";
    std::string protocol = "ns3::QuicSocketFactory";
    std::string cc = "Cubic";
    std::string qlog;
    bool pcap = false;
    bool cwnd = false;
    double duration = 10;
    uint32_t flows = 1;
    CommandLine cmd(__FILE__);
    cmd.AddValue("flows", "BulkSend applications, all to the one sink", flows);
    cmd.AddValue("maxBytes", "Bytes to send (0: unlimited)", maxBytes);
    cmd.AddValue("rate", "Link rate", rate);
    cmd.AddValue("delay", "One-way link delay", delay);
    cmd.AddValue("protocol", "Socket factory: ns3::QuicSocketFactory or ns3::TcpSocketFactory", protocol);
    cmd.AddValue("cc", "QUIC congestion control (NewReno, Cubic, Bbr)", cc);
    cmd.AddValue("qlog", "Directory for qlog files", qlog);
    cmd.AddValue("pcap", "Write quic-bulk-send-*.pcap", pcap);
    cmd.AddValue("cwnd", "Print the sender's congestion window", cwnd);
    cmd.AddValue("duration", "Simulated seconds", duration);
    cmd.Parse(argc, argv);

    Config::SetDefault("ns3::QuicSocket::CongestionControl", StringValue(cc));
    Config::SetDefault("ns3::QuicSocket::QlogDir", StringValue(qlog));

    QuicLinkHelper::Params lp;
    lp.rate = rate;
    lp.delay = delay;
    QuicLinkHelper link(lp);

    const uint16_t port = 4433;
    BulkSendHelper bulk(protocol, InetSocketAddress(link.ServerAddress(), port));
    bulk.SetAttribute("MaxBytes", UintegerValue(maxBytes));
    for (uint32_t i = 0; i < flows; ++i)
    {
        ApplicationContainer source = bulk.Install(link.Client());
        source.Start(Seconds(0.1 + 0.01 * i));
    }
    PacketSinkHelper sinkHelper(protocol, InetSocketAddress(Ipv4Address::GetAny(), port));
    ApplicationContainer sink = sinkHelper.Install(link.Server());
    sink.Start(Seconds(0));

    if (pcap)
    {
        link.Link().EnablePcapAll("quic-bulk-send");
    }
    if (cwnd)
    {
        Simulator::Schedule(Seconds(0.2), &TraceCwnd);
    }
    Simulator::Stop(Seconds(duration));
    Simulator::Run();
    auto received = DynamicCast<PacketSink>(sink.Get(0))->GetTotalRx();
    std::cout << "received " << received << " bytes, goodput "
              << received * 8.0 / (duration - 0.1) / 1e6 << " Mbit/s\n";
    Simulator::Destroy();
    return 0;
}
