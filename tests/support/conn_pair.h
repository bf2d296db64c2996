// A client and a server Connection in one process, with real GnuTLS
// sessions, exchanging datagrams over an in-memory link driven by a virtual
// clock: the fixture of the connection tests. The link can drop, duplicate
// and delay (reorder) datagrams by their index in each direction, carries
// each datagram's ECN codepoint (which a test may rewrite, as a bleaching
// or CE-marking router would) and may have an MTU per direction; tests can
// inject datagrams of their own, and a TLS spy hands them the traffic
// secrets to forge packets a misbehaving peer would send.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "conn.h"
#include "failing_allocator.h"
#include "gnutls_crypto.h"
#include "gnutls_tls.h"
#include "test_certs.h"

namespace quicbed::test {

using Buf = std::vector<uint8_t>;
constexpr uint64_t kMs = 1000;
constexpr uint64_t kSec = 1000 * kMs;
constexpr uint64_t kOneWayDelay = 10 * kMs;

// xorshift64*: deterministic "random" bytes for CIDs, tokens and garbage.
class TestRandom final : public Random {
 public:
  explicit TestRandom(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  void fill(MutBytes out) override {
    for (uint8_t& b : out) b = static_cast<uint8_t>(next() >> 56);
  }

 private:
  uint64_t s_;
};

class Events final : public ConnectionEvents {
 public:
  void on_handshake_complete() override { ++handshake_completes; }
  void on_stream_opened(uint64_t id) override { opened.push_back(id); }
  void on_stream_readable(uint64_t id) override { readable.push_back(id); }
  void on_datagram(Bytes data) override { datagrams.emplace_back(data.begin(), data.end()); }
  void on_cid_issued(const ConnectionId& cid) override { cids_issued.push_back(cid); }
  void on_cid_retired(const ConnectionId& cid) override { cids_retired.push_back(cid); }
  void on_new_token(Bytes token) override { new_tokens.emplace_back(token.begin(), token.end()); }
  void on_early_data(bool accepted) override { early_outcomes.push_back(accepted); }
  void on_stream_send_state(uint64_t id, SendState st, uint64_t code) override {
    send_states.push_back({id, static_cast<int>(st), code});
  }
  void on_stream_recv_state(uint64_t id, RecvState st, uint64_t value) override {
    recv_states.push_back({id, static_cast<int>(st), value});
  }
  void on_stream_max_data(uint64_t id, uint64_t limit) override { max_stream_data.push_back({id, 0, limit}); }
  void on_max_streams(StreamDir dir, uint64_t limit) override {
    max_streams.push_back({dir == StreamDir::kUni ? 1u : 0u, 0, limit});
  }
  void on_key_update(bool phase) override { key_updates.push_back(phase); }
  void on_connection_closed(const CloseInfo& info) override {
    ++closes;
    source = info.source;
    application = info.application;
    error_code = info.error_code;
    frame_type = info.frame_type;
    reason.assign(info.reason.begin(), info.reason.end());
  }

  int handshake_completes = 0;
  std::vector<uint64_t> opened;
  std::vector<uint64_t> readable;
  std::vector<std::vector<uint8_t>> datagrams;
  std::vector<ConnectionId> cids_issued;
  std::vector<ConnectionId> cids_retired;
  std::vector<std::vector<uint8_t>> new_tokens;  // NEW_TOKEN frames' tokens
  std::vector<bool> early_outcomes;  // on_early_data, in order
  // Stream changes, in order: the stream (or 0 bidi / 1 uni for
  // max_streams), the state (SendState / RecvState), the code or value.
  struct StreamChange {
    uint64_t id;
    int state;
    uint64_t value;
    bool operator==(const StreamChange&) const = default;
  };
  std::vector<StreamChange> send_states, recv_states, max_stream_data, max_streams;
  std::vector<bool> key_updates;
  int closes = 0;
  CloseInfo::Source source = CloseInfo::Source::kLocal;
  bool application = false;
  uint64_t error_code = 0;
  uint64_t frame_type = 0;
  std::string reason;
};

// A TlsSession wrapper that records the traffic secrets TLS reports, so a
// test can forge packets as the peer, and can rewrite the transport
// parameters the connection hands to TLS.
class SpyTls final : public TlsSession, private TlsCallbacks {
 public:
  struct Key {
    CipherSuite suite;
    Buf secret;
  };

  explicit SpyTls(std::unique_ptr<GnutlsTls> inner) : inner_(std::move(inner)) {}

  Status set_local_transport_params(Bytes ext) override {
    Buf b(ext.begin(), ext.end());
    if (tamper) tamper(b);
    return inner_->set_local_transport_params(Bytes(b.data(), b.size()));
  }
  Status provide_data(EncryptionLevel level, Bytes data, TlsCallbacks& cb) override {
    outer_ = &cb;
    return inner_->provide_data(level, data, *this);
  }
  Status advance(TlsCallbacks& cb) override {
    outer_ = &cb;
    return inner_->advance(*this);
  }
  bool handshake_complete() const override { return inner_->handshake_complete(); }
  Bytes alpn() const override { return inner_->alpn(); }
  EarlyDataState early_data_state() const override { return inner_->early_data_state(); }
  bool resumed() const override { return inner_->resumed(); }
  GnutlsTls& inner() { return *inner_; }

  std::map<std::pair<EncryptionLevel, KeyDirection>, Key> secrets;
  std::function<void(Buf&)> tamper;
  // The type of each handshake message TLS had sent (RFC 8446 §4; GnuTLS
  // hands over one message per call).
  std::vector<uint8_t> msg_types;

 private:
  Status on_tls_crypto_data(EncryptionLevel level, Bytes data) override {
    if (!data.empty()) msg_types.push_back(data[0]);
    return outer_->on_tls_crypto_data(level, data);
  }
  Status on_tls_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret) override {
    secrets[{level, dir}] = Key{suite, Buf(secret.begin(), secret.end())};
    return outer_->on_tls_secret(level, dir, suite, secret);
  }
  Status on_tls_peer_transport_params(Bytes ext) override { return outer_->on_tls_peer_transport_params(ext); }
  Status on_tls_handshake_complete() override { return outer_->on_tls_handshake_complete(); }

  std::unique_ptr<GnutlsTls> inner_;
  TlsCallbacks* outer_ = nullptr;
};

// One side: its host services, TLS session and connection.
struct Endpoint {
  explicit Endpoint(uint64_t seed) : random(seed) {}
  ~Endpoint() {
    conn.reset();
    // Everything the connection allocated went back to the allocator.
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
  }

  FailingAllocator alloc;  // never fails unless a test says (alloc_failure_test.cpp)
  GnutlsCrypto crypto;
  TestRandom random;
  Events events;
  GnutlsTlsConfig tls_config;
  ConnectionConfig config;
  std::unique_ptr<GnutlsTlsContext> ctx;
  std::unique_ptr<SpyTls> tls;
  std::unique_ptr<Connection> conn;
};

enum Dir : int { kToServer = 0, kToClient = 1 };

struct Verdict {
  enum class Fate { kDeliver, kDrop, kDuplicate };
  Fate fate = Fate::kDeliver;
  uint64_t extra_delay = 0;  // on top of the link's one-way delay
};
// Decides each datagram's fate from its direction, its index in that
// direction (0 = the first the sender wrote) and the time it was sent.
using Filter = std::function<Verdict(Dir, size_t, uint64_t)>;

inline TransportParameters default_params() {
  TransportParameters tp;
  tp.max_idle_timeout = 30'000;
  tp.initial_max_data = 1 << 20;
  tp.initial_max_stream_data_bidi_local = 256 << 10;
  tp.initial_max_stream_data_bidi_remote = 256 << 10;
  tp.initial_max_stream_data_uni = 256 << 10;
  tp.initial_max_streams_bidi = 16;
  tp.initial_max_streams_uni = 16;
  tp.active_connection_id_limit = 4;
  return tp;
}

inline Bytes bytes_of(const Buf& b) { return Bytes(b.data(), b.size()); }

// A path address for the tests: a 4-byte host and a 2-byte port, whose
// place is marked so that a change of port alone is recognized (§9.4).
inline PathAddress test_address(uint32_t host, uint16_t port) {
  const uint8_t b[6] = {static_cast<uint8_t>(host >> 24), static_cast<uint8_t>(host >> 16),
                        static_cast<uint8_t>(host >> 8),  static_cast<uint8_t>(host),
                        static_cast<uint8_t>(port >> 8),  static_cast<uint8_t>(port)};
  PathAddress a;
  EXPECT_TRUE(a.assign(Bytes(b, 6)));
  a.port_at = 4;
  a.port_len = 2;
  return a;
}


// What a forged packet looks like: its type (Initial, Handshake or 1-RTT),
// CIDs (`scid` for long headers only), packet number and its length, and
// what follows the frames: `padding` bytes of PADDING, then more up to a
// packet of `pad_to` bytes. `reserved_bits` are set in the first byte
// before protection, as a peer breaking RFC 9000 §17.2 or §17.3.1 would.
struct ForgedPacket {
  PacketType type = PacketType::kOneRtt;
  Bytes dcid;
  Bytes scid;
  uint64_t pn = 0;
  size_t pn_len = 4;  // with 4 the header protection sample (RFC 9001 §5.4.2) fits any payload
  size_t padding = 0;
  size_t pad_to = 0;
  uint8_t reserved_bits = 0;
  // 1-RTT: the key phase (RFC 9001 §6), `secret` being generation 0's.
  int generation = 0;
};

// `p` carrying `frames`, sealed with the v1 write secret `secret`.
inline Buf forge_packet(CryptoBackend& crypto, CipherSuite suite, Bytes secret, const ForgedPacket& p,
                        const Buf& frames) {
  Buf packet(std::max<size_t>(128 + frames.size() + p.padding, p.pad_to));
  Writer w{MutBytes(packet.data(), packet.size())};
  size_t pn_offset = 0;
  size_t length_offset = 0;
  if (p.type == PacketType::kOneRtt) {
    ShortHeader h;
    h.dcid = p.dcid;
    h.packet_number = p.pn;
    h.pn_len = p.pn_len;
    h.key_phase = p.generation % 2 == 1;
    auto at = write_short_header(w, h);
    EXPECT_TRUE(at.is_ok());
    pn_offset = at ? *at : 0;
  } else {
    LongHeader h;
    h.type = p.type;
    h.dcid = p.dcid;
    h.scid = p.scid;
    h.packet_number = p.pn;
    h.pn_len = p.pn_len;
    auto layout = write_long_header(w, h);
    EXPECT_TRUE(layout.is_ok());
    if (layout) pn_offset = layout->pn_offset, length_offset = layout->length_offset;
  }
  EXPECT_TRUE(w.bytes(bytes_of(frames)).is_ok());
  EXPECT_TRUE(w.fill(0, p.padding).is_ok());
  if (p.pad_to > w.position() + kAeadTagLen) {
    EXPECT_TRUE(w.fill(0, p.pad_to - kAeadTagLen - w.position()).is_ok());
  }
  packet.resize(w.position() + kAeadTagLen);
  packet[0] |= p.reserved_bits;
  MutBytes out(packet.data(), packet.size());
  if (p.type != PacketType::kOneRtt) {
    EXPECT_TRUE(write_length_field(out, length_offset, packet.size() - pn_offset).is_ok());
  }
  PacketProtection pp;
  EXPECT_TRUE(pp.init(crypto, suite, *version_crypto(kVersion1), secret).is_ok());
  for (int g = 0; g < p.generation; ++g) EXPECT_TRUE(pp.update_keys().is_ok());
  EXPECT_TRUE(pp.protect(out, pn_offset, p.pn_len, p.pn).is_ok());
  return packet;
}

// A 1-RTT packet carrying `frames` and `padding` bytes of PADDING, as the
// holder of `key` (a write secret the spy saw) would send it to `dcid`.
inline Buf forge_one_rtt(CryptoBackend& crypto, const SpyTls::Key& key, Bytes dcid, uint64_t pn, const Buf& frames,
                         size_t padding = 8, uint8_t reserved_bits = 0) {
  ForgedPacket p;
  p.dcid = dcid;
  p.pn = pn;
  p.padding = padding;
  p.reserved_bits = reserved_bits;
  return forge_packet(crypto, key.suite, bytes_of(key.secret), p, frames);
}

// The same for a Handshake packet (RFC 9000 §17.2.4) from `scid` to `dcid`.
inline Buf forge_handshake(CryptoBackend& crypto, const SpyTls::Key& key, Bytes dcid, Bytes scid, uint64_t pn,
                           const Buf& frames, uint8_t reserved_bits = 0) {
  ForgedPacket p;
  p.type = PacketType::kHandshake;
  p.dcid = dcid;
  p.scid = scid;
  p.pn = pn;
  p.reserved_bits = reserved_bits;
  return forge_packet(crypto, key.suite, bytes_of(key.secret), p, frames);
}

class ConnPairTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new test::TestCerts(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  void SetUp() override {
    client_.tls_config.role = Role::kClient;
    client_.tls_config.alpn = {"hq-interop"};
    client_.tls_config.server_name = "localhost";
    client_.tls_config.ca_file = certs_->ca_file();
    server_.tls_config.role = Role::kServer;
    server_.tls_config.alpn = {"hq-interop"};
    server_.tls_config.cert_file = certs_->cert_file();
    server_.tls_config.key_file = certs_->key_file();
    for (Endpoint* e : {&client_, &server_}) {
      e->config.role = e->tls_config.role;
      e->config.params = default_params();
      e->config.alloc = &e->alloc;
      e->config.crypto_backend = &e->crypto;
      e->config.events = &e->events;
      e->config.random = &e->random;
    }
  }

  static void create(Endpoint& e) {
    auto ctx = GnutlsTlsContext::create(e.tls_config);
    ASSERT_TRUE(ctx.is_ok()) << ctx.status().reason();
    e.ctx = std::move(ctx).value();
    auto session = e.ctx->new_session();
    ASSERT_TRUE(session.is_ok()) << session.status().reason();
    e.tls = std::make_unique<SpyTls>(std::move(session).value());
    e.config.tls = e.tls.get();
    e.conn = std::make_unique<Connection>(e.config);
  }

  // Both connections, initialized at time 0; the client's ClientHello waits.
  void start() {
    create(server_);
    create(client_);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(server_.conn->init(now_).is_ok());
    Status s = client_.conn->init(now_);
    ASSERT_TRUE(s.is_ok()) << s.reason();
  }

  Endpoint& from(Dir d) { return d == kToServer ? client_ : server_; }
  Endpoint& to(Dir d) { return d == kToServer ? server_ : client_; }

  // Everything `d`'s sender has to send now goes on the link.
  void flush(Dir d) {
    Connection& c = *from(d).conn;
    const size_t max = from(d).config.max_datagram_size;
    for (int i = 0; i < 1000; ++i) {
      Buf out(std::max<size_t>(max, 1500));
      Path path;
      size_t n = use_paths_ ? c.write_datagram(MutBytes(out.data(), out.size()), now_, &path)
                            : c.write_datagram(MutBytes(out.data(), out.size()), now_);
      if (n == 0) return;
      sent_paths_[d].push_back(path);
      ASSERT_LE(n, max);
      out.resize(n);
      if (d == kToClient && !server_.conn->address_validated()) {
        // RFC 9000 §8.1, checked after every datagram.
        EXPECT_LE(server_.conn->bytes_sent(), 3 * server_.conn->bytes_received());
      }
      const size_t index = sent_[d].size();
      sent_[d].push_back(out);
      sent_at_[d].push_back(now_);
      sent_ecn_[d].push_back(c.datagram_ecn());
      Verdict v = filter_ ? filter_(d, index, now_) : Verdict{};
      if (v.fate == Verdict::Fate::kDrop) continue;
      if (link_mtu_[d] && n > link_mtu_[d]) continue;  // too big for the path
      const Ecn ecn = ecn_path_ ? ecn_path_(d, index, c.datagram_ecn()) : c.datagram_ecn();
      if (use_paths_) in_flight_paths_[seq_] = path;
      queue_.push_back({now_ + kOneWayDelay + v.extra_delay, seq_++, d, out, ecn});
      if (use_paths_ && v.fate == Verdict::Fate::kDuplicate) in_flight_paths_[seq_] = path;
      if (v.fate == Verdict::Fate::kDuplicate) queue_.push_back({now_ + kOneWayDelay + 1, seq_++, d, out, ecn});
    }
    ADD_FAILURE() << "endless datagrams";
  }

  void deliver(Dir d, Buf datagram, Ecn ecn = Ecn::kNotEct, const Path& sent_on = Path()) {
    DatagramInfo info;
    info.ecn = ecn;
    // The receiver's view of the path: the addresses swapped, the client's
    // rewritten by the NAT (outbound) and back (inbound).
    Path seen{sent_on.peer, sent_on.local};
    if (use_paths_) {
      if (nat_ && d == kToServer && seen.peer == nat_inside_) seen.peer = nat_outside_;
      if (nat_ && d == kToClient && seen.local == nat_outside_) seen.local = nat_inside_;
      info.path = &seen;
    }
    // An exact-size buffer, so that ASan sees any overread.
    to(d).conn->receive_datagram(MutBytes(datagram.data(), datagram.size()), info, now_);
  }

  // ---- Paths (RFC 9000 §9): with use_paths(), each side is told the path
  // of what it receives and says where it sends; the link delivers on
  // that path. A NAT (nat_ on) rewrites the client's inside address to
  // its outside one, unknown to the client: a NAT rebinding.
  void use_paths(const PathAddress& client, const PathAddress& server) {
    use_paths_ = true;
    client_.config.path = Path{client, server};
    server_.config.path = Path{server, client};
  }

  // One event: sends what is pending, then moves the clock to the next
  // delivery or timer and runs it. False when nothing is left to happen
  // until `until` (the clock then stands there).
  bool step(uint64_t until = kNever) {
    flush(kToServer);
    flush(kToClient);
    uint64_t next = std::min(client_.conn->next_timeout(), server_.conn->next_timeout());
    for (const InFlight& f : queue_) next = std::min(next, f.at);
    if (next > until) {
      now_ = std::max(now_, until);
      return false;
    }
    if (next == kNever) return false;
    now_ = std::max(now_, next);
    std::sort(queue_.begin(), queue_.end(),
              [](const InFlight& a, const InFlight& b) { return a.at != b.at ? a.at < b.at : a.seq < b.seq; });
    while (!queue_.empty() && queue_.front().at <= now_) {
      InFlight f = std::move(queue_.front());
      queue_.erase(queue_.begin());
      Path path;
      if (auto it = in_flight_paths_.find(f.seq); it != in_flight_paths_.end()) {
        path = it->second;
        in_flight_paths_.erase(it);
      }
      deliver(f.dir, std::move(f.bytes), f.ecn, path);
    }
    for (Endpoint* e : {&client_, &server_}) {
      if (e->conn->next_timeout() <= now_) e->conn->on_timeout(now_);
    }
    return true;
  }

  // Runs until `done` or until virtual time passes `until`.
  void run_until(const std::function<bool()>& done, uint64_t until) {
    for (int steps = 0; steps < 100000; ++steps) {
      if (done() || now_ >= until) return;
      if (!step(until)) return;
    }
    ADD_FAILURE() << "the simulation does not settle";
  }
  void run_for(uint64_t duration) {
    const uint64_t end = now_ + duration;
    run_until([&] { return now_ >= end; }, end);
  }

  bool confirmed() const { return client_.conn->handshake_confirmed() && server_.conn->handshake_confirmed(); }
  void handshake(uint64_t limit = 10 * kSec) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    run_until([&] { return confirmed(); }, limit);
  }

  void expect_established() {
    for (Endpoint* e : {&client_, &server_}) {
      const Connection& c = *e->conn;
      EXPECT_EQ(c.state(), Connection::State::kEstablished);
      EXPECT_TRUE(c.handshake_complete());
      EXPECT_TRUE(c.handshake_confirmed());
      EXPECT_EQ(e->events.handshake_completes, 1);
      EXPECT_EQ(e->events.closes, 0) << "closed (source " << int(e->events.source) << ") with 0x" << std::hex << e->events.error_code << " "
                                     << e->events.reason;
      // RFC 9001 §4.9: Initial and Handshake keys are gone once confirmed.
      EXPECT_TRUE(c.space(PnSpace::kInitial).discarded());
      EXPECT_TRUE(c.space(PnSpace::kHandshake).discarded());
      EXPECT_TRUE(c.has_peer_params());
    }
    EXPECT_TRUE(server_.conn->address_validated());
  }

  // Long header packet types of a datagram's packets (short header: 1-RTT).
  static std::vector<PacketType> packet_types(const Buf& d) {
    std::vector<PacketType> types;
    Bytes rest = bytes_of(d);
    while (!rest.empty()) {
      auto h = parse_packet_header(rest, HeaderParseOptions{8, false});
      if (!h) break;
      types.push_back(h->type);
      rest = rest.subspan(h->packet_length);
    }
    return types;
  }

  struct InFlight {
    uint64_t at;
    uint64_t seq;
    Dir dir;
    Buf bytes;
    Ecn ecn = Ecn::kNotEct;
  };

  static inline test::TestCerts* certs_ = nullptr;
  Endpoint client_{0x1234};
  Endpoint server_{0x5678};
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  Filter filter_;
  // The codepoint a datagram arrives with, from its direction, index and
  // the codepoint it was sent with; unset: unchanged.
  std::function<Ecn(Dir, size_t, Ecn)> ecn_path_;
  // The largest datagram the link carries, per direction; 0: any.
  size_t link_mtu_[2] = {0, 0};
  std::vector<InFlight> queue_;
  std::vector<Buf> sent_[2];      // every datagram written, per direction
  std::vector<uint64_t> sent_at_[2];  // and when
  std::vector<Path> sent_paths_[2];   // and on which path (use_paths_)
  std::map<uint64_t, Path> in_flight_paths_;  // by InFlight::seq, as the sender wrote it
  bool use_paths_ = false;
  bool nat_ = false;
  PathAddress nat_inside_, nat_outside_;
  std::vector<Ecn> sent_ecn_[2];      // and with which codepoint
};

}  // namespace quicbed::test
