// The listening side of a QuicSocket (internal to the module): a quicbed
// server Endpoint (stack/endpoint.h) over the socket's UDP socket. Each
// connection the endpoint accepts becomes a QuicSocket of its own, handed
// to the application through the listening socket's accept callback once
// its handshake completes, like TCP's forked sockets.
#ifndef QUIC_LISTENER_H
#define QUIC_LISTENER_H

#include "endpoint.h"

#include "ns3/event-id.h"
#include "ns3/inet-socket-address.h"
#include "ns3/packet.h"
#include "ns3/ptr.h"

#include <map>
#include <memory>
#include <vector>

namespace ns3
{

class QuicSocket;

class QuicListener final : private quicbed::ConnectionFactory, private quicbed::EndpointEvents
{
  public:
    explicit QuicListener(QuicSocket& socket);
    ~QuicListener();
    QuicListener(const QuicListener&) = delete;
    QuicListener& operator=(const QuicListener&) = delete;

    // A datagram for the endpoint (its bytes are decrypted in place).
    void Receive(Ptr<Packet> p, std::vector<uint8_t>& bytes, const InetSocketAddress& from,
                 const quicbed::DatagramInfo& info);
    // After the endpoint ran: the connections' events reach their
    // applications, then what is to send goes out and the timer is re-armed.
    void AfterEngine();
    void OnTimer();
    // An accepted connection's application wrote, read or closed: it gets
    // a turn to send, in an event at the current time.
    void Wake(QuicSocket* child);
    // The connection whose datagram the endpoint is writing or reading; it
    // also has news for its application (MarkPending).
    void SetCurrent(QuicSocket* child)
    {
        m_current = child;
        MarkPending(child);
    }
    // `child` had an event (or input): AfterEngine() tells its application.
    void MarkPending(QuicSocket* child);

    // The IPv4 address and port of a path, as the core keeps it.
    static quicbed::PathAddress Encode(const InetSocketAddress& a);
    static InetSocketAddress Decode(const quicbed::PathAddress& a);

  private:
    quicbed::Status create(const quicbed::IncomingConnection& in, quicbed::ConnectionServices& out) override;
    void destroy(const quicbed::ConnectionServices& services) override;
    void on_connection_accepted(quicbed::EndpointConnection& c) override;
    void on_connection_removed(quicbed::EndpointConnection& c) override;
    void Flush();

    QuicSocket& m_socket;
    // Sockets of connections from create() to destroy().
    std::map<QuicSocket*, Ptr<QuicSocket>> m_children;
    std::vector<Ptr<QuicSocket>> m_woken;
    // Children with events to deliver: only they are visited after the
    // endpoint ran, however many connections it has.
    std::vector<Ptr<QuicSocket>> m_pending;
    EventId m_flushEvent;
    QuicSocket* m_current = nullptr;
    std::unique_ptr<quicbed::Endpoint> m_endpoint; // last: goes first
};

} // namespace ns3

#endif
