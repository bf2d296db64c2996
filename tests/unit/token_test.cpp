// Address validation tokens (token.h): what one key seals only that key
// opens, for the same kind, version and address, within the lifetime.
#include <gtest/gtest.h>

#include <vector>

#include "gnutls_crypto.h"
#include "packet.h"  // kVersion1, kVersion2
#include "token.h"

namespace quicbed {
namespace {

using Buf = std::vector<uint8_t>;
constexpr uint64_t kSec = 1'000'000;

Bytes bytes_of(const Buf& b) { return Bytes(b.data(), b.size()); }

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < kTokenKeyLen; ++i) key_[i] = static_cast<uint8_t>(i * 7 + 1);
    ASSERT_TRUE(codec_.init(crypto_, Bytes(key_, kTokenKeyLen)).is_ok());
    content_.kind = TokenKind::kRetry;
    content_.issued = 100 * kSec;
    ASSERT_TRUE(content_.odcid.assign(bytes_of(Buf{1, 2, 3, 4, 5, 6, 7, 8})));
    ASSERT_TRUE(content_.rscid.assign(bytes_of(Buf{9, 9, 9, 9, 9, 9, 9, 9, 9, 9})));
  }

  Buf seal(const TokenContent& c, uint32_t version = kVersion1, const Buf& address = kAddress) {
    Buf out(kMaxOwnTokenLen);
    const uint8_t nonce[kTokenNonceLen] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac};
    auto n = codec_.seal(c, version, bytes_of(address), Bytes(nonce), MutBytes(out.data(), out.size()));
    EXPECT_TRUE(n.is_ok()) << n.status().reason();
    out.resize(n.is_ok() ? *n : 0);
    return out;
  }

  Result<TokenContent> open(const Buf& token, uint64_t now = 101 * kSec, uint32_t version = kVersion1,
                            const Buf& address = kAddress) {
    return codec_.open(bytes_of(token), version, bytes_of(address), now, lifetimes_);
  }

  static inline const Buf kAddress = {10, 0, 0, 1, 0x11, 0x5c};
  GnutlsCrypto crypto_;
  uint8_t key_[kTokenKeyLen];
  TokenCodec codec_;
  TokenContent content_;
  TokenLifetimes lifetimes_;
};

TEST_F(TokenTest, RetryTokenRoundTrip) {
  const Buf token = seal(content_);
  ASSERT_LE(token.size(), kMaxOwnTokenLen);
  EXPECT_EQ(token[0], static_cast<uint8_t>(TokenKind::kRetry));
  auto c = open(token);
  ASSERT_TRUE(c.is_ok()) << c.status().reason();
  EXPECT_EQ(c->kind, TokenKind::kRetry);
  EXPECT_EQ(c->issued, content_.issued);
  EXPECT_EQ(c->odcid, content_.odcid);
  EXPECT_EQ(c->rscid, content_.rscid);
  TokenKind kind;
  ASSERT_TRUE(TokenCodec::peek_kind(bytes_of(token), &kind));
  EXPECT_EQ(kind, TokenKind::kRetry);
}

TEST_F(TokenTest, NewTokenRoundTripWithoutConnectionIds) {
  TokenContent c;
  c.kind = TokenKind::kNewToken;
  c.issued = 5 * kSec;
  const Buf token = seal(c);
  auto got = open(token, 3600 * kSec);
  ASSERT_TRUE(got.is_ok()) << got.status().reason();
  EXPECT_EQ(got->kind, TokenKind::kNewToken);
  EXPECT_EQ(got->odcid.len, 0);
}

// §8.1.3: bound to the address it was given to; RFC 9369 §5: to its version.
TEST_F(TokenTest, AnotherAddressOrVersionIsInvalid) {
  const Buf token = seal(content_);
  auto other_address = open(token, 101 * kSec, kVersion1, Buf{10, 0, 0, 2, 0x11, 0x5c});
  ASSERT_FALSE(other_address.is_ok());
  EXPECT_EQ(other_address.status().code(), ErrorCode::kInvalidToken);
  auto other_version = open(token, 101 * kSec, kVersion2);
  ASSERT_FALSE(other_version.is_ok());
  EXPECT_EQ(other_version.status().code(), ErrorCode::kInvalidToken);
}

// §8.1.4: integrity. Every single-bit change anywhere fails, the kind byte
// included (a Retry token does not pass as a NEW_TOKEN one).
TEST_F(TokenTest, EveryAlteredBitIsInvalid) {
  const Buf token = seal(content_);
  for (size_t i = 0; i < token.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Buf t = token;
      t[i] ^= static_cast<uint8_t>(1 << bit);
      auto r = open(t);
      ASSERT_FALSE(r.is_ok()) << "byte " << i << " bit " << bit;
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidToken);
    }
  }
  Buf truncated(token.begin(), token.end() - 1);
  EXPECT_FALSE(open(truncated).is_ok());
  Buf longer = token;
  longer.push_back(0);
  EXPECT_FALSE(open(longer).is_ok());
  EXPECT_FALSE(open(Buf{}).is_ok());
}

TEST_F(TokenTest, AnotherKeyIsInvalid) {
  const Buf token = seal(content_);
  uint8_t other[kTokenKeyLen] = {};
  TokenCodec codec;
  ASSERT_TRUE(codec.init(crypto_, Bytes(other, kTokenKeyLen)).is_ok());
  auto r = codec.open(bytes_of(token), kVersion1, bytes_of(kAddress), 101 * kSec, lifetimes_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidToken);
}

TEST_F(TokenTest, ExpiryAndFutureIssueTimes) {
  const Buf retry = seal(content_);
  EXPECT_TRUE(open(retry, content_.issued + lifetimes_.retry_us).is_ok());
  auto expired = open(retry, content_.issued + lifetimes_.retry_us + 1);
  ASSERT_FALSE(expired.is_ok());
  EXPECT_STREQ(expired.status().reason(), "token expired");
  // Issued "later" than now (more than the slack): only a forger says so.
  auto future = open(retry, content_.issued - 2 * kSec);
  ASSERT_FALSE(future.is_ok());
  EXPECT_EQ(future.status().code(), ErrorCode::kInvalidToken);

  TokenContent c;
  c.kind = TokenKind::kNewToken;
  c.issued = 0;
  const Buf nt = seal(c);
  EXPECT_TRUE(open(nt, lifetimes_.new_token_us).is_ok());
  EXPECT_FALSE(open(nt, lifetimes_.new_token_us + 1).is_ok());
}

TEST_F(TokenTest, TokensOfOthersAndBadArguments) {
  TokenKind kind;
  EXPECT_FALSE(TokenCodec::peek_kind(bytes_of(Buf{0x00, 1, 2, 3}), &kind));
  EXPECT_FALSE(TokenCodec::peek_kind(Bytes(), &kind));
  auto r = open(Buf(60, 0x33));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidToken);

  TokenCodec codec;
  EXPECT_EQ(codec.init(crypto_, Bytes(key_, 16)).code(), ErrorCode::kInvalidArgument);
  Buf out(kMaxOwnTokenLen);
  const uint8_t nonce[kTokenNonceLen] = {};
  EXPECT_FALSE(codec.seal(content_, kVersion1, bytes_of(kAddress), Bytes(nonce), MutBytes(out.data(), out.size()))
                   .is_ok());
  EXPECT_EQ(codec_.seal(content_, kVersion1, bytes_of(kAddress), Bytes(nonce, 4), MutBytes(out.data(), out.size()))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(codec_.seal(content_, kVersion1, bytes_of(kAddress), Bytes(nonce), MutBytes(out.data(), 20))
                .status()
                .code(),
            ErrorCode::kBufferTooSmall);
}

}  // namespace
}  // namespace quicbed
