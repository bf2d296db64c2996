#include "stream.h"

#include <gtest/gtest.h>

#include <vector>

#include "failing_allocator.h"

namespace quicbed {
namespace {

using test::FailingAllocator;

constexpr StreamConfig kConfig{
    .recv_window_bidi_local = 1000,
    .recv_window_bidi_remote = 2000,
    .recv_window_uni = 3000,
    .max_recv_window = 16000,
    .max_recv_segments = 8,
    .max_send_buffer = 10000,
};
constexpr uint64_t kBig = uint64_t{1} << 40;

// We are the server throughout: stream 0 is the peer's bidirectional
// stream, 1 ours; 2 is the peer's unidirectional stream, 3 ours.
constexpr Role kLocal = Role::kServer;
constexpr uint64_t kPeerBidi = 0, kLocalBidi = 1, kPeerUni = 2, kLocalUni = 3;

const std::vector<uint8_t>& data() {
  static const std::vector<uint8_t> d = [] {
    std::vector<uint8_t> v(1 << 16);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7 + 3);
    return v;
  }();
  return d;
}
Bytes bytes(uint64_t offset, size_t len) { return Bytes(data().data() + offset, len); }

StreamFrame stream_frame(uint64_t id, uint64_t offset, size_t len, bool fin = false) {
  return StreamFrame{id, offset, bytes(offset, len), fin};
}

// A peer-side helper: the connection flow controllers and a stream.
struct Fixture {
  explicit Fixture(uint64_t id, uint64_t send_limit = kBig, uint64_t conn_window = kBig)
      : conn_recv(conn_window, conn_window), conn_send(kBig), s(alloc, kConfig, id, kLocal, send_limit) {}

  Status recv(uint64_t offset, size_t len, bool fin = false) {
    return s.on_stream(stream_frame(s.id(), offset, len, fin), conn_recv);
  }
  Status reset(uint64_t final_size, uint64_t code = 77) {
    return s.on_reset_stream(ResetStreamFrame{s.id(), code, final_size}, conn_recv);
  }
  size_t read(size_t n) {
    std::vector<uint8_t> buf(n);
    auto r = s.read(MutBytes(buf.data(), buf.size()), conn_recv);
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() ? r->bytes : 0;
  }
  void write(size_t n) {
    auto r = s.write(bytes(s.send_buffer().write_end(), n));
    ASSERT_TRUE(r.is_ok());
    ASSERT_EQ(*r, n);
  }
  // Send the next chunk; returns it.
  SendBuffer::Chunk send(size_t max_len = 1 << 20) {
    SendBuffer::Chunk c;
    EXPECT_TRUE(s.next_chunk(max_len, conn_send.available(), c));
    s.on_stream_sent(c.offset, c.len, c.fin, conn_send);
    return c;
  }

  FailingAllocator alloc;
  RecvFlow conn_recv;
  SendFlow conn_send;
  Stream s;
};

TEST(StreamId, TypeBits) {
  // §2.1 Table 1.
  EXPECT_EQ(make_stream_id(Role::kClient, StreamDir::kBidi, 0), 0x00u);
  EXPECT_EQ(make_stream_id(Role::kServer, StreamDir::kBidi, 0), 0x01u);
  EXPECT_EQ(make_stream_id(Role::kClient, StreamDir::kUni, 0), 0x02u);
  EXPECT_EQ(make_stream_id(Role::kServer, StreamDir::kUni, 0), 0x03u);
  EXPECT_EQ(make_stream_id(Role::kServer, StreamDir::kUni, 5), 23u);
  EXPECT_EQ(stream_initiator(23), Role::kServer);
  EXPECT_EQ(stream_dir(23), StreamDir::kUni);
  EXPECT_EQ(stream_index(23), 5u);
  EXPECT_EQ(stream_initiator(8), Role::kClient);
  EXPECT_EQ(stream_dir(8), StreamDir::kBidi);
}

TEST(StreamId, Directions) {
  EXPECT_TRUE(stream_has_send(kPeerBidi, kLocal) && stream_has_recv(kPeerBidi, kLocal));
  EXPECT_TRUE(stream_has_send(kLocalBidi, kLocal) && stream_has_recv(kLocalBidi, kLocal));
  EXPECT_TRUE(!stream_has_send(kPeerUni, kLocal) && stream_has_recv(kPeerUni, kLocal));
  EXPECT_TRUE(stream_has_send(kLocalUni, kLocal) && !stream_has_recv(kLocalUni, kLocal));
  // §19.4, §19.8, §19.13 need our receiving part; §19.5, §19.10 our sending part.
  for (FrameType t : {FrameType::kStream, FrameType::kResetStream, FrameType::kStreamDataBlocked}) {
    EXPECT_TRUE(stream_frame_allowed(t, kPeerUni, kLocal));
    EXPECT_FALSE(stream_frame_allowed(t, kLocalUni, kLocal));
    EXPECT_TRUE(stream_frame_allowed(t, kPeerBidi, kLocal));
  }
  for (FrameType t : {FrameType::kStopSending, FrameType::kMaxStreamData}) {
    EXPECT_FALSE(stream_frame_allowed(t, kPeerUni, kLocal));
    EXPECT_TRUE(stream_frame_allowed(t, kLocalUni, kLocal));
    EXPECT_TRUE(stream_frame_allowed(t, kLocalBidi, kLocal));
  }
}

TEST(Stream, InitialReceiveWindowsByType) {
  // §18.2: bidi_local for streams we open, bidi_remote for the peer's.
  EXPECT_EQ(Fixture(kLocalBidi).s.recv_flow().limit(), 1000u);
  EXPECT_EQ(Fixture(kPeerBidi).s.recv_flow().limit(), 2000u);
  EXPECT_EQ(Fixture(kPeerUni).s.recv_flow().limit(), 3000u);
  EXPECT_EQ(Fixture(kLocalBidi, 1234).s.send_flow().limit(), 1234u);
}

// ---- §3.1 sending part.

TEST(StreamSend, ReadySendDataSentDataRecvd) {
  Fixture f(kLocalUni);
  EXPECT_EQ(f.s.send_state(), SendState::kReady);
  f.write(300);
  EXPECT_EQ(f.s.send_state(), SendState::kReady);  // buffering sends nothing
  ASSERT_TRUE(f.s.finish().is_ok());
  SendBuffer::Chunk a = f.send(100);
  EXPECT_EQ(f.s.send_state(), SendState::kSend);
  SendBuffer::Chunk b = f.send(1000);
  EXPECT_TRUE(b.fin);
  EXPECT_EQ(f.s.send_state(), SendState::kDataSent);
  EXPECT_EQ(f.conn_send.sent(), 300u);
  EXPECT_EQ(f.s.send_flow().sent(), 300u);
  f.s.on_stream_acked(b.offset, b.len, b.fin);
  EXPECT_EQ(f.s.send_state(), SendState::kDataSent);
  f.s.on_stream_acked(a.offset, a.len, a.fin);
  EXPECT_EQ(f.s.send_state(), SendState::kDataRecvd);
  EXPECT_TRUE(f.s.closed());
  EXPECT_EQ(f.alloc.bytes_in_use(), 0u);
}

TEST(StreamSend, FinInTheFirstFrameGoesFromReadyToDataSent) {
  Fixture f(kLocalUni);
  f.write(10);
  ASSERT_TRUE(f.s.finish().is_ok());
  EXPECT_TRUE(f.send().fin);
  EXPECT_EQ(f.s.send_state(), SendState::kDataSent);
}

TEST(StreamSend, LostDataIsSentAgain) {
  Fixture f(kLocalUni);
  f.write(300);
  SendBuffer::Chunk a = f.send(100);
  f.send(1000);
  f.s.on_stream_lost(a.offset, a.len, a.fin);
  SendBuffer::Chunk again = f.send();
  EXPECT_EQ(again.offset, 0u);
  EXPECT_EQ(again.len, 100u);
  EXPECT_EQ(f.conn_send.sent(), 300u);  // a retransmission uses no new credit
}

TEST(StreamSend, WritableOnlyInReadyAndSend) {
  Fixture f(kLocalUni);
  f.write(10);
  ASSERT_TRUE(f.s.finish().is_ok());
  f.send();
  auto r = f.s.write(bytes(0, 1));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.s.finish().code(), ErrorCode::kInvalidArgument);
  Fixture g(kPeerUni);  // receive-only
  EXPECT_EQ(g.s.write(bytes(0, 1)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(g.s.reset(1).code(), ErrorCode::kInvalidArgument);
}

TEST(StreamSend, StreamDataBlockedMovesReadyToSendOncePerLimit) {
  Fixture f(kLocalUni, 0);
  f.write(100);
  SendBuffer::Chunk c;
  EXPECT_FALSE(f.s.next_chunk(1000, kBig, c));
  ASSERT_TRUE(f.s.wants_control(FrameType::kStreamDataBlocked));
  Frame fr = f.s.take_control(FrameType::kStreamDataBlocked, 0, 0);
  EXPECT_EQ(fr.type, FrameType::kStreamDataBlocked);
  EXPECT_EQ(fr.stream_data_blocked.stream_id, kLocalUni);
  EXPECT_EQ(fr.stream_data_blocked.limit, 0u);
  EXPECT_EQ(f.s.send_state(), SendState::kSend);  // §3.1
  EXPECT_FALSE(f.s.wants_control(FrameType::kStreamDataBlocked));
  f.s.on_control_lost(fr);  // still blocked at 0: say it again
  EXPECT_TRUE(f.s.wants_control(FrameType::kStreamDataBlocked));
  (void)f.s.take_control(FrameType::kStreamDataBlocked, 0, 0);

  ASSERT_TRUE(f.s.on_max_stream_data(MaxStreamDataFrame{kLocalUni, 60}).is_ok());
  EXPECT_EQ(f.send().len, 60u);
  ASSERT_TRUE(f.s.wants_control(FrameType::kStreamDataBlocked));
  EXPECT_EQ(f.s.take_control(FrameType::kStreamDataBlocked, 0, 0).stream_data_blocked.limit, 60u);
}

TEST(StreamSend, PeerLimitsOnlyGrow) {
  Fixture f(kLocalBidi, 100);
  ASSERT_TRUE(f.s.on_max_stream_data(MaxStreamDataFrame{kLocalBidi, 50}).is_ok());  // §4.1: ignored
  EXPECT_EQ(f.s.send_flow().limit(), 100u);
  ASSERT_TRUE(f.s.on_max_stream_data(MaxStreamDataFrame{kLocalBidi, 300}).is_ok());
  EXPECT_EQ(f.s.send_flow().limit(), 300u);
  f.write(1000);
  EXPECT_EQ(f.send().len, 300u);
  SendBuffer::Chunk c;
  EXPECT_FALSE(f.s.next_chunk(1000, kBig, c));
}

TEST(StreamSend, ConnectionCreditBoundsNewData) {
  Fixture f(kLocalBidi);
  f.conn_send = SendFlow(250);
  f.write(1000);
  EXPECT_EQ(f.send().len, 250u);
  EXPECT_EQ(f.conn_send.available(), 0u);
  SendBuffer::Chunk c;
  EXPECT_FALSE(f.s.next_chunk(1000, f.conn_send.available(), c));
  // The stream is not blocked by its own limit, so no STREAM_DATA_BLOCKED.
  EXPECT_FALSE(f.s.wants_control(FrameType::kStreamDataBlocked));
}

// Every state that can reset: Ready, Send, Data Sent.
TEST(StreamSend, ResetFromReadySendAndDataSent) {
  for (int from = 0; from < 3; ++from) {
    Fixture f(kLocalUni);
    f.write(500);
    if (from >= 1) f.send(200);
    if (from == 2) {
      ASSERT_TRUE(f.s.finish().is_ok());
      f.send();
    }
    const SendState before[] = {SendState::kReady, SendState::kSend, SendState::kDataSent};
    ASSERT_EQ(f.s.send_state(), before[from]);
    ASSERT_TRUE(f.s.reset(42).is_ok());
    EXPECT_EQ(f.s.send_state(), SendState::kResetSent);
    EXPECT_EQ(f.alloc.bytes_in_use(), 0u);  // the data is dropped at once
    SendBuffer::Chunk c;
    EXPECT_FALSE(f.s.next_chunk(1000, kBig, c));
    ASSERT_TRUE(f.s.wants_control(FrameType::kResetStream));
    Frame r = f.s.take_control(FrameType::kResetStream, 0, 0);
    EXPECT_EQ(r.type, FrameType::kResetStream);
    EXPECT_EQ(r.reset_stream.stream_id, kLocalUni);
    EXPECT_EQ(r.reset_stream.error_code, 42u);
    // §4.5: the final size is what was sent, not what was written.
    const uint64_t sent[] = {0, 200, 500};
    EXPECT_EQ(r.reset_stream.final_size, sent[from]);
    EXPECT_FALSE(f.s.wants_control(FrameType::kResetStream));
    f.s.on_control_lost(r);
    ASSERT_TRUE(f.s.wants_control(FrameType::kResetStream));
    Frame again = f.s.take_control(FrameType::kResetStream, 0, 0);
    EXPECT_EQ(again.reset_stream.final_size, sent[from]);
    f.s.on_control_acked(again);
    EXPECT_EQ(f.s.send_state(), SendState::kResetRecvd);
    EXPECT_TRUE(f.s.closed());
    f.s.on_control_lost(r);  // the first copy, lost late: nothing to repeat
    EXPECT_FALSE(f.s.wants_control(FrameType::kResetStream));
  }
}

TEST(StreamSend, AcksAndLossesAfterResetAreIgnored) {
  Fixture f(kLocalUni);
  f.write(500);
  SendBuffer::Chunk c = f.send(200);
  ASSERT_TRUE(f.s.reset(1).is_ok());
  f.s.on_stream_lost(c.offset, c.len, c.fin);
  f.s.on_stream_acked(c.offset, c.len, c.fin);
  SendBuffer::Chunk next;
  EXPECT_FALSE(f.s.next_chunk(1000, kBig, next));
  EXPECT_EQ(f.s.send_state(), SendState::kResetSent);
}

TEST(StreamSend, ResetAfterDataRecvdDoesNothing) {
  Fixture f(kLocalUni);
  f.write(10);
  ASSERT_TRUE(f.s.finish().is_ok());
  SendBuffer::Chunk c = f.send();
  f.s.on_stream_acked(c.offset, c.len, c.fin);
  ASSERT_EQ(f.s.send_state(), SendState::kDataRecvd);
  ASSERT_TRUE(f.s.reset(1).is_ok());
  EXPECT_EQ(f.s.send_state(), SendState::kDataRecvd);
  EXPECT_FALSE(f.s.wants_control(FrameType::kResetStream));
}

TEST(StreamSend, StopSendingIsAnsweredWithResetStream) {
  // §3.5: from Ready (a peer's stream we never wrote on) and from Send.
  for (bool sent : {false, true}) {
    Fixture f(kPeerBidi);
    if (sent) {
      f.write(100);
      f.send();
    }
    ASSERT_TRUE(f.s.on_stop_sending(StopSendingFrame{kPeerBidi, 9}).is_ok());
    EXPECT_EQ(f.s.send_state(), SendState::kResetSent);
    EXPECT_EQ(f.s.reset_code(), 9u);
    ASSERT_TRUE(f.s.wants_control(FrameType::kResetStream));
    Frame r = f.s.take_control(FrameType::kResetStream, 0, 0);
    EXPECT_EQ(r.reset_stream.error_code, 9u);  // the peer's code, copied
    EXPECT_EQ(r.reset_stream.final_size, sent ? 100u : 0u);
    // A repeated STOP_SENDING changes nothing.
    ASSERT_TRUE(f.s.on_stop_sending(StopSendingFrame{kPeerBidi, 10}).is_ok());
    EXPECT_FALSE(f.s.wants_control(FrameType::kResetStream));
    EXPECT_EQ(f.s.reset_code(), 9u);
  }
}

TEST(StreamSend, StopSendingAfterDataRecvdIsIgnored) {
  Fixture f(kLocalUni);
  f.write(10);
  ASSERT_TRUE(f.s.finish().is_ok());
  SendBuffer::Chunk c = f.send();
  f.s.on_stream_acked(c.offset, c.len, c.fin);
  ASSERT_TRUE(f.s.on_stop_sending(StopSendingFrame{kLocalUni, 9}).is_ok());
  EXPECT_EQ(f.s.send_state(), SendState::kDataRecvd);
  EXPECT_FALSE(f.s.wants_control(FrameType::kResetStream));
}

// ---- §3.2 receiving part.

TEST(StreamRecv, RecvSizeKnownDataRecvdDataRead) {
  Fixture f(kPeerUni);
  EXPECT_EQ(f.s.recv_state(), RecvState::kRecv);
  ASSERT_TRUE(f.recv(0, 100).is_ok());
  EXPECT_EQ(f.s.recv_state(), RecvState::kRecv);
  ASSERT_TRUE(f.recv(200, 100, true).is_ok());  // FIN with a gap before it
  EXPECT_EQ(f.s.recv_state(), RecvState::kSizeKnown);
  EXPECT_EQ(f.read(1000), 100u);
  EXPECT_EQ(f.s.recv_state(), RecvState::kSizeKnown);
  ASSERT_TRUE(f.recv(100, 100).is_ok());
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRecvd);
  std::vector<uint8_t> buf(150);
  auto r = f.s.read(MutBytes(buf.data(), buf.size()), f.conn_recv);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->bytes, 150u);
  EXPECT_FALSE(r->fin);
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.end()), std::vector<uint8_t>(data().begin() + 100, data().begin() + 250));
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRecvd);
  auto last = f.s.read(MutBytes(buf.data(), buf.size()), f.conn_recv);
  ASSERT_TRUE(last.is_ok());
  EXPECT_EQ(last->bytes, 50u);
  EXPECT_TRUE(last->fin);
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRead);
  EXPECT_TRUE(f.s.closed());
  EXPECT_EQ(f.alloc.bytes_in_use(), 0u);
}

TEST(StreamRecv, EmptyStreamWithFin) {
  Fixture f(kPeerUni);
  ASSERT_TRUE(f.recv(0, 0, true).is_ok());
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRecvd);
  auto r = f.s.read(MutBytes(), f.conn_recv);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->bytes, 0u);
  EXPECT_TRUE(r->fin);
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRead);
}

// peek/consume read in place: in parts, the same credit and states as
// read(), the end reported by the consume that reaches it.
TEST(StreamRecv, PeekAndConsumeInPlace) {
  Fixture f(kPeerUni);
  const size_t total = 2900;  // within the window
  ASSERT_TRUE(f.recv(0, total, true).is_ok());
  std::vector<uint8_t> got;
  bool fin = false;
  while (!fin) {
    auto b = f.s.peek();
    ASSERT_TRUE(b.is_ok());
    ASSERT_FALSE(b->empty());
    EXPECT_LE(b->size(), ReassemblyBuffer::kPageData);
    const size_t n = b->size() > 1000 ? b->size() - 1000 : b->size();  // part of it
    got.insert(got.end(), b->begin(), b->begin() + n);
    auto r = f.s.consume(n, f.conn_recv);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->bytes, n);
    fin = r->fin;
  }
  EXPECT_EQ(got, std::vector<uint8_t>(data().begin(), data().begin() + total));
  EXPECT_EQ(f.s.recv_flow().consumed(), total);
  EXPECT_EQ(f.conn_recv.consumed(), total);
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRead);
  EXPECT_EQ(f.alloc.bytes_in_use(), 0u);
}

TEST(StreamRecv, ConsumeNothingReportsAnEndAlone) {
  Fixture f(kPeerUni);
  ASSERT_TRUE(f.recv(0, 0, true).is_ok());
  auto b = f.s.peek();
  ASSERT_TRUE(b.is_ok());
  EXPECT_TRUE(b->empty());
  auto r = f.s.consume(0, f.conn_recv);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->fin);
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRead);
  Fixture send_only(kLocalUni);
  EXPECT_FALSE(send_only.s.peek().is_ok());
  EXPECT_FALSE(send_only.s.consume(0, send_only.conn_recv).is_ok());
}

TEST(StreamSend, WriteInPlaceOnlyInReadyAndSend) {
  Fixture f(kLocalBidi);
  auto space = f.s.write_space();
  ASSERT_TRUE(space.is_ok());
  ASSERT_GE(space->size(), 100u);
  copy_bytes(space->data(), data().data(), 100);
  f.s.commit(100);
  EXPECT_EQ(f.s.send_buffer().write_end(), 100u);
  const SendBuffer::Chunk c = f.send();
  EXPECT_EQ(c.len, 100u);
  ASSERT_TRUE(f.s.reset(5).is_ok());
  EXPECT_FALSE(f.s.write_space().is_ok());
  Fixture recv_only(kPeerUni);
  EXPECT_FALSE(recv_only.s.write_space().is_ok());
}

TEST(StreamRecv, ResetFromRecvSizeKnownAndDataRecvd) {
  for (int from = 0; from < 3; ++from) {
    Fixture f(kPeerUni);
    ASSERT_TRUE(f.recv(0, 100).is_ok());
    ASSERT_TRUE(f.recv(500, 100, from >= 1).is_ok());  // a gap: pages held
    if (from == 2) {
      ASSERT_TRUE(f.recv(100, 400).is_ok());
    }
    const RecvState before[] = {RecvState::kRecv, RecvState::kSizeKnown, RecvState::kDataRecvd};
    ASSERT_EQ(f.s.recv_state(), before[from]);
    EXPECT_EQ(f.read(30), 30u);
    ASSERT_GT(f.alloc.bytes_in_use(), 0u);
    const uint64_t final_size = from == 0 ? 700 : 600;
    ASSERT_TRUE(f.reset(final_size, 5).is_ok());
    EXPECT_EQ(f.s.recv_state(), RecvState::kResetRecvd);
    EXPECT_EQ(f.s.peer_reset_code(), 5u);
    EXPECT_EQ(f.alloc.bytes_in_use(), 0u);  // the unread data is dropped
    // §4.5: the final size counts, and every unread byte's credit returns.
    EXPECT_EQ(f.conn_recv.received(), final_size);
    EXPECT_EQ(f.conn_recv.consumed(), final_size);
    EXPECT_EQ(f.read(100), 0u);
    f.s.mark_reset_read();
    EXPECT_EQ(f.s.recv_state(), RecvState::kResetRead);
    EXPECT_TRUE(f.s.closed());
  }
}

TEST(StreamRecv, ResetAfterDataReadChangesNothing) {
  Fixture f(kPeerUni);
  ASSERT_TRUE(f.recv(0, 100, true).is_ok());
  EXPECT_EQ(f.read(100), 100u);
  ASSERT_EQ(f.s.recv_state(), RecvState::kDataRead);
  ASSERT_TRUE(f.reset(100).is_ok());
  EXPECT_EQ(f.s.recv_state(), RecvState::kDataRead);
  EXPECT_EQ(f.reset(101).code(), ErrorCode::kFinalSizeError);
}

TEST(StreamRecv, StopSendingIsSentUntilDataOrResetArrives) {
  Fixture f(kPeerBidi);
  ASSERT_TRUE(f.recv(0, 10).is_ok());
  ASSERT_TRUE(f.s.stop_sending(13).is_ok());
  ASSERT_TRUE(f.s.wants_control(FrameType::kStopSending));
  Frame fr = f.s.take_control(FrameType::kStopSending, 0, 0);
  EXPECT_EQ(fr.type, FrameType::kStopSending);
  EXPECT_EQ(fr.stop_sending.stream_id, kPeerBidi);
  EXPECT_EQ(fr.stop_sending.error_code, 13u);
  EXPECT_FALSE(f.s.wants_control(FrameType::kStopSending));
  f.s.on_control_lost(fr);
  EXPECT_TRUE(f.s.wants_control(FrameType::kStopSending));
  ASSERT_TRUE(f.reset(10).is_ok());
  // §13.3: no longer needed in Reset Recvd.
  EXPECT_FALSE(f.s.wants_control(FrameType::kStopSending));
  f.s.on_control_lost(fr);
  EXPECT_FALSE(f.s.wants_control(FrameType::kStopSending));
  Fixture g(kLocalUni);
  EXPECT_EQ(g.s.stop_sending(1).code(), ErrorCode::kInvalidArgument);
}

// ---- Frames the stream's direction forbids: STREAM_STATE_ERROR.

TEST(StreamErrors, ReceiveFramesOnSendOnlyStream) {
  Fixture f(kLocalUni);
  EXPECT_EQ(f.recv(0, 10).code(), ErrorCode::kStreamStateError);  // §19.8
  EXPECT_EQ(f.reset(0).code(), ErrorCode::kStreamStateError);  // §19.4
  EXPECT_EQ(f.s.on_stream_data_blocked(StreamDataBlockedFrame{kLocalUni, 0}).code(),
            ErrorCode::kStreamStateError);  // §19.13
  EXPECT_EQ(f.conn_recv.received(), 0u);
}

TEST(StreamErrors, SendFramesOnReceiveOnlyStream) {
  Fixture f(kPeerUni);
  EXPECT_EQ(f.s.on_stop_sending(StopSendingFrame{kPeerUni, 0}).code(), ErrorCode::kStreamStateError);  // §19.5
  EXPECT_EQ(f.s.on_max_stream_data(MaxStreamDataFrame{kPeerUni, 10}).code(),
            ErrorCode::kStreamStateError);  // §19.10
  EXPECT_TRUE(f.s.on_stream_data_blocked(StreamDataBlockedFrame{kPeerUni, 0}).is_ok());
}

// ---- §4.5 final size: FINAL_SIZE_ERROR.

TEST(StreamErrors, FinalSizeConflicts) {
  {
    Fixture f(kPeerUni);
    ASSERT_TRUE(f.recv(0, 100, true).is_ok());
    EXPECT_EQ(f.reset(99).code(), ErrorCode::kFinalSizeError);   // differs from FIN's
    EXPECT_EQ(f.reset(101).code(), ErrorCode::kFinalSizeError);
    EXPECT_EQ(f.recv(100, 1).code(), ErrorCode::kFinalSizeError);  // beyond it
    EXPECT_EQ(f.recv(0, 50, true).code(), ErrorCode::kFinalSizeError);  // a second, smaller one
    EXPECT_EQ(f.s.recv_state(), RecvState::kDataRecvd);
  }
  {
    Fixture f(kPeerUni);
    ASSERT_TRUE(f.recv(0, 100).is_ok());
    EXPECT_EQ(f.reset(99).code(), ErrorCode::kFinalSizeError);  // below received data
    EXPECT_EQ(f.recv(0, 99, true).code(), ErrorCode::kFinalSizeError);
    EXPECT_EQ(f.s.recv_state(), RecvState::kRecv);
  }
  {
    Fixture f(kPeerUni);
    ASSERT_TRUE(f.reset(100).is_ok());
    // After the reset the data is gone but its final size still binds.
    EXPECT_TRUE(f.recv(0, 100).is_ok());
    EXPECT_TRUE(f.recv(50, 50, true).is_ok());
    EXPECT_TRUE(f.reset(100).is_ok());  // a repeat
    EXPECT_EQ(f.recv(50, 51).code(), ErrorCode::kFinalSizeError);
    EXPECT_EQ(f.recv(0, 10, true).code(), ErrorCode::kFinalSizeError);
    EXPECT_EQ(f.reset(200).code(), ErrorCode::kFinalSizeError);
    EXPECT_EQ(f.alloc.bytes_in_use(), 0u);
  }
}

// ---- §4.1 flow control: FLOW_CONTROL_ERROR.

TEST(StreamErrors, StreamLimit) {
  Fixture f(kPeerUni);  // window 3000
  ASSERT_TRUE(f.recv(2900, 100).is_ok());  // up to the limit exactly
  EXPECT_EQ(f.recv(2900, 101).code(), ErrorCode::kFlowControlError);
  EXPECT_EQ(f.reset(3001).code(), ErrorCode::kFlowControlError);
  // Unchanged by the refused frames.
  EXPECT_EQ(f.s.recv_flow().received(), 3000u);
  EXPECT_EQ(f.conn_recv.received(), 3000u);
  EXPECT_EQ(f.s.recv_state(), RecvState::kRecv);
}

TEST(StreamErrors, ConnectionLimitCountsEveryStream) {
  FailingAllocator alloc;
  RecvFlow conn(2500, 2500);
  Stream a(alloc, kConfig, 0, kLocal, 0);
  Stream b(alloc, kConfig, 4, kLocal, 0);
  ASSERT_TRUE(a.on_stream(stream_frame(0, 1000, 500), conn).is_ok());  // highest offset 1500
  ASSERT_TRUE(a.on_stream(stream_frame(0, 0, 500), conn).is_ok());     // below it: no new credit
  EXPECT_EQ(conn.received(), 1500u);
  ASSERT_TRUE(b.on_stream(stream_frame(4, 0, 1000), conn).is_ok());
  EXPECT_EQ(conn.received(), 2500u);
  EXPECT_EQ(b.on_stream(stream_frame(4, 1000, 1), conn).code(), ErrorCode::kFlowControlError);
  EXPECT_EQ(b.on_reset_stream(ResetStreamFrame{4, 0, 1001}, conn).code(), ErrorCode::kFlowControlError);
  EXPECT_EQ(b.recv_flow().received(), 1000u);
  EXPECT_EQ(b.recv_state(), RecvState::kRecv);
  ASSERT_TRUE(b.on_reset_stream(ResetStreamFrame{4, 0, 1000}, conn).is_ok());
}

// ---- Credit.

TEST(StreamFlow, ReadsReturnCreditToBothLevels) {
  Fixture f(kPeerUni);
  ASSERT_TRUE(f.recv(0, 1000).is_ok());
  EXPECT_EQ(f.read(400), 400u);
  EXPECT_EQ(f.s.recv_flow().consumed(), 400u);
  EXPECT_EQ(f.conn_recv.consumed(), 400u);
}

TEST(StreamFlow, MaxStreamDataAfterHalfTheWindowWithAutoTuning) {
  Fixture f(kLocalBidi);  // window 1000, up to 16000
  const uint64_t rtt = 20'000;
  uint64_t now = 1'000'000;
  ASSERT_TRUE(f.recv(0, 1000).is_ok());
  EXPECT_EQ(f.read(499), 499u);
  EXPECT_FALSE(f.s.wants_control(FrameType::kMaxStreamData));
  EXPECT_EQ(f.read(1), 1u);
  ASSERT_TRUE(f.s.wants_control(FrameType::kMaxStreamData));
  Frame m = f.s.take_control(FrameType::kMaxStreamData, now, rtt);
  EXPECT_EQ(m.type, FrameType::kMaxStreamData);
  EXPECT_EQ(m.max_stream_data.stream_id, kLocalBidi);
  EXPECT_EQ(m.max_stream_data.maximum, 1500u);
  EXPECT_FALSE(f.s.wants_control(FrameType::kMaxStreamData));
  // The next half window within 2 RTTs: the window doubles.
  ASSERT_TRUE(f.recv(1000, 500).is_ok());
  EXPECT_EQ(f.read(1000), 1000u);
  now += rtt;
  ASSERT_TRUE(f.s.wants_control(FrameType::kMaxStreamData));
  m = f.s.take_control(FrameType::kMaxStreamData, now, rtt);
  EXPECT_EQ(m.max_stream_data.maximum, 1500u + 2000u);
  EXPECT_EQ(f.s.recv_flow().window(), 2000u);
  // Lost: the current value goes again; an older one is not repeated.
  f.s.on_control_lost(m);
  ASSERT_TRUE(f.s.wants_control(FrameType::kMaxStreamData));
  EXPECT_EQ(f.s.take_control(FrameType::kMaxStreamData, now, rtt).max_stream_data.maximum, 3500u);
  Frame old = m;
  old.max_stream_data.maximum = 1500;
  f.s.on_control_lost(old);
  EXPECT_FALSE(f.s.wants_control(FrameType::kMaxStreamData));
}

TEST(StreamFlow, NoMaxStreamDataOnceTheSizeIsKnown) {
  Fixture f(kPeerUni);
  ASSERT_TRUE(f.recv(0, 2000, true).is_ok());
  EXPECT_EQ(f.read(2000), 2000u);
  EXPECT_TRUE(f.s.recv_flow().should_update());
  EXPECT_FALSE(f.s.wants_control(FrameType::kMaxStreamData));  // §3.2: Size Known and beyond
}

TEST(StreamFlow, DataBeyondAnAdvertisedLimitIsAllowedOnlyAfterTheUpdate) {
  Fixture f(kLocalBidi);  // window 1000
  ASSERT_TRUE(f.recv(0, 1000).is_ok());
  EXPECT_EQ(f.read(1000), 1000u);
  EXPECT_EQ(f.recv(1000, 1).code(), ErrorCode::kFlowControlError);  // not advertised yet
  (void)f.s.take_control(FrameType::kMaxStreamData, 0, 1);
  EXPECT_TRUE(f.recv(1000, 1000).is_ok());
}

// ---- Memory.

TEST(StreamRecv, AllocationFailuresLeaveTheStreamUnchanged) {
  // An insert needs up to four allocations (a segment and three pages) and
  // is retried after a refusal, so failing every 5th or rarer lets it
  // through eventually.
  StreamConfig config = kConfig;
  config.recv_window_uni = config.max_recv_window = 60000;
  for (unsigned every : {5u, 6u, 7u, 11u}) {
    FailingAllocator alloc(every);
    RecvFlow conn(kBig, kBig);
    {
      Stream s(alloc, config, kPeerUni, kLocal, 0);
      uint64_t refused = 0;
      // Out of order, so that segments and pages are both needed.
      for (uint64_t i : {4u, 0u, 9u, 2u, 11u, 1u, 7u, 3u, 10u, 5u, 8u, 6u}) {
        Status st;
        while (!(st = s.on_stream(stream_frame(kPeerUni, i * 5000, 5000), conn)).is_ok()) {
          ASSERT_EQ(st.code(), ErrorCode::kNoMemory);
          ASSERT_LT(++refused, 100u);
          EXPECT_EQ(conn.received(), s.recv_flow().received());  // nothing half-done
        }
      }
      EXPECT_EQ(s.recv_flow().received(), 60000u);
      EXPECT_EQ(conn.received(), 60000u);
      std::vector<uint8_t> buf(60000);
      auto r = s.read(MutBytes(buf.data(), buf.size()), conn);
      ASSERT_TRUE(r.is_ok());
      EXPECT_EQ(r->bytes, 60000u);
      EXPECT_EQ(buf, std::vector<uint8_t>(data().begin(), data().begin() + 60000));
      EXPECT_GT(refused, 0u);
    }
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
  }
}

}  // namespace
}  // namespace quicbed
