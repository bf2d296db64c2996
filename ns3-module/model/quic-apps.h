// QUIC-specific applications, for what a byte-stream Socket cannot show:
// many streams at once, request/response exchanges and unreliable DATAGRAM
// frames (RFC 9221).
//
// QuicServerApplication listens; on every stream a client opens it reads
// the request to its end (FIN), takes its first 8 bytes (big-endian) as the
// size of the response, and answers on the same stream with that many
// bytes and FIN. It echoes every DATAGRAM frame back.
//
// QuicClientApplication connects, then runs `Requests` request/response
// exchanges, `Parallel` streams at a time, each a request of RequestSize
// bytes asking for ResponseSize bytes; it traces each response's latency
// (stream opened to FIN read). It also sends `Datagrams` DATAGRAM frames
// of DatagramSize bytes every DatagramInterval and traces each echo's
// round-trip time. It closes the connection when everything is done.
#ifndef QUIC_APPS_H
#define QUIC_APPS_H

#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"

#include <map>

namespace ns3
{

class Packet;
class QuicSocket;
class Socket;

class QuicServerApplication : public Application
{
  public:
    static TypeId GetTypeId();
    QuicServerApplication();

    uint64_t GetRequestsServed() const
    {
        return m_served;
    }

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void HandleAccept(Ptr<Socket> s, const Address& from);
    void HandleStream(Ptr<QuicSocket> s, uint64_t stream);
    void HandleDatagram(Ptr<QuicSocket> s, Ptr<Packet> p);
    void HandleWritable(Ptr<QuicSocket> s);
    void Respond(Ptr<QuicSocket> s, uint64_t stream);

    struct Exchange
    {
        uint64_t requestBytes = 0;
        uint8_t header[8] = {};
        uint64_t responseLeft = 0;
        bool responding = false;
    };

    Address m_local;
    Ptr<Socket> m_socket;
    std::map<std::pair<QuicSocket*, uint64_t>, Exchange> m_exchanges;
    std::map<QuicSocket*, Ptr<QuicSocket>> m_connections;
    uint64_t m_served = 0;
    EventId m_retry;
};

class QuicClientApplication : public Application
{
  public:
    static TypeId GetTypeId();
    QuicClientApplication();

    uint64_t GetResponsesCompleted() const
    {
        return m_completed;
    }
    uint64_t GetDatagramsEchoed() const
    {
        return m_echoed;
    }

    typedef void (*ResponseTracedCallback)(uint64_t streamId, Time latency);
    typedef void (*DatagramRttTracedCallback)(Time rtt);

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void ConnectionSucceeded(Ptr<Socket> s);
    void ConnectionFailed(Ptr<Socket> s);
    void OpenRequests();
    void HandleStream(Ptr<QuicSocket> s, uint64_t stream);
    void HandleWritable(Ptr<QuicSocket> s);
    void SendDatagram();
    void HandleDatagram(Ptr<QuicSocket> s, Ptr<Packet> p);
    void MaybeClose();

    struct Request
    {
        Time start;
        uint64_t requestLeft = 0;
        uint64_t received = 0;
    };

    Address m_remote;
    uint32_t m_requests;
    uint32_t m_parallel;
    uint32_t m_requestSize;
    uint32_t m_responseSize;
    uint32_t m_datagrams;
    uint32_t m_datagramSize;
    Time m_datagramInterval;

    Ptr<QuicSocket> m_socket;
    std::map<uint64_t, Request> m_open;
    uint32_t m_started = 0;
    uint64_t m_completed = 0;
    uint32_t m_datagramsSent = 0;
    uint64_t m_echoed = 0;
    bool m_done = false;
    EventId m_datagramEvent;
    EventId m_retry;
    TracedCallback<uint64_t, Time> m_responseTrace;
    TracedCallback<Time> m_datagramRttTrace;
};

} // namespace ns3

#endif
