// A Tracer writing qlog (design: "every host can write qlog"): one file per
// connection, <ODCID hex>_<client|server>.sqlog, in the JSON Text Sequences
// serialization (RFC 7464) of qlog 0.3 (draft-ietf-quic-qlog-main-schema-04
// §6.2) with the QUIC events of draft-ietf-quic-qlog-quic-events-03.
//
// Every record is an ASCII Record Separator (0x1e), one JSON object and a
// line feed. The first is the file header (qlog_version "0.3", qlog_format
// "JSON-SEQ", the trace's vantage point and common_fields: the ODCID as
// group_id, "relative" time from reference_time); then one record per
// event, {"time": ms, "name": "category:event", "data": {...}}. Times are
// milliseconds with microsecond decimals; other numbers are JSON integers
// as the core gives them; connection IDs, tokens and versions are hex.
//
// Deviations from quic-events-03, on purpose: security:key_updated omits
// the key ("new"), which a trace must not leak; connection_started has no
// addresses (the core does not know them).
//
// Output goes through a FILE* with a large buffer; a write error is
// remembered and reported by flush() and close().
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "cid.h"
#include "trace.h"
#include "transport_params.h"

namespace quicbed {

struct QlogConfig {
  std::string dir;            // must exist; the file is created (or truncated) in it
  ConnectionId odcid;         // names the file and is the trace's group_id
  Role role = Role::kClient;  // the vantage point
  // The core's `now` (microseconds) that becomes time 0 of the trace.
  uint64_t start_time_us = 0;
  // Wall-clock time at start_time_us, in microseconds since the Unix
  // epoch, logged as reference_time. Unset: CLOCK_REALTIME at open().
  // Simulations set it so that a run's files are reproducible.
  std::optional<uint64_t> reference_time_us;
  std::string vantage_point_name = "quicbed";
  size_t buffer_size = size_t{1} << 20;
};

class QlogWriter final : public Tracer {
 public:
  // Creates the file and writes the header. kInvalidArgument if config.dir
  // does not exist or is not a directory ("qlog directory does not exist",
  // "qlog path is not a directory") or the file cannot be created ("cannot
  // create qlog file"); `error`, if given, then receives a message naming
  // the path and the system's reason.
  static Result<std::unique_ptr<QlogWriter>> open(const QlogConfig& config, std::string* error = nullptr);
  // <ODCID hex>_<client|server>.sqlog (quic-events-03 §2).
  static std::string file_name(const ConnectionId& odcid, Role role);

  ~QlogWriter();  // close()s
  QlogWriter(const QlogWriter&) = delete;
  QlogWriter& operator=(const QlogWriter&) = delete;

  const std::string& path() const { return path_; }
  // Hands buffered records to the OS. kInternalError ("qlog write failed")
  // if any write so far failed.
  Status flush();
  // Flushes and closes the file; later events are ignored. Same errors.
  Status close();

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
  // Logs only the metrics that changed since the last record (quic-events-03
  // §7.2), nothing if none did; ssthresh only once it is finite.
  void metrics_updated(uint64_t now, const TracedMetrics& m) override;
  void congestion_state_updated(uint64_t now, CcState old_state, CcState new_state,
                                CongestionTrigger trigger) override;
  void packet_lost(uint64_t now, const TracedPacketLost& p) override;
  void ecn_state_updated(uint64_t now, EcnState old_state, EcnState new_state) override;
  void mtu_updated(uint64_t now, uint64_t old_mtu, uint64_t new_mtu, bool done) override;

 private:
  class Record;

  QlogWriter(std::string path, FILE* file, std::unique_ptr<char[]> buffer, uint64_t start_time_us)
      : path_(std::move(path)), file_(file), buffer_(std::move(buffer)), start_time_us_(start_time_us) {}
  void write_header(const QlogConfig& config, uint64_t reference_time_us);
  void write_record();
  void packet_event(uint64_t now, const char* name, const TracedPacket& p);
  void datagram_event(uint64_t now, const char* name, uint64_t size);
  void key_event(uint64_t now, const char* name, const TracedKey& k);

  std::string path_;
  FILE* file_;
  std::unique_ptr<char[]> buffer_;  // file_'s stdio buffer: freed after fclose
  uint64_t start_time_us_;
  std::string record_;  // the record being built; its capacity is reused
  bool write_failed_ = false;
  std::optional<TracedMetrics> last_metrics_;
};

}  // namespace quicbed
