// Speed of the simulator host: 10 simulated seconds of a 100 Mbit/s bulk
// transfer over QUIC (real TLS and AES-GCM unless --crypto says otherwise)
// and the same with ns-3's own TCP BulkSend on the same topology, each
// timed; prints both wall and CPU times and their ratio (the goal is
// QUIC <= 2x TCP). A benchmark, not a test: nothing is asserted.
//
//   quic-benchmark [--seconds=10] [--rate=100Mbps] [--delay=10ms] [--crypto=Gnutls]
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/quic-link-helper.h"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>

using namespace ns3;

struct Timing
{
    double wall = 0;
    double cpu = 0;
    double goodput = 0; // Mbit/s
};

static Timing
RunOnce(const std::string& factory, double seconds, const std::string& rate, const std::string& delay)
{
    QuicLinkHelper::Params lp;
    lp.rate = rate;
    lp.delay = delay;
    QuicLinkHelper link(lp);

    const uint16_t port = 4433;
    BulkSendHelper bulk(factory, InetSocketAddress(link.ServerAddress(), port));
    bulk.SetAttribute("MaxBytes", UintegerValue(0));
    bulk.SetAttribute("SendSize", UintegerValue(1448 * 10));
    bulk.Install(link.Client()).Start(Seconds(0));
    PacketSinkHelper sinkHelper(factory, InetSocketAddress(Ipv4Address::GetAny(), port));
    ApplicationContainer sink = sinkHelper.Install(link.Server());
    sink.Start(Seconds(0));

    Simulator::Stop(Seconds(seconds));
    const auto wall0 = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    Simulator::Run();
    Timing t;
    t.cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
    t.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    t.goodput = DynamicCast<PacketSink>(sink.Get(0))->GetTotalRx() * 8.0 / seconds / 1e6;
    Simulator::Destroy();
    return t;
}

int
main(int argc, char* argv[])
{
    double seconds = 10;
    std::string rate = "100Mbps";
    std::string delay = "10ms";
    std::string crypto = "Gnutls";
    CommandLine cmd(__FILE__);
    cmd.AddValue("seconds", "Simulated seconds per run", seconds);
    cmd.AddValue("rate", "Link rate", rate);
    cmd.AddValue("delay", "One-way delay", delay);
    cmd.AddValue("crypto", "QuicSocket CryptoMode (Gnutls, NullCipherForSweeps)", crypto);
    cmd.Parse(argc, argv);

    Config::SetDefault("ns3::QuicSocket::CryptoMode", StringValue(crypto));
    // TCP as fast as the link: full-size segments, buffers above the BDP
    // (ns-3's defaults, 536 bytes and 128 KiB, would hold it far below).
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(8 << 20));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(8 << 20));

    const Timing quic = RunOnce("ns3::QuicSocketFactory", seconds, rate, delay);
    const Timing tcp = RunOnce("ns3::TcpSocketFactory", seconds, rate, delay);
    std::cout << std::fixed << std::setprecision(3);
    std::cout << "simulated " << seconds << " s of " << rate << " bulk transfer, one-way delay " << delay << "\n";
    std::cout << "QUIC (" << crypto << "): wall " << quic.wall << " s, cpu " << quic.cpu << " s, goodput "
              << quic.goodput << " Mbit/s\n";
    std::cout << "TCP (ns-3 BulkSend): wall " << tcp.wall << " s, cpu " << tcp.cpu << " s, goodput " << tcp.goodput
              << " Mbit/s\n";
    std::cout << "ratio QUIC/TCP: wall " << quic.wall / tcp.wall << ", cpu " << quic.cpu / tcp.cpu << "\n";
    return 0;
}
