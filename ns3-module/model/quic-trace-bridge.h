// What a connection's Tracer (stack/trace.h) hears, turned into the
// socket's ns-3 trace sources (CongestionWindow, RTT, CongState,
// PacketLost, ...) and, when the socket's QlogDir attribute names a
// directory, into the connection's qlog file (userspace/qlog.h), named
// <ODCID>_<client|server>.sqlog. qlog times count from the simulation's
// start and reference_time is 0, so a run's files repeat byte for byte.
#ifndef QUIC_TRACE_BRIDGE_H
#define QUIC_TRACE_BRIDGE_H

#include "qlog.h"
#include "trace.h"

#include <memory>
#include <string>

namespace ns3
{

class QuicSocket;

class QuicTraceBridge final : public quicbed::Tracer
{
  public:
    // `socket` receives the trace values; `qlogDir` empty: no qlog. A
    // server's `odcid` opens the file at once; a client's opens on
    // connection_started, when its connection has chosen it.
    QuicTraceBridge(QuicSocket* socket,
                    std::string qlogDir,
                    quicbed::Role role,
                    const quicbed::ConnectionId* odcid);
    ~QuicTraceBridge();

    void connection_started(uint64_t now, const quicbed::TracedConnectionStarted& e) override;
    void connection_state_updated(uint64_t now,
                                  quicbed::TraceConnectionState old_state,
                                  quicbed::TraceConnectionState new_state) override;
    void connection_closed(uint64_t now, const quicbed::TracedConnectionClosed& e) override;
    void parameters_set(uint64_t now,
                        quicbed::TraceOwner owner,
                        const quicbed::TransportParameters& p) override;
    void packet_sent(uint64_t now, const quicbed::TracedPacket& p) override;
    void packet_received(uint64_t now, const quicbed::TracedPacket& p) override;
    void packet_dropped(uint64_t now, const quicbed::TracedPacketDrop& d) override;
    void datagram_sent(uint64_t now, uint64_t size) override;
    void datagram_received(uint64_t now, uint64_t size) override;
    void key_updated(uint64_t now, const quicbed::TracedKey& k) override;
    void key_discarded(uint64_t now, const quicbed::TracedKey& k) override;
    void metrics_updated(uint64_t now, const quicbed::TracedMetrics& m) override;
    void congestion_state_updated(uint64_t now,
                                  quicbed::CcState old_state,
                                  quicbed::CcState new_state,
                                  quicbed::CongestionTrigger trigger) override;
    void recovery_state_updated(uint64_t now, quicbed::CcRecovery old_state, quicbed::CcRecovery new_state) override;
    void packet_lost(uint64_t now, const quicbed::TracedPacketLost& p) override;

    // The qlog file's path; empty when none is written.
    std::string QlogPath() const;

  private:
    void Open(const quicbed::ConnectionId& odcid);

    QuicSocket* m_socket;
    std::string m_dir;
    quicbed::Role m_role;
    std::unique_ptr<quicbed::QlogWriter> m_qlog;
};

} // namespace ns3

#endif
