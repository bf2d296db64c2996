// The SocketFactory of QUIC sockets, aggregated to a node with its
// QuicL4Protocol: applications built on Socket::CreateSocket(node, tid)
// (BulkSendApplication, PacketSink, OnOffApplication...) run over QUIC
// with their Protocol attribute set to "ns3::QuicSocketFactory".
#ifndef QUIC_SOCKET_FACTORY_H
#define QUIC_SOCKET_FACTORY_H

#include "ns3/socket-factory.h"

namespace ns3
{

class QuicL4Protocol;

class QuicSocketFactory : public SocketFactory
{
  public:
    static TypeId GetTypeId();
    void SetQuicL4(Ptr<QuicL4Protocol> l4);
    Ptr<Socket> CreateSocket() override;

  protected:
    void DoDispose() override;

  private:
    Ptr<QuicL4Protocol> m_l4;
};

} // namespace ns3

#endif
