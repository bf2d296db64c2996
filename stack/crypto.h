// The host's cipher primitives: the core's key schedule and packet
// protection are written once against this interface, and each host backs it
// with what it has (GnuTLS in userspace and ns-3, the kernel crypto API in
// quic.ko). Objects are created by the backend and returned to it; the core
// never sees a key schedule implementation detail of the backend.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace quicbed {

// TLS 1.3 cipher suites QUIC uses (RFC 9001 §5.3).
enum class CipherSuite : uint16_t {
  kAes128GcmSha256 = 0x1301,
  kAes256GcmSha384 = 0x1302,
  kChaCha20Poly1305Sha256 = 0x1303,
};

enum class HashAlg : uint8_t { kSha256, kSha384 };

constexpr HashAlg suite_hash(CipherSuite s) {
  return s == CipherSuite::kAes256GcmSha384 ? HashAlg::kSha384 : HashAlg::kSha256;
}
constexpr size_t hash_len(HashAlg h) { return h == HashAlg::kSha384 ? 48 : 32; }
constexpr size_t suite_key_len(CipherSuite s) { return s == CipherSuite::kAes128GcmSha256 ? 16 : 32; }
inline constexpr size_t kAeadIvLen = 12;
inline constexpr size_t kAeadTagLen = 16;
inline constexpr size_t kHpSampleLen = 16;
inline constexpr size_t kMaxHashLen = 48;
inline constexpr size_t kMaxKeyLen = 32;

// An AEAD with its key set (AES-GCM or ChaCha20-Poly1305 per RFC 9001 §5.3).
class Aead {
 public:
  // out = ciphertext || tag; out.size() must be in.size() + kAeadTagLen.
  // `in` and `out` may be the same memory (in-place).
  virtual Status seal(Bytes nonce, Bytes aad, Bytes in, MutBytes out) = 0;
  // `in` is ciphertext || tag; out.size() must be in.size() - kAeadTagLen.
  // Fails with kDecryptFailed on authentication failure.
  virtual Status open(Bytes nonce, Bytes aad, Bytes in, MutBytes out) = 0;

 protected:
  ~Aead() = default;
};

// Header protection mask (RFC 9001 §5.4.3 AES-ECB, §5.4.4 ChaCha20).
class HeaderCipher {
 public:
  // mask = first 5 bytes of the cipher applied to a 16-byte sample.
  virtual Status mask(Bytes sample, uint8_t out[5]) = 0;

 protected:
  ~HeaderCipher() = default;
};

class CryptoBackend {
 public:
  // RFC 5869 HKDF-Extract and HKDF-Expand.
  virtual Status hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) = 0;
  virtual Status hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) = 0;

  // nullptr on failure (bad key length, no memory).
  virtual Aead* new_aead(CipherSuite s, Bytes key) = 0;
  virtual void free_aead(Aead* a) = 0;
  virtual HeaderCipher* new_header_cipher(CipherSuite s, Bytes hp_key) = 0;
  virtual void free_header_cipher(HeaderCipher* h) = 0;

 protected:
  ~CryptoBackend() = default;
};

}  // namespace quicbed
