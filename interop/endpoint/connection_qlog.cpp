#include "connection_qlog.h"

#include "log.h"

namespace quicbed {

ConnectionQlog::ConnectionQlog(std::string dir, Role role, uint64_t start_us)
    : dir_(std::move(dir)), role_(role), start_us_(start_us) {}

ConnectionQlog::~ConnectionQlog() {
  if (writer_) {
    Status s = writer_->close();
    if (!s.is_ok()) log_error("qlog %s: %s", writer_->path().c_str(), s.reason());
  }
}

bool ConnectionQlog::open(const ConnectionId& odcid) {
  QlogConfig config;
  config.dir = dir_;
  config.odcid = odcid;
  config.role = role_;
  config.start_time_us = start_us_;
  std::string error;
  Result<std::unique_ptr<QlogWriter>> w = QlogWriter::open(config, &error);
  if (!w.is_ok()) {
    failed_ = true;
    log_error("qlog: %s", error.empty() ? w.status().reason() : error.c_str());
    return false;
  }
  writer_ = std::move(w).value();
  return true;
}

void ConnectionQlog::connection_started(uint64_t now, const TracedConnectionStarted& e) {
  // A client's first event: its Destination Connection ID is the original one.
  if (!writer_ && !failed_) (void)open(e.dst_cid);
  if (writer_) writer_->connection_started(now, e);
}

// The other events are forwarded as they are, once the file is open.
void ConnectionQlog::connection_state_updated(uint64_t now, TraceConnectionState old_state,
                                              TraceConnectionState new_state) {
  if (writer_) writer_->connection_state_updated(now, old_state, new_state);
}
void ConnectionQlog::connection_closed(uint64_t now, const TracedConnectionClosed& e) {
  if (writer_) writer_->connection_closed(now, e);
}
void ConnectionQlog::parameters_set(uint64_t now, TraceOwner owner, const TransportParameters& p) {
  if (writer_) writer_->parameters_set(now, owner, p);
}
void ConnectionQlog::packet_sent(uint64_t now, const TracedPacket& p) {
  if (writer_) writer_->packet_sent(now, p);
}
void ConnectionQlog::packet_received(uint64_t now, const TracedPacket& p) {
  if (writer_) writer_->packet_received(now, p);
}
void ConnectionQlog::packet_dropped(uint64_t now, const TracedPacketDrop& d) {
  if (writer_) writer_->packet_dropped(now, d);
}
void ConnectionQlog::datagram_sent(uint64_t now, uint64_t size) {
  if (writer_) writer_->datagram_sent(now, size);
}
void ConnectionQlog::datagram_received(uint64_t now, uint64_t size) {
  if (writer_) writer_->datagram_received(now, size);
}
void ConnectionQlog::key_updated(uint64_t now, const TracedKey& k) {
  if (writer_) writer_->key_updated(now, k);
}
void ConnectionQlog::key_discarded(uint64_t now, const TracedKey& k) {
  if (writer_) writer_->key_discarded(now, k);
}
void ConnectionQlog::metrics_updated(uint64_t now, const TracedMetrics& m) {
  if (writer_) writer_->metrics_updated(now, m);
}
void ConnectionQlog::congestion_state_updated(uint64_t now, CcState old_state, CcState new_state,
                                              CongestionTrigger trigger) {
  if (writer_) writer_->congestion_state_updated(now, old_state, new_state, trigger);
}
void ConnectionQlog::packet_lost(uint64_t now, const TracedPacketLost& p) {
  if (writer_) writer_->packet_lost(now, p);
}
void ConnectionQlog::ecn_state_updated(uint64_t now, EcnState old_state, EcnState new_state) {
  if (writer_) writer_->ecn_state_updated(now, old_state, new_state);
}
void ConnectionQlog::mtu_updated(uint64_t now, uint64_t old_mtu, uint64_t new_mtu, bool done) {
  if (writer_) writer_->mtu_updated(now, old_mtu, new_mtu, done);
}

}  // namespace quicbed
