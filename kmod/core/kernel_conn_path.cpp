// A socket's connection on network paths (boundary.h, qb_conn_*_path,
// qb_conn_migrate, the server's preferred address): the glue names each
// path by its socket addresses; the core does path validation and
// migration (RFC 9000 §8.2, §9, §9.6).
#include "../boundary.h"
#include "kernel_conn.h"
#include "kernel_conn_core.h"

using namespace quicbed;
using namespace quicbed::kmod;

namespace {

constexpr int kEINVAL = 22, kEAGAIN = 11, kENOENT = 2;

}  // namespace

extern "C" {

void qb_conn_receive_on_path(struct qb_conn* c, uint8_t* data, size_t len, const struct qb_path* path, uint64_t now) {
  Connection& conn = core_of(c);
  const Path p = path_of(*path);
  DatagramInfo info;
  // A connection made without a path (qb_conn_new_session) stays on the one it
  // has: every datagram counts as the active path's.
  if (conn.path().peer.len) info.path = &p;
  conn.receive_datagram(MutBytes(data, len), info, now);
}

size_t qb_conn_write_on_path(struct qb_conn* c, uint8_t* out, size_t cap, uint64_t now, struct qb_path* path,
                             int* active) {
  Connection& conn = core_of(c);
  Path p;
  flush_early_writes(*c, now);  // a client's data from before the handshake
  const size_t n = conn.write_datagram(MutBytes(out, cap), now, &p);
  *active = p == conn.path();
  if (!*active) path_to(p, path);
  return n;
}

void qb_conn_active_path(const struct qb_conn* c, struct qb_path* out) { path_to(core_of(c).path(), out); }

int qb_conn_path_known(const struct qb_conn* c, const struct qb_path* path) {
  return core_of(c).paths().find(path_of(*path)) != Paths::kNone;
}

namespace {

int migrate(struct qb_conn* c, const struct qb_path* path, bool preferred, uint64_t now) {
  const Status s = core_of(c).migrate(path_of(*path), preferred, now);
  if (s.is_ok()) return 0;
  return s.code() == ErrorCode::kLimitExceeded ? -kEAGAIN : -kEINVAL;
}

}  // namespace

int qb_conn_migrate(struct qb_conn* c, const struct qb_path* path, uint64_t now) {
  return migrate(c, path, false, now);
}

int qb_conn_migrate_preferred(struct qb_conn* c, const struct qb_path* path, uint64_t now) {
  return migrate(c, path, true, now);
}

int qb_conn_set_preferred_address(struct qb_conn* c, const struct qb_preferred_address* pa) {
  TransportParameters::PreferredAddress a;
  copy_bytes(a.ipv4_address, pa->ipv4, sizeof a.ipv4_address);
  a.ipv4_port = pa->ipv4_port;
  copy_bytes(a.ipv6_address, pa->ipv6, sizeof a.ipv6_address);
  a.ipv6_port = pa->ipv6_port;
  return core_of(c).set_preferred_address(a).is_ok() ? 0 : -kEINVAL;
}

int qb_conn_peer_preferred_address(const struct qb_conn* c, struct qb_preferred_address* out) {
  const Connection& conn = core_of(c);
  if (!conn.has_peer_params() || !conn.handshake_confirmed()) return -kEAGAIN;
  if (!conn.peer_params().has_preferred_address) return -kENOENT;
  const TransportParameters::PreferredAddress& a = conn.peer_params().preferred_address;
  copy_bytes(out->ipv4, a.ipv4_address, sizeof out->ipv4);
  out->ipv4_port = a.ipv4_port;
  copy_bytes(out->ipv6, a.ipv6_address, sizeof out->ipv6);
  out->ipv6_port = a.ipv6_port;
  return 0;
}

}  // extern "C"
