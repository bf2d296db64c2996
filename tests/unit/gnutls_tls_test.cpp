// The GnuTLS TlsSession: a client and a server in one process exchange
// handshake bytes in memory, level by level, as two connections would in
// CRYPTO frames. Certificates are made in-process by the fixture (a CA, a
// server certificate for "localhost"/"server", an unrelated CA), so nothing
// on disk can expire.
#include "gnutls_tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "hex.h"

namespace quicbed {
namespace {

using test::to_hex;
using Buf = std::vector<uint8_t>;

constexpr int kRead = static_cast<int>(KeyDirection::kRead);
constexpr int kWrite = static_cast<int>(KeyDirection::kWrite);
constexpr int idx(EncryptionLevel l) { return static_cast<int>(l); }
constexpr ErrorCode alert_code(TlsAlert a) {
  return static_cast<ErrorCode>(static_cast<uint64_t>(ErrorCode::kCryptoErrorBase) + static_cast<uint8_t>(a));
}

// ---------------------------------------------------------------- certificates

std::string export_pem(gnutls_x509_crt_t crt) {
  gnutls_datum_t d;
  EXPECT_GE(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
  std::string s(reinterpret_cast<char*>(d.data), d.size);
  gnutls_free(d.data);
  return s;
}

std::string export_pem(gnutls_x509_privkey_t key) {
  gnutls_datum_t d;
  EXPECT_GE(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), 0);
  std::string s(reinterpret_cast<char*>(d.data), d.size);
  gnutls_free(d.data);
  return s;
}

// An ECDSA P-256 key and a certificate valid from an hour ago for a day.
struct Identity {
  gnutls_x509_privkey_t key = nullptr;
  gnutls_x509_crt_t crt = nullptr;
  ~Identity() {
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_x509_privkey_deinit(key);
  }
};

// Self-signed when `issuer` is null; a CA when `sans` is empty.
void make_identity(Identity& id, const char* dn, const std::vector<std::string>& sans, const Identity* issuer,
                   uint8_t serial) {
  ASSERT_GE(gnutls_x509_privkey_init(&id.key), 0);
  ASSERT_GE(gnutls_x509_privkey_generate(id.key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
            0);
  ASSERT_GE(gnutls_x509_crt_init(&id.crt), 0);
  gnutls_x509_crt_t c = id.crt;
  ASSERT_GE(gnutls_x509_crt_set_version(c, 3), 0);
  ASSERT_GE(gnutls_x509_crt_set_serial(c, &serial, 1), 0);
  time_t now = time(nullptr);
  ASSERT_GE(gnutls_x509_crt_set_activation_time(c, now - 3600), 0);
  ASSERT_GE(gnutls_x509_crt_set_expiration_time(c, now + 86400), 0);
  ASSERT_GE(gnutls_x509_crt_set_dn(c, dn, nullptr), 0);
  ASSERT_GE(gnutls_x509_crt_set_key(c, id.key), 0);
  bool ca = sans.empty();
  ASSERT_GE(gnutls_x509_crt_set_basic_constraints(c, ca ? 1 : 0, -1), 0);
  if (ca) {
    ASSERT_GE(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
  } else {
    ASSERT_GE(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
    ASSERT_GE(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
    for (const std::string& san : sans) {
      ASSERT_GE(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, san.data(),
                                                     static_cast<unsigned>(san.size()), GNUTLS_FSAN_APPEND),
                0);
    }
  }
  unsigned char key_id[64];
  size_t key_id_len = sizeof key_id;
  ASSERT_GE(gnutls_x509_crt_get_key_id(c, 0, key_id, &key_id_len), 0);
  ASSERT_GE(gnutls_x509_crt_set_subject_key_id(c, key_id, key_id_len), 0);
  const Identity& signer = issuer ? *issuer : id;
  key_id_len = sizeof key_id;
  ASSERT_GE(gnutls_x509_crt_get_key_id(signer.crt, 0, key_id, &key_id_len), 0);
  ASSERT_GE(gnutls_x509_crt_set_authority_key_id(c, key_id, key_id_len), 0);
  ASSERT_GE(gnutls_x509_crt_sign2(c, signer.crt, signer.key, GNUTLS_DIG_SHA256, 0), 0);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------- a connection's view

struct SecretRecord {
  bool set = false;
  CipherSuite suite{};
  Buf bytes;
};

// Plays the connection: queues the bytes to send per level, records secrets
// and parameters, and checks the ordering rules the connection relies on.
struct Peer final : TlsCallbacks {
  std::unique_ptr<GnutlsTlsContext> ctx;
  std::unique_ptr<GnutlsTls> tls;
  Buf pending[kNumEncryptionLevels];
  bool sent_at[kNumEncryptionLevels] = {};
  std::vector<uint8_t> msg_types;  // handshake message types sent (RFC 8446 §4)
  SecretRecord secrets[kNumEncryptionLevels][2];
  Buf peer_tp;
  int peer_tp_calls = 0;
  int complete_calls = 0;
  Status tp_verdict;  // what on_tls_peer_transport_params answers
  Status status;      // the first error this endpoint's session returned

  Status on_tls_crypto_data(EncryptionLevel level, Bytes data) override {
    // Data above Initial needs that level's write key first.
    if (level != EncryptionLevel::kInitial) {
      EXPECT_TRUE(secrets[idx(level)][kWrite].set);
    }
    EXPECT_TRUE(carries_crypto_data(level));
    EXPECT_FALSE(data.empty());
    pending[idx(level)].insert(pending[idx(level)].end(), data.begin(), data.end());
    sent_at[idx(level)] = true;
    msg_types.push_back(data[0]);  // GnuTLS hands over one message per call
    return Status::ok();
  }
  Status on_tls_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret) override {
    SecretRecord& r = secrets[idx(level)][static_cast<int>(dir)];
    EXPECT_FALSE(r.set) << "secret reported twice";
    r.set = true;
    r.suite = suite;
    r.bytes.assign(secret.begin(), secret.end());
    return Status::ok();
  }
  Status on_tls_peer_transport_params(Bytes ext) override {
    ++peer_tp_calls;
    peer_tp.assign(ext.begin(), ext.end());
    return tp_verdict;
  }
  Status on_tls_handshake_complete() override {
    ++complete_calls;
    // RFC 9001 §4.1.1: every secret is known by then.
    EXPECT_TRUE(secrets[idx(EncryptionLevel::kApplication)][kRead].set);
    EXPECT_TRUE(secrets[idx(EncryptionLevel::kApplication)][kWrite].set);
    return Status::ok();
  }

  void note(Status s) {
    if (status.is_ok()) status = s;
  }
  bool failed() const { return !status.is_ok(); }
};

Buf client_tp() { return {0x0f, 0x04, 0xc1, 0x1e, 0x47, 0x01, 0x04, 0x44, 0x00, 0x01, 0x00}; }
Buf server_tp() { return {0x00, 0x02, 0xab, 0xcd, 0x0f, 0x02, 0x5e, 0x77, 0x08, 0x01, 0x64}; }

class GnutlsTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/quicbed-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    Identity ca, server, other_ca;
    make_identity(ca, "CN=quicbed test CA", {}, nullptr, 1);
    make_identity(server, "CN=localhost", {"localhost", "server"}, &ca, 2);
    make_identity(other_ca, "CN=quicbed untrusted CA", {}, nullptr, 3);
    write_file(path("ca.pem"), export_pem(ca.crt));
    write_file(path("other_ca.pem"), export_pem(other_ca.crt));
    write_file(path("server.pem"), export_pem(server.crt));
    write_file(path("server.key"), export_pem(server.key));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string path(const char* name) { return *dir_ + "/" + name; }

  void SetUp() override {
    client_cfg.role = Role::kClient;
    client_cfg.alpn = {"hq-interop"};
    client_cfg.server_name = "localhost";
    client_cfg.ca_file = path("ca.pem");
    server_cfg.role = Role::kServer;
    server_cfg.alpn = {"hq-interop"};
    server_cfg.cert_file = path("server.pem");
    server_cfg.key_file = path("server.key");
  }

  static void start(Peer& p, const GnutlsTlsConfig& cfg, const Buf& tp) {
    auto ctx = GnutlsTlsContext::create(cfg);
    ASSERT_TRUE(ctx.is_ok()) << ctx.status().reason();
    p.ctx = std::move(ctx).value();
    auto tls = p.ctx->new_session();
    ASSERT_TRUE(tls.is_ok()) << tls.status().reason();
    p.tls = std::move(tls).value();
    ASSERT_TRUE(p.tls->set_local_transport_params(Bytes(tp.data(), tp.size())).is_ok());
  }

  // Moves `from`'s pending bytes to `to` level by level, advancing `to`
  // after each level as a connection does when it decrypts a packet.
  static bool deliver(Peer& from, Peer& to) {
    bool moved = false;
    for (EncryptionLevel l : {EncryptionLevel::kInitial, EncryptionLevel::kHandshake, EncryptionLevel::kApplication}) {
      Buf& q = from.pending[idx(l)];
      if (q.empty() || to.failed()) continue;
      // The receiver can only decrypt once it holds the level's read key.
      if (l != EncryptionLevel::kInitial) {
        EXPECT_TRUE(to.secrets[idx(l)][kRead].set);
      }
      Buf data;
      data.swap(q);
      moved = true;
      to.note(to.tls->provide_data(l, Bytes(data.data(), data.size()), to));
      if (!to.failed()) to.note(to.tls->advance(to));
    }
    return moved;
  }

  void handshake() {
    start(client, client_cfg, client_tp());
    start(server, server_cfg, server_tp());
    if (!HasFatalFailure()) pump();
  }

  // Runs both sessions from the client's first flight until nothing moves.
  void pump() {
    client.note(client.tls->advance(client));
    for (int round = 0; round < 10; ++round) {
      bool moved = deliver(client, server);
      moved |= deliver(server, client);
      if (!moved) return;
    }
    ADD_FAILURE() << "handshake did not settle";
  }

  void expect_secret_pair(EncryptionLevel l, CipherSuite suite) {
    const SecretRecord* c = client.secrets[idx(l)];
    const SecretRecord* s = server.secrets[idx(l)];
    ASSERT_TRUE(c[kWrite].set && c[kRead].set && s[kWrite].set && s[kRead].set);
    EXPECT_EQ(c[kWrite].bytes, s[kRead].bytes);
    EXPECT_EQ(c[kRead].bytes, s[kWrite].bytes);
    EXPECT_NE(c[kWrite].bytes, c[kRead].bytes);
    EXPECT_EQ(c[kWrite].bytes.size(), hash_len(suite_hash(suite)));
    for (const SecretRecord* r : {&c[kWrite], &c[kRead], &s[kWrite], &s[kRead]}) EXPECT_EQ(r->suite, suite);
  }

  static std::string alpn_of(const GnutlsTls& t) { return std::string(t.alpn().begin(), t.alpn().end()); }

  static std::string* dir_;
  GnutlsTlsConfig client_cfg, server_cfg;
  Peer client, server;
};

std::string* GnutlsTlsTest::dir_ = nullptr;

TEST_F(GnutlsTlsTest, HandshakeCompletes) {
  handshake();
  ASSERT_TRUE(client.status.is_ok()) << client.status.reason();
  ASSERT_TRUE(server.status.is_ok()) << server.status.reason();
  EXPECT_TRUE(client.tls->handshake_complete());
  EXPECT_TRUE(server.tls->handshake_complete());
  EXPECT_EQ(client.complete_calls, 1);
  EXPECT_EQ(server.complete_calls, 1);

  // AES-128-GCM is first in the default preference.
  expect_secret_pair(EncryptionLevel::kHandshake, CipherSuite::kAes128GcmSha256);
  expect_secret_pair(EncryptionLevel::kApplication, CipherSuite::kAes128GcmSha256);
  EXPECT_NE(client.secrets[idx(EncryptionLevel::kHandshake)][kWrite].bytes,
            client.secrets[idx(EncryptionLevel::kApplication)][kWrite].bytes);
  for (Peer* p : {&client, &server}) {
    EXPECT_FALSE(p->secrets[idx(EncryptionLevel::kInitial)][kRead].set);
    EXPECT_FALSE(p->secrets[idx(EncryptionLevel::kEarlyData)][kWrite].set);
  }

  EXPECT_EQ(server.peer_tp, client_tp());
  EXPECT_EQ(client.peer_tp, server_tp());
  EXPECT_EQ(server.peer_tp_calls, 1);
  EXPECT_EQ(client.peer_tp_calls, 1);
  EXPECT_EQ(alpn_of(*client.tls), "hq-interop");
  EXPECT_EQ(alpn_of(*server.tls), "hq-interop");

  // RFC 9001 §4.1.4 Figure 4 (1-RTT handshake): ClientHello at Initial,
  // ServerHello at Initial, the rest of the server flight and the client's
  // Finished at Handshake; at 1-RTT only the server's NewSessionTicket.
  EXPECT_TRUE(client.sent_at[idx(EncryptionLevel::kInitial)]);
  EXPECT_TRUE(client.sent_at[idx(EncryptionLevel::kHandshake)]);
  EXPECT_FALSE(client.sent_at[idx(EncryptionLevel::kApplication)]);
  EXPECT_TRUE(server.sent_at[idx(EncryptionLevel::kInitial)]);
  EXPECT_TRUE(server.sent_at[idx(EncryptionLevel::kHandshake)]);
  EXPECT_TRUE(server.sent_at[idx(EncryptionLevel::kApplication)]);
  EXPECT_EQ(server.msg_types.back(), 4);  // NewSessionTicket
}

TEST_F(GnutlsTlsTest, NoTicketsWhenDisabled) {
  server_cfg.session_tickets = false;
  handshake();
  ASSERT_TRUE(client.status.is_ok() && server.status.is_ok());
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kApplication)]);
}

TEST_F(GnutlsTlsTest, ServerAlpnPreferenceWins) {
  client_cfg.alpn = {"h3", "hq-interop"};
  server_cfg.alpn = {"hq-interop", "h3"};
  handshake();
  ASSERT_TRUE(client.status.is_ok() && server.status.is_ok());
  EXPECT_EQ(alpn_of(*client.tls), "hq-interop");
  EXPECT_EQ(alpn_of(*server.tls), "hq-interop");
}

TEST_F(GnutlsTlsTest, AlpnMismatchIsNoApplicationProtocol) {
  client_cfg.alpn = {"h3"};
  handshake();
  // RFC 9001 §8.1: the server closes with 0x0178.
  EXPECT_EQ(server.status.code(), alert_code(TlsAlert::kNoApplicationProtocol));
  EXPECT_EQ(server.status.wire_code(), 0x178u);
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kInitial)]);
  EXPECT_FALSE(server.tls->handshake_complete());
  EXPECT_TRUE(client.status.is_ok());  // still waiting for the server
  EXPECT_TRUE(alpn_of(*server.tls).empty());
  // The failure is sticky.
  EXPECT_EQ(server.tls->advance(server).code(), alert_code(TlsAlert::kNoApplicationProtocol));
  Buf junk(4, 0);
  EXPECT_EQ(server.tls->provide_data(EncryptionLevel::kInitial, Bytes(junk.data(), junk.size()), server).code(),
            alert_code(TlsAlert::kNoApplicationProtocol));
}

TEST_F(GnutlsTlsTest, WrongHostnameIsBadCertificate) {
  client_cfg.server_name = "example.com";
  handshake();
  EXPECT_EQ(client.status.code(), alert_code(TlsAlert::kBadCertificate));
  EXPECT_EQ(client.status.wire_code(), 0x12au);
  EXPECT_FALSE(client.tls->handshake_complete());
  EXPECT_FALSE(client.secrets[idx(EncryptionLevel::kApplication)][kWrite].set);
  EXPECT_FALSE(client.sent_at[idx(EncryptionLevel::kHandshake)]);
}

TEST_F(GnutlsTlsTest, UntrustedCaIsUnknownCa) {
  client_cfg.ca_file = path("other_ca.pem");
  handshake();
  EXPECT_EQ(client.status.code(), alert_code(TlsAlert::kUnknownCa));
  EXPECT_EQ(client.status.wire_code(), 0x130u);
  EXPECT_FALSE(client.sent_at[idx(EncryptionLevel::kHandshake)]);
}

TEST_F(GnutlsTlsTest, SkippedVerificationAcceptsAnyCertificate) {
  client_cfg.verify_peer = false;
  client_cfg.ca_file = path("other_ca.pem");
  client_cfg.server_name = "example.com";
  handshake();
  EXPECT_TRUE(client.status.is_ok()) << client.status.reason();
  EXPECT_TRUE(server.status.is_ok());
  EXPECT_TRUE(client.tls->handshake_complete());
}

TEST_F(GnutlsTlsTest, SecondSanMatches) {
  client_cfg.server_name = "server";
  handshake();
  EXPECT_TRUE(client.status.is_ok()) << client.status.reason();
  EXPECT_TRUE(client.tls->handshake_complete());
}

TEST_F(GnutlsTlsTest, ChaCha20OnlyNegotiates0x1303) {
  client_cfg.cipher_suites = {CipherSuite::kChaCha20Poly1305Sha256};
  handshake();
  ASSERT_TRUE(client.status.is_ok() && server.status.is_ok());
  expect_secret_pair(EncryptionLevel::kHandshake, CipherSuite::kChaCha20Poly1305Sha256);
  expect_secret_pair(EncryptionLevel::kApplication, CipherSuite::kChaCha20Poly1305Sha256);
  EXPECT_EQ(static_cast<uint16_t>(client.secrets[idx(EncryptionLevel::kApplication)][kWrite].suite), 0x1303);
}

TEST_F(GnutlsTlsTest, Aes256GcmHasSha384Secrets) {
  server_cfg.cipher_suites = {CipherSuite::kAes256GcmSha384};
  handshake();
  ASSERT_TRUE(client.status.is_ok() && server.status.is_ok());
  expect_secret_pair(EncryptionLevel::kHandshake, CipherSuite::kAes256GcmSha384);
  expect_secret_pair(EncryptionLevel::kApplication, CipherSuite::kAes256GcmSha384);
  EXPECT_EQ(client.secrets[idx(EncryptionLevel::kHandshake)][kWrite].bytes.size(), 48u);
}

TEST_F(GnutlsTlsTest, NoCommonSuiteIsHandshakeFailure) {
  client_cfg.cipher_suites = {CipherSuite::kChaCha20Poly1305Sha256};
  server_cfg.cipher_suites = {CipherSuite::kAes128GcmSha256};
  handshake();
  EXPECT_EQ(server.status.code(), alert_code(TlsAlert::kHandshakeFailure));
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kInitial)]);
}

TEST_F(GnutlsTlsTest, ServerRejectingTransportParametersAbortsWithItsError) {
  server.tp_verdict = Status(ErrorCode::kTransportParameterError, "bad parameters");
  handshake();
  EXPECT_EQ(server.status.code(), ErrorCode::kTransportParameterError);
  EXPECT_EQ(server.peer_tp, client_tp());
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kInitial)]);
}

TEST_F(GnutlsTlsTest, ClientRejectingTransportParametersAbortsWithItsError) {
  client.tp_verdict = Status(ErrorCode::kTransportParameterError, "bad parameters");
  handshake();
  EXPECT_TRUE(server.status.is_ok());
  EXPECT_EQ(client.status.code(), ErrorCode::kTransportParameterError);
  EXPECT_EQ(client.peer_tp, server_tp());
  EXPECT_FALSE(client.sent_at[idx(EncryptionLevel::kHandshake)]);
  EXPECT_FALSE(client.secrets[idx(EncryptionLevel::kApplication)][kRead].set);
}

TEST_F(GnutlsTlsTest, CallbackErrorsAbortUnchanged) {
  // A connection that cannot queue the ClientHello.
  struct Full final : TlsCallbacks {
    Status on_tls_crypto_data(EncryptionLevel, Bytes) override { return ErrorCode::kLimitExceeded; }
    Status on_tls_secret(EncryptionLevel, KeyDirection, CipherSuite, Bytes) override { return Status::ok(); }
    Status on_tls_peer_transport_params(Bytes) override { return Status::ok(); }
    Status on_tls_handshake_complete() override { return Status::ok(); }
  } full;
  start(client, client_cfg, client_tp());
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(client.tls->advance(full).code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(client.tls->advance(client).code(), ErrorCode::kLimitExceeded);
}

TEST_F(GnutlsTlsTest, LocalTransportParametersRequiredBeforeStart) {
  auto ctx = GnutlsTlsContext::create(client_cfg);
  ASSERT_TRUE(ctx.is_ok());
  auto tls = ctx.value()->new_session();
  ASSERT_TRUE(tls.is_ok());
  GnutlsTls& t = *tls.value();
  EXPECT_EQ(t.advance(client).code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(client.sent_at[idx(EncryptionLevel::kInitial)]);
  Buf tp = client_tp();
  ASSERT_TRUE(t.set_local_transport_params(Bytes(tp.data(), tp.size())).is_ok());
  EXPECT_TRUE(t.advance(client).is_ok());
  EXPECT_TRUE(client.sent_at[idx(EncryptionLevel::kInitial)]);
  EXPECT_EQ(t.set_local_transport_params(Bytes(tp.data(), tp.size())).code(), ErrorCode::kInvalidArgument);
}

TEST_F(GnutlsTlsTest, NoCryptoDataAtZeroRtt) {
  start(server, server_cfg, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  uint8_t b = 1;
  EXPECT_EQ(server.tls->provide_data(EncryptionLevel::kEarlyData, Bytes(&b, 1), server).code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(GnutlsTlsTest, GarbageClientHelloIsAlerted) {
  start(server, server_cfg, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  // A handshake header announcing a ClientHello (type 1) of 4 bytes whose
  // body is no ClientHello.
  Buf junk = {0x01, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};
  server.note(server.tls->provide_data(EncryptionLevel::kInitial, Bytes(junk.data(), junk.size()), server));
  if (!server.failed()) server.note(server.tls->advance(server));
  EXPECT_GE(static_cast<uint64_t>(server.status.code()), 0x100u);
  EXPECT_LE(static_cast<uint64_t>(server.status.code()), 0x1ffu);
  EXPECT_EQ(server.status.code(), alert_code(TlsAlert::kDecodeError));
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kInitial)]);
}

TEST_F(GnutlsTlsTest, KeyUpdateMessageIsUnexpected) {
  handshake();
  ASSERT_TRUE(client.tls->handshake_complete() && server.tls->handshake_complete());
  // RFC 8446 §4.6.3 KeyUpdate (type 24), update_not_requested; RFC 9001 §6
  // forbids it in QUIC.
  Buf key_update = {24, 0x00, 0x00, 0x01, 0x00};
  Bytes message(key_update.data(), key_update.size());
  Status s = client.tls->provide_data(EncryptionLevel::kApplication, message, client);
  EXPECT_EQ(s.code(), alert_code(TlsAlert::kUnexpectedMessage));
  EXPECT_EQ(s.wire_code(), 0x10au);
  EXPECT_EQ(client.tls->advance(client).code(), alert_code(TlsAlert::kUnexpectedMessage));
}

TEST_F(GnutlsTlsTest, ConfigurationErrors) {
  GnutlsTlsConfig c = client_cfg;
  c.alpn.clear();
  EXPECT_EQ(GnutlsTlsContext::create(c).status().code(), ErrorCode::kInvalidArgument);
  c = client_cfg;
  c.alpn = {std::string(256, 'a')};
  EXPECT_EQ(GnutlsTlsContext::create(c).status().code(), ErrorCode::kInvalidArgument);
  c = client_cfg;
  c.ca_file = path("missing.pem");
  EXPECT_EQ(GnutlsTlsContext::create(c).status().code(), ErrorCode::kInvalidArgument);
  GnutlsTlsConfig s = server_cfg;
  s.cert_file.clear();
  EXPECT_EQ(GnutlsTlsContext::create(s).status().code(), ErrorCode::kInvalidArgument);
  s = server_cfg;
  s.key_file = path("ca.pem");
  EXPECT_EQ(GnutlsTlsContext::create(s).status().code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------- key log

// Parses NSS key log lines into label -> (client random, secret).
std::map<std::string, std::pair<std::string, std::string>> parse_keylog(const std::string& text, int* lines) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string label, random, secret;
  *lines = 0;
  while (in >> label >> random >> secret) {
    ++*lines;
    out[label] = {random, secret};
  }
  return out;
}

void expect_keylog_matches(const std::string& text, const Peer& client) {
  int lines = 0;
  auto log = parse_keylog(text, &lines);
  const auto& sec = client.secrets;
  std::map<std::string, const SecretRecord*> want = {
      {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", &sec[idx(EncryptionLevel::kHandshake)][kWrite]},
      {"SERVER_HANDSHAKE_TRAFFIC_SECRET", &sec[idx(EncryptionLevel::kHandshake)][kRead]},
      {"CLIENT_TRAFFIC_SECRET_0", &sec[idx(EncryptionLevel::kApplication)][kWrite]},
      {"SERVER_TRAFFIC_SECRET_0", &sec[idx(EncryptionLevel::kApplication)][kRead]},
  };
  std::string random;
  for (const auto& [label, record] : want) {
    ASSERT_EQ(log.count(label), 1u) << label;
    EXPECT_EQ(log[label].second, to_hex(Bytes(record->bytes.data(), record->bytes.size()))) << label;
    EXPECT_EQ(log[label].first.size(), 64u);  // 32-byte client random
    if (random.empty()) random = log[label].first;
    EXPECT_EQ(log[label].first, random);
  }
  EXPECT_EQ(lines, static_cast<int>(log.size())) << "a label logged twice";
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(GnutlsTlsTest, KeyLogInNssFormat) {
  std::string keylog = path("keys.log");
  std::remove(keylog.c_str());
  client_cfg.keylog_file = keylog;
  handshake();
  ASSERT_TRUE(client.status.is_ok() && server.status.is_ok());
  expect_keylog_matches(read_file(keylog), client);
  std::remove(keylog.c_str());
}

TEST_F(GnutlsTlsTest, KeyLogFromEnvironment) {
  std::string keylog = path("env-keys.log");
  std::remove(keylog.c_str());
  ASSERT_EQ(setenv("SSLKEYLOGFILE", keylog.c_str(), 1), 0);
  start(client, client_cfg, client_tp());  // the context reads the variable
  unsetenv("SSLKEYLOGFILE");
  start(server, server_cfg, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  pump();
  ASSERT_TRUE(client.tls->handshake_complete());
  expect_keylog_matches(read_file(keylog), client);
  std::remove(keylog.c_str());
}

// ---------------------------------------------------------------- peers that break RFC 9001 §8

// A bare GnuTLS client, to make ClientHellos our own client never sends.
struct RawClient {
  gnutls_session_t s = nullptr;
  gnutls_certificate_credentials_t cred = nullptr;
  Buf initial;
  Buf tp = client_tp();

  static int collect(gnutls_session_t session, gnutls_record_encryption_level_t, gnutls_handshake_description_t,
                     const void* data, size_t size) {
    auto* self = static_cast<RawClient*>(gnutls_session_get_ptr(session));
    auto* p = static_cast<const uint8_t*>(data);
    self->initial.insert(self->initial.end(), p, p + size);
    return 0;
  }
  static int ignore_tp(gnutls_session_t, const unsigned char*, size_t) { return 0; }
  static int send_tp(gnutls_session_t session, gnutls_buffer_t out) {
    auto* self = static_cast<RawClient*>(gnutls_session_get_ptr(session));
    gnutls_buffer_append_data(out, self->tp.data(), self->tp.size());
    return static_cast<int>(self->tp.size());
  }

  RawClient(bool with_tp, const char* alpn) {
    EXPECT_GE(gnutls_certificate_allocate_credentials(&cred), 0);
    EXPECT_GE(gnutls_init(&s, GNUTLS_CLIENT), 0);
    EXPECT_GE(gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE", nullptr), 0);
    EXPECT_GE(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
    gnutls_session_set_ptr(s, this);
    gnutls_handshake_set_read_function(s, collect);
    if (alpn) {
      std::string name = alpn;
      gnutls_datum_t d{reinterpret_cast<unsigned char*>(name.data()), static_cast<unsigned>(name.size())};
      EXPECT_GE(gnutls_alpn_set_protocols(s, &d, 1, 0), 0);
    }
    if (with_tp) {
      EXPECT_GE(gnutls_session_ext_register(s, "quic_transport_parameters", 0x39, GNUTLS_EXT_TLS, ignore_tp, send_tp,
                                            nullptr, nullptr, nullptr,
                                            GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE | GNUTLS_EXT_FLAG_TLS),
                0);
    }
    EXPECT_EQ(gnutls_handshake(s), GNUTLS_E_AGAIN);
    EXPECT_FALSE(initial.empty());
  }
  ~RawClient() {
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
  }
};

// Our server's answer to a bare client's ClientHello.
void answer_raw_client(Peer& server, const RawClient& raw) {
  Bytes hello(raw.initial.data(), raw.initial.size());
  server.note(server.tls->provide_data(EncryptionLevel::kInitial, hello, server));
  if (!server.failed()) server.note(server.tls->advance(server));
}

TEST_F(GnutlsTlsTest, ClientHelloWithoutTransportParametersIsMissingExtension) {
  start(server, server_cfg, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  answer_raw_client(server, RawClient(false, "hq-interop"));
  // RFC 9001 §8.2: 0x016d.
  EXPECT_EQ(server.status.code(), alert_code(TlsAlert::kMissingExtension));
  EXPECT_EQ(server.status.wire_code(), 0x16du);
  EXPECT_EQ(server.peer_tp_calls, 0);
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kInitial)]);
}

TEST_F(GnutlsTlsTest, ClientHelloWithoutAlpnIsNoApplicationProtocol) {
  start(server, server_cfg, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  answer_raw_client(server, RawClient(true, nullptr));
  EXPECT_EQ(server.status.code(), alert_code(TlsAlert::kNoApplicationProtocol));
  EXPECT_EQ(server.peer_tp_calls, 0);
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kInitial)]);
}

TEST_F(GnutlsTlsTest, RawClientWithBothIsAccepted) {
  // The control for the two tests above: the same bare client with both
  // extensions gets the server's flight, made by advance() and not before.
  start(server, server_cfg, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  RawClient raw(true, "hq-interop");
  Bytes hello(raw.initial.data(), raw.initial.size());
  ASSERT_TRUE(server.tls->provide_data(EncryptionLevel::kInitial, hello, server).is_ok());
  EXPECT_EQ(server.peer_tp_calls, 0);
  EXPECT_FALSE(server.sent_at[idx(EncryptionLevel::kInitial)]);
  ASSERT_TRUE(server.tls->advance(server).is_ok());
  EXPECT_EQ(server.peer_tp_calls, 1);
  EXPECT_EQ(server.peer_tp, client_tp());
  EXPECT_TRUE(server.sent_at[idx(EncryptionLevel::kInitial)]);
  EXPECT_TRUE(server.sent_at[idx(EncryptionLevel::kHandshake)]);
  EXPECT_EQ(alpn_of(*server.tls), "hq-interop");  // known from the ClientHello on
  EXPECT_FALSE(server.tls->handshake_complete());
}

// ---------------------------------------------------------------- resumption and 0-RTT

class GnutlsResumptionTest : public GnutlsTlsTest {
 protected:
  void SetUp() override {
    GnutlsTlsTest::SetUp();
    client_cfg.on_session_ticket = [this](const SessionTicket& t) { tickets.push_back(t); };
  }

  // A session of `p` from its existing context (the server keeps its
  // ticket key across connections this way).
  static void restart(Peer& p, const Buf& tp) {
    Peer fresh;
    fresh.ctx = std::move(p.ctx);
    p.tls.reset();
    auto tls = fresh.ctx->new_session();
    ASSERT_TRUE(tls.is_ok()) << tls.status().reason();
    fresh.tls = std::move(tls).value();
    ASSERT_TRUE(fresh.tls->set_local_transport_params(Bytes(tp.data(), tp.size())).is_ok());
    p = std::move(fresh);
  }

  // A first handshake that leaves the client a ticket.
  void first_connection() {
    handshake();
    ASSERT_TRUE(client.status.is_ok()) << client.status.reason();
    ASSERT_TRUE(server.status.is_ok()) << server.status.reason();
    ASSERT_EQ(tickets.size(), 1u);
  }

  // The client resumes with the ticket; its ClientHello is written.
  void resume() {
    restart(client, client_tp());
    restart(server, server_tp());
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(client.tls->set_session(tickets.back().session).is_ok());
    client.note(client.tls->advance(client));
    ASSERT_TRUE(client.status.is_ok()) << client.status.reason();
  }

  // Runs the resumed handshake to its end.
  void finish() {
    for (int round = 0; round < 10; ++round) {
      bool moved = deliver(client, server);
      moved |= deliver(server, client);
      if (!moved) return;
    }
    ADD_FAILURE() << "handshake did not settle";
  }

  std::vector<SessionTicket> tickets;
};

TEST_F(GnutlsResumptionTest, TicketAfterHandshakeAtOneRtt) {
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  // RFC 9001 §4.1.3: the NewSessionTicket is post-handshake, in 1-RTT.
  EXPECT_TRUE(server.sent_at[idx(EncryptionLevel::kApplication)]);
  EXPECT_EQ(tickets[0].transport_params, server_tp());
  EXPECT_FALSE(tickets[0].session.empty());
  EXPECT_FALSE(tickets[0].allows_zero_rtt()) << tickets[0].max_early_data;
  EXPECT_FALSE(client.tls->resumed());
  EXPECT_FALSE(server.tls->resumed());
  EXPECT_EQ(client.tls->early_data_state(), EarlyDataState::kNone);
  // A full handshake: Certificate (11) then NewSessionTicket (4) last.
  EXPECT_EQ(std::count(server.msg_types.begin(), server.msg_types.end(), 11), 1);
  EXPECT_EQ(server.msg_types.back(), 4);
}

TEST_F(GnutlsResumptionTest, ResumedHandshakeHasNoCertificate) {
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  resume();
  ASSERT_FALSE(HasFatalFailure());
  // Without early_data configured, no 0-RTT secret.
  EXPECT_FALSE(client.secrets[idx(EncryptionLevel::kEarlyData)][kWrite].set);
  finish();
  ASSERT_TRUE(client.status.is_ok()) << client.status.reason();
  ASSERT_TRUE(server.status.is_ok()) << server.status.reason();
  EXPECT_TRUE(client.tls->handshake_complete());
  EXPECT_TRUE(client.tls->resumed());
  EXPECT_TRUE(server.tls->resumed());
  // RFC 8446 §2.2: no Certificate (11) nor CertificateVerify (15) now.
  EXPECT_EQ(std::count(server.msg_types.begin(), server.msg_types.end(), 11), 0);
  EXPECT_EQ(std::count(server.msg_types.begin(), server.msg_types.end(), 15), 0);
  EXPECT_EQ(std::count(server.msg_types.begin(), server.msg_types.end(), 20), 1);  // Finished
  EXPECT_EQ(client.peer_tp, server_tp());
  EXPECT_EQ(server.tls->early_data_state(), EarlyDataState::kNone);
  expect_secret_pair(EncryptionLevel::kApplication, CipherSuite::kAes128GcmSha256);
}

TEST_F(GnutlsResumptionTest, BadSessionDataIsRefused) {
  start(client, client_cfg, client_tp());
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(client.tls->set_session({1, 2, 3}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.tls->set_session({}).code(), ErrorCode::kInvalidArgument);
  // The handshake goes on as a full one.
  start(server, server_cfg, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  pump();
  EXPECT_TRUE(client.tls->handshake_complete());
  EXPECT_FALSE(client.tls->resumed());
}

TEST_F(GnutlsResumptionTest, EarlyDataAccepted) {
  server_cfg.early_data = true;
  client_cfg.early_data = true;
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  // RFC 9001 §4.6.1: a QUIC server allowing 0-RTT says 0xffffffff.
  EXPECT_EQ(tickets[0].max_early_data, 0xffffffffu);
  EXPECT_TRUE(tickets[0].allows_zero_rtt());
  resume();
  ASSERT_FALSE(HasFatalFailure());
  // RFC 9001 §4.6.1: the 0-RTT write key comes with the ClientHello.
  ASSERT_TRUE(client.secrets[idx(EncryptionLevel::kEarlyData)][kWrite].set);
  EXPECT_EQ(client.tls->early_data_state(), EarlyDataState::kAttempted);
  finish();
  ASSERT_TRUE(client.status.is_ok()) << client.status.reason();
  ASSERT_TRUE(server.status.is_ok()) << server.status.reason();
  EXPECT_EQ(client.tls->early_data_state(), EarlyDataState::kAccepted);
  EXPECT_EQ(server.tls->early_data_state(), EarlyDataState::kAccepted);
  ASSERT_TRUE(server.secrets[idx(EncryptionLevel::kEarlyData)][kRead].set);
  EXPECT_EQ(server.secrets[idx(EncryptionLevel::kEarlyData)][kRead].bytes,
            client.secrets[idx(EncryptionLevel::kEarlyData)][kWrite].bytes);
  EXPECT_FALSE(server.secrets[idx(EncryptionLevel::kEarlyData)][kWrite].set);
  EXPECT_TRUE(client.tls->resumed());
}

TEST_F(GnutlsResumptionTest, EarlyDataRejectedByServerWithoutIt) {
  client_cfg.early_data = true;
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  resume();
  ASSERT_FALSE(HasFatalFailure());
  finish();
  ASSERT_TRUE(client.status.is_ok()) << client.status.reason();
  ASSERT_TRUE(server.status.is_ok()) << server.status.reason();
  EXPECT_TRUE(client.tls->resumed());
  // The client may have offered 0-RTT; the server took none of it.
  EXPECT_NE(client.tls->early_data_state(), EarlyDataState::kAccepted);
  EXPECT_FALSE(server.secrets[idx(EncryptionLevel::kEarlyData)][kRead].set);
  EXPECT_NE(server.tls->early_data_state(), EarlyDataState::kAccepted);
}

TEST_F(GnutlsResumptionTest, ReplayedClientHelloGetsNoEarlyData) {
  server_cfg.early_data = true;
  client_cfg.early_data = true;
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  resume();
  ASSERT_FALSE(HasFatalFailure());
  const Buf hello = client.pending[idx(EncryptionLevel::kInitial)];
  finish();
  ASSERT_EQ(server.tls->early_data_state(), EarlyDataState::kAccepted);
  // RFC 8446 §8: the same ClientHello again, to a fresh session of the
  // same server, is a replay: no 0-RTT this time.
  restart(server, server_tp());
  ASSERT_FALSE(HasFatalFailure());
  server.note(server.tls->provide_data(EncryptionLevel::kInitial, Bytes(hello.data(), hello.size()), server));
  if (!server.failed()) server.note(server.tls->advance(server));
  EXPECT_TRUE(server.status.is_ok()) << server.status.reason();
  EXPECT_FALSE(server.secrets[idx(EncryptionLevel::kEarlyData)][kRead].set);
  EXPECT_EQ(server.tls->early_data_state(), EarlyDataState::kRejected);
}

TEST_F(GnutlsResumptionTest, LowerServerParametersRefuseEarlyData) {
  server_cfg.early_data = true;
  client_cfg.early_data = true;
  first_connection();
  ASSERT_FALSE(HasFatalFailure());
  // The same server, now with a smaller initial_max_streams_bidi (0x08)
  // than its tickets were issued under (RFC 9000 §7.4.1).
  Buf lower = server_tp();
  ASSERT_EQ(lower[8], 0x08);
  lower[10] = 0x10;
  restart(client, client_tp());
  restart(server, lower);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(client.tls->set_session(tickets.back().session).is_ok());
  client.note(client.tls->advance(client));
  finish();
  ASSERT_TRUE(client.status.is_ok()) << client.status.reason();
  ASSERT_TRUE(server.status.is_ok()) << server.status.reason();
  EXPECT_TRUE(server.tls->resumed());
  EXPECT_EQ(server.tls->early_data_state(), EarlyDataState::kRejected);
  EXPECT_EQ(client.tls->early_data_state(), EarlyDataState::kRejected);
}

}  // namespace
}  // namespace quicbed
