// CryptoMode=NullCipherForSweeps: a CryptoBackend whose packet protection
// does no cryptography, for parameter sweeps so large that AES-GCM's cost
// matters. The TLS handshake stays real (GnuTLS, the same messages, keys
// derived with real HKDF); only the AEAD and header protection of packets
// are replaced: the payload is left in clear and the 16-byte tag is a
// checksum of nonce, header and payload, so a packet altered in flight is
// still dropped as undecryptable. Never chosen silently: a socket uses it
// only when its CryptoMode attribute names it, and both ends must.
// Packets protected this way are not QUIC a dissector can decrypt.
#ifndef QUIC_NULL_CIPHER_H
#define QUIC_NULL_CIPHER_H

#include "gnutls_crypto.h"

namespace ns3
{

class QuicNullCipherCrypto final : public quicbed::CryptoBackend
{
  public:
    quicbed::Status hkdf_extract(quicbed::HashAlg h,
                                 quicbed::Bytes salt,
                                 quicbed::Bytes ikm,
                                 quicbed::MutBytes prk) override;
    quicbed::Status hkdf_expand(quicbed::HashAlg h,
                                quicbed::Bytes prk,
                                quicbed::Bytes info,
                                quicbed::MutBytes out) override;

    quicbed::Aead* new_aead(quicbed::CipherSuite s, quicbed::Bytes key) override;
    void free_aead(quicbed::Aead* a) override;
    quicbed::HeaderCipher* new_header_cipher(quicbed::CipherSuite s, quicbed::Bytes hp_key) override;
    void free_header_cipher(quicbed::HeaderCipher* h) override;

  private:
    quicbed::GnutlsCrypto m_hkdf; // key derivation stays real
};

} // namespace ns3

#endif
