#include "token.h"

#include "base/fixed_point.h"
#include "keys.h"  // wipe

namespace quicbed {
namespace {

constexpr ErrorCode kInvalid = ErrorCode::kInvalidToken;
// Addresses the associated data holds (a sockaddr_in6 is 28 bytes).
constexpr size_t kMaxAddressLen = 64;
constexpr size_t kMaxAadLen = 1 + 4 + kMaxAddressLen;
constexpr size_t kMaxPlainLen = 8 + 1 + kMaxCidLen + 1 + kMaxCidLen;
// RFC 5869 info string separating this key from any other use of the secret.
constexpr char kKeyInfo[] = "quicbed address validation token";
// A token issued "in the future" by more than this is refused: the host's
// clock never runs backwards, so only a forged time could say so.
constexpr uint64_t kClockSlackUs = 1'000'000;

bool known_kind(uint8_t b) {
  return b == static_cast<uint8_t>(TokenKind::kRetry) || b == static_cast<uint8_t>(TokenKind::kNewToken);
}

Status write_cid(Writer& w, const ConnectionId& cid) {
  QB_TRY(w.u8(cid.len));
  return w.bytes(cid.view());
}

Status read_cid(Reader& r, ConnectionId& cid) {
  QB_ASSIGN_OR_RETURN(uint8_t len, r.u8(kInvalid));
  QB_ASSIGN_OR_RETURN(Bytes b, r.bytes(len, kInvalid));
  if (!cid.assign(b)) return Status(kInvalid, "token connection ID too long");
  return Status::ok();
}

}  // namespace

Status TokenCodec::init(CryptoBackend& backend, Bytes key) {
  reset();
  if (key.size() != kTokenKeyLen) return Status(ErrorCode::kInvalidArgument, "token key length");
  uint8_t aead_key[16];
  const Bytes info(reinterpret_cast<const uint8_t*>(kKeyInfo), sizeof kKeyInfo - 1);
  Status s = backend.hkdf_expand(HashAlg::kSha256, key, info, MutBytes(aead_key));
  if (s) {
    aead_ = backend.new_aead(CipherSuite::kAes128GcmSha256, Bytes(aead_key));
    if (!aead_) s = Status(ErrorCode::kNoMemory, "token AEAD");
  }
  wipe(aead_key, sizeof aead_key);
  if (aead_) backend_ = &backend;
  return s;
}

void TokenCodec::reset() {
  if (aead_) backend_->free_aead(aead_);
  aead_ = nullptr;
  backend_ = nullptr;
}

bool TokenCodec::peek_kind(Bytes token, TokenKind* kind) {
  if (token.empty() || !known_kind(token[0])) return false;
  *kind = static_cast<TokenKind>(token[0]);
  return true;
}

Result<size_t> TokenCodec::aad(TokenKind kind, uint32_t version, Bytes address, MutBytes out) {
  if (address.size() > kMaxAddressLen) return Status(ErrorCode::kInvalidArgument, "address too long for a token");
  Writer w(out);
  QB_TRY(w.u8(static_cast<uint8_t>(kind)));
  QB_TRY(w.u32(version));
  QB_TRY(w.bytes(address));
  return w.position();
}

Result<size_t> TokenCodec::seal(const TokenContent& c, uint32_t version, Bytes address, Bytes nonce,
                                MutBytes out) const {
  if (!aead_) return Status(ErrorCode::kInvalidArgument, "token key not set");
  if (nonce.size() != kTokenNonceLen) return Status(ErrorCode::kInvalidArgument, "token nonce length");
  uint8_t aad_buf[kMaxAadLen];
  QB_ASSIGN_OR_RETURN(size_t aad_len, aad(c.kind, version, address, MutBytes(aad_buf)));

  uint8_t plain[kMaxPlainLen];
  Writer p{MutBytes(plain)};
  QB_TRY(p.be(c.issued, 8));
  QB_TRY(write_cid(p, c.odcid));
  QB_TRY(write_cid(p, c.rscid));

  Writer w(out);
  QB_TRY(w.u8(static_cast<uint8_t>(c.kind)));
  QB_TRY(w.bytes(nonce));
  const size_t sealed_len = p.position() + kAeadTagLen;
  if (w.remaining() < sealed_len) return ErrorCode::kBufferTooSmall;
  QB_TRY(aead_->seal(nonce, Bytes(aad_buf, aad_len), p.written(), MutBytes(w.cursor(), sealed_len)));
  QB_TRY(w.advance(sealed_len));
  return w.position();
}

Result<TokenContent> TokenCodec::open(Bytes token, uint32_t version, Bytes address, uint64_t now,
                                      const TokenLifetimes& lifetimes) const {
  if (!aead_) return Status(kInvalid, "token key not set");
  TokenKind kind;
  if (!peek_kind(token, &kind)) return Status(kInvalid, "not a token of ours");
  if (token.size() < 1 + kTokenNonceLen + kAeadTagLen + 8 + 2 ||
      token.size() > 1 + kTokenNonceLen + kMaxPlainLen + kAeadTagLen) {
    return Status(kInvalid, "token length");
  }
  uint8_t aad_buf[kMaxAadLen];
  Result<size_t> aad_len = aad(kind, version, address, MutBytes(aad_buf));
  if (!aad_len) return Status(kInvalid, "address too long for a token");
  const Bytes nonce = token.subspan(1, kTokenNonceLen);
  const Bytes sealed = token.subspan(1 + kTokenNonceLen);
  uint8_t plain[kMaxPlainLen];
  const size_t plain_len = sealed.size() - kAeadTagLen;
  // Another address, version or kind, or a forged or altered token: the
  // tag does not match.
  if (!aead_->open(nonce, Bytes(aad_buf, *aad_len), sealed, MutBytes(plain, plain_len))) {
    return Status(kInvalid, "token does not authenticate (another address, version or key)");
  }
  TokenContent c;
  c.kind = kind;
  Reader r(Bytes(plain, plain_len));
  QB_ASSIGN_OR_RETURN(uint32_t issued_hi, r.u32(kInvalid));
  QB_ASSIGN_OR_RETURN(uint32_t issued_lo, r.u32(kInvalid));
  c.issued = uint64_t{issued_hi} << 32 | issued_lo;
  QB_TRY(read_cid(r, c.odcid));
  QB_TRY(read_cid(r, c.rscid));
  if (!r.empty()) return Status(kInvalid, "token has trailing bytes");
  const uint64_t lifetime = kind == TokenKind::kRetry ? lifetimes.retry_us : lifetimes.new_token_us;
  if (c.issued > sat_add(now, kClockSlackUs)) return Status(kInvalid, "token issued in the future");
  if (now > sat_add(c.issued, lifetime)) return Status(kInvalid, "token expired");
  return c;
}

}  // namespace quicbed
