#include "quic-test-util.h"

#include "ns3/application-container.h"
#include "ns3/boolean.h"
#include "ns3/bulk-send-helper.h"
#include "ns3/config.h"
#include "ns3/inet-socket-address.h"
#include "ns3/packet-sink-helper.h"
#include "ns3/packet-sink.h"
#include "ns3/quic-link-helper.h"
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
OnCongState(TransferResult* r, TcpSocketState::TcpCongState_t, TcpSocketState::TcpCongState_t now)
{
    ++r->congStates[now];
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
    Config::ConnectWithoutContext(base + "CongState", MakeBoundCallback(&OnCongState, r));
    Config::ConnectWithoutContext(base + "PacketLost", MakeBoundCallback(&OnLost, r));
    Config::ConnectWithoutContext(base + "CongestionWindow", MakeBoundCallback(&OnCwnd, r));
    Config::ConnectWithoutContext(base + "HandshakeDone", MakeBoundCallback(&OnHandshake, r));
    Config::ConnectWithoutContext(base + "ConnectionClosed", MakeBoundCallback(&OnClosed, r));
}

} // namespace

void
ResetSimulation(uint32_t seed, uint32_t run)
{
    Config::Reset();
    RngSeedManager::SetSeed(seed);
    RngSeedManager::SetRun(run);
}

TransferResult
RunTransfer(const Transfer& t)
{
    ResetSimulation(t.seed, t.run);
    Config::SetDefault("ns3::QuicSocket::CongestionControl", StringValue(t.congestionControl));
    Config::SetDefault("ns3::QuicSocket::CryptoMode", StringValue(t.cryptoMode));
    Config::SetDefault("ns3::QuicSocket::QlogDir", StringValue(t.qlogDir));
    Config::SetDefault("ns3::QuicSocket::InitialWindow", UintegerValue(t.initialWindow));

    QuicLinkHelper::Params lp;
    lp.rate = t.rate;
    lp.delay = t.delay;
    lp.queuePackets = t.queuePackets;
    lp.lossToServer = t.dataLoss;
    lp.lossToClient = t.ackLoss;
    QuicLinkHelper link(lp);

    const uint16_t port = 4433;
    BulkSendHelper bulk("ns3::QuicSocketFactory", InetSocketAddress(link.ServerAddress(), port));
    bulk.SetAttribute("MaxBytes", UintegerValue(t.maxBytes));
    ApplicationContainer source = bulk.Install(link.Client());
    source.Start(Seconds(0.1));
    PacketSinkHelper sinkHelper("ns3::QuicSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
    ApplicationContainer sink = sinkHelper.Install(link.Server());
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
