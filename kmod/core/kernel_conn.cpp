// A socket's QUIC connection for the C glue (boundary.h, qb_conn_*): the
// core's Connection, its passthrough TLS session and the event sink, with
// the conversions between the socket API's values (microseconds, TLS cipher
// numbers, quic_crypto_level) and the core's.
#include <cstddef>
#include <cstdint>

#include "../boundary.h"
#include "base/bounded.h"
#include "client_hello.h"
#include "conn.h"
#include "kernel_conn.h"
#include "kernel_allocator.h"
#include "kernel_conn_core.h"
#include "kernel_crypto.h"
#include "kernel_random.h"
#include "passthrough_tls.h"
#include "record_queue.h"
#include "stream_events.h"

namespace quicbed::kmod {

namespace {


// errno values (the kernel's, stable across architectures for these).
constexpr int kEINVAL = 22, kEAGAIN = 11, kENOMEM = 12, kEMSGSIZE = 90, kENOTCONN = 107;

int to_errno(const Status& s) {
  if (s.is_ok()) return 0;
  switch (s.code()) {
    case ErrorCode::kLimitExceeded: return -kEAGAIN;
    case ErrorCode::kNoMemory: return -kENOMEM;
    default: return -kEINVAL;
  }
}

// enum quic_crypto_level: APP 0, INITIAL 1, HANDSHAKE 2, EARLY 3.
bool level_from_api(int level, EncryptionLevel* out) {
  switch (level) {
    case 0: *out = EncryptionLevel::kApplication; return true;
    case 1: *out = EncryptionLevel::kInitial; return true;
    case 2: *out = EncryptionLevel::kHandshake; return true;
    case 3: *out = EncryptionLevel::kEarlyData; return true;
  }
  return false;
}

uint8_t level_to_api(EncryptionLevel l) {
  switch (l) {
    case EncryptionLevel::kApplication: return 0;
    case EncryptionLevel::kInitial: return 1;
    case EncryptionLevel::kHandshake: return 2;
    case EncryptionLevel::kEarlyData: return 3;
  }
  return 0;
}

// TLS_CIPHER_AES_GCM_128/256, TLS_CIPHER_CHACHA20_POLY1305 (<linux/tls.h>).
bool suite_from_api(uint32_t cipher, CipherSuite* out) {
  switch (cipher) {
    case 51: *out = CipherSuite::kAes128GcmSha256; return true;
    case 52: *out = CipherSuite::kAes256GcmSha384; return true;
    case 54: *out = CipherSuite::kChaCha20Poly1305Sha256; return true;
  }
  return false;
}

}  // namespace

}  // namespace quicbed::kmod

using namespace quicbed;
using namespace quicbed::kmod;

// The socket's options as a connection configuration (RFC 9000 §18.2 units:
// milliseconds for the idle timeout and the ACK delay).
ConnectionConfig quicbed::kmod::config_of(const qb_conn_params& p) {
  ConnectionConfig c;
  c.role = p.server ? Role::kServer : Role::kClient;
  c.version = p.version;
  params_of(p, c.params);
  // The search starts at 1200 bytes once the handshake is confirmed and
  // probes the host's bound first (pmtud.h): on loopback, with its 64 KB
  // MTU, datagrams grow as TCP's segments do.
  if (p.max_datagram_size > c.max_datagram_size) {
    c.pmtud = true;
    c.max_datagram_size = p.max_datagram_size < kMaxCcDatagramSize ? p.max_datagram_size : kMaxCcDatagramSize;
  }
  c.address_validated = p.address_validated != 0;
  c.retried = p.retried != 0;
  if (c.retried) (void)c.retry_original_dcid.assign(Bytes(p.odcid, p.odcid_len));
  c.alloc = &kernel_allocator();
  c.crypto_backend = &kernel_crypto();
  c.random = &kernel_random();
  return c;
}

void quicbed::kmod::params_of(const qb_conn_params& p, TransportParameters& tp) {
  tp.max_idle_timeout = p.max_idle_timeout_us / 1000;
  tp.max_ack_delay = p.max_ack_delay_us / 1000;
  tp.ack_delay_exponent = p.ack_delay_exponent;
  tp.max_udp_payload_size = p.max_udp_payload_size;
  tp.active_connection_id_limit = p.active_connection_id_limit;
  tp.max_datagram_frame_size = p.max_datagram_frame_size;
  tp.initial_max_data = p.max_data;
  tp.initial_max_stream_data_bidi_local = p.max_stream_data_bidi_local;
  tp.initial_max_stream_data_bidi_remote = p.max_stream_data_bidi_remote;
  tp.initial_max_stream_data_uni = p.max_stream_data_uni;
  tp.initial_max_streams_bidi = p.max_streams_bidi;
  tp.initial_max_streams_uni = p.max_streams_uni;
  tp.disable_active_migration = p.disable_active_migration != 0;
  tp.grease_quic_bit = p.grease_quic_bit != 0;
}


extern "C" {

struct qb_conn* qb_conn_new_on_path(const struct qb_conn_params* p, const struct qb_path* path) {
  ConnectionConfig c = config_of(*p);
  c.path = path_of(*path);
  return make<qb_conn>(kernel_allocator(), c);
}

void qb_conn_free(struct qb_conn* c) { destroy(kernel_allocator(), c); }

int qb_conn_start(struct qb_conn* c, uint64_t now) { return to_errno(c->conn.init(now)); }

void qb_conn_receive(struct qb_conn* c, uint8_t* data, size_t len, uint64_t now) {
  c->conn.receive_datagram(MutBytes(data, len), DatagramInfo{}, now);
}

uint64_t qb_conn_next_timeout(const struct qb_conn* c) { return c->conn.next_timeout(); }

void qb_conn_on_timeout(struct qb_conn* c, uint64_t now) { c->conn.on_timeout(now); }

int qb_conn_state(const struct qb_conn* c) {
  switch (c->conn.state()) {
    case Connection::State::kHandshake: return QB_CONN_HANDSHAKE;
    case Connection::State::kEstablished: return QB_CONN_ESTABLISHED;
    case Connection::State::kClosing: return QB_CONN_CLOSING;
    case Connection::State::kDraining: return QB_CONN_DRAINING;
    case Connection::State::kClosed: return QB_CONN_CLOSED;
  }
  return QB_CONN_CLOSED;
}

void qb_conn_close_info(const struct qb_conn* c, struct qb_close_info* out) {
  const CloseInfo& i = c->conn.close_info();
  out->code = i.error_code;
  out->frame_type = i.frame_type;
  out->app = i.application;
  switch (i.source) {
    case CloseInfo::Source::kLocal: out->source = QB_CLOSE_LOCAL; break;
    case CloseInfo::Source::kPeer: out->source = QB_CLOSE_PEER; break;
    case CloseInfo::Source::kIdleTimeout: out->source = QB_CLOSE_IDLE; break;
    case CloseInfo::Source::kStatelessReset: out->source = QB_CLOSE_RESET; break;
  }
  out->reason = c->events.reason;
  out->reason_len = c->events.reason_len;
}

int qb_conn_local_tp(const struct qb_conn* c, uint8_t* out, size_t cap) {
  Bytes tp = c->tls.local_transport_params();
  if (tp.empty()) return -kENOTCONN;
  if (cap < tp.size()) return -kEINVAL;
  copy_bytes(out, tp.data(), tp.size());
  return static_cast<int>(tp.size());
}

int qb_conn_push_peer_tp(struct qb_conn* c, const uint8_t* ext, size_t len) {
  return to_errno(c->tls.push_peer_transport_params(Bytes(ext, len)));
}

int qb_conn_push_secret(struct qb_conn* c, int level, int send, uint32_t cipher, const uint8_t* secret, size_t len) {
  EncryptionLevel l;
  CipherSuite suite;
  if (!level_from_api(level, &l) || !suite_from_api(cipher, &suite)) return -kEINVAL;
  // The secret buffer is as large as any hash; the suite's hash says how
  // much of it is the secret.
  const size_t n = hash_len(suite_hash(suite));
  if (len < n) return -kEINVAL;
  return to_errno(c->tls.push_secret(l, send ? KeyDirection::kWrite : KeyDirection::kRead, suite, Bytes(secret, n)));
}

int qb_conn_push_crypto(struct qb_conn* c, int level, const uint8_t* data, size_t len) {
  EncryptionLevel l;
  if (!level_from_api(level, &l)) return -kEINVAL;
  return to_errno(c->tls.push_crypto_data(l, Bytes(data, len)));
}

int qb_conn_set_alpn(struct qb_conn* c, const uint8_t* alpn, size_t len) {
  return to_errno(c->tls.set_alpn(Bytes(alpn, len)));
}

void qb_conn_advance_tls(struct qb_conn* c, uint64_t now) { c->conn.advance_tls(now); }

size_t qb_conn_read_handshake(struct qb_conn* c, uint8_t* out, size_t cap, uint8_t* level) {
  PassthroughTls::Chunk chunk = c->tls.read_for_process(MutBytes(out, cap));
  *level = level_to_api(chunk.level);
  return chunk.len;
}

int qb_conn_has_handshake_data(const struct qb_conn* c) { return c->tls.has_data_for_process(); }

int qb_conn_client_alpn(const struct qb_conn* c, uint8_t* out, size_t cap) {
  // RFC 9000 §14.1: what a client's first Initial datagram can carry.
  constexpr size_t kMaxHello = 1500;
  Allocator& a = kernel_allocator();
  auto* hello = static_cast<uint8_t*>(a.allocate(kMaxHello, 1));
  if (!hello) return -kENOMEM;
  const size_t n = c->tls.peek_for_process(MutBytes(hello, kMaxHello));
  Result<size_t> r = client_hello_alpns(Bytes(hello, n), MutBytes(out, cap));
  a.deallocate(hello, kMaxHello);
  return r.is_ok() ? static_cast<int>(*r) : -kEINVAL;
}

void qb_conn_close(struct qb_conn* c, uint64_t app_error, const char* reason, uint64_t now) {
  c->conn.close(app_error, reason, now);
}

void qb_conn_close_tls_alert(struct qb_conn* c, uint8_t alert, const char* reason, size_t reason_len,
                             uint64_t now) {
  // The process's TLS is the connection's TLS session (passthrough_tls.h):
  // its failure closes the connection the way a TLS failure in the core's
  // own hosts does (Connection::advance_tls: CONNECTION_CLOSE 0x1c).
  c->tls.fail(alert, Bytes(reinterpret_cast<const uint8_t*>(reason), reason_len));
  c->conn.advance_tls(now);
  // Past the handshake the session does not fail: the application's close.
  c->conn.close(0, "", now);
}

int64_t qb_conn_stream_open(struct qb_conn* c, int uni) {
  if (!c->conn.handshake_complete()) return -kENOTCONN;
  auto id = c->conn.open_stream(uni ? StreamDir::kUni : StreamDir::kBidi);
  if (!id.is_ok()) return id.status().code() == ErrorCode::kLimitExceeded ? -kEAGAIN : -kEINVAL;
  return static_cast<int64_t>(*id);
}

int qb_conn_stream_write_space(struct qb_conn* c, int64_t id, uint8_t** data, size_t* room) {
  *data = nullptr;
  *room = 0;
  if (id < 0) return -kEINVAL;
  Result<MutBytes> space = c->conn.stream_write_space(static_cast<uint64_t>(id));
  if (!space.is_ok()) return to_errno(space.status());
  *data = space->data();
  *room = space->size();
  return 0;
}

int qb_conn_stream_commit(struct qb_conn* c, int64_t id, size_t n, int fin) {
  if (id < 0) return -kEINVAL;
  return to_errno(c->conn.stream_commit(static_cast<uint64_t>(id), n, fin != 0));
}

namespace {

// Drops `id` from the readable streams (it comes back with its next data).
void unreadable(qb_conn* c, uint64_t id) {
  auto& readable = c->events.readable;
  for (size_t i = 0; i < readable.size(); ++i) {
    if (readable[i] == id) {
      readable.erase(i);
      return;
    }
  }
}

// Whether the stream's end is all that is left to read: taking nothing
// then reports it (and may free the stream).
bool ended(qb_conn* c, uint64_t id) {
  Result<Stream::ReadResult> r = c->conn.stream_consume(id, 0);
  return r.is_ok() && r->fin;
}

}  // namespace

int64_t qb_conn_stream_peek(struct qb_conn* c, int64_t id, const uint8_t** data, struct qb_stream_read* res) {
  auto& readable = c->events.readable;
  *res = qb_stream_read{};
  res->id = -1;
  *data = nullptr;
  if (id >= 0) {
    // More of a stream being read: whatever is contiguous now.
    Result<Bytes> b = c->conn.stream_peek(static_cast<uint64_t>(id));
    if (!b.is_ok() || b->empty()) return 0;
    res->id = id;
    *data = b->data();
    return static_cast<int64_t>(b->size());
  }
  while (!readable.empty()) {
    const uint64_t sid = readable[0];
    // The peer's reset: its code and final size before the read that
    // reports it frees the stream.
    if (Result<uint64_t> code = c->conn.stream_reset_code(sid); code.is_ok()) {
      const Stream* s = c->conn.streams().find(sid);
      res->final_size = s ? s->recv_flow().received() : 0;
      (void)c->conn.stream_read(sid, MutBytes());
      readable.erase(0);
      res->id = static_cast<int64_t>(sid);
      res->reset = 1;
      res->reset_code = *code;
      return 0;
    }
    Result<Bytes> b = c->conn.stream_peek(sid);
    if (b.is_ok() && !b->empty()) {
      res->id = static_cast<int64_t>(sid);
      *data = b->data();
      return static_cast<int64_t>(b->size());
    }
    // No bytes: the end alone (all data read, the FIN here now), else gone
    // or nothing in order yet, and no longer readable.
    const bool end = b.is_ok() && ended(c, sid);
    readable.erase(0);
    if (end) {
      res->id = static_cast<int64_t>(sid);
      res->fin = 1;
      return 0;
    }
  }
  return 0;
}

int qb_conn_stream_consume(struct qb_conn* c, int64_t id, size_t n) {
  if (id < 0) return -kEINVAL;
  const uint64_t sid = static_cast<uint64_t>(id);
  Result<Stream::ReadResult> r = c->conn.stream_consume(sid, n);
  if (!r.is_ok()) return to_errno(r.status());
  // Read out (or freed): no longer readable.
  Result<Bytes> more = r->fin ? Result<Bytes>(Bytes()) : c->conn.stream_peek(sid);
  if (!more.is_ok() || more->empty()) unreadable(c, sid);
  return r->fin ? 1 : 0;
}

int qb_conn_has_stream_data(const struct qb_conn* c) { return !c->events.readable.empty(); }

int qb_conn_send_pending(const struct qb_conn* c) {
  const StreamManager& m = c->conn.streams();
  for (const Stream* s = m.first(); s; s = m.next(s)) {
    if (!s->has_send()) continue;
    // RFC 9000 §3.1: Data Recvd and the reset states owe nothing more.
    const SendState st = s->send_state();
    if (st != SendState::kReady && st != SendState::kSend && st != SendState::kDataSent) continue;
    const SendBuffer& b = s->send_buffer();
    if (b.acked_end() < b.write_end() || (b.finished() && !b.all_acked())) return 1;
  }
  return 0;
}

int qb_conn_stream_reset(struct qb_conn* c, int64_t id, uint64_t app_error) {
  if (id < 0) return -kEINVAL;
  return to_errno(c->conn.stream_reset(static_cast<uint64_t>(id), app_error));
}

int qb_conn_stream_stop_sending(struct qb_conn* c, int64_t id, uint64_t app_error) {
  if (id < 0) return -kEINVAL;
  return to_errno(c->conn.stream_stop_sending(static_cast<uint64_t>(id), app_error));
}

int qb_conn_update_keys(struct qb_conn* c) { return to_errno(c->conn.update_keys()); }

int qb_conn_datagram_send(struct qb_conn* c, const uint8_t* data, size_t len) {
  if (!c->conn.handshake_complete()) return -kENOTCONN;
  if (len > c->conn.max_datagram_payload()) return -kEMSGSIZE;
  return to_errno(c->conn.datagram_send(Bytes(data, len)));
}

int64_t qb_conn_datagram_read(struct qb_conn* c, uint8_t* out, size_t cap, size_t* full) {
  RecordQueue& q = c->events.datagrams;
  if (q.empty()) return -kEAGAIN;
  const Bytes d = q.front().body;
  const size_t n = d.size() < cap ? d.size() : cap;
  copy_bytes(out, d.data(), n);
  *full = d.size();
  q.take(d.size());
  return static_cast<int64_t>(n);
}

int qb_conn_has_datagram(const struct qb_conn* c) { return !c->events.datagrams.empty(); }

int qb_conn_next_event(struct qb_conn* c, struct qb_event* out) { return c->events.changes.take(out) ? 1 : 0; }

uint64_t qb_conn_events_lost(const struct qb_conn* c) { return c->events.changes.lost(); }

int qb_conn_peer_params(const struct qb_conn* c, struct qb_conn_params* out) {
  if (!c->conn.has_peer_params()) return -kENOTCONN;
  const TransportParameters& tp = c->conn.peer_params();
  *out = qb_conn_params{};
  out->server = c->conn.role() == Role::kClient;
  out->max_idle_timeout_us = tp.max_idle_timeout * 1000;
  out->max_ack_delay_us = tp.max_ack_delay * 1000;
  out->ack_delay_exponent = tp.ack_delay_exponent;
  out->max_udp_payload_size = tp.max_udp_payload_size;
  out->active_connection_id_limit = tp.active_connection_id_limit;
  out->max_datagram_frame_size = tp.max_datagram_frame_size;
  out->max_data = tp.initial_max_data;
  out->max_stream_data_bidi_local = tp.initial_max_stream_data_bidi_local;
  out->max_stream_data_bidi_remote = tp.initial_max_stream_data_bidi_remote;
  out->max_stream_data_uni = tp.initial_max_stream_data_uni;
  out->max_streams_bidi = tp.initial_max_streams_bidi;
  out->max_streams_uni = tp.initial_max_streams_uni;
  out->disable_active_migration = tp.disable_active_migration;
  out->grease_quic_bit = tp.grease_quic_bit;
  return 0;
}

}  // extern "C"

namespace quicbed::kmod {

Connection& core_of(qb_conn* c) { return c->conn; }
const Connection& core_of(const qb_conn* c) { return c->conn; }

}  // namespace quicbed::kmod
