// The two ends of one flow of a Python scenario. They stand in for
// BulkSendApplication and PacketSink because a flow's transport options
// must reach its own sockets: ns-3's applications create theirs from the
// global attribute defaults when they start, so two QUIC flows could not
// use two congestion controls. Here the sender sets the flow's attributes
// (or, for TCP, its TcpCongestionOps) on the socket it creates, and the
// sink on its listening socket, whose accepted connections inherit them.
//
// Both record what the result tables need: the sender the latest values
// of the TCP-named trace sources (QuicSocket and TcpSocketBase share
// them), packets QUIC declared lost, TCP retransmissions and the handshake
// time; the sink the bytes delivered and when the first and last arrived.
#ifndef QUICBED_BINDINGS_FLOW_APPS_H
#define QUICBED_BINDINGS_FLOW_APPS_H

#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/attribute.h"
#include "ns3/data-rate.h"
#include "ns3/nstime.h"
#include "ns3/ptr.h"
#include "ns3/socket.h"
#include "ns3/tcp-header.h"
#include "ns3/type-id.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace ns3
{
class QuicSocket;
class TcpSocketBase;
} // namespace ns3

namespace quicbed_py
{

// An attribute of the flow's sockets: name and value.
using SocketAttributes = std::vector<std::pair<std::string, ns3::Ptr<ns3::AttributeValue>>>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class FlowSender : public ns3::Application
{
  public:
    struct Params
    {
        ns3::TypeId factory; // QuicSocketFactory or TcpSocketFactory
        ns3::Address remote;
        ns3::Time start;
        uint64_t maxBytes = 0; // 0: until the run ends
        SocketAttributes attributes;
        std::string tcpCongestionOps; // TCP only: a TcpCongestionOps TypeId name
        bool datagrams = false;       // QUIC: the data goes in DATAGRAM frames
        // QUIC 0-RTT: a first connection at time 0 fetches the session
        // ticket that the flow's own connection at `start` resumes.
        bool fetchTicket = false;
    };
    // What the traces said last (NaN before the first report).
    struct State
    {
        double cwnd = kNaN;
        double rtt = kNaN; // seconds, smoothed
        double bytesInFlight = kNaN;
        double pacingRate = kNaN; // bits per second
        double handshakeTime = kNaN;
        uint64_t declaredLost = 0;    // QUIC: packets its loss detection declared lost
        uint64_t retransmissions = 0; // QUIC: = declaredLost (data resent in new packets); TCP: segments
    };

    static ns3::TypeId GetTypeId();
    void Configure(Params params);
    const State& GetState() const
    {
        return m_state;
    }
    uint64_t BytesSent() const
    {
        return m_sent;
    }

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    ns3::Ptr<ns3::Socket> NewSocket();
    void OpenFlow();
    void Connected(ns3::Ptr<ns3::Socket> s);
    void ConnectFailed(ns3::Ptr<ns3::Socket> s);
    void SendStream();
    void SendDatagrams();
    void Room(ns3::Ptr<ns3::Socket> s, uint32_t available);
    void Writable(ns3::Ptr<ns3::QuicSocket> s);
    void TraceSocket();

    void OnCwnd(uint32_t, uint32_t now);
    void OnRtt(ns3::Time, ns3::Time now);
    void OnBytesInFlight(uint32_t, uint32_t now);
    void OnPacingRate(ns3::DataRate, ns3::DataRate now);
    void OnQuicLost(uint64_t packetNumber);
    void OnHandshake(ns3::Time duration);
    void OnTcpTx(ns3::Ptr<const ns3::Packet> p, const ns3::TcpHeader& h, ns3::Ptr<const ns3::TcpSocketBase>);

    Params m_params;
    ns3::Ptr<ns3::Socket> m_socket;
    ns3::Ptr<ns3::Socket> m_ticketSocket;
    ns3::Time m_connectTime;
    bool m_connected = false;
    bool m_finished = false;
    uint64_t m_sent = 0;
    uint32_t m_tcpHighest = 0; // TCP: the end of the highest sequence sent
    State m_state;
};

class FlowSink : public ns3::Application
{
  public:
    struct Params
    {
        ns3::TypeId factory; // Quic, Tcp or UdpSocketFactory
        ns3::Address local;
        ns3::Time start;       // of the flow: times are from here
        uint64_t expected = 0; // bytes that complete the flow; 0: none
        SocketAttributes attributes;
        bool datagrams = false; // QUIC: count DATAGRAM payloads
    };

    static ns3::TypeId GetTypeId();
    void Configure(Params params);
    uint64_t Delivered() const
    {
        return m_delivered;
    }
    // Seconds from the flow's start; NaN when it did not happen.
    double FirstByteTime() const
    {
        return m_firstByte;
    }
    double CompletionTime() const
    {
        return m_completion;
    }

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void Accept(ns3::Ptr<ns3::Socket> s, const ns3::Address& from);
    void Read(ns3::Ptr<ns3::Socket> s);
    void Datagram(ns3::Ptr<ns3::QuicSocket> s, ns3::Ptr<ns3::Packet> p);
    void Count(uint32_t bytes);

    Params m_params;
    ns3::Ptr<ns3::Socket> m_socket;
    std::vector<ns3::Ptr<ns3::Socket>> m_accepted;
    uint64_t m_delivered = 0;
    double m_firstByte = kNaN;
    double m_completion = kNaN;
};

} // namespace quicbed_py

#endif
