// Installs QUIC on nodes that have an internet stack (InternetStackHelper
// first): a QuicL4Protocol and its QuicSocketFactory per node. Then any
// application taking a socket factory runs over QUIC:
//
//   QuicHelper quic;
//   quic.Install(nodes);
//   BulkSendHelper bulk("ns3::QuicSocketFactory", InetSocketAddress(addr, port));
//   PacketSinkHelper sink("ns3::QuicSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
//
// Socket attributes (congestion control, windows, crypto mode, qlog...)
// are ns3::QuicSocket's: set them for all sockets with SetSocketAttribute
// (a Config::SetDefault) before the sockets are made.
#ifndef QUIC_HELPER_H
#define QUIC_HELPER_H

#include "ns3/address.h"
#include "ns3/application-container.h"
#include "ns3/attribute.h"
#include "ns3/node-container.h"

#include <string>

namespace ns3
{

class QuicHelper
{
  public:
    // Aggregates QUIC to each node (which must have Ipv4 and UDP already).
    void Install(NodeContainer nodes) const;
    void Install(Ptr<Node> node) const;
    // Config::SetDefault("ns3::QuicSocket::<name>", value).
    static void SetSocketAttribute(const std::string& name, const AttributeValue& value);
    // Fixes the RNG streams of the nodes' QUIC (one per node), from
    // `stream` on; returns how many were used. Call with the other
    // AssignStreams of a script for runs that repeat exactly.
    static int64_t AssignStreams(NodeContainer nodes, int64_t stream);

    // The QUIC-specific applications (quic-apps.h): a request/response
    // and DATAGRAM echo server on `port` of each node, and a client of
    // `server` running `requests` exchanges, `parallel` streams at a time.
    // More attributes (Datagrams, ...) through the returned applications.
    static ApplicationContainer InstallServer(NodeContainer nodes, uint16_t port);
    static ApplicationContainer InstallClient(Ptr<Node> node,
                                              const Address& server,
                                              uint32_t requests,
                                              uint32_t parallel,
                                              uint32_t requestSize,
                                              uint32_t responseSize);
};

} // namespace ns3

#endif
