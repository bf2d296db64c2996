#include "quic-apps.h"

#include "quic-socket.h"

#include "ns3/inet-socket-address.h"
#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QuicApps");
NS_OBJECT_ENSURE_REGISTERED(QuicServerApplication);
NS_OBJECT_ENSURE_REGISTERED(QuicClientApplication);

namespace
{

constexpr uint32_t kChunk = 16 * 1024;
constexpr uint32_t kHeader = 8; // a request's response size, big-endian

// Writes up to `left` bytes of zeros (the first `header` bytes replaced by
// `head`, when given) on `stream`; returns the bytes taken.
uint64_t
WriteZeros(Ptr<QuicSocket> s, uint64_t stream, uint64_t left, bool finAtEnd, const uint8_t* head = nullptr)
{
    static const uint8_t zeros[kChunk] = {};
    uint64_t taken = 0;
    while (left > 0)
    {
        const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(left, kChunk));
        Ptr<Packet> p;
        if (head && taken == 0)
        {
            uint8_t buf[kChunk] = {};
            std::copy(head, head + std::min<uint32_t>(kHeader, n), buf);
            p = Create<Packet>(buf, n);
        }
        else
        {
            p = Create<Packet>(zeros, n);
        }
        const int w = s->SendOnStream(stream, p, finAtEnd && n == left);
        if (w <= 0)
        {
            break;
        }
        taken += static_cast<uint64_t>(w);
        left -= static_cast<uint64_t>(w);
        if (static_cast<uint32_t>(w) < n)
        {
            break; // send buffer full
        }
    }
    return taken;
}

} // namespace

// ---------------------------------------------------------------- server

TypeId
QuicServerApplication::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QuicServerApplication")
                            .SetParent<Application>()
                            .SetGroupName("Quic")
                            .AddConstructor<QuicServerApplication>()
                            .AddAttribute("Local",
                                          "The address to listen on.",
                                          AddressValue(),
                                          MakeAddressAccessor(&QuicServerApplication::m_local),
                                          MakeAddressChecker());
    return tid;
}

QuicServerApplication::QuicServerApplication() = default;

void
QuicServerApplication::DoDispose()
{
    m_socket = nullptr;
    m_connections.clear();
    Application::DoDispose();
}

void
QuicServerApplication::StartApplication()
{
    m_socket = Socket::CreateSocket(GetNode(), TypeId::LookupByName("ns3::QuicSocketFactory"));
    if (m_socket->Bind(m_local) != 0 || m_socket->Listen() != 0)
    {
        NS_FATAL_ERROR("QuicServerApplication: cannot listen on " << m_local);
    }
    m_socket->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                                MakeCallback(&QuicServerApplication::HandleAccept, this));
}

void
QuicServerApplication::StopApplication()
{
    if (m_socket)
    {
        m_socket->Close();
    }
}

void
QuicServerApplication::HandleAccept(Ptr<Socket> s, const Address&)
{
    Ptr<QuicSocket> q = DynamicCast<QuicSocket>(s);
    m_connections[PeekPointer(q)] = q;
    q->SetStreamRecvCallback(MakeCallback(&QuicServerApplication::HandleStream, this));
    q->SetDatagramRecvCallback(MakeCallback(&QuicServerApplication::HandleDatagram, this));
    q->SetStreamWritableCallback(MakeCallback(&QuicServerApplication::HandleWritable, this));
}

void
QuicServerApplication::HandleWritable(Ptr<QuicSocket> c)
{
    std::vector<uint64_t> waiting;
    for (auto& [key, ex] : m_exchanges)
    {
        if (key.first == PeekPointer(c) && ex.responding && ex.responseLeft > 0)
        {
            waiting.push_back(key.second);
        }
    }
    for (uint64_t stream : waiting)
    {
        Respond(c, stream);
    }
}

void
QuicServerApplication::HandleStream(Ptr<QuicSocket> s, uint64_t stream)
{
    Exchange& ex = m_exchanges[{PeekPointer(s), stream}];
    bool fin = false;
    while (Ptr<Packet> p = s->RecvFromStream(stream, kChunk, fin))
    {
        uint8_t buf[kChunk];
        const uint32_t n = p->CopyData(buf, sizeof buf);
        for (uint32_t i = 0; i < n && ex.requestBytes + i < kHeader; ++i)
        {
            ex.header[ex.requestBytes + i] = buf[i];
        }
        ex.requestBytes += n;
        if (fin)
        {
            break;
        }
    }
    if (fin && !ex.responding)
    {
        uint64_t size = 0;
        for (uint32_t i = 0; i < kHeader; ++i)
        {
            size = size << 8 | ex.header[i];
        }
        ex.responding = true;
        ex.responseLeft = size;
        ++m_served;
        Respond(s, stream);
    }
}

void
QuicServerApplication::Respond(Ptr<QuicSocket> s, uint64_t stream)
{
    Exchange& ex = m_exchanges[{PeekPointer(s), stream}];
    if (ex.responseLeft == 0)
    {
        // An empty response is its FIN alone.
        s->SendOnStream(stream, Create<Packet>(0), true);
        m_exchanges.erase({PeekPointer(s), stream});
        return;
    }
    ex.responseLeft -= WriteZeros(s, stream, ex.responseLeft, true);
    if (ex.responseLeft == 0)
    {
        m_exchanges.erase({PeekPointer(s), stream});
    }
}

void
QuicServerApplication::HandleDatagram(Ptr<QuicSocket> s, Ptr<Packet> p)
{
    s->SendDatagram(p);
}

// ---------------------------------------------------------------- client

TypeId
QuicClientApplication::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::QuicClientApplication")
            .SetParent<Application>()
            .SetGroupName("Quic")
            .AddConstructor<QuicClientApplication>()
            .AddAttribute("Remote",
                          "The server's address.",
                          AddressValue(),
                          MakeAddressAccessor(&QuicClientApplication::m_remote),
                          MakeAddressChecker())
            .AddAttribute("Requests",
                          "Request/response exchanges, one stream each.",
                          UintegerValue(1),
                          MakeUintegerAccessor(&QuicClientApplication::m_requests),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Parallel",
                          "Streams open at once.",
                          UintegerValue(1),
                          MakeUintegerAccessor(&QuicClientApplication::m_parallel),
                          MakeUintegerChecker<uint32_t>(1))
            .AddAttribute("RequestSize",
                          "Bytes of each request (at least 8: the response size).",
                          UintegerValue(100),
                          MakeUintegerAccessor(&QuicClientApplication::m_requestSize),
                          MakeUintegerChecker<uint32_t>(8))
            .AddAttribute("ResponseSize",
                          "Bytes of each response.",
                          UintegerValue(10000),
                          MakeUintegerAccessor(&QuicClientApplication::m_responseSize),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Datagrams",
                          "DATAGRAM frames to send (each echoed by the server).",
                          UintegerValue(0),
                          MakeUintegerAccessor(&QuicClientApplication::m_datagrams),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("DatagramSize",
                          "Bytes of each DATAGRAM payload (at least 8: a timestamp).",
                          UintegerValue(100),
                          MakeUintegerAccessor(&QuicClientApplication::m_datagramSize),
                          MakeUintegerChecker<uint32_t>(8, 1200))
            .AddAttribute("DatagramInterval",
                          "Time between DATAGRAM frames.",
                          TimeValue(MilliSeconds(10)),
                          MakeTimeAccessor(&QuicClientApplication::m_datagramInterval),
                          MakeTimeChecker())
            .AddTraceSource("Response",
                            "A response read to its end: stream ID and latency from the stream's opening",
                            MakeTraceSourceAccessor(&QuicClientApplication::m_responseTrace),
                            "ns3::QuicClientApplication::ResponseTracedCallback")
            .AddTraceSource("DatagramRtt",
                            "A DATAGRAM echo came back: its round-trip time",
                            MakeTraceSourceAccessor(&QuicClientApplication::m_datagramRttTrace),
                            "ns3::QuicClientApplication::DatagramRttTracedCallback");
    return tid;
}

QuicClientApplication::QuicClientApplication() = default;

void
QuicClientApplication::DoDispose()
{
    m_socket = nullptr;
    Application::DoDispose();
}

void
QuicClientApplication::StartApplication()
{
    Ptr<Socket> s = Socket::CreateSocket(GetNode(), TypeId::LookupByName("ns3::QuicSocketFactory"));
    m_socket = DynamicCast<QuicSocket>(s);
    m_socket->SetConnectCallback(MakeCallback(&QuicClientApplication::ConnectionSucceeded, this),
                                 MakeCallback(&QuicClientApplication::ConnectionFailed, this));
    m_socket->SetStreamRecvCallback(MakeCallback(&QuicClientApplication::HandleStream, this));
    m_socket->SetDatagramRecvCallback(MakeCallback(&QuicClientApplication::HandleDatagram, this));
    m_socket->SetStreamWritableCallback(MakeCallback(&QuicClientApplication::HandleWritable, this));
    if (m_socket->Connect(m_remote) != 0)
    {
        NS_FATAL_ERROR("QuicClientApplication: cannot connect to " << m_remote);
    }
}

void
QuicClientApplication::StopApplication()
{
    m_datagramEvent.Cancel();
    if (m_socket)
    {
        m_socket->CloseConnection(0);
    }
}

void
QuicClientApplication::ConnectionSucceeded(Ptr<Socket>)
{
    OpenRequests();
    if (m_datagrams > 0)
    {
        SendDatagram();
    }
}

void
QuicClientApplication::ConnectionFailed(Ptr<Socket>)
{
    NS_LOG_WARN("QuicClientApplication: connection failed");
}

void
QuicClientApplication::HandleWritable(Ptr<QuicSocket> c)
{
    for (auto& [id, r] : m_open)
    {
        if (r.requestLeft > 0)
        {
            r.requestLeft -= WriteZeros(c, id, r.requestLeft, true);
        }
    }
    OpenRequests();
}

void
QuicClientApplication::OpenRequests()
{
    while (m_started < m_requests && m_open.size() < m_parallel)
    {
        const int64_t id = m_socket->OpenStream(true);
        if (id < 0)
        {
            return; // the server's stream limit: retried when it raises it
        }
        ++m_started;
        Request& r = m_open[static_cast<uint64_t>(id)];
        r.start = Simulator::Now();
        uint8_t head[kHeader];
        for (uint32_t i = 0; i < kHeader; ++i)
        {
            head[i] = static_cast<uint8_t>(uint64_t{m_responseSize} >> (8 * (kHeader - 1 - i)));
        }
        r.requestLeft = m_requestSize - WriteZeros(m_socket, static_cast<uint64_t>(id), m_requestSize, true, head);
    }
    MaybeClose();
}

void
QuicClientApplication::HandleStream(Ptr<QuicSocket> s, uint64_t stream)
{
    auto it = m_open.find(stream);
    if (it == m_open.end())
    {
        return;
    }
    bool fin = false;
    while (Ptr<Packet> p = s->RecvFromStream(stream, kChunk, fin))
    {
        it->second.received += p->GetSize();
        if (fin)
        {
            break;
        }
    }
    if (fin)
    {
        ++m_completed;
        m_responseTrace(stream, Simulator::Now() - it->second.start);
        m_open.erase(it);
        OpenRequests();
    }
}

void
QuicClientApplication::SendDatagram()
{
    std::vector<uint8_t> buf(m_datagramSize, 0);
    const int64_t now = Simulator::Now().GetNanoSeconds();
    for (int i = 0; i < 8; ++i)
    {
        buf[i] = static_cast<uint8_t>(static_cast<uint64_t>(now) >> (8 * (7 - i)));
    }
    m_socket->SendDatagram(Create<Packet>(buf.data(), buf.size()));
    if (++m_datagramsSent < m_datagrams)
    {
        m_datagramEvent = Simulator::Schedule(m_datagramInterval, &QuicClientApplication::SendDatagram, this);
    }
}

void
QuicClientApplication::HandleDatagram(Ptr<QuicSocket>, Ptr<Packet> p)
{
    uint8_t b[8] = {};
    if (p->CopyData(b, 8) < 8)
    {
        return;
    }
    uint64_t sent = 0;
    for (int i = 0; i < 8; ++i)
    {
        sent = sent << 8 | b[i];
    }
    ++m_echoed;
    m_datagramRttTrace(Simulator::Now() - NanoSeconds(static_cast<int64_t>(sent)));
    MaybeClose();
}

void
QuicClientApplication::MaybeClose()
{
    // Done: every exchange answered and every datagram sent (an echo may be
    // lost: DATAGRAM frames are unreliable), after a last RTT for echoes.
    if (!m_done && m_completed == m_requests && m_datagramsSent == m_datagrams && m_socket)
    {
        if (m_echoed == m_datagrams || m_datagrams == 0)
        {
            m_done = true;
            m_socket->CloseConnection(0);
        }
    }
}

} // namespace ns3
