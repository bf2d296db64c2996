#include "quic-socket.h"

#include "endpoint.h"
#include "gnutls_tls.h"

#include "quic-l4-protocol.h"
#include "quic-rng-random.h"
#include "quic-listener.h"
#include "quic-tls-credentials.h"
#include "quic-trace-bridge.h"

#include "ns3/boolean.h"
#include "ns3/enum.h"
#include "ns3/fatal-error.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket-factory.h"
#include "ns3/string.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"
#include "ns3/udp-socket-factory.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QuicSocket");
NS_OBJECT_ENSURE_REGISTERED(QuicSocket);

namespace
{
// Largest UDP payload the socket reads or writes at once.
constexpr size_t kMaxUdpPayload = 65527;
// Bytes of stream data handed to the application per Recv().
constexpr uint32_t kMaxRecvChunk = 64 * 1024;
} // namespace

class QuicSocket::EngineEvents final : public quicbed::ConnectionEvents
{
  public:
    explicit EngineEvents(QuicSocket& s)
        : m_s(s)
    {
    }

    // Every event below has news for the application.
    void Pending()
    {
        if (m_s.m_parent && m_s.m_parent->m_listener)
        {
            m_s.m_parent->m_listener->MarkPending(&m_s);
        }
    }

    void on_handshake_complete() override
    {
        Pending();
        m_s.m_handshakeDone = true;
    }

    void on_connection_closed(const quicbed::CloseInfo& info) override
    {
        Pending();
        using Source = quicbed::CloseInfo::Source;
        m_s.m_closed = true;
        m_s.m_closeCode = info.error_code;
        m_s.m_closeApplication = info.application;
        m_s.m_closeByPeer = info.source != Source::kLocal;
        m_s.m_closeClean =
            info.error_code == 0 && (info.source == Source::kLocal || info.source == Source::kPeer);
    }

    void on_stream_opened(uint64_t id) override
    {
        Pending();
        // The client's first bidirectional stream carries the Socket API's bytes.
        if (m_s.m_role == ACCEPTED && m_s.m_stream < 0 &&
            quicbed::stream_dir(id) == quicbed::StreamDir::kBidi)
        {
            m_s.m_stream = static_cast<int64_t>(id);
        }
    }

    void on_stream_readable(uint64_t id) override
    {
        Pending();
        m_s.m_readable.insert(id);
    }

    void on_datagram(quicbed::Bytes data) override
    {
        Pending();
        m_s.m_datagrams.emplace_back(data.begin(), data.end());
    }

    void on_new_token(quicbed::Bytes token) override
    {
        if (m_s.m_role == CLIENT)
        {
            m_s.m_l4->StoreToken(m_s.m_peer, std::vector<uint8_t>(token.begin(), token.end()));
        }
    }

  private:
    QuicSocket& m_s;
};

TypeId
QuicSocket::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::QuicSocket")
            .SetParent<Socket>()
            .SetGroupName("Quic")
            .AddConstructor<QuicSocket>()
            .AddAttribute("CongestionControl",
                          "Congestion control algorithm: NewReno, Cubic (RFC 9438, HyStart++) or Bbr (BBRv2-style, stack/cc/bbr).",
                          EnumValue(CUBIC),
                          MakeEnumAccessor(&QuicSocket::m_ccAlgorithm),
                          MakeEnumChecker(NEW_RENO, "NewReno", CUBIC, "Cubic", BBR, "Bbr"))
            .AddAttribute("InitialWindow",
                          "Initial congestion window in packets of MaxDatagramSize (RFC 9002 §7.2: 10, "
                          "capped at 14720 bytes; the cap scales to 1472 bytes a packet); also the "
                          "pacer's largest burst (§7.7).",
                          UintegerValue(quicbed::kDefaultInitialWindowPackets),
                          MakeUintegerAccessor(&QuicSocket::m_initialWindow),
                          MakeUintegerChecker<uint32_t>(quicbed::kMinInitialWindowPackets,
                                                        quicbed::kMaxInitialWindowPackets))
            .AddAttribute("MaxDatagramSize",
                          "Largest UDP payload sent, in bytes (RFC 9000 §14: at least 1200).",
                          UintegerValue(1452),
                          MakeUintegerAccessor(&QuicSocket::m_maxDatagramSize),
                          MakeUintegerChecker<uint32_t>(1200, 65527))
            .AddAttribute("InitialMaxData",
                          "Connection flow-control window announced (initial_max_data), bytes.",
                          UintegerValue(4 << 20),
                          MakeUintegerAccessor(&QuicSocket::m_initialMaxData),
                          MakeUintegerChecker<uint64_t>())
            .AddAttribute("InitialMaxStreamData",
                          "Per-stream flow-control window announced (initial_max_stream_data_*), bytes.",
                          UintegerValue(2 << 20),
                          MakeUintegerAccessor(&QuicSocket::m_initialMaxStreamData),
                          MakeUintegerChecker<uint64_t>())
            .AddAttribute("MaxStreamWindow",
                          "Largest per-stream receive window auto-tuning may grow to, bytes.",
                          UintegerValue(16 << 20),
                          MakeUintegerAccessor(&QuicSocket::m_maxStreamWindow),
                          MakeUintegerChecker<uint64_t>())
            .AddAttribute("MaxConnectionWindow",
                          "Largest connection receive window auto-tuning may grow to, bytes.",
                          UintegerValue(24 << 20),
                          MakeUintegerAccessor(&QuicSocket::m_maxConnectionWindow),
                          MakeUintegerChecker<uint64_t>())
            .AddAttribute("SndBufSize",
                          "Bytes each stream buffers for sending until acknowledged.",
                          UintegerValue(1 << 20),
                          MakeUintegerAccessor(&QuicSocket::m_sndBufSize),
                          MakeUintegerChecker<uint32_t>(1))
            .AddAttribute("MaxStreamsBidi",
                          "Bidirectional streams the peer may open (initial_max_streams_bidi).",
                          UintegerValue(100),
                          MakeUintegerAccessor(&QuicSocket::m_maxStreamsBidi),
                          MakeUintegerChecker<uint32_t>(1, 10000))
            .AddAttribute("MaxStreamsUni",
                          "Unidirectional streams the peer may open (initial_max_streams_uni).",
                          UintegerValue(100),
                          MakeUintegerAccessor(&QuicSocket::m_maxStreamsUni),
                          MakeUintegerChecker<uint32_t>(0, 10000))
            .AddAttribute("IdleTimeout",
                          "max_idle_timeout (RFC 9000 §10.1).",
                          TimeValue(Seconds(30)),
                          MakeTimeAccessor(&QuicSocket::m_idleTimeout),
                          MakeTimeChecker(MilliSeconds(1)))
            .AddAttribute("MaxDatagramFrameSize",
                          "max_datagram_frame_size (RFC 9221 §3); 0 refuses DATAGRAM frames.",
                          UintegerValue(65535),
                          MakeUintegerAccessor(&QuicSocket::m_maxDatagramFrameSize),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Ecn",
                          "ECN (RFC 9000 §13.4): datagrams marked ECT(0) while the path passes ECN "
                          "validation; received codepoints are always reported.",
                          BooleanValue(false),
                          MakeBooleanAccessor(&QuicSocket::m_ecn),
                          MakeBooleanChecker())
            .AddAttribute("Pmtud",
                          "DPLPMTUD (RFC 8899, RFC 9000 §14.3): start at 1200 bytes and search up to "
                          "MaxDatagramSize once the handshake is confirmed.",
                          BooleanValue(false),
                          MakeBooleanAccessor(&QuicSocket::m_pmtud),
                          MakeBooleanChecker())
            .AddAttribute("Pacing",
                          "Pace packets (RFC 9002 §7.7): at 1.25 cwnd/RTT (NewReno, CUBIC) or at BBR's "
                          "pacing rate, in bursts of at most InitialWindow packets. False: the congestion "
                          "window alone limits sending, and a window's worth may leave in one burst.",
                          BooleanValue(true),
                          MakeBooleanAccessor(&QuicSocket::m_pacing),
                          MakeBooleanChecker())
            .AddAttribute("ZeroRtt",
                          "0-RTT (RFC 9001 §4.6): a server accepts it; a client resumes the node's last "
                          "session ticket from the same server and sends its first data in 0-RTT packets.",
                          BooleanValue(false),
                          MakeBooleanAccessor(&QuicSocket::m_zeroRtt),
                          MakeBooleanChecker())
            .AddAttribute("Version",
                          "QUIC version a client starts with: 1 (RFC 9000) or 0x6b3343cf (v2, RFC 9369).",
                          UintegerValue(quicbed::kVersion1),
                          MakeUintegerAccessor(&QuicSocket::m_version),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("CryptoMode",
                          "Packet protection: Gnutls (real AEAD, default) or NullCipherForSweeps "
                          "(real TLS handshake, packets in clear; both ends must agree).",
                          EnumValue(GNUTLS),
                          MakeEnumAccessor(&QuicSocket::m_cryptoMode),
                          MakeEnumChecker(GNUTLS, "Gnutls", NULL_CIPHER_FOR_SWEEPS, "NullCipherForSweeps"))
            .AddAttribute("QlogDir",
                          "Directory for one qlog file per connection; empty: none.",
                          StringValue(""),
                          MakeStringAccessor(&QuicSocket::m_qlogDir),
                          MakeStringChecker())
            .AddAttribute("TlsKeyLogFile",
                          "NSS key log file for decrypting pcaps (tshark -o tls.keylog_file:...); "
                          "empty: $SSLKEYLOGFILE if set.",
                          StringValue(""),
                          MakeStringAccessor(&QuicSocket::m_keyLogFile),
                          MakeStringChecker())
            .AddTraceSource("CongestionWindow",
                            "The QUIC connection's congestion window",
                            MakeTraceSourceAccessor(&QuicSocket::m_cWnd),
                            "ns3::TracedValueCallback::Uint32")
            .AddTraceSource("SlowStartThreshold",
                            "Slow start threshold",
                            MakeTraceSourceAccessor(&QuicSocket::m_ssThresh),
                            "ns3::TracedValueCallback::Uint32")
            .AddTraceSource("BytesInFlight",
                            "Bytes in flight",
                            MakeTraceSourceAccessor(&QuicSocket::m_bytesInFlight),
                            "ns3::TracedValueCallback::Uint32")
            .AddTraceSource("RTT",
                            "Smoothed RTT",
                            MakeTraceSourceAccessor(&QuicSocket::m_rtt),
                            "ns3::TracedValueCallback::Time")
            .AddTraceSource("PacingRate",
                            "Pacing rate",
                            MakeTraceSourceAccessor(&QuicSocket::m_pacingRate),
                            "ns3::TracedValueCallback::DataRate")
            .AddTraceSource("CongState",
                            "Congestion state, in TCP's terms (CA_OPEN, CA_RECOVERY)",
                            MakeTraceSourceAccessor(&QuicSocket::m_congState),
                            "ns3::TcpSocketState::TcpCongStatesTracedValueCallback")
            .AddTraceSource("Tx",
                            "A UDP datagram of this connection sent",
                            MakeTraceSourceAccessor(&QuicSocket::m_txTrace),
                            "ns3::QuicSocket::TxRxTracedCallback")
            .AddTraceSource("Rx",
                            "A UDP datagram of this connection received",
                            MakeTraceSourceAccessor(&QuicSocket::m_rxTrace),
                            "ns3::QuicSocket::TxRxTracedCallback")
            .AddTraceSource("PacketLost",
                            "A packet declared lost (RFC 9002 §6), by packet number",
                            MakeTraceSourceAccessor(&QuicSocket::m_packetLostTrace),
                            "ns3::QuicSocket::PacketLostTracedCallback")
            .AddTraceSource("StreamData",
                            "Stream data delivered to the application",
                            MakeTraceSourceAccessor(&QuicSocket::m_streamDataTrace),
                            "ns3::QuicSocket::StreamDataTracedCallback")
            .AddTraceSource("HandshakeDone",
                            "The handshake completed, with its duration from Connect()",
                            MakeTraceSourceAccessor(&QuicSocket::m_handshakeDoneTrace),
                            "ns3::QuicSocket::HandshakeDoneTracedCallback")
            .AddTraceSource("ConnectionClosed",
                            "The connection closed (error code, application error?, by the peer?)",
                            MakeTraceSourceAccessor(&QuicSocket::m_connectionClosedTrace),
                            "ns3::QuicSocket::ConnectionClosedTracedCallback");
    return tid;
}

QuicSocket::QuicSocket()
    : m_events(std::make_unique<EngineEvents>(*this)),
      m_congState(TcpSocketState::CA_OPEN)
{
}

QuicSocket::~QuicSocket() = default;

void
QuicSocket::SetQuicL4(Ptr<QuicL4Protocol> l4)
{
    m_l4 = l4;
}

void
QuicSocket::DoDispose()
{
    m_timer.Cancel();
    m_flushEvent.Cancel();
    // The engine goes before the services it uses (TLS, tracer). An
    // accepted connection still in its listener's endpoint is the
    // listener's to free, with its TLS session and tracer (destroy()).
    m_listener.reset();
    m_conn.reset();
    if (!m_econn)
    {
        m_tls.reset();
        m_tracer.reset();
    }
    if (m_udp)
    {
        m_udp->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        m_udp->Close();
        m_udp = nullptr;
    }
    m_l4 = nullptr;
    m_streamRecv = MakeNullCallback<void, Ptr<QuicSocket>, uint64_t>();
    m_datagramRecv = MakeNullCallback<void, Ptr<QuicSocket>, Ptr<Packet>>();
    m_streamWritable = MakeNullCallback<void, Ptr<QuicSocket>>();
    Socket::DoDispose();
}

// ---------------------------------------------------------------- config

quicbed::ConnectionConfig
QuicSocket::MakeConfig(quicbed::Role role) const
{
    quicbed::ConnectionConfig c;
    c.role = role;
    c.version = m_version;
    if (!quicbed::is_supported_version(m_version))
    {
        NS_FATAL_ERROR("QuicSocket Version=0x" << std::hex << m_version
                                               << ": the core speaks 0x1 (RFC 9000) and 0x6b3343cf (RFC 9369)");
    }
    switch (m_ccAlgorithm)
    {
    case NEW_RENO:
        c.cc = quicbed::CcAlgorithm::kNewReno;
        break;
    case CUBIC:
        c.cc = quicbed::CcAlgorithm::kCubic;
        break;
    case BBR:
        c.cc = quicbed::CcAlgorithm::kBbr;
        break;
    }
    c.initial_window_packets = m_initialWindow;
    c.pacing = m_pacing;
    c.max_datagram_size = m_maxDatagramSize;
    // RFC 9000 §13.4: the engine marks ECT(0) while ECN validation passes.
    c.ecn = m_ecn;
    c.pmtud = m_pmtud;
    quicbed::TransportParameters& tp = c.params;
    tp.max_idle_timeout = std::max<uint64_t>(1, m_idleTimeout.GetMilliSeconds());
    tp.initial_max_data = m_initialMaxData;
    tp.initial_max_stream_data_bidi_local = m_initialMaxStreamData;
    tp.initial_max_stream_data_bidi_remote = m_initialMaxStreamData;
    tp.initial_max_stream_data_uni = m_initialMaxStreamData;
    tp.initial_max_streams_bidi = m_maxStreamsBidi;
    tp.initial_max_streams_uni = m_maxStreamsUni;
    tp.max_datagram_frame_size = m_maxDatagramFrameSize;
    tp.active_connection_id_limit = 4;
    c.max_stream_window = std::max(m_maxStreamWindow, m_initialMaxStreamData);
    c.max_connection_window = std::max(m_maxConnectionWindow, m_initialMaxData);
    c.stream_send_buffer = m_sndBufSize;
    c.max_local_streams = m_maxStreamsBidi + m_maxStreamsUni;
    // Enough sent-packet records for a window of a few MB at full size.
    c.max_outstanding_packets = 8192;
    c.alloc = &m_l4->Allocator();
    c.crypto_backend = &CryptoBackend();
    c.random = &m_l4->Random();
    return c;
}

quicbed::CryptoBackend&
QuicSocket::CryptoBackend() const
{
    return m_l4->Crypto(m_cryptoMode == NULL_CIPHER_FOR_SWEEPS);
}

std::unique_ptr<quicbed::GnutlsTls>
QuicSocket::NewTls(quicbed::Role role)
{
    QuicTlsCredentials& credentials = QuicTlsCredentials::Get();
    const quicbed::GnutlsTlsContext* ctx = &credentials.Context(role, m_keyLogFile, m_zeroRtt);
    if (role == quicbed::Role::kClient && m_zeroRtt)
    {
        // A context of its own, whose ticket callback knows this socket's
        // server: the node keeps the ticket for the next connection.
        quicbed::GnutlsTlsConfig config = credentials.Config(role, m_keyLogFile, true);
        Ptr<QuicL4Protocol> l4 = m_l4;
        const InetSocketAddress server = m_peer;
        config.on_session_ticket = [l4, server](const quicbed::SessionTicket& t) { l4->StoreTicket(server, t); };
        auto own = quicbed::GnutlsTlsContext::create(config);
        if (!own.is_ok())
        {
            NS_FATAL_ERROR("QUIC TLS context: " << own.status().reason());
        }
        m_ownTlsContext = std::move(own).value();
        ctx = m_ownTlsContext.get();
    }
    auto tls = ctx->new_session();
    if (!tls.is_ok())
    {
        NS_FATAL_ERROR("QUIC TLS session: " << tls.status().reason());
    }
    return std::move(tls).value();
}

std::unique_ptr<QuicTraceBridge>
QuicSocket::NewTracer(quicbed::Role role, const quicbed::ConnectionId* odcid)
{
    return std::make_unique<QuicTraceBridge>(this, m_qlogDir, role, odcid);
}

Ptr<QuicSocket>
QuicSocket::Fork() const
{
    Ptr<QuicSocket> s = CreateObject<QuicSocket>();
    // Every attribute of the listening socket, as TCP's forks have.
    const TypeId tid = GetTypeId();
    for (uint32_t i = 0; i < tid.GetAttributeN(); ++i)
    {
        const TypeId::AttributeInformation info = tid.GetAttribute(i);
        Ptr<AttributeValue> v = info.checker->Create();
        GetAttribute(info.name, *v);
        s->SetAttribute(info.name, *v);
    }
    s->m_l4 = m_l4;
    s->m_role = ACCEPTED;
    s->m_local = m_local;
    return s;
}

// ---------------------------------------------------------------- Socket basics

enum Socket::SocketErrno
QuicSocket::GetErrno() const
{
    return m_errno;
}

enum Socket::SocketType
QuicSocket::GetSocketType() const
{
    return NS3_SOCK_STREAM;
}

Ptr<Node>
QuicSocket::GetNode() const
{
    return m_l4 ? m_l4->GetNode() : nullptr;
}

int
QuicSocket::Bind()
{
    return Bind(InetSocketAddress(Ipv4Address::GetAny(), 0));
}

int
QuicSocket::Bind6()
{
    m_errno = ERROR_AFNOSUPPORT;
    NS_LOG_WARN("QuicSocket: IPv6 is not supported yet");
    return -1;
}

int
QuicSocket::Bind(const Address& address)
{
    if (!InetSocketAddress::IsMatchingType(address))
    {
        m_errno = ERROR_AFNOSUPPORT;
        return -1;
    }
    if (m_udp)
    {
        m_errno = ERROR_INVAL;
        return -1;
    }
    return BindUdp(address);
}

int
QuicSocket::BindUdp(const Address& address)
{
    m_udp = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    if (m_udp->Bind(address) != 0)
    {
        m_errno = m_udp->GetErrno();
        m_udp = nullptr;
        return -1;
    }
    m_udp->SetIpRecvTos(true);
    // A congestion window's worth of datagrams may come in between two
    // events: the default UDP receive buffer (128 KiB) would drop them.
    m_udp->SetAttribute("RcvBufSize", UintegerValue(64 << 20));
    m_udp->SetRecvCallback(MakeCallback(&QuicSocket::ReceiveFromUdp, this));
    Address local;
    m_udp->GetSockName(local);
    m_local = InetSocketAddress::ConvertFrom(local);
    return 0;
}

int
QuicSocket::GetSockName(Address& address) const
{
    address = m_local;
    return 0;
}

int
QuicSocket::GetPeerName(Address& address) const
{
    if (m_role != CLIENT && m_role != ACCEPTED)
    {
        m_errno = ERROR_NOTCONN;
        return -1;
    }
    address = m_peer;
    return 0;
}

bool
QuicSocket::SetAllowBroadcast(bool allowBroadcast)
{
    return !allowBroadcast;
}

bool
QuicSocket::GetAllowBroadcast() const
{
    return false;
}

int
QuicSocket::ShutdownRecv()
{
    return 0;
}

// ---------------------------------------------------------------- client

int
QuicSocket::Connect(const Address& address)
{
    if (!InetSocketAddress::IsMatchingType(address))
    {
        m_errno = ERROR_AFNOSUPPORT;
        return -1;
    }
    if (m_role != NONE)
    {
        m_errno = ERROR_ISCONN;
        return -1;
    }
    if (!m_udp && Bind() != 0)
    {
        return -1;
    }
    m_role = CLIENT;
    m_peer = InetSocketAddress::ConvertFrom(address);
    m_startTime = Simulator::Now();
    m_tracer = NewTracer(quicbed::Role::kClient, nullptr);
    m_tls = NewTls(quicbed::Role::kClient);
    quicbed::ConnectionConfig config = MakeConfig(quicbed::Role::kClient);
    if (m_zeroRtt)
    {
        Resume(config);
    }
    // RFC 9000 §8.1.3: the server's last NEW_TOKEN validates our address
    // at once (init() copies it).
    if (const std::vector<uint8_t>* token = m_l4->FindToken(m_peer))
    {
        config.token = quicbed::Bytes(token->data(), token->size());
    }
    config.tls = m_tls.get();
    config.events = m_events.get();
    config.tracer = m_tracer.get();
    m_conn = std::make_unique<quicbed::Connection>(config);
    quicbed::Status s = m_conn->init(NowUs());
    if (!s.is_ok())
    {
        NS_FATAL_ERROR("QuicSocket: connection setup failed: " << s.reason());
    }
    m_l4->AddSocket(this);
    // The ClientHello goes out now, once Connect()'s caller has set its
    // callbacks (BulkSend sets them after Connect()): 0-RTT reports the
    // connection usable at once.
    RequestFlush();
    return 0;
}

void
QuicSocket::Resume(quicbed::ConnectionConfig& config)
{
    const quicbed::SessionTicket* t = m_l4->FindTicket(m_peer);
    if (!t)
    {
        return; // the first connection to this server: a full handshake
    }
    auto tp = quicbed::TransportParameters::parse(quicbed::Bytes(t->transport_params.data(), t->transport_params.size()),
                                                  quicbed::Role::kServer);
    if (!tp.is_ok() || !m_tls->set_session(t->session).is_ok())
    {
        NS_LOG_WARN("QuicSocket: the stored session cannot be resumed; full handshake");
        return;
    }
    // RFC 9001 §4.6.1: 0-RTT only under a ticket that allows it, within
    // the transport parameters the server had (RFC 9000 §7.4.1).
    if (t->allows_zero_rtt())
    {
        m_zeroRttParams = std::make_unique<quicbed::TransportParameters>(tp.value());
        config.zero_rtt_params = m_zeroRttParams.get();
    }
}

int
QuicSocket::Listen()
{
    if (m_role != NONE)
    {
        m_errno = ERROR_INVAL;
        return -1;
    }
    if (!m_udp && Bind() != 0)
    {
        return -1;
    }
    m_role = LISTENER;
    m_listener = std::make_unique<QuicListener>(*this);
    m_l4->AddSocket(this);
    return 0;
}

// ---------------------------------------------------------------- the engine

quicbed::Connection*
QuicSocket::Conn()
{
    if (m_role == CLIENT)
    {
        return m_conn.get();
    }
    return m_econn ? &m_econn->connection() : nullptr;
}

const quicbed::Connection*
QuicSocket::Conn() const
{
    return const_cast<QuicSocket*>(this)->Conn();
}

const quicbed::Connection*
QuicSocket::GetConnection() const
{
    return Conn();
}

uint64_t
QuicSocket::NowUs()
{
    return static_cast<uint64_t>(Simulator::Now().GetMicroSeconds());
}

void
QuicSocket::ReceiveFromUdp(Ptr<Socket> udp)
{
    Address from;
    std::vector<uint8_t> buf;
    while (Ptr<Packet> p = udp->RecvFrom(from))
    {
        if (!InetSocketAddress::IsMatchingType(from))
        {
            continue;
        }
        buf.resize(p->GetSize());
        p->CopyData(buf.data(), buf.size());
        const quicbed::DatagramInfo info = InfoOf(p);
        if (m_role == LISTENER)
        {
            m_listener->Receive(p, buf, InetSocketAddress::ConvertFrom(from), info);
            continue;
        }
        if (m_role != CLIENT || !m_conn)
        {
            continue;
        }
        // Only the server we connected to speaks on this socket.
        if (InetSocketAddress::ConvertFrom(from) != m_peer)
        {
            continue;
        }
        m_rxTrace(p, this);
        m_conn->receive_datagram(quicbed::MutBytes(buf.data(), buf.size()), info, NowUs());
        DeliverEvents();
    }
    if (m_role == CLIENT)
    {
        Flush();
    }
    else if (m_role == LISTENER)
    {
        m_listener->AfterEngine();
    }
}

quicbed::DatagramInfo
QuicSocket::InfoOf(Ptr<Packet> p) const
{
    quicbed::DatagramInfo info;
    SocketIpTosTag tos;
    if (p->PeekPacketTag(tos))
    {
        info.ecn = static_cast<quicbed::Ecn>(tos.GetTos() & 0x03);
    }
    return info;
}

void
QuicSocket::SendUdp(Ptr<Packet> p, const Address& to, uint8_t ecn)
{
    if (ecn)
    {
        // The codepoint the engine chose (RFC 9000 §13.4: ECT(0) while ECN
        // validation passes); the IP layer copies the tag into the header.
        SocketIpTosTag tos;
        tos.SetTos(ecn);
        p->ReplacePacketTag(tos);
    }
    m_udp->SendTo(p, 0, to);
}

void
QuicSocket::Flush()
{
    if (m_role == ACCEPTED)
    {
        RequestFlush();
        return;
    }
    if (m_role != CLIENT || !m_conn)
    {
        return;
    }
    m_flushEvent.Cancel();
    static uint8_t out[kMaxUdpPayload];
    const uint64_t now = NowUs();
    while (size_t n = m_conn->write_datagram(quicbed::MutBytes(out, m_maxDatagramSize), now))
    {
        Ptr<Packet> p = Create<Packet>(out, n);
        m_txTrace(p, this);
        SendUdp(p, m_peer, static_cast<uint8_t>(m_conn->datagram_ecn()));
    }
    DeliverEvents();
    ScheduleTimer(m_conn ? m_conn->next_timeout() : quicbed::kNever);
}

void
QuicSocket::RequestFlush()
{
    if (m_role == ACCEPTED)
    {
        if (m_parent && m_econn)
        {
            m_parent->m_listener->Wake(this);
        }
        return;
    }
    if (m_role == CLIENT && !m_flushEvent.IsRunning())
    {
        m_flushEvent = Simulator::ScheduleNow(&QuicSocket::Flush, this);
    }
}

void
QuicSocket::ScheduleTimer(uint64_t deadline)
{
    if (deadline == quicbed::kNever)
    {
        m_timer.Cancel();
        return;
    }
    if (m_timer.IsRunning() && m_timerDeadline == deadline)
    {
        return;
    }
    m_timer.Cancel();
    m_timerDeadline = deadline;
    const uint64_t now = NowUs();
    m_timer = Simulator::Schedule(MicroSeconds(deadline > now ? deadline - now : 0), &QuicSocket::OnTimer, this);
}

void
QuicSocket::OnTimer()
{
    if (m_role == LISTENER)
    {
        m_listener->OnTimer();
        return;
    }
    if (!m_conn)
    {
        return;
    }
    m_conn->on_timeout(NowUs());
    DeliverEvents();
    Flush();
}

// ---------------------------------------------------------------- events

quicbed::ConnectionEvents*
QuicSocket::Events()
{
    return m_events.get();
}

void
QuicSocket::NoteEngineDatagram()
{
    if (m_parent && m_parent->m_listener)
    {
        m_parent->m_listener->SetCurrent(this);
    }
}


void
QuicSocket::DeliverEvents()
{
    Ptr<QuicSocket> self = this; // an application callback may close us
    if (m_role == CLIENT && !m_handshakeDone && !m_earlyReported && m_conn && m_conn->zero_rtt_writable())
    {
        // RFC 9001 §4.6: data written now goes in 0-RTT packets.
        m_earlyReported = true;
        NotifyConnectionSucceeded();
        NotifySend(GetTxAvailable());
    }
    if (m_role == ACCEPTED && m_parent && !m_handshakeDone && !m_earlyReported && Conn() &&
        Conn()->zero_rtt_packets() > 0 && Conn()->streams_usable())
    {
        // The client's 0-RTT data arrived and the server may answer at once
        // (0.5-RTT data, RFC 9001 §4.1.1): like a TCP Fast Open server, the
        // application gets the connection now, a round trip before the
        // handshake completes.
        m_earlyReported = true;
        m_parent->NotifyNewConnectionCreated(this, m_peer);
    }
    if (m_handshakeDone && !m_handshakeReported)
    {
        m_handshakeReported = true;
        m_handshakeDoneTrace(Simulator::Now() - m_startTime);
        if (m_role == CLIENT)
        {
            WritePending();
            if (!m_earlyReported)
            {
                NotifyConnectionSucceeded();
                NotifySend(GetTxAvailable());
            }
        }
        else if (m_parent && !m_earlyReported)
        {
            m_parent->NotifyNewConnectionCreated(this, m_peer);
        }
    }
    if (!m_readable.empty() && (m_handshakeReported || m_earlyReported))
    {
        std::set<uint64_t> readable;
        readable.swap(m_readable);
        for (uint64_t id : readable)
        {
            if (static_cast<int64_t>(id) == m_stream)
            {
                NotifyDataRecv();
            }
            if (!m_streamRecv.IsNull())
            {
                m_streamRecv(this, id);
            }
        }
    }
    if (!m_datagrams.empty())
    {
        std::vector<std::vector<uint8_t>> datagrams;
        datagrams.swap(m_datagrams);
        for (const auto& d : datagrams)
        {
            if (!m_datagramRecv.IsNull())
            {
                m_datagramRecv(this, Create<Packet>(d.data(), d.size()));
            }
        }
    }
    if (!m_pending.empty() || (m_appClosed && !m_finWritten))
    {
        WritePending();
    }
    if (!m_streamWritable.IsNull() && (m_handshakeReported || m_earlyReported) && !m_closed)
    {
        m_streamWritable(this);
    }
    if (m_sendBlocked && !m_closed && GetTxAvailable() > 0)
    {
        m_sendBlocked = false;
        NotifySend(GetTxAvailable());
    }
    if (m_closed && !m_closeReported)
    {
        m_closeReported = true;
        m_connectionClosedTrace(m_closeCode, m_closeApplication, m_closeByPeer);
        if (!m_handshakeReported && m_role == CLIENT)
        {
            NotifyConnectionFailed();
        }
        else if (m_closeClean)
        {
            NotifyNormalClose();
        }
        else
        {
            NotifyErrorClose();
        }
    }
}

// ---------------------------------------------------------------- the byte stream

uint32_t
QuicSocket::GetTxAvailable() const
{
    const quicbed::Connection* c = Conn();
    if (m_appClosed || m_closed)
    {
        return 0;
    }
    if (!c || m_stream < 0)
    {
        return m_pending.size() < m_sndBufSize ? m_sndBufSize - static_cast<uint32_t>(m_pending.size()) : 0;
    }
    const quicbed::Stream* s = c->streams().find(static_cast<uint64_t>(m_stream));
    if (!s)
    {
        return 0;
    }
    return static_cast<uint32_t>(std::min<uint64_t>(s->writable(), 0xffffffffu));
}

int
QuicSocket::Send(Ptr<Packet> p, uint32_t /* flags */)
{
    if (m_role != CLIENT && m_role != ACCEPTED)
    {
        m_errno = ERROR_NOTCONN;
        return -1;
    }
    if (m_appClosed || m_closed)
    {
        m_errno = ERROR_SHUTDOWN;
        return -1;
    }
    // Like TcpSocketBase: all of it or nothing, NotifySend when room.
    const uint32_t size = p->GetSize();
    if (size > GetTxAvailable())
    {
        m_errno = ERROR_MSGSIZE;
        m_sendBlocked = true;
        return -1;
    }
    const size_t old = m_pending.size();
    m_pending.resize(old + size);
    p->CopyData(m_pending.data() + old, size);
    WritePending();
    return static_cast<int>(size);
}

int
QuicSocket::SendTo(Ptr<Packet> p, uint32_t flags, const Address&)
{
    return Send(p, flags);
}

void
QuicSocket::WritePending()
{
    quicbed::Connection* c = Conn();
    if (!c || !c->streams_usable() || m_closed)
    {
        return;
    }
    const bool fin = m_appClosed && !m_finWritten;
    if (m_pending.empty() && !fin)
    {
        return;
    }
    if (m_stream < 0 && m_role == CLIENT)
    {
        // The Socket API's stream opens with its first byte (or FIN), so a
        // client using only the QUIC API's streams gets stream 0 for its own.
        auto id = c->open_stream(quicbed::StreamDir::kBidi);
        if (!id.is_ok())
        {
            RequestFlush(); // STREAMS_BLOCKED; retried after the next event
            return;
        }
        m_stream = static_cast<int64_t>(id.value());
    }
    if (m_stream < 0)
    {
        return; // a server writes once the client's stream is there
    }
    auto n = c->stream_write(static_cast<uint64_t>(m_stream),
                             quicbed::Bytes(m_pending.data(), m_pending.size()),
                             fin);
    if (!n.is_ok())
    {
        NS_LOG_WARN("QuicSocket: stream write failed: " << n.status().reason());
        return;
    }
    m_bytesWritten += n.value();
    m_pending.erase(m_pending.begin(), m_pending.begin() + n.value());
    if (fin && m_pending.empty())
    {
        m_finWritten = true;
    }
    RequestFlush();
}

uint32_t
QuicSocket::GetRxAvailable() const
{
    // The core tells readability, not how much: a readable stream has
    // something (or its end) for the next Recv().
    return m_stream >= 0 && !m_peerFinRead ? 1 : 0;
}

Ptr<Packet>
QuicSocket::Recv(uint32_t maxSize, uint32_t /* flags */)
{
    if (m_stream < 0)
    {
        m_errno = ERROR_NOTCONN;
        return nullptr;
    }
    bool fin = false;
    Ptr<Packet> p = RecvFromStream(static_cast<uint64_t>(m_stream), maxSize, fin);
    if (fin && !m_peerFinRead)
    {
        m_peerFinRead = true;
        MaybeFinishConnection();
    }
    return p;
}

Ptr<Packet>
QuicSocket::RecvFrom(uint32_t maxSize, uint32_t flags, Address& fromAddress)
{
    Ptr<Packet> p = Recv(maxSize, flags);
    if (p)
    {
        fromAddress = m_peer;
    }
    return p;
}

void
QuicSocket::MaybeFinishConnection()
{
    // The side that has read the peer's FIN and ended its own half (or
    // never wrote) ends the connection: everything either side sent was
    // read, so NO_ERROR (RFC 9000 §20.1) is the truth.
    quicbed::Connection* c = Conn();
    if (!c || m_closed || !m_peerFinRead)
    {
        return;
    }
    if ((m_appClosed && m_finWritten) || (m_bytesWritten == 0 && m_pending.empty()))
    {
        c->close(0, "stream finished", NowUs());
        RequestFlush();
    }
}

int
QuicSocket::Close()
{
    if (m_role == LISTENER)
    {
        // No new connections; those accepted live on (like TCP).
        m_listenClosed = true;
        return 0;
    }
    if (m_appClosed)
    {
        return 0;
    }
    m_appClosed = true;
    quicbed::Connection* c = Conn();
    if (!c || m_closed)
    {
        return 0;
    }
    if (!c->streams_usable())
    {
        c->close(0, "closed before the handshake completed", NowUs());
        RequestFlush();
        return 0;
    }
    WritePending();
    MaybeFinishConnection();
    return 0;
}

int
QuicSocket::ShutdownSend()
{
    // PacketSink shuts the sending side of its listening socket: that
    // socket sends nothing of its own anyway.
    if (m_role == LISTENER)
    {
        return 0;
    }
    return Close();
}

// ---------------------------------------------------------------- QUIC API

void
QuicSocket::CloseConnection(uint64_t appErrorCode)
{
    m_appClosed = true;
    quicbed::Connection* c = Conn();
    if (c && !m_closed)
    {
        c->close(appErrorCode, "closed by the application", NowUs());
        RequestFlush();
    }
}

int64_t
QuicSocket::OpenStream(bool bidirectional)
{
    quicbed::Connection* c = Conn();
    if (!c || !c->streams_usable() || m_closed)
    {
        m_errno = ERROR_NOTCONN;
        return -1;
    }
    auto id = c->open_stream(bidirectional ? quicbed::StreamDir::kBidi : quicbed::StreamDir::kUni);
    if (!id.is_ok())
    {
        m_errno = ERROR_AGAIN;
        RequestFlush(); // STREAMS_BLOCKED goes out
        return -1;
    }
    return static_cast<int64_t>(id.value());
}

int
QuicSocket::SendOnStream(uint64_t streamId, Ptr<Packet> p, bool fin)
{
    quicbed::Connection* c = Conn();
    if (!c || !c->streams_usable() || m_closed)
    {
        m_errno = ERROR_NOTCONN;
        return -1;
    }
    std::vector<uint8_t> buf(p->GetSize());
    p->CopyData(buf.data(), buf.size());
    auto n = c->stream_write(streamId, quicbed::Bytes(buf.data(), buf.size()), fin);
    if (!n.is_ok())
    {
        m_errno = ERROR_INVAL;
        return -1;
    }
    RequestFlush();
    return static_cast<int>(n.value());
}

Ptr<Packet>
QuicSocket::RecvFromStream(uint64_t streamId, uint32_t maxSize, bool& fin)
{
    fin = false;
    quicbed::Connection* c = Conn();
    if (!c)
    {
        m_errno = ERROR_NOTCONN;
        return nullptr;
    }
    std::vector<uint8_t> buf(std::min(maxSize, kMaxRecvChunk));
    auto r = c->stream_read(streamId, quicbed::MutBytes(buf.data(), buf.size()));
    if (!r.is_ok())
    {
        return nullptr;
    }
    fin = r.value().fin;
    if (r.value().bytes || fin)
    {
        m_streamDataTrace(streamId, static_cast<uint32_t>(r.value().bytes), fin);
        // Reading returned flow-control credit: MAX_STREAM_DATA may be due.
        RequestFlush();
    }
    if (r.value().bytes == 0)
    {
        return nullptr;
    }
    return Create<Packet>(buf.data(), r.value().bytes);
}

int
QuicSocket::SendDatagram(Ptr<Packet> p)
{
    quicbed::Connection* c = Conn();
    if (!c || !c->streams_usable() || m_closed)
    {
        m_errno = ERROR_NOTCONN;
        return -1;
    }
    std::vector<uint8_t> buf(p->GetSize());
    p->CopyData(buf.data(), buf.size());
    quicbed::Status s = c->datagram_send(quicbed::Bytes(buf.data(), buf.size()));
    if (!s.is_ok())
    {
        m_errno = ERROR_MSGSIZE;
        return -1;
    }
    RequestFlush();
    return static_cast<int>(buf.size());
}

uint32_t
QuicSocket::MaxDatagramPayload() const
{
    const quicbed::Connection* c = Conn();
    return c ? static_cast<uint32_t>(c->max_datagram_payload()) : 0;
}

void
QuicSocket::SetStreamRecvCallback(Callback<void, Ptr<QuicSocket>, uint64_t> cb)
{
    m_streamRecv = cb;
}

void
QuicSocket::SetDatagramRecvCallback(Callback<void, Ptr<QuicSocket>, Ptr<Packet>> cb)
{
    m_datagramRecv = cb;
}

void
QuicSocket::SetStreamWritableCallback(Callback<void, Ptr<QuicSocket>> cb)
{
    m_streamWritable = cb;
}

} // namespace ns3
