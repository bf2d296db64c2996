// The network of a Python scenario in ns-3: nodes, the bottleneck links
// (queue discs, loss models, pcap), access links, addresses, routes, QUIC
// on every node, and where each flow runs (Scenario's docstring and
// bindings/README.md describe the topologies).
#ifndef QUICBED_BINDINGS_SCENARIO_NETWORK_H
#define QUICBED_BINDINGS_SCENARIO_NETWORK_H

#include "scenario-spec.h"

#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-address.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/queue-disc.h"

#include <string>
#include <vector>

namespace ns3
{
class ErrorModel;
} // namespace ns3

namespace quicbed_py
{

// One bottleneck link: packets go from `from` (behind `queue`) to `to`.
struct Bottleneck
{
    ns3::Ptr<ns3::NetDevice> from;
    ns3::Ptr<ns3::NetDevice> to;
    ns3::Ptr<ns3::QueueDisc> queue;
};

// Where a flow runs: its receiver listens on receiverAddress:port.
struct FlowPath
{
    ns3::Ptr<ns3::Node> sender;
    ns3::Ptr<ns3::Node> receiver;
    ns3::Ipv4Address receiverAddress;
    uint16_t port = 0;
};

class ScenarioNetwork
{
  public:
    // Builds it in the current simulation; its RNG streams are `stream`
    // on, and `stream` is advanced past them.
    ScenarioNetwork(const ScenarioSpec& spec, const RunOptions& options, int64_t& stream);

    const std::vector<Bottleneck>& Bottlenecks() const
    {
        return m_bottlenecks;
    }
    // One per flow of the spec, in its order.
    const std::vector<FlowPath>& Paths() const
    {
        return m_paths;
    }
    const std::vector<std::string>& PcapFiles() const
    {
        return m_pcapFiles;
    }

  private:
    ns3::Ptr<ns3::Node> NewNode();
    ns3::NetDeviceContainer Link(ns3::Ptr<ns3::Node> a, ns3::Ptr<ns3::Node> b, double rateBps, double delay);
    void AddBottleneck(ns3::Ptr<ns3::Node> from, ns3::Ptr<ns3::Node> to);
    void AddAccess(ns3::Ptr<ns3::Node> a, ns3::Ptr<ns3::Node> b);
    void Addresses(const ns3::NetDeviceContainer& devices);
    ns3::Ptr<ns3::ErrorModel> LossModel();

    const ScenarioSpec& m_spec;
    const RunOptions& m_options;
    int64_t& m_stream;
    ns3::NodeContainer m_nodes;
    ns3::Ipv4AddressHelper m_ipv4;
    std::vector<Bottleneck> m_bottlenecks;
    std::vector<FlowPath> m_paths;
    std::vector<std::string> m_pcapFiles;
};

} // namespace quicbed_py

#endif
