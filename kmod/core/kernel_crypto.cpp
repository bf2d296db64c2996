#include "kernel_crypto.h"

#include "../boundary.h"
#include "kernel_allocator.h"

namespace quicbed::kmod {

namespace {

// A negative errno from the glue as the core's Status.
Status errno_status(int err, const char* what) {
  if (err == 0) return Status::ok();
  if (err == -12 /* ENOMEM */) return Status(ErrorCode::kNoMemory, what);
  if (err == -74 /* EBADMSG: the tag did not authenticate */) return Status(ErrorCode::kDecryptFailed, what);
  return Status(ErrorCode::kCryptoBackend, what);
}

int hash_id(HashAlg h) { return h == HashAlg::kSha384 ? QBK_SHA384 : QBK_SHA256; }

class KernelAead final : public Aead {
 public:
  explicit KernelAead(qbk_aead* h) : h_(h) {}
  ~KernelAead() { qbk_aead_free(h_); }
  KernelAead(const KernelAead&) = delete;
  KernelAead& operator=(const KernelAead&) = delete;

  Status seal(Bytes nonce, Bytes aad, Bytes in, MutBytes out) override {
    if (nonce.size() != kAeadIvLen || out.size() != in.size() + kAeadTagLen) {
      return Status(ErrorCode::kInvalidArgument, "AEAD sizes");
    }
    return errno_status(qbk_aead_seal(h_, nonce.data(), aad.data(), aad.size(), in.data(), in.size(), out.data()),
                        "AEAD seal");
  }

  Status open(Bytes nonce, Bytes aad, Bytes in, MutBytes out) override {
    if (nonce.size() != kAeadIvLen || in.size() < kAeadTagLen || out.size() != in.size() - kAeadTagLen) {
      return Status(ErrorCode::kInvalidArgument, "AEAD sizes");
    }
    return errno_status(qbk_aead_open(h_, nonce.data(), aad.data(), aad.size(), in.data(), in.size(), out.data()),
                        "AEAD open");
  }

 private:
  qbk_aead* h_;
};

class KernelHeaderCipher final : public HeaderCipher {
 public:
  explicit KernelHeaderCipher(qbk_hp* h) : h_(h) {}
  ~KernelHeaderCipher() { qbk_hp_free(h_); }
  KernelHeaderCipher(const KernelHeaderCipher&) = delete;
  KernelHeaderCipher& operator=(const KernelHeaderCipher&) = delete;

  Status mask(Bytes sample, uint8_t out[5]) override {
    if (sample.size() != kHpSampleLen) return Status(ErrorCode::kInvalidArgument, "sample size");
    return errno_status(qbk_hp_mask(h_, sample.data(), out), "header protection");
  }

 private:
  qbk_hp* h_;
};

constinit KernelCrypto g_crypto(g_kernel_allocator);

}  // namespace

Status KernelCrypto::hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) {
  if (prk.size() != hash_len(h)) return Status(ErrorCode::kInvalidArgument, "PRK size");
  return errno_status(
      qbk_hkdf_extract(hash_id(h), salt.data(), salt.size(), ikm.data(), ikm.size(), prk.data(), prk.size()),
      "HKDF-Extract");
}

Status KernelCrypto::hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) {
  return errno_status(
      qbk_hkdf_expand(hash_id(h), prk.data(), prk.size(), info.data(), info.size(), out.data(), out.size()),
      "HKDF-Expand");
}

Aead* KernelCrypto::new_aead(CipherSuite s, Bytes key) {
  if (key.size() != suite_key_len(s)) return nullptr;
  qbk_aead* h = qbk_aead_new(static_cast<int>(s), key.data(), key.size());
  if (!h) return nullptr;
  auto* a = make<KernelAead>(alloc_, h);
  if (!a) qbk_aead_free(h);
  return a;
}

void KernelCrypto::free_aead(Aead* a) { destroy(alloc_, static_cast<KernelAead*>(a)); }

HeaderCipher* KernelCrypto::new_header_cipher(CipherSuite s, Bytes hp_key) {
  if (hp_key.size() != suite_key_len(s)) return nullptr;
  qbk_hp* h = qbk_hp_new(static_cast<int>(s), hp_key.data(), hp_key.size());
  if (!h) return nullptr;
  auto* c = make<KernelHeaderCipher>(alloc_, h);
  if (!c) qbk_hp_free(h);
  return c;
}

void KernelCrypto::free_header_cipher(HeaderCipher* h) { destroy(alloc_, static_cast<KernelHeaderCipher*>(h)); }

CryptoBackend& kernel_crypto() { return g_crypto; }

}  // namespace quicbed::kmod
