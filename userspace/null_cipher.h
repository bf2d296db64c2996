// A CryptoBackend whose packet protection does no cryptography: the payload
// stays in clear and the 16-byte tag is a checksum of nonce, header and
// payload, so a packet altered in flight is still dropped as undecryptable;
// header protection masks nothing. Key derivation stays real (GnuTLS HKDF).
//
// Two users, neither ever chosen silently: the ns-3 module's
// CryptoMode=NullCipherForSweeps (AES-GCM's cost matters in very large
// sweeps; both ends must name it), and the fuzz targets (tests/fuzz/), which
// seal the packets they build with it so that mutated frames pass packet
// protection and reach the parsers and state machines behind it. Packets
// protected this way are not QUIC a dissector can decrypt.
#pragma once

#include "gnutls_crypto.h"

namespace quicbed {

class NullCipherCrypto final : public CryptoBackend {
 public:
  Status hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) override;
  Status hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) override;

  Aead* new_aead(CipherSuite s, Bytes key) override;
  void free_aead(Aead* a) override;
  HeaderCipher* new_header_cipher(CipherSuite s, Bytes hp_key) override;
  void free_header_cipher(HeaderCipher* h) override;

 private:
  GnutlsCrypto hkdf_;  // key derivation stays real
};

}  // namespace quicbed
