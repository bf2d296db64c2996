// Moving one stream's data between the two connections of a ConnPairTest
// (conn_pair.h): a recognizable byte pattern and a pump that writes what the
// sender's buffer takes and reads what the receiver has.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "conn.h"
#include "conn_pair.h"

namespace quicbed::test {

inline Buf pattern(size_t n, uint8_t seed) {
  Buf b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return b;
}

// Moves one stream's data: writes what the send buffer takes, and on the
// other side reads everything readable.
struct Transfer {
  Transfer(Connection* s, Connection* r, uint64_t stream, Buf bytes)
      : sender(s), receiver(r), id(stream), data(std::move(bytes)) {}

  Connection* sender;
  Connection* receiver;
  uint64_t id;
  Buf data;
  size_t written = 0;
  bool fin_sent = false;
  Buf received;
  bool fin_received = false;

  void pump() {
    if (!fin_sent && sender->state() == Connection::State::kEstablished) {
      Bytes rest(data.data() + written, data.size() - written);
      auto n = sender->stream_write(id, rest, true);
      ASSERT_TRUE(n.is_ok()) << n.status().reason();
      written += *n;
      fin_sent = written == data.size();
    }
    while (!fin_received && receiver->streams().find(id)) {
      uint8_t buf[4096];
      auto r = receiver->stream_read(id, MutBytes(buf, sizeof buf));
      ASSERT_TRUE(r.is_ok()) << r.status().reason();
      received.insert(received.end(), buf, buf + r->bytes);
      fin_received = r->fin;
      if (r->bytes == 0) break;
    }
  }
  bool done() const { return fin_received; }
};

// A ConnPairTest whose client uploads to the server.
class UploadPairTest : public ConnPairTest {
 protected:
  // Sends `bytes` of pattern() on a new bidirectional stream, running the
  // link until they all arrived or `limit` passed; `each_step` runs after
  // every event. True when all arrived (and checks them).
  bool upload(size_t bytes, uint64_t limit = 60 * kSec, const std::function<void()>& each_step = {}) {
    auto id = client_.conn->open_stream(StreamDir::kBidi);
    EXPECT_TRUE(id.is_ok());
    if (!id) return false;
    Transfer up{client_.conn.get(), server_.conn.get(), *id, pattern(bytes, static_cast<uint8_t>(bytes))};
    run_until(
        [&] {
          up.pump();
          if (each_step) each_step();
          return up.done();
        },
        now_ + limit);
    EXPECT_EQ(up.received, up.data);
    return up.done();
  }
};

// A ConnPairTest whose client opens streams that carry data both ways.
class ExchangePairTest : public ConnPairTest {
 protected:
  // A new bidirectional stream of the client's carrying `up_bytes` of
  // pattern() to the server and `down_bytes` back, both ended, running the
  // link until both arrived (and checking them) or `limit` passed; its ID.
  uint64_t exchange(size_t up_bytes, size_t down_bytes, uint8_t seed, uint64_t limit = 10 * kSec) {
    auto id = client_.conn->open_stream(StreamDir::kBidi);
    EXPECT_TRUE(id.is_ok());
    if (!id.is_ok()) return 0;
    Transfer up{client_.conn.get(), server_.conn.get(), *id, pattern(up_bytes, seed)};
    Transfer down{server_.conn.get(), client_.conn.get(), *id, pattern(down_bytes, seed + 1)};
    run_until(
        [&] {
          up.pump();
          // The server answers on the stream once it has it.
          if (server_.conn->streams().find(*id) || down.written) down.pump();
          return up.done() && down.done();
        },
        now_ + limit);
    EXPECT_TRUE(up.done() && down.done());
    EXPECT_EQ(up.received, up.data);
    EXPECT_EQ(down.received, down.data);
    return *id;
  }
};

}  // namespace quicbed::test
