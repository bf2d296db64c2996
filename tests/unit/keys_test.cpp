// The key schedule and packet protection against RFC 9001 Appendix A and
// RFC 9369 Appendix A, byte for byte, on the GnuTLS backend.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gnutls_crypto.h"
#include "hex.h"
#include "keys.h"
#include "malloc_allocator.h"
#include "protection.h"

namespace quicbed {
namespace {

using test::as_bytes;
using test::from_hex;
using test::to_hex;

// Forwards to GnuTLS while counting live objects (to prove every object is
// returned) and recording HKDF-Expand's info (to check HkdfLabel).
class CountingBackend final : public CryptoBackend {
 public:
  Status hkdf_extract(HashAlg h, Bytes salt, Bytes ikm, MutBytes prk) override {
    return inner.hkdf_extract(h, salt, ikm, prk);
  }
  Status hkdf_expand(HashAlg h, Bytes prk, Bytes info, MutBytes out) override {
    infos.emplace_back(info.begin(), info.end());
    return inner.hkdf_expand(h, prk, info, out);
  }
  Aead* new_aead(CipherSuite s, Bytes key) override {
    if (fail_aead) return nullptr;
    Aead* a = inner.new_aead(s, key);
    if (a) ++live;
    return a;
  }
  void free_aead(Aead* a) override {
    --live;
    inner.free_aead(a);
  }
  HeaderCipher* new_header_cipher(CipherSuite s, Bytes hp_key) override {
    HeaderCipher* h = inner.new_header_cipher(s, hp_key);
    if (h) ++live;
    return h;
  }
  void free_header_cipher(HeaderCipher* h) override {
    --live;
    inner.free_header_cipher(h);
  }

  GnutlsCrypto inner;
  int live = 0;
  bool fail_aead = false;
  std::vector<std::vector<uint8_t>> infos;
};

class RefusingAllocator final : public Allocator {
 public:
  void* allocate(size_t, size_t) override { return nullptr; }
  void deallocate(void*, size_t) override {}
};

class KeysTest : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_EQ(backend.live, 0) << "backend objects leaked";
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
  }

  std::string expand_label_hex(HashAlg h, const char* hex_secret, const char* label,
                               size_t len) {
    auto secret = from_hex(hex_secret);
    std::vector<uint8_t> out(len);
    EXPECT_TRUE(hkdf_expand_label(backend, h, as_bytes(secret), label, Bytes(), MutBytes(out)).is_ok());
    return to_hex(as_bytes(out));
  }

  CountingBackend backend;
  MallocAllocator alloc;
};

const VersionCrypto& v1() { return *version_crypto(kVersion1); }
const VersionCrypto& v2() { return *version_crypto(kVersion2); }

const char kClientDcid[] = "8394c8f03e515708";

// ---------------------------------------------------------------------------
// RFC 9001 A.1 / RFC 9369 A.1: keys.

struct DirectionKeys {
  const char* secret;
  const char* key;
  const char* iv;
  const char* hp;
};

void expect_keys(CryptoBackend& b, const VersionCrypto& v, const Secret& secret, const DirectionKeys& want) {
  EXPECT_EQ(to_hex(secret.bytes()), want.secret);
  uint8_t key[16], iv[12], hp[16];
  ASSERT_TRUE(derive_key_iv(b, kInitialSuite, v, secret.bytes(), MutBytes(key), MutBytes(iv)).is_ok());
  ASSERT_TRUE(derive_hp_key(b, kInitialSuite, v, secret.bytes(), MutBytes(hp)).is_ok());
  EXPECT_EQ(to_hex(Bytes(key)), want.key);
  EXPECT_EQ(to_hex(Bytes(iv)), want.iv);
  EXPECT_EQ(to_hex(Bytes(hp)), want.hp);
}

TEST_F(KeysTest, V1InitialKeys) {
  auto dcid = from_hex(kClientDcid);
  auto s = derive_initial_secrets(backend, v1(), as_bytes(dcid));
  ASSERT_TRUE(s.is_ok());
  expect_keys(backend, v1(), s->client,
              {"c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
               "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"});
  expect_keys(backend, v1(), s->server,
              {"3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
               "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"});
}

TEST_F(KeysTest, V2InitialKeys) {
  auto dcid = from_hex(kClientDcid);
  auto s = derive_initial_secrets(backend, v2(), as_bytes(dcid));
  ASSERT_TRUE(s.is_ok());
  expect_keys(backend, v2(), s->client,
              {"14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
               "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"});
  expect_keys(backend, v2(), s->server,
              {"0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
               "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"});
}

// A.1 lists the HkdfLabel each derivation hands to HKDF-Expand.
TEST_F(KeysTest, HkdfLabelEncoding) {
  auto dcid = from_hex(kClientDcid);
  ASSERT_TRUE(derive_initial_secrets(backend, v1(), as_bytes(dcid)).is_ok());
  ASSERT_EQ(backend.infos.size(), 2u);
  EXPECT_EQ(to_hex(as_bytes(backend.infos[0])), "00200f746c73313320636c69656e7420696e00");
  EXPECT_EQ(to_hex(as_bytes(backend.infos[1])), "00200f746c7331332073657276657220696e00");

  uint8_t secret[32] = {}, key[16], iv[12], hp[16];
  struct {
    const VersionCrypto& v;
    const char* key;
    const char* iv;
    const char* hp;
  } cases[] = {
      {v1(), "00100e746c7331332071756963206b657900", "000c0d746c733133207175696320697600",
       "00100d746c733133207175696320687000"},
      {v2(), "001010746c73313320717569637632206b657900", "000c0f746c7331332071756963763220697600",
       "00100f746c7331332071756963763220687000"},
  };
  for (auto& c : cases) {
    backend.infos.clear();
    ASSERT_TRUE(derive_key_iv(backend, kInitialSuite, c.v, Bytes(secret), MutBytes(key), MutBytes(iv)).is_ok());
    ASSERT_TRUE(derive_hp_key(backend, kInitialSuite, c.v, Bytes(secret), MutBytes(hp)).is_ok());
    ASSERT_EQ(backend.infos.size(), 3u);
    EXPECT_EQ(to_hex(as_bytes(backend.infos[0])), c.key);
    EXPECT_EQ(to_hex(as_bytes(backend.infos[1])), c.iv);
    EXPECT_EQ(to_hex(as_bytes(backend.infos[2])), c.hp);
  }

  // A context goes after the label with its one-byte length.
  backend.infos.clear();
  uint8_t ctx[3] = {0xaa, 0xbb, 0xcc}, out[5];
  ASSERT_TRUE(hkdf_expand_label(backend, HashAlg::kSha256, Bytes(secret), "x", Bytes(ctx), MutBytes(out)).is_ok());
  EXPECT_EQ(to_hex(as_bytes(backend.infos[0])), "000507746c7331332078" "03aabbcc");
}

TEST_F(KeysTest, HkdfLabelBounds) {
  uint8_t secret[32] = {}, out[16];
  uint8_t ctx[kMaxHkdfContextLen + 1] = {};
  const char* long_label = "abcdefghijklmnopqrstuvwxyz0123456";  // 33 bytes
  const char* max_label = "abcdefghijklmnopqrstuvwxyz012345";   // 32 bytes
  auto expand = [&](const char* label, Bytes context, MutBytes o) {
    return hkdf_expand_label(backend, HashAlg::kSha256, Bytes(secret), label, context, o).code();
  };
  EXPECT_EQ(expand(max_label, Bytes(ctx, kMaxHkdfContextLen), MutBytes(out)), ErrorCode::kNoError);
  EXPECT_EQ(expand(long_label, Bytes(), MutBytes(out)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(expand("", Bytes(), MutBytes(out)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(expand("quic key", Bytes(ctx), MutBytes(out)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(expand("quic key", Bytes(), MutBytes()), ErrorCode::kInvalidArgument);
  std::vector<uint8_t> big(255 * 32 + 1);
  EXPECT_EQ(expand("quic key", Bytes(), MutBytes(big)), ErrorCode::kInvalidArgument);
}

TEST_F(KeysTest, VersionLookup) {
  EXPECT_EQ(version_crypto(kVersion1)->version, kVersion1);
  EXPECT_STREQ(version_crypto(kVersion1)->ku_label, "quic ku");
  EXPECT_STREQ(version_crypto(kVersion2)->ku_label, "quicv2 ku");
  EXPECT_EQ(version_crypto(0), nullptr);
  EXPECT_EQ(version_crypto(0xff00001d), nullptr);  // draft-29
  EXPECT_EQ(version_crypto(0x709a50c4), nullptr);  // the v2 draft codepoint
}

// RFC 9001 §5.8 and RFC 9369 §3.3.3 give the secret the Retry key and nonce
// come from; the constants must be what the labels derive.
TEST_F(KeysTest, RetryKeysDeriveFromTheirSecrets) {
  struct {
    const VersionCrypto& v;
    const char* secret;
  } cases[] = {
      {v1(), "d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e"},
      {v2(), "c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f"},
  };
  for (auto& c : cases) {
    EXPECT_EQ(expand_label_hex(HashAlg::kSha256, c.secret, c.v.key_label, 16),
              to_hex(Bytes(c.v.retry_key)));
    EXPECT_EQ(expand_label_hex(HashAlg::kSha256, c.secret, c.v.iv_label, 12),
              to_hex(Bytes(c.v.retry_nonce)));
  }
  EXPECT_EQ(to_hex(Bytes(v1().retry_key)), "be0c690b9f66575a1d766b54e368c84e");
  EXPECT_EQ(to_hex(Bytes(v1().retry_nonce)), "461599d35d632bf2239825bb");
  EXPECT_EQ(to_hex(Bytes(v2().retry_key)), "8fb4b01b56ac48e260fbcbcead7ccc92");
  EXPECT_EQ(to_hex(Bytes(v2().retry_nonce)), "d86969bc2d7c6d9990efb04a");
}

// ---------------------------------------------------------------------------
// RFC 9001 A.2-A.3 / RFC 9369 A.2-A.3: Initial packets.

// The CRYPTO frame of A.2, padded with PADDING to 1162 bytes.
const char kClientCrypto[] =
    "060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a 00080006001d00170018001000070005"
    "04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408 050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806 048000ffff";
constexpr size_t kClientPayloadLen = 1162;

const char kV1ClientProtected[] =
    "c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

const char kV2ClientProtected[] =
    "d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

// The server's ACK and CRYPTO frames of A.3 (no padding).
const char kServerPayload[] =
    "02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00"
    "020304";

const char kV1ServerProtected[] =
    "cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

const char kV2ServerProtected[] =
    "dc6b3343cf0008f067a5502a4262b500 4075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf872630 17915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4c fa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ce da98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";

struct PacketVector {
  const char* header;     // unprotected, up to and including the packet number
  const char* payload;    // plaintext frames
  size_t payload_len;     // after PADDING
  size_t pn_offset;
  uint64_t pn;
  const char* protected_packet;
};

const PacketVector kV1Client{"c300000001088394c8f03e5157080000449e00000002", kClientCrypto, kClientPayloadLen, 18, 2,
                             kV1ClientProtected};
const PacketVector kV2Client{"d36b3343cf088394c8f03e5157080000449e00000002", kClientCrypto, kClientPayloadLen, 18, 2,
                             kV2ClientProtected};
const PacketVector kV1Server{"c1000000010008f067a5502a4262b50040750001", kServerPayload, 99, 18, 1,
                             kV1ServerProtected};
const PacketVector kV2Server{"d16b3343cf0008f067a5502a4262b50040750001", kServerPayload, 99, 18, 1,
                             kV2ServerProtected};

// header || payload padded with PADDING (0x00) || room for the tag.
std::vector<uint8_t> unprotected_packet(const PacketVector& pv) {
  auto packet = from_hex(pv.header);
  auto payload = from_hex(pv.payload);
  payload.resize(pv.payload_len, 0x00);
  packet.insert(packet.end(), payload.begin(), payload.end());
  packet.resize(packet.size() + kAeadTagLen, 0x00);
  return packet;
}

class InitialPacketTest : public KeysTest {
 protected:
  void init(PacketProtection& pp, const VersionCrypto& v, bool client) {
    auto dcid = from_hex(kClientDcid);
    auto secrets = derive_initial_secrets(backend, v, as_bytes(dcid));
    ASSERT_TRUE(secrets.is_ok());
    const Secret& s = client ? secrets->client : secrets->server;
    ASSERT_TRUE(pp.init(backend, kInitialSuite, v, s.bytes()).is_ok());
  }

  void check(const VersionCrypto& v, bool client, const PacketVector& pv) {
    PacketProtection pp;
    init(pp, v, client);
    auto header = from_hex(pv.header);
    size_t pn_len = header.size() - pv.pn_offset;

    auto packet = unprotected_packet(pv);
    auto want = from_hex(pv.protected_packet);
    ASSERT_EQ(packet.size(), want.size());
    ASSERT_TRUE(pp.protect(MutBytes(packet), pv.pn_offset, pn_len, pv.pn).is_ok());
    EXPECT_EQ(to_hex(as_bytes(packet)), to_hex(as_bytes(want)));

    // And back: the receiver learns the packet number length from the
    // unmasked first byte.
    auto pn = pp.unprotect_header(MutBytes(packet), pv.pn_offset);
    ASSERT_TRUE(pn.is_ok());
    EXPECT_EQ(pn->len, pn_len);
    EXPECT_EQ(pn->truncated, pv.pn);
    EXPECT_EQ(to_hex(Bytes(packet.data(), header.size())), pv.header);
    auto payload = pp.open(MutBytes(packet), pv.pn_offset + pn->len, pv.pn);
    ASSERT_TRUE(payload.is_ok());
    EXPECT_EQ(payload->data(), packet.data() + header.size());
    auto plain = unprotected_packet(pv);
    EXPECT_EQ(to_hex(*payload), to_hex(Bytes(plain.data() + header.size(), pv.payload_len)));
  }
};

TEST_F(InitialPacketTest, V1ClientInitial) { check(v1(), true, kV1Client); }
TEST_F(InitialPacketTest, V1ServerInitial) { check(v1(), false, kV1Server); }
TEST_F(InitialPacketTest, V2ClientInitial) { check(v2(), true, kV2Client); }
TEST_F(InitialPacketTest, V2ServerInitial) { check(v2(), false, kV2Server); }

// The intermediate values the RFCs show for header protection.
TEST_F(InitialPacketTest, SampleAndMask) {
  struct {
    const VersionCrypto& v;
    bool client;
    const char* sample;
    const char* mask;
  } cases[] = {
      {v1(), true, "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"},
      {v1(), false, "2cd0991cd25b0aac406a5816b6394100", "2ec0d8356a"},
      {v2(), true, "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80"},
      {v2(), false, "6f05d8a4398c47089698baeea26b91eb", "4dd92e91ea"},
  };
  for (auto& c : cases) {
    auto dcid = from_hex(kClientDcid);
    auto secrets = derive_initial_secrets(backend, c.v, as_bytes(dcid));
    ASSERT_TRUE(secrets.is_ok());
    uint8_t hp[16];
    ASSERT_TRUE(derive_hp_key(backend, kInitialSuite, c.v, (c.client ? secrets->client : secrets->server).bytes(),
                              MutBytes(hp))
                    .is_ok());
    HeaderCipher* hc = backend.new_header_cipher(kInitialSuite, Bytes(hp));
    ASSERT_NE(hc, nullptr);
    auto sample = from_hex(c.sample);
    uint8_t mask[5];
    ASSERT_TRUE(hc->mask(as_bytes(sample), mask).is_ok());
    EXPECT_EQ(to_hex(Bytes(mask)), c.mask);
    backend.free_header_cipher(hc);
  }
}

// Every prefix of a protected packet: too short to sample is kDropPacket;
// long enough to sample but cut is a failed decryption.
TEST_F(InitialPacketTest, TruncatedPackets) {
  PacketProtection pp;
  init(pp, v1(), true);
  const auto whole = from_hex(kV1ClientProtected);
  const size_t pn_offset = 18;
  for (size_t n = 0; n < whole.size(); ++n) {
    std::vector<uint8_t> packet(whole.begin(), whole.begin() + n);
    auto pn = pp.unprotect_header(MutBytes(packet), pn_offset);
    if (n < pn_offset + 4 + kHpSampleLen) {
      EXPECT_EQ(pn.status().code(), ErrorCode::kDropPacket) << n;
      continue;
    }
    ASSERT_TRUE(pn.is_ok()) << n;
    EXPECT_EQ(pn->len, 4u);
    EXPECT_EQ(pn->truncated, 2u);
    EXPECT_EQ(pp.open(MutBytes(packet), pn_offset + pn->len, 2).status().code(), ErrorCode::kDecryptFailed) << n;
  }
  // Too short to hold a tag after the header.
  std::vector<uint8_t> tiny(pn_offset + 4 + kAeadTagLen - 1);
  EXPECT_EQ(pp.open(MutBytes(tiny), pn_offset + 4, 2).status().code(), ErrorCode::kDropPacket);
  // The packet number field is past the end.
  std::vector<uint8_t> packet = whole;
  EXPECT_EQ(pp.unprotect_header(MutBytes(packet), packet.size()).status().code(), ErrorCode::kDropPacket);
  EXPECT_EQ(pp.unprotect_header(MutBytes(packet), SIZE_MAX).status().code(), ErrorCode::kDropPacket);
  EXPECT_EQ(pp.unprotect_header(MutBytes(packet), 0).status().code(), ErrorCode::kDropPacket);
}

// Any changed bit in the header (associated data), the ciphertext or the tag
// fails authentication.
TEST_F(InitialPacketTest, TamperedPacketsFailToDecrypt) {
  PacketProtection pp;
  init(pp, v1(), true);
  const auto whole = from_hex(kV1ClientProtected);
  const size_t pn_offset = 18;
  const size_t positions[] = {
      1,                          // version
      6,                          // DCID
      pn_offset + 1,              // packet number
      pn_offset + 4,              // first ciphertext byte (also in the sample)
      pn_offset + 4 + 100,        // ciphertext
      whole.size() - 1,           // tag
      whole.size() - kAeadTagLen  // tag
  };
  for (size_t pos : positions) {
    auto packet = whole;
    packet[pos] ^= 0x01;
    auto pn = pp.unprotect_header(MutBytes(packet), pn_offset);
    ASSERT_TRUE(pn.is_ok()) << pos;
    // A change to the sample scrambles the unmasked packet number too; open
    // with the number it yields, as a receiver would.
    auto r = pp.open(MutBytes(packet), pn_offset + pn->len, pn->truncated);
    EXPECT_EQ(r.status().code(), ErrorCode::kDecryptFailed) << pos;
  }
  // The right packet but the wrong packet number (wrong nonce).
  auto packet = whole;
  ASSERT_TRUE(pp.unprotect_header(MutBytes(packet), pn_offset).is_ok());
  EXPECT_EQ(pp.open(MutBytes(packet), pn_offset + 4, 3).status().code(), ErrorCode::kDecryptFailed);
  // The client's keys cannot open what the server sent.
  auto server = from_hex(kV1ServerProtected);
  auto pn = pp.unprotect_header(MutBytes(server), 18);
  ASSERT_TRUE(pn.is_ok());
  EXPECT_EQ(pp.open(MutBytes(server), 18 + pn->len, pn->truncated).status().code(), ErrorCode::kDecryptFailed);
}

TEST_F(InitialPacketTest, ProtectRejectsBadLayout) {
  PacketProtection pp;
  init(pp, v1(), true);
  const auto plain = unprotected_packet(kV1Client);
  auto expect_rejected = [&](std::vector<uint8_t> packet, size_t pn_offset, size_t pn_len) {
    auto before = packet;
    EXPECT_EQ(pp.protect(MutBytes(packet), pn_offset, pn_len, 2).code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(packet, before) << "a refused packet is left untouched";
  };
  expect_rejected(plain, 18, 0);
  expect_rejected(plain, 18, 5);
  expect_rejected(plain, 18, 2);  // the first byte says 4
  expect_rejected(plain, 0, 4);
  // RFC 9001 §5.4.2: with a 1-byte packet number the sample needs 3 bytes of
  // frames; 2 are refused.
  std::vector<uint8_t> short_packet(plain.begin(), plain.begin() + 19 + 2);
  short_packet[0] = 0xc0;
  short_packet.resize(short_packet.size() + kAeadTagLen);
  expect_rejected(short_packet, 18, 1);
  short_packet.assign(plain.begin(), plain.begin() + 19 + 3);
  short_packet[0] = 0xc0;
  short_packet.resize(short_packet.size() + kAeadTagLen);
  EXPECT_TRUE(pp.protect(MutBytes(short_packet), 18, 1, 2).is_ok());

  PacketProtection empty;
  auto packet = plain;
  EXPECT_EQ(empty.protect(MutBytes(packet), 18, 4, 2).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.unprotect_header(MutBytes(packet), 18).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.open(MutBytes(packet), 22, 2).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.update_keys().code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// RFC 9001 A.4 / RFC 9369 A.4: Retry.

TEST_F(KeysTest, RetryIntegrityTag) {
  struct {
    const VersionCrypto& v;
    const char* retry;
  } cases[] = {
      {v1(), "ff000000010008f067a5502a4262b574 6f6b656e04a265ba2eff4d829058fb3f 0f2496ba"},
      {v2(), "cf6b3343cf0008f067a5502a4262b574 6f6b656ec8646ce8bfe33952d9555436 65dcc7b6"},
  };
  auto odcid = from_hex(kClientDcid);
  for (auto& c : cases) {
    auto retry = from_hex(c.retry);
    Bytes body = as_bytes(retry).first(retry.size() - kAeadTagLen);
    uint8_t tag[kAeadTagLen];
    ASSERT_TRUE(compute_retry_tag(backend, alloc, c.v, as_bytes(odcid), body, MutBytes(tag)).is_ok());
    EXPECT_EQ(to_hex(Bytes(tag)), to_hex(as_bytes(retry).last(kAeadTagLen)));
    EXPECT_TRUE(verify_retry_tag(backend, alloc, c.v, as_bytes(odcid), as_bytes(retry)).is_ok());

    // Any other ODCID, version, packet byte or tag byte is a mismatch.
    auto other_odcid = odcid;
    other_odcid[0] ^= 1;
    EXPECT_EQ(verify_retry_tag(backend, alloc, c.v, as_bytes(other_odcid), as_bytes(retry)).code(),
              ErrorCode::kDropPacket);
    const VersionCrypto& other_version = &c.v == &v1() ? v2() : v1();
    EXPECT_EQ(verify_retry_tag(backend, alloc, other_version, as_bytes(odcid), as_bytes(retry)).code(),
              ErrorCode::kDropPacket);
    for (size_t pos : {size_t{0}, size_t{7}, retry.size() - 1}) {
      auto bad = retry;
      bad[pos] ^= 0x80;
      EXPECT_EQ(verify_retry_tag(backend, alloc, c.v, as_bytes(odcid), as_bytes(bad)).code(), ErrorCode::kDropPacket)
          << pos;
    }
  }
}

TEST_F(KeysTest, RetryBadInputs) {
  auto odcid = from_hex(kClientDcid);
  auto retry = from_hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
  for (size_t n = 0; n < kAeadTagLen; ++n) {
    EXPECT_EQ(verify_retry_tag(backend, alloc, v1(), as_bytes(odcid), Bytes(retry.data(), n)).code(),
              ErrorCode::kDropPacket);
  }
  std::vector<uint8_t> long_odcid(21, 0x11);
  uint8_t tag[kAeadTagLen];
  EXPECT_EQ(compute_retry_tag(backend, alloc, v1(), as_bytes(long_odcid), as_bytes(retry), MutBytes(tag)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(compute_retry_tag(backend, alloc, v1(), as_bytes(odcid), as_bytes(retry), MutBytes(tag, 15)).code(),
            ErrorCode::kInvalidArgument);
  RefusingAllocator refusing;
  EXPECT_EQ(verify_retry_tag(backend, refusing, v1(), as_bytes(odcid), as_bytes(retry)).code(), ErrorCode::kNoMemory);
  // A 20-byte ODCID is the longest allowed.
  std::vector<uint8_t> max_odcid(20, 0x11);
  EXPECT_TRUE(compute_retry_tag(backend, alloc, v1(), as_bytes(max_odcid), as_bytes(retry), MutBytes(tag)).is_ok());
}

// ---------------------------------------------------------------------------
// RFC 9001 A.5 / RFC 9369 A.5: ChaCha20-Poly1305 short header packet.

struct ChaChaVector {
  const VersionCrypto& v;
  const char* key;
  const char* iv;
  const char* hp;
  const char* ku;
  const char* packet;
};

const char kChaChaSecret[] = "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";
constexpr uint64_t kChaChaPn = 654360564;

TEST_F(KeysTest, ChaCha20ShortHeader) {
  const ChaChaVector cases[] = {
      {v1(), "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8", "e0459b3474bdd0e44a41c144",
       "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4",
       "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9",
       "4cfe4189655e5cd55c41f69080575d7999c25a5bfb"},
      {v2(), "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2", "a6b5bc6ab7dafce30ffff5dd",
       "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2",
       "c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88",
       "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba"},
  };
  constexpr CipherSuite kSuite = CipherSuite::kChaCha20Poly1305Sha256;
  auto secret = from_hex(kChaChaSecret);
  for (auto& c : cases) {
    uint8_t key[32], iv[12], hp[32];
    ASSERT_TRUE(derive_key_iv(backend, kSuite, c.v, as_bytes(secret), MutBytes(key), MutBytes(iv)).is_ok());
    ASSERT_TRUE(derive_hp_key(backend, kSuite, c.v, as_bytes(secret), MutBytes(hp)).is_ok());
    EXPECT_EQ(to_hex(Bytes(key)), c.key);
    EXPECT_EQ(to_hex(Bytes(iv)), c.iv);
    EXPECT_EQ(to_hex(Bytes(hp)), c.hp);
    auto ku = next_generation_secret(backend, kSuite, c.v, as_bytes(secret));
    ASSERT_TRUE(ku.is_ok());
    EXPECT_EQ(to_hex(ku->bytes()), c.ku);

    PacketProtection pp;
    ASSERT_TRUE(pp.init(backend, kSuite, c.v, as_bytes(secret)).is_ok());
    // Short header, empty DCID, 3-byte packet number 0x00bff4, PING.
    auto packet = from_hex("4200bff4" "01");
    packet.resize(packet.size() + kAeadTagLen);
    ASSERT_TRUE(pp.protect(MutBytes(packet), 1, 3, kChaChaPn).is_ok());
    EXPECT_EQ(to_hex(as_bytes(packet)), c.packet);

    auto pn = pp.unprotect_header(MutBytes(packet), 1);
    ASSERT_TRUE(pn.is_ok());
    EXPECT_EQ(pn->len, 3u);
    EXPECT_EQ(pn->truncated, 0x00bff4u);
    EXPECT_EQ(to_hex(Bytes(packet.data(), 4)), "4200bff4");
    auto payload = pp.open(MutBytes(packet), 4, kChaChaPn);
    ASSERT_TRUE(payload.is_ok());
    EXPECT_EQ(to_hex(*payload), "01");
  }
}

// RFC 9001 §5.4.1: short headers protect 5 bits of the first byte (Key
// Phase included), long headers 4; the bits above are never touched.
TEST_F(KeysTest, FirstByteMaskWidth) {
  auto secret = from_hex(kChaChaSecret);
  PacketProtection pp;
  ASSERT_TRUE(pp.init(backend, CipherSuite::kChaCha20Poly1305Sha256, v1(), as_bytes(secret)).is_ok());
  for (uint8_t first : {uint8_t{0x40}, uint8_t{0x44}, uint8_t{0xc0}, uint8_t{0xf0}}) {
    const bool long_header = first & 0x80;
    const size_t pn_offset = long_header ? 10 : 5;
    const uint8_t fixed = long_header ? 0xf0 : 0xe0;
    bool bit4_flipped = false;
    for (uint64_t pn = 0; pn < 32; ++pn) {
      std::vector<uint8_t> packet(1 + 20 + 4 + kAeadTagLen, 0x5a);
      packet[0] = first;
      ASSERT_TRUE(pp.protect(MutBytes(packet), pn_offset, 1, pn).is_ok());
      EXPECT_EQ(packet[0] & fixed, first & fixed) << int{first} << " " << pn;
      bit4_flipped |= ((packet[0] ^ first) & 0x10) != 0;
      auto pn_field = pp.unprotect_header(MutBytes(packet), pn_offset);
      ASSERT_TRUE(pn_field.is_ok());
      EXPECT_EQ(packet[0], first);
      EXPECT_EQ(pn_field->truncated, 0x5au);
      ASSERT_TRUE(pp.open(MutBytes(packet), pn_offset + 1, pn).is_ok());
    }
    EXPECT_EQ(bit4_flipped, !long_header) << int{first};
  }
}

// ---------------------------------------------------------------------------
// Other suites, key update, object lifetime.

TEST_F(KeysTest, Aes256GcmRoundTrip) {
  constexpr CipherSuite kSuite = CipherSuite::kAes256GcmSha384;
  std::vector<uint8_t> secret(48);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
  PacketProtection tx, rx;
  ASSERT_TRUE(tx.init(backend, kSuite, v1(), as_bytes(secret)).is_ok());
  ASSERT_TRUE(rx.init(backend, kSuite, v1(), as_bytes(secret)).is_ok());
  // A SHA-256-sized secret is refused for this suite.
  PacketProtection wrong;
  EXPECT_EQ(wrong.init(backend, kSuite, v1(), Bytes(secret.data(), 32)).code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(wrong.ready());

  // Short header: first byte, 8-byte DCID, 2-byte packet number.
  const uint64_t pn = 0x1234567;
  std::vector<uint8_t> plain = {0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x45, 0x67};
  for (int i = 0; i < 40; ++i) plain.push_back(static_cast<uint8_t>(i));
  plain.resize(plain.size() + kAeadTagLen);
  auto packet = plain;
  ASSERT_TRUE(tx.protect(MutBytes(packet), 9, 2, pn).is_ok());
  EXPECT_NE(to_hex(Bytes(packet.data() + 11, 40)), to_hex(Bytes(plain.data() + 11, 40)));
  EXPECT_EQ(to_hex(Bytes(packet.data() + 1, 8)), "0102030405060708");  // DCID in the clear

  auto pn_field = rx.unprotect_header(MutBytes(packet), 9);
  ASSERT_TRUE(pn_field.is_ok());
  EXPECT_EQ(pn_field->len, 2u);
  EXPECT_EQ(pn_field->truncated, 0x4567u);
  auto payload = rx.open(MutBytes(packet), 11, pn);
  ASSERT_TRUE(payload.is_ok());
  EXPECT_EQ(to_hex(*payload), to_hex(Bytes(plain.data() + 11, 40)));
  EXPECT_EQ(to_hex(Bytes(packet.data(), 11)), to_hex(Bytes(plain.data(), 11)));
}

TEST_F(KeysTest, KeyUpdate) {
  constexpr CipherSuite kSuite = CipherSuite::kChaCha20Poly1305Sha256;
  auto secret = from_hex(kChaChaSecret);
  // Each generation differs from the previous ones.
  std::vector<std::string> generations = {to_hex(as_bytes(secret))};
  Secret s;
  ASSERT_TRUE(s.assign(as_bytes(secret)).is_ok());
  for (int i = 0; i < 4; ++i) {
    auto next = next_generation_secret(backend, kSuite, v1(), s.bytes());
    ASSERT_TRUE(next.is_ok());
    s = *next;
    for (auto& g : generations) EXPECT_NE(to_hex(s.bytes()), g);
    generations.push_back(to_hex(s.bytes()));
  }
  // v2 uses its own label.
  auto v2_next = next_generation_secret(backend, kSuite, v2(), as_bytes(secret));
  ASSERT_TRUE(v2_next.is_ok());
  EXPECT_NE(to_hex(v2_next->bytes()), generations[1]);
  EXPECT_EQ(next_generation_secret(backend, kSuite, v1(), Bytes(secret.data(), 31)).status().code(),
            ErrorCode::kInvalidArgument);

  PacketProtection tx, rx;
  ASSERT_TRUE(tx.init(backend, kSuite, v1(), as_bytes(secret)).is_ok());
  ASSERT_TRUE(rx.init(backend, kSuite, v1(), as_bytes(secret)).is_ok());
  PayloadProtection rx_next;
  ASSERT_TRUE(rx.payload().next_generation(rx_next).is_ok());
  ASSERT_TRUE(tx.update_keys().is_ok());

  auto make = [&](uint64_t pn) {
    std::vector<uint8_t> p = {0x45, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04};  // key phase 1, 2-byte pn
    p[1] = static_cast<uint8_t>(pn >> 8);
    p[2] = static_cast<uint8_t>(pn);
    p.resize(p.size() + kAeadTagLen);
    return p;
  };
  auto packet = make(10);
  ASSERT_TRUE(tx.protect(MutBytes(packet), 1, 2, 10).is_ok());
  // Header protection did not change with the update: the old receiver
  // removes it and sees the Key Phase bit.
  auto pn = rx.unprotect_header(MutBytes(packet), 1);
  ASSERT_TRUE(pn.is_ok());
  EXPECT_EQ(pn->truncated, 10u);
  EXPECT_EQ(packet[0] & 0x04, 0x04);
  auto trial = packet;
  EXPECT_EQ(rx.open(MutBytes(trial), 3, 10).status().code(), ErrorCode::kDecryptFailed);
  auto with_next = packet;
  auto payload = rx_next.open(MutBytes(with_next), 3, 10);
  ASSERT_TRUE(payload.is_ok());
  EXPECT_EQ(to_hex(*payload), "01020304");
  ASSERT_TRUE(rx.update_keys().is_ok());
  ASSERT_TRUE(rx.open(MutBytes(packet), 3, 10).is_ok());
  // Updating a PayloadProtection onto itself is the same step.
  ASSERT_TRUE(rx_next.next_generation(rx_next).is_ok());

  // A second update on both sides still round-trips; a receiver one
  // generation behind fails.
  ASSERT_TRUE(tx.update_keys().is_ok());
  packet = make(11);
  ASSERT_TRUE(tx.protect(MutBytes(packet), 1, 2, 11).is_ok());
  ASSERT_TRUE(rx.unprotect_header(MutBytes(packet), 1).is_ok());
  trial = packet;
  EXPECT_EQ(rx.open(MutBytes(trial), 3, 11).status().code(), ErrorCode::kDecryptFailed);
  ASSERT_TRUE(rx.update_keys().is_ok());
  auto copy = packet;
  EXPECT_TRUE(rx.open(MutBytes(packet), 3, 11).is_ok());
  EXPECT_TRUE(rx_next.open(MutBytes(copy), 3, 11).is_ok());
}

TEST_F(KeysTest, MovesTransferOwnership) {
  auto secret = from_hex(kChaChaSecret);
  PacketProtection a;
  ASSERT_TRUE(a.init(backend, CipherSuite::kChaCha20Poly1305Sha256, v1(), as_bytes(secret)).is_ok());
  EXPECT_EQ(backend.live, 2);
  PacketProtection b = std::move(a);
  EXPECT_FALSE(a.ready());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_TRUE(b.ready());
  EXPECT_EQ(backend.live, 2);
  auto packet = from_hex("4200bff401");
  packet.resize(packet.size() + kAeadTagLen);
  ASSERT_TRUE(b.protect(MutBytes(packet), 1, 3, kChaChaPn).is_ok());
  EXPECT_EQ(to_hex(as_bytes(packet)), "4cfe4189655e5cd55c41f69080575d7999c25a5bfb");

  PacketProtection c;
  ASSERT_TRUE(c.init(backend, kInitialSuite, v1(), Bytes(secret.data(), 32)).is_ok());
  EXPECT_EQ(backend.live, 4);
  c = std::move(b);  // c's own objects are returned
  EXPECT_EQ(backend.live, 2);
  // Re-initializing returns the previous objects too.
  ASSERT_TRUE(c.init(backend, kInitialSuite, v1(), Bytes(secret.data(), 32)).is_ok());
  EXPECT_EQ(backend.live, 2);
  c.header().reset();
  c.payload().reset();
  EXPECT_FALSE(c.ready());
  EXPECT_EQ(backend.live, 0);
}

TEST_F(KeysTest, BackendFailureLeavesNothingBehind) {
  auto secret = from_hex(kChaChaSecret);
  backend.fail_aead = true;
  PacketProtection pp;
  EXPECT_EQ(pp.init(backend, kInitialSuite, v1(), as_bytes(secret)).code(), ErrorCode::kCryptoBackend);
  EXPECT_FALSE(pp.ready());
  EXPECT_EQ(backend.live, 0);
  auto odcid = from_hex(kClientDcid);
  uint8_t tag[kAeadTagLen];
  EXPECT_EQ(compute_retry_tag(backend, alloc, v1(), as_bytes(odcid), as_bytes(secret), MutBytes(tag)).code(),
            ErrorCode::kCryptoBackend);
}

// RFC 9001 §6.6.
TEST(AeadLimits, Rfc9001Values) {
  EXPECT_EQ(aead_limits(CipherSuite::kAes128GcmSha256).confidentiality, uint64_t{1} << 23);
  EXPECT_EQ(aead_limits(CipherSuite::kAes128GcmSha256).integrity, uint64_t{1} << 52);
  EXPECT_EQ(aead_limits(CipherSuite::kAes256GcmSha384).confidentiality, uint64_t{1} << 23);
  EXPECT_EQ(aead_limits(CipherSuite::kAes256GcmSha384).integrity, uint64_t{1} << 52);
  EXPECT_EQ(aead_limits(CipherSuite::kChaCha20Poly1305Sha256).confidentiality, kU64Max);
  EXPECT_EQ(aead_limits(CipherSuite::kChaCha20Poly1305Sha256).integrity, uint64_t{1} << 36);
}

}  // namespace
}  // namespace quicbed
