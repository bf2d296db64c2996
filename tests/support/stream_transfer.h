// Moving one stream's bytes between two connections of a test pair: the
// sender writes what its send buffer takes, the receiver reads everything
// readable. Call pump() between simulation steps.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "conn.h"

namespace quicbed::test {

// Deterministic bytes that differ from one offset to the next.
inline std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return b;
}

struct Transfer {
  Transfer(Connection* s, Connection* r, uint64_t stream, std::vector<uint8_t> bytes)
      : sender(s), receiver(r), id(stream), data(std::move(bytes)) {}

  Connection* sender;
  Connection* receiver;
  uint64_t id;
  std::vector<uint8_t> data;
  size_t written = 0;
  bool fin_sent = false;
  std::vector<uint8_t> received;
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

}  // namespace quicbed::test
