#include "streams.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "failing_allocator.h"

namespace quicbed {
namespace {

using test::FailingAllocator;

constexpr uint64_t kBig = uint64_t{1} << 40;

StreamManagerConfig config(uint64_t bidi = 4, uint64_t uni = 4, uint64_t local = 8) {
  StreamManagerConfig c;
  c.stream.recv_window_bidi_local = 1000;
  c.stream.recv_window_bidi_remote = 1000;
  c.stream.recv_window_uni = 1000;
  c.stream.max_recv_window = 4000;
  c.stream.max_send_buffer = 4000;
  c.max_streams_bidi = bidi;
  c.max_streams_uni = uni;
  c.max_local_streams = local;
  return c;
}

TransportParameters peer_params(uint64_t bidi, uint64_t uni, uint64_t stream_data = 5000) {
  TransportParameters p;
  p.initial_max_streams_bidi = bidi;
  p.initial_max_streams_uni = uni;
  p.initial_max_stream_data_bidi_local = stream_data;
  p.initial_max_stream_data_bidi_remote = stream_data + 1;
  p.initial_max_stream_data_uni = stream_data + 2;
  return p;
}

// Frames from the peer.
Frame stream(uint64_t id, uint64_t offset = 0, uint64_t len = 0, bool fin = false) {
  static const uint8_t zeros[4096] = {};
  Frame f;
  f.type = FrameType::kStream;
  f.stream = {id, offset, Bytes(zeros, len), fin};
  return f;
}
Frame reset_stream(uint64_t id, uint64_t final_size = 0) {
  Frame f;
  f.type = FrameType::kResetStream;
  f.reset_stream = {id, 0, final_size};
  return f;
}
Frame stop_sending(uint64_t id) {
  Frame f;
  f.type = FrameType::kStopSending;
  f.stop_sending = {id, 0};
  return f;
}
Frame max_stream_data(uint64_t id, uint64_t max) {
  Frame f;
  f.type = FrameType::kMaxStreamData;
  f.max_stream_data = {id, max};
  return f;
}
Frame stream_data_blocked(uint64_t id) {
  Frame f;
  f.type = FrameType::kStreamDataBlocked;
  f.stream_data_blocked = {id, 0};
  return f;
}
Frame max_streams(StreamDir dir, uint64_t max) {
  Frame f;
  f.type = dir == StreamDir::kBidi ? FrameType::kMaxStreamsBidi : FrameType::kMaxStreamsUni;
  f.max_streams.maximum = max;
  return f;
}
std::vector<Frame> all_stream_frames(uint64_t id) {
  return {stream(id), reset_stream(id), stop_sending(id), max_stream_data(id, 10), stream_data_blocked(id)};
}

struct Fixture {
  explicit Fixture(Role local = Role::kServer, StreamManagerConfig c = config())
      : conn(kBig, kBig), m(alloc, local, c) {
    EXPECT_TRUE(m.init().is_ok());
    table_bytes = alloc.bytes_in_use();
  }
  // A peer unidirectional stream received whole and read: closed.
  void finish_peer_uni(uint64_t id) {
    ASSERT_TRUE(m.on_frame(stream(id, 0, 10, true), conn).is_ok());
    Stream* s = m.find(id);
    ASSERT_NE(s, nullptr);
    uint8_t buf[10];
    ASSERT_TRUE(s->read(MutBytes(buf, sizeof buf), conn).is_ok());
    m.release_if_closed(s);
  }

  FailingAllocator alloc;
  RecvFlow conn;
  StreamManager m;
  size_t table_bytes = 0;
};

TEST(StreamManager, InitChecksBounds) {
  FailingAllocator alloc;
  StreamManager too_many(alloc, Role::kClient, config(StreamManager::kMaxStreams, 1, 0));
  EXPECT_EQ(too_many.init().code(), ErrorCode::kInvalidArgument);
  StreamManager beyond_rfc(alloc, Role::kClient, config(kMaxStreamCount + 1, 0, 0));
  EXPECT_EQ(beyond_rfc.init().code(), ErrorCode::kInvalidArgument);
  FailingAllocator refusing(1);
  StreamManager no_memory(refusing, Role::kClient, config());
  EXPECT_EQ(no_memory.init().code(), ErrorCode::kNoMemory);
}

TEST(StreamManager, NothingOpensBeforeThePeerAllowsIt) {
  Fixture f;
  auto s = f.m.open(StreamDir::kBidi);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kLimitExceeded);
  // §4.6: say so with STREAMS_BLOCKED, once per limit.
  ASSERT_TRUE(f.m.wants_control(FrameType::kStreamsBlockedBidi));
  EXPECT_FALSE(f.m.wants_control(FrameType::kStreamsBlockedUni));
  Frame b = f.m.take_control(FrameType::kStreamsBlockedBidi);
  EXPECT_EQ(b.type, FrameType::kStreamsBlockedBidi);
  EXPECT_EQ(b.streams_blocked.limit, 0u);
  EXPECT_FALSE(f.m.wants_control(FrameType::kStreamsBlockedBidi));
}

TEST(StreamManager, LocalStreamIdsFollowThePeerLimits) {
  Fixture f(Role::kServer);
  f.m.set_peer_params(peer_params(2, 1));
  auto a = f.m.open(StreamDir::kBidi);
  auto b = f.m.open(StreamDir::kBidi);
  auto u = f.m.open(StreamDir::kUni);
  ASSERT_TRUE(a.is_ok() && b.is_ok() && u.is_ok());
  EXPECT_EQ((*a)->id(), 1u);  // §2.1: server-initiated bidirectional
  EXPECT_EQ((*b)->id(), 5u);
  EXPECT_EQ((*u)->id(), 3u);
  // §18.2 from the peer's side: its bidi_remote covers our streams.
  EXPECT_EQ((*a)->send_flow().limit(), 5001u);
  EXPECT_EQ((*u)->send_flow().limit(), 5002u);
  EXPECT_EQ(f.m.open(StreamDir::kBidi).status().code(), ErrorCode::kLimitExceeded);
  ASSERT_TRUE(f.m.wants_control(FrameType::kStreamsBlockedBidi));
  EXPECT_EQ(f.m.take_control(FrameType::kStreamsBlockedBidi).streams_blocked.limit, 2u);

  ASSERT_TRUE(f.m.on_frame(max_streams(StreamDir::kBidi, 3), f.conn).is_ok());
  ASSERT_TRUE(f.m.on_frame(max_streams(StreamDir::kBidi, 1), f.conn).is_ok());  // §19.11: ignored
  EXPECT_EQ(f.m.local_streams(StreamDir::kBidi).limit(), 3u);
  auto c = f.m.open(StreamDir::kBidi);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ((*c)->id(), 9u);
  EXPECT_EQ(f.m.size(), 4u);
  EXPECT_EQ(f.m.find(5), *b);
}

TEST(StreamManager, ClientIdsAndPeerBidiLocalCredit) {
  Fixture f(Role::kClient);
  f.m.set_peer_params(peer_params(1, 1));
  auto a = f.m.open(StreamDir::kBidi);
  auto u = f.m.open(StreamDir::kUni);
  ASSERT_TRUE(a.is_ok() && u.is_ok());
  EXPECT_EQ((*a)->id(), 0u);
  EXPECT_EQ((*u)->id(), 2u);
  // A server bidi stream: the peer's bidi_local covers it.
  ASSERT_TRUE(f.m.on_frame(stream(1), f.conn).is_ok());
  EXPECT_EQ(f.m.find(1)->send_flow().limit(), 5000u);
}

// RFC 9000 §7.4.1: 0-RTT rejected, the server's new parameters replace the
// remembered ones even where lower, as long as what was used fits.
TEST(StreamManager, ResetPeerParamsLowersLimitsThatStillFit) {
  Fixture f(Role::kClient);
  f.m.set_peer_params(peer_params(4, 4, 5000));
  auto a = f.m.open(StreamDir::kBidi);
  ASSERT_TRUE(a.is_ok());
  SendFlow conn(kBig);
  (*a)->on_stream_sent(0, 0, false, conn);
  ASSERT_TRUE((*a)->write(Bytes(reinterpret_cast<const uint8_t*>("hello"), 5)).is_ok());
  (*a)->on_stream_sent(0, 5, false, conn);
  ASSERT_TRUE(f.m.reset_peer_params(peer_params(1, 0, 100)).is_ok());
  EXPECT_EQ(f.m.local_streams(StreamDir::kBidi).limit(), 1u);
  EXPECT_EQ((*a)->send_flow().limit(), 101u);  // bidi_remote covers ours
  EXPECT_FALSE(f.m.open(StreamDir::kBidi).is_ok());
  // Less credit than the stream already used: refused.
  EXPECT_EQ(f.m.reset_peer_params(peer_params(1, 0, 2)).code(), ErrorCode::kLimitExceeded);
  // Fewer streams than opened: refused.
  EXPECT_EQ(f.m.reset_peer_params(peer_params(0, 0, 100)).code(), ErrorCode::kLimitExceeded);
}

TEST(StreamManager, LostStreamsBlockedIsRepeatedAtTheSameLimitOnly) {
  Fixture f;
  EXPECT_FALSE(f.m.open(StreamDir::kUni).is_ok());
  Frame b = f.m.take_control(FrameType::kStreamsBlockedUni);
  f.m.on_control_lost(b);
  ASSERT_TRUE(f.m.wants_control(FrameType::kStreamsBlockedUni));
  b = f.m.take_control(FrameType::kStreamsBlockedUni);
  ASSERT_TRUE(f.m.on_frame(max_streams(StreamDir::kUni, 1), f.conn).is_ok());
  f.m.on_control_lost(b);
  EXPECT_FALSE(f.m.wants_control(FrameType::kStreamsBlockedUni));
}

TEST(StreamManager, OurOwnBoundOnOpenStreams) {
  Fixture f(Role::kServer, config(4, 4, 2));
  f.m.set_peer_params(peer_params(100, 100));
  ASSERT_TRUE(f.m.open(StreamDir::kUni).is_ok());
  auto s = f.m.open(StreamDir::kUni);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(f.m.open(StreamDir::kBidi).status().code(), ErrorCode::kLimitExceeded);
  EXPECT_FALSE(f.m.wants_control(FrameType::kStreamsBlockedBidi));  // not the peer's limit
  // Closing one of ours makes room.
  Stream* u = *s;
  SendFlow conn_send(kBig);
  ASSERT_TRUE(u->finish().is_ok());
  SendBuffer::Chunk c;
  ASSERT_TRUE(u->next_chunk(100, kBig, c));
  u->on_stream_sent(c.offset, c.len, c.fin, conn_send);
  u->on_stream_acked(c.offset, c.len, c.fin);
  f.m.release_if_closed(u);
  EXPECT_EQ(f.m.size(), 1u);
  EXPECT_TRUE(f.m.open(StreamDir::kBidi).is_ok());
}

TEST(StreamManager, PeerStreamOpensEveryLowerOne) {
  Fixture f(Role::kServer);
  // §3.2: client bidi stream 3 (ID 12) first: 0, 4 and 8 open with it.
  ASSERT_TRUE(f.m.on_frame(stream(12, 0, 5), f.conn).is_ok());
  EXPECT_EQ(f.m.size(), 4u);
  for (uint64_t id : {0u, 4u, 8u, 12u}) {
    Stream* s = f.m.find(id);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_EQ(s->id(), id);
    EXPECT_EQ(s->recv_state(), RecvState::kRecv);
    EXPECT_EQ(s->send_state(), SendState::kReady);
  }
  EXPECT_EQ(f.m.find(12)->recv_flow().received(), 5u);
  EXPECT_EQ(f.m.find(16), nullptr);
  EXPECT_EQ(f.m.peer_streams(StreamDir::kBidi).received(), 4u);
  // MAX_STREAM_DATA and STOP_SENDING open a peer's bidi stream too.
  Fixture g(Role::kServer);
  ASSERT_TRUE(g.m.on_frame(max_stream_data(4, 10), g.conn).is_ok());
  EXPECT_EQ(g.m.size(), 2u);
  ASSERT_TRUE(g.m.on_frame(stop_sending(8), g.conn).is_ok());
  EXPECT_EQ(g.m.find(8)->send_state(), SendState::kResetSent);
}

TEST(StreamManager, PeerStreamBeyondTheLimitIsStreamLimitError) {
  Fixture f(Role::kServer, config(4, 2));
  for (const Frame& fr : all_stream_frames(16)) {  // client bidi index 4, limit 4
    EXPECT_EQ(f.m.on_frame(fr, f.conn).code(), ErrorCode::kStreamLimitError);
  }
  EXPECT_EQ(f.m.on_frame(stream(10), f.conn).code(), ErrorCode::kStreamLimitError);  // client uni index 2
  EXPECT_EQ(f.m.size(), 0u);
  EXPECT_TRUE(f.m.on_frame(stream(6), f.conn).is_ok());  // client uni index 1
  EXPECT_EQ(f.m.size(), 2u);
}

TEST(StreamManager, OurStreamNotYetOpenedIsStreamStateError) {
  Fixture f(Role::kServer);
  f.m.set_peer_params(peer_params(4, 4));
  for (const Frame& fr : all_stream_frames(1)) {  // server bidi 0: not opened
    EXPECT_EQ(f.m.on_frame(fr, f.conn).code(), ErrorCode::kStreamStateError) << int(fr.type);
  }
  for (const Frame& fr : {stop_sending(3), max_stream_data(3, 1)}) {  // server uni 0
    EXPECT_EQ(f.m.on_frame(fr, f.conn).code(), ErrorCode::kStreamStateError);
  }
  ASSERT_TRUE(f.m.open(StreamDir::kBidi).is_ok());
  EXPECT_TRUE(f.m.on_frame(stream(1, 0, 3), f.conn).is_ok());
  EXPECT_EQ(f.m.on_frame(stream(5), f.conn).code(), ErrorCode::kStreamStateError);
}

TEST(StreamManager, FramesAgainstTheDirectionAreStreamStateError) {
  Fixture f(Role::kServer);
  f.m.set_peer_params(peer_params(4, 4));
  ASSERT_TRUE(f.m.open(StreamDir::kUni).is_ok());
  // Our uni stream 3 is send-only for us.
  for (const Frame& fr : {stream(3), reset_stream(3), stream_data_blocked(3)}) {
    EXPECT_EQ(f.m.on_frame(fr, f.conn).code(), ErrorCode::kStreamStateError);
  }
  // The peer's uni stream 2 is receive-only, even before it exists.
  for (const Frame& fr : {stop_sending(2), max_stream_data(2, 1)}) {
    EXPECT_EQ(f.m.on_frame(fr, f.conn).code(), ErrorCode::kStreamStateError);
  }
  EXPECT_EQ(f.m.size(), 1u);
}

TEST(StreamManager, ClosedStreamsAreFreedAndTheirFramesIgnored) {
  Fixture f(Role::kServer);
  f.finish_peer_uni(2);
  EXPECT_EQ(f.m.find(2), nullptr);
  EXPECT_EQ(f.m.size(), 0u);
  // The table alone: 4 + 4 + 8 streams, at most half full.
  EXPECT_EQ(f.table_bytes, 32 * sizeof(Stream*));
  EXPECT_EQ(f.alloc.bytes_in_use(), f.table_bytes);
  // A retransmission for the closed stream: ignored, not reopened.
  EXPECT_TRUE(f.m.on_frame(stream(2, 0, 10, true), f.conn).is_ok());
  EXPECT_TRUE(f.m.on_frame(reset_stream(2, 10), f.conn).is_ok());
  EXPECT_EQ(f.m.size(), 0u);
}

TEST(StreamManager, ResetStreamClosesAReceiveOnlyStreamOnceSeen) {
  Fixture f(Role::kServer);
  ASSERT_TRUE(f.m.on_frame(stream(2, 0, 100), f.conn).is_ok());
  ASSERT_TRUE(f.m.on_frame(reset_stream(2, 300), f.conn).is_ok());
  Stream* s = f.m.find(2);
  ASSERT_NE(s, nullptr);  // the application has not seen the reset yet
  EXPECT_EQ(f.conn.received(), 300u);
  EXPECT_EQ(f.conn.consumed(), 300u);
  s->mark_reset_read();
  f.m.release_if_closed(s);
  EXPECT_EQ(f.m.find(2), nullptr);
}

TEST(StreamManager, MaxStreamsAsPeerStreamsClose) {
  Fixture f(Role::kServer, config(4, 4));
  f.finish_peer_uni(2);
  EXPECT_FALSE(f.m.wants_control(FrameType::kMaxStreamsUni));
  f.finish_peer_uni(6);  // half the window closed
  ASSERT_TRUE(f.m.wants_control(FrameType::kMaxStreamsUni));
  EXPECT_FALSE(f.m.wants_control(FrameType::kMaxStreamsBidi));
  Frame m = f.m.take_control(FrameType::kMaxStreamsUni);
  EXPECT_EQ(m.type, FrameType::kMaxStreamsUni);
  EXPECT_EQ(m.max_streams.maximum, 6u);  // closed + window
  EXPECT_FALSE(f.m.wants_control(FrameType::kMaxStreamsUni));
  f.m.on_control_lost(m);
  ASSERT_TRUE(f.m.wants_control(FrameType::kMaxStreamsUni));
  EXPECT_EQ(f.m.take_control(FrameType::kMaxStreamsUni).max_streams.maximum, 6u);
  // Client uni index 5 is now allowed (opening 2..5), 6 is not.
  ASSERT_TRUE(f.m.on_frame(stream(22), f.conn).is_ok());
  EXPECT_EQ(f.m.size(), 4u);
  EXPECT_EQ(f.m.on_frame(stream(26), f.conn).code(), ErrorCode::kStreamLimitError);
}

TEST(StreamManager, PeerParamsRaiseExistingStreamsCredit) {
  Fixture f(Role::kClient);
  f.m.set_peer_params(peer_params(1, 1, 100));  // e.g. remembered for 0-RTT
  auto a = f.m.open(StreamDir::kBidi);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ((*a)->send_flow().limit(), 101u);
  f.m.set_peer_params(peer_params(2, 1, 1000));
  EXPECT_EQ((*a)->send_flow().limit(), 1001u);
  EXPECT_TRUE(f.m.open(StreamDir::kBidi).is_ok());
}

TEST(StreamManager, StreamsBlockedFromThePeerAndOtherFrames) {
  Fixture f;
  Frame b;
  b.type = FrameType::kStreamsBlockedBidi;
  b.streams_blocked.limit = 4;
  EXPECT_TRUE(f.m.on_frame(b, f.conn).is_ok());
  Frame ping;
  ping.type = FrameType::kPing;
  EXPECT_EQ(f.m.on_frame(ping, f.conn).code(), ErrorCode::kInvalidArgument);
}

// Many peer streams opening and closing in random order: the table stays
// consistent through insertions and backward-shift deletions, and never
// holds more than the bound.
TEST(StreamManager, TableChurn) {
  std::mt19937 rng(7);
  Fixture f(Role::kServer, config(8, 8, 0));
  std::map<uint64_t, bool> open;  // id -> live
  uint64_t next[2] = {0, 0};
  for (int round = 0; round < 5000; ++round) {
    const int dir = static_cast<int>(rng() % 2);
    const uint64_t base = dir ? 2 : 0;
    if (rng() % 2) {
      const uint64_t limit = f.m.peer_streams(dir ? StreamDir::kUni : StreamDir::kBidi).limit();
      if (next[dir] < limit) {
        const uint64_t id = next[dir]++ * 4 + base;
        ASSERT_TRUE(f.m.on_frame(stream(id, 0, 1, true), f.conn).is_ok());
        open[id] = true;
      }
    } else if (!open.empty()) {
      auto it = open.begin();
      std::advance(it, static_cast<long>(rng() % open.size()));
      Stream* s = f.m.find(it->first);
      ASSERT_NE(s, nullptr) << it->first;
      uint8_t buf[1];
      ASSERT_TRUE(s->read(MutBytes(buf, 1), f.conn).is_ok());
      if (s->has_send()) {
        ASSERT_TRUE(s->reset(0).is_ok());
        s->on_control_acked(s->take_control(FrameType::kResetStream, 0, 0));
      }
      f.m.release_if_closed(s);
      open.erase(it);
    }
    // Renew the peer's credit as a real connection would.
    for (FrameType t : {FrameType::kMaxStreamsBidi, FrameType::kMaxStreamsUni}) {
      if (f.m.wants_control(t)) (void)f.m.take_control(t);
    }
    ASSERT_EQ(f.m.size(), open.size());
    ASSERT_LE(f.m.size(), 16u);
    for (const auto& [id, live] : open) ASSERT_NE(f.m.find(id), nullptr) << id;
  }
  EXPECT_GT(next[0] + next[1], 1000u);
  // A closed stream is never found again.
  for (uint64_t i = 0; i < next[0]; ++i) {
    if (!open.count(i * 4)) {
      ASSERT_EQ(f.m.find(i * 4), nullptr);
    }
  }
}

// Implicit opening with an allocator refusing now and then: kNoMemory,
// the streams created so far stay, a retry completes, nothing leaks.
TEST(StreamManager, AllocationFailureWhileOpening) {
  for (unsigned every : {2u, 3u, 5u}) {
    FailingAllocator alloc(every);
    {
      RecvFlow conn(kBig, kBig);
      StreamManager m(alloc, Role::kServer, config(16, 4));
      ASSERT_TRUE(m.init().is_ok());  // the first allocation
      int refused = 0;
      Status st;
      while (!(st = m.on_frame(stream(4 * 15, 0, 0), conn)).is_ok()) {
        ASSERT_EQ(st.code(), ErrorCode::kNoMemory);
        ASSERT_LT(++refused, 100);
      }
      EXPECT_GT(refused, 0);
      EXPECT_EQ(m.size(), 16u);
      for (uint64_t i = 0; i < 16; ++i) ASSERT_NE(m.find(4 * i), nullptr);
    }
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
  }
}

}  // namespace
}  // namespace quicbed
