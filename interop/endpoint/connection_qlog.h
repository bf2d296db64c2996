// The qlog of one connection (userspace/qlog.h) as its Tracer. The file is
// named after the Original Destination Connection ID, which a client's
// connection picks itself in init(): so the writer opens on the
// connection_started event when the ID is not known before (client), or at
// once when it is (server: the client's first Initial carries it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "qlog.h"
#include "trace.h"

namespace quicbed {

class ConnectionQlog final : public Tracer {
 public:
  ConnectionQlog(std::string dir, Role role, uint64_t start_us);
  ~ConnectionQlog();  // closes the file; a write error is logged
  ConnectionQlog(const ConnectionQlog&) = delete;
  ConnectionQlog& operator=(const ConnectionQlog&) = delete;

  // Creates the file for `odcid` now; false (logged) if it cannot be.
  bool open(const ConnectionId& odcid);

  void connection_started(uint64_t now, const TracedConnectionStarted& e) override;
  void connection_state_updated(uint64_t now, TraceConnectionState old_state,
                                TraceConnectionState new_state) override;
  void connection_closed(uint64_t now, const TracedConnectionClosed& e) override;
  void parameters_set(uint64_t now, TraceOwner owner, const TransportParameters& p) override;
  void packet_sent(uint64_t now, const TracedPacket& p) override;
  void packet_received(uint64_t now, const TracedPacket& p) override;
  void packet_dropped(uint64_t now, const TracedPacketDrop& d) override;
  void datagram_sent(uint64_t now, uint64_t size) override;
  void datagram_received(uint64_t now, uint64_t size) override;
  void key_updated(uint64_t now, const TracedKey& k) override;
  void key_discarded(uint64_t now, const TracedKey& k) override;
  void metrics_updated(uint64_t now, const TracedMetrics& m) override;
  void congestion_state_updated(uint64_t now, CcState old_state, CcState new_state,
                                CongestionTrigger trigger) override;
  void packet_lost(uint64_t now, const TracedPacketLost& p) override;
  void ecn_state_updated(uint64_t now, EcnState old_state, EcnState new_state) override;
  void mtu_updated(uint64_t now, uint64_t old_mtu, uint64_t new_mtu, bool done) override;

 private:
  std::string dir_;
  Role role_;
  uint64_t start_us_;
  bool failed_ = false;  // opening failed: events are dropped
  std::unique_ptr<QlogWriter> writer_;
};

}  // namespace quicbed
