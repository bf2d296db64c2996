// Stateless reset tokens derived from a host key (stack/reset_token.h):
// HMAC-SHA256(key, CID) cut to 16 bytes (RFC 9000 §10.3.2), checked against
// values computed with Python's hmac module.
#include "reset_token.h"

#include <gtest/gtest.h>

#include <vector>

#include "gnutls_crypto.h"
#include "hex.h"

namespace quicbed {
namespace {

using test::as_bytes;
using test::from_hex;
using test::to_hex;
using Buf = std::vector<uint8_t>;

Buf range_key() {
  Buf k(32);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i);
  return k;
}

std::string token_of(CryptoBackend& crypto, const Buf& key, const Buf& cid) {
  uint8_t out[kStatelessResetTokenLen];
  Status s = derive_reset_token(crypto, as_bytes(key), as_bytes(cid), MutBytes(out));
  EXPECT_TRUE(s.is_ok()) << s.reason();
  return to_hex(Bytes(out, sizeof out));
}

TEST(ResetToken, KnownAnswers) {
  GnutlsCrypto crypto;
  // hmac.new(bytes(range(32)), bytes([1..8]), sha256).hexdigest()[:32]
  EXPECT_EQ(token_of(crypto, range_key(), from_hex("0102030405060708")), "5ea9633fb4bd1788197520638af1f7a6");
  // A 20-byte CID (RFC 9000 §17.2's maximum) under a key of 0xff bytes.
  EXPECT_EQ(token_of(crypto, Buf(32, 0xff), from_hex("000102030405060708090a0b0c0d0e0f10111213")),
            "5c0201f125a165d052f3103e67eeca5d");
  // Zero-length CIDs have no use for tokens, but the function is total.
  EXPECT_EQ(token_of(crypto, range_key(), {}), "d38b42096d80f45f826b44a9d5607de7");
}

TEST(ResetToken, DependsOnKeyAndCid) {
  GnutlsCrypto crypto;
  const Buf cid = from_hex("0102030405060708");
  Buf other_cid = cid;
  other_cid[7] ^= 1;
  Buf other_key = range_key();
  other_key[31] ^= 1;
  const std::string t = token_of(crypto, range_key(), cid);
  EXPECT_EQ(token_of(crypto, range_key(), cid), t);  // stateless: the same every time
  EXPECT_NE(token_of(crypto, range_key(), other_cid), t);
  EXPECT_NE(token_of(crypto, other_key, cid), t);
}

TEST(ResetToken, BadArgumentsAreInvalid) {
  GnutlsCrypto crypto;
  uint8_t out[kStatelessResetTokenLen];
  uint8_t big[17];
  const Buf key = range_key();
  const Buf cid(8, 1);
  EXPECT_EQ(derive_reset_token(crypto, Bytes(key.data(), 31), as_bytes(cid), MutBytes(out)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(derive_reset_token(crypto, as_bytes(Buf(33, 1)), as_bytes(cid), MutBytes(out)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(derive_reset_token(crypto, as_bytes(key), as_bytes(Buf(21, 1)), MutBytes(out)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(derive_reset_token(crypto, as_bytes(key), as_bytes(cid), MutBytes(big)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(derive_reset_token(crypto, as_bytes(key), as_bytes(cid), MutBytes(out, 15)).code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace quicbed
