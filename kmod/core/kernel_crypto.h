// The kernel host's CryptoBackend: the kernel crypto API, reached through
// the boundary's qbk_* calls (glue/crypto.c). Each Aead and HeaderCipher
// owns one kernel transform with its key and is used by one connection at a
// time (under its socket's lock). Calls may sleep: process context only.
#pragma once

#include "base/allocator.h"
#include "crypto.h"

namespace quicbed::kmod {

class KernelCrypto final : public CryptoBackend {
 public:
  // The wrappers of the kernel transforms come from `alloc`.
  explicit constexpr KernelCrypto(Allocator& alloc) : alloc_(alloc) {}

  Status hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) override;
  Status hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) override;

  Aead* new_aead(CipherSuite s, Bytes key) override;
  void free_aead(Aead* a) override;
  HeaderCipher* new_header_cipher(CipherSuite s, Bytes hp_key) override;
  void free_header_cipher(HeaderCipher* h) override;

 private:
  Allocator& alloc_;
};

// The module's one backend, on kernel_allocator().
CryptoBackend& kernel_crypto();

}  // namespace quicbed::kmod
