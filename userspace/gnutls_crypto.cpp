#include "gnutls_crypto.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <cstring>
#include <new>

namespace quicbed {

namespace {

gnutls_mac_algorithm_t mac_of(HashAlg h) { return h == HashAlg::kSha384 ? GNUTLS_MAC_SHA384 : GNUTLS_MAC_SHA256; }

gnutls_cipher_algorithm_t aead_of(CipherSuite s) {
  switch (s) {
    case CipherSuite::kAes128GcmSha256: return GNUTLS_CIPHER_AES_128_GCM;
    case CipherSuite::kAes256GcmSha384: return GNUTLS_CIPHER_AES_256_GCM;
    case CipherSuite::kChaCha20Poly1305Sha256: return GNUTLS_CIPHER_CHACHA20_POLY1305;
  }
  return GNUTLS_CIPHER_UNKNOWN;
}

// GnuTLS has no ECB mode: CBC over one block with a zero IV computes the same
// AES block function. For ChaCha20 (RFC 9001 §5.4.4), CHACHA20_32 takes a
// 16-byte IV laid out as RFC 8439 §2.3's state words 12-15: the 32-bit
// little-endian block counter then the 96-bit nonce, i.e. the sample as is.
gnutls_cipher_algorithm_t hp_cipher_of(CipherSuite s) {
  switch (s) {
    case CipherSuite::kAes128GcmSha256: return GNUTLS_CIPHER_AES_128_CBC;
    case CipherSuite::kAes256GcmSha384: return GNUTLS_CIPHER_AES_256_CBC;
    case CipherSuite::kChaCha20Poly1305Sha256: return GNUTLS_CIPHER_CHACHA20_32;
  }
  return GNUTLS_CIPHER_UNKNOWN;
}

gnutls_datum_t datum(Bytes b) {
  return gnutls_datum_t{const_cast<unsigned char*>(b.data()), static_cast<unsigned int>(b.size())};
}

giovec_t iovec(const uint8_t* p, size_t n) { return giovec_t{const_cast<uint8_t*>(p), n}; }

Status backend_error(int rc, const char* what) {
  return rc < 0 ? Status(ErrorCode::kCryptoBackend, what) : Status::ok();
}

class GnutlsAead final : public Aead {
 public:
  explicit GnutlsAead(gnutls_aead_cipher_hd_t h) : h_(h) {}
  ~GnutlsAead() { gnutls_aead_cipher_deinit(h_); }
  GnutlsAead(const GnutlsAead&) = delete;
  GnutlsAead& operator=(const GnutlsAead&) = delete;

  // The v2 calls work in place; the payload is first moved to `out`.
  Status seal(Bytes nonce, Bytes aad, Bytes in, MutBytes out) override {
    if (out.size() != in.size() + kAeadTagLen) return Status(ErrorCode::kInvalidArgument, "AEAD output size");
    if (!in.empty() && in.data() != out.data()) std::memmove(out.data(), in.data(), in.size());
    giovec_t auth = iovec(aad.data(), aad.size());
    giovec_t data = iovec(out.data(), in.size());
    size_t tag_len = kAeadTagLen;
    int rc = gnutls_aead_cipher_encryptv2(h_, nonce.data(), nonce.size(), &auth, aad.empty() ? 0 : 1, &data,
                                          in.empty() ? 0 : 1, out.data() + in.size(), &tag_len);
    if (rc >= 0 && tag_len != kAeadTagLen) rc = GNUTLS_E_INTERNAL_ERROR;
    return backend_error(rc, "AEAD seal");
  }

  Status open(Bytes nonce, Bytes aad, Bytes in, MutBytes out) override {
    if (in.size() < kAeadTagLen || out.size() != in.size() - kAeadTagLen) {
      return Status(ErrorCode::kInvalidArgument, "AEAD output size");
    }
    // Copy the tag first: moving the ciphertext could overwrite it.
    uint8_t tag[kAeadTagLen];
    std::memcpy(tag, in.data() + out.size(), kAeadTagLen);
    if (!out.empty() && in.data() != out.data()) std::memmove(out.data(), in.data(), out.size());
    giovec_t auth = iovec(aad.data(), aad.size());
    giovec_t data = iovec(out.data(), out.size());
    int rc = gnutls_aead_cipher_decryptv2(h_, nonce.data(), nonce.size(), &auth, aad.empty() ? 0 : 1, &data,
                                          out.empty() ? 0 : 1, tag, kAeadTagLen);
    if (rc == GNUTLS_E_DECRYPTION_FAILED) return Status(ErrorCode::kDecryptFailed, "AEAD authentication");
    return backend_error(rc, "AEAD open");
  }

 private:
  gnutls_aead_cipher_hd_t h_;
};

class GnutlsHeaderCipher final : public HeaderCipher {
 public:
  GnutlsHeaderCipher(gnutls_cipher_hd_t h, bool chacha) : h_(h), chacha_(chacha) {}
  ~GnutlsHeaderCipher() { gnutls_cipher_deinit(h_); }
  GnutlsHeaderCipher(const GnutlsHeaderCipher&) = delete;
  GnutlsHeaderCipher& operator=(const GnutlsHeaderCipher&) = delete;

  Status mask(Bytes sample, uint8_t out[5]) override {
    if (sample.size() != kHpSampleLen) return Status(ErrorCode::kInvalidArgument, "sample size");
    uint8_t iv[kHpSampleLen] = {};
    int rc;
    if (chacha_) {
      // RFC 9001 §5.4.4: mask = ChaCha20(hp, counter = sample[0..3],
      // nonce = sample[4..15], {0,0,0,0,0}).
      std::memcpy(iv, sample.data(), sizeof iv);
      gnutls_cipher_set_iv(h_, iv, sizeof iv);
      const uint8_t zeros[5] = {};
      rc = gnutls_cipher_encrypt2(h_, zeros, sizeof zeros, out, 5);
    } else {
      // RFC 9001 §5.4.3: mask = AES-ECB(hp, sample); the zero IV is reset
      // since CBC chains from the previous block.
      uint8_t block[kHpSampleLen];
      gnutls_cipher_set_iv(h_, iv, sizeof iv);
      rc = gnutls_cipher_encrypt2(h_, sample.data(), sample.size(), block, sizeof block);
      std::memcpy(out, block, 5);
    }
    return backend_error(rc, "header protection");
  }

 private:
  gnutls_cipher_hd_t h_;
  bool chacha_;
};

}  // namespace

Status GnutlsCrypto::hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) {
  if (prk.size() != hash_len(h)) return Status(ErrorCode::kInvalidArgument, "PRK size");
  gnutls_datum_t key = datum(ikm);
  gnutls_datum_t s = datum(salt);
  return backend_error(gnutls_hkdf_extract(mac_of(h), &key, &s, prk.data()), "HKDF-Extract");
}

Status GnutlsCrypto::hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) {
  gnutls_datum_t key = datum(prk);
  gnutls_datum_t i = datum(info);
  return backend_error(gnutls_hkdf_expand(mac_of(h), &key, &i, out.data(), out.size()), "HKDF-Expand");
}

Aead* GnutlsCrypto::new_aead(CipherSuite s, Bytes key) {
  if (key.size() != suite_key_len(s)) return nullptr;
  gnutls_aead_cipher_hd_t h;
  gnutls_datum_t k = datum(key);
  if (gnutls_aead_cipher_init(&h, aead_of(s), &k) < 0) return nullptr;
  auto* a = new (std::nothrow) GnutlsAead(h);
  if (!a) gnutls_aead_cipher_deinit(h);
  return a;
}

void GnutlsCrypto::free_aead(Aead* a) { delete static_cast<GnutlsAead*>(a); }

HeaderCipher* GnutlsCrypto::new_header_cipher(CipherSuite s, Bytes hp_key) {
  if (hp_key.size() != suite_key_len(s)) return nullptr;
  gnutls_cipher_hd_t h;
  gnutls_datum_t k = datum(hp_key);
  uint8_t zero_iv[kHpSampleLen] = {};
  gnutls_datum_t iv{zero_iv, sizeof zero_iv};
  if (gnutls_cipher_init(&h, hp_cipher_of(s), &k, &iv) < 0) return nullptr;
  auto* c = new (std::nothrow) GnutlsHeaderCipher(h, s == CipherSuite::kChaCha20Poly1305Sha256);
  if (!c) gnutls_cipher_deinit(h);
  return c;
}

void GnutlsCrypto::free_header_cipher(HeaderCipher* h) { delete static_cast<GnutlsHeaderCipher*>(h); }

}  // namespace quicbed
