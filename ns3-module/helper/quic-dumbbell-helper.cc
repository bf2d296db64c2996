#include "quic-dumbbell-helper.h"

#include "quic-helper.h"

#include "ns3/bulk-send-helper.h"
#include "ns3/config.h"
#include "ns3/inet-socket-address.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/packet-sink-helper.h"
#include "ns3/packet-sink.h"
#include "ns3/queue-size.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/type-id.h"
#include "ns3/uinteger.h"

namespace ns3
{

QuicDumbbellHelper::QuicDumbbellHelper(const Params& params)
    : m_params(params)
{
    Config::SetDefault("ns3::TcpL4Protocol::SocketType",
                       TypeIdValue(TypeId::LookupByName(params.tcpCongestionControl)));
    // Full-size segments like QUIC's datagrams, and buffers large enough that
    // TCP is never window-limited (ns-3's defaults are 536 bytes and 128 KiB).
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(8 << 20));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(8 << 20));

    m_access.SetDeviceAttribute("DataRate", StringValue(params.accessRate));
    m_access.SetChannelAttribute("Delay", StringValue(params.accessDelay));
    m_bottleneck.SetDeviceAttribute("DataRate", StringValue(params.bottleneckRate));
    m_bottleneck.SetChannelAttribute("Delay", StringValue(params.bottleneckDelay));
    m_bottleneck.SetQueue("ns3::DropTailQueue",
                          "MaxSize",
                          QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, params.queuePackets)));
    const uint32_t n = Flows();
    m_dumbbell = std::make_unique<PointToPointDumbbellHelper>(n, m_access, n, m_access, m_bottleneck);
    InternetStackHelper stack;
    m_dumbbell->InstallStack(stack);
    m_dumbbell->AssignIpv4Addresses(Ipv4AddressHelper("10.1.0.0", "255.255.255.0"),
                                    Ipv4AddressHelper("10.2.0.0", "255.255.255.0"),
                                    Ipv4AddressHelper("10.3.0.0", "255.255.255.0"));
    // The bottleneck's queue is the device's drop-tail FIFO alone.
    TrafficControlHelper tch;
    tch.Uninstall(m_dumbbell->GetLeft()->GetDevice(1));
    tch.Uninstall(m_dumbbell->GetRight()->GetDevice(1));
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    QuicHelper quic;
    for (uint32_t i = 0; i < params.quicFlows; ++i)
    {
        quic.Install(m_dumbbell->GetLeft(i));
        quic.Install(m_dumbbell->GetRight(i));
    }
    for (uint32_t i = 0; i < n; ++i)
    {
        const std::string factory = IsQuic(i) ? "ns3::QuicSocketFactory" : "ns3::TcpSocketFactory";
        const uint16_t port = static_cast<uint16_t>(5000 + i);
        PacketSinkHelper sink(factory, InetSocketAddress(Ipv4Address::GetAny(), port));
        m_sinks.Add(sink.Install(m_dumbbell->GetRight(i)));
        BulkSendHelper bulk(factory, InetSocketAddress(m_dumbbell->GetRightIpv4Address(i), port));
        bulk.SetAttribute("MaxBytes", UintegerValue(0));
        ApplicationContainer app = bulk.Install(m_dumbbell->GetLeft(i));
        app.Start(params.start + params.stagger * i);
    }
    m_sinks.Start(Seconds(0));
    m_windowStartBytes.assign(n, 0);
}

uint64_t
QuicDumbbellHelper::RxBytes(uint32_t flow) const
{
    return DynamicCast<PacketSink>(m_sinks.Get(flow))->GetTotalRx();
}

void
QuicDumbbellHelper::MarkWindowStart(Time at)
{
    Simulator::Schedule(at - Simulator::Now(), &QuicDumbbellHelper::RecordWindowStart, this);
}

void
QuicDumbbellHelper::RecordWindowStart()
{
    m_windowStart = Simulator::Now();
    for (uint32_t i = 0; i < Flows(); ++i)
    {
        m_windowStartBytes[i] = RxBytes(i);
    }
}

std::vector<double>
QuicDumbbellHelper::Goodputs() const
{
    std::vector<double> g;
    const double seconds = (Simulator::Now() - m_windowStart).GetSeconds();
    for (uint32_t i = 0; i < Flows(); ++i)
    {
        g.push_back(seconds > 0 ? (RxBytes(i) - m_windowStartBytes[i]) * 8.0 / seconds : 0.0);
    }
    return g;
}

double
QuicDumbbellHelper::JainIndex(const std::vector<double>& x)
{
    double sum = 0;
    double squares = 0;
    for (double v : x)
    {
        sum += v;
        squares += v * v;
    }
    return squares > 0 ? sum * sum / (x.size() * squares) : 0.0;
}

} // namespace ns3
