// The CryptoBackend of the userspace and ns-3 hosts, on GnuTLS (>= 3.7.9):
// HKDF, the three AEADs of RFC 9001 §5.3, and header protection (§5.4.3
// AES-ECB, §5.4.4 ChaCha20). The backend holds no state of its own; each
// Aead or HeaderCipher it creates is for one thread at a time.
#pragma once

#include "crypto.h"

namespace quicbed {

class GnutlsCrypto final : public CryptoBackend {
 public:
  Status hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) override;
  Status hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) override;

  Aead* new_aead(CipherSuite s, Bytes key) override;
  void free_aead(Aead* a) override;
  HeaderCipher* new_header_cipher(CipherSuite s, Bytes hp_key) override;
  void free_header_cipher(HeaderCipher* h) override;
};

}  // namespace quicbed
