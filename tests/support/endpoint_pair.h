// A server Endpoint and any number of client Connections in one process,
// with real GnuTLS sessions, exchanging datagrams over an in-memory network
// driven by a virtual clock: the fixture of the endpoint tests. Each client
// has its own address (a 4-byte id as the path's peer bytes); datagrams the
// server sends to an address no client has are kept as strays, and tests
// can inject datagrams of their own from any address. Datagrams keep the
// ECN codepoint they were sent with. Server connections
// run an echo service: each stream's data comes back on the same stream
// once its FIN arrived.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "conn_pair.h"
#include "endpoint.h"

namespace quicbed::test {

constexpr uint32_t kServerAddress = 0x53525652;  // "SRVR"
// Ids from here up belong to no client: what the server sends them is a stray.
constexpr uint32_t kStrayBase = 0xf0000000;

inline PathAddress address_of(uint32_t id) {
  const uint8_t b[4] = {static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
                        static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
  PathAddress a;
  EXPECT_TRUE(a.assign(Bytes(b, 4)));
  return a;
}
inline uint32_t id_of(const PathAddress& a) {
  if (a.len != 4) return ~uint32_t{0};
  return uint32_t{a.bytes[0]} << 24 | uint32_t{a.bytes[1]} << 16 | uint32_t{a.bytes[2]} << 8 | a.bytes[3];
}
inline Path path_from(uint32_t client_id) { return Path{address_of(kServerAddress), address_of(client_id)}; }

// A server connection's events: records them and echoes streams.
class EchoEvents final : public ConnectionEvents {
 public:
  void on_handshake_complete() override { ++handshakes; }
  void on_connection_closed(const CloseInfo& info) override {
    ++closes;
    close_source = info.source;
  }
  void on_stream_opened(uint64_t id) override { opened.push_back(id); }
  void on_cid_issued(const ConnectionId& cid) override { issued.push_back(cid); }
  void on_cid_retired(const ConnectionId& cid) override { retired.push_back(cid); }
  void on_stream_readable(uint64_t id) override {
    if (!conn) return;
    Buf& got = received[id];
    for (;;) {
      uint8_t buf[4096];
      auto r = conn->stream_read(id, MutBytes(buf, sizeof buf));
      if (!r) return;
      got.insert(got.end(), buf, buf + r->bytes);
      if (r->fin) {
        // Small test payloads fit the send buffer whole, unless memory ran
        // out (alloc_failure_test.cpp): a refusal the service counts.
        auto n = conn->stream_write(id, bytes_of(got), true);
        if (!n && n.status().code() == ErrorCode::kNoMemory) {
          ++write_refusals;
          return;
        }
        EXPECT_TRUE(n.is_ok() && *n == got.size());
        return;
      }
      if (r->bytes == 0) return;
    }
  }

  Connection* conn = nullptr;  // set when the endpoint accepts the connection
  int handshakes = 0;
  int closes = 0;
  CloseInfo::Source close_source = CloseInfo::Source::kLocal;
  std::vector<uint64_t> opened;
  std::vector<ConnectionId> issued;  // forwarded by the endpoint
  std::vector<ConnectionId> retired;
  std::map<uint64_t, Buf> received;
  int write_refusals = 0;  // echoes refused with kNoMemory
};

// The host side of the endpoint: makes TLS sessions and echo services,
// and hears about connections coming and going.
class TestHost final : public ConnectionFactory, public EndpointEvents {
 public:
  Status create(const IncomingConnection& in, ConnectionServices& out) override {
    last_incoming_dcid.assign(in.original_dcid.begin(), in.original_dcid.end());
    if (refuse) {
      ++refusals;
      return Status(ErrorCode::kConnectionRefused, "test refuses");
    }
    ++creates;
    auto session = ctx->new_session();
    EXPECT_TRUE(session.is_ok());
    if (!session) return session.status();
    auto events = std::make_unique<EchoEvents>();
    out.tls = session->get();
    out.events = events.get();
    out.context = events.get();
    out.tracer = tracer;
    live[out.tls] = Owned{std::move(session).value(), std::move(events)};
    return Status::ok();
  }
  void destroy(const ConnectionServices& s) override {
    ++destroys;
    EXPECT_EQ(live.erase(s.tls), 1u);
  }
  void on_connection_accepted(EndpointConnection& c) override {
    ++accepted;
    auto* events = static_cast<EchoEvents*>(c.context());
    events->conn = &c.connection();
    accepted_events.push_back(events);
  }
  void on_connection_removed(EndpointConnection& c) override {
    ++removed;
    auto* events = static_cast<EchoEvents*>(c.context());
    events->conn = nullptr;
    removed_close_sources.push_back(events->close_source);
    accepted_events.erase(std::remove(accepted_events.begin(), accepted_events.end(), events), accepted_events.end());
  }

  struct Owned {
    std::unique_ptr<GnutlsTls> tls;
    std::unique_ptr<EchoEvents> events;
  };
  GnutlsTlsContext* ctx = nullptr;
  Tracer* tracer = nullptr;  // traces every server connection, when set
  bool refuse = false;
  int refusals = 0;
  int creates = 0;  // successful ones, each destroyed once
  int destroys = 0;
  int accepted = 0;
  int removed = 0;
  Buf last_incoming_dcid;
  std::map<TlsSession*, Owned> live;
  std::vector<EchoEvents*> accepted_events;  // of connections not yet removed
  std::vector<CloseInfo::Source> removed_close_sources;
};

struct TestClient {
  explicit TestClient(uint32_t client_id) : id(client_id), random(0x9e3779b97f4a7c15ULL ^ (uint64_t{client_id} + 1)) {}
  ~TestClient() { conn.reset(); }

  uint32_t id;
  TestRandom random;
  Events events;
  ConnectionConfig config;
  std::unique_ptr<SpyTls> tls;  // its secrets let a test forge the client's packets
  std::unique_ptr<Connection> conn;
};

class EndpointPairTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new TestCerts(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  void SetUp() override {
    GnutlsTlsConfig server_tls;
    server_tls.role = Role::kServer;
    server_tls.alpn = {"hq-interop"};
    server_tls.cert_file = certs_->cert_file();
    server_tls.key_file = certs_->key_file();
    auto sctx = GnutlsTlsContext::create(server_tls);
    ASSERT_TRUE(sctx.is_ok()) << sctx.status().reason();
    server_ctx_ = std::move(sctx).value();
    host_.ctx = server_ctx_.get();

    GnutlsTlsConfig client_tls;
    client_tls.role = Role::kClient;
    client_tls.alpn = {"hq-interop"};
    client_tls.server_name = "localhost";
    client_tls.ca_file = certs_->ca_file();
    auto cctx = GnutlsTlsContext::create(client_tls);
    ASSERT_TRUE(cctx.is_ok()) << cctx.status().reason();
    client_ctx_ = std::move(cctx).value();

    config_.connection.params = default_params();
    config_.connection.cid_len = 8;
    for (uint8_t i = 0; i < 16; ++i) config_.hash_key[i] = static_cast<uint8_t>(0xa0 + i);
    for (uint8_t i = 0; i < 32; ++i) config_.reset_key[i] = static_cast<uint8_t>(0x30 + 3 * i);
    config_.alloc = &server_alloc_;
    config_.crypto_backend = &crypto_;
    config_.random = &server_random_;
    config_.factory = &host_;
    config_.events = &host_;
  }

  void TearDown() override {
    clients_.clear();
    endpoint_.reset();
    EXPECT_EQ(server_alloc_.bytes_in_use(), 0u) << "the endpoint leaked";
    EXPECT_EQ(host_.creates, host_.destroys);
    EXPECT_TRUE(host_.live.empty());
  }

  // The endpoint, from config_ as the test left it.
  void start_server() {
    endpoint_ = std::make_unique<quicbed::Endpoint>(config_);
    Status s = endpoint_->init();
    ASSERT_TRUE(s.is_ok()) << s.reason();
  }

  // A client connection, initialized now; its ClientHello waits to be sent.
  // `configure` may change its configuration before the connection is made.
  TestClient& add_client(uint32_t version = kVersion1,
                         const std::function<void(ConnectionConfig&)>& configure = nullptr) {
    const uint32_t id = static_cast<uint32_t>(clients_.size());
    clients_.push_back(std::make_unique<TestClient>(id));
    TestClient& c = *clients_.back();
    auto session = client_ctx_->new_session();
    EXPECT_TRUE(session.is_ok());
    c.tls = std::make_unique<SpyTls>(std::move(session).value());
    c.config.role = Role::kClient;
    c.config.version = version;
    c.config.params = default_params();
    c.config.alloc = &client_alloc_;
    c.config.crypto_backend = &crypto_;
    c.config.tls = c.tls.get();
    c.config.events = &c.events;
    c.config.random = &c.random;
    if (client_config) client_config(c.config);
    if (configure) configure(c.config);
    c.conn = std::make_unique<Connection>(c.config);
    Status s = c.conn->init(now_);
    EXPECT_TRUE(s.is_ok()) << s.reason();
    return c;
  }

  // Raw bytes to the server from `from` (a client's id, or kStrayBase + k).
  void inject(Buf datagram, uint32_t from) { queue_.push(InFlight{now_ + kOneWayDelay, seq_++, kToServer, from, std::move(datagram)}); }

  void flush_clients() {
    for (auto& c : clients_) {
      for (int i = 0; i < 1000; ++i) {
        Buf out(1500);
        const size_t n = c->conn->write_datagram(MutBytes(out.data(), out.size()), now_);
        if (n == 0) break;
        out.resize(n);
        ++to_server_count_;
        if (drop_to_server && drop_to_server(c->id, out)) continue;
        queue_.push(InFlight{now_ + kOneWayDelay, seq_++, kToServer, c->id, std::move(out), c->conn->datagram_ecn()});
      }
    }
  }

  void flush_server() {
    for (int i = 0; i < 100000; ++i) {
      Buf out(1500);
      const Transmit t = endpoint_->write_datagram(MutBytes(out.data(), out.size()), now_);
      if (t.size == 0) return;
      out.resize(t.size);
      EXPECT_EQ(id_of(t.path.local), kServerAddress);
      const uint32_t to = inside(id_of(t.path.peer));
      sent_by_server_.push_back({to, out, now_, t.ecn});
      if (to >= clients_.size()) {
        strays_.push_back({to, out, now_, t.ecn});
        continue;
      }
      if (drop_to_client && drop_to_client(to, out)) continue;
      queue_.push(InFlight{now_ + kOneWayDelay, seq_++, kToClient, to, std::move(out), t.ecn});
    }
    ADD_FAILURE() << "endless datagrams from the server";
  }

  uint64_t next_client_timeout() const {
    uint64_t t = kNever;
    for (const auto& c : clients_) t = std::min(t, c->conn->next_timeout());
    return t;
  }

  // Sends what is pending, moves the clock to the next delivery or timer
  // and runs it; false when nothing happens until `until`.
  bool step(uint64_t until = kNever) {
    flush_clients();
    flush_server();
    uint64_t next = std::min(endpoint_->next_timeout(), next_client_timeout());
    if (!queue_.empty()) next = std::min(next, queue_.top().at);
    if (next == kNever || next > until) {
      if (until != kNever) now_ = std::max(now_, until);
      return false;
    }
    now_ = std::max(now_, next);
    while (!queue_.empty() && queue_.top().at <= now_) {
      InFlight f = queue_.top();
      queue_.pop();
      if (f.dir == kToServer) {
        endpoint_->receive_datagram(MutBytes(f.bytes.data(), f.bytes.size()), path_from(outside(f.peer)),
                                    DatagramInfo{f.ecn}, now_);
      } else {
        clients_[f.peer]->conn->receive_datagram(MutBytes(f.bytes.data(), f.bytes.size()), DatagramInfo{f.ecn},
                                                 now_);
      }
    }
    for (auto& c : clients_) {
      if (c->conn->next_timeout() <= now_) c->conn->on_timeout(now_);
    }
    if (endpoint_->next_timeout() <= now_) endpoint_->on_timeout(now_);
    return true;
  }

  void run_until(const std::function<bool()>& done, uint64_t until) {
    for (int steps = 0; steps < 200000; ++steps) {
      if (done() || now_ >= until) return;
      if (!step(until)) return;
    }
    ADD_FAILURE() << "the simulation does not settle";
  }
  void run_for(uint64_t duration) {
    const uint64_t end = now_ + duration;
    run_until([] { return false; }, end);
  }

  // A NAT in front of the clients (RFC 9000 §9.3): the address the server
  // sees for client `id`, and the client an address maps back to.
  uint32_t outside(uint32_t id) const {
    auto it = nat_.find(id);
    return it == nat_.end() ? id : it->second;
  }
  uint32_t inside(uint32_t address) const {
    for (const auto& [id, out] : nat_) {
      if (out == address) return id;
    }
    return nat_.count(address) ? kStrayBase - 1 : address;  // the old address goes nowhere
  }

  bool all_confirmed() const {
    for (const auto& c : clients_) {
      if (!c->conn->handshake_confirmed()) return false;
    }
    return true;
  }

  struct InFlight {
    uint64_t at;
    uint64_t seq;
    Dir dir;
    uint32_t peer;  // the client it comes from or goes to
    Buf bytes;
    Ecn ecn = Ecn::kNotEct;  // the IP header's codepoint, carried as sent
    bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Sent {
    uint32_t to;
    Buf bytes;
    uint64_t at = 0;  // datagrams with the same time came out of one flush
    Ecn ecn = Ecn::kNotEct;
  };

  static inline TestCerts* certs_ = nullptr;
  // Never fail unless a test says (alloc_failure_test.cpp).
  FailingAllocator server_alloc_;
  FailingAllocator client_alloc_;
  GnutlsCrypto crypto_;
  TestRandom server_random_{0xabcdef};
  std::unique_ptr<GnutlsTlsContext> server_ctx_;
  std::unique_ptr<GnutlsTlsContext> client_ctx_;
  TestHost host_;
  EndpointConfig config_;
  std::unique_ptr<quicbed::Endpoint> endpoint_;
  std::vector<std::unique_ptr<TestClient>> clients_;

  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<InFlight>> queue_;
  // Applied to each client's configuration before its connection is made.
  std::function<void(ConnectionConfig&)> client_config;
  // Return true to drop a datagram (client id, bytes).
  std::function<bool(uint32_t, const Buf&)> drop_to_server;
  std::function<bool(uint32_t, const Buf&)> drop_to_client;
  size_t to_server_count_ = 0;
  std::vector<Sent> sent_by_server_;
  std::vector<Sent> strays_;  // sent to addresses of no client
  std::map<uint32_t, uint32_t> nat_;  // client id -> the address the server sees
};

}  // namespace quicbed::test
