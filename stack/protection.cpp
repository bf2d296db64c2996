#include "protection.h"

#include <utility>

namespace quicbed {

namespace {

// RFC 9001 §5.4.2: the sample starts 4 bytes after the Packet Number field,
// as if that field had its maximum length.
constexpr size_t kSampleOffset = kMaxPnLen;

bool has_sample(MutBytes packet, size_t pn_offset) {
  return pn_offset > 0 && packet.size() >= kSampleOffset + kHpSampleLen &&
         pn_offset <= packet.size() - kSampleOffset - kHpSampleLen;
}

// RFC 9001 §5.4.1: long headers protect the Reserved Bits and Packet Number
// Length (4 bits); short headers also the Key Phase bit (5 bits).
uint8_t first_byte_mask(uint8_t first) { return (first & 0x80) ? 0x0f : 0x1f; }

// The layout `apply` needs, checked before anything is written.
Status check_send_layout(MutBytes packet, size_t pn_offset, size_t pn_len) {
  if (pn_len < 1 || pn_len > kMaxPnLen) return Status(ErrorCode::kInvalidArgument, "packet number length");
  if (!has_sample(packet, pn_offset)) {
    return Status(ErrorCode::kInvalidArgument, "packet too short for a header protection sample");
  }
  if (static_cast<size_t>(packet[0] & 0x03) + 1 != pn_len) {
    return Status(ErrorCode::kInvalidArgument, "first byte disagrees with packet number length");
  }
  return Status::ok();
}

}  // namespace

// ---- HeaderProtection ----

HeaderProtection::HeaderProtection(HeaderProtection&& o) { *this = std::move(o); }

HeaderProtection& HeaderProtection::operator=(HeaderProtection&& o) {
  if (this != &o) {
    reset();
    backend_ = std::exchange(o.backend_, nullptr);
    cipher_ = std::exchange(o.cipher_, nullptr);
  }
  return *this;
}

void HeaderProtection::reset() {
  if (cipher_) backend_->free_header_cipher(cipher_);
  cipher_ = nullptr;
  backend_ = nullptr;
}

Status HeaderProtection::init(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v,
                              Bytes secret) {
  reset();
  uint8_t hp[kMaxKeyLen];
  MutBytes hp_key(hp, suite_key_len(suite));
  Status s = derive_hp_key(backend, suite, v, secret, hp_key);
  if (s) {
    cipher_ = backend.new_header_cipher(suite, hp_key);
    if (cipher_) {
      backend_ = &backend;
    } else {
      s = Status(ErrorCode::kCryptoBackend, "header cipher");
    }
  }
  wipe(hp, sizeof hp);
  return s;
}

// The mask is the same both ways (XOR); what differs is when the first
// byte's Packet Number Length bits are readable: before masking when
// protecting, after unmasking when removing protection. Returns that length.
Result<size_t> HeaderProtection::toggle(MutBytes packet, size_t pn_offset, bool protecting) {
  uint8_t mask[5];
  QB_TRY(cipher_->mask(packet.subspan(pn_offset + kSampleOffset, kHpSampleLen), mask));
  size_t pn_len = static_cast<size_t>(packet[0] & 0x03) + 1;
  packet[0] = static_cast<uint8_t>(packet[0] ^ (mask[0] & first_byte_mask(packet[0])));
  if (!protecting) pn_len = static_cast<size_t>(packet[0] & 0x03) + 1;
  for (size_t i = 0; i < pn_len; ++i) packet[pn_offset + i] ^= mask[1 + i];
  return pn_len;
}

Status HeaderProtection::apply(MutBytes packet, size_t pn_offset, size_t pn_len) {
  if (!cipher_) return Status(ErrorCode::kInvalidArgument, "no header protection key");
  QB_TRY(check_send_layout(packet, pn_offset, pn_len));
  return toggle(packet, pn_offset, true).status();
}

Result<PacketNumberField> HeaderProtection::remove(MutBytes packet, size_t pn_offset) {
  if (!cipher_) return Status(ErrorCode::kInvalidArgument, "no header protection key");
  if (!has_sample(packet, pn_offset)) return Status(ErrorCode::kDropPacket, "no complete header protection sample");
  PacketNumberField pn{0, 0};
  QB_ASSIGN_OR_RETURN(pn.len, toggle(packet, pn_offset, false));
  for (size_t i = 0; i < pn.len; ++i) pn.truncated = (pn.truncated << 8) | packet[pn_offset + i];
  return pn;
}

// ---- PayloadProtection ----

PayloadProtection::PayloadProtection(PayloadProtection&& o) { *this = std::move(o); }

PayloadProtection& PayloadProtection::operator=(PayloadProtection&& o) {
  if (this != &o) {
    reset();
    backend_ = std::exchange(o.backend_, nullptr);
    aead_ = std::exchange(o.aead_, nullptr);
    version_ = o.version_;
    suite_ = o.suite_;
    copy_bytes(iv_, o.iv_, sizeof iv_);
    secret_ = o.secret_;
    sealed_ = o.sealed_;
    o.reset();
  }
  return *this;
}

void PayloadProtection::reset() {
  if (aead_) backend_->free_aead(aead_);
  aead_ = nullptr;
  backend_ = nullptr;
  version_ = nullptr;
  sealed_ = 0;
  wipe(iv_, sizeof iv_);
  wipe(&secret_, sizeof secret_);
}

Status PayloadProtection::init(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v,
                               Bytes secret) {
  reset();
  if (secret.size() != hash_len(suite_hash(suite))) {
    return Status(ErrorCode::kInvalidArgument, "secret length");
  }
  uint8_t key[kMaxKeyLen];
  MutBytes aead_key(key, suite_key_len(suite));
  Status s = derive_key_iv(backend, suite, v, secret, aead_key, MutBytes(iv_, sizeof iv_));
  if (s) {
    aead_ = backend.new_aead(suite, aead_key);
    if (!aead_) s = Status(ErrorCode::kCryptoBackend, "AEAD");
  }
  wipe(key, sizeof key);
  if (!s) {
    reset();
    return s;
  }
  backend_ = &backend;
  version_ = &v;
  suite_ = suite;
  return secret_.assign(secret);
}

Status PayloadProtection::next_generation(PayloadProtection& next) const {
  if (!aead_) return Status(ErrorCode::kInvalidArgument, "no packet protection key");
  // Copied out first: `next` may be this object, and init() resets it.
  CryptoBackend& backend = *backend_;
  const CipherSuite suite = suite_;
  const VersionCrypto& v = *version_;
  QB_ASSIGN_OR_RETURN(Secret s, next_generation_secret(backend, suite, v, secret_.bytes()));
  Status st = next.init(backend, suite, v, s.bytes());
  wipe(&s, sizeof s);
  return st;
}

// RFC 9001 §5.3: the 62-bit packet number, left-padded to the IV's size, is
// XORed with the IV.
void PayloadProtection::make_nonce(uint64_t pn, uint8_t nonce[kAeadIvLen]) const {
  copy_bytes(nonce, iv_, kAeadIvLen);
  for (size_t i = 0; i < 8; ++i) nonce[kAeadIvLen - 1 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
}

Status PayloadProtection::seal(MutBytes packet, size_t header_len, uint64_t pn) {
  if (!aead_) return Status(ErrorCode::kInvalidArgument, "no packet protection key");
  if (packet.size() < kAeadTagLen || header_len > packet.size() - kAeadTagLen) {
    return Status(ErrorCode::kInvalidArgument, "no room for the AEAD tag");
  }
  uint8_t nonce[kAeadIvLen];
  make_nonce(pn, nonce);
  MutBytes body = packet.subspan(header_len);
  // RFC 9001 §6.6: every packet sealed counts toward the key's
  // confidentiality limit, whether or not it is ever sent.
  ++sealed_;
  return aead_->seal(Bytes(nonce, sizeof nonce), packet.first(header_len), body.first(body.size() - kAeadTagLen),
                     body);
}

Result<MutBytes> PayloadProtection::open(MutBytes packet, size_t header_len, uint64_t pn) {
  if (!aead_) return Status(ErrorCode::kInvalidArgument, "no packet protection key");
  if (packet.size() < kAeadTagLen || header_len > packet.size() - kAeadTagLen) {
    return Status(ErrorCode::kDropPacket, "packet shorter than the AEAD tag");
  }
  uint8_t nonce[kAeadIvLen];
  make_nonce(pn, nonce);
  MutBytes body = packet.subspan(header_len);
  MutBytes plaintext = body.first(body.size() - kAeadTagLen);
  QB_TRY(aead_->open(Bytes(nonce, sizeof nonce), packet.first(header_len), body, plaintext));
  return plaintext;
}

// ---- PacketProtection ----

Status PacketProtection::init(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret) {
  Status s = header_.init(backend, suite, v, secret);
  if (s) s = payload_.init(backend, suite, v, secret);
  if (!s) {
    header_.reset();
    payload_.reset();
  }
  return s;
}

Status PacketProtection::protect(MutBytes packet, size_t pn_offset, size_t pn_len, uint64_t pn) {
  if (!ready()) return Status(ErrorCode::kInvalidArgument, "no packet protection keys");
  QB_TRY(check_send_layout(packet, pn_offset, pn_len));
  QB_TRY(payload_.seal(packet, pn_offset + pn_len, pn));
  return header_.apply(packet, pn_offset, pn_len);
}

Status PacketProtection::update_keys() {
  PayloadProtection next;
  QB_TRY(payload_.next_generation(next));
  payload_ = std::move(next);
  return Status::ok();
}

// ---- Retry integrity ----

namespace {

// Returns the backend's AEAD and the pseudo-packet's memory on every path.
struct RetryScratch {
  CryptoBackend& backend;
  Allocator& alloc;
  Aead* aead = nullptr;
  uint8_t* buf = nullptr;
  size_t len = 0;
  ~RetryScratch() {
    if (aead) backend.free_aead(aead);
    if (buf) alloc.deallocate(buf, len);
  }
};

}  // namespace

Status compute_retry_tag(CryptoBackend& backend, Allocator& alloc, const VersionCrypto& v, Bytes odcid,
                         Bytes retry_without_tag, MutBytes tag) {
  if (odcid.size() > kMaxCidLen) return Status(ErrorCode::kInvalidArgument, "ODCID longer than 20 bytes");
  if (tag.size() != kAeadTagLen) return Status(ErrorCode::kInvalidArgument, "tag length");
  RetryScratch scratch{backend, alloc};
  scratch.len = 1 + odcid.size() + retry_without_tag.size();
  scratch.buf = static_cast<uint8_t*>(alloc.allocate(scratch.len, 1));
  if (!scratch.buf) return Status(ErrorCode::kNoMemory, "retry pseudo-packet");
  Writer w(MutBytes(scratch.buf, scratch.len));
  QB_TRY(w.u8(static_cast<uint8_t>(odcid.size())));
  QB_TRY(w.bytes(odcid));
  QB_TRY(w.bytes(retry_without_tag));

  static_assert(sizeof(VersionCrypto::retry_key) == suite_key_len(CipherSuite::kAes128GcmSha256));
  scratch.aead = backend.new_aead(CipherSuite::kAes128GcmSha256, Bytes(v.retry_key, sizeof v.retry_key));
  if (!scratch.aead) return Status(ErrorCode::kCryptoBackend, "retry AEAD");
  return scratch.aead->seal(Bytes(v.retry_nonce, sizeof v.retry_nonce), w.written(), Bytes(), tag);
}

Status verify_retry_tag(CryptoBackend& backend, Allocator& alloc, const VersionCrypto& v, Bytes odcid,
                        Bytes retry) {
  if (retry.size() < kAeadTagLen) return Status(ErrorCode::kDropPacket, "Retry shorter than its tag");
  uint8_t tag[kAeadTagLen];
  Bytes body = retry.first(retry.size() - kAeadTagLen);
  QB_TRY(compute_retry_tag(backend, alloc, v, odcid, body, MutBytes(tag, sizeof tag)));
  if (!bytes_equal(Bytes(tag, sizeof tag), retry.last(kAeadTagLen))) {
    return Status(ErrorCode::kDropPacket, "Retry integrity tag mismatch");
  }
  return Status::ok();
}

}  // namespace quicbed
