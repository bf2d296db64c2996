// quic.ko's TlsSession (kmod/core/passthrough_tls.h) with the real core:
// the connection's TLS runs in a "handshake process" (here a GnuTLS
// session in the test, as libquic runs one in userspace) that reads the
// peer's handshake bytes from the session and hands down messages, secrets
// and the peer's transport parameters in libquic's order (or the one it
// had before, messages ahead of the 1-RTT secrets); the other side is
// an ordinary GnuTLS connection. Plus the bounds and refusals of the
// session and of its record queue.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "conn_pair.h"
#include "passthrough_tls.h"
#include "record_queue.h"

namespace quicbed::test {
namespace {

using kmod::PassthroughTls;
using kmod::RecordQueue;

// The userspace side of the handshake: what libquic does with its socket.
class HandshakeProcess final : private TlsCallbacks {
 public:
  HandshakeProcess(std::unique_ptr<GnutlsTls> tls, PassthroughTls& kernel, bool keys_first)
      : tls_(std::move(tls)), kernel_(kernel), keys_first_(keys_first) {}

  // One turn: the peer's handshake bytes in, TLS run, results handed down.
  // True if anything was handed down (the socket layer then runs the
  // connection's advance_tls()).
  bool turn() {
    if (!started_) {
      // The connection sets its parameters when it starts (a server's on
      // the client's first Initial); the process reads them first.
      if (kernel_.local_transport_params().empty()) return false;
      EXPECT_TRUE(tls_->set_local_transport_params(kernel_.local_transport_params()).is_ok());
      started_ = true;
    }
    uint8_t buf[1500];
    for (auto c = kernel_.read_for_process(MutBytes(buf)); c.len && error_.is_ok();
         c = kernel_.read_for_process(MutBytes(buf))) {
      error_ = tls_->provide_data(c.level, Bytes(buf, c.len), *this);
    }
    if (error_.is_ok() && !tls_->handshake_complete()) error_ = tls_->advance(*this);
    return flush();
  }

  // The process's TLS failure, if any (libquic would return it).
  Status error() const { return error_; }

 private:
  struct Secret {
    EncryptionLevel level;
    KeyDirection dir;
    CipherSuite suite;
    Buf bytes;
  };

  // libquic's order: the peer's parameters, the secrets below 1-RTT, the
  // 1-RTT secrets (read, then write), then the handshake messages (a
  // client's Finished last: the kernel completes on it). keys_first_
  // false: the order before, messages first, then write and read.
  bool flush() {
    bool any = !tp_.empty() || !data_.empty() || !secrets_.empty();
    if (!tp_.empty()) {
      EXPECT_TRUE(kernel_.push_peer_transport_params(bytes_of(tp_)).is_ok());
    }
    tp_.clear();
    const KeyDirection first = keys_first_ ? KeyDirection::kRead : KeyDirection::kWrite;
    const KeyDirection second = keys_first_ ? KeyDirection::kWrite : KeyDirection::kRead;
    for (bool app : {false, true}) {
      if (app && !keys_first_) push_messages();
      for (KeyDirection dir : {first, second}) {
        for (const Secret& s : secrets_) {
          if ((s.level == EncryptionLevel::kApplication) != app || (app && s.dir != dir)) continue;
          if (!app && dir == second) continue;  // below 1-RTT: all in one pass, in TLS's order
          EXPECT_TRUE(kernel_.push_secret(s.level, s.dir, s.suite, bytes_of(s.bytes)).is_ok());
        }
      }
    }
    if (keys_first_) push_messages();
    secrets_.clear();
    return any;
  }

  void push_messages() {
    for (auto& [level, bytes] : data_) EXPECT_TRUE(kernel_.push_crypto_data(level, bytes_of(bytes)).is_ok());
    data_.clear();
  }

  Status on_tls_crypto_data(EncryptionLevel level, Bytes data) override {
    data_.emplace_back(level, Buf(data.begin(), data.end()));
    return Status::ok();
  }
  Status on_tls_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret) override {
    secrets_.push_back({level, dir, suite, Buf(secret.begin(), secret.end())});
    return Status::ok();
  }
  Status on_tls_peer_transport_params(Bytes ext) override {
    tp_.assign(ext.begin(), ext.end());
    return Status::ok();
  }
  Status on_tls_handshake_complete() override {
    Bytes alpn = tls_->alpn();
    EXPECT_TRUE(kernel_.set_alpn(alpn).is_ok());
    return Status::ok();
  }

  std::unique_ptr<GnutlsTls> tls_;
  PassthroughTls& kernel_;
  const bool keys_first_;
  bool started_ = false;
  Status error_;
  Buf tp_;
  std::vector<std::pair<EncryptionLevel, Buf>> data_;
  std::vector<Secret> secrets_;
};

class PassthroughHandshakeTest : public ConnPairTest {
 protected:
  void TearDown() override {
    // The connection goes before the session it holds.
    if (kernel_side_) kernel_side_->conn.reset();
    process_.reset();
    passthrough_.reset();
  }

  // `e`'s TLS runs in a handshake process; the other side is plain.
  void start_with_process(Endpoint& e, bool keys_first = true) {
    kernel_side_ = &e;
    auto ctx = GnutlsTlsContext::create(e.tls_config);
    ASSERT_TRUE(ctx.is_ok()) << ctx.status().reason();
    e.ctx = std::move(ctx).value();
    auto session = e.ctx->new_session();
    ASSERT_TRUE(session.is_ok());
    passthrough_ = std::make_unique<PassthroughTls>(kernel_alloc_, &e == &server_);
    process_ = std::make_unique<HandshakeProcess>(std::move(session).value(), *passthrough_, keys_first);
    e.config.tls = passthrough_.get();
    e.conn = std::make_unique<Connection>(e.config);
    Endpoint& other = &e == &client_ ? server_ : client_;
    create(other);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(server_.conn->init(now_).is_ok());
    ASSERT_TRUE(client_.conn->init(now_).is_ok());
  }

  // The network and the process take turns, as the socket layer would run
  // them: whatever the process hands down reaches the connection at once.
  void run_with_process(const std::function<bool()>& done, uint64_t until) {
    for (int steps = 0; steps < 100000; ++steps) {
      while (process_->turn()) kernel_side_->conn->advance_tls(now_);
      if (done() || now_ >= until) return;
      if (!step(until)) {
        if (!process_->turn()) return;
        kernel_side_->conn->advance_tls(now_);
      }
    }
    ADD_FAILURE() << "the simulation does not settle";
  }

  void exchange_stream_data() {
    auto id = client_.conn->open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok());
    const char msg[] = "hello through the kernel's TLS";
    auto n = client_.conn->stream_write(*id, Bytes(reinterpret_cast<const uint8_t*>(msg), sizeof msg), true);
    ASSERT_TRUE(n.is_ok());
    ASSERT_EQ(*n, sizeof msg);
    Buf got;
    run_with_process(
        [&] {
          uint8_t buf[256];
          auto r = server_.conn->stream_read(*id, MutBytes(buf));
          if (r.is_ok()) got.insert(got.end(), buf, buf + r->bytes);
          return got.size() == sizeof msg;
        },
        now_ + 5 * kSec);
    EXPECT_EQ(Buf(msg, msg + sizeof msg), got);
  }

  MallocAllocator kernel_alloc_;
  std::unique_ptr<PassthroughTls> passthrough_;
  std::unique_ptr<HandshakeProcess> process_;
  Endpoint* kernel_side_ = nullptr;
};

TEST_F(PassthroughHandshakeTest, ClientTlsInProcess) {
  start_with_process(client_);
  ASSERT_FALSE(HasFatalFailure());
  run_with_process([&] { return confirmed(); }, 10 * kSec);
  EXPECT_TRUE(process_->error().is_ok()) << process_->error().reason();
  expect_established();
  EXPECT_TRUE(passthrough_->handshake_complete());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(passthrough_->alpn().data()), passthrough_->alpn().size()),
            "hq-interop");
  exchange_stream_data();
}

// The order libquic had before: the client's Finished, then its 1-RTT
// secrets.
TEST_F(PassthroughHandshakeTest, ClientTlsInProcessMessagesFirst) {
  start_with_process(client_, false);
  ASSERT_FALSE(HasFatalFailure());
  run_with_process([&] { return confirmed(); }, 10 * kSec);
  EXPECT_TRUE(process_->error().is_ok()) << process_->error().reason();
  expect_established();
  exchange_stream_data();
}

TEST_F(PassthroughHandshakeTest, ServerTlsInProcess) {
  start_with_process(server_);
  ASSERT_FALSE(HasFatalFailure());
  run_with_process([&] { return confirmed(); }, 10 * kSec);
  EXPECT_TRUE(process_->error().is_ok()) << process_->error().reason();
  expect_established();
  EXPECT_TRUE(passthrough_->handshake_complete());
  exchange_stream_data();
}

// A TLS failure in the process (the server's certificate is not for the
// name the client asked for) never completes the kernel side's handshake:
// the process hands down no 1-RTT secret.
TEST_F(PassthroughHandshakeTest, ProcessRefusingTheCertificateNeverCompletes) {
  client_.tls_config.server_name = "not-the-server.example";
  start_with_process(client_);
  ASSERT_FALSE(HasFatalFailure());
  run_with_process([&] { return confirmed(); }, 3 * kSec);
  // RFC 9001 §4.8: the process's TLS failed with a certificate alert.
  EXPECT_EQ(static_cast<uint64_t>(process_->error().code()) & ~uint64_t{0xff}, 0x100u);
  EXPECT_FALSE(passthrough_->handshake_complete());
  EXPECT_FALSE(client_.conn->handshake_complete());
}

// The process's TLS refused the certificate (as above) and hands its alert
// down (libquic's QUIC_SOCKOPT_CONNECTION_CLOSE, taken at close()): the
// connection closes with CRYPTO_ERROR 0x100 + alert in a CONNECTION_CLOSE
// of type 0x1c (RFC 9001 §4.8) at a level the peer, still in its
// handshake, can open (RFC 9000 §10.2.3): the server sees the code, the
// transport's (not the application's), and the phrase.
TEST_F(PassthroughHandshakeTest, ProcessAlertClosesWithCryptoError) {
  client_.tls_config.server_name = "not-the-server.example";
  start_with_process(client_);
  ASSERT_FALSE(HasFatalFailure());
  run_with_process([&] { return !process_->error().is_ok(); }, 3 * kSec);
  ASSERT_FALSE(process_->error().is_ok());
  const uint64_t code = static_cast<uint64_t>(process_->error().code());
  ASSERT_EQ(code & ~uint64_t{0xff}, 0x100u);
  const char phrase[] = "TLS alert bad_certificate";
  passthrough_->fail(static_cast<uint8_t>(code & 0xff),
                     Bytes(reinterpret_cast<const uint8_t*>(phrase), sizeof phrase - 1));
  client_.conn->advance_tls(now_);
  EXPECT_EQ(client_.conn->state(), Connection::State::kClosing);
  run_until([&] { return server_.events.closes > 0; }, now_ + kSec);
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kPeer);
  EXPECT_FALSE(server_.events.application);
  EXPECT_EQ(server_.events.error_code, code);
  EXPECT_EQ(server_.events.reason, phrase);
  EXPECT_FALSE(server_.conn->handshake_complete());
  // Ours says the same.
  EXPECT_EQ(client_.events.error_code, code);
  EXPECT_FALSE(client_.events.application);
}

class SessionTest : public ::testing::Test {
 protected:
  // Records what the session reports.
  struct Sink final : TlsCallbacks {
    Status on_tls_crypto_data(EncryptionLevel level, Bytes data) override {
      order.push_back("data" + std::to_string(int(level)) + ":" + std::to_string(data.size()));
      return Status::ok();
    }
    Status on_tls_secret(EncryptionLevel level, KeyDirection dir, CipherSuite, Bytes) override {
      order.push_back("secret" + std::to_string(int(level)) + (dir == KeyDirection::kRead ? "r" : "w"));
      return Status::ok();
    }
    Status on_tls_peer_transport_params(Bytes) override {
      order.push_back("tp");
      return Status::ok();
    }
    Status on_tls_handshake_complete() override {
      order.push_back("complete");
      return Status::ok();
    }
    std::vector<std::string> order;
  };

  MallocAllocator alloc;
  Sink sink;
};

TEST_F(SessionTest, HandsDownInOrderAndCompletesAfterBothOneRttSecrets) {
  {
    PassthroughTls tls(alloc, false);
    Buf secret(32, 7), msg(100, 1);
    // A Finished (RFC 8446 §4.4.4): msg_type 20, a 32-byte verify_data.
    msg[0] = 20, msg[1] = 0, msg[2] = 0, msg[3] = 96;
    ASSERT_TRUE(tls.push_peer_transport_params(bytes_of(msg)).is_ok());
    ASSERT_TRUE(tls.push_secret(EncryptionLevel::kHandshake, KeyDirection::kWrite, CipherSuite::kAes128GcmSha256,
                                bytes_of(secret))
                    .is_ok());
    ASSERT_TRUE(tls.push_crypto_data(EncryptionLevel::kHandshake, bytes_of(msg)).is_ok());
    ASSERT_TRUE(tls.push_secret(EncryptionLevel::kApplication, KeyDirection::kWrite, CipherSuite::kAes128GcmSha256,
                                bytes_of(secret))
                    .is_ok());
    EXPECT_TRUE(tls.has_pending());
    ASSERT_TRUE(tls.advance(sink).is_ok());
    EXPECT_FALSE(tls.handshake_complete());
    ASSERT_TRUE(tls.push_secret(EncryptionLevel::kApplication, KeyDirection::kRead, CipherSuite::kAes128GcmSha256,
                                bytes_of(secret))
                    .is_ok());
    ASSERT_TRUE(tls.advance(sink).is_ok());
    EXPECT_TRUE(tls.handshake_complete());
    EXPECT_EQ(sink.order,
              (std::vector<std::string>{"tp", "secret2w", "data2:100", "secret3w", "secret3r", "complete"}));
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

// libquic's order for a client: the 1-RTT secrets before its Finished. The
// read secret goes at once; the write secret, and completion, wait for the
// whole Finished (here in two parts, after another message), RFC 9001
// §4.1.1, §4.1.4.
TEST_F(SessionTest, OneRttWriteSecretWaitsForOurFinished) {
  {
    PassthroughTls tls(alloc, false);
    Buf secret(32, 7), tp(10, 1);
    const Buf certificate_verify = {15, 0, 0, 2, 0xaa, 0xbb};
    const Buf finished_head = {20, 0, 0, 32, 1, 2}, finished_rest(30, 3);
    ASSERT_TRUE(tls.push_peer_transport_params(bytes_of(tp)).is_ok());
    for (KeyDirection d : {KeyDirection::kRead, KeyDirection::kWrite}) {
      ASSERT_TRUE(
          tls.push_secret(EncryptionLevel::kApplication, d, CipherSuite::kAes128GcmSha256, bytes_of(secret)).is_ok());
    }
    ASSERT_TRUE(tls.push_crypto_data(EncryptionLevel::kHandshake, bytes_of(certificate_verify)).is_ok());
    ASSERT_TRUE(tls.push_crypto_data(EncryptionLevel::kHandshake, bytes_of(finished_head)).is_ok());
    ASSERT_TRUE(tls.advance(sink).is_ok());
    EXPECT_FALSE(tls.handshake_complete());
    EXPECT_EQ(sink.order, (std::vector<std::string>{"tp", "secret3r", "data2:6", "data2:6"}));
    ASSERT_TRUE(tls.push_crypto_data(EncryptionLevel::kHandshake, bytes_of(finished_rest)).is_ok());
    ASSERT_TRUE(tls.advance(sink).is_ok());
    EXPECT_TRUE(tls.handshake_complete());
    EXPECT_EQ(sink.order, (std::vector<std::string>{"tp", "secret3r", "data2:6", "data2:6", "data2:30", "secret3w",
                                                    "complete"}));
    // A second write secret is the process's mistake.
    ASSERT_TRUE(
        tls.push_secret(EncryptionLevel::kApplication, KeyDirection::kWrite, CipherSuite::kAes128GcmSha256,
                        bytes_of(secret))
            .is_ok());
    EXPECT_FALSE(tls.advance(sink).is_ok());
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST_F(SessionTest, RefusesMalformedHandDowns) {
  PassthroughTls tls(alloc, false);
  Buf b(32, 1);
  // A secret must be as long as the suite's hash; Initial secrets are the
  // connection's own; there is no CRYPTO data at 0-RTT.
  EXPECT_EQ(tls.push_secret(EncryptionLevel::kHandshake, KeyDirection::kRead, CipherSuite::kAes256GcmSha384,
                            bytes_of(b))
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(tls.push_secret(EncryptionLevel::kInitial, KeyDirection::kRead, CipherSuite::kAes128GcmSha256, bytes_of(b))
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(tls.push_crypto_data(EncryptionLevel::kEarlyData, bytes_of(b)).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(tls.push_peer_transport_params(bytes_of(b)).is_ok());
  EXPECT_EQ(tls.push_peer_transport_params(bytes_of(b)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tls.set_alpn(Bytes()).code(), ErrorCode::kInvalidArgument);
  Buf huge(PassthroughTls::kMaxTransportParams + 1);
  EXPECT_EQ(tls.set_local_transport_params(bytes_of(huge)).code(), ErrorCode::kInvalidArgument);
}

TEST_F(SessionTest, OneRttSecretsWithoutPeerParametersFailTheHandshake) {
  PassthroughTls tls(alloc, false);
  Buf secret(32, 7);
  const Buf finished = {20, 0, 0, 1, 9};
  ASSERT_TRUE(tls.push_crypto_data(EncryptionLevel::kHandshake, bytes_of(finished)).is_ok());
  for (KeyDirection d : {KeyDirection::kRead, KeyDirection::kWrite}) {
    ASSERT_TRUE(
        tls.push_secret(EncryptionLevel::kApplication, d, CipherSuite::kChaCha20Poly1305Sha256, bytes_of(secret))
            .is_ok());
  }
  Status s = tls.advance(sink);
  // RFC 9001 §8.2: missing_extension (109) as CRYPTO_ERROR 0x016d.
  EXPECT_EQ(static_cast<uint64_t>(s.code()), 0x100u + 109);
  EXPECT_FALSE(tls.handshake_complete());
  EXPECT_EQ(tls.advance(sink).code(), s.code());  // sticky
}

// The process's alert fails the session with CRYPTO_ERROR 0x100 + alert
// (RFC 9001 §4.8), with the phrase copied (at most kMaxFailReason bytes);
// a session past its handshake, or failed already, keeps its state.
TEST_F(SessionTest, ProcessAlertFailsTheSessionUntilComplete) {
  PassthroughTls tls(alloc, true);
  const std::string longer(PassthroughTls::kMaxFailReason + 20, 'x');
  {
    std::string phrase = longer;
    tls.fail(40, Bytes(reinterpret_cast<const uint8_t*>(phrase.data()), phrase.size()));
    phrase.assign(phrase.size(), 'y');  // the caller's buffer is not kept
  }
  Status s = tls.advance(sink);
  EXPECT_EQ(static_cast<uint64_t>(s.code()), 0x100u + 40);  // handshake_failure
  EXPECT_EQ(std::string(s.reason()), longer.substr(0, PassthroughTls::kMaxFailReason));
  tls.fail(80, Bytes());
  EXPECT_EQ(static_cast<uint64_t>(tls.advance(sink).code()), 0x100u + 40);
  const Buf hello(8, 1);
  EXPECT_EQ(static_cast<uint64_t>(tls.provide_data(EncryptionLevel::kInitial, bytes_of(hello), sink).code()),
            0x100u + 40);

  PassthroughTls done(alloc, false);
  Buf secret(32, 7), tp(10, 1);
  const Buf finished = {20, 0, 0, 1, 9};
  ASSERT_TRUE(done.push_peer_transport_params(bytes_of(tp)).is_ok());
  ASSERT_TRUE(done.push_crypto_data(EncryptionLevel::kHandshake, bytes_of(finished)).is_ok());
  for (KeyDirection d : {KeyDirection::kRead, KeyDirection::kWrite}) {
    ASSERT_TRUE(
        done.push_secret(EncryptionLevel::kApplication, d, CipherSuite::kAes128GcmSha256, bytes_of(secret)).is_ok());
  }
  ASSERT_TRUE(done.advance(sink).is_ok());
  ASSERT_TRUE(done.handshake_complete());
  done.fail(42, Bytes());
  EXPECT_TRUE(done.advance(sink).is_ok());
}

TEST_F(SessionTest, PeerDataBeyondTheBoundIsCryptoBufferExceeded) {
  PassthroughTls tls(alloc, false);
  Buf chunk(16 * 1024, 3);
  Status s;
  size_t pushed = 0;
  while ((s = tls.provide_data(EncryptionLevel::kHandshake, bytes_of(chunk), sink)).is_ok()) pushed += chunk.size();
  EXPECT_EQ(s.code(), ErrorCode::kCryptoBufferExceeded);
  EXPECT_LE(pushed, PassthroughTls::kMaxToProcess);
  EXPECT_GE(pushed, PassthroughTls::kMaxToProcess - chunk.size() - 64);
  // The process reads it back in parts, in order, level attached.
  uint8_t buf[5000];
  size_t read = 0;
  for (auto c = tls.read_for_process(MutBytes(buf)); c.len; c = tls.read_for_process(MutBytes(buf))) {
    EXPECT_EQ(c.level, EncryptionLevel::kHandshake);
    read += c.len;
  }
  EXPECT_EQ(read, pushed);
  EXPECT_FALSE(tls.has_data_for_process());
  // Room again once read.
  EXPECT_TRUE(tls.provide_data(EncryptionLevel::kHandshake, bytes_of(chunk), sink).is_ok());
}

TEST(RecordQueueTest, PartialTakesCompactionAndBound) {
  MallocAllocator alloc;
  {
    RecordQueue q(alloc, 1000);
    const uint8_t head[2] = {1, 2};
    Buf body(300);
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<uint8_t>(i);
    ASSERT_TRUE(q.push(Bytes(head), bytes_of(body)).is_ok());  // 5 + 2 + 300 bytes
    ASSERT_TRUE(q.push(Bytes(head, 1), Bytes()).is_ok());      // 6
    ASSERT_TRUE(q.push(Bytes(), bytes_of(body)).is_ok());      // 305
    ASSERT_TRUE(q.push(Bytes(), bytes_of(body)).is_ok());      // 305: 923 in all
    EXPECT_EQ(q.push(Bytes(), bytes_of(body)).code(), ErrorCode::kLimitExceeded);
    auto r = q.front();
    EXPECT_EQ(r.head.size(), 2u);
    q.take(100);
    r = q.front();
    ASSERT_EQ(r.body.size(), 200u);
    EXPECT_EQ(r.body[0], 100);
    q.take(1000);  // the rest of the first record, no more
    r = q.front();
    EXPECT_EQ(r.head.size(), 1u);
    EXPECT_TRUE(r.body.empty());
    q.take(0);
    EXPECT_EQ(q.front().body.size(), 300u);
    // The consumed head makes room: compaction, not growth past the bound.
    ASSERT_TRUE(q.push(Bytes(), bytes_of(body)).is_ok());
    for (int i = 0; i < 3; ++i) q.take(300);
    EXPECT_TRUE(q.empty());
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(RecordQueueTest, PeekRunCopiesRecordsOfTheFrontsKindOnly) {
  MallocAllocator alloc;
  RecordQueue q(alloc, 1000);
  const uint8_t initial[1] = {1}, handshake[1] = {2};
  const uint8_t a[3] = {10, 11, 12}, b[2] = {13, 14}, c[2] = {20, 21};
  uint8_t out[8] = {};
  EXPECT_EQ(q.peek_run(MutBytes(out)), 0u);
  ASSERT_TRUE(q.push(Bytes(initial), Bytes(a)).is_ok());
  ASSERT_TRUE(q.push(Bytes(initial), Bytes(b)).is_ok());
  ASSERT_TRUE(q.push(Bytes(handshake), Bytes(c)).is_ok());
  ASSERT_EQ(q.peek_run(MutBytes(out)), 5u);  // a, b: not c, another kind
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[4], 14);
  q.take(2);  // the front's part already taken is not copied
  ASSERT_EQ(q.peek_run(MutBytes(out, 2)), 2u);
  EXPECT_EQ(out[0], 12);
  EXPECT_EQ(out[1], 13);
  // Nothing was taken by peeking.
  EXPECT_EQ(q.front().body.size(), 1u);
}

}  // namespace
}  // namespace quicbed::test
