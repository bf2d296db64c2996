// A QUIC connection as an ns-3 Socket, so that applications written for
// TCP (BulkSendApplication, PacketSink, ...) run over QUIC when their
// Protocol attribute says ns3::QuicSocketFactory.
//
// One socket is one QUIC connection (or, after Listen(), a listening
// endpoint whose accepted connections are sockets of their own). The byte
// stream of the Socket API is the connection's first bidirectional stream
// (stream 0), opened by the client once the handshake completes; Close()
// ends that stream (FIN), and the side that reads the peer's FIN after
// ending its own half (or having written nothing) closes the connection
// with NO_ERROR, which both applications see as a normal close. More
// streams and DATAGRAM frames (RFC 9221) are available through the
// QUIC-specific methods below.
//
// The engine is quicbed's core (stack/), the same code as the kernel module
// and the userspace endpoint, driven by the simulator: datagrams over an
// ns-3 UdpSocket, time from Simulator::Now(), one timer event at the
// engine's next deadline, randomness from the node's RNG stream, TLS 1.3
// by GnuTLS in-process.
//
// Attributes configure the connection (congestion control, windows,
// limits, idle timeout, ECN, version, crypto mode); set them per socket or
// for all with Config::SetDefault("ns3::QuicSocket::...", ...). Trace
// sources carry ns-3 TCP's names and signatures where they mean the same.
#ifndef QUIC_SOCKET_H
#define QUIC_SOCKET_H

#include "ns3/callback.h"
#include "ns3/data-rate.h"
#include "ns3/event-id.h"
#include "ns3/inet-socket-address.h"
#include "ns3/nstime.h"
#include "ns3/socket.h"
#include "ns3/tcp-socket-state.h"
#include "ns3/traced-callback.h"
#include "ns3/traced-value.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

// The engine's types stay out of this header: ns-3 3.37's own headers do
// not compile as C++20 (which the core needs), so scripts include this as
// C++17 and only the module's sources see the core.
namespace quicbed
{
class Connection;
class ConnectionEvents;
class CryptoBackend;
class EndpointConnection;
class GnutlsTls;
class GnutlsTlsContext;
struct ConnectionConfig;
struct TransportParameters;
struct ConnectionId;
struct DatagramInfo;
enum class Role : uint8_t;
} // namespace quicbed

namespace ns3
{

class QuicL4Protocol;
class QuicListener;
class QuicTraceBridge;

class QuicSocket : public Socket
{
  public:
    // How packets are protected.
    enum CryptoMode
    {
        // Real TLS 1.3 handshake and real AEAD/header protection (GnuTLS).
        GNUTLS,
        // Real TLS handshake, packets in clear with a checksum tag
        // (quicbed::NullCipherCrypto, userspace/null_cipher.h): for very large sweeps only.
        NULL_CIPHER_FOR_SWEEPS,
    };
    enum CongestionControl
    {
        NEW_RENO,
        CUBIC,
        BBR,
    };

    static TypeId GetTypeId();
    QuicSocket();
    ~QuicSocket() override;

    void SetQuicL4(Ptr<QuicL4Protocol> l4);

    // ---- ns3::Socket
    enum SocketErrno GetErrno() const override;
    enum SocketType GetSocketType() const override;
    Ptr<Node> GetNode() const override;
    int Bind() override;
    int Bind6() override;
    int Bind(const Address& address) override;
    int Close() override;
    int ShutdownSend() override;
    int ShutdownRecv() override;
    int Connect(const Address& address) override;
    int Listen() override;
    uint32_t GetTxAvailable() const override;
    int Send(Ptr<Packet> p, uint32_t flags) override;
    int SendTo(Ptr<Packet> p, uint32_t flags, const Address& toAddress) override;
    uint32_t GetRxAvailable() const override;
    Ptr<Packet> Recv(uint32_t maxSize, uint32_t flags) override;
    Ptr<Packet> RecvFrom(uint32_t maxSize, uint32_t flags, Address& fromAddress) override;
    int GetSockName(Address& address) const override;
    int GetPeerName(Address& address) const override;
    bool SetAllowBroadcast(bool allowBroadcast) override;
    bool GetAllowBroadcast() const override;

    // ---- QUIC-specific API (after the handshake completed)
    // Closes the connection at once (RFC 9000 §10.2) with an application
    // error code; 0 is a normal close for both applications.
    void CloseConnection(uint64_t appErrorCode);
    // Opens a stream of ours; its ID, or -1 (GetErrno) when the peer's
    // stream limit does not allow one now.
    int64_t OpenStream(bool bidirectional);
    // Queues data on a stream, with the end of the stream when `fin`; bytes
    // taken (less when the send buffer is full), or -1.
    int SendOnStream(uint64_t streamId, Ptr<Packet> p, bool fin);
    // Reads up to maxSize bytes of a stream; `fin` tells when its end was
    // reached. Null when nothing is there.
    Ptr<Packet> RecvFromStream(uint64_t streamId, uint32_t maxSize, bool& fin);
    // One DATAGRAM frame (RFC 9221): unreliable, congestion controlled.
    // -1 if it is larger than MaxDatagramPayload() or the queue is full.
    int SendDatagram(Ptr<Packet> p);
    uint32_t MaxDatagramPayload() const;
    // Data arrived on a stream (any, stream 0 included; the Socket API's
    // recv callback hears about stream 0 too).
    void SetStreamRecvCallback(Callback<void, Ptr<QuicSocket>, uint64_t> cb);
    void SetDatagramRecvCallback(Callback<void, Ptr<QuicSocket>, Ptr<Packet>> cb);
    // Called after every batch of input the connection processed (ACKs
    // may have made room in stream send buffers): retry partial writes.
    void SetStreamWritableCallback(Callback<void, Ptr<QuicSocket>> cb);
    // The engine of this socket's connection; null before Connect() or an
    // accepted connection's handshake.
    const quicbed::Connection* GetConnection() const;
    bool IsHandshakeComplete() const
    {
        return m_handshakeDone;
    }

    // Trace signatures.
    typedef void (*TxRxTracedCallback)(Ptr<const Packet> packet, Ptr<const QuicSocket> socket);
    typedef void (*PacketLostTracedCallback)(uint64_t packetNumber);
    typedef void (*StreamDataTracedCallback)(uint64_t streamId, uint32_t bytes, bool fin);
    typedef void (*HandshakeDoneTracedCallback)(Time duration);
    typedef void (*ConnectionClosedTracedCallback)(uint64_t errorCode, bool application, bool byPeer);

  protected:
    void DoDispose() override;

  private:
    friend class QuicListener;
    friend class QuicTraceBridge;

    enum Role
    {
        NONE,      // fresh, or bound
        CLIENT,    // Connect() called: owns its connection and UDP socket
        LISTENER,  // Listen() called: owns an endpoint and UDP socket
        ACCEPTED,  // a connection a listener accepted
    };

    // ---- Configuration
    quicbed::ConnectionConfig MakeConfig(quicbed::Role role) const;
    quicbed::CryptoBackend& CryptoBackend() const;
    std::unique_ptr<quicbed::GnutlsTls> NewTls(quicbed::Role role);
    // Client with ZeroRtt: resumes the node's ticket for this server, with
    // 0-RTT when the ticket allows it.
    void Resume(quicbed::ConnectionConfig& config);
    // A child socket of a listener, with its attributes.
    Ptr<QuicSocket> Fork() const;
    // Creates the qlog/trace bridge of a connection (odcid known for servers).
    std::unique_ptr<QuicTraceBridge> NewTracer(quicbed::Role role, const quicbed::ConnectionId* odcid);

    // ---- UDP
    int BindUdp(const Address& address);
    void ReceiveFromUdp(Ptr<Socket> udp);
    quicbed::DatagramInfo InfoOf(Ptr<Packet> p) const;
    // `ecn`: the IP header's ECN codepoint (RFC 3168), 0 for Not-ECT.
    void SendUdp(Ptr<Packet> p, const Address& to, uint8_t ecn);

    // ---- Driving the engine
    quicbed::Connection* Conn();
    const quicbed::Connection* Conn() const;
    static uint64_t NowUs();
    // Client: sends what the connection has, then re-arms the timer.
    void Flush();
    // Asks for a Flush() at the current time once the caller returns:
    // client sockets schedule one, accepted ones ask their listener.
    void RequestFlush();
    void ScheduleTimer(uint64_t deadline);
    void OnTimer();
    // After an entry point of the engine: tells the application what the
    // events of that call meant (outside the engine, so it may call back).
    void DeliverEvents();
    // The engine is writing or reading a datagram of this connection (so
    // a listener knows whose Tx/Rx trace it is).
    void NoteEngineDatagram();

    // ---- The connection's events (inside the engine: only recorded)
    class EngineEvents;
    quicbed::ConnectionEvents* Events();

    // ---- Stream 0 (the Socket API's byte stream)
    void WritePending();
    void MaybeFinishConnection();

    // Attributes
    CongestionControl m_ccAlgorithm;
    uint32_t m_initialWindow;
    uint32_t m_maxDatagramSize;
    uint64_t m_initialMaxData;
    uint64_t m_initialMaxStreamData;
    uint64_t m_maxStreamWindow;
    uint64_t m_maxConnectionWindow;
    uint32_t m_sndBufSize;
    uint32_t m_maxStreamsBidi;
    uint32_t m_maxStreamsUni;
    Time m_idleTimeout;
    bool m_ecn;
    bool m_pmtud;
    bool m_pacing;
    bool m_zeroRtt;
    uint32_t m_version;
    CryptoMode m_cryptoMode;
    std::string m_qlogDir;
    std::string m_keyLogFile;
    uint32_t m_maxDatagramFrameSize;

    // State
    Ptr<QuicL4Protocol> m_l4;
    Role m_role = NONE;
    Ptr<Socket> m_udp;                  // CLIENT and LISTENER
    InetSocketAddress m_local{Ipv4Address::GetAny(), 0};
    InetSocketAddress m_peer{Ipv4Address::GetAny(), 0};
    mutable SocketErrno m_errno = ERROR_NOTERROR;
    std::unique_ptr<EngineEvents> m_events;
    std::unique_ptr<QuicTraceBridge> m_tracer;  // before the TLS session and the connection
    std::unique_ptr<quicbed::GnutlsTlsContext> m_ownTlsContext; // CLIENT with ZeroRtt: hears its tickets
    std::unique_ptr<quicbed::GnutlsTls> m_tls;
    std::unique_ptr<quicbed::TransportParameters> m_zeroRttParams; // the resumed server's
    std::unique_ptr<quicbed::Connection> m_conn;  // CLIENT
    quicbed::EndpointConnection* m_econn = nullptr; // ACCEPTED, until removed
    std::unique_ptr<QuicListener> m_listener;  // LISTENER
    QuicSocket* m_parent = nullptr;             // ACCEPTED: its listener socket
    EventId m_timer;
    uint64_t m_timerDeadline = 0;
    EventId m_flushEvent;
    Time m_startTime;

    // Events recorded inside the engine, delivered after it returns.
    bool m_handshakeDone = false;
    bool m_handshakeReported = false;
    bool m_earlyReported = false;   // usable before the handshake completed, and reported so:
                                    // a client writing 0-RTT, a server answering 0-RTT data
    bool m_pendingMark = false;     // accepted: in its listener's pending list
    bool m_closed = false;          // the connection closed (or never opened)
    bool m_closeReported = false;
    uint64_t m_closeCode = 0;
    bool m_closeApplication = false;
    bool m_closeByPeer = false;
    bool m_closeClean = false; // NO_ERROR, by either side's CONNECTION_CLOSE
    std::set<uint64_t> m_readable;
    std::vector<std::vector<uint8_t>> m_datagrams;

    // The Socket API's byte stream.
    int64_t m_stream = -1;
    std::vector<uint8_t> m_pending;  // written before the stream existed
    bool m_appClosed = false;        // Close() or ShutdownSend(): FIN to send
    bool m_finWritten = false;
    bool m_peerFinRead = false;
    uint64_t m_bytesWritten = 0;
    bool m_sendBlocked = false;      // a Send() was refused: NotifySend when room
    bool m_listenClosed = false;

    Callback<void, Ptr<QuicSocket>, uint64_t> m_streamRecv;
    Callback<void, Ptr<QuicSocket>, Ptr<Packet>> m_datagramRecv;
    Callback<void, Ptr<QuicSocket>> m_streamWritable;

    // Trace sources, named as TcpSocketBase's where they mean the same.
    TracedValue<uint32_t> m_cWnd;
    TracedValue<uint32_t> m_ssThresh;
    TracedValue<uint32_t> m_bytesInFlight;
    TracedValue<Time> m_rtt;
    TracedValue<DataRate> m_pacingRate;
    TracedValue<TcpSocketState::TcpCongState_t> m_congState;
    TracedCallback<Ptr<const Packet>, Ptr<const QuicSocket>> m_txTrace;
    TracedCallback<Ptr<const Packet>, Ptr<const QuicSocket>> m_rxTrace;
    TracedCallback<uint64_t> m_packetLostTrace;
    TracedCallback<uint64_t, uint32_t, bool> m_streamDataTrace;
    TracedCallback<Time> m_handshakeDoneTrace;
    TracedCallback<uint64_t, bool, bool> m_connectionClosedTrace;
};

} // namespace ns3

#endif
