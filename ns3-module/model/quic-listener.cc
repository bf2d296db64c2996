#include "quic-listener.h"

#include "quic-l4-protocol.h"
#include "quic-rng-random.h"
#include "quic-socket.h"
#include "quic-trace-bridge.h"

#include "gnutls_tls.h"

#include "ns3/fatal-error.h"
#include "ns3/log.h"
#include "ns3/simulator.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QuicListener");

namespace
{
constexpr size_t kMaxUdpPayload = 65527;

// RFC 9000 §8.1.3: a NEW_TOKEN token is bound to the client's IP address
// (Encode's first four bytes), not its port: the next connection comes
// from another socket.
size_t
TokenAddress(quicbed::Bytes peer, uint8_t* out)
{
    const size_t n = std::min<size_t>(peer.size(), 4);
    std::copy(peer.begin(), peer.begin() + n, out);
    return n;
}
} // namespace

QuicListener::QuicListener(QuicSocket& socket)
    : m_socket(socket)
{
    quicbed::EndpointConfig config;
    config.connection = socket.MakeConfig(quicbed::Role::kServer);
    config.max_connections = 1024;
    QuicRngRandom& random = socket.m_l4->Random();
    random.fill(quicbed::MutBytes(config.hash_key, sizeof config.hash_key));
    random.fill(quicbed::MutBytes(config.reset_key, sizeof config.reset_key));
    random.fill(quicbed::MutBytes(config.validation.token_key, sizeof config.validation.token_key));
    config.validation.token_address = &TokenAddress;
    config.alloc = &socket.m_l4->Allocator();
    config.crypto_backend = &socket.CryptoBackend();
    config.random = &random;
    config.factory = this;
    config.events = this;
    m_endpoint = std::make_unique<quicbed::Endpoint>(config);
    quicbed::Status s = m_endpoint->init();
    if (!s.is_ok())
    {
        NS_FATAL_ERROR("QuicSocket::Listen: endpoint setup failed: " << s.reason());
    }
}

QuicListener::~QuicListener()
{
    m_flushEvent.Cancel();
    // Frees every connection (on_connection_removed, destroy) while the
    // child sockets are still here.
    m_endpoint.reset();
}

quicbed::PathAddress
QuicListener::Encode(const InetSocketAddress& a)
{
    uint8_t b[6];
    a.GetIpv4().Serialize(b);
    b[4] = static_cast<uint8_t>(a.GetPort() >> 8);
    b[5] = static_cast<uint8_t>(a.GetPort());
    quicbed::PathAddress p;
    (void)p.assign(quicbed::Bytes(b, sizeof b));
    return p;
}

InetSocketAddress
QuicListener::Decode(const quicbed::PathAddress& a)
{
    return InetSocketAddress(Ipv4Address::Deserialize(a.bytes),
                             static_cast<uint16_t>(a.bytes[4] << 8 | a.bytes[5]));
}

void
QuicListener::Receive(Ptr<Packet> p, std::vector<uint8_t>& bytes, const InetSocketAddress& from,
                      const quicbed::DatagramInfo& info)
{
    quicbed::Path path;
    path.local = Encode(m_socket.m_local);
    path.peer = Encode(from);
    m_current = nullptr;
    m_endpoint->receive_datagram(quicbed::MutBytes(bytes.data(), bytes.size()), path, info,
                                 QuicSocket::NowUs());
    QuicSocket* to = m_current ? m_current : &m_socket;
    to->m_rxTrace(p, to);
    m_current = nullptr;
}

void
QuicListener::OnTimer()
{
    m_endpoint->on_timeout(QuicSocket::NowUs());
    AfterEngine();
}

void
QuicListener::Wake(QuicSocket* child)
{
    m_woken.push_back(child);
    if (!m_flushEvent.IsRunning())
    {
        m_flushEvent = Simulator::ScheduleNow(&QuicListener::AfterEngine, this);
    }
}

void
QuicListener::MarkPending(QuicSocket* child)
{
    if (!child->m_pendingMark)
    {
        child->m_pendingMark = true;
        m_pending.push_back(child);
    }
}

void
QuicListener::AfterEngine()
{
    m_flushEvent.Cancel();
    // Applications may write (and so wake) while hearing their events.
    while (!m_pending.empty())
    {
        std::vector<Ptr<QuicSocket>> pending;
        pending.swap(m_pending);
        for (Ptr<QuicSocket>& child : pending)
        {
            child->m_pendingMark = false;
            child->DeliverEvents();
        }
    }
    Flush();
}

void
QuicListener::Flush()
{
    std::vector<Ptr<QuicSocket>> woken;
    woken.swap(m_woken);
    for (Ptr<QuicSocket>& child : woken)
    {
        if (child->m_econn)
        {
            m_endpoint->wake(*child->m_econn);
        }
    }
    static uint8_t out[kMaxUdpPayload];
    const uint64_t now = QuicSocket::NowUs();
    for (;;)
    {
        m_current = nullptr;
        quicbed::Transmit t = m_endpoint->write_datagram(quicbed::MutBytes(out, m_socket.m_maxDatagramSize), now);
        if (t.size == 0)
        {
            break;
        }
        Ptr<Packet> p = Create<Packet>(out, t.size);
        QuicSocket* from = m_current ? m_current : &m_socket;
        from->m_txTrace(p, from);
        m_socket.SendUdp(p, Decode(t.path.peer), static_cast<uint8_t>(t.ecn));
    }
    m_current = nullptr;
    m_socket.ScheduleTimer(m_endpoint->next_timeout());
}

quicbed::Status
QuicListener::create(const quicbed::IncomingConnection& in, quicbed::ConnectionServices& out)
{
    if (m_socket.m_listenClosed)
    {
        return quicbed::Status(quicbed::ErrorCode::kConnectionRefused, "listening socket closed");
    }
    Ptr<QuicSocket> child = m_socket.Fork();
    child->m_parent = &m_socket;
    child->m_peer = Decode(in.path.peer);
    child->m_startTime = Simulator::Now();
    quicbed::ConnectionId odcid;
    (void)odcid.assign(in.original_dcid);
    child->m_tracer = child->NewTracer(quicbed::Role::kServer, &odcid);
    child->m_tls = child->NewTls(quicbed::Role::kServer);
    out.tls = child->m_tls.get();
    out.events = child->Events();
    out.tracer = child->m_tracer.get();
    out.context = PeekPointer(child);
    m_children[PeekPointer(child)] = child;
    return quicbed::Status();
}

void
QuicListener::destroy(const quicbed::ConnectionServices& services)
{
    auto it = m_children.find(static_cast<QuicSocket*>(services.context));
    if (it == m_children.end())
    {
        return;
    }
    Ptr<QuicSocket> child = it->second;
    m_children.erase(it);
    child->m_econn = nullptr;
    // The connection is gone: its TLS session and qlog (flushed) go too.
    child->m_tls.reset();
    child->m_tracer.reset();
}

void
QuicListener::on_connection_accepted(quicbed::EndpointConnection& c)
{
    auto* child = static_cast<QuicSocket*>(c.context());
    child->m_econn = &c;
    m_socket.m_l4->AddSocket(child);
    if (!m_socket.NotifyConnectionRequest(child->m_peer))
    {
        // The application refused it (its accept callback said no).
        c.connection().close(0x2, "connection refused by the application", QuicSocket::NowUs());
    }
}

void
QuicListener::on_connection_removed(quicbed::EndpointConnection& c)
{
    auto* child = static_cast<QuicSocket*>(c.context());
    child->m_econn = nullptr;
}

} // namespace ns3
