// A hostile peer at the connection level, fuzz style: the 1-RTT packets of
// a real exchange are opened with the sender's keys (the TLS spy's
// secrets), their frames mutated (bit flips, truncation, edge values,
// random frames, repeats) and sealed again, so that each mutant passes
// packet protection and reaches the frame parsers and the state machines.
// Every outcome must be one of: processed, or closed with an RFC 9000 §20.1
// transport error (or the peer's own CONNECTION_CLOSE, when the mutant
// carries one). Never a crash, a hang or a leak; the sanitizer build runs
// it too. Fixed seed, bounded iterations.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <vector>

#include "conn_pair.h"

namespace quicbed {
namespace {

using namespace quicbed::test;
using ConnFuzzTest = ConnPairTest;

constexpr size_t kMaxMutant = 1300;  // frames of one mutant, in bytes

Buf pattern(size_t n, uint8_t seed) {
  Buf b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 9));
  return b;
}

// A frame of a random (mostly known) type followed by varints with edge
// values and maybe some raw bytes: well enough formed to reach the checks
// behind the parser (limits, stream states, sequence numbers).
Buf random_frame(TestRandom& rng) {
  static constexpr uint8_t kTypes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
                                       0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
                                       0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x30, 0x31, 0x1f, 0x40};
  Buf f(128);
  Writer w{MutBytes(f.data(), f.size())};
  const uint8_t type = rng.below(8) == 0 ? static_cast<uint8_t>(rng.next()) : kTypes[rng.below(sizeof kTypes)];
  EXPECT_TRUE(w.u8(type).is_ok());
  const size_t varints = rng.below(6);
  for (size_t i = 0; i < varints; ++i) {
    uint64_t v = 0;
    switch (rng.below(7)) {
      case 0: v = 0; break;
      case 1: v = 1 + rng.below(4); break;
      case 2: v = rng.below(64); break;
      case 3: v = rng.below(1 << 14); break;
      case 4: v = (uint64_t{1} << 30) + rng.below(1 << 20); break;
      case 5: v = kVarintMax - rng.below(2); break;
      default: v = rng.next() & kVarintMax; break;
    }
    EXPECT_TRUE(write_varint(w, v).is_ok());
  }
  Buf raw(rng.below(3) == 0 ? rng.below(24) : 0);
  rng.fill(MutBytes(raw.data(), raw.size()));
  EXPECT_TRUE(w.bytes(bytes_of(raw)).is_ok());
  f.resize(w.position());
  return f;
}

// One to three mutations of one of `pool`'s payloads.
Buf mutate(const std::vector<Buf>& pool, TestRandom& rng) {
  static constexpr uint8_t kEdge[] = {0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff};
  Buf p = pool[rng.below(pool.size())];
  const size_t rounds = 1 + rng.below(3);
  for (size_t r = 0; r < rounds; ++r) {
    const Buf before = p;
    const size_t at = rng.below(p.size() + 1);
    switch (rng.below(6)) {
      case 0:  // a bit flipped
        if (!p.empty()) p[rng.below(p.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
        break;
      case 1:  // truncated, possibly inside a frame or to nothing
        p.resize(at);
        break;
      case 2:  // a byte set to a varint length prefix or an extreme
        if (!p.empty()) p[rng.below(p.size())] = kEdge[rng.below(sizeof kEdge)];
        break;
      case 3: {  // a random frame inserted
        const Buf f = random_frame(rng);
        p.insert(p.begin() + static_cast<std::ptrdiff_t>(at), f.begin(), f.end());
        break;
      }
      case 4: {  // another packet's frames repeated after these
        const Buf& q = pool[rng.below(pool.size())];
        p.insert(p.end(), q.begin(), q.end());
        break;
      }
      default: {  // random bytes inserted
        Buf g(1 + rng.below(16));
        rng.fill(MutBytes(g.data(), g.size()));
        p.insert(p.begin() + static_cast<std::ptrdiff_t>(at), g.begin(), g.end());
      }
    }
    // Growth beyond a datagram is undone rather than cut, which would
    // truncate the last frame each time.
    if (p.size() > kMaxMutant) p = before;
  }
  return p;
}

// The plaintext frames of every 1-RTT packet among `datagrams`, opened
// with `key`, the sender's write secret (no key update in the exchange).
std::vector<Buf> one_rtt_payloads(CryptoBackend& crypto, const SpyTls::Key& key, const std::vector<Buf>& datagrams) {
  PacketProtection pp;
  EXPECT_TRUE(pp.init(crypto, key.suite, *version_crypto(kVersion1), bytes_of(key.secret)).is_ok());
  std::vector<Buf> out;
  uint64_t largest = kNoPacketNumber;
  for (Buf d : datagrams) {
    size_t pos = 0;
    while (pos < d.size()) {
      auto h = parse_packet_header(Bytes(d.data() + pos, d.size() - pos), HeaderParseOptions{8, false});
      if (!h) break;
      MutBytes packet(d.data() + pos, h->packet_length);
      pos += h->packet_length;
      if (h->form != HeaderForm::kShort) continue;
      auto pnf = pp.unprotect_header(packet, h->pn_offset);
      EXPECT_TRUE(pnf.is_ok());
      if (!pnf) continue;
      const uint64_t pn = decode_packet_number(largest, pnf->truncated, pnf->len);
      auto payload = pp.open(packet, h->pn_offset + pnf->len, pn);
      EXPECT_TRUE(payload.is_ok());
      if (!payload) continue;
      largest = largest == kNoPacketNumber ? pn : std::max(largest, pn);
      out.emplace_back(payload->begin(), payload->end());
    }
  }
  return out;
}

// A connection pair that runs one real exchange and is then handed the
// mutants, one side at a time, with nothing delivered in between.
class FuzzPair : public ConnPairTest {
 public:
  FuzzPair() { SetUp(); }
  void TestBody() override {}

  // Handshake, then streams both ways (flow control updates with the small
  // windows), a reset stream and DATAGRAM frames both ways.
  void exchange() {
    for (Endpoint* e : {&client_, &server_}) {
      e->config.params.initial_max_data = 48 << 10;
      e->config.params.initial_max_stream_data_bidi_local = 12 << 10;
      e->config.params.initial_max_stream_data_bidi_remote = 12 << 10;
      e->config.params.initial_max_stream_data_uni = 12 << 10;
      e->config.params.initial_max_streams_bidi = 3;
      e->config.params.initial_max_streams_uni = 3;
      e->config.params.max_datagram_frame_size = 1200;
      e->config.max_stream_window = 16 << 10;
      e->config.max_connection_window = 64 << 10;
    }
    handshake();
    ASSERT_TRUE(confirmed());
    Connection& c = *client_.conn;
    Connection& s = *server_.conn;
    auto bidi = c.open_stream(StreamDir::kBidi);
    auto uni = c.open_stream(StreamDir::kUni);
    auto reset = c.open_stream(StreamDir::kBidi);
    ASSERT_TRUE(bidi.is_ok() && uni.is_ok() && reset.is_ok());
    ASSERT_TRUE(c.stream_write(*reset, bytes_of(pattern(500, 3)), false).is_ok());
    ASSERT_TRUE(c.stream_reset(*reset, 7).is_ok());
    ASSERT_TRUE(c.datagram_send(bytes_of(pattern(100, 4))).is_ok());
    ASSERT_TRUE(s.datagram_send(bytes_of(pattern(200, 5))).is_ok());
    const Buf up = pattern(30'000, 1);
    const Buf down = pattern(20'000, 2);
    const Buf uni_data = pattern(5'000, 6);
    size_t up_written = 0, down_written = 0, uni_written = 0;
    bool down_fin = false, up_done = false;
    const auto write_some = [](Connection& conn, uint64_t id, const Buf& data, size_t& written) {
      if (written == data.size() && !data.empty()) return;
      auto n = conn.stream_write(id, Bytes(data.data() + written, data.size() - written), true);
      if (n) written += *n;
    };
    const auto read_all = [](Connection& conn, uint64_t id, bool& fin) {
      uint8_t buf[4096];
      while (!fin && conn.streams().find(id)) {
        auto r = conn.stream_read(id, MutBytes(buf, sizeof buf));
        if (!r) return;  // the reset stream
        fin = r->fin;
        if (r->bytes == 0) return;
      }
    };
    run_until(
        [&] {
          write_some(c, *bidi, up, up_written);
          write_some(c, *uni, uni_data, uni_written);
          for (uint64_t id : server_.events.opened) {
            bool fin = false;
            read_all(s, id, fin);
            if (id == *bidi && fin) up_done = true;
          }
          if (s.streams().find(*bidi)) write_some(s, *bidi, down, down_written);
          read_all(c, *bidi, down_fin);
          return up_done && down_fin;
        },
        now_ + 10 * kSec);
    ASSERT_TRUE(up_done && down_fin);
    run_for(100 * kMs);  // the last ACKs
    expect_established();
  }

  // The frames of the 1-RTT packets `d`'s sender wrote.
  std::vector<Buf> payloads(Dir d) {
    Endpoint& e = from(d);
    return one_rtt_payloads(e.crypto, e.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite}),
                            sent_[d]);
  }

  // Hands `frames`, sealed as the sender of direction `d` would seal them,
  // to the receiver; then lets the receiver write and run its timers.
  void inject(Dir d, const Buf& frames) {
    Endpoint& sender = from(d);
    const auto& key = sender.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
    // The receiver's first CID: the Source Connection ID of its first
    // Initial. Packet numbers far beyond the real ones (never duplicates).
    auto first = parse_packet_header(bytes_of(sent_[d == kToServer ? kToClient : kToServer][0]), HeaderParseOptions{});
    ASSERT_TRUE(first.is_ok());
    deliver(d, forge_one_rtt(sender.crypto, key, first->scid, next_pn_++, frames, 0));
    Connection& conn = *to(d).conn;
    for (int i = 0; i < 100; ++i) {
      Buf out(1500);
      if (conn.write_datagram(MutBytes(out.data(), out.size()), now_) == 0) break;
    }
    now_ += kMs;
    if (conn.next_timeout() <= now_) conn.on_timeout(now_);
  }

  const Connection& conn(Dir d) { return *to(d).conn; }
  const Events& events(Dir d) { return to(d).events; }

 private:
  uint64_t next_pn_ = 1 << 20;
};

// RFC 9000 §20.1 codes a hostile peer's frames may earn: FLOW_CONTROL,
// STREAM_LIMIT, STREAM_STATE, FINAL_SIZE, FRAME_ENCODING,
// CONNECTION_ID_LIMIT, PROTOCOL_VIOLATION, CRYPTO_BUFFER_EXCEEDED, and
// CRYPTO_ERROR (0x0100-0x01ff, RFC 9001 §4.8) for post-handshake TLS
// messages. Never INTERNAL_ERROR: that would be our bug.
bool allowed_error(uint64_t code) {
  static constexpr uint64_t kAllowed[] = {0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0a, 0x0d};
  return std::find(std::begin(kAllowed), std::end(kAllowed), code) != std::end(kAllowed) ||
         (code >= 0x100 && code <= 0x1ff);
}

TEST_F(ConnFuzzTest, MutatedOneRttFramesAreProcessedOrCloseWithTransportError) {
  constexpr int kMutants = 600;
  TestRandom rng(0x5eed);
  std::vector<Buf> pool[2];
  std::unique_ptr<FuzzPair> pair;
  Dir target = kToServer;
  int pairs = 0, processed = 0, peer_closes = 0;
  std::map<uint64_t, int> local_closes;
  for (int i = 0; i < kMutants; ++i) {
    if (!pair || pair->conn(target).state() != Connection::State::kEstablished) {
      pair = std::make_unique<FuzzPair>();
      pair->exchange();
      ASSERT_FALSE(HasFatalFailure());
      if (pool[0].empty()) {
        for (Dir d : {kToServer, kToClient}) pool[d] = pair->payloads(d);
        ASSERT_GE(pool[kToServer].size(), 20u);
        ASSERT_GE(pool[kToClient].size(), 20u);
      }
      // Each new pair turns on the other side.
      target = pairs++ % 2 == 0 ? kToServer : kToClient;
    }
    const Buf mutant = mutate(pool[target], rng);
    const Connection& conn = pair->conn(target);
    const Events& ev = pair->events(target);
    pair->inject(target, mutant);
    ASSERT_FALSE(HasFatalFailure());
    if (conn.state() == Connection::State::kEstablished) {
      ++processed;
      EXPECT_EQ(ev.closes, 0);
      continue;
    }
    ASSERT_EQ(ev.closes, 1) << "mutant " << i;
    if (ev.source == CloseInfo::Source::kPeer) {
      EXPECT_EQ(conn.state(), Connection::State::kDraining);
      ++peer_closes;
      continue;
    }
    EXPECT_EQ(ev.source, CloseInfo::Source::kLocal) << "mutant " << i;
    EXPECT_EQ(conn.state(), Connection::State::kClosing) << "mutant " << i;
    EXPECT_FALSE(ev.application);
    EXPECT_TRUE(allowed_error(ev.error_code))
        << "mutant " << i << " closed with 0x" << std::hex << ev.error_code << " (" << ev.reason << ")";
    ++local_closes[ev.error_code];
  }
  pair.reset();
  // The mix is wide: many mutants get through, and several kinds of error
  // come back (limits and stream states, not just the parser's).
  EXPECT_GT(processed, kMutants / 10);
  EXPECT_GE(local_closes.size(), 4u);
  EXPECT_GT(local_closes[0x07], 0);  // FRAME_ENCODING_ERROR
  EXPECT_GT(local_closes[0x0a], 0);  // PROTOCOL_VIOLATION
  int total = 0;
  for (const auto& [code, n] : local_closes) total += n;
  EXPECT_EQ(processed + peer_closes + total, kMutants);
  ::testing::Test::RecordProperty("pairs", pairs);
}

}  // namespace
}  // namespace quicbed
