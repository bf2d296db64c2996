// Allocation failures in the engine: the connection and endpoint tests'
// exchanges (handshake, a stream each way, DATAGRAM frames; many clients of
// one server Endpoint) run with an allocator that refuses every Nth
// allocation, for a range of N and on either side. Whatever fails, nothing
// crashes and nothing leaks (the fixtures check that every byte went back
// to the allocator; LeakSanitizer in the ASan build checks the rest), and
// the failure shows as a clean error: an operation refused with kNoMemory,
// or the connection closed with INTERNAL_ERROR (RFC 9000 §20.1) by the side
// that failed, which its peer then hears; a failure the protocol recovers
// from (a packet it could not take, sent again) leaves the exchange whole.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "endpoint_pair.h"
#include "stream_transfer.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

// One connection's exchange makes about 130 allocations: failing every Nth
// for each N up to there makes each of them the first to fail once.
constexpr unsigned kConnEveryMax = 160;
// The endpoint's: each N up to 40, then sparser (each run costs more).
constexpr unsigned kEndpointEvery[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,  16,  17,
                                       18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,  34,
                                       35, 36, 37, 38, 39, 40, 50, 64, 80, 100, 128, 160, 200, 256, 400, 1000};
constexpr uint64_t kInternalError = static_cast<uint64_t>(ErrorCode::kInternalError);

enum Side { kClientFails, kServerFails, kBothFail };
std::string side_name(Side s) { return s == kClientFails ? "client" : s == kServerFails ? "server" : "both"; }

// A close is clean if it is INTERNAL_ERROR, ours or the peer's: nothing
// else may come of running out of memory.
void expect_clean_close(const Events& e, const char* who) {
  if (e.closes == 0) return;
  EXPECT_EQ(e.closes, 1) << who;
  if (e.source == CloseInfo::Source::kLocal || e.source == CloseInfo::Source::kPeer) {
    EXPECT_FALSE(e.application) << who;
    EXPECT_EQ(e.error_code, kInternalError) << who << " closed with 0x" << std::hex << e.error_code << " " << e.reason;
  } else {
    // The peer closed while our packets could not get through: its close
    // never arrived, and the idle timeout ends the connection (§10.1).
    EXPECT_EQ(e.source, CloseInfo::Source::kIdleTimeout) << who;
  }
}

class ConnAllocFailureTest : public ConnPairTest, public ::testing::WithParamInterface<std::tuple<Side, unsigned>> {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    client_.config.params.max_datagram_frame_size = 1200;
    server_.config.params.max_datagram_frame_size = 1200;
  }
};

TEST_P(ConnAllocFailureTest, HandshakeStreamsDatagrams) {
  const auto [side, every] = GetParam();
  if (side != kServerFails) client_.alloc.set_every(every);
  if (side != kClientFails) server_.alloc.set_every(every);
  create(server_);
  create(client_);
  ASSERT_FALSE(HasFatalFailure());
  bool refused = false;  // an operation reported kNoMemory
  for (test::Endpoint* e : {&server_, &client_}) {
    if (Status s = e->conn->init(now_); !s) {
      EXPECT_EQ(s.code(), ErrorCode::kNoMemory) << s.reason();
      refused = true;
    }
  }
  auto closed = [&] { return client_.conn->is_terminated() || server_.conn->is_terminated() ||
                             client_.events.closes > 0 || server_.events.closes > 0; };
  if (!refused) run_until([&] { return confirmed() || closed(); }, 10 * kSec);

  // Upload on a bidirectional stream; the server echoes it once it has all.
  const Buf up = pattern(40000, 3);
  uint64_t id = 0;
  bool have_stream = false;
  size_t written = 0;
  Buf at_server;
  bool server_fin = false;
  size_t echoed = 0;
  Buf at_client;
  bool client_fin = false;
  int datagrams_sent = 0;
  auto pump = [&] {
    if (refused || !confirmed() || closed()) return;
    if (!have_stream) {
      auto s = client_.conn->open_stream(StreamDir::kBidi);
      if (!s) {
        EXPECT_EQ(s.status().code(), ErrorCode::kNoMemory) << s.status().reason();
        refused = true;
        return;
      }
      id = *s;
      have_stream = true;
    }
    auto write = [&](Connection& c, const Buf& data, size_t& done) {
      if (done == data.size()) return;
      auto n = c.stream_write(id, Bytes(data.data() + done, data.size() - done), true);
      if (!n) {
        EXPECT_EQ(n.status().code(), ErrorCode::kNoMemory) << n.status().reason();
        refused = true;
        return;
      }
      done += *n;
    };
    write(*client_.conn, up, written);
    auto read = [&](Connection& c, Buf& into, bool& fin) {
      while (!fin && c.streams().find(id)) {
        uint8_t buf[4096];
        auto r = c.stream_read(id, MutBytes(buf, sizeof buf));
        if (!r) break;  // not readable yet
        into.insert(into.end(), buf, buf + r->bytes);
        fin = r->fin;
        if (r->bytes == 0) break;
      }
    };
    read(*server_.conn, at_server, server_fin);
    if (server_fin) write(*server_.conn, at_server, echoed);
    read(*client_.conn, at_client, client_fin);
    if (datagrams_sent < 4) {
      Status s = client_.conn->datagram_send(bytes_of(pattern(500, static_cast<uint8_t>(datagrams_sent))));
      if (s) {
        ++datagrams_sent;
      } else if (s.code() == ErrorCode::kNoMemory) {
        refused = true;
      } else {
        EXPECT_EQ(s.code(), ErrorCode::kLimitExceeded) << s.reason();  // the queue is full for now
      }
    }
  };
  for (int i = 0; i < 20000 && !refused && !closed() && !client_fin; ++i) {
    pump();
    if (!step(now_ + 60 * kSec)) break;
  }
  const bool finished = client_fin && at_client == up && at_server == up;
  if (!refused && !closed()) {
    // Nothing surfaced: then the exchange must be whole.
    EXPECT_TRUE(finished) << "every " << every << " on " << side_name(side) << ": stalled without an error";
  }
  expect_clean_close(client_.events, "client");
  expect_clean_close(server_.events, "server");
  if (client_fin) {
    EXPECT_EQ(at_client, up);
  }
  // The side that never failed never closes first with an error of its own.
  if (side == kClientFails && server_.events.closes) {
    EXPECT_NE(server_.events.source, CloseInfo::Source::kLocal);
  }
  if (side == kServerFails && client_.events.closes) {
    EXPECT_NE(client_.events.source, CloseInfo::Source::kLocal);
  }
  // Tear-down may allocate nothing, but must free everything (checked by
  // the Endpoint fixture's destructor).
  client_.alloc.set_every(0);
  server_.alloc.set_every(0);
}

INSTANTIATE_TEST_SUITE_P(EveryNth, ConnAllocFailureTest,
                         ::testing::Combine(::testing::Values(kClientFails, kServerFails, kBothFail),
                                            ::testing::Range(1u, kConnEveryMax + 1)),
                         [](const auto& info) {
                           return side_name(std::get<0>(info.param)) + "_every_" +
                                  std::to_string(std::get<1>(info.param));
                         });

class EndpointAllocFailureTest : public EndpointPairTest, public ::testing::WithParamInterface<unsigned> {
 protected:
  int echo_refusals() const {
    int n = 0;
    for (const auto& [tls, owned] : host_.live) n += owned.events->write_refusals;
    return n;
  }
};

// Three clients against a server Endpoint whose allocator fails every Nth
// time: the endpoint refuses or closes what it cannot hold, and every
// connection it made is destroyed (TearDown checks creates == destroys and
// that no byte is left allocated).
TEST_P(EndpointAllocFailureTest, ClientsHandshakeAndEcho) {
  server_alloc_.set_every(GetParam());
  endpoint_ = std::make_unique<quicbed::Endpoint>(config_);
  if (Status s = endpoint_->init(); !s) {
    EXPECT_EQ(s.code(), ErrorCode::kNoMemory) << s.reason();
    server_alloc_.set_every(0);
    return;
  }
  for (int i = 0; i < 3; ++i) add_client();
  run_until([&] { return all_confirmed(); }, 10 * kSec);
  const Buf msg = pattern(3000, 9);
  for (auto& c : clients_) {
    if (!c->conn->handshake_confirmed() || c->events.closes) continue;
    auto id = c->conn->open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok());  // the client's allocator does not fail
    auto n = c->conn->stream_write(*id, bytes_of(msg), true);
    ASSERT_TRUE(n.is_ok() && *n == msg.size());
  }
  run_for(20 * kSec);
  for (auto& c : clients_) {
    const Events& e = c->events;
    if (e.closes == 0) {
      // Still open: its connection survived every failure, so the echo
      // came back, unless the echo service was refused the memory.
      if (e.readable.empty()) {
        EXPECT_GT(echo_refusals(), 0) << "client " << c->id << " got no echo and no error";
      }
      continue;
    }
    if (e.source == CloseInfo::Source::kPeer) {
      // INTERNAL_ERROR from a server connection that failed, or
      // CONNECTION_REFUSED from the endpoint that could not make one
      // (§5.2.2).
      EXPECT_TRUE(e.error_code == kInternalError ||
                  e.error_code == static_cast<uint64_t>(ErrorCode::kConnectionRefused))
          << "client " << c->id << ": 0x" << std::hex << e.error_code << " " << e.reason;
    } else {
      // The client's own timers: its handshake or idle timeout, after the
      // server dropped what it could not take.
      EXPECT_EQ(e.source, CloseInfo::Source::kIdleTimeout) << "client " << c->id;
    }
  }
  server_alloc_.set_every(0);
}

INSTANTIATE_TEST_SUITE_P(EveryNth, EndpointAllocFailureTest, ::testing::ValuesIn(kEndpointEvery),
                         [](const auto& info) { return "every_" + std::to_string(info.param); });

}  // namespace
}  // namespace quicbed
