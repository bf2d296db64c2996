// Known-answer tests of the kernel crypto backend, run inside the guest
// kernel (quic.ko selftest=1): the core's own key schedule and packet
// protection on the kernel crypto API must give the bytes of RFC 9001
// Appendix A. Each vector runs twice, with buffers from the allocator
// (scatterlists straight onto them) and on the stack (virtually mapped in
// Debian's kernels, so the glue bounces them through a copy).
#include <cstddef>
#include <cstdint>

#include "../boundary.h"
#include "kernel_allocator.h"
#include "kernel_crypto.h"
#include "keys.h"
#include "protection.h"

namespace quicbed::kmod {

namespace {

constexpr size_t kMaxVector = 160;

// Hex digits to bytes (spaces ignored); the length, or 0 if `hex` is bad
// or longer than `cap`.
size_t unhex(const char* hex, uint8_t* out, size_t cap) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  size_t n = 0;
  int high = -1;
  for (; *hex; ++hex) {
    if (*hex == ' ') continue;
    int v = nibble(*hex);
    if (v < 0 || n == cap) return 0;
    if (high < 0) {
      high = v;
    } else {
      out[n++] = static_cast<uint8_t>(high << 4 | v);
      high = -1;
    }
  }
  return high < 0 ? n : 0;
}

// A decoded vector.
struct Hex {
  uint8_t data[kMaxVector];
  size_t len;
  explicit Hex(const char* hex) : len(unhex(hex, data, sizeof data)) {}
  Bytes bytes() const { return Bytes(data, len); }
};

bool same(Bytes got, const char* want_hex) {
  Hex want(want_hex);
  return want.len != 0 && bytes_equal(got, want.bytes());
}

Bytes text(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return Bytes(reinterpret_cast<const uint8_t*>(s), n);
}

const VersionCrypto& v1() { return *version_crypto(kVersion1); }

// Each test returns nullptr when it passed, else the check that failed.
#define EXPECT(cond)          \
  do {                        \
    if (!(cond)) return #cond; \
  } while (0)

// RFC 9001 A.1: the client's and server's Initial secrets, keys, IVs and
// header protection keys for DCID 0x8394c8f03e515708.
const char* initial_keys(CryptoBackend& b, MutBytes) {
  Hex dcid("8394c8f03e515708");
  auto s = derive_initial_secrets(b, v1(), dcid.bytes());
  EXPECT(s.is_ok());
  struct {
    const Secret& secret;
    const char *want_secret, *key, *iv, *hp;
  } dirs[] = {
      {s->client, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
       "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
      {s->server, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
       "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
  };
  for (auto& d : dirs) {
    uint8_t key[16], iv[12], hp[16];
    EXPECT(same(d.secret.bytes(), d.want_secret));
    EXPECT(derive_key_iv(b, kInitialSuite, v1(), d.secret.bytes(), MutBytes(key), MutBytes(iv)).is_ok());
    EXPECT(derive_hp_key(b, kInitialSuite, v1(), d.secret.bytes(), MutBytes(hp)).is_ok());
    EXPECT(same(Bytes(key), d.key));
    EXPECT(same(Bytes(iv), d.iv));
    EXPECT(same(Bytes(hp), d.hp));
  }
  return nullptr;
}

// Protects header || payload (|| room for the tag) in `buf` and compares
// with `want`, then removes the protection again and compares the payload.
const char* protect_and_back(PacketProtection& pp, MutBytes buf, const char* header_hex, const char* payload_hex,
                             size_t pn_offset, uint64_t pn, const char* want) {
  Hex header(header_hex), payload(payload_hex);
  size_t total = header.len + payload.len + kAeadTagLen;
  EXPECT(header.len && payload.len && buf.size() >= total);
  MutBytes packet = buf.first(total);
  copy_bytes(packet.data(), header.data, header.len);
  copy_bytes(packet.data() + header.len, payload.data, payload.len);
  size_t pn_len = header.len - pn_offset;
  EXPECT(pp.protect(packet, pn_offset, pn_len, pn).is_ok());
  EXPECT(same(packet, want));
  auto field = pp.unprotect_header(packet, pn_offset);
  // The field holds the packet number's low pn_len bytes (RFC 9000 §17.1).
  EXPECT(field.is_ok() && field->len == pn_len && field->truncated == (pn & ((uint64_t{1} << (8 * pn_len)) - 1)));
  auto plain = pp.open(packet, header.len, pn);
  EXPECT(plain.is_ok() && bytes_equal(*plain, payload.bytes()));
  // A flipped ciphertext bit must fail authentication.
  EXPECT(pp.protect(packet, pn_offset, pn_len, pn).is_ok());
  packet[header.len] ^= 1;
  EXPECT(pp.unprotect_header(packet, pn_offset).is_ok());
  EXPECT(pp.open(packet, header.len, pn).status().code() == ErrorCode::kDecryptFailed);
  return nullptr;
}

// RFC 9001 A.3: the server's Initial (AES-128-GCM, AES header protection).
const char* server_initial(CryptoBackend& b, MutBytes buf) {
  Hex dcid("8394c8f03e515708");
  auto s = derive_initial_secrets(b, v1(), dcid.bytes());
  PacketProtection pp;
  EXPECT(s.is_ok() && pp.init(b, kInitialSuite, v1(), s->server.bytes()).is_ok());
  return protect_and_back(pp, buf, "c1000000010008f067a5502a4262b50040750001",
                          "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a"
                          "045a1200130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bc"
                          "f32bb9da1a002b00020304",
                          18, 1,
                          "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c6979"
                          "7554780bb38cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3b"
                          "ded74b562bfb19fb84022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4215840"
                          "7dd074ee");
}

// RFC 9001 A.4: the Retry Integrity Tag (AES-128-GCM over no plaintext).
const char* retry_tag(CryptoBackend& b, MutBytes buf) {
  Hex odcid("8394c8f03e515708"), retry("ff000000010008f067a5502a4262b5746f6b656e");
  MutBytes tag = buf.first(kAeadTagLen);
  EXPECT(compute_retry_tag(b, kernel_allocator(), v1(), odcid.bytes(), retry.bytes(), tag).is_ok());
  EXPECT(same(tag, "04a265ba2eff4d829058fb3f0f2496ba"));
  return nullptr;
}

// RFC 9001 A.5: a short header packet under ChaCha20-Poly1305, and the
// secret of the next key phase (§6.1).
const char* chacha20_short_header(CryptoBackend& b, MutBytes buf) {
  constexpr CipherSuite kSuite = CipherSuite::kChaCha20Poly1305Sha256;
  Hex secret("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
  auto next = next_generation_secret(b, kSuite, v1(), secret.bytes());
  EXPECT(next.is_ok() && same(next->bytes(), "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9"));
  PacketProtection pp;
  EXPECT(pp.init(b, kSuite, v1(), secret.bytes()).is_ok());
  return protect_and_back(pp, buf, "4200bff4", "01", 1, 654360564, "4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
}

// HKDF-Extract with SHA-384 is HMAC-SHA-384(salt, IKM): RFC 4231 §4.3.
const char* hmac_sha384(CryptoBackend& b, MutBytes buf) {
  MutBytes prk = buf.first(48);
  EXPECT(b.hkdf_extract(HashAlg::kSha384, text("Jefe"), text("what do ya want for nothing?"), prk).is_ok());
  EXPECT(same(prk, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                   "8e2240ca5e69e2c78b3239ecfab21649"));
  return nullptr;
}

const char* aes256_with(Aead* a, HeaderCipher* hp, MutBytes buf, const Hex& key, const Hex& nonce, Bytes plain) {
  EXPECT(a && hp);
  EXPECT(buf.size() >= plain.size() + kAeadTagLen);
  MutBytes sealed = buf.first(plain.size() + kAeadTagLen);
  EXPECT(a->seal(nonce.bytes(), text("aad"), plain, sealed).is_ok());
  EXPECT(same(sealed, "3677bf78e584a768a073a2bd9c8e1b00a3a5e258960f3a0f4c8dec7c8d401ad134dd50c4373170abe8"));
  EXPECT(a->open(nonce.bytes(), text("aad"), sealed, sealed.first(plain.size())).is_ok());
  EXPECT(bytes_equal(sealed.first(plain.size()), plain));
  uint8_t mask[5];
  EXPECT(hp->mask(Bytes(key.data, kHpSampleLen), mask).is_ok());
  EXPECT(same(Bytes(mask), "5a6e045708"));
  return nullptr;
}

// AES-256-GCM and AES-256 header protection (TLS_AES_256_GCM_SHA384),
// against values computed with an independent implementation.
const char* aes256(CryptoBackend& b, MutBytes buf) {
  constexpr CipherSuite kSuite = CipherSuite::kAes256GcmSha384;
  Hex key("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  Hex nonce("000102030405060708090a0b");
  Bytes plain = text("quic aes-256-gcm selftest");
  Aead* a = b.new_aead(kSuite, key.bytes());
  HeaderCipher* hp = b.new_header_cipher(kSuite, key.bytes());
  const char* failed = aes256_with(a, hp, buf, key, nonce, plain);
  if (a) b.free_aead(a);
  if (hp) b.free_header_cipher(hp);
  return failed;
}

struct Test {
  const char* name;
  const char* (*run)(CryptoBackend&, MutBytes);
};

constexpr Test kTests[] = {
    {"RFC 9001 A.1 initial keys", initial_keys},
    {"RFC 9001 A.3 server Initial (gcm(aes), AES header protection)", server_initial},
    {"RFC 9001 A.4 Retry tag", retry_tag},
    {"RFC 9001 A.5 ChaCha20 short header and key update", chacha20_short_header},
    {"RFC 4231 4.3 HMAC-SHA-384", hmac_sha384},
    {"AES-256-GCM and AES-256 header protection", aes256},
};

// "<what>: <name>" into the log.
void report(const char* what, const char* name, const char* where, const char* failed) {
  char line[256];
  size_t n = 0;
  for (const char* part : {what, name, " (", where, ")", failed ? ": " : "", failed ? failed : ""}) {
    for (; *part && n + 1 < sizeof line; ++part) line[n++] = *part;
  }
  line[n] = '\0';
  qbk_log(line);
}

}  // namespace

}  // namespace quicbed::kmod

extern "C" int qb_crypto_selftest(int* run) {
  using namespace quicbed;
  using namespace quicbed::kmod;
  CryptoBackend& b = kernel_crypto();
  int failed = 0;
  *run = 0;
  void* heap = kernel_allocator().allocate(kMaxVector, 16);
  for (const Test& t : kTests) {
    uint8_t stack[kMaxVector];
    struct {
      MutBytes buf;
      const char* where;
    } places[] = {{MutBytes(static_cast<uint8_t*>(heap), heap ? kMaxVector : 0), "heap"},
                  {MutBytes(stack), "stack"}};
    for (auto& p : places) {
      ++*run;
      const char* check = p.buf.size() != 0 ? t.run(b, p.buf) : "no memory";
      if (check) ++failed;
      report(check ? "selftest FAILED: " : "selftest ok: ", t.name, p.where, check);
    }
  }
  kernel_allocator().deallocate(heap, kMaxVector);
  return failed;
}
