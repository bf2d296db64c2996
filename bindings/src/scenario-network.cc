#include "scenario-network.h"

#include "ns3/boolean.h"
#include "ns3/double.h"
#include "ns3/error-model.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/pointer.h"
#include "ns3/queue-size.h"
#include "ns3/quic-gilbert-elliott-error-model.h"
#include "ns3/quic-helper.h"
#include "ns3/red-queue-disc.h"
#include "ns3/traffic-control-helper.h"

#include <list>

namespace quicbed_py
{

using namespace ns3;

namespace
{

// Access links are this much faster than the bottleneck and have no
// delay, so the bottleneck alone sets the flows' rate and RTT.
constexpr double kAccessSpeedup = 10;
// Flow i's receiver listens on this port + i.
constexpr uint16_t kFirstPort = 5000;

} // namespace

Ptr<Node>
ScenarioNetwork::NewNode()
{
    Ptr<Node> n = CreateObject<Node>();
    m_nodes.Add(n);
    return n;
}

NetDeviceContainer
ScenarioNetwork::Link(Ptr<Node> a, Ptr<Node> b, double rateBps, double delay)
{
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(rateBps))));
    p2p.SetChannelAttribute("Delay", TimeValue(Seconds(delay)));
    return p2p.Install(a, b);
}

void
ScenarioNetwork::Addresses(const NetDeviceContainer& devices)
{
    m_ipv4.Assign(devices);
    m_ipv4.NewNetwork();
}

Ptr<ErrorModel>
ScenarioNetwork::LossModel()
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
ScenarioNetwork::AddBottleneck(Ptr<Node> from, Ptr<Node> to)
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
    if (!m_options.pcapDir.empty())
    {
        const std::string file = m_options.pcapDir + "/quicbed-" + std::to_string(from->GetId()) + "-" +
                                 std::to_string(d.Get(0)->GetIfIndex()) + ".pcap";
        p2p.EnablePcap(file, d.Get(0), false, true);
        m_pcapFiles.push_back(file);
    }
    m_bottlenecks.push_back({d.Get(0), d.Get(1), discs.Get(0)});
    Addresses(d);
}

void
ScenarioNetwork::AddAccess(Ptr<Node> a, Ptr<Node> b)
{
    Addresses(Link(a, b, kAccessSpeedup * m_spec.rateBps, 0));
}

ScenarioNetwork::ScenarioNetwork(const ScenarioSpec& spec, const RunOptions& options, int64_t& stream)
    : m_spec(spec),
      m_options(options),
      m_stream(stream)
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
    }
}

} // namespace quicbed_py
