// A kernel server's stateless answers (boundary.h, qb_stateless_*): what a
// datagram from a peer with no connection gets before any state is kept.
// The core's packet writers and AddressValidator (the userspace Endpoint's
// too) do the work: this decides which applies.
#include <cstddef>
#include <cstdint>
#include <span>

#include "../boundary.h"
#include "address_validation.h"
#include "base/allocator.h"
#include "kernel_allocator.h"
#include "kernel_crypto.h"
#include "kernel_random.h"
#include "packet.h"
#include "refusal.h"
#include "version.h"

struct qb_stateless {
  quicbed::AddressValidator validator;
};

namespace {

using namespace quicbed;
using namespace quicbed::kmod;

// RFC 9000 §7.2: a client's first Destination Connection ID is at least 8
// bytes; §14.1: its first Initial comes in a datagram of at least 1200.
constexpr size_t kMinClientDcidLen = 8;
constexpr size_t kMinInitialDatagram = 1200;
// The length of the Source Connection ID a Retry (§17.2.5) or a refusal
// chooses; the connection's own IDs are as long.
constexpr size_t kRetryScidLen = 8;

// §6.1, §17.2.1: the versions we speak, and a reserved one (§6.3) so that
// clients keep ignoring versions they do not know; the client's connection
// IDs come back swapped (§6.2).
size_t write_vn(const PacketHeader& h, MutBytes out) {
  uint8_t random[5];
  kernel_random().fill(MutBytes(random, sizeof(random)));
  const uint32_t grease = greased_version(uint32_t{random[1]} << 24 | uint32_t{random[2]} << 16 |
                                          uint32_t{random[3]} << 8 | random[4]);
  // The reserved version first or last, by a random bit.
  const uint32_t first[3] = {grease, kVersion1, kVersion2};
  const uint32_t last[3] = {kVersion1, kVersion2, grease};
  Writer w{out};
  const Status s = write_version_negotiation(w, random[0], h.scid, h.dcid,
                                             std::span<const uint32_t>((random[4] & 1) ? first : last, 3));
  return s.is_ok() ? w.position() : 0;
}

// The client's address as the glue gives it: IP address bytes, then the
// port (2 bytes).
size_t ip_only(Bytes peer, uint8_t* out) {
  const size_t n = peer.size() >= 2 ? peer.size() - 2 : 0;
  copy_bytes(out, peer.data(), n);
  return n;
}

}  // namespace

extern "C" {

struct qb_stateless* qb_stateless_new(void) {
  qb_stateless* s = make<qb_stateless>(kernel_allocator());
  if (!s) return nullptr;
  AddressValidationConfig c;
  // Tokens are ours alone and live as long as the module: a per-load key,
  // and the monotonic `now` as their clock (address_validation.h).
  c.retry = true;  // asked per call: an Initial without a token gets kRetry
  // NEW_TOKEN tokens (session.c) are bound to the IP address alone: the
  // client's next connection comes from another port (§8.1.3).
  c.token_address = ip_only;
  kernel_random().fill(MutBytes(c.token_key, kTokenKeyLen));
  if (!s->validator.init(kernel_crypto(), c)) {
    destroy(kernel_allocator(), s);
    return nullptr;
  }
  return s;
}

void qb_stateless_free(struct qb_stateless* s) { destroy(kernel_allocator(), s); }

int qb_stateless_new_token(struct qb_stateless* s, const uint8_t* peer, size_t peer_len, uint64_t now, uint8_t* out,
                           size_t cap) {
  constexpr int kEINVAL = 22;
  if (cap < kMaxOwnTokenLen) return -kEINVAL;
  Result<size_t> n = s->validator.new_token(MutBytes(out, cap), Bytes(peer, peer_len), kernel_random(), now);
  return n.is_ok() ? static_cast<int>(*n) : -kEINVAL;
}

void qb_stateless_first(struct qb_stateless* s, const uint8_t* pkt, size_t len, const uint8_t* peer, size_t peer_len,
                        int retry, uint64_t now, uint8_t* reply, struct qb_first* out) {
  *out = qb_first{};
  out->action = QB_FIRST_DROP;
  Result<PacketHeader> parsed = parse_packet_header(Bytes(pkt, len), HeaderParseOptions{});
  // §5.2.2: only a long header can start a connection; a server never
  // answers Version Negotiation (§6.1).
  if (!parsed || parsed->form != HeaderForm::kLong || parsed->version == kVersionNegotiationVersion) return;
  const PacketHeader& h = *parsed;
  if (h.has_invariants_only()) {
    // §6.1: only datagrams that could carry a first Initial are answered,
    // so that Version Negotiation never amplifies.
    if (len < kMinInitialDatagram) return;
    out->reply_len = write_vn(h, MutBytes(reply, QB_STATELESS_REPLY_MAX));
    if (out->reply_len) out->action = QB_FIRST_REPLY;
    out->reply_kind = QB_REPLY_VERSION_NEGOTIATION;
    return;
  }
  if (h.type != PacketType::kInitial || len < kMinInitialDatagram || h.dcid.size() < kMinClientDcidLen) return;
  const Admission a = s->validator.admit(h, Bytes(peer, peer_len), now);
  switch (a.action) {
    case Admission::Action::kInvalidToken: {
      // §8.1.2: a Retry token that fails "MUST ... immediately close ...
      // INVALID_TOKEN": the client takes no second Retry.
      Result<size_t> n = write_initial_refusal(MutBytes(reply, QB_STATELESS_REPLY_MAX), h, ErrorCode::kInvalidToken,
                                               kRetryScidLen, kernel_crypto(), kernel_random());
      if (!n) return;
      out->action = QB_FIRST_REPLY;
      out->reply_len = *n;
      out->reply_kind = QB_REPLY_INVALID_TOKEN;
      return;
    }
    case Admission::Action::kRetry:
      if (retry) {
        Result<size_t> n = s->validator.write_retry(MutBytes(reply, QB_STATELESS_REPLY_MAX), h,
                                                    Bytes(peer, peer_len), kRetryScidLen, kernel_random(),
                                                    kernel_allocator(), now);
        if (!n) return;
        out->action = QB_FIRST_REPLY;
        out->reply_len = *n;
        out->reply_kind = QB_REPLY_RETRY;
        return;
      }
      break;  // not asked for: a connection whose address is not validated yet
    case Admission::Action::kAccept:
      break;
  }
  out->action = QB_FIRST_ACCEPT;
  out->validated = a.validated;
  out->retried = a.retried;
  if (a.retried) {
    out->odcid_len = a.odcid.len;
    copy_bytes(out->odcid, a.odcid.bytes, a.odcid.len);
  }
}

}  // extern "C"
