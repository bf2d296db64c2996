#include "null_cipher.h"

#include <cstring>
#include <new>

namespace quicbed {
namespace {

// FNV-1a, 64 bits: cheap, and any changed byte changes it.
uint64_t fnv(uint64_t h, Bytes b) {
  for (uint8_t x : b) h = (h ^ x) * 0x100000001b3ULL;
  return h;
}

class NullAead final : public Aead {
 public:
  Status seal(Bytes nonce, Bytes aad, Bytes in, MutBytes out) override {
    if (out.size() != in.size() + kAeadTagLen) return ErrorCode::kInvalidArgument;
    if (!in.empty()) std::memmove(out.data(), in.data(), in.size());
    tag(nonce, aad, in, out.data() + in.size());
    return Status();
  }

  Status open(Bytes nonce, Bytes aad, Bytes in, MutBytes out) override {
    if (in.size() < kAeadTagLen || out.size() != in.size() - kAeadTagLen) return ErrorCode::kDecryptFailed;
    const Bytes body = in.first(out.size());
    uint8_t t[kAeadTagLen];
    tag(nonce, aad, body, t);
    if (std::memcmp(t, in.data() + body.size(), sizeof t) != 0) return ErrorCode::kDecryptFailed;
    if (!body.empty()) std::memmove(out.data(), body.data(), body.size());
    return Status();
  }

 private:
  static void tag(Bytes nonce, Bytes aad, Bytes body, uint8_t* out) {
    const uint64_t a = fnv(fnv(0xcbf29ce484222325ULL, nonce), aad);
    const uint64_t b = fnv(a, body);
    std::memcpy(out, &a, 8);
    std::memcpy(out + 8, &b, 8);
  }
};

// RFC 9001 §5.4 applied with nothing to hide: the mask is all zeros.
class NullHeaderCipher final : public HeaderCipher {
 public:
  Status mask(Bytes, uint8_t out[5]) override {
    std::memset(out, 0, 5);
    return Status();
  }
};

}  // namespace

Status NullCipherCrypto::hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) {
  return hkdf_.hkdf_extract(h, salt, ikm, prk);
}

Status NullCipherCrypto::hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) {
  return hkdf_.hkdf_expand(h, prk, info, out);
}

Aead* NullCipherCrypto::new_aead(CipherSuite, Bytes) { return new (std::nothrow) NullAead(); }

void NullCipherCrypto::free_aead(Aead* a) { delete static_cast<NullAead*>(a); }

HeaderCipher* NullCipherCrypto::new_header_cipher(CipherSuite, Bytes) {
  return new (std::nothrow) NullHeaderCipher();
}

void NullCipherCrypto::free_header_cipher(HeaderCipher* h) { delete static_cast<NullHeaderCipher*>(h); }

}  // namespace quicbed
