// The connection's trace (stack/trace.h) through the qlog writer
// (userspace/qlog.h): a client and a server, each with its own qlog file,
// go through a handshake, a transfer with loss, duplicates and a key
// update, and a close. Every record must parse (tests/support/json_check.h)
// and the events of draft-ietf-quic-qlog-quic-events-03 the connection
// emits must be there, in a plausible order, with their fields.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "conn_pair.h"
#include "json_check.h"
#include "qlog.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

class ConnQlogTest : public ConnPairTest {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    std::string tmpl = (std::filesystem::temp_directory_path() / "conn_qlog_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    for (Endpoint* e : {&client_, &server_}) {
      QlogConfig c;
      c.dir = dir_;
      c.odcid.len = 8;  // any: it only names the file
      c.role = e->config.role;
      c.reference_time_us = 1'700'000'000'000'000;
      auto w = QlogWriter::open(c);
      ASSERT_TRUE(w.is_ok()) << w.status().reason();
      (e == &client_ ? client_qlog_ : server_qlog_) = std::move(*w);
    }
    client_.config.tracer = client_qlog_.get();
    server_.config.tracer = server_qlog_.get();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The events of a finished trace, after the file header.
  static std::vector<JsonValue> events(std::unique_ptr<QlogWriter>& w) {
    const std::string path = w->path();
    EXPECT_TRUE(w->close().is_ok());
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<JsonValue> recs = parse_json_seq(ss.str());
    EXPECT_GT(recs.size(), 1u);
    if (recs.empty()) return recs;
    EXPECT_TRUE(recs[0].has("qlog_version"));
    recs.erase(recs.begin());
    return recs;
  }

  std::string dir_;
  std::unique_ptr<QlogWriter> client_qlog_;
  std::unique_ptr<QlogWriter> server_qlog_;
};

std::vector<const JsonValue*> named(const std::vector<JsonValue>& evs, const std::string& name) {
  std::vector<const JsonValue*> out;
  for (const JsonValue& e : evs) {
    if (e["name"].str() == name) out.push_back(&e["data"]);
  }
  return out;
}

std::vector<std::string> state_changes(const std::vector<JsonValue>& evs) {
  std::vector<std::string> out;
  for (const JsonValue* d : named(evs, "connectivity:connection_state_updated")) {
    if (out.empty()) out.push_back((*d)["old"].str());
    EXPECT_EQ((*d)["old"].str(), out.back());  // each change starts where the last ended
    out.push_back((*d)["new"].str());
  }
  return out;
}

std::multiset<std::string> key_events(const std::vector<JsonValue>& evs, const std::string& name) {
  std::multiset<std::string> out;
  for (const JsonValue* d : named(evs, name)) {
    std::string k = (*d)["key_type"].str() + "/" + (*d)["trigger"].str();
    if (d->has("generation")) k += "/" + std::to_string((*d)["generation"].u64());
    out.insert(k);
  }
  return out;
}

TEST_F(ConnQlogTest, HandshakeTransferAndCloseAreTraced) {
  // The client's second datagram comes twice, when the server has
  // discarded its Handshake keys, and so do some of its 1-RTT datagrams,
  // for the server to drop; after the handshake every 9th client datagram
  // is lost.
  bool lossy = true;
  filter_ = [&lossy](Dir d, size_t i, uint64_t t) {
    if (d == kToServer && (i == 1 || (t > 50 * kMs && i % 9 == 2))) return Verdict{Verdict::Fate::kDuplicate, 0};
    const bool lost = lossy && d == kToServer && t > 50 * kMs && i % 9 == 4;
    return Verdict{lost ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake();
  expect_established();
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  Buf data(300'000, 0x5a);
  size_t written = 0;
  size_t received = 0;
  bool updated = false;
  run_until(
      [&] {
        if (written < data.size()) {
          auto n = client_.conn->stream_write(*id, Bytes(data.data() + written, data.size() - written), true);
          if (n.is_ok()) written += *n;
        }
        uint8_t buf[4096];
        while (server_.conn->streams().find(*id)) {
          auto r = server_.conn->stream_read(*id, MutBytes(buf, sizeof buf));
          if (!r.is_ok() || r->bytes == 0) break;
          received += r->bytes;
        }
        // RFC 9001 §6: a key update half way.
        if (!updated && received > data.size() / 2) updated = client_.conn->update_keys().is_ok();
        return received == data.size();
      },
      now_ + 20 * kSec);
  ASSERT_EQ(received, data.size());
  ASSERT_TRUE(updated);
  lossy = false;
  run_for(200 * kMs);
  client_.conn->close(0x17, "bye", now_);
  run_until([&] { return client_.conn->is_terminated() && server_.conn->is_terminated(); }, now_ + 10 * kSec);
  ASSERT_TRUE(client_.conn->is_terminated() && server_.conn->is_terminated());

  const std::vector<JsonValue> c = events(client_qlog_);
  const std::vector<JsonValue> s = events(server_qlog_);
  for (const auto* evs : {&c, &s}) {
    std::set<std::string> names;
    std::string last_time = "0";
    double last = 0;
    for (const JsonValue& e : *evs) {
      EXPECT_EQ(e.keys(), (std::vector<std::string>{"time", "name", "data"}));
      names.insert(e["name"].str());
      const double t = std::stod(e["time"].number());
      EXPECT_GE(t, last) << e["name"].str();
      last = t;
    }
    for (const char* n :
         {"connectivity:connection_started", "connectivity:connection_state_updated", "connectivity:connection_closed",
          "transport:parameters_set", "transport:packet_sent", "transport:packet_received",
          "transport:datagrams_sent", "transport:datagrams_received", "security:key_updated",
          "security:key_discarded", "recovery:metrics_updated"}) {
      EXPECT_TRUE(names.count(n)) << n << (evs == &c ? " (client)" : " (server)");
    }
    // Our parameters and the peer's.
    std::multiset<std::string> owners;
    for (const JsonValue* d : named(*evs, "transport:parameters_set")) owners.insert((*d)["owner"].str());
    EXPECT_EQ(owners, (std::multiset<std::string>{"local", "remote"}));
    // Every packet lists its frames, within the bound.
    size_t stream_frames = 0, ack_frames = 0;
    for (const char* n : {"transport:packet_sent", "transport:packet_received"}) {
      for (const JsonValue* d : named(*evs, n)) {
        const JsonValue& frames = (*d)["frames"];
        EXPECT_EQ(frames.kind, JsonValue::Kind::kArray);
        EXPECT_GE(frames.size(), 1u);
        EXPECT_LE(frames.size(), Connection::kMaxTracedFrames);
        EXPECT_TRUE((*d)["header"].has("packet_number"));
        for (size_t i = 0; i < frames.size(); ++i) {
          stream_frames += frames[i]["frame_type"].str() == "stream";
          ack_frames += frames[i]["frame_type"].str() == "ack";
        }
      }
    }
    EXPECT_GT(stream_frames, 200u);  // 300 KB in ~1150-byte packets, both traces
    EXPECT_GT(ack_frames, 50u);
  }

  // The client: its losses, the congestion controller's reaction, its key
  // update (RFC 9001 §6) and the end of it all.
  EXPECT_GE(named(c, "recovery:packet_lost").size(), 3u);
  for (const JsonValue* d : named(c, "recovery:packet_lost")) {
    EXPECT_EQ((*d)["header"]["packet_type"].str(), "1RTT");
    EXPECT_TRUE((*d)["header"].has("packet_number"));
  }
  EXPECT_FALSE(named(c, "recovery:congestion_state_updated").empty());
  bool cwnd = false, rtt = false, bif = false;
  for (const JsonValue* d : named(c, "recovery:metrics_updated")) {
    cwnd |= d->has("congestion_window");
    rtt |= d->has("smoothed_rtt");
    bif |= d->has("bytes_in_flight");
  }
  EXPECT_TRUE(cwnd && rtt && bif);
  EXPECT_EQ(state_changes(c), (std::vector<std::string>{"attempted", "handshake_started", "handshake_complete",
                                                        "handshake_confirmed", "closing", "closed"}));
  EXPECT_EQ(state_changes(s), (std::vector<std::string>{"handshake_started", "peer_validated", "handshake_complete",
                                                        "handshake_confirmed", "draining", "closed"}));
  EXPECT_EQ(key_events(c, "security:key_updated"),
            (std::multiset<std::string>{"client_initial_secret/tls", "server_initial_secret/tls",
                                        "client_handshake_secret/tls", "server_handshake_secret/tls",
                                        "client_1rtt_secret/tls/0", "server_1rtt_secret/tls/0",
                                        "client_1rtt_secret/local_update/1", "server_1rtt_secret/local_update/1"}));
  EXPECT_EQ(key_events(c, "security:key_discarded"),
            (std::multiset<std::string>{"client_initial_secret/tls", "server_initial_secret/tls",
                                        "client_handshake_secret/tls", "server_handshake_secret/tls",
                                        "client_1rtt_secret/local_update/0", "server_1rtt_secret/local_update/0"}));
  EXPECT_EQ(key_events(s, "security:key_updated").count("server_1rtt_secret/remote_update/1"), 1u);
  EXPECT_EQ(key_events(s, "security:key_updated").count("client_1rtt_secret/remote_update/1"), 1u);
  ASSERT_EQ(named(c, "connectivity:connection_closed").size(), 1u);
  const JsonValue& closed = *named(c, "connectivity:connection_closed")[0];
  EXPECT_EQ(closed["owner"].str(), "local");
  EXPECT_EQ(closed["application_code"].u64(), 0x17u);
  EXPECT_EQ(closed["reason"].str(), "bye");
  EXPECT_EQ(closed["trigger"].str(), "application");
  ASSERT_EQ(named(s, "connectivity:connection_closed").size(), 1u);
  EXPECT_EQ((*named(s, "connectivity:connection_closed")[0])["owner"].str(), "remote");

  // The server dropped the duplicates, saying why.
  std::multiset<std::string> triggers;
  for (const JsonValue* d : named(s, "transport:packet_dropped")) triggers.insert((*d)["trigger"].str());
  EXPECT_GE(triggers.count("duplicate"), 5u) << ::testing::PrintToString(triggers);
  EXPECT_GE(triggers.count("key_unavailable"), 1u) << ::testing::PrintToString(triggers);
  // connection_started names the connection IDs of both sides.
  ASSERT_EQ(named(c, "connectivity:connection_started").size(), 1u);
  ASSERT_EQ(named(s, "connectivity:connection_started").size(), 1u);
  const JsonValue& cs = *named(c, "connectivity:connection_started")[0];
  const JsonValue& ss = *named(s, "connectivity:connection_started")[0];
  EXPECT_EQ(cs["src_cid"].str(), ss["dst_cid"].str());
}

}  // namespace
}  // namespace quicbed
