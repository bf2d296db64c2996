#include "scenario-runner.h"

#include "flow-apps.h"

#include "ns3/boolean.h"
#include "ns3/double.h"
#include "ns3/error-model.h"
#include "ns3/inet-socket-address.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-generator.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-queue-disc-item.h"
#include "ns3/onoff-application.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/pointer.h"
#include "ns3/random-variable-stream.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/ppp-header.h"
#include "ns3/queue-disc.h"
#include "ns3/queue-size.h"
#include "ns3/quic-gilbert-elliott-error-model.h"
#include "ns3/quic-helper.h"
#include "ns3/quic-socket-factory.h"
#include "ns3/red-queue-disc.h"
#include "ns3/string.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

#include <cmath>
#include <cstdio>
#include <list>
#include <map>
#include <mutex>
#include <utility>

namespace quicbed_py
{

using namespace ns3;

namespace
{

// One simulation at a time per process (ns-3's singletons).
std::mutex g_simulatorMutex;

// Access links are this much faster than the bottleneck and have no
// delay, so the bottleneck alone sets the flows' rate and RTT.
constexpr double kAccessSpeedup = 10;
constexpr uint16_t kFirstPort = 5000;
// QUIC and TCP buffers large enough that only the network limits a flow.
constexpr uint32_t kTcpBuffer = 8 << 20;
constexpr uint32_t kTcpSegment = 1448;
// UDP on/off payload: a full QUIC-sized datagram.
constexpr uint32_t kUdpPayload = 1200;

// One bottleneck link: packets go from `from` (its queue) to `to`.
struct Bottleneck
{
    Ptr<NetDevice> from;
    Ptr<NetDevice> to;
    Ptr<QueueDisc> queue;
};

// Where a flow runs.
struct FlowPath
{
    Ptr<Node> sender;
    Ptr<Node> receiver;
    Ipv4Address receiverAddress;
    uint16_t port = 0;
};

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
    Ptr<Node> NewNode();
    NetDeviceContainer Link(Ptr<Node> a, Ptr<Node> b, double rateBps, double delay);
    void AddBottleneck(Ptr<Node> from, Ptr<Node> to);
    void AddAccess(Ptr<Node> a, Ptr<Node> b);
    void Addresses(const NetDeviceContainer& devices);
    void BuildTopology();
    Ptr<ErrorModel> LossModel();
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
    NodeContainer m_nodes;
    std::vector<Bottleneck> m_bottlenecks;
    std::vector<FlowPath> m_paths;
    std::vector<Ptr<FlowSender>> m_senders; // null for UDP flows
    std::vector<Ptr<FlowSink>> m_sinks;
    std::map<std::pair<uint32_t, uint16_t>, uint32_t> m_flowOf; // (receiver address, port) -> flow
    std::vector<uint64_t> m_drops;
    Ipv4AddressHelper m_ipv4;
    int64_t m_stream = 0; // next RNG stream
    RunResult m_result;
};

Ptr<Node>
Simulation::NewNode()
{
    Ptr<Node> n = CreateObject<Node>();
    m_nodes.Add(n);
    return n;
}

NetDeviceContainer
Simulation::Link(Ptr<Node> a, Ptr<Node> b, double rateBps, double delay)
{
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(rateBps))));
    p2p.SetChannelAttribute("Delay", TimeValue(Seconds(delay)));
    return p2p.Install(a, b);
}

void
Simulation::Addresses(const NetDeviceContainer& devices)
{
    m_ipv4.Assign(devices);
    m_ipv4.NewNetwork();
}

Ptr<ErrorModel>
Simulation::LossModel()
{
    const LossSpec& l = m_spec.loss;
    switch (l.kind)
    {
    case LossSpec::NONE:
        return nullptr;
    case LossSpec::RANDOM: {
        Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
        em->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
        em->SetRate(l.p);
        m_stream += em->AssignStreams(m_stream);
        return em;
    }
    case LossSpec::GILBERT_ELLIOTT: {
        Ptr<QuicGilbertElliottErrorModel> em = CreateObject<QuicGilbertElliottErrorModel>();
        em->SetAttribute("PGoodBad", DoubleValue(l.pGoodBad));
        em->SetAttribute("PBadGood", DoubleValue(l.pBadGood));
        em->SetAttribute("LossGood", DoubleValue(l.lossGood));
        em->SetAttribute("LossBad", DoubleValue(l.lossBad));
        m_stream += em->AssignStreams(m_stream);
        return em;
    }
    case LossSpec::DROP_LIST: {
        Ptr<ReceiveListErrorModel> em = CreateObject<ReceiveListErrorModel>();
        em->SetList(std::list<uint32_t>(l.drops.begin(), l.drops.end()));
        return em;
    }
    }
    return nullptr;
}

void
Simulation::AddBottleneck(Ptr<Node> from, Ptr<Node> to)
{
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(m_spec.rateBps))));
    p2p.SetChannelAttribute("Delay", TimeValue(Seconds(m_spec.delaySeconds)));
    // The queue disc holds the queue; the device keeps one packet so that
    // the disc, not the device, decides what waits and what is dropped.
    p2p.SetQueue("ns3::DropTailQueue", "MaxSize", QueueSizeValue(QueueSize("1p")));
    NetDeviceContainer d = p2p.Install(from, to);

    const QueueSize size(QueueSizeUnit::PACKETS, m_spec.queuePackets);
    TrafficControlHelper tc;
    if (m_spec.queueDisc == "fifo")
    {
        tc.SetRootQueueDisc("ns3::FifoQueueDisc", "MaxSize", QueueSizeValue(size));
    }
    else if (m_spec.queueDisc == "red")
    {
        // ns-3's defaults are MinTh 5 and MaxTh 15 of a 25-packet queue:
        // the same fractions of this one. Above MaxTh ECN-capable packets
        // are marked, not dropped (RFC 3168 §7: drop only when full).
        const double q = m_spec.queuePackets;
        tc.SetRootQueueDisc("ns3::RedQueueDisc",
                            "MaxSize", QueueSizeValue(size),
                            "MinTh", DoubleValue(q / 5),
                            "MaxTh", DoubleValue(3 * q / 5),
                            "UseEcn", BooleanValue(true),
                            "UseHardDrop", BooleanValue(false),
                            "LinkBandwidth", DataRateValue(DataRate(static_cast<uint64_t>(m_spec.rateBps))),
                            "LinkDelay", TimeValue(Seconds(m_spec.delaySeconds)));
    }
    else if (m_spec.queueDisc == "codel")
    {
        tc.SetRootQueueDisc("ns3::CoDelQueueDisc", "MaxSize", QueueSizeValue(size), "UseEcn", BooleanValue(true));
    }
    else
    {
        tc.SetRootQueueDisc("ns3::FqCoDelQueueDisc", "MaxSize", QueueSizeValue(size), "UseEcn", BooleanValue(true));
    }
    QueueDiscContainer discs = tc.Install(d);
    for (uint32_t i = 0; i < discs.GetN(); ++i)
    {
        if (Ptr<RedQueueDisc> red = DynamicCast<RedQueueDisc>(discs.Get(i)))
        {
            m_stream += red->AssignStreams(m_stream);
        }
    }
    if (Ptr<ErrorModel> em = LossModel())
    {
        d.Get(1)->SetAttribute("ReceiveErrorModel", PointerValue(em));
    }
    discs.Get(0)->TraceConnectWithoutContext("Drop", MakeCallback(&Simulation::QueueDrop, this));
    d.Get(1)->TraceConnectWithoutContext("PhyRxDrop", MakeCallback(&Simulation::LinkDrop, this));
    if (!m_options.pcapDir.empty())
    {
        const std::string file = m_options.pcapDir + "/quicbed-" + std::to_string(from->GetId()) + "-" +
                                 std::to_string(d.Get(0)->GetIfIndex()) + ".pcap";
        p2p.EnablePcap(file, d.Get(0), false, true);
        m_result.pcapFiles.push_back(file);
    }
    m_bottlenecks.push_back({d.Get(0), d.Get(1), discs.Get(0)});
    Addresses(d);
}

void
Simulation::AddAccess(Ptr<Node> a, Ptr<Node> b)
{
    Addresses(Link(a, b, kAccessSpeedup * m_spec.rateBps, 0));
}

void
Simulation::BuildTopology()
{
    const uint32_t n = m_spec.flows.size();
    m_ipv4.SetBase("10.0.0.0", "255.255.255.0");
    auto stack = [this]() {
        InternetStackHelper internet;
        internet.Install(m_nodes);
    };
    if (m_spec.topology == "p2p")
    {
        Ptr<Node> client = NewNode();
        Ptr<Node> server = NewNode();
        stack();
        AddBottleneck(client, server);
        for (uint32_t i = 0; i < n; ++i)
        {
            m_paths.push_back({client, server, {}, 0});
        }
    }
    else if (m_spec.topology == "dumbbell")
    {
        // Flow i: left leaf i -> left router -> right router -> right leaf i.
        Ptr<Node> left = NewNode();
        Ptr<Node> right = NewNode();
        for (uint32_t i = 0; i < n; ++i)
        {
            Ptr<Node> s = NewNode();
            Ptr<Node> r = NewNode();
            m_paths.push_back({s, r, {}, 0});
        }
        stack();
        AddBottleneck(left, right);
        for (const FlowPath& p : m_paths)
        {
            AddAccess(p.sender, left);
            AddAccess(right, p.receiver);
        }
    }
    else
    {
        // Routers 0..hops in a line, one bottleneck link between
        // neighbours. Flow 0 crosses all of them; flow k >= 1 crosses link
        // (k - 1) mod hops only.
        std::vector<Ptr<Node>> routers;
        for (uint32_t h = 0; h <= m_spec.hops; ++h)
        {
            routers.push_back(NewNode());
        }
        std::vector<std::pair<uint32_t, uint32_t>> ends;
        for (uint32_t i = 0; i < n; ++i)
        {
            const uint32_t first = i == 0 ? 0 : (i - 1) % m_spec.hops;
            const uint32_t last = i == 0 ? m_spec.hops : first + 1;
            ends.push_back({first, last});
            m_paths.push_back({NewNode(), NewNode(), {}, 0});
        }
        stack();
        for (uint32_t h = 0; h < m_spec.hops; ++h)
        {
            AddBottleneck(routers[h], routers[h + 1]);
        }
        for (uint32_t i = 0; i < n; ++i)
        {
            AddAccess(m_paths[i].sender, routers[ends[i].first]);
            AddAccess(routers[ends[i].second], m_paths[i].receiver);
        }
    }
    InternetStackHelper internet;
    m_stream += internet.AssignStreams(m_nodes, m_stream);
    QuicHelper quic;
    quic.Install(m_nodes);
    m_stream += QuicHelper::AssignStreams(m_nodes, m_stream);
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();
    for (uint32_t i = 0; i < n; ++i)
    {
        FlowPath& p = m_paths[i];
        // The receiver's first interface after loopback faces the flow.
        p.receiverAddress = p.receiver->GetObject<Ipv4>()->GetAddress(1, 0).GetLocal();
        p.port = static_cast<uint16_t>(kFirstPort + i);
        m_flowOf[{p.receiverAddress.Get(), p.port}] = i;
    }
}

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
        const FlowPath& p = m_paths[i];
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
    for (uint32_t j = 0; j < m_bottlenecks.size(); ++j)
    {
        const Bottleneck& b = m_bottlenecks[j];
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
    BuildTopology();
    InstallFlows();
    Simulator::Schedule(Seconds(0), &Simulation::Sample, this, 0);
    Simulator::Stop(Seconds(m_spec.duration));
    Simulator::Run();
    Record();
    RunResult result = Collect();
    m_senders.clear();
    m_sinks.clear();
    m_bottlenecks.clear();
    m_paths.clear();
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
