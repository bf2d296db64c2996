// A dumbbell for mixing QUIC and TCP: N QUIC and M TCP bulk flows from the
// left leaves to PacketSinks on the right leaves, through one bottleneck
// link with a drop-tail FIFO of a chosen size (no queue disc: what the
// flows share is decided by their congestion control alone). Access links
// are fast; the RTT is 2 * (2 * access delay + bottleneck delay).
//
// Flows 0..N-1 are QUIC (QuicSocket attributes apply), N..N+M-1 TCP with
// the chosen TcpCongestionOps. Used by the dumbbell example and by the
// fairness test.
#ifndef QUIC_DUMBBELL_HELPER_H
#define QUIC_DUMBBELL_HELPER_H

#include "ns3/application-container.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"
#include "ns3/point-to-point-dumbbell.h"
#include "ns3/point-to-point-helper.h"

#include <memory>
#include <string>
#include <vector>

namespace ns3
{

class QuicDumbbellHelper
{
  public:
    struct Params
    {
        uint32_t quicFlows = 2;
        uint32_t tcpFlows = 2;
        std::string bottleneckRate = "20Mbps";
        std::string bottleneckDelay = "10ms";
        std::string accessRate = "1Gbps";
        std::string accessDelay = "5ms";
        uint32_t queuePackets = 100;
        std::string tcpCongestionControl = "ns3::TcpCubic";
        // Flow i starts at start + i * stagger.
        Time start = Seconds(0.1);
        Time stagger = MilliSeconds(100);
    };

    // Builds the topology and the applications (call before Simulator::Run;
    // sets TCP defaults: segment size, large buffers, the congestion
    // control; QUIC sockets keep their attributes).
    explicit QuicDumbbellHelper(const Params& params);

    uint32_t Flows() const
    {
        return m_params.quicFlows + m_params.tcpFlows;
    }
    bool IsQuic(uint32_t flow) const
    {
        return flow < m_params.quicFlows;
    }
    // Bytes flow `flow`'s sink has read so far.
    uint64_t RxBytes(uint32_t flow) const;
    // Records every flow's bytes at `at`, the start of the measurement
    // window of Goodputs().
    void MarkWindowStart(Time at);
    // Bits per second of each flow from the window start to now.
    std::vector<double> Goodputs() const;
    // Jain's fairness index of `x`: (sum x)^2 / (n * sum x^2), 1 when equal.
    static double JainIndex(const std::vector<double>& x);

    PointToPointDumbbellHelper& Dumbbell()
    {
        return *m_dumbbell;
    }
    PointToPointHelper& Bottleneck()
    {
        return m_bottleneck;
    }

  private:
    void RecordWindowStart();

    Params m_params;
    PointToPointHelper m_access;
    PointToPointHelper m_bottleneck;
    std::unique_ptr<PointToPointDumbbellHelper> m_dumbbell;
    ApplicationContainer m_sinks;
    std::vector<uint64_t> m_windowStartBytes;
    Time m_windowStart;
};

} // namespace ns3

#endif
