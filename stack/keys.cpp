#include "keys.h"

namespace quicbed {

namespace {

constexpr VersionCrypto kVersions[] = {
    // RFC 9001 §5.1, §5.2, §5.8.
    {kVersion1,
     {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
     "quic key",
     "quic iv",
     "quic hp",
     "quic ku",
     {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e},
     {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb}},
    // RFC 9369 §3.3.1-§3.3.3.
    {kVersion2,
     {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
     "quicv2 key",
     "quicv2 iv",
     "quicv2 hp",
     "quicv2 ku",
     {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92},
     {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a}},
};

constexpr char kTls13Prefix[] = "tls13 ";
constexpr size_t kTls13PrefixLen = sizeof(kTls13Prefix) - 1;

// Length of `s`, or `limit` if it is at least that long (no strlen: the core
// links against nothing but mem*).
size_t bounded_strlen(const char* s, size_t limit) {
  size_t n = 0;
  while (n < limit && s[n] != '\0') ++n;
  return n;
}

Bytes as_bytes(const char* s, size_t n) { return Bytes(reinterpret_cast<const uint8_t*>(s), n); }

Result<Secret> expand_secret(CryptoBackend& backend, HashAlg hash, Bytes secret, const char* label) {
  Secret out;
  out.len = hash_len(hash);
  QB_TRY(hkdf_expand_label(backend, hash, secret, label, Bytes(), MutBytes(out.data, out.len)));
  return out;
}

}  // namespace

Status Secret::assign(Bytes b) {
  if (b.size() > sizeof data) return Status(ErrorCode::kInvalidArgument, "secret longer than any hash");
  copy_bytes(data, b.data(), b.size());
  len = b.size();
  return Status::ok();
}

Status hkdf_expand_label(CryptoBackend& backend, HashAlg hash, Bytes secret, const char* label,
                         Bytes context, MutBytes out) {
  size_t label_len = bounded_strlen(label, kMaxHkdfLabelLen + 1);
  if (label_len == 0 || label_len > kMaxHkdfLabelLen) {
    return Status(ErrorCode::kInvalidArgument, "HKDF label length");
  }
  if (context.size() > kMaxHkdfContextLen) return Status(ErrorCode::kInvalidArgument, "HKDF context length");
  // RFC 5869 §2.3: HKDF-Expand yields at most 255 * HashLen bytes.
  if (out.empty() || out.size() > 255 * hash_len(hash)) {
    return Status(ErrorCode::kInvalidArgument, "HKDF output length");
  }

  uint8_t info[2 + 1 + kTls13PrefixLen + kMaxHkdfLabelLen + 1 + kMaxHkdfContextLen];
  Writer w(MutBytes(info, sizeof info));
  QB_TRY(w.u16(static_cast<uint16_t>(out.size())));
  QB_TRY(w.u8(static_cast<uint8_t>(kTls13PrefixLen + label_len)));
  QB_TRY(w.bytes(as_bytes(kTls13Prefix, kTls13PrefixLen)));
  QB_TRY(w.bytes(as_bytes(label, label_len)));
  QB_TRY(w.u8(static_cast<uint8_t>(context.size())));
  QB_TRY(w.bytes(context));
  return backend.hkdf_expand(hash, secret, w.written(), out);
}

const VersionCrypto* version_crypto(uint32_t version) {
  for (const VersionCrypto& v : kVersions) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

Result<InitialSecrets> derive_initial_secrets(CryptoBackend& backend, const VersionCrypto& v,
                                              Bytes client_dcid) {
  constexpr HashAlg kHash = suite_hash(kInitialSuite);
  uint8_t initial[hash_len(kHash)];
  QB_TRY(backend.hkdf_extract(kHash, Bytes(v.initial_salt, sizeof v.initial_salt), client_dcid,
                              MutBytes(initial, sizeof initial)));
  Bytes initial_secret(initial, sizeof initial);
  auto client = expand_secret(backend, kHash, initial_secret, "client in");
  auto server = expand_secret(backend, kHash, initial_secret, "server in");
  wipe(initial, sizeof initial);
  if (!client) return client.status();
  if (!server) return server.status();
  return InitialSecrets{*client, *server};
}

Status derive_key_iv(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret,
                     MutBytes key, MutBytes iv) {
  if (key.size() != suite_key_len(suite) || iv.size() != kAeadIvLen) {
    return Status(ErrorCode::kInvalidArgument, "key or IV length");
  }
  HashAlg hash = suite_hash(suite);
  QB_TRY(hkdf_expand_label(backend, hash, secret, v.key_label, Bytes(), key));
  return hkdf_expand_label(backend, hash, secret, v.iv_label, Bytes(), iv);
}

Status derive_hp_key(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret,
                     MutBytes hp) {
  if (hp.size() != suite_key_len(suite)) return Status(ErrorCode::kInvalidArgument, "hp key length");
  return hkdf_expand_label(backend, suite_hash(suite), secret, v.hp_label, Bytes(), hp);
}

Result<Secret> next_generation_secret(CryptoBackend& backend, CipherSuite suite,
                                      const VersionCrypto& v, Bytes secret) {
  HashAlg hash = suite_hash(suite);
  if (secret.size() != hash_len(hash)) return Status(ErrorCode::kInvalidArgument, "secret length");
  return expand_secret(backend, hash, secret, v.ku_label);
}

}  // namespace quicbed
