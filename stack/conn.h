// A QUIC connection (RFC 9000, RFC 9001, RFC 9002), sans-I/O: the host
// hands in each received datagram and the current time, asks for the next
// datagram to send and for the next timer deadline, and hears about what
// happens through one ConnectionEvents interface. The connection never
// reads a clock, touches a socket or allocates outside the host Allocator;
// time is in microseconds, from any origin the host likes.
//
// A client connection starts its handshake in init(); a server connection
// is created for a client's first Initial and learns the client's
// connection IDs from it (RFC 9000 §7.2).
//
// The code is split by direction: conn.cpp (life cycle, TLS, timers,
// closing, connection IDs, the stream and DATAGRAM API), conn_recv.cpp
// (datagrams and frames in, packets waiting for their keys), conn_send.cpp
// (packets and datagrams out), conn_trace.cpp (what the optional Tracer
// hears); pnspace.h holds the state of each packet number space.
//
// Paths and connection migration (RFC 9000 §8.2, §9) are in conn_migration.cpp
// and path.h: a host that passes each datagram's path (DatagramInfo::path)
// and sends each datagram on the path write_datagram() names gets path
// validation, NAT rebinding and peer migration (server), and active
// migration and the preferred address (client, migrate()).
//
// 0-RTT (RFC 9001 §4.6) lives in conn_early.cpp: a client resuming a
// session sends stream data in 0-RTT packets under the server's remembered
// transport parameters; a server accepts them when TLS accepted early data.
// Versions (RFC 9368, RFC 9369), Retry and address validation tokens
// (RFC 9000 §8.1) are in conn_version.cpp and conn_retry.cpp.
//
// Paths and migration (RFC 9000 §8.2, §9) are in conn_migration.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/status.h"
#include "cc/cc_holder.h"
#include "cid.h"
#include "cid_manager.h"
#include "crypto.h"
#include "datagram_queue.h"
#include "early_data.h"
#include "ecn.h"
#include "ecn_validation.h"
#include "frame.h"
#include "keys.h"
#include "packet.h"
#include "pacer.h"
#include "path.h"
#include "pmtud.h"
#include "pnspace.h"
#include "random.h"
#include "recovery.h"
#include "reset_token.h"
#include "streams.h"
#include "token.h"
#include "tls.h"
#include "trace.h"
#include "transport_params.h"
#include "varint.h"
#include "version.h"

namespace quicbed {

// What the host knows about a received datagram.
struct DatagramInfo {
  Ecn ecn = Ecn::kNotEct;
  // The path it came on; nullptr: the connection's active path (a host
  // that never migrates need not say).
  const Path* path = nullptr;
};

// Why a connection ended (RFC 9000 §10).
struct CloseInfo {
  enum class Source : uint8_t {
    kLocal,        // we closed: an error we detected, or close() (§10.2)
    kPeer,         // the peer's CONNECTION_CLOSE (§10.2.2)
    kIdleTimeout,     // silently, after max_idle_timeout (§10.1)
    kStatelessReset,  // the peer lost its state (§10.3)
  };
  Source source = Source::kLocal;
  bool application = false;  // error_code is the application's (frame type 0x1d)
  uint64_t error_code = 0;   // RFC 9000 §20.1 (or §20.2 when application)
  uint64_t frame_type = 0;   // transport errors: the frame that caused it, 0 if none
  Bytes reason;              // valid during the callback only
};

// Implemented by the host. Called synchronously from inside the
// connection's entry points.
class ConnectionEvents {
 public:
  // RFC 9001 §4.1.1: TLS completed (the server's handshake is then also
  // confirmed; the client's is once HANDSHAKE_DONE arrives).
  virtual void on_handshake_complete() {}
  // The connection entered closing or draining, or timed out; no data
  // flows any more. is_terminated() tells when it can be freed.
  virtual void on_connection_closed(const CloseInfo& info) { (void)info; }
  // The peer opened stream `id` (and every lower one of its type, each
  // reported, RFC 9000 §3.2).
  virtual void on_stream_opened(uint64_t id) { (void)id; }
  // Stream `id` has data or its end to read, or was reset by the peer
  // (stream_read() then fails with the reset, see stream_reset_code()).
  virtual void on_stream_readable(uint64_t id) { (void)id; }
  // A DATAGRAM frame's payload (RFC 9221), valid during the call only.
  virtual void on_datagram(Bytes data) { (void)data; }
  // Packets addressed to `cid` belong to this connection from now on: one
  // of ours, sequence 0 (RFC 9000 §5.1.1) included, reported once it is
  // settled (a client's in init(), a server's when the client's first
  // Initial opened; the client's original Destination Connection ID, which
  // the server accepts for Initial packets, is not reported), then every
  // CID issued with NEW_CONNECTION_ID. Zero-length CIDs are not reported:
  // such a connection is found by its address.
  virtual void on_cid_issued(const ConnectionId& cid) { (void)cid; }
  // The peer retired `cid` (§5.1.2): packets addressed to it are no longer
  // this connection's. Not reported when the connection ends: all go then.
  virtual void on_cid_retired(const ConnectionId& cid) { (void)cid; }
  // Client: the server gave a token for a later connection (NEW_TOKEN,
  // RFC 9000 §8.1.3, §19.7), valid during the call only; a host that
  // keeps it passes it back in ConnectionConfig::token next time.
  virtual void on_new_token(Bytes token) { (void)token; }
  // RFC 9001 §4.6.2: the server accepted or rejected 0-RTT. Reported once,
  // as soon as it is known (at the latest just before
  // on_handshake_complete), and only when the client attempted 0-RTT. A
  // client whose 0-RTT was rejected has its 0-RTT stream data sent again in
  // 1-RTT packets (RFC 9000 §7.4.1: nothing of it reached the server).
  virtual void on_early_data(bool accepted) { (void)accepted; }
  // A part of stream `id` changed state (RFC 9000 §3.1, §3.2); reported
  // before the stream may be freed for it. Sending part: Data Recvd (all
  // data acknowledged), Reset Sent when the peer's STOP_SENDING made it
  // reset (`code` the error code it carries), Reset Recvd (our
  // RESET_STREAM acknowledged, `code` its error code). Receiving part:
  // Recv (its first data arrived, its last has not: data is pending, the
  // final size unknown), Size Known (a FIN arrived before all the data
  // under it) and Data Recvd (`value` the final size). The peer's reset
  // (Reset Recvd) is reported by on_stream_readable instead. `value` is 0
  // where it has no meaning.
  virtual void on_stream_send_state(uint64_t id, SendState st, uint64_t code) {
    (void)id, (void)st, (void)code;
  }
  virtual void on_stream_recv_state(uint64_t id, RecvState st, uint64_t value) {
    (void)id, (void)st, (void)value;
  }
  // The peer raised its limit: MAX_STREAM_DATA for stream `id` (§19.10),
  // MAX_STREAMS for the streams we open in direction `dir` (§19.11), the
  // new limit a count of streams.
  virtual void on_stream_max_data(uint64_t id, uint64_t limit) { (void)id, (void)limit; }
  virtual void on_max_streams(StreamDir dir, uint64_t limit) { (void)dir, (void)limit; }
  // RFC 9001 §6: both ends now protect 1-RTT packets with the next keys
  // (the peer's first packet in the new phase arrived, after an update
  // either end started); `phase` is the new Key Phase bit.
  virtual void on_key_update(bool phase) { (void)phase; }

 protected:
  ~ConnectionEvents() = default;
};

struct ConnectionConfig {
  Role role = Role::kClient;
  // A client's first Initial goes out in this version; a server's is the
  // version of the client's first Initial.
  uint32_t version = kVersion1;
  // The versions this endpoint speaks on the connection, most preferred
  // first; 0 ends the list, and an empty list means `version` alone
  // (RFC 9368 §3). A client lists them in version_information (compatible
  // negotiation may move it to any of them) and picks from a Version
  // Negotiation packet by them; a server moves a client to the first one
  // the client lists (RFC 9368 §2.3) and lists them as its Available
  // Versions.
  uint32_t versions[kMaxVersions] = {};
  // Client, starting again after a Version Negotiation packet (RFC 9368
  // §4): the version of the attempt it answered; 0 for a first attempt.
  // The server's version_information is then checked for a downgrade.
  uint32_t vn_original_version = 0;
  // Client: a token from a NEW_TOKEN frame of an earlier connection to
  // this server (RFC 9000 §8.1.3), sent in every Initial; copied by init(),
  // at most kMaxTokenLen bytes.
  Bytes token;
  // Server, set by the Endpoint from a valid token: the client's address
  // is validated from the start (§8.1: no amplification limit), and after
  // a Retry the client's first Destination Connection ID, which the
  // original_destination_connection_id transport parameter reports (§7.3).
  bool address_validated = false;
  bool retried = false;
  ConnectionId retry_original_dcid;
  // RFC 9000 §18.1: a reserved transport parameter (31*N+27) with random
  // content goes with ours, so that peers keep ignoring unknown ones.
  bool grease_transport_parameter = true;
  // The transport parameters we declare (RFC 9000 §18.2). The connection
  // fills in the connection ID parameters (§7.3) and the server's
  // stateless_reset_token itself; active_connection_id_limit is capped at
  // kMaxActiveCids.
  TransportParameters params;
  // Length of the connection IDs we issue (§5.1), 0..20; short headers
  // addressed to us carry one of this length (§17.3).
  size_t cid_len = 8;
  // Largest UDP payload we send; RFC 9000 §14: at least 1200, and never
  // above the peer's max_udp_payload_size. With `pmtud` the upper bound
  // of the path MTU search, which starts at 1200 (pmtud.h).
  uint64_t max_datagram_size = 1200;
  // DPLPMTUD (RFC 8899, RFC 9000 §14.3) once the handshake is confirmed,
  // and its PMTU_RAISE_TIMER (RFC 8899 §5.1.1).
  bool pmtud = false;
  uint64_t pmtu_raise_interval_us = Pmtud::kDefaultRaiseIntervalUs;
  // ECN (RFC 9000 §13.4): mark our packets ECT(0) while the path and the
  // peer pass validation; the host must then send each datagram with the
  // codepoint datagram_ecn() gives (and report received ones in
  // DatagramInfo, which is counted either way).
  bool ecn = false;
  CcAlgorithm cc = CcAlgorithm::kCubic;
  // RFC 9002 §7.2: the initial congestion window in datagrams,
  // kMinInitialWindowPackets..kMaxInitialWindowPackets (cc/window.h).
  uint64_t initial_window_packets = kDefaultInitialWindowPackets;
  // RFC 9002 §7.7: pace packets at the controller's rate, in bursts of at
  // most the initial window. Off, the window alone limits sending (for
  // experiments: a sender that does not pace MUST limit its bursts some
  // other way, e.g. with a small initial window).
  bool pacing = true;
  CryptoLimits crypto;
  // Receive windows grow by auto-tuning (RecvFlow) from the transport
  // parameters up to these: per stream, and for the whole connection.
  uint64_t max_stream_window = 16 << 20;
  uint64_t max_connection_window = 24 << 20;
  // Bytes each stream buffers for sending until acknowledged.
  uint64_t stream_send_buffer = 1 << 20;
  // Streams we may have open at once (the peer's limits apply too).
  uint64_t max_local_streams = 100;
  // Sent packets tracked for loss detection at once (RecoveryConfig).
  size_t max_outstanding_packets = 1024;
  // DATAGRAM payloads queued for sending at once (datagram_send()), in
  // number (at most DatagramQueue::kMaxCount) and in bytes. We accept
  // DATAGRAM frames when params.max_datagram_frame_size is not 0 (RFC 9221 §3).
  size_t datagram_queue_count = 16;
  uint64_t datagram_queue_bytes = 32 * 1024;

  // RFC 9001 §6.6: caps below the cipher suite's AEAD limits (packets one
  // 1-RTT key protects before a key update; packets failing authentication
  // before AEAD_LIMIT_REACHED), the lower applying; for tests of what
  // happens at the limits, which real suites reach only after 2^23 packets.
  AeadLimits aead_limit_cap{kU64Max, kU64Max};

  // The host's services; all must outlive the connection.
  Allocator* alloc = nullptr;
  CryptoBackend* crypto_backend = nullptr;
  TlsSession* tls = nullptr;
  ConnectionEvents* events = nullptr;
  Random* random = nullptr;
  // Optional: hears what the connection does, as qlog events (trace.h).
  Tracer* tracer = nullptr;
  // Optional: kResetKeyLen bytes of host secret from which the stateless
  // reset tokens of our connection IDs are derived (reset_token.h), so
  // that an endpoint without the connection's state can send a Stateless
  // Reset (RFC 9000 §10.3). Without it tokens are random.
  const uint8_t* reset_key = nullptr;
  // The path the connection starts on (RFC 9000 §9): a server's is the
  // client's first Initial's, a client's its socket's. Hosts that never
  // migrate may leave it empty.
  Path path;
  // Client, optional: the transport parameters of the server in the
  // connection whose session ticket TLS resumes (RFC 9000 §7.4.1). When TLS
  // attempts 0-RTT, streams may be opened and written before the handshake
  // completes, within these limits, and go out in 0-RTT packets. Without
  // them no 0-RTT is sent. Copied by the constructor.
  const TransportParameters* zero_rtt_params = nullptr;
};

class Connection final : private TlsCallbacks, private RecoveryEvents {
 public:
  enum class State : uint8_t {
    kHandshake,    // TLS not complete yet
    kEstablished,  // TLS complete
    kClosing,      // we sent CONNECTION_CLOSE (§10.2.1)
    kDraining,     // the peer did (§10.2.2)
    kClosed,       // nothing more to do: the host may free the connection
  };

  // RFC 9000 §14.1: datagrams carrying Initial packets are at least this
  // long (client always, server when ack-eliciting).
  static constexpr size_t kMinInitialDatagram = 1200;
  // RFC 9000 §8.1: before validating the client's address a server sends
  // at most three times the bytes it received.
  static constexpr uint64_t kAmplificationFactor = 3;
  // Frames a traced packet lists (packet_sent, packet_received,
  // packet_lost); a packet with more has the rest left out.
  static constexpr size_t kMaxTracedFrames = 16;
  // RFC 9001 §5.7: packets that arrive before their keys (a flight
  // reordered, or coalesced ahead of the packet that brings the keys) are
  // kept, this many and this many bytes at most, and processed once the
  // keys are there; beyond that they are dropped.
  static constexpr size_t kMaxBufferedPackets = 4;
  static constexpr size_t kMaxBufferedBytes = 8 * 1024;

  // The host pointers in `config` must be set (QB_ASSERT).
  explicit Connection(const ConnectionConfig& config);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Checks the configuration and, for a client, chooses its connection IDs
  // (RFC 9000 §7.2: a Destination Connection ID of at least 8 bytes),
  // derives the Initial keys and has TLS write its ClientHello. Once only,
  // before anything else. kInvalidArgument for a bad configuration.
  Status init(uint64_t now);

  // A datagram from the peer. Its bytes are decrypted in place (their
  // content is unspecified afterwards). Malformed or undecryptable packets
  // are dropped (RFC 9000 §12.2, RFC 9001 §5.5); protocol errors close the
  // connection with the RFC's error code.
  void receive_datagram(MutBytes datagram, const DatagramInfo& info, uint64_t now);

  // Writes the next datagram to send into `out` (room for at least
  // kMinInitialDatagram bytes is needed during the handshake) and returns
  // its length; 0 when there is nothing to send now. Call until it
  // returns 0. A DPLPMTUD probe goes only into an `out` large enough.
  size_t write_datagram(MutBytes out, uint64_t now) { return write_datagram(out, now, nullptr); }
  // The same, and the path the datagram must go on (RFC 9000 §8.2.2,
  // §9: probes go on the path they probe, the rest on the active path).
  size_t write_datagram(MutBytes out, uint64_t now, Path* path);
  // The ECN codepoint to send the datagram write_datagram() just wrote
  // with (RFC 9000 §13.4.2); kNotEct unless ConnectionConfig::ecn.
  Ecn datagram_ecn() const { return datagram_ecn_; }

  // When on_timeout() must be called next; kNever if no timer is armed.
  uint64_t next_timeout() const;
  // Runs the timers due at `now` (loss detection and PTO, delayed ACKs,
  // idle timeout, end of closing/draining). Then call write_datagram().
  void on_timeout(uint64_t now);

  // Immediate close with an application error code (RFC 9000 §10.2).
  // `reason` must be a static string.
  void close(uint64_t app_error, const char* reason, uint64_t now);

  // For a host whose TLS runs asynchronously (quic.ko's handshake in a
  // userspace process): TLS has queued events since the connection last
  // called it; runs advance() now (conn_async_tls.cpp). Then call
  // write_datagram().
  void advance_tls(uint64_t now);

  // ---- Streams (RFC 9000 §2-§4). These may be called from inside events
  // (receive_datagram, write_datagram and on_timeout may not).
  // Opens a stream of ours; kLimitExceeded while the peer's MAX_STREAMS
  // (or our own bound) does not allow one (STREAMS_BLOCKED goes out),
  // kInvalidArgument while !streams_usable().
  Result<uint64_t> open_stream(StreamDir dir);
  // Streams may be opened and written: established; or during the
  // handshake, a client attempting 0-RTT (early_data() is not kNone), or a
  // server once it has 1-RTT keys (0.5-RTT data, RFC 9001 §4.1.1).
  bool streams_usable() const;
  // Queues data (and with `fin`, the end of the stream once all of it is
  // queued); returns how much was taken: less when the send buffer is full.
  Result<size_t> stream_write(uint64_t id, Bytes data, bool fin);
  // Reads in order. A stream read to its end, and done sending, is freed.
  // kInvalidArgument for an unknown stream; the peer's reset is
  // kStreamStateError (see stream_reset_code()).
  Result<Stream::ReadResult> stream_read(uint64_t id, MutBytes out);
  // The same without a copy of ours, for a host that copies straight from
  // and to the application (Stream::write_space / commit, peek / consume):
  // stream_commit(id, n, fin) follows a stream_write_space(id) that gave at
  // least n bytes (n may be 0: `fin` alone ends the stream); the bytes of
  // stream_peek stay valid until the next call on the connection.
  Result<MutBytes> stream_write_space(uint64_t id);
  Status stream_commit(uint64_t id, size_t n, bool fin);
  Result<Bytes> stream_peek(uint64_t id) const;
  Result<Stream::ReadResult> stream_consume(uint64_t id, size_t n);
  // RESET_STREAM / STOP_SENDING with an application error code (§3.5).
  Status stream_reset(uint64_t id, uint64_t app_error);
  Status stream_stop_sending(uint64_t id, uint64_t app_error);
  // The error code of the peer's RESET_STREAM on a stream it reset: ask
  // before stream_read(), which reports the reset and frees the stream.
  Result<uint64_t> stream_reset_code(uint64_t id) const;
  const StreamManager& streams() const { return streams_; }

  // ---- DATAGRAM frames (RFC 9221): unreliable, never retransmitted
  // (§5.2), congestion controlled like any ack-eliciting frame (§5.4).
  // Queues `data` for one DATAGRAM frame. kInvalidArgument before the
  // handshake completes or after the connection closed; kLimitExceeded when
  // it is larger than max_datagram_payload() or the queue is full.
  Status datagram_send(Bytes data);
  // The largest payload datagram_send() takes: the frame within the peer's
  // max_datagram_frame_size (§3) and within one packet. 0 also when the
  // peer takes no DATAGRAM frame (or before its transport parameters).
  size_t max_datagram_payload() const;

  // Server: a token for the client's next connection, sent in a NEW_TOKEN
  // frame (RFC 9000 §8.1.3) until acknowledged; the Endpoint makes it.
  // kInvalidArgument for a client, before the handshake completes, or for
  // an empty token or one longer than kMaxOwnTokenLen.
  Status send_new_token(Bytes token);
  // The version the connection speaks now (RFC 9368: it may change once,
  // by compatible negotiation, during the handshake).
  uint32_t version() const { return version_; }
  // Client: a Version Negotiation packet ended this attempt (RFC 9000
  // §6.2) and named this version to start a new connection in (with
  // ConnectionConfig::vn_original_version set to version()); 0 otherwise.
  uint32_t restart_version() const { return restart_version_; }
  // Client: a Retry was accepted (RFC 9000 §17.2.5.2).
  bool retry_received() const { return retry_received_; }

  // RFC 9001 §6: moves our 1-RTT keys to the next key phase; the peer
  // follows. kInvalidArgument before the handshake is confirmed or while
  // no packet of the current phase has been acknowledged (§6.1).
  Status update_keys();
  // The Key Phase bit our 1-RTT packets carry.
  bool key_phase() const { return spaces_[idx(PnSpace::kApplication)].write_phase; }

  // RFC 9001 §4.6: 0-RTT in this connection (kNone if not attempted).
  EarlyDataState early_data() const { return early_state_; }
  // Client: stream data written now may go in 0-RTT packets.
  bool zero_rtt_writable() const { return !is_server() && zero_rtt_keys_.ready() && state_ == State::kHandshake; }
  // The 0-RTT packets sent (client) or processed (server).
  uint64_t zero_rtt_packets() const { return zero_rtt_packets_; }
  // Packets whose keys were still to come and that found the buffer for
  // them (RFC 9001 §5.7) full: dropped, their data only recovered by the
  // peer's loss detection. All of them, and the 1-RTT ones.
  uint64_t keyless_drops() const { return keyless_drops_; }
  uint64_t one_rtt_keyless_drops() const { return one_rtt_keyless_drops_; }
  // The handshake resumed a TLS session (no certificate was exchanged).
  bool resumed() const { return handshake_complete_ && tls_.resumed(); }

  State state() const { return state_; }
  bool is_terminated() const { return state_ == State::kClosed; }
  Role role() const { return role_; }
  bool handshake_complete() const { return handshake_complete_; }
  // RFC 9001 §4.1.2.
  bool handshake_confirmed() const { return handshake_confirmed_; }
  // RFC 9000 §8.1: the server knows the client owns its address.
  bool address_validated() const { return address_validated_; }
  bool has_peer_params() const { return has_peer_params_; }
  const TransportParameters& peer_params() const { return peer_params_; }
  const Recovery& recovery() const { return recovery_; }
  const CongestionController& congestion_controller() const { return cc_.get(); }
  // The BBR model when BBR is the controller, else nullptr.
  const Bbr* bbr() const { return cc_.bbr(); }
  // RFC 9000 §5.1.2: addresses the peer with another connection ID it
  // issued from now on, and retires the current one (the peer replaces
  // it). kInvalidArgument before the handshake is confirmed, kLimitExceeded
  // while the peer has given no spare one or retirements are backed up.
  Status change_peer_cid();
  // RFC 9000 §5.1.2, for a host's API: addresses the peer with its active
  // CID `sequence` from now on and retires every one below it (paths other
  // than the active one that used those are dropped, §9.5).
  // kInvalidArgument before the handshake is confirmed, for a sequence that
  // is not active or is in use on another path; kLimitExceeded when the
  // retirements would overflow their queue.
  Status use_peer_cid(uint64_t sequence);
  // §5.1.2: asks the peer to retire our CIDs below `prior_to` (Retire Prior
  // To) and issues replacements. kInvalidArgument before the handshake is
  // confirmed and as LocalCids::retire_prior_to.
  Status retire_local_cids(uint64_t prior_to);
  // ---- Paths (conn_migration.cpp). The path datagrams go on now.
  const Path& path() const { return paths_.active().path; }
  const Paths& paths() const { return paths_; }
  // Client (RFC 9000 §9.2, §9.5): probes `path` (a new local address, or
  // the server's preferred address, §9.6, with `preferred`) with
  // PATH_CHALLENGE under a connection ID of the peer not used yet, and
  // moves every packet there once it is validated, retiring the old CID;
  // the old path stays in use until then. kInvalidArgument for a server,
  // before the handshake is confirmed, for the active path or when the
  // server sent disable_active_migration (§18.2; not for `preferred`);
  // kLimitExceeded without an unused peer CID (§9.5).
  Status migrate(const Path& path, bool preferred, uint64_t now);
  // Server (RFC 9000 §9.6, §18.2): offers `pa`'s addresses and ports as
  // preferred_address, with a connection ID of sequence 1 and its stateless
  // reset token (§5.1.1) chosen here. Only before TLS produced the server's
  // first flight (no Handshake keys yet): the transport parameters are
  // made again for TLS to send. kInvalidArgument for a client, later, or
  // once a preferred address was set.
  Status set_preferred_address(const TransportParameters::PreferredAddress& pa);
  // §8.2.4: how long a path validation runs before it is abandoned.
  uint64_t path_validation_timeout() const;
  // Our connection IDs (RFC 9000 §5.1) and the peer's.
  const LocalCids& local_cids() const { return local_cids_; }
  const PeerCids& peer_cids() const { return peer_cids_; }
  const PacketNumberSpace& space(PnSpace s) const { return spaces_[idx(s)]; }
  // ECN validation (RFC 9000 §13.4.2) and the path MTU search (RFC 8899).
  const EcnValidator& ecn() const { return ecn_; }
  const Pmtud& pmtud() const { return pmtud_; }
  // The largest datagram ordinary packets use now (the PLPMTU with pmtud).
  uint64_t max_datagram_size() const { return max_datagram_size_; }
  // UDP payload bytes received and sent in total.
  uint64_t bytes_received() const { return bytes_received_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  // How the connection ended; meaningful once closing, draining or closed.
  const CloseInfo& close_info() const { return close_info_; }

 private:
  // What a sent packet carried that matters once it is acknowledged or
  // lost (SentItem::kind); SentItem fields per kind are documented at use.
  enum ItemKind : uint8_t {
    kItemAck,            // offset: the Largest Acknowledged of our ACK frame
    kItemCrypto,         // offset, length: CRYPTO bytes of the packet's space
    kItemHandshakeDone,  // HANDSHAKE_DONE (RFC 9000 §19.20)
    kItemStream,         // id, offset, length, flags = FIN: STREAM data
    // A control frame whose fate flow control decides: flags = frame type,
    // id = stream ID (stream frames), offset = the value it carried
    // (MAX_DATA, DATA_BLOCKED, MAX_STREAMS, STREAMS_BLOCKED,
    // MAX_STREAM_DATA, STREAM_DATA_BLOCKED, RESET_STREAM, STOP_SENDING).
    kItemControl,
    kItemNewConnectionId,     // offset: the sequence number (RFC 9000 §19.15)
    kItemRetireConnectionId,  // offset: the sequence number (§19.16)
    kItemNewToken,            // NEW_TOKEN (§19.7)
  };

  // A packet being written into a datagram (conn_send.cpp).
  struct PacketDraft;

  static constexpr size_t idx(PnSpace s) { return static_cast<size_t>(s); }
  // The encryption level and packet type of a space's own keys (0-RTT
  // packets, written and read with the connection's 0-RTT keys, excepted).
  static constexpr EncryptionLevel level_of(PnSpace s) {
    return s == PnSpace::kInitial     ? EncryptionLevel::kInitial
           : s == PnSpace::kHandshake ? EncryptionLevel::kHandshake
                                      : EncryptionLevel::kApplication;
  }
  static constexpr PacketType packet_type_of(PnSpace s) {
    return s == PnSpace::kInitial     ? PacketType::kInitial
           : s == PnSpace::kHandshake ? PacketType::kHandshake
                                      : PacketType::kOneRtt;
  }
  PacketNumberSpace& sp(PnSpace s) { return spaces_[idx(s)]; }
  bool is_server() const { return role_ == Role::kServer; }
  bool closing_or_draining() const { return state_ == State::kClosing || state_ == State::kDraining; }

  // ---- TlsCallbacks (conn.cpp)
  Status on_tls_crypto_data(EncryptionLevel level, Bytes data) override;
  Status on_tls_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret) override;
  Status on_tls_peer_transport_params(Bytes ext) override;
  Status on_tls_handshake_complete() override;

  // ---- 0-RTT (conn_early.cpp)
  // The 0-RTT secret: a client's write key (only with zero_rtt_params), a
  // server's read key (RFC 9001 §4.6.1).
  Status on_zero_rtt_secret(KeyDirection dir, CipherSuite suite, Bytes secret);
  // Client: what TLS says of early data, after the ClientHello and once the
  // server's parameters arrive: applies the outcome (RFC 9001 §4.6.2) and
  // checks an acceptance against the remembered parameters (RFC 9000
  // §7.4.1).
  Status update_early_data(const TransportParameters* peer);
  // Reports the outcome to the host, once.
  void report_early_data();
  // RFC 9001 §4.9.3: the 0-RTT keys go.
  void discard_zero_rtt_keys();
  // Whether the packet being written in the Application space is a 0-RTT
  // one: a client with 0-RTT keys and no 1-RTT ones yet.
  bool sending_zero_rtt() const;
  // Server: a 0-RTT packet can be opened now (its keys are installed); or
  // TLS has yet to answer the ClientHello, so the packet waits (RFC 9001
  // §5.7) instead of being dropped.
  bool can_open_zero_rtt() const { return is_server() && zero_rtt_keys_.ready(); }
  bool zero_rtt_undecided() const;

  // ---- RecoveryEvents (conn.cpp)
  void on_packet_acked(const SentPacket& p) override;
  void on_packet_lost(const SentPacket& p) override;
  void on_packet_discarded(const SentPacket& p) override;
  // Requeues what a lost (or, 0-RTT rejected, abandoned) packet carried.
  void requeue_items(const SentPacket& p);
  bool on_ecn_feedback(const AckEcnFeedback& f) override;

  // ---- Life cycle (conn.cpp)
  // Our transport parameters, CIDs filled in, handed to TLS.
  Status send_transport_params();
  // The stateless reset token of our `cid` (§10.3.2).
  Status make_reset_token(const ConnectionId& cid, uint8_t* token);
  // RFC 9000 §5.1.1: as many connection IDs as the peer takes, each with
  // its NEW_CONNECTION_ID and on_cid_issued.
  Status issue_cids();
  Status derive_initial_keys(Bytes client_dcid);
  // RFC 9000 §7.3: the peer's connection ID parameters against the headers.
  Status check_peer_cids(const TransportParameters& tp) const;
  // Handshake milestones that must wait until a packet is fully processed.
  void after_packet(uint64_t now);
  void confirm_handshake(uint64_t now);
  void discard_space(PnSpace s, uint64_t now);
  // §8.1 bookkeeping after bytes came in or went out.
  void update_amplification(uint64_t now);
  // Closes with `s` (a wire or local error) caused by `frame_type`:
  // closing (CONNECTION_CLOSE goes out), or draining when nothing may.
  void close_with_error(Status s, uint64_t frame_type, uint64_t now, State st = State::kClosing);
  void enter_closed_state(State st, const CloseInfo& info, uint64_t now);
  uint64_t idle_deadline() const;
  // The control frame a SentItem of kind kItemControl stands for.
  static Frame control_frame(const SentItem& it);

  // ---- Tracing (conn_trace.cpp); each does nothing without a tracer.
  // connection_started, our parameters_set and the Initial keys, once our
  // CIDs are settled (a server's when the client's first Initial opened).
  void trace_start();
  // packet_sent / packet_received, with `payload`'s frames (plaintext).
  void trace_packet(bool sent, const TracedPacketHeader& h, uint64_t size, Bytes payload,
                    uint64_t ack_delay_exponent);
  void trace_drop(const PacketHeader* h, uint64_t size, DropReason reason);
  // connection_state_updated when the state changes (whether traced or not).
  void trace_state(TraceConnectionState st);
  void trace_key(bool write, EncryptionLevel level, uint64_t generation, KeyTrigger trigger, bool discarded);
  void trace_lost(const SentPacket& p);
  void trace_closed(const CloseInfo& info);
  // metrics_updated / congestion_state_updated after an entry point, for
  // what changed.
  void trace_recovery();
  // Records why process_packet drops a packet, for packet_dropped.
  Status drop(DropReason reason) {
    drop_reason_ = reason;
    return ErrorCode::kDropPacket;
  }

  // ---- Versions (conn_version.cpp)
  // Speaks `v` from now on: its Initial keys, derived again from the
  // client's Destination Connection ID, and its key schedule (RFC 9369 §3).
  Status set_version(uint32_t v);
  // A long header of another version than ours, before keys are touched:
  // a client follows a server's compatible choice (RFC 9368 §2.3), a
  // server still opens the client's Initials of the original version.
  Status accept_other_version(const PacketHeader& h);
  // RFC 9000 §6.2: a client's answer to Version Negotiation.
  Status on_version_negotiation(const PacketHeader& h, uint64_t now);
  // RFC 9368 §4: the peer's version_information; a server also makes its
  // compatible choice here, before TLS answers the ClientHello.
  Status negotiate_version(const TransportParameters& tp);
  // Our version_information (RFC 9368 §3) into local_params_.
  void fill_version_information();
  // Packet protection of the Initial packets the peer sends in `version`.
  PacketProtection& initial_read_keys(uint32_t version);

  // ---- Address validation (conn_retry.cpp)
  // RFC 9000 §17.2.5.2: a client's processing of a Retry packet.
  Status on_retry(const PacketHeader& h, Bytes packet, uint64_t now);
  // RFC 9000 §7.3: the connection ID parameters a Retry adds.
  Status check_retry_cids(const TransportParameters& tp) const;
  // The NEW_TOKEN frame that is due (§8.1.3); false if it does not fit.
  bool write_new_token(Writer& w);
  // RFC 9287 §3: the Fixed Bit goes unpredictable once the peer said it
  // accepts that; the first byte of the packet just written.
  void grease_fixed_bit(uint8_t& first_byte, PacketType type);

  // ---- Receiving (conn_recv.cpp)
  // One packet of a datagram, `packet` exactly its bytes: processed, and
  // then the handshake's milestones, or dropped (traced), or the connection
  // closes. True if it was processed (or buffered for later).
  bool handle_packet(MutBytes packet, const PacketHeader& h, size_t datagram_len, const DatagramInfo& info,
                     uint64_t now);
  // Ok also for a packet buffered until its keys arrive (RFC 9001 §5.7).
  Status process_packet(MutBytes packet, const PacketHeader& h, size_t datagram_len, const DatagramInfo& info,
                        uint64_t now);
  // Whether a packet of space `s` can be opened now: its keys are there
  // and, at a server, 1-RTT ones only once the handshake completed.
  bool can_open(const PacketNumberSpace& s) const;
  // Keeps a copy of `packet` for later; a drop when the buffer is full.
  Status buffer_packet(Bytes packet, PnSpace space, Ecn ecn, bool zero_rtt = false);
  // Processes the buffered packets whose keys have arrived meanwhile (and
  // drops those whose keys went), until none is left that can be.
  void replay_buffered(uint64_t now);
  // Frees every buffered packet: the connection no longer processes any.
  void drop_buffered();
  // Server: the client's first Initial sets up the connection (§7.2).
  Status accept_first_initial(const PacketHeader& h, size_t datagram_len);
  // Whether a packet addressed to `dcid` is ours (§5.2).
  bool dcid_is_ours(Bytes dcid, PacketType type) const;
  Status process_frames(PacketNumberSpace& s, PacketType type, Bytes payload, bool& ack_eliciting, uint64_t now);
  Status on_frame(PacketNumberSpace& s, const Frame& f, uint64_t now);
  Status on_crypto_frame(PacketNumberSpace& s, const CryptoFrame& f);
  Status on_ack_frame(PacketNumberSpace& s, const Frame& f, uint64_t now);
  Status on_datagram_frame(const DatagramFrame& f);
  void on_peer_close(const ConnectionCloseFrame& f, bool application, uint64_t now);
  // STREAM, RESET_STREAM, ..., MAX_STREAMS: through the stream manager.
  Status on_stream_frame(const Frame& f);
  // What a stream frame may change that ConnectionEvents reports
  // (conn_stream_events.cpp): taken before the frame is processed, then
  // compared with the state after it; the fates of stream data and of
  // RESET_STREAM compare in the same way around the stream's update.
  struct StreamLimits {
    bool stream_known = false;
    SendState send = SendState::kReady;
    RecvState recv = RecvState::kRecv;
    uint64_t received = 0;  // the receiving part's highest offset
    uint64_t max_stream_data = 0;
    uint64_t max_streams = 0;
  };
  StreamLimits stream_limits(const Frame& f) const;
  void report_stream_changes(const Frame& f, const StreamLimits& before);
  void report_send_state(const Stream& s, SendState before);

  // ---- Key update and AEAD limits (RFC 9001 §6, conn_key_update.cpp)
  // Which read key opens a 1-RTT packet with Key Phase bit `phase_bit`
  // and packet number `pn` (§6.3, §6.5).
  enum class ReadKey : uint8_t { kCurrent, kPrevious, kNext };
  ReadKey pick_one_rtt_read_key(const PacketNumberSpace& s, bool phase_bit, uint64_t pn, uint64_t now);
  // A 1-RTT packet opened with `key`: a packet under the next key makes it
  // current (§6.2), or is a KEY_UPDATE_ERROR.
  Status on_one_rtt_opened(PacketNumberSpace& s, ReadKey key, uint64_t pn, uint64_t now);
  void discard_prev_read_key(PacketNumberSpace& s);
  // §6.5: the previous read key goes once its three PTOs are over.
  void expire_prev_read_key(uint64_t now);
  // We wrote an ACK frame up to `largest` in a packet of type `type`.
  void on_ack_written(PacketNumberSpace& s, PacketType type, uint64_t largest);
  // §6.6: a packet failed authentication / a 1-RTT packet was sealed.
  void on_decrypt_failed(const PacketHeader& h, uint64_t now);
  void after_one_rtt_sealed();
  // §6.6: the 1-RTT write key may seal another packet (after a key update
  // if it had to); while not, nothing is sent.
  bool one_rtt_key_usable();
  // A probe timeout passed with the key at its limit: the peer's
  // acknowledgment that would allow the update did not come.
  void on_key_exhausted(uint64_t now);
  // The suite's AEAD limits (§6.6), lowered by the configuration's caps.
  AeadLimits capped_aead_limits(CipherSuite suite) const;

  // ---- Paths (conn_migration.cpp)
  // Before decryption: a short header from an unknown path may be dropped
  // (a client's, §9; disable_active_migration, §9).
  Status check_packet_path(const PacketHeader& h);
  // After authentication: the path's entry (made for a new path) counts
  // the datagram and notes the CID the peer used.
  void on_packet_path(const PacketHeader& h);
  // After the frames: a non-probing packet with the largest packet number
  // from another path moves us there (server, §9.3).
  void after_packet_path(uint64_t pn, uint64_t now);
  void on_path_challenge(const PathFrame& f, uint64_t now);
  // The PATH_RESPONSEs owed on `p` that fit in `d`; true if any did.
  bool write_path_responses(PacketDraft& d, PathInfo& p);
  void on_path_response(const PathFrame& f, uint64_t now);
  void on_peer_migrated(size_t i, uint64_t now);
  // A new entry for `p`, making room first if needed.
  size_t add_path(const Path& p);
  // The validated path other than the active one, kept to go back to
  // (§9.3.2); Paths::kNone if none.
  size_t fallback_index() const;
  // Makes path `i` active: its CID becomes current, congestion state and
  // RTT start over unless only a port changed (§9.4), and so do ECN
  // validation (§13.4.2) and, unless only a port changed, the path MTU
  // (§14.2). What the old path had is kept; `returning` (a migration
  // abandoned, §9.3.2) takes it back when `i` is that path.
  void switch_path(size_t i, uint64_t now, bool returning = false);
  void start_path_validation(size_t i, uint64_t now);
  // §8.2.4 / §9.3.2: a validation timed out.
  void on_path_validation_failed(size_t i, uint64_t now);
  void on_path_timeout(uint64_t now);
  // Forgets path `i`, retiring the CID used on it if it is no one else's.
  void drop_path(size_t i);
  // The peer CID packets for the path being written go to.
  const PeerCid* send_cid() const;
  // PATH_RESPONSE and PATH_CHALLENGE in a packet of the active path.
  void fill_path_frames(PacketDraft& d, uint64_t now);
  bool path_frames_pending(uint64_t now) const;
  // A datagram with PATH_RESPONSE / PATH_CHALLENGE for a path other than
  // the active one, if one is due; its path in `*path`.
  size_t write_path_probe(MutBytes out, uint64_t now, Path* path);
  void trace_migration(TracePathEvent e, const Path& p);

  // ---- Sending (conn_send.cpp)
  // Whether space `s` has something for a packet at `now`: an ACK due, a
  // probe, or (window permitting) data.
  bool wants_to_send(const PacketNumberSpace& s, uint64_t now) const;
  // Ack-eliciting data may go at `now`: the congestion window has room
  // (RFC 9002 §7) and the pacer releases a datagram (§7.7).
  bool can_send_data(uint64_t now) const;
  // After write_datagram found nothing more to send: whether the sender is
  // application-limited, for the congestion controller (RFC 9002 §7.8) and
  // the delivery rate estimator.
  void mark_app_limited(uint64_t now);
  // The rate the pacer releases bytes at: the controller's, or unlimited
  // (kU64Max) with pacing off.
  uint64_t pacing_rate() const { return pacing_ ? cc_->pacing_rate(recovery_.rtt()) : kU64Max; }
  // Starts a packet of space `s` at offset `pos` of `datagram`; false if
  // not even its header and the header protection minimum fit.
  bool open_packet(PacketDraft& d, PacketNumberSpace& s, MutBytes datagram, size_t pos);
  // ACK, then (when `allow_eliciting`, the window and the pacer allow) the
  // space's ack-eliciting frames; a PTO probe gets at least a PING.
  void fill_packet(PacketDraft& d, PacketNumberSpace& s, bool allow_eliciting, uint64_t now);
  void write_close_frame(PacketDraft& d);
  // 1-RTT content: flow control, DATAGRAM and stream frames (conn_send.cpp).
  bool app_data_pending() const;
  void fill_app_frames(PacketDraft& d, uint64_t now);
  void fill_datagrams(PacketDraft& d);
  // NEW_CONNECTION_ID and RETIRE_CONNECTION_ID frames (§19.15, §19.16).
  void fill_cid_frames(PacketDraft& d);
  // The largest DATAGRAM frame we may send (RFC 9221 §3), 0 for none.
  uint64_t datagram_frame_limit() const;
  // Writes a control frame and records it; false if it does not fit.
  bool write_control(PacketDraft& d, const Frame& f, uint64_t id, uint64_t value);
  void on_control_fate(const SentItem& it, bool acked);
  void on_stream_fate(const SentItem& it, bool acked);
  // Pads the packet to end at `min_end` (an offset in the datagram, 0 for
  // none; only the datagram's last packet may grow), seals it and returns
  // its end.
  Result<size_t> seal_packet(PacketDraft& d, size_t min_end);
  // The most bytes the next datagram may have (§14, §8.1).
  size_t send_limit() const;
  // The size of the DPLPMTUD probe to send now into `room` bytes, 0 for
  // none (conn_path.cpp).
  uint64_t mtu_probe_size(size_t room, uint64_t now) const;
  // After the search moved: ordinary packets and the congestion controller
  // use the new PLPMTU (conn_path.cpp).
  void apply_plpmtu();
  // ecn_state_updated / mtu_updated when they changed (conn_path.cpp).
  void trace_path();

  // ---- Configuration and host services
  Allocator& alloc_;
  CryptoBackend& crypto_;
  TlsSession& tls_;
  ConnectionEvents& events_;
  Random& random_;
  Tracer* tracer_;
  const uint8_t* reset_key_;
  const Role role_;
  uint32_t version_;
  const VersionCrypto* vc_ = nullptr;
  TransportParameters local_params_;
  size_t cid_len_;
  uint64_t max_datagram_size_;
  const uint64_t initial_window_packets_;
  const bool pacing_;

  // ---- Components. cc_ before recovery_, which holds a reference to it.
  EcnValidator ecn_;
  Pmtud pmtud_;
  Ecn datagram_ecn_ = Ecn::kNotEct;
  CcHolder cc_;
  Recovery recovery_;
  Pacer pacer_;
  // The path state left behind when the active path last changed hosts:
  // the congestion controller, RTT, ECN validation and path MTU search of
  // `left_path_`, valid while `left_valid_` (until that migration
  // completes or is abandoned).
  CcHolder left_cc_;
  RttEstimator left_rtt_;
  EcnValidator left_ecn_;
  Pmtud left_pmtud_;
  uint64_t left_max_datagram_size_ = 0;
  Path left_path_;
  bool left_valid_ = false;
  PacketNumberSpace spaces_[kNumPnSpaces];
  LocalCids local_cids_;
  PeerCids peer_cids_;
  StreamManager streams_;
  // Connection-level flow control (§4.1): MAX_DATA both ways.
  RecvFlow conn_recv_;
  SendFlow conn_send_{0};
  DatagramQueue datagrams_;
  // The stream the next packet's STREAM data starts with (round robin).
  uint64_t next_stream_ = 0;
  // ---- Paths (§8.2, §9; conn_migration.cpp)
  Paths paths_;
  size_t rx_path_ = Paths::kNone;    // the received datagram's path entry
  const Path* rx_addr_ = nullptr;    // and its addresses (nullptr: active)
  size_t rx_datagram_len_ = 0;
  // The datagram came from an unknown address and its long header packets
  // counted it on the active path (on_packet_path).
  bool rx_long_on_active_ = false;
  bool rx_non_probing_ = false;      // the packet had a non-probing frame (§9.1)
  size_t tx_path_ = 0;               // the path being written for
  bool pad_path_ = false;            // §8.2.1: the datagram carries a path frame

  // ---- Handshake
  State state_ = State::kHandshake;
  bool initialized_ = false;
  // Server: the client's first Initial was accepted. Client: the server's
  // first Initial arrived and its Source Connection ID became our DCID.
  bool peer_seen_ = false;
  // Client: the DCID of our first Initial; server: the client's (§7.3).
  ConnectionId original_dcid_;
  // Our Source Connection ID in long headers (sequence 0, §5.1.1).
  ConnectionId local_scid_;
  // The Source Connection ID of the peer's first Initial (§7.3).
  ConnectionId peer_initial_scid_;
  TransportParameters peer_params_;
  bool has_peer_params_ = false;

  // ---- 0-RTT (RFC 9001 §4.6): a client's write keys or a server's read
  // keys (0-RTT shares the Application space's packet numbers, §12.3), the
  // client's remembered server parameters, and the outcome.
  PacketProtection zero_rtt_keys_;
  TransportParameters zero_rtt_params_;
  bool has_zero_rtt_params_ = false;
  EarlyDataState early_state_ = EarlyDataState::kNone;
  bool early_reported_ = false;
  uint64_t zero_rtt_packets_ = 0;
  uint64_t keyless_drops_ = 0;
  uint64_t one_rtt_keyless_drops_ = 0;
  bool tls_complete_ = false;  // reported by TLS, not yet acted upon
  bool handshake_complete_ = false;
  bool handshake_confirmed_ = false;
  bool handshake_done_pending_ = false;  // server: HANDSHAKE_DONE to (re)send
  bool handshake_done_acked_ = false;    // server: the client has it
  bool handshake_packet_received_ = false;
  bool handshake_packet_sent_ = false;
  uint64_t peer_ack_delay_exponent_ = TransportParameters::kDefaultAckDelayExponent;
  uint64_t now_ = 0;  // the time of the entry point running, for callbacks
  // The frame being processed, for CONNECTION_CLOSE's Frame Type (§19.19),
  // and the Destination Connection ID of its packet.
  uint64_t frame_type_ = 0;
  Bytes packet_dcid_;

  // ---- Versions (RFC 9368, conn_version.cpp)
  uint32_t versions_[kMaxVersions] = {};  // ours, most preferred first
  uint32_t original_version_;             // of the client's first Initial
  uint32_t vn_original_version_;          // client: the attempt VN ended
  uint32_t restart_version_ = 0;
  // Server, once it moved the client to another version: opens the
  // client's Initials still in the original one (RFC 9368 §2.3).
  PacketProtection original_initial_read_;
  // The Destination Connection ID the Initial keys come from (RFC 9001
  // §5.2): the client's first one, or the Retry's Source Connection ID.
  ConnectionId initial_dcid_;

  // ---- Address validation (§8.1, conn_retry.cpp)
  bool address_validated_;
  // Client: a Retry was processed; server: the connection follows one.
  bool retry_received_ = false;
  bool retried_;
  // Client: the Retry's Source Connection ID; server: the Initial DCID
  // that the Retry told the client to use (retry_source_connection_id).
  ConnectionId retry_scid_;
  ConnectionId retry_original_dcid_;  // server after a Retry, from the token
  uint8_t token_[kMaxTokenLen] = {};  // client: sent in every Initial
  size_t token_len_ = 0;
  uint8_t new_token_[kMaxOwnTokenLen] = {};  // server: for NEW_TOKEN
  size_t new_token_len_ = 0;
  bool new_token_pending_ = false;
  bool grease_tp_;
  // RFC 9287: random bits for the Fixed Bit, drawn 64 at a time.
  uint64_t grease_bits_ = 0;
  uint8_t grease_bits_left_ = 0;
  bool amplification_blocked_ = false;
  uint64_t bytes_received_ = 0;
  uint64_t bytes_sent_ = 0;

  // ---- Idle timeout (§10.1) and closing (§10.2)
  uint64_t idle_timeout_us_ = 0;  // 0: none
  uint64_t last_activity_ = 0;
  bool eliciting_sent_since_receive_ = false;
  CloseInfo close_info_;
  const char* close_reason_ = "";  // ours, a static string
  bool close_frame_pending_ = false;
  uint64_t close_deadline_ = kNever;

  // ---- AEAD limits (RFC 9001 §6.6): the caps, the limits in force for
  // the negotiated suite, and packets that failed authentication so far.
  AeadLimits aead_limit_cap_;
  AeadLimits aead_limits_;
  uint64_t decrypt_failures_ = 0;

  // ---- Packets waiting for their keys (RFC 9001 §5.7)
  struct BufferedPacket {
    uint8_t* data;  // from alloc_
    size_t len;
    PnSpace space;
    Ecn ecn;
    bool zero_rtt;
  };
  BoundedVec<BufferedPacket, kMaxBufferedPackets> buffered_;
  size_t buffered_bytes_ = 0;

  // ---- Tracing: the last state reported, and a packet's frames
  TraceConnectionState trace_state_ = TraceConnectionState::kAttempted;
  TracedMetrics traced_metrics_;
  CcState traced_cc_state_ = cc_->state();
  CcRecovery traced_recovery_ = CcRecovery::kNone;
  EcnState traced_ecn_state_;
  uint64_t traced_mtu_;
  Pmtud::State traced_pmtud_state_;
  DropReason drop_reason_ = DropReason::kUnexpectedPacket;
  TracedFrame trace_frames_[kMaxTracedFrames];
};

}  // namespace quicbed
