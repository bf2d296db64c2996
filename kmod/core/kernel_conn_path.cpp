// A socket's connection on network paths (boundary.h, qb_conn_*_path,
// qb_conn_migrate): the glue names each path by its socket addresses; the
// core does path validation and migration (RFC 9000 §8.2, §9).
#include "../boundary.h"
#include "kernel_conn.h"
#include "kernel_conn_core.h"

using namespace quicbed;
using namespace quicbed::kmod;

namespace {

constexpr int kEINVAL = 22, kEAGAIN = 11;

}  // namespace

extern "C" {

void qb_conn_receive_on_path(struct qb_conn* c, uint8_t* data, size_t len, const struct qb_path* path, uint64_t now) {
  Connection& conn = core_of(c);
  const Path p = path_of(*path);
  DatagramInfo info;
  // A connection made without a path (qb_conn_new) stays on the one it
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

int qb_conn_migrate(struct qb_conn* c, const struct qb_path* path, uint64_t now) {
  const Status s = core_of(c).migrate(path_of(*path), false, now);
  if (s.is_ok()) return 0;
  return s.code() == ErrorCode::kLimitExceeded ? -kEAGAIN : -kEINVAL;
}

}  // extern "C"
