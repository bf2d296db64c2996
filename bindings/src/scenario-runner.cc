#include "scenario-runner.h"

#include "flow-apps.h"
#include "scenario-network.h"

#include "ns3/boolean.h"
#include "ns3/double.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-address-generator.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-queue-disc-item.h"
#include "ns3/onoff-application.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/pointer.h"
#include "ns3/random-variable-stream.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/ppp-header.h"
#include "ns3/queue-disc.h"
#include "ns3/queue.h"
#include "ns3/quic-socket-factory.h"
#include "ns3/string.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace quicbed_py
{

using namespace ns3;

namespace
{

// One simulation at a time per process (ns-3's singletons).
std::mutex g_simulatorMutex;

// TCP buffers large enough that only the network limits a flow, and
// ns-3 TCP segments filling a 1500-byte MTU with timestamps.
constexpr uint32_t kTcpBuffer = 8 << 20;
constexpr uint32_t kTcpSegment = 1448;
// UDP on/off payload: a full QUIC-sized datagram.
constexpr uint32_t kUdpPayload = 1200;

class Simulation
{
  public:
    Simulation(const ScenarioSpec& spec, const RunOptions& options)
        : m_spec(spec),
          m_options(options)
    {
    }

    RunResult Run();

  private:
    void InstallFlows();
    SocketAttributes QuicAttributes(const FlowSpec& f, bool sender) const;
    // Samples at k * sampleInterval before the end, then Record() once
    // more at the end.
    void Sample(uint64_t k);
    void Record();
    void CountDrop(const Ipv4Header& ip, Ptr<const Packet> l4);
    void QueueDrop(Ptr<const QueueDiscItem> item);
    void LinkDrop(Ptr<const Packet> p);
    RunResult Collect();

    const ScenarioSpec& m_spec;
    const RunOptions& m_options;
    std::unique_ptr<ScenarioNetwork> m_network;
    std::vector<Ptr<FlowSender>> m_senders; // null for UDP flows
    std::vector<Ptr<FlowSink>> m_sinks;
    std::map<std::pair<uint32_t, uint16_t>, uint32_t> m_flowOf; // (receiver address, port) -> flow
    std::vector<uint64_t> m_drops;
    int64_t m_stream = 0; // next RNG stream
    RunResult m_result;
};

SocketAttributes
Simulation::QuicAttributes(const FlowSpec& f, bool sender) const
{
    SocketAttributes a;
    auto add = [&a](const char* name, Ptr<AttributeValue> v) { a.emplace_back(name, v); };
    add("CongestionControl", Create<StringValue>(f.cc));
    add("CryptoMode", Create<StringValue>(f.nullCipher ? "NullCipherForSweeps" : "Gnutls"));
    add("Ecn", Create<BooleanValue>(f.ecn));
    add("ZeroRtt", Create<BooleanValue>(f.zeroRtt));
    add("Version", Create<UintegerValue>(f.version));
    add("InitialWindow", Create<UintegerValue>(f.initialWindow));
    if (f.maxData > 0)
    {
        add("InitialMaxData", Create<UintegerValue>(f.maxData));
        add("MaxConnectionWindow", Create<UintegerValue>(f.maxData));
    }
    if (f.maxStreamData > 0)
    {
        add("InitialMaxStreamData", Create<UintegerValue>(f.maxStreamData));
        add("MaxStreamWindow", Create<UintegerValue>(f.maxStreamData));
    }
    if (!m_options.qlogDir.empty())
    {
        add("QlogDir", Create<StringValue>(m_options.qlogDir));
    }
    if (sender && !m_result.keyLogFile.empty())
    {
        add("TlsKeyLogFile", Create<StringValue>(m_result.keyLogFile));
    }
    return a;
}

void
Simulation::InstallFlows()
{
    for (uint32_t i = 0; i < m_spec.flows.size(); ++i)
    {
        const FlowSpec& f = m_spec.flows[i];
        const FlowPath& p = m_network->Paths()[i];
        const InetSocketAddress remote(p.receiverAddress, p.port);

        FlowSink::Params sp;
        sp.local = InetSocketAddress(Ipv4Address::GetAny(), p.port);
        sp.start = Seconds(f.start);
        sp.expected = f.bytes;
        sp.datagrams = f.datagrams;
        FlowSender::Params tp;
        tp.remote = remote;
        tp.start = Seconds(f.start);
        tp.maxBytes = f.bytes;
        switch (f.kind)
        {
        case FlowSpec::QUIC:
            sp.factory = tp.factory = QuicSocketFactory::GetTypeId();
            sp.attributes = QuicAttributes(f, false);
            tp.attributes = QuicAttributes(f, true);
            tp.datagrams = f.datagrams;
            tp.fetchTicket = f.zeroRtt;
            break;
        case FlowSpec::TCP:
            sp.factory = tp.factory = TcpSocketFactory::GetTypeId();
            sp.attributes = tp.attributes = {{"SegmentSize", Create<UintegerValue>(kTcpSegment)},
                                             {"SndBufSize", Create<UintegerValue>(kTcpBuffer)},
                                             {"RcvBufSize", Create<UintegerValue>(kTcpBuffer)}};
            tp.tcpCongestionOps = f.tcpVariant;
            break;
        case FlowSpec::UDP:
            sp.factory = UdpSocketFactory::GetTypeId();
            break;
        }
        Ptr<FlowSink> sink = CreateObject<FlowSink>();
        sink->Configure(sp);
        p.receiver->AddApplication(sink);
        sink->SetStartTime(Seconds(0));
        m_sinks.push_back(sink);

        if (f.kind == FlowSpec::UDP)
        {
            Ptr<OnOffApplication> onoff = CreateObject<OnOffApplication>();
            onoff->SetAttribute("Protocol", TypeIdValue(UdpSocketFactory::GetTypeId()));
            onoff->SetAttribute("Remote", AddressValue(remote));
            onoff->SetAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(f.udpRateBps))));
            onoff->SetAttribute("PacketSize", UintegerValue(kUdpPayload));
            auto constant = [](double v) {
                Ptr<ConstantRandomVariable> r = CreateObject<ConstantRandomVariable>();
                r->SetAttribute("Constant", DoubleValue(v));
                return r;
            };
            onoff->SetAttribute("OnTime", PointerValue(constant(f.onSeconds)));
            onoff->SetAttribute("OffTime", PointerValue(constant(f.offSeconds)));
            m_stream += onoff->AssignStreams(m_stream);
            p.sender->AddApplication(onoff);
            onoff->SetStartTime(Seconds(f.start));
            m_senders.push_back(nullptr);
            continue;
        }
        Ptr<FlowSender> sender = CreateObject<FlowSender>();
        sender->Configure(tp);
        p.sender->AddApplication(sender);
        // It starts at 0 to fetch a 0-RTT ticket first; its flow at `start`.
        sender->SetStartTime(Seconds(0));
        m_senders.push_back(sender);
    }
}

void
Simulation::CountDrop(const Ipv4Header& ip, Ptr<const Packet> l4)
{
    // UDP and TCP headers both begin with the source and destination port.
    uint8_t ports[4];
    if (l4->CopyData(ports, 4) < 4)
    {
        return;
    }
    const uint16_t dst = static_cast<uint16_t>(ports[2] << 8 | ports[3]);
    auto it = m_flowOf.find({ip.GetDestination().Get(), dst});
    if (it != m_flowOf.end())
    {
        ++m_drops[it->second];
    }
}

void
Simulation::QueueDrop(Ptr<const QueueDiscItem> item)
{
    if (Ptr<const Ipv4QueueDiscItem> ip = DynamicCast<const Ipv4QueueDiscItem>(item))
    {
        CountDrop(ip->GetHeader(), ip->GetPacket());
    }
}

void
Simulation::LinkDrop(Ptr<const Packet> p)
{
    Ptr<Packet> copy = p->Copy();
    PppHeader ppp;
    Ipv4Header ip;
    copy->RemoveHeader(ppp);
    if (ppp.GetProtocol() != 0x0021) // PPP's IPv4 protocol number (RFC 1332)
    {
        return;
    }
    copy->RemoveHeader(ip);
    CountDrop(ip, copy);
}

void
Simulation::Sample(uint64_t k)
{
    Record();
    const Time next = Seconds(m_options.sampleInterval) * static_cast<int64_t>(k + 1);
    if (next < Seconds(m_spec.duration))
    {
        Simulator::Schedule(next - Simulator::Now(), &Simulation::Sample, this, k + 1);
    }
}

void
Simulation::Record()
{
    const double t = Simulator::Now().GetSeconds();
    RunResult::Series& s = m_result.series;
    for (uint32_t i = 0; i < m_sinks.size(); ++i)
    {
        const FlowSender::State st = m_senders[i] ? m_senders[i]->GetState() : FlowSender::State{};
        s.flow.push_back(i);
        s.time.push_back(t);
        s.cwnd.push_back(st.cwnd);
        s.rtt.push_back(st.rtt);
        s.bytesInFlight.push_back(st.bytesInFlight);
        s.pacingRate.push_back(st.pacingRate);
        s.delivered.push_back(static_cast<double>(m_sinks[i]->Delivered()));
    }
    RunResult::Queue& q = m_result.queue;
    const std::vector<Bottleneck>& bottlenecks = m_network->Bottlenecks();
    for (uint32_t j = 0; j < bottlenecks.size(); ++j)
    {
        const Bottleneck& b = bottlenecks[j];
        Ptr<Queue<Packet>> device = DynamicCast<PointToPointNetDevice>(b.from)->GetQueue();
        q.link.push_back(j);
        q.time.push_back(t);
        q.packets.push_back(b.queue->GetNPackets() + device->GetNPackets());
        q.bytes.push_back(b.queue->GetNBytes() + device->GetNBytes());
        const QueueDisc::Stats& stats = b.queue->GetStats();
        q.drops.push_back(stats.nTotalDroppedPackets);
        q.marks.push_back(stats.nTotalMarkedPackets);
    }
}

RunResult
Simulation::Collect()
{
    RunResult::Flows& r = m_result.flows;
    for (uint32_t i = 0; i < m_sinks.size(); ++i)
    {
        const FlowSpec& f = m_spec.flows[i];
        const Ptr<FlowSink>& sink = m_sinks[i];
        const FlowSender::State st = m_senders[i] ? m_senders[i]->GetState() : FlowSender::State{};
        const double completion = sink->CompletionTime();
        const double active = std::isnan(completion) ? m_spec.duration - f.start : completion;
        r.bytes.push_back(sink->Delivered());
        r.goodputBps.push_back(active > 0 ? static_cast<double>(sink->Delivered()) * 8 / active : kNaN);
        r.completionTime.push_back(completion);
        r.firstByteTime.push_back(sink->FirstByteTime());
        r.handshakeTime.push_back(st.handshakeTime);
        r.lostPackets.push_back(m_drops[i]);
        r.declaredLost.push_back(st.declaredLost);
        r.retransmissions.push_back(st.retransmissions);
    }
    return std::move(m_result);
}

RunResult
Simulation::Run()
{
    RngSeedManager::SetSeed(m_options.seed);
    RngSeedManager::SetRun(m_options.run);
    // Addresses are handed out from a process-wide generator that
    // remembers every address of earlier runs.
    Ipv4AddressGenerator::Reset();
    if (!m_options.pcapDir.empty())
    {
        m_result.keyLogFile = m_options.pcapDir + "/keylog.txt";
        std::remove(m_result.keyLogFile.c_str()); // GnuTLS appends
    }
    m_drops.assign(m_spec.flows.size(), 0);
    m_network = std::make_unique<ScenarioNetwork>(m_spec, m_options, m_stream);
    m_result.pcapFiles = m_network->PcapFiles();
    const std::vector<FlowPath>& paths = m_network->Paths();
    for (uint32_t i = 0; i < paths.size(); ++i)
    {
        m_flowOf[{paths[i].receiverAddress.Get(), paths[i].port}] = i;
    }
    // Drops by a bottleneck's queue disc or its loss model, counted per flow.
    for (const Bottleneck& b : m_network->Bottlenecks())
    {
        b.queue->TraceConnectWithoutContext("Drop", MakeCallback(&Simulation::QueueDrop, this));
        b.to->TraceConnectWithoutContext("PhyRxDrop", MakeCallback(&Simulation::LinkDrop, this));
    }
    InstallFlows();
    Simulator::Schedule(Seconds(0), &Simulation::Sample, this, 0);
    Simulator::Stop(Seconds(m_spec.duration));
    Simulator::Run();
    Record();
    RunResult result = Collect();
    m_senders.clear();
    m_sinks.clear();
    m_network.reset();
    Simulator::Destroy();
    return result;
}

} // namespace

RunResult
RunScenario(const ScenarioSpec& spec, const RunOptions& options)
{
    std::lock_guard<std::mutex> lock(g_simulatorMutex);
    Simulation sim(spec, options);
    return sim.Run();
}

} // namespace quicbed_py
