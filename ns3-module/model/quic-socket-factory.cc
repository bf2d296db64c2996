#include "quic-socket-factory.h"

#include "quic-l4-protocol.h"
#include "quic-socket.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(QuicSocketFactory);

TypeId
QuicSocketFactory::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QuicSocketFactory").SetParent<SocketFactory>().SetGroupName("Quic");
    return tid;
}

void
QuicSocketFactory::SetQuicL4(Ptr<QuicL4Protocol> l4)
{
    m_l4 = l4;
}

Ptr<Socket>
QuicSocketFactory::CreateSocket()
{
    return m_l4->CreateSocket();
}

void
QuicSocketFactory::DoDispose()
{
    m_l4 = nullptr;
    SocketFactory::DoDispose();
}

} // namespace ns3
