// What a socket's connection carries from one connection to the next
// (boundary.h, "Sessions"): the server's remembered transport parameters
// for 0-RTT (RFC 9000 §7.4.1, RFC 9001 §4.6), the client's stream data
// written before the handshake, the session tickets a client receives
// (RFC 8446 §4.6.1), and address validation tokens (RFC 9000 §8.1.3): a
// client's from NEW_TOKEN, a server's made and checked here.
#include <cstddef>
#include <cstdint>

#include "../boundary.h"
#include "address_validation.h"
#include "early_data.h"
#include "kernel_allocator.h"
#include "kernel_conn.h"
#include "kernel_crypto.h"
#include "packet.h"

using namespace quicbed;
using namespace quicbed::kmod;

namespace {

constexpr int kEINVAL = 22, kEAGAIN = 11, kENOTCONN = 107;

// A client's address as the glue gives it: IP address bytes, then the
// port (2 bytes); NEW_TOKEN tokens are bound to the IP address.
size_t ip_only(Bytes peer, uint8_t* out) {
  const size_t n = peer.size() >= 2 ? peer.size() - 2 : 0;
  copy_bytes(out, peer.data(), n);
  return n;
}

}  // namespace

// The server's token key and codec, one per module.
struct qb_tokens {
  AddressValidator validator;
};

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
  if (p->server && s->admission) {
    const qb_admission& a = *s->admission;
    c.address_validated = a.validated != 0;
    c.retried = a.retried != 0;
    if (c.retried && !c.retry_original_dcid.assign(Bytes(a.odcid, a.odcid_len))) return nullptr;
  }
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

struct qb_tokens* qb_tokens_new(void) {
  qb_tokens* t = make<qb_tokens>(kernel_allocator());
  if (!t) return nullptr;
  AddressValidationConfig config;
  // Whether to Retry is each listener's call (qb_tokens_admit); tokens of
  // earlier connections skip the amplification limit. The key lives as
  // long as the module, and so the tokens (issue times on the monotonic
  // clock the connections use). NEW_TOKEN tokens are bound to the IP
  // address alone (§8.1.3: the next connection comes from another port).
  config.retry = false;
  config.new_tokens = true;
  config.token_address = ip_only;
  kernel_random().fill(MutBytes(config.token_key, kTokenKeyLen));
  Status s = t->validator.init(kernel_crypto(), config);
  wipe(config.token_key, kTokenKeyLen);
  if (!s.is_ok()) {
    destroy(kernel_allocator(), t);
    return nullptr;
  }
  return t;
}

void qb_tokens_free(struct qb_tokens* t) {
  if (t) destroy(kernel_allocator(), t);
}

int qb_tokens_admit(const struct qb_tokens* t, const uint8_t* dgram, size_t len, const uint8_t* peer,
                    size_t peer_len, int retry, uint64_t now, struct qb_admission* out) {
  *out = qb_admission{};
  Result<PacketHeader> h = parse_packet_header(Bytes(dgram, len), HeaderParseOptions{});
  if (!h.is_ok() || h->type != PacketType::kInitial) return -kEINVAL;
  const Admission a = t->validator.admit(*h, Bytes(peer, peer_len), now);
  out->validated = a.validated;
  out->retried = a.retried;
  out->odcid_len = a.odcid.view().size();
  copy_bytes(out->odcid, a.odcid.view().data(), out->odcid_len);
  if (a.action == Admission::Action::kInvalidToken) {
    out->action = QB_ADMIT_DROP;
  } else if (!a.validated && retry) {
    // §8.1.2: the address is proven by a round trip before any state.
    out->action = QB_ADMIT_RETRY;
  }
  return 0;
}

int qb_tokens_write_retry(const struct qb_tokens* t, const uint8_t* dgram, size_t len, const uint8_t* peer,
                          size_t peer_len, uint64_t now, uint8_t* out, size_t cap) {
  Result<PacketHeader> h = parse_packet_header(Bytes(dgram, len), HeaderParseOptions{});
  if (!h.is_ok() || h->type != PacketType::kInitial) return -kEINVAL;
  // Our connection IDs have the length of the core's default
  // (ConnectionConfig::cid_len), which the socket keeps.
  constexpr size_t kCidLen = 8;
  Result<size_t> n = t->validator.write_retry(MutBytes(out, cap), *h, Bytes(peer, peer_len), kCidLen,
                                              kernel_random(), kernel_allocator(), now);
  return n.is_ok() ? static_cast<int>(*n) : -kEINVAL;
}

int qb_conn_send_token(struct qb_conn* c, const struct qb_tokens* t, const uint8_t* peer, size_t peer_len,
                       uint64_t now) {
  uint8_t token[kMaxOwnTokenLen];
  Result<size_t> n = t->validator.new_token(MutBytes(token), Bytes(peer, peer_len), kernel_random(), now);
  if (!n.is_ok()) return -kEINVAL;
  return c->conn.send_new_token(Bytes(token, *n)).is_ok() ? 0 : -kEINVAL;
}

}  // extern "C"

// Stream data written before the handshake goes once the ClientHello has
// (a 0-RTT packet never precedes the Initial that makes it usable) and the
// connection's streams are usable; called before each datagram is
// written (kernel_conn.cpp, qb_conn_write).
void quicbed::kmod::flush_early_writes(qb_conn& c, uint64_t now) {
  if (c.early.empty() || !c.tls.hello_delivered()) return;
  Status s = c.early.flush(c.conn);
  if (!s.is_ok()) c.conn.close(0, "early stream data refused", now);
}
