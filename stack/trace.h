// Tracing (design: "every host can write qlog"): the connection reports
// what it does through the host's Tracer, one method per qlog event of
// draft-ietf-quic-qlog-quic-events-03 (category:event names in the method
// comments). Arguments are plain structs of numbers, enums and borrowed
// byte spans; the core never formats text. The userspace host turns them
// into qlog JSON-SEQ (userspace/qlog.h); ns-3 or the kernel may map them to
// trace sources or tracepoints instead.
//
// Every Bytes field and span below borrows: valid during the call only.
// Times are the core's microseconds, as passed in by the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.h"
#include "base/range.h"
#include "cc/congestion_controller.h"
#include "cid.h"
#include "ecn_validation.h"
#include "frame.h"
#include "packet_type.h"
#include "tls.h"
#include "path.h"
#include "transport_params.h"

namespace quicbed {

struct PacketHeader;

// Which endpoint a fact belongs to (qlog Owner).
enum class TraceOwner : uint8_t { kLocal, kRemote };

// --- Frames ------------------------------------------------------------------

// ACK ranges a summary keeps: the largest ones, which matter most (RFC 9000
// §13.2.3 drops the oldest first too). Typical ACKs have one to three.
inline constexpr size_t kMaxTracedAckRanges = 8;

struct TracedAck {
  uint64_t ack_delay_us = 0;  // decoded: encoded value << ack_delay_exponent (§19.3)
  EcnCounts ecn{};            // only for FrameType::kAckEcn
  uint8_t range_count = 0;    // ranges[0, range_count): descending, inclusive
  bool ranges_truncated = false;  // the frame had more than kMaxTracedAckRanges
  Range ranges[kMaxTracedAckRanges];
};

// STREAM and CRYPTO (stream_id 0, fin false) data: where, not what.
struct TracedData {
  uint64_t stream_id = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool fin = false;
};

// The parts of a frame a trace shows. `type` says which member is live;
// PING and HANDSHAKE_DONE have none. Frame types without byte payloads
// reuse frame.h's value structs; STREAM, CRYPTO and DATAGRAM keep only
// their data's length; ACK keeps its ranges decoded.
struct TracedFrame {
  TracedFrame() : padding{0} {}

  FrameType type = FrameType::kPadding;
  union {
    PaddingFrame padding;
    TracedAck ack;
    ResetStreamFrame reset_stream;
    StopSendingFrame stop_sending;
    TracedData data;  // kStream, kCrypto
    NewTokenFrame new_token;
    MaxDataFrame max_data;
    MaxStreamDataFrame max_stream_data;
    MaxStreamsFrame max_streams;
    DataBlockedFrame data_blocked;
    StreamDataBlockedFrame stream_data_blocked;
    StreamsBlockedFrame streams_blocked;
    NewConnectionIdFrame new_connection_id;
    RetireConnectionIdFrame retire_connection_id;
    PathFrame path;
    ConnectionCloseFrame connection_close;
    uint64_t datagram_length;  // kDatagram
  };
};

// Summarizes `f`, a frame from parse_frame or one about to be written with
// write_frame (an ACK's ranges must be validated, as parse_frame's are).
// ack_delay_exponent decodes an ACK's delay: the peer's for a received
// frame, ours for a sent one (RFC 9000 §18.2, §19.3).
TracedFrame trace_frame(const Frame& f, uint64_t ack_delay_exponent);
// Summarizes an ACK written by write_ack: the first `written` of `ranges`
// (what write_ack returned), the delay in microseconds, ECN counts if sent.
TracedFrame trace_ack(std::span<const Range> ranges, size_t written, uint64_t ack_delay_us,
                      const EcnCounts* ecn);

// --- Packets -----------------------------------------------------------------

// qlog PacketHeader: what is known of a packet's header.
struct TracedPacketHeader {
  PacketType type = PacketType::kOneRtt;
  bool type_known = true;  // false: dropped before its type could be read
  bool has_packet_number = false;
  bool has_version = false;  // long headers
  bool has_dcid = false;
  bool has_scid = false;     // long headers
  uint32_t version = 0;
  uint64_t packet_number = 0;
  uint64_t length = 0;  // Initial, 0-RTT, Handshake: the Length field (RFC 9000 §17.2); else 0
  ConnectionId dcid;
  ConnectionId scid;
};

// The header fields parse_packet_header reads before protection is
// removed; the caller adds the packet number once it is decoded. A header
// of a version we do not speak has only its connection IDs and version
// (type_known false). Connection IDs longer than kMaxCidLen (RFC 8999
// allows 255 bytes) are left out.
TracedPacketHeader trace_header(const PacketHeader& h);

// transport:packet_sent / transport:packet_received.
struct TracedPacket {
  TracedPacketHeader header;
  uint64_t size = 0;  // bytes of the packet in its datagram, header and AEAD tag included
  std::span<const TracedFrame> frames;
};

// transport:packet_dropped triggers (qlog TransportPacketDropped).
enum class DropReason : uint8_t {
  kKeyUnavailable,
  kUnknownConnectionId,
  kHeaderParseError,
  kPayloadDecryptError,
  kProtocolViolation,
  kDosPrevention,
  kUnsupportedVersion,
  kUnexpectedPacket,
  kUnexpectedSourceConnectionId,
  kUnexpectedVersion,
  kDuplicate,
  kInvalidInitial,
};

struct TracedPacketDrop {
  TracedPacketHeader header;  // as much as was parsed (type_known false if nothing)
  uint64_t size = 0;          // bytes dropped
  DropReason trigger = DropReason::kHeaderParseError;
};

// recovery:packet_lost triggers; kUnspecified writes none.
enum class LossTrigger : uint8_t { kUnspecified, kReorderingThreshold, kTimeThreshold, kPtoExpired };

struct TracedPacketLost {
  TracedPacketHeader header;  // at least type and packet number
  std::span<const TracedFrame> frames;  // may be empty: the connection need not keep them
  LossTrigger trigger = LossTrigger::kUnspecified;
};

// --- Connection life ---------------------------------------------------------

// connectivity:connection_state_updated (qlog ConnectionState; the
// transitions are listed in quic-events-03 §4.6).
enum class TraceConnectionState : uint8_t {
  kAttempted,
  kPeerValidated,
  kHandshakeStarted,
  kEarlyWrite,
  kHandshakeComplete,
  kHandshakeConfirmed,
  kClosing,
  kDraining,
  kClosed,
};

// connectivity:connection_started. The core does not know addresses
// (sans-I/O); a host that does may add them in its Tracer.
struct TracedConnectionStarted {
  ConnectionId src_cid;  // ours
  ConnectionId dst_cid;  // the peer's (for a client: the one it chose)
};

enum class CloseTrigger : uint8_t {
  kClean,
  kHandshakeTimeout,
  kIdleTimeout,
  kError,  // immediate close (RFC 9000 §10.2)
  kStatelessReset,
  kVersionMismatch,
  kApplication,
};

// connectivity:connection_closed.
struct TracedConnectionClosed {
  TraceOwner owner = TraceOwner::kLocal;  // which side closed
  bool application = false;   // error_code is an application error (RFC 9000 §20.2)
  uint64_t error_code = 0;    // else a transport error (§20.1), 0x0100-0x01ff a TLS alert
  Bytes reason;
  CloseTrigger trigger = CloseTrigger::kError;
};

// --- Keys --------------------------------------------------------------------

enum class KeyTrigger : uint8_t { kTls, kRemoteUpdate, kLocalUpdate };

// security:key_updated / key_discarded. qlog names a key by the endpoint
// that sends with it and its level ("client_handshake_secret"). The key
// material itself never reaches the tracer.
struct TracedKey {
  Role sender = Role::kClient;
  EncryptionLevel level = EncryptionLevel::kInitial;
  uint64_t generation = 0;  // 1-RTT key phase generation (RFC 9001 §6)
  KeyTrigger trigger = KeyTrigger::kTls;
};

// --- Paths -------------------------------------------------------------------

// connectivity:migration_state_updated (RFC 9000 §8.2, §9): a path's
// validation and the active path's changes.
enum class TracePathEvent : uint8_t {
  kProbingStarted,     // PATH_CHALLENGE on a path (§8.2.1)
  kProbingSuccessful,  // its PATH_RESPONSE came back (§8.2.3)
  kProbingAbandoned,   // no answer in time (§8.2.4)
  kMigrationStarted,   // packets go to this path from now on (§9.2, §9.3)
  kMigrationComplete,  // the new active path is validated
  kMigrationAbandoned,  // it was not: back to the last validated one (§9.3.2)
};

// --- Recovery ----------------------------------------------------------------

// recovery:metrics_updated: the current values (RFC 9002 §5, §7); a writer
// may log only those that changed. Times in microseconds.
struct TracedMetrics {
  uint64_t min_rtt_us = 0;
  uint64_t smoothed_rtt_us = 0;
  uint64_t latest_rtt_us = 0;
  uint64_t rtt_variance_us = 0;
  uint64_t pto_count = 0;
  uint64_t congestion_window = 0;  // bytes
  uint64_t bytes_in_flight = 0;
  uint64_t ssthresh = 0;           // bytes; kU64Max until the first congestion event
  uint64_t pacing_rate = 0;        // bytes per second
};

// recovery:congestion_state_updated triggers; kNone writes none.
enum class CongestionTrigger : uint8_t { kNone, kPersistentCongestion, kEcn };

// --- The interface -----------------------------------------------------------

// Implemented by the host; called synchronously from inside the
// connection. Every method does nothing by default, so a host overrides
// only the events it wants.
class Tracer {
 public:
  // connectivity:connection_started
  virtual void connection_started(uint64_t now, const TracedConnectionStarted& e) { (void)now, (void)e; }
  // connectivity:connection_state_updated
  virtual void connection_state_updated(uint64_t now, TraceConnectionState old_state,
                                        TraceConnectionState new_state) {
    (void)now, (void)old_state, (void)new_state;
  }
  // connectivity:connection_closed
  virtual void connection_closed(uint64_t now, const TracedConnectionClosed& e) { (void)now, (void)e; }

  // transport:parameters_set, once for ours (kLocal) and once for the
  // peer's (kRemote).
  virtual void parameters_set(uint64_t now, TraceOwner owner, const TransportParameters& p) {
    (void)now, (void)owner, (void)p;
  }
  // transport:version_information (RFC 9368 §3): the versions each side
  // lists (a side that sent no version_information lists none) and the
  // peer's chosen version (0 if it sent none).
  virtual void version_information(uint64_t now, std::span<const uint32_t> server_versions,
                                   std::span<const uint32_t> client_versions, uint32_t chosen) {
    (void)now, (void)server_versions, (void)client_versions, (void)chosen;
  }
  // transport:packet_sent / packet_received / packet_dropped
  virtual void packet_sent(uint64_t now, const TracedPacket& p) { (void)now, (void)p; }
  virtual void packet_received(uint64_t now, const TracedPacket& p) { (void)now, (void)p; }
  virtual void packet_dropped(uint64_t now, const TracedPacketDrop& d) { (void)now, (void)d; }
  // transport:datagrams_sent / datagrams_received: one UDP payload of `size` bytes.
  virtual void datagram_sent(uint64_t now, uint64_t size) { (void)now, (void)size; }
  virtual void datagram_received(uint64_t now, uint64_t size) { (void)now, (void)size; }

  // security:key_updated / key_discarded
  virtual void key_updated(uint64_t now, const TracedKey& k) { (void)now, (void)k; }
  virtual void key_discarded(uint64_t now, const TracedKey& k) { (void)now, (void)k; }

  // connectivity:migration_state_updated for path `p`.
  virtual void path_updated(uint64_t now, TracePathEvent e, const Path& p) { (void)now, (void)e, (void)p; }

  // recovery:metrics_updated
  virtual void metrics_updated(uint64_t now, const TracedMetrics& m) { (void)now, (void)m; }
  // recovery:congestion_state_updated
  virtual void congestion_state_updated(uint64_t now, CcState old_state, CcState new_state,
                                        CongestionTrigger trigger) {
    (void)now, (void)old_state, (void)new_state, (void)trigger;
  }
  // The controller's loss recovery changed (cc/congestion_controller.h):
  // no qlog event of its own (a loss-based controller's recovery is in
  // congestion_state_updated), but what ns-3's TCP calls its congestion
  // state, for every controller, BBR included.
  virtual void recovery_state_updated(uint64_t now, CcRecovery old_state, CcRecovery new_state) {
    (void)now, (void)old_state, (void)new_state;
  }
  // recovery:packet_lost
  virtual void packet_lost(uint64_t now, const TracedPacketLost& p) { (void)now, (void)p; }
  // recovery:ecn_state_updated (RFC 9000 Appendix A.4 states; kDisabled
  // is never reported)
  virtual void ecn_state_updated(uint64_t now, EcnState old_state, EcnState new_state) {
    (void)now, (void)old_state, (void)new_state;
  }
  // connectivity:mtu_updated: the largest datagram ordinary packets use
  // (DPLPMTUD's PLPMTU); `done` once the search settled.
  virtual void mtu_updated(uint64_t now, uint64_t old_mtu, uint64_t new_mtu, bool done) {
    (void)now, (void)old_mtu, (void)new_mtu, (void)done;
  }

 protected:
  // Not virtual: see Allocator.
  ~Tracer() = default;
};

}  // namespace quicbed
