// A QUIC server endpoint, sans-I/O like the Connection it multiplexes: the
// host hands in each datagram with its network path and the current time,
// asks for datagrams to send (each with the path to send it on) and for
// the next timer deadline, and hears about connections coming and going.
//
// What the endpoint does with a datagram (RFC 9000 §5.2):
//   - routes it by Destination Connection ID to a connection: every CID the
//     connection issued, and the client's Original Destination Connection
//     ID, which its Initials carry until it hears from us (§7.2);
//   - makes a new connection for a client's Initial of an enabled version
//     in a datagram of at least 1200 bytes (§14.1) with a Destination
//     Connection ID of at least 8 bytes (§7.2);
//   - answers a long header of another version, in a datagram of at least
//     1200 bytes, with Version Negotiation (§6.1, §17.2.1) listing ours and
//     a reserved one (§15), never a Version Negotiation packet;
//   - checks the token of a client's first Initial and, when asked to
//     validate addresses, answers one without a valid token with a Retry
//     (§8.1.2, address_validation.h); a failing Retry token gets
//     INVALID_TOKEN; a connection gives its client a NEW_TOKEN token once
//     its handshake completes (§8.1.3);
//   - answers a short header addressed to no connection with a Stateless
//     Reset (§10.3) whose token is the one that CID's connection would have
//     given, so a peer whose connection we lost stops at once;
//   - at its connection bound, refuses a new connection with an Initial
//     packet carrying CONNECTION_CLOSE(CONNECTION_REFUSED) (§5.2.2), so the
//     client learns at once instead of after its handshake timeout;
//   - drops everything else.
// Stateless replies (Version Negotiation, Stateless Reset, refusals) share
// one token bucket, so a flood of spoofed triggers cannot turn the endpoint
// into a reflector (each reply is optional: §5.2.2, §6.1, §10.3 say MAY or
// SHOULD). Retry is not among them: it is how the endpoint meets a flood
// of Initials (§8.1.2), it keeps no state and it is smaller than the
// 1200-byte datagram it answers (§14.1), so it reflects nothing; a bucket
// the flood emptied would leave the legitimate clients without theirs.
//
// Per connection the host supplies the services the Connection needs of it
// alone (TlsSession, ConnectionEvents) through a ConnectionFactory; the
// endpoint allocates the Connection from the host Allocator, drives it, and
// frees it once it has terminated (after closing or draining, §10.2).
//
// Bounds: at most max_connections at once; routing table slots fixed at
// init() (each admitted connection reserves the CIDs it can ever have, so a
// CID it issues always finds a slot); a fixed queue of stateless replies.
//
// Connection migration (§9): a datagram is handed to its connection with
// the path it came on, and each connection says on which path its datagrams
// go (conn_migration.cpp decides).
//
// Not yet here: client connections.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/intrusive_list.h"
#include "address_validation.h"
#include "base/status.h"
#include "cid.h"
#include "cid_table.h"
#include "conn.h"
#include "crypto.h"
#include "deadline_heap.h"
#include "path.h"
#include "random.h"
#include "reset_token.h"
#include "siphash.h"

namespace quicbed {

// --- Host interfaces --------------------------------------------------------

// What a connection needs from the host for itself alone. All must live
// until ConnectionFactory::destroy().
struct ConnectionServices {
  TlsSession* tls = nullptr;           // a server session; required
  ConnectionEvents* events = nullptr;  // may be null: nothing is forwarded
  Tracer* tracer = nullptr;            // may be null: the connection is not traced
  void* context = nullptr;             // the host's, handed back untouched
};

// A client's first Initial, about to become a connection.
struct IncomingConnection {
  Path path;
  uint32_t version = 0;
  Bytes original_dcid;  // valid during create() only
  Bytes client_scid;
};

class ConnectionFactory {
 public:
  // Fill `out` for a new server connection. A non-ok Status refuses it
  // (like the connection bound: CONNECTION_REFUSED).
  virtual Status create(const IncomingConnection& in, ConnectionServices& out) = 0;
  // The connection is gone, or never got going (its first Initial did not
  // authenticate): release what create() made.
  virtual void destroy(const ConnectionServices& services) = 0;

 protected:
  ~ConnectionFactory() = default;
};

class EndpointConnection;

class EndpointEvents {
 public:
  // The client's first Initial authenticated: the connection is in the
  // endpoint's care until on_connection_removed(). Its own events (through
  // ConnectionServices::events) may come before this one, from that first
  // datagram.
  virtual void on_connection_accepted(EndpointConnection& c) { (void)c; }
  // The connection has terminated (RFC 9000 §10: closed, drained, timed out
  // or reset) and is freed after this call; ConnectionFactory::destroy()
  // follows.
  virtual void on_connection_removed(EndpointConnection& c) { (void)c; }

 protected:
  ~EndpointEvents() = default;
};

// --- Configuration ----------------------------------------------------------

struct EndpointConfig {
  // The template of every connection: transport parameters, cid_len (8..20
  // here: the routing key of short headers), datagram size, congestion
  // control, limits. The endpoint sets role, version and the host pointers.
  ConnectionConfig connection;
  // QUIC versions a client may start a connection in, most preferred
  // first: Version Negotiation lists them in this order, and a client that
  // lists a more preferred one than it started in is moved to it (RFC 9368
  // §2.3). 0 ends the list. Each must be one the stack speaks
  // (is_supported_version).
  static constexpr size_t kMaxVersions = quicbed::kMaxVersions;
  uint32_t versions[kMaxVersions] = {kVersion1, kVersion2, 0, 0};

  // Connections at once, closing and draining ones included (1..2^20).
  size_t max_connections = 1024;
  // Routing table slots: a power of two, or 0 for enough for
  // max_connections (kRoutesPerConnection each at 3/4 load). A smaller
  // table admits fewer connections.
  size_t table_slots = 0;
  // The host's secret key for the routing table's hash (SipHash-2-4), so
  // that peers cannot predict which CIDs collide. Unpredictable, per
  // process.
  uint8_t hash_key[16] = {};
  // The host's secret for stateless reset tokens (§10.3.2, reset_token.h):
  // the connections derive their tokens from it, and the endpoint the token
  // of a CID it does not know. The same on every endpoint instance that
  // should be able to reset this one's connections, e.g. across a restart.
  uint8_t reset_key[kResetKeyLen] = {};
  // The token bucket of stateless replies but Retry: a sustained rate and
  // a burst. 0 per second sends none.
  uint32_t stateless_replies_per_second = 1000;
  uint32_t stateless_reply_burst = 32;
  // Retry and tokens (RFC 9000 §8.1).
  AddressValidationConfig validation;

  // Host services shared by every connection; must outlive the endpoint.
  Allocator* alloc = nullptr;
  CryptoBackend* crypto_backend = nullptr;
  Random* random = nullptr;
  ConnectionFactory* factory = nullptr;
  EndpointEvents* events = nullptr;  // may be null
};

struct EndpointStats {
  uint64_t datagrams_received = 0;
  uint64_t datagrams_dropped = 0;  // unparseable, unroutable or refused without reply
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // at a bound or by the factory
  uint64_t connections_removed = 0;
  uint64_t version_negotiations_sent = 0;
  uint64_t stateless_resets_sent = 0;
  uint64_t refusals_sent = 0;            // Initials with CONNECTION_REFUSED
  uint64_t retries_sent = 0;             // §8.1.2
  uint64_t invalid_tokens = 0;           // Initials closed with INVALID_TOKEN
  uint64_t new_tokens_sent = 0;          // §8.1.3, one per connection
  uint64_t stateless_replies_limited = 0;  // not sent: token bucket empty or queue full
  // CIDs a connection issued that could not be routed: another
  // connection's already (random CIDs colliding) or over the bound.
  uint64_t routes_failed = 0;
};

// A datagram to send: `size` bytes of the caller's buffer, to go on `path`
// with the ECN codepoint `ecn` in its IP header (RFC 9000 §13.4; stateless
// replies are not marked) (size 0: nothing to send).
struct Transmit {
  size_t size = 0;
  Path path;
  Ecn ecn = Ecn::kNotEct;
};

// --- Connections ------------------------------------------------------------

class Endpoint;

// The list hooks and the timer node of a connection are the endpoint's.
namespace endpoint_detail {
struct ReadyTag {};  // has something to send, maybe
struct AllTag {};    // every connection
struct DueTag {};    // its timer is due (inside on_timeout)
}  // namespace endpoint_detail

// A connection in the endpoint's care: the Connection and what the host
// attached to it. Valid from on_connection_accepted() to
// on_connection_removed().
class EndpointConnection final : public ListHook<endpoint_detail::ReadyTag>,
                                 public ListHook<endpoint_detail::AllTag>,
                                 public ListHook<endpoint_detail::DueTag>,
                                 public DeadlineNode,
                                 private ConnectionEvents {
 public:
  Connection& connection() { return conn_; }
  const Connection& connection() const { return conn_; }
  // The path its datagrams go on now (RFC 9000 §9).
  const Path& path() const { return conn_.path(); }
  void* context() const { return services_.context; }
  const ConnectionServices& services() const { return services_; }
  // The CIDs that route to this connection now.
  size_t route_count() const { return routes_.size(); }

  // Only the endpoint makes them (it alone can make a Key).
  class Key {
    friend class Endpoint;
    Key() = default;
  };
  EndpointConnection(Key, Endpoint& ep, const ConnectionConfig& config, const ConnectionServices& services,
                     const Path& path);

 private:
  friend class Endpoint;
  // Every CID a connection may hold at once (LocalCids::kCapacity), plus
  // the client's Original Destination Connection ID.
  static constexpr size_t kMaxRoutes = LocalCids::kCapacity + 1;

  // ConnectionEvents: every one is forwarded to the host's sink (a new
  // event needs its line here).
  void on_handshake_complete() override;
  void on_connection_closed(const CloseInfo& info) override;
  void on_stream_opened(uint64_t id) override;
  void on_stream_readable(uint64_t id) override;
  void on_datagram(Bytes data) override;
  void on_early_data(bool accepted) override;
  // Also keep the routing table in sync (RFC 9000 §5.1).
  void on_cid_issued(const ConnectionId& cid) override;
  void on_cid_retired(const ConnectionId& cid) override;
  void on_new_token(Bytes token) override;

  Endpoint& endpoint_;
  ConnectionServices services_;
  BoundedVec<ConnectionId, kMaxRoutes> routes_;
  bool accepted_ = false;
  Connection conn_;  // last: constructed once the events shim above exists
};

// --- The endpoint -----------------------------------------------------------

class Endpoint {
 public:
  static constexpr size_t kRoutesPerConnection = EndpointConnection::kMaxRoutes;
  static constexpr size_t kMaxConnections = size_t{1} << 20;
  // The most bytes a stateless reply takes: Version Negotiation echoing two
  // 255-byte CIDs (RFC 8999 §5.1) listing every version and a reserved one.
  static constexpr size_t kMaxStatelessReply = 7 + 2 * kMaxInvariantCidLen + 4 * (EndpointConfig::kMaxVersions + 1);
  // Stateless replies waiting for write_datagram(). A host drains them
  // after each batch of received datagrams (the userspace host's has 32,
  // pending_replies() tells when): a full queue drops the reply.
  static constexpr size_t kMaxPendingReplies = 64;

  // The host pointers in `config` (but events) must be set (QB_ASSERT).
  explicit Endpoint(const EndpointConfig& config);
  // Frees every connection (on_connection_removed, then destroy, each).
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Checks the configuration and allocates the routing table and the timer
  // heap. kInvalidArgument for a bad configuration, kNoMemory.
  Status init();

  // A datagram from `path`. Its bytes are decrypted in place when a
  // connection takes it (unspecified afterwards). Not to be called from
  // inside any callback of the endpoint or its connections.
  void receive_datagram(MutBytes datagram, const Path& path, const DatagramInfo& info, uint64_t now);

  // The next datagram to send, written into `out` (room for at least 1200
  // bytes, RFC 9000 §14): pending stateless replies first, then the
  // connections with something to send, one datagram each in turn. Call
  // until the size is 0.
  Transmit write_datagram(MutBytes out, uint64_t now);

  // When on_timeout() must run next; kNever if no timer is armed. O(1).
  uint64_t next_timeout() const { return timers_.earliest(); }
  // Runs the timers of the connections due at `now`; then write_datagram().
  void on_timeout(uint64_t now);

  // After the host used a connection's API from outside the endpoint's
  // calls (wrote to a stream, closed it...): its timer is refreshed and it
  // gets a turn in write_datagram().
  void wake(EndpointConnection& c);
  // Closes every connection with an application error (RFC 9000 §10.2);
  // `reason` a static string. They go once their closing period ends.
  void close_all(uint64_t app_error, const char* reason, uint64_t now);

  size_t connection_count() const { return all_.size(); }
  // The connection `dcid` routes to; nullptr if none.
  EndpointConnection* find(Bytes dcid) const { return table_.find(dcid); }
  const EndpointStats& stats() const { return stats_; }
  // Stateless replies queued for write_datagram() (at most kMaxPendingReplies).
  size_t pending_replies() const { return reply_count_; }
  // The most connections the routing table admits (<= max_connections).
  size_t connection_capacity() const { return capacity_; }

  // RFC 9000 §10.3.2: the stateless reset token of `cid` (as its
  // connection gave it, or would have). The backend's errors.
  Status reset_token(Bytes cid, MutBytes token) const;

 private:
  friend class EndpointConnection;

  struct Reply {
    Path path;
    size_t size = 0;
    uint8_t bytes[kMaxStatelessReply];
  };

  // The token bucket of stateless replies, in millionths of a reply.
  class ReplyBudget {
   public:
    void configure(uint32_t per_second, uint32_t burst);
    // Takes one reply's worth at `now`; false when the bucket is empty.
    bool take(uint64_t now);

   private:
    uint64_t rate_ = 0;  // millionths per microsecond = replies per second
    uint64_t cap_ = 0;
    uint64_t level_ = 0;
    uint64_t last_ = 0;
  };

  // ---- Receiving
  void receive_long(MutBytes datagram, const PacketHeader& h, const Path& path, const DatagramInfo& info,
                    uint64_t now);
  void deliver(EndpointConnection& c, MutBytes datagram, const Path& path, const DatagramInfo& info, uint64_t now);
  void accept(MutBytes datagram, const PacketHeader& h, const Path& path, const DatagramInfo& info, uint64_t now,
              const Admission& admission);
  bool version_enabled(uint32_t v) const;
  bool has_room() const { return all_.size() < capacity_; }

  // ---- Stateless replies
  // A free slot of the queue if the queue and, for a `budgeted` reply, the
  // token bucket allow a reply now; commit_reply() queues what was written
  // into it.
  Reply* reserve_reply(const Path& path, uint64_t now, bool budgeted = true);
  void commit_reply(size_t size);
  void send_version_negotiation(const PacketHeader& h, const Path& path, uint64_t now);
  void send_stateless_reset(Bytes dcid, size_t trigger_len, const Path& path, uint64_t now);
  // An Initial with CONNECTION_CLOSE(`code`), §5.2.2 and §8.1.2.
  void send_refusal(const PacketHeader& h, const Path& path, uint64_t now,
                    ErrorCode code = ErrorCode::kConnectionRefused);
  Result<size_t> write_refusal(MutBytes out, const PacketHeader& h, ErrorCode code);
  void send_retry(const PacketHeader& h, const Path& path, uint64_t now);
  // §8.1.3: a NEW_TOKEN token for the client of a connection whose
  // handshake just completed.
  void issue_new_token(EndpointConnection& c);

  // ---- Connection bookkeeping
  Status add_route(EndpointConnection& c, Bytes cid);
  void remove_route(EndpointConnection& c, Bytes cid);
  // After any call into the connection: removes it once terminated, else
  // refreshes its timer and (ready) gives it a turn to send.
  void after_call(EndpointConnection& c, bool ready);
  void remove(EndpointConnection& c);
  void free_connection(EndpointConnection* c);

  Allocator& alloc_;
  CryptoBackend& crypto_;
  Random& random_;
  ConnectionFactory& factory_;
  EndpointEvents* events_;
  EndpointConfig config_;
  bool initialized_ = false;
  size_t capacity_ = 0;

  CidTable<EndpointConnection> table_;
  DeadlineHeap timers_;
  IntrusiveList<EndpointConnection, endpoint_detail::AllTag> all_;
  IntrusiveList<EndpointConnection, endpoint_detail::ReadyTag> ready_;
  IntrusiveList<EndpointConnection, endpoint_detail::DueTag> due_;  // inside on_timeout()

  AddressValidator validator_;
  uint64_t now_ = 0;  // of the call running, for callbacks from connections
  ReplyBudget budget_;
  Reply replies_[kMaxPendingReplies];
  size_t reply_head_ = 0;
  size_t reply_count_ = 0;

  EndpointStats stats_;
};

}  // namespace quicbed
