#include "endpoint.h"

#include "base/fixed_point.h"
#include "frame.h"
#include "keys.h"
#include "packet.h"
#include "protection.h"
#include "refusal.h"

namespace quicbed {
namespace {

template <typename T>
T& host(T* p) {
  QB_ASSERT(p != nullptr);
  return *p;
}

// RFC 9000 §7.2: a client's first Destination Connection ID is at least 8
// bytes; shorter ones start no connection.
constexpr size_t kMinClientDcidLen = 8;
// The shortest CIDs we issue: random bytes that stay unique among the
// endpoint's connections and unguessable to off-path peers (§5.1).
constexpr size_t kMinLocalCidLen = 8;
// Unpredictable bytes in a Stateless Reset before its token (§10.3): with
// the token, 42 bytes, so a trigger of 43 bytes or less gets one byte less
// than it had (the §10.3 SHOULD) and longer ones a reset of 42.
constexpr size_t kResetRandomLen = 26;
// The replies' token bucket counts millionths of a reply.
constexpr uint64_t kReplyUnit = 1'000'000;

ConnectionConfig with_events(ConnectionConfig c, ConnectionEvents& events, const Path& path) {
  c.events = &events;
  c.path = path;
  return c;
}

size_t next_pow2(size_t v) {
  size_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

// ---- EndpointConnection ----------------------------------------------------

EndpointConnection::EndpointConnection(Key, Endpoint& ep, const ConnectionConfig& config,
                                       const ConnectionServices& services, const Path& path)
    : endpoint_(ep), services_(services), conn_(with_events(config, *this, path)) {}

void EndpointConnection::on_handshake_complete() {
  endpoint_.issue_new_token(*this);
  if (services_.events) services_.events->on_handshake_complete();
}
void EndpointConnection::on_connection_closed(const CloseInfo& info) {
  if (services_.events) services_.events->on_connection_closed(info);
}
void EndpointConnection::on_stream_opened(uint64_t id) {
  if (services_.events) services_.events->on_stream_opened(id);
}
void EndpointConnection::on_stream_readable(uint64_t id) {
  if (services_.events) services_.events->on_stream_readable(id);
}
void EndpointConnection::on_datagram(Bytes data) {
  if (services_.events) services_.events->on_datagram(data);
}
void EndpointConnection::on_early_data(bool accepted) {
  if (services_.events) services_.events->on_early_data(accepted);
}
void EndpointConnection::on_cid_issued(const ConnectionId& cid) {
  if (!endpoint_.add_route(*this, cid.view())) ++endpoint_.stats_.routes_failed;
  if (services_.events) services_.events->on_cid_issued(cid);
}
void EndpointConnection::on_cid_retired(const ConnectionId& cid) {
  endpoint_.remove_route(*this, cid.view());
  if (services_.events) services_.events->on_cid_retired(cid);
}
void EndpointConnection::on_new_token(Bytes token) {
  if (services_.events) services_.events->on_new_token(token);
}

// ---- Set-up ----------------------------------------------------------------

Endpoint::Endpoint(const EndpointConfig& c)
    : alloc_(host(c.alloc)),
      crypto_(host(c.crypto_backend)),
      random_(host(c.random)),
      factory_(host(c.factory)),
      events_(c.events),
      config_(c),
      table_(alloc_),
      timers_(alloc_) {}

Endpoint::~Endpoint() {
  while (EndpointConnection* c = all_.front()) remove(*c);
}

Status Endpoint::init() {
  if (initialized_) return Status(ErrorCode::kInvalidArgument, "endpoint already initialized");
  if (!version_enabled(config_.versions[0])) return Status(ErrorCode::kInvalidArgument, "no QUIC version");
  for (uint32_t v : config_.versions) {
    if (v != 0 && !is_supported_version(v)) return Status(ErrorCode::kInvalidArgument, "unsupported QUIC version");
  }
  const size_t cid_len = config_.connection.cid_len;
  if (cid_len < kMinLocalCidLen || cid_len > kMaxCidLen) {
    return Status(ErrorCode::kInvalidArgument, "cid_len out of range");
  }
  if (config_.max_connections == 0 || config_.max_connections > kMaxConnections) {
    return Status(ErrorCode::kInvalidArgument, "max_connections out of range");
  }
  // Every admitted connection reserves kRoutesPerConnection slots under
  // the table's 3/4 load bound.
  size_t slots = config_.table_slots;
  if (slots == 0) slots = next_pow2((config_.max_connections * kRoutesPerConnection * 4 + 2) / 3);
  QB_TRY(table_.init(slots, SipKey::from_bytes(config_.hash_key)));
  capacity_ = table_.max_size() / kRoutesPerConnection;
  if (capacity_ > config_.max_connections) capacity_ = config_.max_connections;
  if (capacity_ == 0) return Status(ErrorCode::kInvalidArgument, "routing table too small for one connection");
  QB_TRY(timers_.init(capacity_));
  QB_TRY(validator_.init(crypto_, config_.validation));
  budget_.configure(config_.stateless_replies_per_second, config_.stateless_reply_burst);
  initialized_ = true;
  return Status::ok();
}

bool Endpoint::version_enabled(uint32_t v) const {
  if (v == 0) return false;
  for (uint32_t e : config_.versions) {
    if (e == v) return true;
  }
  return false;
}

// ---- Receiving -------------------------------------------------------------

void Endpoint::receive_datagram(MutBytes datagram, const Path& path, const DatagramInfo& info, uint64_t now) {
  QB_ASSERT(initialized_);
  now_ = now;
  ++stats_.datagrams_received;
  const HeaderParseOptions opts{config_.connection.cid_len, config_.connection.params.grease_quic_bit};
  // §5.2: the first packet's header routes the datagram; coalesced packets
  // share its Destination Connection ID (§12.2), which the connection
  // checks.
  Result<PacketHeader> h = parse_packet_header(datagram, opts);
  if (!h) {
    ++stats_.datagrams_dropped;
    return;
  }
  if (h->form == HeaderForm::kLong) {
    receive_long(datagram, *h, path, info, now);
    return;
  }
  if (EndpointConnection* c = table_.find(h->dcid)) {
    deliver(*c, datagram, path, info, now);
    return;
  }
  // §10.3: a short header nobody here knows: the peer may hold a
  // connection we lost.
  send_stateless_reset(h->dcid, datagram.size(), path, now);
}

void Endpoint::receive_long(MutBytes datagram, const PacketHeader& h, const Path& path, const DatagramInfo& info,
                            uint64_t now) {
  // §6.1: a server never answers Version Negotiation (clients alone
  // process it, §6.2).
  if (h.version == kVersionNegotiationVersion) {
    ++stats_.datagrams_dropped;
    return;
  }
  if (!version_enabled(h.version)) {
    // §6.1: only datagrams large enough to carry a client's first Initial
    // (§14.1) get an answer, so Version Negotiation never amplifies.
    if (datagram.size() >= Connection::kMinInitialDatagram) {
      send_version_negotiation(h, path, now);
    } else {
      ++stats_.datagrams_dropped;
    }
    return;
  }
  if (EndpointConnection* c = table_.find(h.dcid)) {
    deliver(*c, datagram, path, info, now);
    return;
  }
  // §5.2.2: only an Initial starts a connection; 0-RTT or Handshake
  // packets for no connection (or arriving before it) are dropped.
  if (h.type != PacketType::kInitial || datagram.size() < Connection::kMinInitialDatagram ||
      h.dcid.size() < kMinClientDcidLen) {
    ++stats_.datagrams_dropped;
    return;
  }
  // §8.1: the token decides whether the address needs proving first.
  const Admission a = validator_.admit(h, path.peer.view(), now);
  switch (a.action) {
    case Admission::Action::kRetry:
      send_retry(h, path, now);
      return;
    case Admission::Action::kInvalidToken:
      ++stats_.invalid_tokens;
      send_refusal(h, path, now, ErrorCode::kInvalidToken);
      return;
    case Admission::Action::kAccept:
      break;
  }
  accept(datagram, h, path, info, now, a);
}

void Endpoint::deliver(EndpointConnection& c, MutBytes datagram, const Path& path, const DatagramInfo& info,
                       uint64_t now) {
  // §9: the connection learns the path, for validation and migration.
  DatagramInfo with_path = info;
  with_path.path = &path;
  c.conn_.receive_datagram(datagram, with_path, now);
  after_call(c, true);
}

void Endpoint::accept(MutBytes datagram, const PacketHeader& h, const Path& path, const DatagramInfo& info,
                      uint64_t now, const Admission& admission) {
  if (!has_room()) {
    ++stats_.connections_refused;
    send_refusal(h, path, now);
    return;
  }
  // The connection decrypts the datagram in place: the routing key is
  // copied out first.
  ConnectionId odcid;
  (void)odcid.assign(h.dcid);  // the parser bounds it to 20 bytes
  IncomingConnection in;
  in.path = path;
  in.version = h.version;
  in.original_dcid = h.dcid;
  in.client_scid = h.scid;
  ConnectionServices services;
  Status s = factory_.create(in, services);
  if (!s || !services.tls) {
    if (s) factory_.destroy(services);
    ++stats_.connections_refused;
    send_refusal(h, path, now);
    return;
  }
  ConnectionConfig cc = config_.connection;
  cc.role = Role::kServer;
  cc.version = h.version;
  for (size_t i = 0; i < EndpointConfig::kMaxVersions; ++i) cc.versions[i] = config_.versions[i];
  cc.address_validated = admission.validated;
  cc.retried = admission.retried;
  cc.retry_original_dcid = admission.odcid;
  cc.alloc = &alloc_;
  cc.crypto_backend = &crypto_;
  cc.random = &random_;
  cc.tls = services.tls;
  cc.reset_key = config_.reset_key;
  cc.tracer = services.tracer;
  EndpointConnection* c = make<EndpointConnection>(alloc_, EndpointConnection::Key(), *this, cc, services, path);
  if (!c) {
    factory_.destroy(services);
    ++stats_.datagrams_dropped;
    return;
  }
  all_.push_back(c);
  if (!c->conn_.init(now) || !add_route(*c, odcid.view())) {
    free_connection(c);
    ++stats_.datagrams_dropped;
    return;
  }
  DatagramInfo with_path = info;
  with_path.path = &path;
  c->conn_.receive_datagram(datagram, with_path, now);
  // An Initial that did not authenticate (RFC 9001 §5.2 keys anyone can
  // derive, but a forged or corrupted packet fails) leaves nothing to keep.
  const bool authenticated = c->conn_.space(PnSpace::kInitial).acks.largest() != kNoPacketNumber ||
                             c->conn_.state() != Connection::State::kHandshake;
  if (!authenticated) {
    free_connection(c);
    ++stats_.datagrams_dropped;
    return;
  }
  c->accepted_ = true;
  ++stats_.connections_accepted;
  if (events_) events_->on_connection_accepted(*c);
  after_call(*c, true);
}

// ---- Sending ---------------------------------------------------------------

Transmit Endpoint::write_datagram(MutBytes out, uint64_t now) {
  QB_ASSERT(initialized_);
  Transmit t;
  while (reply_count_) {
    const Reply& r = replies_[reply_head_];
    reply_head_ = (reply_head_ + 1) % kMaxPendingReplies;
    --reply_count_;
    if (r.size > out.size()) continue;  // a host buffer below the documented minimum
    copy_bytes(out.data(), r.bytes, r.size);
    t.size = r.size;
    t.path = r.path;
    return t;
  }
  // Round robin: a connection that sent goes to the back; one with nothing
  // to send leaves the list until something happens to it.
  while (EndpointConnection* c = ready_.front()) {
    ready_.remove(c);
    const size_t n = c->conn_.write_datagram(out, now, &t.path);
    if (n) {
      ready_.push_back(c);
      t.size = n;
      t.ecn = c->conn_.datagram_ecn();
    }
    after_call(*c, false);
    if (n) return t;
  }
  return t;
}

void Endpoint::on_timeout(uint64_t now) {
  QB_ASSERT(initialized_);
  now_ = now;
  // Due connections leave the heap first, so each runs once per call even
  // if its next deadline is already past.
  for (DeadlineNode* n = timers_.top(); n && n->deadline <= now; n = timers_.top()) {
    timers_.remove(*n);
    due_.push_back(static_cast<EndpointConnection*>(n));
  }
  while (EndpointConnection* c = due_.pop_front()) {
    c->conn_.on_timeout(now);
    after_call(*c, true);
  }
}

void Endpoint::wake(EndpointConnection& c) { after_call(c, true); }

void Endpoint::close_all(uint64_t app_error, const char* reason, uint64_t now) {
  for (EndpointConnection* c = all_.front(); c;) {
    EndpointConnection* next = all_.next(c);
    c->conn_.close(app_error, reason, now);
    after_call(*c, true);
    c = next;
  }
}

// ---- Stateless replies -----------------------------------------------------

void Endpoint::ReplyBudget::configure(uint32_t per_second, uint32_t burst) {
  rate_ = per_second;
  cap_ = per_second ? uint64_t{burst} * kReplyUnit : 0;
  level_ = cap_;
}

bool Endpoint::ReplyBudget::take(uint64_t now) {
  if (now > last_) {
    level_ = min_u64(cap_, sat_add(level_, mul_div(now - last_, rate_, 1)));
    last_ = now;
  }
  if (level_ < kReplyUnit) return false;
  level_ -= kReplyUnit;
  return true;
}

Endpoint::Reply* Endpoint::reserve_reply(const Path& path, uint64_t now, bool budgeted) {
  if (reply_count_ == kMaxPendingReplies || (budgeted && !budget_.take(now))) {
    ++stats_.stateless_replies_limited;
    ++stats_.datagrams_dropped;
    return nullptr;
  }
  Reply& r = replies_[(reply_head_ + reply_count_) % kMaxPendingReplies];
  r.path = path;
  r.size = 0;
  return &r;
}

void Endpoint::commit_reply(size_t size) {
  QB_ASSERT(size <= kMaxStatelessReply && reply_count_ < kMaxPendingReplies);
  replies_[(reply_head_ + reply_count_) % kMaxPendingReplies].size = size;
  ++reply_count_;
}

void Endpoint::send_version_negotiation(const PacketHeader& h, const Path& path, uint64_t now) {
  Reply* r = reserve_reply(path, now);
  if (!r) return;
  uint32_t versions[EndpointConfig::kMaxVersions + 1];
  size_t n = 0;
  for (uint32_t v : config_.versions) {
    if (v != 0) versions[n++] = v;
  }
  uint8_t random[5];
  random_.fill(MutBytes(random));
  const uint8_t unused_bits = random[0];
  // §6.3: a reserved version too, so that clients keep ignoring versions
  // they do not know; somewhere in the list.
  const uint32_t grease = greased_version(uint32_t{random[1]} << 24 | uint32_t{random[2]} << 16 |
                                          uint32_t{random[3]} << 8 | random[4]);
  const size_t at = random[4] % (n + 1);
  for (size_t i = n; i > at; --i) versions[i] = versions[i - 1];
  versions[at] = grease;
  ++n;
  Writer w{MutBytes(r->bytes, kMaxStatelessReply)};
  // §17.2.1: the client's connection IDs come back swapped, so that it
  // recognizes the answer (§6.2).
  if (!write_version_negotiation(w, unused_bits, h.scid, h.dcid, std::span<const uint32_t>(versions, n))) return;
  commit_reply(w.position());
  ++stats_.version_negotiations_sent;
}

void Endpoint::send_stateless_reset(Bytes dcid, size_t trigger_len, const Path& path, uint64_t now) {
  // §10.3.3: a packet this short could itself be a Stateless Reset (or not
  // leave room for a smaller answer): answering it could loop.
  if (trigger_len <= kMinStatelessResetLen) {
    ++stats_.datagrams_dropped;
    return;
  }
  Reply* r = reserve_reply(path, now);
  if (!r) return;
  uint8_t token[kStatelessResetTokenLen];
  if (!reset_token(dcid, MutBytes(token))) return;
  uint8_t unpredictable[kResetRandomLen];
  random_.fill(MutBytes(unpredictable));
  Writer w{MutBytes(r->bytes, kMaxStatelessReply)};
  Result<size_t> n = write_stateless_reset(w, trigger_len, Bytes(unpredictable), Bytes(token));
  if (!n) return;
  commit_reply(*n);
  ++stats_.stateless_resets_sent;
}

void Endpoint::send_refusal(const PacketHeader& h, const Path& path, uint64_t now, ErrorCode code) {
  Reply* r = reserve_reply(path, now);
  if (!r) return;
  Result<size_t> n = write_refusal(MutBytes(r->bytes, kMaxStatelessReply), h, code);
  if (!n) return;
  commit_reply(*n);
  ++stats_.refusals_sent;
}

void Endpoint::send_retry(const PacketHeader& h, const Path& path, uint64_t now) {
  // Outside the token bucket (see endpoint.h): §8.1.2's answer to a flood.
  Reply* r = reserve_reply(path, now, false);
  if (!r) return;
  Result<size_t> n = validator_.write_retry(MutBytes(r->bytes, kMaxStatelessReply), h, path.peer.view(),
                                            config_.connection.cid_len, random_, alloc_, now);
  if (!n) {
    ++stats_.datagrams_dropped;
    return;
  }
  commit_reply(*n);
  ++stats_.retries_sent;
}

void Endpoint::issue_new_token(EndpointConnection& c) {
  if (!validator_.new_tokens()) return;
  uint8_t token[kMaxOwnTokenLen];
  Result<size_t> n = validator_.new_token(MutBytes(token), c.path().peer.view(), random_, now_);
  if (n && c.conn_.send_new_token(Bytes(token, *n))) ++stats_.new_tokens_sent;
}

Result<size_t> Endpoint::write_refusal(MutBytes out, const PacketHeader& h, ErrorCode code) {
  return write_initial_refusal(out, h, code, config_.connection.cid_len, crypto_, random_);
}

Status Endpoint::reset_token(Bytes cid, MutBytes token) const {
  return derive_reset_token(crypto_, Bytes(config_.reset_key, kResetKeyLen), cid, token);
}

// ---- Connection bookkeeping ------------------------------------------------

Status Endpoint::add_route(EndpointConnection& c, Bytes cid) {
  // Each connection holds at most kRoutesPerConnection CIDs, and admission
  // reserved that many slots for it: the table cannot be full here.
  if (c.routes_.full()) return Status(ErrorCode::kLimitExceeded, "connection routes");
  ConnectionId id;
  if (!id.assign(cid)) return Status(ErrorCode::kInvalidArgument, "CID too long");
  QB_TRY(table_.insert(cid, &c));
  (void)c.routes_.push_back(id);
  return Status::ok();
}

void Endpoint::remove_route(EndpointConnection& c, Bytes cid) {
  for (size_t i = 0; i < c.routes_.size(); ++i) {
    if (!bytes_equal(c.routes_[i].view(), cid)) continue;
    (void)table_.remove(cid);
    c.routes_.erase(i);
    return;
  }
}

void Endpoint::after_call(EndpointConnection& c, bool ready) {
  if (c.conn_.is_terminated()) {
    remove(c);
    return;
  }
  timers_.set(c, c.conn_.next_timeout());
  if (ready && !ready_.linked(&c)) ready_.push_back(&c);
}

void Endpoint::remove(EndpointConnection& c) {
  ++stats_.connections_removed;
  if (c.accepted_ && events_) events_->on_connection_removed(c);
  free_connection(&c);
}

void Endpoint::free_connection(EndpointConnection* c) {
  for (const ConnectionId& id : c->routes_) (void)table_.remove(id.view());
  c->routes_.clear();
  timers_.remove(*c);
  if (ready_.linked(c)) ready_.remove(c);
  if (due_.linked(c)) due_.remove(c);
  all_.remove(c);
  const ConnectionServices services = c->services_;
  destroy(alloc_, c);
  factory_.destroy(services);
}

}  // namespace quicbed
