// The QUIC "L4 protocol" of a node: what ns-3 users know as TcpL4Protocol,
// aggregated to the node by QuicHelper. QUIC runs over UDP, so this object
// holds no protocol number of its own: it creates the QUIC sockets (each
// over an ns-3 UDP socket of the node), keeps them in SocketList for
// Config paths such as
//   /NodeList/*/$ns3::QuicL4Protocol/SocketList/*/CongestionWindow
// and owns the host services the engine needs on this node: its allocator,
// its crypto backends and its RNG stream.
#ifndef QUIC_L4_PROTOCOL_H
#define QUIC_L4_PROTOCOL_H

#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/ptr.h"

#include <memory>
#include <vector>

namespace quicbed
{
class Allocator;
class CryptoBackend;
struct SessionTicket;
} // namespace quicbed

namespace ns3
{

class QuicRngRandom;
class QuicSocket;

class QuicL4Protocol : public Object
{
  public:
    static TypeId GetTypeId();
    QuicL4Protocol();
    ~QuicL4Protocol() override;

    void SetNode(Ptr<Node> node);
    Ptr<Node> GetNode() const;

    // A new, unbound QUIC socket of this node (QuicSocketFactory's).
    Ptr<QuicSocket> CreateSocket();
    // A socket made by a listening socket for a connection it accepted.
    void AddSocket(Ptr<QuicSocket> socket);
    // Forgets a socket (its connection ended and it was closed).
    void RemoveSocket(Ptr<QuicSocket> socket);
    const std::vector<Ptr<QuicSocket>>& GetSockets() const
    {
        return m_sockets;
    }

    // Fixes the RNG stream of this node's QUIC randomness (connection IDs,
    // reset tokens, endpoint keys). Returns the number of streams used.
    int64_t AssignStreams(int64_t stream);

    // Host services shared by the node's connections (the module's own
    // code: the core's types are C++20, this header is for C++17 scripts).
    quicbed::Allocator& Allocator();
    QuicRngRandom& Random();
    quicbed::CryptoBackend& Crypto(bool nullCipher);
    // The node's session tickets (RFC 8446 §4.6.1), the latest per server
    // address: what a client with ZeroRtt resumes, sending 0-RTT data.
    void StoreTicket(const Address& server, const quicbed::SessionTicket& ticket);
    const quicbed::SessionTicket* FindTicket(const Address& server) const;
    // The node's address validation tokens (NEW_TOKEN, RFC 9000 §8.1.3),
    // the latest per server address: a client's next connection to that
    // server sends it, and is validated at once (no amplification limit).
    void StoreToken(const Address& server, const std::vector<uint8_t>& token);
    const std::vector<uint8_t>* FindToken(const Address& server) const;

  protected:
    void DoDispose() override;
    void NotifyNewAggregate() override;

  private:
    Ptr<Node> m_node;
    std::vector<Ptr<QuicSocket>> m_sockets;
    struct Services;
    std::unique_ptr<Services> m_services;
};

} // namespace ns3

#endif
