// The smallest QUIC topology: two nodes joined by one point-to-point link
// (a drop-tail device queue, optional random loss each way), with the
// internet stack and QUIC installed and addresses 10.1.1.1 (node 0, the
// client's side) and 10.1.1.2 (node 1, the server's side). Random streams
// of the stack, the error models and QUIC are fixed, so runs repeat.
#ifndef QUIC_LINK_HELPER_H
#define QUIC_LINK_HELPER_H

#include "ns3/ipv4-interface-container.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/point-to-point-helper.h"

#include <string>

namespace ns3
{

class QuicLinkHelper
{
  public:
    struct Params
    {
        std::string rate = "10Mbps";
        std::string delay = "10ms"; // one way
        uint32_t queuePackets = 100;
        double lossToServer = 0;    // RateErrorModel, per packet, at node 1
        double lossToClient = 0;    // at node 0
        int64_t stream = 100;       // the first RNG stream used
    };

    explicit QuicLinkHelper(const Params& params);

    Ptr<Node> Client() const
    {
        return m_nodes.Get(0);
    }
    Ptr<Node> Server() const
    {
        return m_nodes.Get(1);
    }
    Ipv4Address ServerAddress() const
    {
        return m_interfaces.GetAddress(1);
    }
    NodeContainer& Nodes()
    {
        return m_nodes;
    }
    NetDeviceContainer& Devices()
    {
        return m_devices;
    }
    PointToPointHelper& Link()
    {
        return m_p2p;
    }

  private:
    NodeContainer m_nodes;
    PointToPointHelper m_p2p;
    NetDeviceContainer m_devices;
    Ipv4InterfaceContainer m_interfaces;
};

} // namespace ns3

#endif
