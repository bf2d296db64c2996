// The GnuTLS CryptoBackend on its own: HKDF (RFC 5869), the AEADs in place
// and out of place, and both header protection ciphers (RFC 9001 §5.4.3,
// §5.4.4), with vectors from RFC 5869 A.1 and RFC 9001 A.2, A.4, A.5.
#include "gnutls_crypto.h"

#include <gtest/gtest.h>

#include <vector>

#include "hex.h"

namespace quicbed {
namespace {

using test::as_bytes;
using test::from_hex;
using test::to_hex;

class GnutlsCryptoTest : public ::testing::Test {
 protected:
  // RAII for the test's own backend objects.
  struct AeadHandle {
    GnutlsCrypto& b;
    Aead* a;
    ~AeadHandle() {
      if (a) b.free_aead(a);
    }
  };
  struct HpHandle {
    GnutlsCrypto& b;
    HeaderCipher* h;
    ~HpHandle() {
      if (h) b.free_header_cipher(h);
    }
  };

  GnutlsCrypto backend;
};

TEST_F(GnutlsCryptoTest, HkdfRfc5869Case1) {
  std::vector<uint8_t> ikm(22, 0x0b);
  auto salt = from_hex("000102030405060708090a0b0c");
  auto info = from_hex("f0f1f2f3f4f5f6f7f8f9");
  uint8_t prk[32];
  ASSERT_TRUE(backend.hkdf_extract(HashAlg::kSha256, as_bytes(salt), as_bytes(ikm), MutBytes(prk)).is_ok());
  EXPECT_EQ(to_hex(Bytes(prk)), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  uint8_t okm[42];
  ASSERT_TRUE(backend.hkdf_expand(HashAlg::kSha256, Bytes(prk), as_bytes(info), MutBytes(okm)).is_ok());
  EXPECT_EQ(to_hex(Bytes(okm)), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_F(GnutlsCryptoTest, HkdfExtractNeedsHashSizedOutput) {
  uint8_t prk[48];
  EXPECT_EQ(backend.hkdf_extract(HashAlg::kSha256, Bytes(), Bytes(), MutBytes(prk, 31)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend.hkdf_extract(HashAlg::kSha384, Bytes(), Bytes(), MutBytes(prk, 32)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(backend.hkdf_extract(HashAlg::kSha384, Bytes(), Bytes(prk, 8), MutBytes(prk, 48)).is_ok());
}

// RFC 9001 A.5: ChaCha20-Poly1305 seal of a PING under the A.5 key.
TEST_F(GnutlsCryptoTest, ChaCha20Poly1305Vector) {
  auto key = from_hex("c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8");
  auto nonce = from_hex("e0459b3474bdd0e46d417eb0");
  auto aad = from_hex("4200bff4");
  AeadHandle h{backend, backend.new_aead(CipherSuite::kChaCha20Poly1305Sha256, as_bytes(key))};
  ASSERT_NE(h.a, nullptr);
  uint8_t plain[1] = {0x01};
  uint8_t sealed[1 + kAeadTagLen];
  ASSERT_TRUE(h.a->seal(as_bytes(nonce), as_bytes(aad), Bytes(plain), MutBytes(sealed)).is_ok());
  EXPECT_EQ(to_hex(Bytes(sealed)), "655e5cd55c41f69080575d7999c25a5bfb");
  uint8_t opened[1];
  ASSERT_TRUE(h.a->open(as_bytes(nonce), as_bytes(aad), Bytes(sealed), MutBytes(opened)).is_ok());
  EXPECT_EQ(opened[0], 0x01);
}

// RFC 9001 A.4: the Retry tag is AES-128-GCM over an empty plaintext.
TEST_F(GnutlsCryptoTest, Aes128GcmEmptyPlaintextVector) {
  auto key = from_hex("be0c690b9f66575a1d766b54e368c84e");
  auto nonce = from_hex("461599d35d632bf2239825bb");
  auto aad = from_hex("088394c8f03e515708" "ff000000010008f067a5502a4262b5746f6b656e");
  AeadHandle h{backend, backend.new_aead(CipherSuite::kAes128GcmSha256, as_bytes(key))};
  ASSERT_NE(h.a, nullptr);
  uint8_t tag[kAeadTagLen];
  ASSERT_TRUE(h.a->seal(as_bytes(nonce), as_bytes(aad), Bytes(), MutBytes(tag)).is_ok());
  EXPECT_EQ(to_hex(Bytes(tag)), "04a265ba2eff4d829058fb3f0f2496ba");
  EXPECT_TRUE(h.a->open(as_bytes(nonce), as_bytes(aad), Bytes(tag), MutBytes()).is_ok());
  tag[0] ^= 1;
  EXPECT_EQ(h.a->open(as_bytes(nonce), as_bytes(aad), Bytes(tag), MutBytes()).code(), ErrorCode::kDecryptFailed);
}

// In place and out of place give the same bytes, for every suite, with and
// without associated data.
TEST_F(GnutlsCryptoTest, AeadInPlaceMatchesOutOfPlace) {
  const CipherSuite suites[] = {CipherSuite::kAes128GcmSha256, CipherSuite::kAes256GcmSha384,
                                CipherSuite::kChaCha20Poly1305Sha256};
  uint8_t nonce[kAeadIvLen] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<uint8_t> plain(300);
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i * 13);
  for (CipherSuite s : suites) {
    for (size_t aad_len : {size_t{0}, size_t{21}}) {
      std::vector<uint8_t> key(suite_key_len(s), 0x42);
      AeadHandle h{backend, backend.new_aead(s, as_bytes(key))};
      ASSERT_NE(h.a, nullptr);
      std::vector<uint8_t> aad(aad_len, 0x17);

      std::vector<uint8_t> out(plain.size() + kAeadTagLen);
      ASSERT_TRUE(h.a->seal(Bytes(nonce), as_bytes(aad), as_bytes(plain), MutBytes(out)).is_ok());
      auto in_place = plain;
      in_place.resize(plain.size() + kAeadTagLen);
      ASSERT_TRUE(
          h.a->seal(Bytes(nonce), as_bytes(aad), Bytes(in_place.data(), plain.size()), MutBytes(in_place)).is_ok());
      EXPECT_EQ(in_place, out);
      EXPECT_NE(to_hex(Bytes(out.data(), plain.size())), to_hex(as_bytes(plain)));

      std::vector<uint8_t> back(plain.size());
      ASSERT_TRUE(h.a->open(Bytes(nonce), as_bytes(aad), as_bytes(out), MutBytes(back)).is_ok());
      EXPECT_EQ(back, plain);
      ASSERT_TRUE(h.a->open(Bytes(nonce), as_bytes(aad), as_bytes(in_place), MutBytes(in_place.data(), plain.size()))
                      .is_ok());
      EXPECT_EQ(std::vector<uint8_t>(in_place.begin(), in_place.begin() + plain.size()), plain);

      // Tampering with associated data, ciphertext or tag; another nonce.
      for (size_t pos : {size_t{0}, size_t{299}, size_t{300}, size_t{315}}) {
        auto bad = out;
        bad[pos] ^= 0x20;
        EXPECT_EQ(h.a->open(Bytes(nonce), as_bytes(aad), as_bytes(bad), MutBytes(back)).code(),
                  ErrorCode::kDecryptFailed);
      }
      if (aad_len) {
        auto bad_aad = aad;
        bad_aad[3] ^= 1;
        EXPECT_EQ(h.a->open(Bytes(nonce), as_bytes(bad_aad), as_bytes(out), MutBytes(back)).code(),
                  ErrorCode::kDecryptFailed);
      }
      uint8_t other_nonce[kAeadIvLen] = {};
      EXPECT_EQ(h.a->open(Bytes(other_nonce), as_bytes(aad), as_bytes(out), MutBytes(back)).code(),
                ErrorCode::kDecryptFailed);
    }
  }
}

TEST_F(GnutlsCryptoTest, AeadSizeChecks) {
  std::vector<uint8_t> key(16, 1);
  AeadHandle h{backend, backend.new_aead(CipherSuite::kAes128GcmSha256, as_bytes(key))};
  ASSERT_NE(h.a, nullptr);
  uint8_t nonce[kAeadIvLen] = {}, buf[64] = {};
  EXPECT_EQ(h.a->seal(Bytes(nonce), Bytes(), Bytes(buf, 10), MutBytes(buf, 25)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.a->open(Bytes(nonce), Bytes(), Bytes(buf, 15), MutBytes()).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.a->open(Bytes(nonce), Bytes(), Bytes(buf, 26), MutBytes(buf, 11)).code(), ErrorCode::kInvalidArgument);
  // Key sizes follow the suite.
  EXPECT_EQ(backend.new_aead(CipherSuite::kAes128GcmSha256, Bytes(buf, 32)), nullptr);
  EXPECT_EQ(backend.new_aead(CipherSuite::kAes256GcmSha384, Bytes(buf, 16)), nullptr);
  EXPECT_EQ(backend.new_aead(CipherSuite::kChaCha20Poly1305Sha256, Bytes(buf, 16)), nullptr);
  EXPECT_EQ(backend.new_header_cipher(CipherSuite::kAes128GcmSha256, Bytes(buf, 32)), nullptr);
  EXPECT_EQ(backend.new_header_cipher(CipherSuite::kChaCha20Poly1305Sha256, Bytes(buf, 16)), nullptr);
}

// RFC 9001 A.2 (AES) and A.5 (ChaCha20, whose sample starts with a large
// block counter: this is what pins CHACHA20_32's IV to counter || nonce).
// Repeating a mask gives the same bytes: the AES cipher does not chain.
TEST_F(GnutlsCryptoTest, HeaderProtectionVectors) {
  struct {
    CipherSuite suite;
    const char* hp;
    const char* sample;
    const char* mask;
  } cases[] = {
      {CipherSuite::kAes128GcmSha256, "9f50449e04a0e810283a1e9933adedd2", "d1b1c98dd7689fb8ec11d242b123dc9b",
       "437b9aec36"},
      {CipherSuite::kChaCha20Poly1305Sha256, "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4",
       "5e5cd55c41f69080575d7999c25a5bfb", "aefefe7d03"},
  };
  for (auto& c : cases) {
    auto hp = from_hex(c.hp);
    HpHandle h{backend, backend.new_header_cipher(c.suite, as_bytes(hp))};
    ASSERT_NE(h.h, nullptr);
    auto sample = from_hex(c.sample);
    auto other = sample;
    other[15] ^= 1;
    uint8_t mask[5], other_mask[5];
    for (int round = 0; round < 3; ++round) {
      ASSERT_TRUE(h.h->mask(as_bytes(sample), mask).is_ok());
      EXPECT_EQ(to_hex(Bytes(mask)), c.mask) << round;
      ASSERT_TRUE(h.h->mask(as_bytes(other), other_mask).is_ok());
      EXPECT_NE(to_hex(Bytes(other_mask)), c.mask);
    }
    EXPECT_EQ(h.h->mask(Bytes(sample.data(), 15), mask).code(), ErrorCode::kInvalidArgument);
  }
}

// AES-256 header protection is AES-256-ECB: FIPS-197 C.3's block.
TEST_F(GnutlsCryptoTest, Aes256HeaderProtectionIsEcb) {
  auto key = from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  HpHandle h{backend, backend.new_header_cipher(CipherSuite::kAes256GcmSha384, as_bytes(key))};
  ASSERT_NE(h.h, nullptr);
  auto block = from_hex("00112233445566778899aabbccddeeff");
  uint8_t mask[5];
  ASSERT_TRUE(h.h->mask(as_bytes(block), mask).is_ok());
  EXPECT_EQ(to_hex(Bytes(mask)), "8ea2b7ca51");  // of 8ea2b7ca516745bfeafc49904b496089
}

}  // namespace
}  // namespace quicbed
