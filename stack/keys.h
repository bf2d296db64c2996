// The QUIC key schedule (RFC 9001 §5.1-§5.2, §6.1, §6.6): HKDF-Expand-Label,
// the constants each QUIC version changes, Initial secrets and the key
// update. Packet protection with the derived keys is in protection.h.
// Everything goes through the host's CryptoBackend; nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/fixed_point.h"
#include "base/status.h"
#include "crypto.h"
#include "packet.h"  // kVersion1, kVersion2

namespace quicbed {

// Bounds of HKDF-Expand-Label's inputs. RFC 8446 §7.1 allows a 249-byte label
// and a 255-byte context; QUIC and TLS 1.3 use short labels and at most a
// transcript hash as context, so the HkdfLabel fits a small stack buffer.
inline constexpr size_t kMaxHkdfLabelLen = 32;
inline constexpr size_t kMaxHkdfContextLen = kMaxHashLen;

// Overwrites key material so a freed object leaves no secret behind; the
// barrier keeps the compiler from dropping the store as dead.
inline void wipe(void* p, size_t n) {
  if (n) __builtin_memset(p, 0, n);
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

// A traffic secret: the output of the TLS key schedule, Hash.length bytes.
struct Secret {
  uint8_t data[kMaxHashLen] = {};
  size_t len = 0;

  Bytes bytes() const { return Bytes(data, len); }
  // kInvalidArgument if `b` is longer than any hash.
  Status assign(Bytes b);
};

// RFC 8446 §7.1:
//   HKDF-Expand-Label(Secret, Label, Context, Length) =
//     HKDF-Expand(Secret, HkdfLabel, Length)
//   struct { uint16 length; opaque label<7..255> = "tls13 " + Label;
//            opaque context<0..255>; } HkdfLabel;
// `label` is NUL-terminated; kInvalidArgument if it is empty or longer than
// kMaxHkdfLabelLen, or if the context or output is out of bounds.
Status hkdf_expand_label(CryptoBackend& backend, HashAlg hash, Bytes secret, const char* label,
                         Bytes context, MutBytes out);

// What a QUIC version changes in the key schedule (RFC 9369 §3.3): the
// Initial salt, the labels of §5.1/§5.4/§6.1 and the Retry integrity key.
struct VersionCrypto {
  uint32_t version;
  uint8_t initial_salt[20];
  const char* key_label;
  const char* iv_label;
  const char* hp_label;
  const char* ku_label;
  uint8_t retry_key[16];    // AEAD_AES_128_GCM key of RFC 9001 §5.8
  uint8_t retry_nonce[kAeadIvLen];
};

// nullptr for a version this implementation does not speak.
const VersionCrypto* version_crypto(uint32_t version);

// RFC 9001 §5.2: Initial packets use AEAD_AES_128_GCM and SHA-256 whatever
// TLS later negotiates.
inline constexpr CipherSuite kInitialSuite = CipherSuite::kAes128GcmSha256;

struct InitialSecrets {
  Secret client;  // protects packets the client sends
  Secret server;  // protects packets the server sends
};

// RFC 9001 §5.2: initial_secret = HKDF-Extract(initial_salt, client_dcid),
// then "client in" / "server in". `client_dcid` is the Destination
// Connection ID of the client's first Initial packet.
Result<InitialSecrets> derive_initial_secrets(CryptoBackend& backend, const VersionCrypto& v,
                                              Bytes client_dcid);

// RFC 9001 §5.1: the AEAD key (suite_key_len bytes) and IV (kAeadIvLen
// bytes) protecting packets under `secret`.
Status derive_key_iv(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret,
                     MutBytes key, MutBytes iv);
// RFC 9001 §5.4: the header protection key (suite_key_len bytes).
Status derive_hp_key(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret,
                     MutBytes hp);

// RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "",
// Hash.length) ("quicv2 ku" in version 2).
Result<Secret> next_generation_secret(CryptoBackend& backend, CipherSuite suite,
                                      const VersionCrypto& v, Bytes secret);

// RFC 9001 §6.6: packets one key may protect (confidentiality) and packets
// failing authentication a connection may see across all keys (integrity)
// before it must update keys or close with AEAD_LIMIT_REACHED.
struct AeadLimits {
  uint64_t confidentiality;
  uint64_t integrity;
};

constexpr AeadLimits aead_limits(CipherSuite s) {
  // ChaCha20-Poly1305's confidentiality limit exceeds the 2^62 possible
  // packets, so it never applies.
  return s == CipherSuite::kChaCha20Poly1305Sha256 ? AeadLimits{kU64Max, uint64_t{1} << 36}
                                                    : AeadLimits{uint64_t{1} << 23, uint64_t{1} << 52};
}

}  // namespace quicbed
