#include "address_validation.h"

#include "keys.h"
#include "protection.h"

namespace quicbed {
namespace {

// NEW_TOKEN tokens name no version: the client's next connection may start
// in the version the last one was moved away from (RFC 9368 §2.3), and
// either way it proves the same address. Retry tokens are bound to the
// version of the Initial they answer, which the next Initial repeats.
constexpr uint32_t kAnyVersion = 0;

}  // namespace

Status AddressValidator::init(CryptoBackend& backend, const AddressValidationConfig& config) {
  backend_ = &backend;
  config_ = config;
  return codec_.init(backend, Bytes(config.token_key, kTokenKeyLen));
}

Bytes AddressValidator::token_address(Bytes peer, uint8_t* buf) const {
  if (!config_.token_address) return peer;
  const size_t n = config_.token_address(peer, buf);
  return Bytes(buf, n <= kMaxTokenAddressLen ? n : kMaxTokenAddressLen);
}

Admission AddressValidator::admit(const PacketHeader& h, Bytes peer, uint64_t now) const {
  Admission a;
  TokenKind kind;
  const bool ours = TokenCodec::peek_kind(h.token, &kind);
  if (ours && kind == TokenKind::kRetry) {
    Result<TokenContent> c = codec_.open(h.token, h.version, peer, token_time(now), config_.lifetimes);
    // §17.2.5.2: the Initial after a Retry is addressed to the Retry's
    // Source Connection ID, which the token names.
    if (!c || !bytes_equal(c->rscid.view(), h.dcid)) {
      a.action = Admission::Action::kInvalidToken;
      return a;
    }
    a.validated = true;
    a.retried = true;
    a.odcid = c->odcid;
    return a;
  }
  if (ours && kind == TokenKind::kNewToken) {
    uint8_t buf[kMaxTokenAddressLen];
    // §8.1.3: a token of an earlier connection proves the address, if it
    // is still good; otherwise it is as if there were none.
    a.validated =
        codec_.open(h.token, kAnyVersion, token_address(peer, buf), token_time(now), config_.lifetimes).is_ok();
  }
  if (!a.validated && config_.retry) a.action = Admission::Action::kRetry;
  return a;
}

Result<size_t> AddressValidator::write_retry(MutBytes out, const PacketHeader& h, Bytes peer, size_t cid_len,
                                             Random& random, Allocator& alloc, uint64_t now) const {
  const VersionCrypto* vc = version_crypto(h.version);
  if (!vc || cid_len > kMaxCidLen) return Status(ErrorCode::kInvalidArgument, "retry version or CID length");
  TokenContent c;
  c.kind = TokenKind::kRetry;
  c.issued = token_time(now);
  if (!c.odcid.assign(h.dcid)) return Status(ErrorCode::kInvalidArgument, "client DCID too long");
  // §7.2: a new connection ID of ours, which the client's next Initial
  // addresses. It must differ from the client's DCID (§17.2.5.2).
  c.rscid.len = static_cast<uint8_t>(cid_len);
  do {
    random.fill(MutBytes(c.rscid.bytes, cid_len));
  } while (cid_len && bytes_equal(c.rscid.view(), h.dcid));
  uint8_t nonce[kTokenNonceLen];
  random.fill(MutBytes(nonce));
  uint8_t token[kMaxOwnTokenLen];
  QB_ASSIGN_OR_RETURN(size_t token_len, codec_.seal(c, h.version, peer, Bytes(nonce), MutBytes(token)));

  uint8_t unused = 0;
  random.fill(MutBytes(&unused, 1));
  Writer w(out);
  // §17.2.5: back to the client's Source Connection ID.
  QB_TRY(write_retry_without_tag(w, h.version, unused, h.scid, c.rscid.view(), Bytes(token, token_len)));
  const size_t len = w.position();
  QB_TRY(w.advance(kRetryIntegrityTagLen));
  QB_TRY(compute_retry_tag(*backend_, alloc, *vc, h.dcid, out.first(len), out.subspan(len, kRetryIntegrityTagLen)));
  return w.position();
}

Result<size_t> AddressValidator::new_token(MutBytes out, Bytes peer, Random& random, uint64_t now) const {
  TokenContent c;
  c.kind = TokenKind::kNewToken;
  c.issued = token_time(now);
  uint8_t nonce[kTokenNonceLen];
  random.fill(MutBytes(nonce));
  uint8_t buf[kMaxTokenAddressLen];
  return codec_.seal(c, kAnyVersion, token_address(peer, buf), Bytes(nonce), out);
}

}  // namespace quicbed
