#include "quic-link-helper.h"

#include "quic-helper.h"

#include "ns3/double.h"
#include "ns3/error-model.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/pointer.h"
#include "ns3/queue-size.h"
#include "ns3/string.h"

namespace ns3
{

namespace
{

void
AddLoss(Ptr<NetDevice> device, double rate, int64_t stream)
{
    if (rate <= 0)
    {
        return;
    }
    Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
    em->SetAttribute("ErrorRate", DoubleValue(rate));
    em->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
    em->AssignStreams(stream);
    device->SetAttribute("ReceiveErrorModel", PointerValue(em));
}

} // namespace

QuicLinkHelper::QuicLinkHelper(const Params& params)
{
    m_nodes.Create(2);
    m_p2p.SetDeviceAttribute("DataRate", StringValue(params.rate));
    m_p2p.SetChannelAttribute("Delay", StringValue(params.delay));
    m_p2p.SetQueue("ns3::DropTailQueue",
                   "MaxSize",
                   QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, params.queuePackets)));
    m_devices = m_p2p.Install(m_nodes);
    AddLoss(m_devices.Get(1), params.lossToServer, params.stream);
    AddLoss(m_devices.Get(0), params.lossToClient, params.stream + 1);
    InternetStackHelper internet;
    internet.Install(m_nodes);
    int64_t stream = params.stream + 2;
    stream += internet.AssignStreams(m_nodes, stream);
    QuicHelper quic;
    quic.Install(m_nodes);
    QuicHelper::AssignStreams(m_nodes, stream);
    Ipv4AddressHelper ipv4;
    ipv4.SetBase("10.1.1.0", "255.255.255.0");
    m_interfaces = ipv4.Assign(m_devices);
}

} // namespace ns3
