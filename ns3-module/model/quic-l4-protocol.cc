#include "quic-l4-protocol.h"

#include "quic-rng-random.h"
#include "quic-socket-factory.h"
#include "quic-socket.h"

#include "gnutls_crypto.h"
#include "gnutls_tls.h"
#include "malloc_allocator.h"
#include "null_cipher.h"

#include "ns3/inet-socket-address.h"
#include "ns3/object-vector.h"

#include <map>
#include <sstream>

#include <algorithm>

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(QuicL4Protocol);

TypeId
QuicL4Protocol::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QuicL4Protocol")
                            .SetParent<Object>()
                            .SetGroupName("Quic")
                            .AddConstructor<QuicL4Protocol>()
                            .AddAttribute("SocketList",
                                          "The QUIC sockets of this node (one per connection, and listeners).",
                                          ObjectVectorValue(),
                                          MakeObjectVectorAccessor(&QuicL4Protocol::m_sockets),
                                          MakeObjectVectorChecker<QuicSocket>());
    return tid;
}

struct QuicL4Protocol::Services
{
    quicbed::MallocAllocator alloc;
    quicbed::GnutlsCrypto gnutls;
    quicbed::NullCipherCrypto nullCipher;
    QuicRngRandom random;
    std::map<std::string, quicbed::SessionTicket> tickets;
    std::map<std::string, std::vector<uint8_t>> tokens;
};

namespace
{
std::string
TicketKey(const Address& a)
{
    std::ostringstream os;
    os << InetSocketAddress::ConvertFrom(a).GetIpv4() << ":" << InetSocketAddress::ConvertFrom(a).GetPort();
    return os.str();
}
} // namespace

void
QuicL4Protocol::StoreTicket(const Address& server, const quicbed::SessionTicket& ticket)
{
    m_services->tickets[TicketKey(server)] = ticket;
}

const quicbed::SessionTicket*
QuicL4Protocol::FindTicket(const Address& server) const
{
    auto it = m_services->tickets.find(TicketKey(server));
    return it == m_services->tickets.end() ? nullptr : &it->second;
}

void
QuicL4Protocol::StoreToken(const Address& server, const std::vector<uint8_t>& token)
{
    m_services->tokens[TicketKey(server)] = token;
}

const std::vector<uint8_t>*
QuicL4Protocol::FindToken(const Address& server) const
{
    auto it = m_services->tokens.find(TicketKey(server));
    return it == m_services->tokens.end() ? nullptr : &it->second;
}

QuicL4Protocol::QuicL4Protocol()
    : m_services(std::make_unique<Services>())
{
}

quicbed::Allocator&
QuicL4Protocol::Allocator()
{
    return m_services->alloc;
}

QuicRngRandom&
QuicL4Protocol::Random()
{
    return m_services->random;
}

QuicL4Protocol::~QuicL4Protocol() = default;

void
QuicL4Protocol::SetNode(Ptr<Node> node)
{
    m_node = node;
}

Ptr<Node>
QuicL4Protocol::GetNode() const
{
    return m_node;
}

void
QuicL4Protocol::NotifyNewAggregate()
{
    // Aggregated to a node: the factory comes along, like TcpL4Protocol's.
    if (!m_node)
    {
        if (Ptr<Node> node = GetObject<Node>())
        {
            m_node = node;
            Ptr<QuicSocketFactory> factory = CreateObject<QuicSocketFactory>();
            factory->SetQuicL4(this);
            node->AggregateObject(factory);
        }
    }
    Object::NotifyNewAggregate();
}

Ptr<QuicSocket>
QuicL4Protocol::CreateSocket()
{
    Ptr<QuicSocket> s = CreateObject<QuicSocket>();
    s->SetQuicL4(this);
    // Listed when it connects or listens (AddSocket): a socket only created
    // has no trace to give.
    return s;
}

void
QuicL4Protocol::AddSocket(Ptr<QuicSocket> socket)
{
    if (std::find(m_sockets.begin(), m_sockets.end(), socket) == m_sockets.end())
    {
        m_sockets.push_back(socket);
    }
}

void
QuicL4Protocol::RemoveSocket(Ptr<QuicSocket> socket)
{
    m_sockets.erase(std::remove(m_sockets.begin(), m_sockets.end(), socket), m_sockets.end());
}

int64_t
QuicL4Protocol::AssignStreams(int64_t stream)
{
    return m_services->random.AssignStreams(stream);
}

quicbed::CryptoBackend&
QuicL4Protocol::Crypto(bool nullCipher)
{
    if (nullCipher)
    {
        return m_services->nullCipher;
    }
    return m_services->gnutls;
}

void
QuicL4Protocol::DoDispose()
{
    // Connections free their memory into m_alloc: they go first.
    std::vector<Ptr<QuicSocket>> sockets;
    sockets.swap(m_sockets);
    for (Ptr<QuicSocket>& s : sockets)
    {
        s->Dispose();
    }
    m_node = nullptr;
    Object::DoDispose();
}

} // namespace ns3
