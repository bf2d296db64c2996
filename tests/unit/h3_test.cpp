// HTTP/3 (RFC 9114) through H3Session over a real client and server
// Connection pair: GETs of files and buffers, many requests in parallel,
// 404, the control and QPACK streams (§6.2), and malformed HTTP/3 from a
// raw peer closing the connection with the right H3 error code (§8).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "conn_pair.h"
#include "h3_session.h"

namespace quicbed {
namespace {

using namespace quicbed::test;
using h3::Exchange;
using h3::H3Session;

Buf pattern(size_t n, uint8_t seed) {
  Buf b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 9));
  return b;
}

Buf read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Buf(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const Buf& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Hands the connection's events to the pair's recorder and to the session.
class Forward final : public ConnectionEvents {
 public:
  explicit Forward(Events& rec) : rec_(rec) {}
  void on_handshake_complete() override { rec_.on_handshake_complete(); }
  void on_connection_closed(const CloseInfo& info) override {
    rec_.on_connection_closed(info);
    if (h3) h3->on_connection_closed(info);
  }
  void on_stream_opened(uint64_t id) override { rec_.on_stream_opened(id); }
  void on_stream_readable(uint64_t id) override {
    rec_.on_stream_readable(id);
    if (h3) h3->on_stream_readable(id);
  }
  H3Session* h3 = nullptr;

 private:
  Events& rec_;
};

class H3Test : public ConnPairTest {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    client_.tls_config.alpn = {"h3"};
    server_.tls_config.alpn = {"h3"};
    client_.config.events = &client_fwd_;
    server_.config.events = &server_fwd_;
    char tmpl[] = "/tmp/quicbed-h3-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    www_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(www_); }

  // Handshake, then an H3Session on each side asked for (the other side
  // stays a raw Connection).
  void connect(bool client_h3, bool server_h3, h3::RequestHandler handler) {
    handshake();
    ASSERT_TRUE(confirmed()) << client_.events.reason << server_.events.reason;
    auto clock = [this] { return now_; };
    client_transport_ = std::make_unique<h3::ConnectionTransport>(*client_.conn, clock);
    server_transport_ = std::make_unique<h3::ConnectionTransport>(*server_.conn, clock);
    if (server_h3) {
      server_h3_ = std::make_unique<H3Session>(*server_transport_, Role::kServer, std::move(handler));
      server_fwd_.h3 = server_h3_.get();
      Status s = server_h3_->start();
      ASSERT_TRUE(s.is_ok()) << s.reason();
    }
    if (client_h3) {
      client_h3_ = std::make_unique<H3Session>(*client_transport_, Role::kClient);
      client_fwd_.h3 = client_h3_.get();
      Status s = client_h3_->start();
      ASSERT_TRUE(s.is_ok()) << s.reason();
    }
  }
  void connect_h3(h3::RequestHandler handler) { connect(true, true, std::move(handler)); }

  // Runs the pair, each session flushed before every step, until `done`.
  void drive(const std::function<bool()>& done, uint64_t limit = 20 * kSec) {
    const uint64_t until = now_ + limit;
    for (int steps = 0; steps < 500000; ++steps) {
      if (client_h3_) client_h3_->flush();
      if (server_h3_) server_h3_->flush();
      if (done() || now_ >= until) return;
      if (!step(until)) return;
    }
    ADD_FAILURE() << "the simulation does not settle";
  }

  size_t get(const std::string& path) {
    return client_h3_->get("localhost", path, std::make_unique<h3::MemorySink>());
  }
  const Buf& body(size_t handle) {
    return static_cast<const h3::MemorySink&>(*client_h3_->exchange(handle).sink).data();
  }
  bool done(size_t handle) {
    const Exchange::State st = client_h3_->exchange(handle).state;
    return st == Exchange::State::kComplete || st == Exchange::State::kFailed;
  }

  // Everything a raw Connection has to read on stream `id` so far.
  static Buf read_raw(Connection& c, uint64_t id) {
    Buf out;
    for (;;) {
      uint8_t buf[2048];
      auto r = c.stream_read(id, MutBytes(buf, sizeof buf));
      if (!r.is_ok() || r->bytes == 0) return out;
      out.insert(out.end(), buf, buf + r->bytes);
    }
  }

  Forward client_fwd_{client_.events};
  Forward server_fwd_{server_.events};
  std::string www_;
  // Transports before sessions: the sessions go first.
  std::unique_ptr<h3::ConnectionTransport> client_transport_, server_transport_;
  std::unique_ptr<H3Session> client_h3_, server_h3_;
};

void expect_complete(const Exchange& e, int status, uint64_t length) {
  EXPECT_EQ(e.state, Exchange::State::kComplete) << e.path << " error 0x" << std::hex << e.error_code;
  EXPECT_EQ(e.status, status) << e.path;
  ASSERT_TRUE(e.content_length.has_value()) << e.path;
  EXPECT_EQ(*e.content_length, length) << e.path;
  EXPECT_EQ(e.body_bytes, length) << e.path;
}

TEST_F(H3Test, GetOneKilobyteFile) {
  const Buf data = pattern(1024, 1);
  write_file(www_ + "/1k.bin", data);
  connect_h3(h3::serve_directory(www_));
  const size_t h = get("/1k.bin");
  drive([&] { return done(h); });
  expect_complete(client_h3_->exchange(h), 200, 1024);
  EXPECT_EQ(body(h), data);
  EXPECT_EQ(client_h3_->exchange(h).stream_id, 0u);  // RFC 9000 §2.1: the first bidirectional stream
  EXPECT_EQ(server_h3_->responses_sent(), 1u);
  EXPECT_EQ(client_.events.closes, 0);
  EXPECT_EQ(server_.events.closes, 0);
}

TEST_F(H3Test, GetOneMegabyteFileIntoAFile) {
  const Buf data = pattern(1 << 20, 2);
  write_file(www_ + "/1m.bin", data);
  connect_h3(h3::serve_directory(www_));
  const std::string out = www_ + "/download.bin";
  auto sink = h3::FileSink::create(out);
  ASSERT_NE(sink, nullptr);
  const size_t h = client_h3_->get("localhost", "/1m.bin", std::move(sink));
  drive([&] { return done(h); });
  expect_complete(client_h3_->exchange(h), 200, 1 << 20);
  EXPECT_EQ(read_file(out), data);  // the sink's file is closed once complete
  EXPECT_EQ(client_.events.closes, 0);
}

TEST_F(H3Test, FiftyParallelRequests) {
  // Bodies made per path, of different sizes, from buffers.
  auto make_body = [](int i) { return pattern(100 + 37 * static_cast<size_t>(i), static_cast<uint8_t>(i)); };
  std::set<std::string> seen_paths;
  connect_h3([&](const h3::Request& req) {
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.scheme, "https");
    EXPECT_EQ(req.authority, "localhost");
    seen_paths.insert(req.path);
    h3::Response resp;
    resp.body = h3::Body::from_buffer(make_body(std::stoi(req.path.substr(3))));
    return resp;
  });
  std::vector<size_t> handles;
  for (int i = 0; i < 50; ++i) handles.push_back(get("/n/" + std::to_string(i)));
  drive([&] { return client_h3_->all_done(); });
  std::set<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    const Exchange& e = client_h3_->exchange(handles[i]);
    expect_complete(e, 200, make_body(i).size());
    EXPECT_EQ(body(handles[i]), make_body(i)) << e.path;
    ids.insert(e.stream_id);
  }
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_EQ(seen_paths.size(), 50u);
  // More requests than the server's initial_max_streams_bidi (16): the
  // rest waited for MAX_STREAMS.
  EXPECT_EQ(*ids.rbegin(), 4u * 49);
  EXPECT_EQ(server_h3_->responses_sent(), 50u);
  EXPECT_EQ(client_.events.closes, 0);
}

TEST_F(H3Test, MissingFileIsNotFound) {
  write_file(www_ + "/there.bin", pattern(10, 3));
  const std::string outside = www_ + "-secret";
  write_file(outside, pattern(10, 4));
  connect_h3(h3::serve_directory(www_));
  const size_t missing = get("/missing.bin");
  const size_t escape = get("/../" + std::filesystem::path(outside).filename().string());
  const size_t dir = get("/");
  const size_t there = get("/there.bin?x=1");  // the query is not part of the file name
  drive([&] { return client_h3_->all_done(); });
  std::filesystem::remove(outside);
  for (size_t h : {missing, escape, dir}) {
    expect_complete(client_h3_->exchange(h), 404, 0);
    EXPECT_TRUE(body(h).empty());
  }
  expect_complete(client_h3_->exchange(there), 200, 10);
  EXPECT_EQ(client_.events.closes, 0);
}

TEST_F(H3Test, NoHandlerAnswersNotFound) {
  connect(true, true, {});
  const size_t h = get("/anything");
  drive([&] { return done(h); });
  expect_complete(client_h3_->exchange(h), 404, 0);
}

TEST_F(H3Test, ControlAndQpackStreamsOpenOnBothSides) {
  write_file(www_ + "/a", pattern(5, 5));
  connect_h3(h3::serve_directory(www_));
  // RFC 9000 §2.1: the first three unidirectional streams of each side.
  EXPECT_EQ(client_h3_->control_stream_id(), 2);
  EXPECT_EQ(client_h3_->qpack_encoder_stream_id(), 6);
  EXPECT_EQ(client_h3_->qpack_decoder_stream_id(), 10);
  EXPECT_EQ(server_h3_->control_stream_id(), 3);
  EXPECT_EQ(server_h3_->qpack_encoder_stream_id(), 7);
  EXPECT_EQ(server_h3_->qpack_decoder_stream_id(), 11);
  const size_t h = get("/a");
  drive([&] { return done(h); });
  expect_complete(client_h3_->exchange(h), 200, 5);
  auto opened = [](const Events& e) { return std::set<uint64_t>(e.opened.begin(), e.opened.end()); };
  EXPECT_EQ(opened(client_.events), (std::set<uint64_t>{3, 7, 11}));
  EXPECT_EQ(opened(server_.events), (std::set<uint64_t>{0, 2, 6, 10}));
}

TEST_F(H3Test, ServerStreamsCarryTheirTypesAndSettingsFirst) {
  connect(false, true, {});
  auto readable = [&](uint64_t id) {
    const auto& r = client_.events.readable;
    return std::find(r.begin(), r.end(), id) != r.end();
  };
  drive([&] { return readable(3) && readable(7) && readable(11); }, 1 * kSec);
  // RFC 9114 §6.2.1: the control stream's type, then SETTINGS (0x04) with
  // a one-byte length that covers the rest of what arrived.
  const Buf control = read_raw(*client_.conn, 3);
  ASSERT_GE(control.size(), 3u);
  EXPECT_EQ(control[0], 0x00);
  EXPECT_EQ(control[1], 0x04);
  EXPECT_EQ(control.size(), 3u + control[2]);
  // RFC 9204 §4.2: the encoder (0x02) and decoder (0x03) stream types; no
  // instructions yet, as no header was encoded.
  EXPECT_EQ(read_raw(*client_.conn, 7), Buf{0x02});
  EXPECT_EQ(read_raw(*client_.conn, 11), Buf{0x03});
  EXPECT_EQ(client_.events.closes, 0);
}

// A sink that refuses the body cancels its request (RFC 9114 §4.1.1); the
// connection goes on.
class RefusingSink final : public h3::ResponseSink {
 public:
  bool write(Bytes) override { return false; }
};

TEST_F(H3Test, RefusingSinkCancelsOnlyItsRequest) {
  write_file(www_ + "/big", pattern(4 << 20, 6));
  write_file(www_ + "/small", pattern(100, 7));
  connect_h3(h3::serve_directory(www_));
  const size_t refused = client_h3_->get("localhost", "/big", std::make_unique<RefusingSink>());
  drive([&] { return done(refused); });
  EXPECT_EQ(client_h3_->exchange(refused).state, Exchange::State::kFailed);
  EXPECT_EQ(client_h3_->exchange(refused).error_code, h3::kH3RequestCancelled);
  const size_t next = get("/small");
  drive([&] { return done(next); });
  expect_complete(client_h3_->exchange(next), 200, 100);
  EXPECT_EQ(body(next), pattern(100, 7));
  // The cancelled stream is freed on both sides once the resets cross.
  drive([&] { return client_.conn->streams().find(0) == nullptr && server_.conn->streams().find(0) == nullptr; });
  EXPECT_EQ(client_.conn->streams().find(0), nullptr);
  EXPECT_EQ(server_.conn->streams().find(0), nullptr);
  // STOP_SENDING stopped the server long before the end of the file.
  EXPECT_LT(server_.conn->bytes_sent(), 1u << 20);
  EXPECT_EQ(client_.events.closes, 0);
  EXPECT_EQ(server_.events.closes, 0);
}

TEST_F(H3Test, ConnectionCloseFailsOpenRequests) {
  write_file(www_ + "/big", pattern(1 << 20, 8));
  connect_h3(h3::serve_directory(www_));
  const size_t h = get("/big");
  drive([&] { return client_h3_->exchange(h).body_bytes > 0; });
  ASSERT_EQ(client_h3_->exchange(h).state, Exchange::State::kOpen);
  server_.conn->close(0x0102, "going away", now_);  // H3_INTERNAL_ERROR
  drive([&] { return done(h); });
  EXPECT_EQ(client_h3_->exchange(h).state, Exchange::State::kFailed);
  EXPECT_EQ(client_h3_->exchange(h).error_code, 0x0102u);
  EXPECT_TRUE(client_h3_->closed());
  EXPECT_EQ(client_h3_->error_code(), 0u);  // the client did not close over an error
  // Requests made after the close fail at once.
  const size_t late = get("/big");
  EXPECT_EQ(client_h3_->exchange(late).state, Exchange::State::kFailed);
}

TEST_F(H3Test, CloseIsNoError) {
  write_file(www_ + "/a", pattern(3, 9));
  connect_h3(h3::serve_directory(www_));
  const size_t h = get("/a");
  drive([&] { return done(h); });
  client_h3_->close();
  drive([&] { return server_.events.closes > 0; });
  EXPECT_TRUE(client_h3_->closed());
  EXPECT_EQ(client_h3_->error_code(), 0u);
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_TRUE(server_.events.application);
  EXPECT_EQ(server_.events.error_code, 0x0100u);  // H3_NO_ERROR (RFC 9114 §8.1)
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kPeer);
}

// Data that arrives before the server's session starts is read on start().
TEST_F(H3Test, StreamsReadableBeforeStartAreRead) {
  write_file(www_ + "/a", pattern(3, 10));
  connect(true, false, {});
  server_h3_ = std::make_unique<H3Session>(*server_transport_, Role::kServer, h3::serve_directory(www_));
  server_fwd_.h3 = server_h3_.get();  // told about streams, not started
  const size_t h = get("/a");
  drive([&] { return server_.events.readable.size() >= 4; });
  ASSERT_FALSE(server_h3_->started());
  ASSERT_TRUE(server_h3_->start().is_ok());
  drive([&] { return done(h); });
  expect_complete(client_h3_->exchange(h), 200, 3);
}

TEST(ServeDirectory, MethodsOtherThanGetAndHeadAreRefused) {
  const h3::RequestHandler serve = h3::serve_directory("/nonexistent");
  h3::Request req;
  req.method = "POST";
  req.path = "/x";
  const h3::Response resp = serve(req);
  EXPECT_EQ(resp.status, 405);
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(resp.headers[0].first, "allow");
  req.method = "HEAD";
  EXPECT_EQ(serve(req).status, 404);
  req.path = "relative";
  EXPECT_EQ(serve(req).status, 404);
}

// A raw server answers the client's request with bytes written by hand.
// QPACK (RFC 9204 §4.5): Required Insert Count 0, Base 0, then an indexed
// field line of the static table, 0b11xxxxxx: index 25 is ":status 200".
class H3RawServerTest : public H3Test {
 protected:
  void request() {
    connect(true, false, {});
    handle_ = get("/x");
    drive([&] { return std::count(server_.events.opened.begin(), server_.events.opened.end(), 0u) > 0; });
    read_raw(*server_.conn, 0);  // the request, unread here
  }
  void respond(const Buf& bytes, bool fin) {
    auto n = server_.conn->stream_write(0, bytes_of(bytes), fin);
    ASSERT_TRUE(n.is_ok());
    ASSERT_EQ(*n, bytes.size());
  }
  size_t handle_ = 0;
};

TEST_F(H3RawServerTest, ResponseWithoutContentLength) {
  request();
  respond({0x01, 0x03, 0x00, 0x00, 0xd9, 0x00, 0x03, 'a', 'b', 'c'}, true);
  drive([&] { return done(handle_); });
  const Exchange& e = client_h3_->exchange(handle_);
  EXPECT_EQ(e.state, Exchange::State::kComplete);
  EXPECT_EQ(e.status, 200);
  EXPECT_FALSE(e.content_length.has_value());
  EXPECT_EQ(body(handle_), (Buf{'a', 'b', 'c'}));
}

TEST_F(H3RawServerTest, ResetResponseFailsTheRequest) {
  request();
  respond({0x01, 0x03, 0x00, 0x00, 0xd9, 0x00, 0x05, 'a'}, false);
  drive([&] { return client_h3_->exchange(handle_).body_bytes > 0; });
  ASSERT_TRUE(server_.conn->stream_reset(0, 0x010b).is_ok());  // H3_REQUEST_REJECTED
  drive([&] { return done(handle_); });
  const Exchange& e = client_h3_->exchange(handle_);
  EXPECT_EQ(e.state, Exchange::State::kFailed);
  EXPECT_EQ(e.error_code, 0x010bu);
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(client_.events.closes, 0);
}

TEST_F(H3RawServerTest, DataBeforeHeadersInAResponseClosesTheConnection) {
  request();
  respond({0x00, 0x01, 'a'}, false);
  drive([&] { return server_.events.closes > 0; });
  EXPECT_EQ(client_h3_->error_code(), 0x0105u);  // H3_FRAME_UNEXPECTED (RFC 9114 §4.1)
  EXPECT_EQ(server_.events.error_code, 0x0105u);
  EXPECT_TRUE(server_.events.application);
  EXPECT_EQ(client_h3_->exchange(handle_).state, Exchange::State::kFailed);
}

// Malformed HTTP/3 from a raw client: bytes on a stream it opens; the
// server must close the connection with `code` as an application error.
struct Malformed {
  const char* name;
  StreamDir dir;
  std::vector<Buf> streams;  // one new stream each
  bool fin;
  uint64_t code;
};

class H3MalformedTest : public H3Test, public ::testing::WithParamInterface<Malformed> {};

TEST_P(H3MalformedTest, ClosesWithTheH3ErrorCode) {
  const Malformed& m = GetParam();
  connect(false, true, {});
  for (const Buf& bytes : m.streams) {
    auto id = client_.conn->open_stream(m.dir);
    ASSERT_TRUE(id.is_ok());
    auto n = client_.conn->stream_write(*id, bytes_of(bytes), m.fin);
    ASSERT_TRUE(n.is_ok());
    ASSERT_EQ(*n, bytes.size());
  }
  drive([&] { return client_.events.closes > 0; }, 2 * kSec);
  EXPECT_EQ(server_h3_->error_code(), m.code);
  EXPECT_TRUE(server_h3_->closed());
  ASSERT_EQ(server_.events.closes, 1);
  EXPECT_EQ(server_.events.source, CloseInfo::Source::kLocal);
  EXPECT_TRUE(server_.events.application);
  EXPECT_EQ(server_.events.error_code, m.code);
  // The peer sees CONNECTION_CLOSE of type 0x1d with the code (RFC 9000 §19.19).
  ASSERT_EQ(client_.events.closes, 1);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kPeer);
  EXPECT_TRUE(client_.events.application);
  EXPECT_EQ(client_.events.error_code, m.code);
  EXPECT_FALSE(client_.events.reason.empty());
}

// Stream type 0x00 is the control stream (RFC 9114 §6.2.1); frame types
// (§7.2): DATA 0x00, HEADERS 0x01, SETTINGS 0x04, GOAWAY 0x07; SETTINGS
// identifier 0x06 is SETTINGS_MAX_FIELD_SECTION_SIZE.
INSTANTIATE_TEST_SUITE_P(
    Frames, H3MalformedTest,
    ::testing::Values(
        // §7.1: a frame payload that ends before its fields do.
        Malformed{"SettingsValueMissing", StreamDir::kUni, {{0x00, 0x04, 0x01, 0x06}}, false, 0x0106},
        // §6.2.1: SETTINGS must be the control stream's first frame.
        Malformed{"FirstFrameNotSettings", StreamDir::kUni, {{0x00, 0x07, 0x01, 0x00}}, false, 0x010a},
        // §7.2.1: DATA on the control stream.
        Malformed{"DataOnControlStream", StreamDir::kUni, {{0x00, 0x04, 0x00, 0x00, 0x00}}, false, 0x0105},
        // §7.2.4: a second SETTINGS frame.
        Malformed{"SecondSettings", StreamDir::kUni, {{0x00, 0x04, 0x00, 0x04, 0x00}}, false, 0x0105},
        // §7.2.8: an HTTP/2 frame type (0x02, PRIORITY) is reserved.
        Malformed{"Http2FrameType", StreamDir::kUni, {{0x00, 0x04, 0x00, 0x02, 0x00}}, false, 0x0105},
        // §6.2.1: only one control stream.
        Malformed{"TwoControlStreams", StreamDir::kUni, {{0x00, 0x04, 0x00}, {0x00, 0x04, 0x00}}, false, 0x0103},
        // §6.2.1: the control stream must not close.
        Malformed{"ControlStreamClosed", StreamDir::kUni, {{0x00, 0x04, 0x00}}, true, 0x0104},
        // §4.1: a request starts with HEADERS; DATA first is unexpected.
        Malformed{"DataBeforeHeaders", StreamDir::kBidi, {{0x00, 0x01, 0x61}}, false, 0x0105}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace quicbed
