#include "quic-helper.h"

#include "ns3/config.h"
#include "ns3/fatal-error.h"
#include "ns3/ipv4.h"
#include "ns3/inet-socket-address.h"
#include "ns3/quic-apps.h"
#include "ns3/quic-l4-protocol.h"
#include "ns3/uinteger.h"

namespace ns3
{

void
QuicHelper::Install(NodeContainer nodes) const
{
    for (auto it = nodes.Begin(); it != nodes.End(); ++it)
    {
        Install(*it);
    }
}

void
QuicHelper::Install(Ptr<Node> node) const
{
    if (!node->GetObject<Ipv4>())
    {
        NS_FATAL_ERROR("QuicHelper::Install: node " << node->GetId()
                                                    << " has no internet stack (InternetStackHelper first)");
    }
    if (node->GetObject<QuicL4Protocol>())
    {
        return;
    }
    node->AggregateObject(CreateObject<QuicL4Protocol>());
}

void
QuicHelper::SetSocketAttribute(const std::string& name, const AttributeValue& value)
{
    Config::SetDefault("ns3::QuicSocket::" + name, value);
}

int64_t
QuicHelper::AssignStreams(NodeContainer nodes, int64_t stream)
{
    int64_t used = 0;
    for (auto it = nodes.Begin(); it != nodes.End(); ++it)
    {
        if (Ptr<QuicL4Protocol> quic = (*it)->GetObject<QuicL4Protocol>())
        {
            used += quic->AssignStreams(stream + used);
        }
    }
    return used;
}

ApplicationContainer
QuicHelper::InstallServer(NodeContainer nodes, uint16_t port)
{
    ApplicationContainer apps;
    for (auto it = nodes.Begin(); it != nodes.End(); ++it)
    {
        Ptr<QuicServerApplication> app = CreateObject<QuicServerApplication>();
        app->SetAttribute("Local", AddressValue(InetSocketAddress(Ipv4Address::GetAny(), port)));
        (*it)->AddApplication(app);
        apps.Add(app);
    }
    return apps;
}

ApplicationContainer
QuicHelper::InstallClient(Ptr<Node> node,
                          const Address& server,
                          uint32_t requests,
                          uint32_t parallel,
                          uint32_t requestSize,
                          uint32_t responseSize)
{
    Ptr<QuicClientApplication> app = CreateObject<QuicClientApplication>();
    app->SetAttribute("Remote", AddressValue(server));
    app->SetAttribute("Requests", UintegerValue(requests));
    app->SetAttribute("Parallel", UintegerValue(parallel));
    app->SetAttribute("RequestSize", UintegerValue(requestSize));
    app->SetAttribute("ResponseSize", UintegerValue(responseSize));
    node->AddApplication(app);
    return ApplicationContainer(app);
}

} // namespace ns3
