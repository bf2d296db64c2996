// The core's trace summaries (stack/trace.h) and the qlog JSON-SEQ writer
// (userspace/qlog.h). Every record the writer produces is checked with a
// strict RFC 8259 parser below, then its fields against
// draft-ietf-quic-qlog-quic-events-03 / main-schema-04.
#include "qlog.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frame.h"
#include "hex.h"
#include "json_check.h"
#include "packet.h"
#include "trace.h"

namespace quicbed {
namespace {

using test::as_bytes;
using test::from_hex;
using test::JsonValue;
using test::parse_json;
using test::parse_json_seq;
using test::to_hex;

TEST(JsonParser, AcceptsValidTexts) {
  const char* valid[] = {
      "{}", "[]", "0", "-0.5", "1e10", "12.345E-2", "\"\"", "true", "null",
      " {\"a\" : [1, 2.0, {\"b\": null}], \"c\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}\n",
      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
  };
  for (const char* t : valid) {
    JsonValue v;
    std::string err;
    EXPECT_TRUE(parse_json(t, v, &err)) << t << ": " << err;
  }
  JsonValue v;
  ASSERT_TRUE(parse_json("{\"s\":\"a\\u00e9\\ud83d\\ude00\",\"n\":18446744073709551615}", v));
  EXPECT_EQ(v["s"].str(), "a\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v["n"].u64(), ~uint64_t{0});
}

// The validator must be able to fail, or the writer tests prove nothing.
TEST(JsonParser, RejectsInvalidTexts) {
  const char* invalid[] = {
      "",           "{",          "{\"a\":1,}",  "[1,]",        "{a:1}",          "{'a':1}",
      "01",         "1.",         ".5",          "+1",          "1e",             "0x10",
      "\"\x01\"",   "\"a\nb\"",   "\"\\x\"",     "\"\\u12\"",   "\"\\udc00\"",    "\"\\ud800x\"",
      "\"\xff\"",   "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xe2\x82\"", "{\"a\":1,\"a\":2}", "{} {}",
      "tru",        "nul",        "[1 2]",       "{\"a\" 1}",   "\"unterminated",
  };
  for (const char* t : invalid) {
    JsonValue v;
    EXPECT_FALSE(parse_json(t, v)) << t;
  }
}

// --- Core summaries (stack/trace.h) ---------------------------------------------

Frame parse_one(const std::vector<uint8_t>& wire) {
  Reader r(as_bytes(wire));
  auto f = parse_frame(r);
  EXPECT_TRUE(f.is_ok());
  EXPECT_TRUE(r.empty());
  return f.is_ok() ? *f : Frame();
}

TEST(TraceFrame, AckRangesAndDelay) {
  // RFC 9000 §19.3: Largest 100, ACK Delay 10, three ranges.
  const Range ranges[] = {{95, 100}, {90, 92}, {80, 80}};
  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  auto n = write_ack(w, ranges, 10);
  ASSERT_TRUE(n.is_ok());
  ASSERT_EQ(*n, 3u);
  const std::vector<uint8_t> wire(w.written().begin(), w.written().end());  // f borrows it
  Frame f = parse_one(wire);
  ASSERT_EQ(f.type, FrameType::kAck);

  TracedFrame t = trace_frame(f, 3);  // §18.2 default exponent: 10 << 3 us
  EXPECT_EQ(t.type, FrameType::kAck);
  EXPECT_EQ(t.ack.ack_delay_us, 80u);
  ASSERT_EQ(t.ack.range_count, 3);
  EXPECT_FALSE(t.ack.ranges_truncated);
  EXPECT_EQ(t.ack.ranges[0], (Range{95, 100}));
  EXPECT_EQ(t.ack.ranges[1], (Range{90, 92}));
  EXPECT_EQ(t.ack.ranges[2], (Range{80, 80}));

  // A hostile delay saturates instead of wrapping.
  f.ack.ack_delay = (uint64_t{1} << 62) - 1;
  EXPECT_EQ(trace_frame(f, 20).ack.ack_delay_us, ~uint64_t{0});
}

TEST(TraceFrame, AckKeepsTheLargestRanges) {
  std::vector<Range> ranges;
  for (uint64_t i = 0; i < kMaxTracedAckRanges + 3; ++i) ranges.push_back(Range{1000 - 10 * i - 2, 1000 - 10 * i});
  const EcnCounts ecn{5, 6, 7};
  uint8_t buf[256];
  Writer w(MutBytes(buf, sizeof buf));
  auto n = write_ack(w, ranges, 0, &ecn);
  ASSERT_TRUE(n.is_ok());
  ASSERT_EQ(*n, ranges.size());
  const std::vector<uint8_t> wire(w.written().begin(), w.written().end());
  Frame f = parse_one(wire);
  TracedFrame t = trace_frame(f, 3);
  EXPECT_EQ(t.type, FrameType::kAckEcn);
  EXPECT_EQ(t.ack.ecn, ecn);
  ASSERT_EQ(t.ack.range_count, kMaxTracedAckRanges);
  EXPECT_TRUE(t.ack.ranges_truncated);
  for (size_t i = 0; i < kMaxTracedAckRanges; ++i) EXPECT_EQ(t.ack.ranges[i], ranges[i]) << i;

  // The same from the sender's side: trace_ack over what write_ack wrote.
  TracedFrame s = trace_ack(ranges, 2, 1234, nullptr);
  EXPECT_EQ(s.type, FrameType::kAck);
  EXPECT_EQ(s.ack.ack_delay_us, 1234u);
  ASSERT_EQ(s.ack.range_count, 2);
  EXPECT_FALSE(s.ack.ranges_truncated);
  EXPECT_EQ(s.ack.ranges[1], ranges[1]);
  TracedFrame all = trace_ack(ranges, ranges.size(), 0, &ecn);
  EXPECT_EQ(all.type, FrameType::kAckEcn);
  EXPECT_EQ(all.ack.ecn, ecn);
  EXPECT_TRUE(all.ack.ranges_truncated);
}

TEST(TraceFrame, DataFramesKeepLengthsOnly) {
  // STREAM 0x0f (OFF, LEN, FIN): id 4, offset 1000, 5 bytes.
  const auto stream = from_hex("0f 04 43e8 05 68656c6c6f");  // parsed frames borrow these
  Frame s = parse_one(stream);
  TracedFrame t = trace_frame(s, 3);
  EXPECT_EQ(t.type, FrameType::kStream);
  EXPECT_EQ(t.data.stream_id, 4u);
  EXPECT_EQ(t.data.offset, 1000u);
  EXPECT_EQ(t.data.length, 5u);
  EXPECT_TRUE(t.data.fin);

  const auto crypto = from_hex("06 40c8 03 aabbcc");  // CRYPTO offset 200
  Frame c = parse_one(crypto);
  t = trace_frame(c, 3);
  EXPECT_EQ(t.type, FrameType::kCrypto);
  EXPECT_EQ(t.data.offset, 200u);
  EXPECT_EQ(t.data.length, 3u);
  EXPECT_FALSE(t.data.fin);

  const auto datagram = from_hex("31 04 01020304");  // DATAGRAM with length
  Frame d = parse_one(datagram);
  t = trace_frame(d, 3);
  EXPECT_EQ(t.type, FrameType::kDatagram);
  EXPECT_EQ(t.datagram_length, 4u);

  const auto max_streams = from_hex("13 0a");  // MAX_STREAMS (uni) 10
  Frame m = parse_one(max_streams);
  t = trace_frame(m, 3);
  EXPECT_EQ(t.type, FrameType::kMaxStreamsUni);
  EXPECT_EQ(t.max_streams.maximum, 10u);

  const auto close = from_hex("1c 0a 06 03 626164");  // PROTOCOL_VIOLATION in CRYPTO, "bad"
  Frame cc = parse_one(close);
  t = trace_frame(cc, 3);
  EXPECT_EQ(t.type, FrameType::kConnectionClose);
  EXPECT_EQ(t.connection_close.error_code, 0x0au);
  EXPECT_EQ(t.connection_close.frame_type, 0x06u);
  EXPECT_EQ(std::string(t.connection_close.reason.begin(), t.connection_close.reason.end()), "bad");
}

std::vector<uint8_t> long_packet(PacketType type, Bytes dcid, Bytes scid, uint64_t pn, size_t payload) {
  std::vector<uint8_t> buf(200);
  Writer w(MutBytes(buf.data(), buf.size()));
  LongHeader h;
  h.type = type;
  h.dcid = dcid;
  h.scid = scid;
  h.packet_number = pn;
  auto layout = write_long_header(w, h);
  EXPECT_TRUE(layout.is_ok());
  for (size_t i = 0; i < payload; ++i) EXPECT_TRUE(w.u8(0).is_ok());
  EXPECT_TRUE(write_length_field(w.written(), layout->length_offset, 1 + payload).is_ok());
  buf.resize(w.position());
  return buf;
}

TEST(TraceHeader, LongShortAndUnparseable) {
  const auto dcid = from_hex("8394c8f03e515708");
  const auto scid = from_hex("f067a5502a4262b5");
  auto pkt = long_packet(PacketType::kHandshake, as_bytes(dcid), as_bytes(scid), 7, 30);
  auto h = parse_packet_header(as_bytes(pkt), {});
  ASSERT_TRUE(h.is_ok());
  TracedPacketHeader t = trace_header(*h);
  EXPECT_EQ(t.type, PacketType::kHandshake);
  EXPECT_TRUE(t.type_known);
  EXPECT_FALSE(t.has_packet_number);  // still protected
  EXPECT_TRUE(t.has_version);
  EXPECT_EQ(t.version, kVersion1);
  EXPECT_EQ(t.length, 31u);
  ASSERT_TRUE(t.has_dcid && t.has_scid);
  EXPECT_EQ(to_hex(t.dcid.view()), "8394c8f03e515708");
  EXPECT_EQ(to_hex(t.scid.view()), "f067a5502a4262b5");

  std::vector<uint8_t> short_pkt(40, 0);
  Writer w(MutBytes(short_pkt.data(), short_pkt.size()));
  ASSERT_TRUE(write_short_header(w, ShortHeader{as_bytes(dcid), 3, 1, false, false}).is_ok());
  auto hs = parse_packet_header(as_bytes(short_pkt), HeaderParseOptions{dcid.size(), false});
  ASSERT_TRUE(hs.is_ok());
  t = trace_header(*hs);
  EXPECT_EQ(t.type, PacketType::kOneRtt);
  EXPECT_TRUE(t.type_known);
  EXPECT_TRUE(t.has_dcid);
  EXPECT_FALSE(t.has_scid);
  EXPECT_FALSE(t.has_version);
  EXPECT_EQ(t.length, 0u);

  const uint32_t versions[] = {kVersion1};
  std::vector<uint8_t> vn(64);
  Writer vw(MutBytes(vn.data(), vn.size()));
  ASSERT_TRUE(write_version_negotiation(vw, 0, as_bytes(scid), as_bytes(dcid), versions).is_ok());
  vn.resize(vw.position());
  auto hv = parse_packet_header(as_bytes(vn), {});
  ASSERT_TRUE(hv.is_ok());
  t = trace_header(*hv);
  EXPECT_EQ(t.type, PacketType::kVersionNegotiation);
  EXPECT_FALSE(t.has_version);
  EXPECT_TRUE(t.has_scid);

  // An unknown version: invariants only, its 255-byte DCID (RFC 8999) left out.
  std::vector<uint8_t> unknown = {0x80, 0x1a, 0x2a, 0x3a, 0x4a, 255};
  unknown.insert(unknown.end(), 255, 0x11);
  unknown.push_back(4);
  unknown.insert(unknown.end(), {1, 2, 3, 4});
  unknown.insert(unknown.end(), 900, 0);
  auto hu = parse_packet_header(as_bytes(unknown), {});
  ASSERT_TRUE(hu.is_ok());
  t = trace_header(*hu);
  EXPECT_FALSE(t.type_known);
  EXPECT_EQ(t.version, 0x1a2a3a4au);
  EXPECT_FALSE(t.has_dcid);
  EXPECT_TRUE(t.has_scid);
  EXPECT_EQ(to_hex(t.scid.view()), "01020304");
}

// --- The writer -----------------------------------------------------------------

constexpr uint64_t kStart = 5'000'000;                      // core time of the trace's time 0
constexpr uint64_t kReference = 1'700'000'000'123'456;      // epoch us

ConnectionId cid(const char* hex) {
  ConnectionId c;
  auto b = from_hex(hex);
  EXPECT_TRUE(c.assign(as_bytes(b)));
  return c;
}

Bytes text_bytes(std::string_view s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

class QlogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "qlog_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  QlogConfig config(Role role = Role::kClient) {
    QlogConfig c;
    c.dir = dir_;
    c.odcid = cid("0102030405060708");
    c.role = role;
    c.start_time_us = kStart;
    c.reference_time_us = kReference;
    return c;
  }
  std::unique_ptr<QlogWriter> open(Role role = Role::kClient) {
    auto w = QlogWriter::open(config(role));
    EXPECT_TRUE(w.is_ok()) << w.status().reason();
    return w.is_ok() ? std::move(*w) : nullptr;
  }

  // Closes the writer and returns its file's records, header first, each
  // checked to be <RS>JSON<LF> (RFC 7464 §2.2) with a valid JSON text.
  static std::vector<JsonValue> records(std::unique_ptr<QlogWriter>& w) {
    std::string path = w->path();
    EXPECT_TRUE(w->close().is_ok());
    w.reset();
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<JsonValue> out = parse_json_seq(ss.str());
    for (const JsonValue& v : out) EXPECT_EQ(v.kind, JsonValue::Kind::kObject) << v.describe();
    return out;
  }

  // The data of the only event in the file, after checking its name and
  // that it has exactly time, name and data.
  static JsonValue only_event(std::unique_ptr<QlogWriter>& w, const char* name) {
    auto recs = records(w);
    EXPECT_EQ(recs.size(), 2u);
    if (recs.size() != 2) return JsonValue();
    EXPECT_EQ(recs[1].keys(), (std::vector<std::string>{"time", "name", "data"}));
    EXPECT_EQ(recs[1]["name"].str(), name);
    EXPECT_EQ(recs[1]["data"].kind, JsonValue::Kind::kObject);
    return recs[1]["data"];
  }

  std::string dir_;
};

TEST_F(QlogTest, FileNameAndHeader) {
  auto w = open(Role::kClient);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->path(), dir_ + "/0102030405060708_client.sqlog");
  EXPECT_EQ(QlogWriter::file_name(cid("abcd"), Role::kServer), "abcd_server.sqlog");
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 1u);
  const JsonValue& h = recs[0];
  EXPECT_EQ(h["qlog_version"].str(), "0.3");
  EXPECT_EQ(h["qlog_format"].str(), "JSON-SEQ");
  const JsonValue& trace = h["trace"];
  EXPECT_EQ(trace["vantage_point"]["type"].str(), "client");
  EXPECT_EQ(trace["vantage_point"]["name"].str(), "quicbed");
  const JsonValue& common = trace["common_fields"];
  EXPECT_EQ(common["group_id"].str(), "0102030405060708");
  EXPECT_EQ(common["time_format"].str(), "relative");
  EXPECT_EQ(common["reference_time"].number(), "1700000000123.456");
  ASSERT_EQ(common["protocol_type"].size(), 1u);
  EXPECT_EQ(common["protocol_type"][0].str(), "QUIC");
}

TEST_F(QlogTest, ServerVantagePointAndDefaultReferenceTime) {
  QlogConfig c = config(Role::kServer);
  c.reference_time_us.reset();
  c.vantage_point_name = "srv \"1\"";
  auto w = QlogWriter::open(c);
  ASSERT_TRUE(w.is_ok());
  EXPECT_EQ((*w)->path(), dir_ + "/0102030405060708_server.sqlog");
  auto recs = records(*w);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["trace"]["vantage_point"]["type"].str(), "server");
  EXPECT_EQ(recs[0]["trace"]["vantage_point"]["name"].str(), "srv \"1\"");
  // Now, in ms since the epoch: after 2023-11 and well before 2100.
  double ref = std::stod(recs[0]["trace"]["common_fields"]["reference_time"].number());
  EXPECT_GT(ref, 1.7e12);
  EXPECT_LT(ref, 4.1e12);
}

TEST_F(QlogTest, TimesAreRelativeMilliseconds) {
  auto w = open();
  w->datagram_sent(kStart, 1);
  w->datagram_sent(kStart + 1'234'567, 2);
  w->datagram_sent(kStart + 7, 3);
  w->datagram_sent(kStart - 500, 4);  // before time 0 (the host's clock choice)
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[1]["time"].number(), "0.000");
  EXPECT_EQ(recs[2]["time"].number(), "1234.567");
  EXPECT_EQ(recs[3]["time"].number(), "0.007");
  EXPECT_EQ(recs[4]["time"].number(), "-0.500");
}

TEST_F(QlogTest, PacketSentHeaderAndFrames) {
  auto w = open();
  std::vector<TracedFrame> fs;
  TracedFrame f;

  f = trace_ack(std::vector<Range>{{10, 12}, {7, 7}}, 2, 1500, nullptr);
  fs.push_back(f);
  const EcnCounts ecn{1, 2, 3};
  fs.push_back(trace_ack(std::vector<Range>{{4, 4}}, 1, 0, &ecn));
  f = TracedFrame();
  f.type = FrameType::kStream;
  f.data = TracedData{4, 1000, 500, true};
  fs.push_back(f);
  f.data = TracedData{8, 0, 0, false};
  fs.push_back(f);
  f = TracedFrame();
  f.type = FrameType::kCrypto;
  f.data = TracedData{0, 200, 300, false};
  fs.push_back(f);
  f = TracedFrame();
  f.type = FrameType::kPadding;
  f.padding = PaddingFrame{37};
  fs.push_back(f);
  f = TracedFrame();
  f.type = FrameType::kPing;
  fs.push_back(f);
  f.type = FrameType::kHandshakeDone;
  fs.push_back(f);

  TracedPacket p;
  p.header.type = PacketType::kInitial;
  p.header.has_packet_number = true;
  p.header.packet_number = 42;
  p.header.has_version = true;
  p.header.version = kVersion2;
  p.header.length = 1162;
  p.header.has_dcid = p.header.has_scid = true;
  p.header.dcid = cid("8394c8f03e515708");
  p.header.scid = cid("c0ffee");
  p.size = 1200;
  p.frames = fs;
  w->packet_sent(kStart + 1000, p);
  JsonValue d = only_event(w, "transport:packet_sent");

  EXPECT_EQ(d.keys(), (std::vector<std::string>{"header", "raw", "frames"}));
  const JsonValue& h = d["header"];
  EXPECT_EQ(h["packet_type"].str(), "initial");
  EXPECT_EQ(h["packet_number"].u64(), 42u);
  EXPECT_EQ(h["length"].u64(), 1162u);
  EXPECT_EQ(h["version"].str(), "6b3343cf");
  EXPECT_EQ(h["dcid"].str(), "8394c8f03e515708");
  EXPECT_EQ(h["dcil"].u64(), 8u);
  EXPECT_EQ(h["scid"].str(), "c0ffee");
  EXPECT_EQ(h["scil"].u64(), 3u);
  EXPECT_EQ(d["raw"]["length"].u64(), 1200u);

  const JsonValue& frames = d["frames"];
  ASSERT_EQ(frames.size(), fs.size());
  const JsonValue& ack = frames[0];
  EXPECT_EQ(ack["frame_type"].str(), "ack");
  EXPECT_EQ(ack["ack_delay"].number(), "1.500");
  ASSERT_EQ(ack["acked_ranges"].size(), 2u);
  ASSERT_EQ(ack["acked_ranges"][0].size(), 2u);
  EXPECT_EQ(ack["acked_ranges"][0][0].u64(), 10u);
  EXPECT_EQ(ack["acked_ranges"][0][1].u64(), 12u);
  ASSERT_EQ(ack["acked_ranges"][1].size(), 1u);  // §8.11.3: [7], not [7,7]
  EXPECT_EQ(ack["acked_ranges"][1][0].u64(), 7u);
  EXPECT_FALSE(ack.has("ect0"));
  const JsonValue& ack_ecn = frames[1];
  EXPECT_EQ(ack_ecn["frame_type"].str(), "ack");
  EXPECT_EQ(ack_ecn["ect0"].u64(), 1u);
  EXPECT_EQ(ack_ecn["ect1"].u64(), 2u);
  EXPECT_EQ(ack_ecn["ce"].u64(), 3u);

  EXPECT_EQ(frames[2].keys(), (std::vector<std::string>{"frame_type", "stream_id", "offset", "length", "fin"}));
  EXPECT_EQ(frames[2]["frame_type"].str(), "stream");
  EXPECT_EQ(frames[2]["stream_id"].u64(), 4u);
  EXPECT_EQ(frames[2]["offset"].u64(), 1000u);
  EXPECT_EQ(frames[2]["length"].u64(), 500u);
  EXPECT_TRUE(frames[2]["fin"].is_true());
  EXPECT_FALSE(frames[3].has("fin"));  // §8.11.8: only when true
  EXPECT_EQ(frames[3]["length"].u64(), 0u);

  EXPECT_EQ(frames[4]["frame_type"].str(), "crypto");
  EXPECT_EQ(frames[4]["offset"].u64(), 200u);
  EXPECT_EQ(frames[4]["length"].u64(), 300u);
  EXPECT_EQ(frames[5]["frame_type"].str(), "padding");
  EXPECT_EQ(frames[5]["payload_length"].u64(), 37u);
  EXPECT_EQ(frames[6].keys(), std::vector<std::string>{"frame_type"});
  EXPECT_EQ(frames[6]["frame_type"].str(), "ping");
  EXPECT_EQ(frames[7]["frame_type"].str(), "handshake_done");
}

// Every other frame type, from parsed wire bytes through trace_frame.
TEST_F(QlogTest, PacketReceivedEveryOtherFrameType) {
  const char* wire[] = {
      "04 04 4105 4100",                                    // RESET_STREAM id 4, error 0x105, final 256
      "05 08 07",                                           // STOP_SENDING id 8, error 7
      "07 04 a1b2c3d4",                                     // NEW_TOKEN
      "10 4400",                                            // MAX_DATA 1024
      "11 04 4800",                                         // MAX_STREAM_DATA id 4, 2048
      "12 4064",                                            // MAX_STREAMS bidi 100
      "13 0a",                                              // MAX_STREAMS uni 10
      "14 4400",                                            // DATA_BLOCKED 1024
      "15 04 4800",                                         // STREAM_DATA_BLOCKED id 4, 2048
      "16 05",                                              // STREAMS_BLOCKED bidi 5
      "17 06",                                              // STREAMS_BLOCKED uni 6
      "18 02 01 04 a0a1a2a3 000102030405060708090a0b0c0d0e0f",  // NEW_CONNECTION_ID
      "19 03",                                              // RETIRE_CONNECTION_ID 3
      "1a 0011223344556677",                                // PATH_CHALLENGE
      "1b 8899aabbccddeeff",                                // PATH_RESPONSE
      "1c 0a 08 03 626164",                                 // CONNECTION_CLOSE PROTOCOL_VIOLATION, STREAM
      "1d 4123 00",                                         // CONNECTION_CLOSE (app) 0x123, no reason
      "30 0102030405",                                      // DATAGRAM without length
  };
  std::vector<std::vector<uint8_t>> payloads;  // the frames borrow these
  payloads.reserve(std::size(wire));
  std::vector<TracedFrame> fs;
  for (const char* hex : wire) {
    payloads.push_back(from_hex(hex));
    fs.push_back(trace_frame(parse_one(payloads.back()), 3));
  }
  auto w = open();
  TracedPacket p;
  p.header.type = PacketType::kOneRtt;
  p.header.has_packet_number = true;
  p.header.packet_number = 9;
  p.header.has_dcid = true;
  p.header.dcid = cid("0102");
  p.size = 321;
  p.frames = fs;
  w->packet_received(kStart, p);
  JsonValue d = only_event(w, "transport:packet_received");
  EXPECT_EQ(d["header"].keys(), (std::vector<std::string>{"packet_type", "packet_number", "dcil", "dcid"}));
  EXPECT_EQ(d["header"]["packet_type"].str(), "1RTT");
  const JsonValue& f = d["frames"];
  ASSERT_EQ(f.size(), fs.size());

  EXPECT_EQ(f[0]["frame_type"].str(), "reset_stream");
  EXPECT_EQ(f[0]["stream_id"].u64(), 4u);
  EXPECT_EQ(f[0]["error_code"].u64(), 0x105u);
  EXPECT_EQ(f[0]["final_size"].u64(), 256u);
  EXPECT_EQ(f[1]["frame_type"].str(), "stop_sending");
  EXPECT_EQ(f[1]["stream_id"].u64(), 8u);
  EXPECT_EQ(f[1]["error_code"].u64(), 7u);
  EXPECT_EQ(f[2]["frame_type"].str(), "new_token");
  EXPECT_EQ(f[2]["token"]["length"].u64(), 4u);
  EXPECT_EQ(f[2]["token"]["data"].str(), "a1b2c3d4");
  EXPECT_EQ(f[3]["frame_type"].str(), "max_data");
  EXPECT_EQ(f[3]["maximum"].u64(), 1024u);
  EXPECT_EQ(f[4]["frame_type"].str(), "max_stream_data");
  EXPECT_EQ(f[4]["stream_id"].u64(), 4u);
  EXPECT_EQ(f[4]["maximum"].u64(), 2048u);
  EXPECT_EQ(f[5]["frame_type"].str(), "max_streams");
  EXPECT_EQ(f[5]["stream_type"].str(), "bidirectional");
  EXPECT_EQ(f[5]["maximum"].u64(), 100u);
  EXPECT_EQ(f[6]["stream_type"].str(), "unidirectional");
  EXPECT_EQ(f[6]["maximum"].u64(), 10u);
  EXPECT_EQ(f[7]["frame_type"].str(), "data_blocked");
  EXPECT_EQ(f[7]["limit"].u64(), 1024u);
  EXPECT_EQ(f[8]["frame_type"].str(), "stream_data_blocked");
  EXPECT_EQ(f[8]["stream_id"].u64(), 4u);
  EXPECT_EQ(f[8]["limit"].u64(), 2048u);
  EXPECT_EQ(f[9]["frame_type"].str(), "streams_blocked");
  EXPECT_EQ(f[9]["stream_type"].str(), "bidirectional");
  EXPECT_EQ(f[9]["limit"].u64(), 5u);
  EXPECT_EQ(f[10]["stream_type"].str(), "unidirectional");
  EXPECT_EQ(f[10]["limit"].u64(), 6u);
  EXPECT_EQ(f[11]["frame_type"].str(), "new_connection_id");
  EXPECT_EQ(f[11]["sequence_number"].u64(), 2u);
  EXPECT_EQ(f[11]["retire_prior_to"].u64(), 1u);
  EXPECT_EQ(f[11]["connection_id_length"].u64(), 4u);
  EXPECT_EQ(f[11]["connection_id"].str(), "a0a1a2a3");
  EXPECT_EQ(f[11]["stateless_reset_token"].str(), "000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(f[12]["frame_type"].str(), "retire_connection_id");
  EXPECT_EQ(f[12]["sequence_number"].u64(), 3u);
  EXPECT_EQ(f[13]["frame_type"].str(), "path_challenge");
  EXPECT_EQ(f[13]["data"].str(), "0011223344556677");
  EXPECT_EQ(f[14]["frame_type"].str(), "path_response");
  EXPECT_EQ(f[14]["data"].str(), "8899aabbccddeeff");
  EXPECT_EQ(f[15]["frame_type"].str(), "connection_close");
  EXPECT_EQ(f[15]["error_space"].str(), "transport");
  EXPECT_EQ(f[15]["error_code"].str(), "protocol_violation");
  EXPECT_EQ(f[15]["raw_error_code"].u64(), 0x0au);
  EXPECT_EQ(f[15]["reason"].str(), "bad");
  EXPECT_EQ(f[15]["trigger_frame_type"].u64(), 8u);
  EXPECT_EQ(f[16]["error_space"].str(), "application");
  EXPECT_EQ(f[16]["error_code"].u64(), 0x123u);
  EXPECT_EQ(f[16]["reason"].str(), "");
  EXPECT_FALSE(f[16].has("trigger_frame_type"));
  EXPECT_EQ(f[17]["frame_type"].str(), "datagram");
  EXPECT_EQ(f[17]["length"].u64(), 5u);
}

TEST_F(QlogTest, PacketDroppedWithTrigger) {
  auto w = open();
  TracedPacketDrop d;
  d.header.type_known = false;
  d.header.has_version = true;
  d.header.version = 0x1a2a3a4a;
  d.size = 1252;
  d.trigger = DropReason::kUnsupportedVersion;
  w->packet_dropped(kStart, d);
  d = TracedPacketDrop();
  d.header.type = PacketType::kHandshake;
  d.size = 80;
  d.trigger = DropReason::kKeyUnavailable;
  w->packet_dropped(kStart, d);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 3u);
  const JsonValue& a = recs[1]["data"];
  EXPECT_EQ(recs[1]["name"].str(), "transport:packet_dropped");
  EXPECT_EQ(a["header"]["packet_type"].str(), "unknown");
  EXPECT_EQ(a["header"]["version"].str(), "1a2a3a4a");
  EXPECT_EQ(a["raw"]["length"].u64(), 1252u);
  EXPECT_EQ(a["trigger"].str(), "unsupported_version");
  const JsonValue& b = recs[2]["data"];
  EXPECT_EQ(b["header"].keys(), std::vector<std::string>{"packet_type"});
  EXPECT_EQ(b["header"]["packet_type"].str(), "handshake");
  EXPECT_EQ(b["trigger"].str(), "key_unavailable");
}

TEST_F(QlogTest, DropTriggerNames) {
  const std::pair<DropReason, const char*> cases[] = {
      {DropReason::kKeyUnavailable, "key_unavailable"},
      {DropReason::kUnknownConnectionId, "unknown_connection_id"},
      {DropReason::kHeaderParseError, "header_parse_error"},
      {DropReason::kPayloadDecryptError, "payload_decrypt_error"},
      {DropReason::kProtocolViolation, "protocol_violation"},
      {DropReason::kDosPrevention, "dos_prevention"},
      {DropReason::kUnsupportedVersion, "unsupported_version"},
      {DropReason::kUnexpectedPacket, "unexpected_packet"},
      {DropReason::kUnexpectedSourceConnectionId, "unexpected_source_connection_id"},
      {DropReason::kUnexpectedVersion, "unexpected_version"},
      {DropReason::kDuplicate, "duplicate"},
      {DropReason::kInvalidInitial, "invalid_initial"},
  };
  auto w = open();
  for (const auto& c : cases) {
    TracedPacketDrop d;
    d.trigger = c.first;
    w->packet_dropped(kStart, d);
  }
  auto recs = records(w);
  ASSERT_EQ(recs.size(), std::size(cases) + 1);
  for (size_t i = 0; i < std::size(cases); ++i) EXPECT_EQ(recs[i + 1]["data"]["trigger"].str(), cases[i].second);
}

TEST_F(QlogTest, ParametersSetLocalAndRemote) {
  TransportParameters local;
  local.has_initial_source_connection_id = true;
  local.initial_source_connection_id = cid("aabbccdd");
  local.initial_max_data = 1 << 20;
  local.initial_max_stream_data_bidi_local = 1000;
  local.initial_max_stream_data_bidi_remote = 2000;
  local.initial_max_stream_data_uni = 3000;
  local.initial_max_streams_bidi = 100;
  local.initial_max_streams_uni = 3;
  local.max_idle_timeout = 30000;
  local.max_datagram_frame_size = 1200;

  TransportParameters remote;
  remote.has_original_destination_connection_id = true;
  remote.original_destination_connection_id = cid("0102030405060708");
  remote.has_initial_source_connection_id = true;
  remote.initial_source_connection_id = cid("11");
  remote.has_retry_source_connection_id = true;
  remote.retry_source_connection_id = cid("22");
  remote.has_stateless_reset_token = true;
  for (uint8_t i = 0; i < kStatelessResetTokenLen; ++i) remote.stateless_reset_token[i] = i;
  remote.disable_active_migration = true;
  remote.ack_delay_exponent = 10;
  remote.max_ack_delay = 50;
  remote.active_connection_id_limit = 4;
  remote.max_udp_payload_size = 1472;
  remote.grease_quic_bit = true;
  remote.has_preferred_address = true;
  remote.preferred_address.ipv4_address[0] = 192;
  remote.preferred_address.ipv4_address[3] = 1;
  remote.preferred_address.ipv4_port = 4433;
  remote.preferred_address.ipv6_address[15] = 1;
  remote.preferred_address.ipv6_port = 4434;
  remote.preferred_address.connection_id = cid("c1d2");
  remote.preferred_address.stateless_reset_token[0] = 0xff;

  auto w = open();
  w->parameters_set(kStart, TraceOwner::kLocal, local);
  w->parameters_set(kStart, TraceOwner::kRemote, remote);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1]["name"].str(), "transport:parameters_set");
  const JsonValue& l = recs[1]["data"];
  EXPECT_EQ(l["owner"].str(), "local");
  EXPECT_EQ(l["initial_source_connection_id"].str(), "aabbccdd");
  EXPECT_FALSE(l.has("original_destination_connection_id"));
  EXPECT_FALSE(l.has("stateless_reset_token"));
  EXPECT_FALSE(l.has("preferred_address"));
  EXPECT_EQ(l["initial_max_data"].u64(), 1u << 20);
  EXPECT_EQ(l["initial_max_stream_data_bidi_local"].u64(), 1000u);
  EXPECT_EQ(l["initial_max_stream_data_bidi_remote"].u64(), 2000u);
  EXPECT_EQ(l["initial_max_stream_data_uni"].u64(), 3000u);
  EXPECT_EQ(l["initial_max_streams_bidi"].u64(), 100u);
  EXPECT_EQ(l["initial_max_streams_uni"].u64(), 3u);
  EXPECT_EQ(l["max_idle_timeout"].u64(), 30000u);
  EXPECT_EQ(l["max_udp_payload_size"].u64(), 65527u);  // RFC 9000 §18.2 default
  EXPECT_EQ(l["ack_delay_exponent"].u64(), 3u);
  EXPECT_EQ(l["max_ack_delay"].u64(), 25u);
  EXPECT_EQ(l["active_connection_id_limit"].u64(), 2u);
  EXPECT_EQ(l["disable_active_migration"].kind, JsonValue::Kind::kBool);
  EXPECT_FALSE(l["disable_active_migration"].is_true());
  EXPECT_EQ(l["max_datagram_frame_size"].u64(), 1200u);

  const JsonValue& r = recs[2]["data"];
  EXPECT_EQ(r["owner"].str(), "remote");
  EXPECT_EQ(r["original_destination_connection_id"].str(), "0102030405060708");
  EXPECT_EQ(r["initial_source_connection_id"].str(), "11");
  EXPECT_EQ(r["retry_source_connection_id"].str(), "22");
  EXPECT_EQ(r["stateless_reset_token"].str(), "000102030405060708090a0b0c0d0e0f");
  EXPECT_TRUE(r["disable_active_migration"].is_true());
  EXPECT_EQ(r["ack_delay_exponent"].u64(), 10u);
  EXPECT_EQ(r["max_ack_delay"].u64(), 50u);
  EXPECT_EQ(r["active_connection_id_limit"].u64(), 4u);
  EXPECT_EQ(r["max_udp_payload_size"].u64(), 1472u);
  EXPECT_TRUE(r["grease_quic_bit"].is_true());
  const JsonValue& pa = r["preferred_address"];
  EXPECT_EQ(pa["ip_v4"].str(), "c0000001");
  EXPECT_EQ(pa["port_v4"].u64(), 4433u);
  EXPECT_EQ(pa["ip_v6"].str(), "00000000000000000000000000000001");
  EXPECT_EQ(pa["port_v6"].u64(), 4434u);
  EXPECT_EQ(pa["connection_id"].str(), "c1d2");
  EXPECT_EQ(pa["stateless_reset_token"].str(), "ff000000000000000000000000000000");
}

TEST_F(QlogTest, ConnectionStartedAndStateUpdated) {
  auto w = open();
  TracedConnectionStarted s;
  s.src_cid = cid("c0c1c2c3");
  s.dst_cid = cid("0102030405060708");
  w->connection_started(kStart, s);
  const std::pair<TraceConnectionState, const char*> states[] = {
      {TraceConnectionState::kAttempted, "attempted"},
      {TraceConnectionState::kPeerValidated, "peer_validated"},
      {TraceConnectionState::kHandshakeStarted, "handshake_started"},
      {TraceConnectionState::kEarlyWrite, "early_write"},
      {TraceConnectionState::kHandshakeComplete, "handshake_complete"},
      {TraceConnectionState::kHandshakeConfirmed, "handshake_confirmed"},
      {TraceConnectionState::kClosing, "closing"},
      {TraceConnectionState::kDraining, "draining"},
      {TraceConnectionState::kClosed, "closed"},
  };
  for (size_t i = 1; i < std::size(states); ++i) w->connection_state_updated(kStart, states[i - 1].first, states[i].first);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), std::size(states) + 1);
  EXPECT_EQ(recs[1]["name"].str(), "connectivity:connection_started");
  EXPECT_EQ(recs[1]["data"]["src_cid"].str(), "c0c1c2c3");
  EXPECT_EQ(recs[1]["data"]["dst_cid"].str(), "0102030405060708");
  for (size_t i = 1; i < std::size(states); ++i) {
    const JsonValue& r = recs[i + 1];
    EXPECT_EQ(r["name"].str(), "connectivity:connection_state_updated");
    EXPECT_EQ(r["data"]["old"].str(), states[i - 1].second);
    EXPECT_EQ(r["data"]["new"].str(), states[i].second);
  }
}

TEST_F(QlogTest, ConnectionClosedCodes) {
  auto w = open();
  TracedConnectionClosed c;
  c.owner = TraceOwner::kLocal;
  c.error_code = 0x07;
  c.reason = text_bytes("bad frame");
  c.trigger = CloseTrigger::kError;
  w->connection_closed(kStart, c);
  c = TracedConnectionClosed();
  c.owner = TraceOwner::kRemote;
  c.error_code = 0x100 + 120;  // no_application_protocol alert (RFC 9001 §8.1)
  c.trigger = CloseTrigger::kError;
  w->connection_closed(kStart, c);
  c = TracedConnectionClosed();
  c.application = true;
  c.error_code = (uint64_t{1} << 62) - 1;
  c.trigger = CloseTrigger::kApplication;
  w->connection_closed(kStart, c);
  c = TracedConnectionClosed();
  c.error_code = 0x0f;  // AEAD_LIMIT_REACHED: not among -03's names
  c.trigger = CloseTrigger::kIdleTimeout;
  w->connection_closed(kStart, c);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 5u);
  const JsonValue& a = recs[1]["data"];
  EXPECT_EQ(recs[1]["name"].str(), "connectivity:connection_closed");
  EXPECT_EQ(a["owner"].str(), "local");
  EXPECT_EQ(a["connection_code"].str(), "frame_encoding_error");
  EXPECT_EQ(a["reason"].str(), "bad frame");
  EXPECT_EQ(a["trigger"].str(), "error");
  const JsonValue& b = recs[2]["data"];
  EXPECT_EQ(b["owner"].str(), "remote");
  EXPECT_EQ(b["connection_code"].str(), "crypto_error_0x178");
  EXPECT_FALSE(b.has("reason"));
  const JsonValue& app = recs[3]["data"];
  EXPECT_FALSE(app.has("connection_code"));
  EXPECT_EQ(app["application_code"].u64(), (uint64_t{1} << 62) - 1);
  EXPECT_EQ(app["trigger"].str(), "application");
  EXPECT_EQ(recs[4]["data"]["connection_code"].u64(), 0x0fu);
  EXPECT_EQ(recs[4]["data"]["trigger"].str(), "idle_timeout");
}

TEST_F(QlogTest, TransportErrorNames) {
  const char* names[] = {"no_error",           "internal_error",       "connection_refused",
                         "flow_control_error", "stream_limit_error",   "stream_state_error",
                         "final_size_error",   "frame_encoding_error", "transport_parameter_error",
                         "connection_id_limit_error", "protocol_violation", "invalid_token",
                         "application_error",  "crypto_buffer_exceeded"};
  auto w = open();
  for (uint64_t code = 0; code < std::size(names); ++code) {
    TracedConnectionClosed c;
    c.error_code = code;
    w->connection_closed(kStart, c);
  }
  auto recs = records(w);
  ASSERT_EQ(recs.size(), std::size(names) + 1);
  for (size_t i = 0; i < std::size(names); ++i) EXPECT_EQ(recs[i + 1]["data"]["connection_code"].str(), names[i]);
}

// A reason phrase is peer-controlled bytes: quotes, control characters and
// invalid UTF-8 must still give valid JSON that decodes to the same text
// (invalid bytes as U+00XX).
TEST_F(QlogTest, ReasonPhraseIsEscaped) {
  const std::string reason = std::string("q\"b\\n\nc\x01") + "\xc3\xa9" + "\xff" + "\xe2\x82" + "\x7f" + "end";
  auto w = open();
  TracedConnectionClosed c;
  c.owner = TraceOwner::kRemote;
  c.error_code = 0x0a;
  c.reason = text_bytes(reason);
  w->connection_closed(kStart, c);
  JsonValue d = only_event(w, "connectivity:connection_closed");
  EXPECT_EQ(d["reason"].str(), std::string("q\"b\\n\nc\x01") + "\xc3\xa9" + "\xc3\xbf" + "\xc3\xa2\xc2\x82" +
                                   "\x7f" + "end");
}

TEST_F(QlogTest, KeyUpdatedAndDiscarded) {
  auto w = open();
  w->key_updated(kStart, TracedKey{Role::kServer, EncryptionLevel::kHandshake, 0, KeyTrigger::kTls});
  w->key_updated(kStart, TracedKey{Role::kClient, EncryptionLevel::kApplication, 3, KeyTrigger::kRemoteUpdate});
  w->key_discarded(kStart, TracedKey{Role::kClient, EncryptionLevel::kInitial, 0, KeyTrigger::kTls});
  w->key_discarded(kStart, TracedKey{Role::kServer, EncryptionLevel::kApplication, 2, KeyTrigger::kLocalUpdate});
  w->key_updated(kStart, TracedKey{Role::kClient, EncryptionLevel::kEarlyData, 0, KeyTrigger::kTls});
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[1]["name"].str(), "security:key_updated");
  EXPECT_EQ(recs[1]["data"].keys(), (std::vector<std::string>{"key_type", "trigger"}));
  EXPECT_EQ(recs[1]["data"]["key_type"].str(), "server_handshake_secret");
  EXPECT_EQ(recs[1]["data"]["trigger"].str(), "tls");
  EXPECT_EQ(recs[2]["data"]["key_type"].str(), "client_1rtt_secret");
  EXPECT_EQ(recs[2]["data"]["generation"].u64(), 3u);
  EXPECT_EQ(recs[2]["data"]["trigger"].str(), "remote_update");
  EXPECT_EQ(recs[3]["name"].str(), "security:key_discarded");
  EXPECT_EQ(recs[3]["data"]["key_type"].str(), "client_initial_secret");
  EXPECT_EQ(recs[4]["data"]["key_type"].str(), "server_1rtt_secret");
  EXPECT_EQ(recs[4]["data"]["generation"].u64(), 2u);
  EXPECT_EQ(recs[4]["data"]["trigger"].str(), "local_update");
  EXPECT_EQ(recs[5]["data"]["key_type"].str(), "client_0rtt_secret");
}

TEST_F(QlogTest, MetricsUpdatedLogsChanges) {
  auto w = open();
  TracedMetrics m;
  m.min_rtt_us = 20'500;
  m.smoothed_rtt_us = 25'000;
  m.latest_rtt_us = 21'001;
  m.rtt_variance_us = 4'250;
  m.pto_count = 0;
  m.congestion_window = 12'000;
  m.bytes_in_flight = 3'600;
  m.ssthresh = ~uint64_t{0};  // not set yet
  m.pacing_rate = 1'250'000;  // bytes/s
  w->metrics_updated(kStart + 100, m);
  w->metrics_updated(kStart + 200, m);  // nothing changed: no record
  m.congestion_window = 6'000;
  m.ssthresh = 6'000;
  w->metrics_updated(kStart + 300, m);
  m.latest_rtt_us = 30'000;
  w->metrics_updated(kStart + 400, m);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1]["name"].str(), "recovery:metrics_updated");
  const JsonValue& a = recs[1]["data"];
  EXPECT_EQ(a.keys(), (std::vector<std::string>{"min_rtt", "smoothed_rtt", "latest_rtt", "rtt_variance", "pto_count",
                                                "congestion_window", "bytes_in_flight", "pacing_rate"}));
  EXPECT_EQ(a["min_rtt"].number(), "20.500");
  EXPECT_EQ(a["smoothed_rtt"].number(), "25.000");
  EXPECT_EQ(a["latest_rtt"].number(), "21.001");
  EXPECT_EQ(a["rtt_variance"].number(), "4.250");
  EXPECT_EQ(a["pto_count"].u64(), 0u);
  EXPECT_EQ(a["congestion_window"].u64(), 12000u);
  EXPECT_EQ(a["bytes_in_flight"].u64(), 3600u);
  EXPECT_EQ(a["pacing_rate"].u64(), 10'000'000u);  // §7.2: bits per second
  EXPECT_EQ(recs[2]["time"].number(), "0.300");
  EXPECT_EQ(recs[2]["data"].keys(), (std::vector<std::string>{"congestion_window", "ssthresh"}));
  EXPECT_EQ(recs[2]["data"]["congestion_window"].u64(), 6000u);
  EXPECT_EQ(recs[2]["data"]["ssthresh"].u64(), 6000u);
  EXPECT_EQ(recs[3]["data"].keys(), std::vector<std::string>{"latest_rtt"});
  EXPECT_EQ(recs[3]["data"]["latest_rtt"].number(), "30.000");
}

TEST_F(QlogTest, CongestionStateUpdated) {
  auto w = open();
  w->congestion_state_updated(kStart, CcState::kSlowStart, CcState::kRecovery, CongestionTrigger::kNone);
  w->congestion_state_updated(kStart, CcState::kRecovery, CcState::kCongestionAvoidance, CongestionTrigger::kEcn);
  w->congestion_state_updated(kStart, CcState::kCongestionAvoidance, CcState::kSlowStart,
                              CongestionTrigger::kPersistentCongestion);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1]["name"].str(), "recovery:congestion_state_updated");
  EXPECT_EQ(recs[1]["data"].keys(), (std::vector<std::string>{"old", "new"}));
  EXPECT_EQ(recs[1]["data"]["old"].str(), "slow_start");
  EXPECT_EQ(recs[1]["data"]["new"].str(), "recovery");
  EXPECT_EQ(recs[2]["data"]["new"].str(), "congestion_avoidance");
  EXPECT_EQ(recs[2]["data"]["trigger"].str(), "ECN");
  EXPECT_EQ(recs[3]["data"]["trigger"].str(), "persistent_congestion");
}

// BBR's modes (draft-ietf-ccwg-bbr §5.3) by name; qlog leaves them open.
TEST_F(QlogTest, CongestionStateUpdatedNamesBbrModes) {
  auto w = open();
  const CcState modes[] = {CcState::kBbrStartup,        CcState::kBbrDrain,        CcState::kBbrProbeBwDown,
                           CcState::kBbrProbeBwCruise,  CcState::kBbrProbeBwRefill, CcState::kBbrProbeBwUp,
                           CcState::kBbrProbeRtt};
  for (size_t i = 1; i < std::size(modes); ++i) {
    w->congestion_state_updated(kStart, modes[i - 1], modes[i], CongestionTrigger::kNone);
  }
  auto recs = records(w);
  ASSERT_EQ(recs.size(), std::size(modes));
  EXPECT_EQ(recs[1]["data"]["old"].str(), "startup");
  const char* names[] = {"drain", "probe_bw_down", "probe_bw_cruise", "probe_bw_refill", "probe_bw_up", "probe_rtt"};
  for (size_t i = 0; i < std::size(names); ++i) EXPECT_EQ(recs[i + 1]["data"]["new"].str(), names[i]);
}

TEST_F(QlogTest, EcnStateAndMtuUpdated) {
  auto w = open();
  w->ecn_state_updated(kStart, EcnState::kTesting, EcnState::kUnknown);
  w->ecn_state_updated(kStart, EcnState::kUnknown, EcnState::kCapable);
  w->ecn_state_updated(kStart, EcnState::kCapable, EcnState::kFailed);
  w->mtu_updated(kStart, 1200, 1336, false);
  w->mtu_updated(kStart, 1336, 1372, true);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[1]["name"].str(), "recovery:ecn_state_updated");
  EXPECT_EQ(recs[1]["data"].keys(), (std::vector<std::string>{"old", "new"}));
  EXPECT_EQ(recs[1]["data"]["old"].str(), "testing");
  EXPECT_EQ(recs[1]["data"]["new"].str(), "unknown");
  EXPECT_EQ(recs[2]["data"]["new"].str(), "capable");
  EXPECT_EQ(recs[3]["data"]["new"].str(), "failed");
  EXPECT_EQ(recs[4]["name"].str(), "connectivity:mtu_updated");
  EXPECT_EQ(recs[4]["data"].keys(), (std::vector<std::string>{"old", "new"}));
  EXPECT_EQ(recs[4]["data"]["old"].u64(), 1200u);
  EXPECT_EQ(recs[4]["data"]["new"].u64(), 1336u);
  EXPECT_EQ(recs[5]["data"].keys(), (std::vector<std::string>{"old", "new", "done"}));
  EXPECT_EQ(recs[5]["data"]["new"].u64(), 1372u);
  EXPECT_TRUE(recs[5]["data"]["done"].is_true());
}

TEST_F(QlogTest, PacketLost) {
  auto w = open();
  TracedFrame f;
  f.type = FrameType::kCrypto;
  f.data = TracedData{0, 0, 250, false};
  TracedPacketLost l;
  l.header.type = PacketType::kHandshake;
  l.header.has_packet_number = true;
  l.header.packet_number = 3;
  l.frames = std::span<const TracedFrame>(&f, 1);
  l.trigger = LossTrigger::kTimeThreshold;
  w->packet_lost(kStart, l);
  l.frames = {};
  l.trigger = LossTrigger::kUnspecified;
  w->packet_lost(kStart, l);
  l.trigger = LossTrigger::kReorderingThreshold;
  w->packet_lost(kStart, l);
  l.trigger = LossTrigger::kPtoExpired;
  w->packet_lost(kStart, l);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[1]["name"].str(), "recovery:packet_lost");
  const JsonValue& a = recs[1]["data"];
  EXPECT_EQ(a["header"]["packet_type"].str(), "handshake");
  EXPECT_EQ(a["header"]["packet_number"].u64(), 3u);
  ASSERT_EQ(a["frames"].size(), 1u);
  EXPECT_EQ(a["frames"][0]["frame_type"].str(), "crypto");
  EXPECT_EQ(a["frames"][0]["length"].u64(), 250u);
  EXPECT_EQ(a["trigger"].str(), "time_threshold");
  EXPECT_EQ(recs[2]["data"].keys(), std::vector<std::string>{"header"});
  EXPECT_EQ(recs[3]["data"]["trigger"].str(), "reordering_threshold");
  EXPECT_EQ(recs[4]["data"]["trigger"].str(), "pto_expired");
}

TEST_F(QlogTest, DatagramsSentAndReceived) {
  auto w = open();
  w->datagram_sent(kStart, 1200);
  w->datagram_received(kStart, 1252);
  auto recs = records(w);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1]["name"].str(), "transport:datagrams_sent");
  EXPECT_EQ(recs[1]["data"]["count"].u64(), 1u);
  ASSERT_EQ(recs[1]["data"]["raw"].size(), 1u);
  EXPECT_EQ(recs[1]["data"]["raw"][0]["length"].u64(), 1200u);
  EXPECT_EQ(recs[2]["name"].str(), "transport:datagrams_received");
  EXPECT_EQ(recs[2]["data"]["raw"][0]["length"].u64(), 1252u);
}

// A connection's worth of events: a well-formed JSON-SEQ file whose records
// come in order, each <RS>{...}<LF>, the header first.
TEST_F(QlogTest, SequenceIsWellFormedJsonSeq) {
  QlogConfig c = config();
  c.buffer_size = 64;  // force many partial writes through stdio
  auto opened = QlogWriter::open(c);
  ASSERT_TRUE(opened.is_ok());
  std::unique_ptr<QlogWriter> w = std::move(*opened);
  std::vector<std::string> names;
  uint64_t now = kStart;
  TracedConnectionStarted s;
  w->connection_started(now, s);
  names.push_back("connectivity:connection_started");
  w->parameters_set(now, TraceOwner::kLocal, TransportParameters());
  names.push_back("transport:parameters_set");
  TracedFrame frames[3];
  frames[0] = trace_ack(std::vector<Range>{{0, 5}}, 1, 0, nullptr);
  frames[1].type = FrameType::kStream;
  frames[1].data = TracedData{0, 0, 1000, false};
  frames[2].type = FrameType::kPadding;
  frames[2].padding = PaddingFrame{3};
  for (uint64_t pn = 0; pn < 200; ++pn) {
    now += 250;
    TracedPacket p;
    p.header.has_packet_number = true;
    p.header.packet_number = pn;
    p.size = 1200;
    p.frames = frames;
    if (pn % 2) {
      w->packet_received(now, p);
      names.push_back("transport:packet_received");
    } else {
      w->packet_sent(now, p);
      names.push_back("transport:packet_sent");
      w->datagram_sent(now, 1200);
      names.push_back("transport:datagrams_sent");
    }
    TracedMetrics m;
    m.bytes_in_flight = pn * 1200;
    w->metrics_updated(now, m);
    names.push_back("recovery:metrics_updated");
  }
  TracedConnectionClosed cl;
  w->connection_closed(now, cl);
  names.push_back("connectivity:connection_closed");
  EXPECT_TRUE(w->flush().is_ok());

  auto recs = records(w);
  ASSERT_EQ(recs.size(), names.size() + 1);
  EXPECT_EQ(recs[0]["qlog_format"].str(), "JSON-SEQ");
  double last = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    const JsonValue& r = recs[i + 1];
    EXPECT_EQ(r["name"].str(), names[i]) << i;
    double t = std::stod(r["time"].number());
    EXPECT_GE(t, last) << i;
    last = t;
  }
  EXPECT_EQ(recs.back()["time"].number(), "50.000");
}

TEST_F(QlogTest, EventsAfterCloseAreIgnored) {
  auto w = open();
  std::string path = w->path();
  EXPECT_TRUE(w->close().is_ok());
  w->datagram_sent(kStart, 1);
  EXPECT_TRUE(w->flush().is_ok());
  EXPECT_TRUE(w->close().is_ok());
  std::ifstream in(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(std::count(file.begin(), file.end(), '\x1e'), 1);
}

TEST_F(QlogTest, MissingDirectoryIsAClearError) {
  QlogConfig c = config();
  c.dir = dir_ + "/does/not/exist";
  std::string error;
  auto w = QlogWriter::open(c, &error);
  ASSERT_FALSE(w.is_ok());
  EXPECT_EQ(w.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_STREQ(w.status().reason(), "qlog directory does not exist");
  EXPECT_EQ(error, "qlog directory does not exist: " + c.dir + ": No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(c.dir));

  // Without a message sink the Status alone says it.
  auto w2 = QlogWriter::open(c);
  ASSERT_FALSE(w2.is_ok());
  EXPECT_STREQ(w2.status().reason(), "qlog directory does not exist");
}

TEST_F(QlogTest, FileAsDirectoryIsAClearError) {
  QlogConfig c = config();
  c.dir = dir_ + "/plain_file";
  std::ofstream(c.dir) << "x";
  std::string error;
  auto w = QlogWriter::open(c, &error);
  ASSERT_FALSE(w.is_ok());
  EXPECT_EQ(w.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_STREQ(w.status().reason(), "qlog path is not a directory");
  EXPECT_EQ(error, "qlog path is not a directory: " + c.dir + ": Not a directory");
}

TEST_F(QlogTest, UnwritableFileIsAClearError) {
  // A directory where the file should go: fopen fails with EISDIR.
  QlogConfig c = config();
  std::filesystem::create_directory(dir_ + "/" + QlogWriter::file_name(c.odcid, c.role));
  std::string error;
  auto w = QlogWriter::open(c, &error);
  ASSERT_FALSE(w.is_ok());
  EXPECT_EQ(w.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_STREQ(w.status().reason(), "cannot create qlog file");
  EXPECT_EQ(error, "cannot create qlog file: " + dir_ + "/0102030405060708_client.sqlog: Is a directory");
}

}  // namespace
}  // namespace quicbed
