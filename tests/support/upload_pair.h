// A ConnPairTest (conn_pair.h) whose client uploads to the server on a new
// stream (stream_transfer.h), for tests that watch what a transfer does to
// the path state: ECN, the path MTU, the congestion controller.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "conn_pair.h"
#include "stream_transfer.h"

namespace quicbed::test {

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

}  // namespace quicbed::test
