#include "flow-apps.h"

#include "ns3/quic-socket.h"
#include "ns3/object-factory.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/tcp-congestion-ops.h"
#include "ns3/tcp-socket-base.h"
#include "ns3/udp-socket-factory.h"

#include <algorithm>
#include <cmath>

namespace quicbed_py
{

using namespace ns3;

namespace
{

// Bytes per write, as BulkSendApplication's default SendSize is 512 and
// a larger one costs fewer events for the same stream of bytes.
constexpr uint32_t kWriteSize = 16 * 1024;

void
ApplyAttributes(Ptr<Socket> s, const SocketAttributes& attributes)
{
    for (const auto& [name, value] : attributes)
    {
        s->SetAttribute(name, *value);
    }
}

} // namespace

// ---------------------------------------------------------------- sender

TypeId
FlowSender::GetTypeId()
{
    static TypeId tid = TypeId("quicbed_py::FlowSender").SetParent<Application>().SetGroupName("QuicbedPython");
    return tid;
}

void
FlowSender::Configure(Params params)
{
    m_params = std::move(params);
}

void
FlowSender::DoDispose()
{
    m_socket = nullptr;
    m_ticketSocket = nullptr;
    Application::DoDispose();
}

Ptr<Socket>
FlowSender::NewSocket()
{
    Ptr<Socket> s = Socket::CreateSocket(GetNode(), m_params.factory);
    ApplyAttributes(s, m_params.attributes);
    return s;
}

void
FlowSender::StartApplication()
{
    if (m_params.fetchTicket)
    {
        // The ticket arrives after the handshake (RFC 8446 §4.6.1); this
        // connection only has to live until the flow's own one starts.
        m_ticketSocket = NewSocket();
        m_ticketSocket->Bind();
        m_ticketSocket->Connect(m_params.remote);
    }
    Simulator::Schedule(m_params.start - Simulator::Now(), &FlowSender::OpenFlow, this);
}

void
FlowSender::OpenFlow()
{
    m_socket = NewSocket();
    if (Ptr<TcpSocketBase> tcp = DynamicCast<TcpSocketBase>(m_socket); tcp && !m_params.tcpCongestionOps.empty())
    {
        ObjectFactory f;
        f.SetTypeId(m_params.tcpCongestionOps);
        tcp->SetCongestionControlAlgorithm(f.Create<TcpCongestionOps>());
        // ns-3's TcpBbr models BBR's pacing and needs the socket to pace.
        tcp->SetPacingStatus(m_params.tcpCongestionOps == "ns3::TcpBbr");
    }
    TraceSocket();
    m_socket->SetConnectCallback(MakeCallback(&FlowSender::Connected, this),
                                 MakeCallback(&FlowSender::ConnectFailed, this));
    m_socket->SetSendCallback(MakeCallback(&FlowSender::Room, this));
    m_socket->Bind();
    m_connectTime = Simulator::Now();
    m_socket->Connect(m_params.remote);
    if (m_ticketSocket)
    {
        m_ticketSocket->Close();
    }
}

void
FlowSender::TraceSocket()
{
    m_socket->TraceConnectWithoutContext("CongestionWindow", MakeCallback(&FlowSender::OnCwnd, this));
    m_socket->TraceConnectWithoutContext("RTT", MakeCallback(&FlowSender::OnRtt, this));
    m_socket->TraceConnectWithoutContext("BytesInFlight", MakeCallback(&FlowSender::OnBytesInFlight, this));
    m_socket->TraceConnectWithoutContext("PacingRate", MakeCallback(&FlowSender::OnPacingRate, this));
    if (Ptr<QuicSocket> q = DynamicCast<QuicSocket>(m_socket))
    {
        q->TraceConnectWithoutContext("PacketLost", MakeCallback(&FlowSender::OnQuicLost, this));
        q->TraceConnectWithoutContext("HandshakeDone", MakeCallback(&FlowSender::OnHandshake, this));
        q->SetStreamWritableCallback(MakeCallback(&FlowSender::Writable, this));
    }
    else
    {
        m_socket->TraceConnectWithoutContext("Tx", MakeCallback(&FlowSender::OnTcpTx, this));
    }
}

void
FlowSender::Connected(Ptr<Socket>)
{
    m_connected = true;
    if (m_params.datagrams)
    {
        SendDatagrams();
    }
    else
    {
        SendStream();
    }
}

void
FlowSender::ConnectFailed(Ptr<Socket>)
{
    m_connected = false;
}

void
FlowSender::SendStream()
{
    while (!m_finished)
    {
        uint32_t n = kWriteSize;
        if (m_params.maxBytes > 0)
        {
            n = static_cast<uint32_t>(std::min<uint64_t>(n, m_params.maxBytes - m_sent));
        }
        if (m_socket->Send(Create<Packet>(n), 0) < 0)
        {
            return; // the send buffer is full: Room() resumes
        }
        m_sent += n;
        if (m_params.maxBytes > 0 && m_sent == m_params.maxBytes)
        {
            m_finished = true;
            m_socket->Close(); // FIN after the last byte
        }
    }
}

void
FlowSender::SendDatagrams()
{
    Ptr<QuicSocket> q = DynamicCast<QuicSocket>(m_socket);
    while (!m_finished)
    {
        uint32_t n = q->MaxDatagramPayload();
        if (m_params.maxBytes > 0)
        {
            n = static_cast<uint32_t>(std::min<uint64_t>(n, m_params.maxBytes - m_sent));
        }
        if (n == 0 || q->SendDatagram(Create<Packet>(n)) < 0)
        {
            return; // the queue is full: Writable() resumes
        }
        m_sent += n;
        m_finished = m_params.maxBytes > 0 && m_sent == m_params.maxBytes;
    }
}

void
FlowSender::Room(Ptr<Socket>, uint32_t)
{
    if (m_connected && !m_params.datagrams)
    {
        SendStream();
    }
}

void
FlowSender::Writable(Ptr<QuicSocket>)
{
    if (m_connected && m_params.datagrams)
    {
        SendDatagrams();
    }
}

void
FlowSender::OnCwnd(uint32_t, uint32_t now)
{
    m_state.cwnd = now;
}

void
FlowSender::OnRtt(Time, Time now)
{
    m_state.rtt = now.GetSeconds();
}

void
FlowSender::OnBytesInFlight(uint32_t, uint32_t now)
{
    m_state.bytesInFlight = now;
}

void
FlowSender::OnPacingRate(DataRate, DataRate now)
{
    m_state.pacingRate = static_cast<double>(now.GetBitRate());
}

void
FlowSender::OnQuicLost(uint64_t)
{
    // RFC 9002 §6: QUIC never resends a packet; the frames of one declared
    // lost go out again in new packets, so each loss is one retransmission.
    ++m_state.declaredLost;
    ++m_state.retransmissions;
}

void
FlowSender::OnHandshake(Time duration)
{
    m_state.handshakeTime = duration.GetSeconds();
}

void
FlowSender::OnTcpTx(Ptr<const Packet> p, const TcpHeader& h, Ptr<const TcpSocketBase>)
{
    // The traced packet is the segment's payload (TcpL4Protocol adds the
    // header after the trace); one with data that starts below the highest
    // byte sent so far is a retransmission.
    const uint32_t payload = p->GetSize();
    if (payload == 0)
    {
        return;
    }
    const uint32_t seq = h.GetSequenceNumber().GetValue();
    if (seq < m_tcpHighest)
    {
        ++m_state.retransmissions;
    }
    m_tcpHighest = std::max(m_tcpHighest, seq + payload);
}

// ---------------------------------------------------------------- sink

TypeId
FlowSink::GetTypeId()
{
    static TypeId tid = TypeId("quicbed_py::FlowSink").SetParent<Application>().SetGroupName("QuicbedPython");
    return tid;
}

void
FlowSink::Configure(Params params)
{
    m_params = std::move(params);
}

void
FlowSink::DoDispose()
{
    m_socket = nullptr;
    m_accepted.clear();
    Application::DoDispose();
}

void
FlowSink::StartApplication()
{
    m_socket = Socket::CreateSocket(GetNode(), m_params.factory);
    ApplyAttributes(m_socket, m_params.attributes);
    m_socket->Bind(m_params.local);
    m_socket->SetRecvCallback(MakeCallback(&FlowSink::Read, this));
    if (m_params.factory != UdpSocketFactory::GetTypeId())
    {
        m_socket->Listen();
        m_socket->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                                    MakeCallback(&FlowSink::Accept, this));
    }
}

void
FlowSink::Accept(Ptr<Socket> s, const Address&)
{
    s->SetRecvCallback(MakeCallback(&FlowSink::Read, this));
    if (Ptr<QuicSocket> q = DynamicCast<QuicSocket>(s); q && m_params.datagrams)
    {
        q->SetDatagramRecvCallback(MakeCallback(&FlowSink::Datagram, this));
    }
    m_accepted.push_back(s);
}

void
FlowSink::Read(Ptr<Socket> s)
{
    while (Ptr<Packet> p = s->Recv())
    {
        if (p->GetSize() == 0)
        {
            break;
        }
        Count(p->GetSize());
    }
}

void
FlowSink::Datagram(Ptr<QuicSocket>, Ptr<Packet> p)
{
    Count(p->GetSize());
}

void
FlowSink::Count(uint32_t bytes)
{
    const double t = (Simulator::Now() - m_params.start).GetSeconds();
    if (m_delivered == 0)
    {
        m_firstByte = t;
    }
    m_delivered += bytes;
    if (m_params.expected > 0 && m_delivered >= m_params.expected && std::isnan(m_completion))
    {
        m_completion = t;
    }
}

} // namespace quicbed_py
