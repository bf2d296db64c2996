#include "quic-test-util.h"

#include "ns3/application-container.h"
#include "ns3/boolean.h"
#include "ns3/bulk-send-helper.h"
#include "ns3/config.h"
#include "ns3/double.h"
#include "ns3/error-model.h"
#include "ns3/inet-socket-address.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/packet-sink-helper.h"
#include "ns3/packet-sink.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/pointer.h"
#include "ns3/queue-size.h"
#include "ns3/quic-helper.h"
#include "ns3/quic-socket.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdlib.h>
#include <vector>

namespace ns3
{
namespace quictest
{

namespace
{

void
OnTx(TransferResult* r, Ptr<const Packet>, Ptr<const QuicSocket>)
{
    ++r->clientDatagrams;
}

void
OnLost(TransferResult* r, uint64_t)
{
    ++r->lostPackets;
}

void
OnCwnd(TransferResult* r, uint32_t, uint32_t)
{
    ++r->cwndChanges;
}

void
OnHandshake(TransferResult* r, Time)
{
    r->handshakeDone = true;
}

void
OnClosed(TransferResult* r, uint64_t code, bool, bool)
{
    r->clientClosedCleanly = code == 0;
    r->completion = Simulator::Now();
}

void
ConnectClientTraces(TransferResult* r)
{
    const std::string base = "/NodeList/0/$ns3::QuicL4Protocol/SocketList/*/";
    Config::ConnectWithoutContext(base + "Tx", MakeBoundCallback(&OnTx, r));
    Config::ConnectWithoutContext(base + "PacketLost", MakeBoundCallback(&OnLost, r));
    Config::ConnectWithoutContext(base + "CongestionWindow", MakeBoundCallback(&OnCwnd, r));
    Config::ConnectWithoutContext(base + "HandshakeDone", MakeBoundCallback(&OnHandshake, r));
    Config::ConnectWithoutContext(base + "ConnectionClosed", MakeBoundCallback(&OnClosed, r));
}

Ptr<ErrorModel>
Loss(double rate, int64_t stream)
{
    Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
    em->SetAttribute("ErrorRate", DoubleValue(rate));
    em->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
    em->AssignStreams(stream);
    return em;
}

} // namespace

TransferResult
RunTransfer(const Transfer& t)
{
    Config::Reset();
    RngSeedManager::SetSeed(t.seed);
    RngSeedManager::SetRun(t.run);
    Config::SetDefault("ns3::QuicSocket::CongestionControl", StringValue(t.congestionControl));
    Config::SetDefault("ns3::QuicSocket::CryptoMode", StringValue(t.cryptoMode));
    Config::SetDefault("ns3::QuicSocket::QlogDir", StringValue(t.qlogDir));

    NodeContainer nodes;
    nodes.Create(2);
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue(t.rate));
    p2p.SetChannelAttribute("Delay", StringValue(t.delay));
    p2p.SetQueue("ns3::DropTailQueue", "MaxSize", QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, t.queuePackets)));
    NetDeviceContainer devices = p2p.Install(nodes);
    if (t.dataLoss > 0)
    {
        devices.Get(1)->SetAttribute("ReceiveErrorModel", PointerValue(Loss(t.dataLoss, 11)));
    }
    if (t.ackLoss > 0)
    {
        devices.Get(0)->SetAttribute("ReceiveErrorModel", PointerValue(Loss(t.ackLoss, 12)));
    }
    InternetStackHelper internet;
    internet.Install(nodes);
    internet.AssignStreams(nodes, 100);
    QuicHelper quic;
    quic.Install(nodes);
    QuicHelper::AssignStreams(nodes, 200);
    Ipv4AddressHelper ipv4;
    ipv4.SetBase("10.1.1.0", "255.255.255.0");
    Ipv4InterfaceContainer ifaces = ipv4.Assign(devices);

    const uint16_t port = 4433;
    BulkSendHelper bulk("ns3::QuicSocketFactory", InetSocketAddress(ifaces.GetAddress(1), port));
    bulk.SetAttribute("MaxBytes", UintegerValue(t.maxBytes));
    ApplicationContainer source = bulk.Install(nodes.Get(0));
    source.Start(Seconds(0.1));
    PacketSinkHelper sinkHelper("ns3::QuicSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
    ApplicationContainer sink = sinkHelper.Install(nodes.Get(1));
    sink.Start(Seconds(0));

    TransferResult r;
    // The client's socket exists once BulkSend connected.
    Simulator::Schedule(Seconds(0.1) + NanoSeconds(1), &ConnectClientTraces, &r);
    Simulator::Stop(Seconds(t.seconds));
    Simulator::Run();
    r.rxBytes = DynamicCast<PacketSink>(sink.Get(0))->GetTotalRx();
    Simulator::Destroy();
    return r;
}

std::string
MakeTempDir(const std::string& prefix)
{
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data()))
    {
        return std::string();
    }
    return tmpl;
}

uint64_t
HashDirectory(const std::string& dir)
{
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
    {
        files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](const std::string& s) {
        for (unsigned char c : s)
        {
            h = (h ^ c) * 0x100000001b3ULL;
        }
    };
    for (const auto& f : files)
    {
        mix(f.filename().string());
        std::ifstream in(f, std::ios::binary);
        mix(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
    }
    return h;
}

size_t
CountFiles(const std::string& dir)
{
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
    {
        ++n;
    }
    return n;
}

} // namespace quictest
} // namespace ns3
