// A socket's connection IDs (boundary.h, qb_conn_cid_*, qb_conn_local_cids):
// what QUIC_SOCKOPT_CONNECTION_ID reads and changes (RFC 9000 §5.1), and our
// CIDs for the glue's routing of datagrams from a migrating peer (§9.5).
#include "../boundary.h"
#include "kernel_conn_core.h"

using namespace quicbed;
using namespace quicbed::kmod;

namespace {

constexpr int kEINVAL = 22, kEAGAIN = 11, kENOTCONN = 107;

// The lowest sequence number the peer may still use of ours: those below
// our Retire Prior To are on their way out (§5.1.2).
uint64_t local_first(const LocalCids& l) {
  uint64_t first = ~uint64_t{0};
  for (const LocalCid& c : l.cids()) {
    if (c.sequence >= l.retire_prior_to() && c.sequence < first) first = c.sequence;
  }
  return first == ~uint64_t{0} ? l.retire_prior_to() : first;
}

}  // namespace

extern "C" {

int qb_conn_cid_get(const struct qb_conn* c, int dest, uint64_t* active, uint64_t* prior_to) {
  const Connection& conn = core_of(c);
  if (!conn.handshake_complete()) return -kENOTCONN;
  if (dest) {
    const PeerCids& p = conn.peer_cids();
    const PeerCid* cur = p.current();
    if (!cur) return -kENOTCONN;
    uint64_t first = cur->sequence;
    for (const PeerCid& x : p.cids()) first = x.sequence < first ? x.sequence : first;
    *active = cur->sequence;
    *prior_to = first;
    return 0;
  }
  const LocalCids& l = conn.local_cids();
  *prior_to = local_first(l);
  // The one the peer addresses us with on the active path (§5.1.2: it may
  // change at any time; it lags behind our Retire Prior To until the peer
  // has moved); the lowest usable when it has gone.
  const LocalCid* used = l.find(conn.paths().active().peer_dcid.view());
  *active = used ? used->sequence : *prior_to;
  return 0;
}

int qb_conn_cid_set(struct qb_conn* c, int dest, uint64_t active, uint64_t prior_to) {
  Connection& conn = core_of(c);
  Status s = dest ? conn.use_peer_cid(active) : conn.retire_local_cids(prior_to);
  if (s.is_ok()) return 0;
  return s.code() == ErrorCode::kLimitExceeded ? -kEAGAIN : -kEINVAL;
}

size_t qb_conn_local_cids(const struct qb_conn* c, uint8_t (*out)[QB_CID_MAX], size_t cap, uint8_t* cid_len) {
  size_t n = 0;
  *cid_len = 0;
  for (const LocalCid& x : core_of(c).local_cids().cids()) {
    if (n == cap || x.cid.len > QB_CID_MAX) break;
    copy_bytes(out[n++], x.cid.bytes, x.cid.len);
    *cid_len = x.cid.len;
  }
  return n;
}

uint64_t qb_conn_local_cids_gen(const struct qb_conn* c) {
  // Issuing raises next_sequence; a retirement shrinks the set or raises
  // its lowest number.
  const LocalCids& l = core_of(c).local_cids();
  const uint64_t low = l.cids().empty() ? 0 : l.cids()[0].sequence;
  return l.next_sequence() << 24 ^ uint64_t{l.cids().size()} << 16 ^ low;
}

}  // extern "C"
