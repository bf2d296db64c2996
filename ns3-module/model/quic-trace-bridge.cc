#include "quic-trace-bridge.h"

#include "quic-socket.h"

#include "ns3/fatal-error.h"

#include <algorithm>
#include <limits>

namespace ns3
{

QuicTraceBridge::QuicTraceBridge(QuicSocket* socket,
                                 std::string qlogDir,
                                 quicbed::Role role,
                                 const quicbed::ConnectionId* odcid)
    : m_socket(socket),
      m_dir(std::move(qlogDir)),
      m_role(role)
{
    if (odcid)
    {
        Open(*odcid);
    }
}

QuicTraceBridge::~QuicTraceBridge()
{
    if (m_qlog)
    {
        quicbed::Status s = m_qlog->close();
        if (!s.is_ok())
        {
            NS_FATAL_ERROR("qlog " << m_qlog->path() << ": " << s.reason());
        }
    }
}

std::string
QuicTraceBridge::QlogPath() const
{
    return m_qlog ? m_qlog->path() : std::string();
}

void
QuicTraceBridge::Open(const quicbed::ConnectionId& odcid)
{
    if (m_dir.empty() || m_qlog)
    {
        return;
    }
    quicbed::QlogConfig config;
    config.dir = m_dir;
    config.odcid = odcid;
    config.role = m_role;
    config.start_time_us = 0; // the simulation's start
    config.reference_time_us = 0;
    config.vantage_point_name = "quicbed-ns3";
    std::string error;
    auto w = quicbed::QlogWriter::open(config, &error);
    if (!w.is_ok())
    {
        // An attribute named a directory that cannot take the file: a
        // configuration error, not something to run on without.
        NS_FATAL_ERROR("QuicSocket QlogDir: " << (error.empty() ? w.status().reason() : error));
    }
    m_qlog = std::move(w).value();
}

void
QuicTraceBridge::connection_started(uint64_t now, const quicbed::TracedConnectionStarted& e)
{
    // A client's first event: its Destination Connection ID is the original.
    Open(e.dst_cid);
    if (m_qlog)
    {
        m_qlog->connection_started(now, e);
    }
}

void
QuicTraceBridge::connection_state_updated(uint64_t now,
                                          quicbed::TraceConnectionState old_state,
                                          quicbed::TraceConnectionState new_state)
{
    if (m_qlog)
    {
        m_qlog->connection_state_updated(now, old_state, new_state);
    }
}

void
QuicTraceBridge::connection_closed(uint64_t now, const quicbed::TracedConnectionClosed& e)
{
    if (m_qlog)
    {
        m_qlog->connection_closed(now, e);
    }
}

void
QuicTraceBridge::parameters_set(uint64_t now,
                                quicbed::TraceOwner owner,
                                const quicbed::TransportParameters& p)
{
    if (m_qlog)
    {
        m_qlog->parameters_set(now, owner, p);
    }
}

void
QuicTraceBridge::packet_sent(uint64_t now, const quicbed::TracedPacket& p)
{
    if (m_qlog)
    {
        m_qlog->packet_sent(now, p);
    }
}

void
QuicTraceBridge::packet_received(uint64_t now, const quicbed::TracedPacket& p)
{
    if (m_qlog)
    {
        m_qlog->packet_received(now, p);
    }
}

void
QuicTraceBridge::packet_dropped(uint64_t now, const quicbed::TracedPacketDrop& d)
{
    if (m_qlog)
    {
        m_qlog->packet_dropped(now, d);
    }
}

void
QuicTraceBridge::datagram_sent(uint64_t now, uint64_t size)
{
    m_socket->NoteEngineDatagram();
    if (m_qlog)
    {
        m_qlog->datagram_sent(now, size);
    }
}

void
QuicTraceBridge::datagram_received(uint64_t now, uint64_t size)
{
    m_socket->NoteEngineDatagram();
    if (m_qlog)
    {
        m_qlog->datagram_received(now, size);
    }
}

void
QuicTraceBridge::key_updated(uint64_t now, const quicbed::TracedKey& k)
{
    if (m_qlog)
    {
        m_qlog->key_updated(now, k);
    }
}

void
QuicTraceBridge::key_discarded(uint64_t now, const quicbed::TracedKey& k)
{
    if (m_qlog)
    {
        m_qlog->key_discarded(now, k);
    }
}

void
QuicTraceBridge::metrics_updated(uint64_t now, const quicbed::TracedMetrics& m)
{
    if (m_qlog)
    {
        m_qlog->metrics_updated(now, m);
    }
    // ns-3's TCP traces windows as 32-bit byte counts.
    auto clamp32 = [](uint64_t v) { return static_cast<uint32_t>(v > 0xffffffffu ? 0xffffffffu : v); };
    m_socket->m_cWnd = clamp32(m.congestion_window);
    m_socket->m_ssThresh = clamp32(m.ssthresh);
    m_socket->m_bytesInFlight = clamp32(m.bytes_in_flight);
    if (m.smoothed_rtt_us)
    {
        m_socket->m_rtt = MicroSeconds(m.smoothed_rtt_us);
    }
    // Unpaced (Pacing=false, or no RTT yet): the largest rate ns-3 holds.
    const uint64_t maxBytes = std::numeric_limits<uint64_t>::max() / 8;
    m_socket->m_pacingRate = DataRate(std::min(m.pacing_rate, maxBytes) * 8);
}

void
QuicTraceBridge::congestion_state_updated(uint64_t now,
                                          quicbed::CcState old_state,
                                          quicbed::CcState new_state,
                                          quicbed::CongestionTrigger trigger)
{
    if (m_qlog)
    {
        m_qlog->congestion_state_updated(now, old_state, new_state, trigger);
    }
}

void
QuicTraceBridge::recovery_state_updated(uint64_t, quicbed::CcRecovery, quicbed::CcRecovery new_state)
{
    // TCP's congestion states are its loss recovery's, whatever the
    // congestion control (Linux and ns-3 alike, BBR included); slow start,
    // congestion avoidance and BBR's modes are all CA_OPEN. By CcRecovery:
    static constexpr TcpSocketState::TcpCongState_t kTcpState[] = {
        TcpSocketState::CA_OPEN,     // kNone
        TcpSocketState::CA_RECOVERY, // kLoss: RFC 9002 §7.3.2's recovery period, like fast recovery
        TcpSocketState::CA_CWR,      // kEcn: a reduction for ECN-CE (§7.1), like TCP's (RFC 3168 §6.1.2)
        TcpSocketState::CA_LOSS,     // kPersistentCongestion (§7.6.2), like TCP after a retransmission timeout
    };
    m_socket->m_congState = kTcpState[static_cast<size_t>(new_state)];
}

void
QuicTraceBridge::packet_lost(uint64_t now, const quicbed::TracedPacketLost& p)
{
    if (m_qlog)
    {
        m_qlog->packet_lost(now, p);
    }
    m_socket->m_packetLostTrace(p.header.packet_number);
}

} // namespace ns3
