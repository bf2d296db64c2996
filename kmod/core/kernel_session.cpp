// What a socket's connection carries from one connection to the next
// (boundary.h, "Sessions"): the server's remembered transport parameters
// for 0-RTT (RFC 9000 §7.4.1, RFC 9001 §4.6), the client's stream data
// written before the handshake, the session tickets a client receives
// (RFC 8446 §4.6.1), and NEW_TOKEN tokens (RFC 9000 §8.1.3): a client's to
// keep, a server's to send (made and checked by core/stateless.cpp).
#include <cstddef>
#include <cstdint>

#include "../boundary.h"
#include "early_data.h"
#include "kernel_allocator.h"
#include "kernel_conn.h"
#include "kernel_conn_core.h"

using namespace quicbed;
using namespace quicbed::kmod;

namespace {

constexpr int kEINVAL = 22, kEAGAIN = 11, kENOTCONN = 107;

}  // namespace

extern "C" {

struct qb_conn* qb_conn_new_session(const struct qb_conn_params* p, const struct qb_session_params* s) {
  ConnectionConfig c = config_of(*p);
  TransportParameters remembered;
  if (s->remembered && !p->server) {
    // RFC 9000 §7.4.1: those the client remembers, in the core's units.
    params_of(*s->remembered, remembered);
    remembered = remembered_for_zero_rtt(remembered);
    c.zero_rtt_params = &remembered;  // copied by the constructor
  }
  if (s->token_len && !p->server) c.token = Bytes(s->token, s->token_len);  // copied by init()
  if (s->path) c.path = path_of(*s->path);
  return make<qb_conn>(kernel_allocator(), c);
}

int qb_conn_is_server(const struct qb_conn* c) { return c->conn.role() == Role::kServer; }

int64_t qb_conn_early_write(struct qb_conn* c, int64_t sid, int open, int uni, int fin, const uint8_t* data,
                            size_t len) {
  if (c->conn.role() == Role::kServer || c->conn.state() != Connection::State::kHandshake) return -kENOTCONN;
  Result<uint64_t> id = c->early.push(sid, open != 0, uni != 0, fin != 0, Bytes(data, len));
  if (!id.is_ok()) return id.status().code() == ErrorCode::kLimitExceeded ? -kEAGAIN : -kEINVAL;
  return static_cast<int64_t>(*id);
}

int qb_conn_session_pending(const struct qb_conn* c) {
  return !c->tls.ticket().empty() || c->events.new_token_len != 0;
}

size_t qb_conn_take_ticket(struct qb_conn* c, uint8_t* out, size_t cap) {
  const Bytes t = c->tls.ticket();
  const size_t n = t.size() <= cap ? t.size() : 0;
  copy_bytes(out, t.data(), n);
  c->tls.take_ticket();
  return n;
}

size_t qb_conn_take_new_token(struct qb_conn* c, uint8_t* out, size_t cap) {
  ConnEvents& e = c->events;
  const size_t n = e.new_token_len <= cap ? e.new_token_len : 0;
  copy_bytes(out, e.new_token, n);
  e.new_token_len = 0;
  return n;
}

uint64_t qb_conn_zero_rtt_packets(const struct qb_conn* c) { return c->conn.zero_rtt_packets(); }

uint64_t qb_conn_keyless_drops(const struct qb_conn* c, int one_rtt) {
  return one_rtt ? c->conn.one_rtt_keyless_drops() : c->conn.keyless_drops();
}

int qb_conn_send_token(struct qb_conn* c, const uint8_t* token, size_t len) {
  return c->conn.send_new_token(Bytes(token, len)).is_ok() ? 0 : -kEINVAL;
}

}  // extern "C"

// Stream data written before the handshake goes once the ClientHello has
// (a 0-RTT packet never precedes the Initial that makes it usable) and the
// connection's streams are usable; called before each datagram is
// written (kernel_conn_path.cpp, qb_conn_write_on_path).
void quicbed::kmod::flush_early_writes(qb_conn& c, uint64_t now) {
  if (c.early.empty() || !c.tls.hello_delivered()) return;
  Status s = c.early.flush(c.conn);
  if (!s.is_ok()) c.conn.close(0, "early stream data refused", now);
}
