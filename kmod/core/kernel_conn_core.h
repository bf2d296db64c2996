// What the C++ files of the kernel connection share beyond boundary.h: the
// core's Connection inside a qb_conn (kernel_conn.cpp owns it) and the
// conversion between the glue's paths (socket addresses) and the core's.
#pragma once

#include "../boundary.h"
#include "conn.h"
#include "path.h"

namespace quicbed::kmod {

Connection& core_of(qb_conn* c);
const Connection& core_of(const qb_conn* c);

// A socket address as a path address: the core only compares the bytes,
// and knows where the port is (bytes 2..3 of sockaddr_in and
// sockaddr_in6), so that a NAT rebinding (RFC 9000 §9.4) is told apart.
inline PathAddress path_address_of(const qb_path_addr& a) {
  PathAddress p;
  (void)p.assign(Bytes(a.bytes, a.len <= QB_PATH_ADDR_MAX ? a.len : QB_PATH_ADDR_MAX));
  p.port_at = 2;
  p.port_len = 2;
  return p;
}

inline void path_address_to(const PathAddress& p, qb_path_addr* out) {
  out->len = p.len <= QB_PATH_ADDR_MAX ? p.len : QB_PATH_ADDR_MAX;
  copy_bytes(out->bytes, p.bytes, out->len);
}

inline Path path_of(const qb_path& p) { return Path{path_address_of(p.local), path_address_of(p.peer)}; }

inline void path_to(const Path& p, qb_path* out) {
  path_address_to(p.local, &out->local);
  path_address_to(p.peer, &out->peer);
}

}  // namespace quicbed::kmod
