#include "frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "hex.h"
#include "varint.h"

namespace quicbed {
namespace {

using test::as_bytes;
using test::from_hex;
using test::to_hex;

constexpr uint64_t k2p30 = uint64_t{1} << 30;

const uint8_t kHello[] = {'h', 'e', 'l', 'l', 'o'};
const uint8_t kToken16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
const uint8_t kCid8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
const uint8_t kCid21[21] = {};
const uint8_t kPath8[8] = {0, 1, 2, 3, 4, 5, 6, 7};
const uint8_t kAbc[3] = {0xaa, 0xbb, 0xcc};

Frame make(FrameType t) {
  Frame f;
  f.type = t;
  return f;
}

std::vector<uint8_t> encode(const Frame& f, bool last_in_packet = false) {
  std::vector<uint8_t> out(frame_size(f, last_in_packet));
  Writer w(MutBytes(out.data(), out.size()));
  Status s = write_frame(w, f, last_in_packet);
  EXPECT_TRUE(s.is_ok()) << s.reason();
  EXPECT_EQ(w.position(), out.size());
  return out;
}

// Parses from a heap buffer sized exactly to `bytes`, so that the sanitizer
// build catches any read past the end. Only the status is meaningful after
// return (the frame's spans point into the freed copy).
Status parse_copy_status(const std::vector<uint8_t>& bytes) {
  auto* copy = new uint8_t[bytes.size() ? bytes.size() : 1];
  std::copy(bytes.begin(), bytes.end(), copy);
  Reader r(Bytes(copy, bytes.size()));
  Result<Frame> f = parse_frame(r);
  Status s = f.status();
  delete[] copy;
  return s;
}

// One frame per wire type with edge values, and its hand-computed encoding.
struct Vector {
  std::string name;
  Frame frame;
  bool last_in_packet;
  const char* hex;
};

std::vector<Vector> vectors() {
  std::vector<Vector> v;
  auto add = [&](const char* name, const Frame& f, const char* hex, bool last = false) {
    v.push_back(Vector{name, f, last, hex});
  };
  Frame f;

  f = make(FrameType::kPadding);
  f.padding.length = 1;
  add("padding", f, "00");
  add("ping", make(FrameType::kPing), "01");
  add("handshake_done", make(FrameType::kHandshakeDone), "1e");

  f = make(FrameType::kResetStream);
  f.reset_stream = {kVarintMax, 0, 16384};
  add("reset_stream", f, "04 ffffffffffffffff 00 80004000");
  f = make(FrameType::kStopSending);
  f.stop_sending = {63, 64};
  add("stop_sending", f, "05 3f 4040");

  f = make(FrameType::kCrypto);
  f.crypto = {0, Bytes(kAbc)};
  add("crypto", f, "06 00 03 aabbcc");
  f.crypto = {kVarintMax - 3, Bytes(kAbc)};  // ends exactly at 2^62-1
  add("crypto_max_offset", f, "06 fffffffffffffffc 03 aabbcc");

  f = make(FrameType::kNewToken);
  f.new_token = {Bytes(kAbc)};
  add("new_token", f, "07 03 aabbcc");

  f = make(FrameType::kStream);
  f.stream = {4, 0, Bytes(kHello), true};
  add("stream_len_fin", f, "0b 04 05 68656c6c6f");
  f.stream = {4, 1000, Bytes(kHello), false};
  add("stream_off_len", f, "0e 04 43e8 05 68656c6c6f");
  f.stream = {kVarintMax, 1000, Bytes(kHello), true};
  add("stream_off_fin_last", f, "0d ffffffffffffffff 43e8 68656c6c6f", true);
  f.stream = {0, 0, Bytes(), true};
  add("stream_empty_fin", f, "0b 00 00");
  f.stream = {0, 0, Bytes(kHello), false};
  add("stream_bare_last", f, "08 00 68656c6c6f", true);

  f = make(FrameType::kMaxData);
  f.max_data = {kVarintMax};
  add("max_data", f, "10 ffffffffffffffff");
  f = make(FrameType::kMaxStreamData);
  f.max_stream_data = {0, 0};
  add("max_stream_data", f, "11 00 00");
  f = make(FrameType::kMaxStreamsBidi);
  f.max_streams = {kMaxStreamCount};
  add("max_streams_bidi", f, "12 d000000000000000");
  f = make(FrameType::kMaxStreamsUni);
  f.max_streams = {0};
  add("max_streams_uni", f, "13 00");
  f = make(FrameType::kDataBlocked);
  f.data_blocked = {k2p30 - 1};
  add("data_blocked", f, "14 bfffffff");
  f = make(FrameType::kStreamDataBlocked);
  f.stream_data_blocked = {1, k2p30};
  add("stream_data_blocked", f, "15 01 c000000040000000");
  f = make(FrameType::kStreamsBlockedBidi);
  f.streams_blocked = {kMaxStreamCount};
  add("streams_blocked_bidi", f, "16 d000000000000000");
  f = make(FrameType::kStreamsBlockedUni);
  f.streams_blocked = {1};
  add("streams_blocked_uni", f, "17 01");

  f = make(FrameType::kNewConnectionId);
  f.new_connection_id = {1, 1, Bytes(kCid8), Bytes(kToken16)};  // retire_prior_to == sequence is allowed
  add("new_connection_id", f, "18 01 01 08 0102030405060708 000102030405060708090a0b0c0d0e0f");
  f.new_connection_id = {16383, 0, Bytes(kCid21, 20), Bytes(kToken16)};
  add("new_connection_id_20", f,
      "18 7fff 00 14 0000000000000000000000000000000000000000 000102030405060708090a0b0c0d0e0f");
  f = make(FrameType::kRetireConnectionId);
  f.retire_connection_id = {16383};
  add("retire_connection_id", f, "19 7fff");
  f = make(FrameType::kPathChallenge);
  f.path = {Bytes(kPath8)};
  add("path_challenge", f, "1a 0001020304050607");
  f.type = FrameType::kPathResponse;
  add("path_response", f, "1b 0001020304050607");

  f = make(FrameType::kConnectionClose);
  f.connection_close = {0x0a, 0x08, Bytes(kAbc)};
  add("connection_close", f, "1c 0a 08 03 aabbcc");
  f.connection_close = {0x128, 0x06, Bytes()};  // CRYPTO_ERROR for TLS alert 40
  add("connection_close_crypto", f, "1c 4128 06 00");
  f = make(FrameType::kConnectionCloseApp);
  f.connection_close = {kVarintMax, 0, Bytes(kAbc)};
  add("connection_close_app", f, "1d ffffffffffffffff 03 aabbcc");

  f = make(FrameType::kDatagram);
  f.datagram = {Bytes(kAbc)};
  add("datagram_len", f, "31 03 aabbcc");
  add("datagram_last", f, "30 aabbcc", true);
  f.datagram = {Bytes()};
  add("datagram_empty", f, "31 00");
  return v;
}

// ACK frames come from write_ack or the parser, not from fields; these are
// hand-encoded: largest 100, ranges [98,100] [89,93] [87,87].
const char* const kAckHex = "02 4064 00 02 02 03 04 00 00";
const char* const kAckEcnHex = "03 4064 00 02 02 03 04 00 00 01 02 03";
const Range kAckRanges[] = {{98, 100}, {89, 93}, {87, 87}};

std::vector<Range> collect(const AckFrame& a) {
  std::vector<Range> out;
  for (Range r : a.ranges()) out.push_back(r);
  return out;
}

// The frame borrows from `bytes`, so they must outlive it: no temporaries.
Result<Frame> parse_one(std::vector<uint8_t>&&, size_t* = nullptr) = delete;
Result<Frame> parse_one(const std::vector<uint8_t>& bytes, size_t* consumed = nullptr) {
  Reader r(as_bytes(bytes));
  Result<Frame> f = parse_frame(r);
  if (consumed) *consumed = r.position();
  return f;
}

ErrorCode parse_error(const char* hex) {
  auto bytes = from_hex(hex);
  Status s = parse_copy_status(bytes);
  return s.code();
}

TEST(Frame, EncodeMatchesHandComputedBytes) {
  for (const Vector& v : vectors()) {
    auto bytes = encode(v.frame, v.last_in_packet);
    EXPECT_EQ(to_hex(as_bytes(bytes)), to_hex(as_bytes(from_hex(v.hex)))) << v.name;
    EXPECT_EQ(frame_size(v.frame, v.last_in_packet), from_hex(v.hex).size()) << v.name;
  }
}

TEST(Frame, ParseThenEncodeRoundTrips) {
  for (const Vector& v : vectors()) {
    auto bytes = from_hex(v.hex);
    size_t consumed = 0;
    auto f = parse_one(bytes, &consumed);
    ASSERT_TRUE(f.is_ok()) << v.name << ": " << f.status().reason();
    EXPECT_EQ(consumed, bytes.size()) << v.name;
    EXPECT_EQ(f->type, v.frame.type) << v.name;
    EXPECT_EQ(to_hex(as_bytes(encode(*f, v.last_in_packet))), to_hex(as_bytes(bytes))) << v.name;
  }
  for (const char* hex : {kAckHex, kAckEcnHex}) {
    auto bytes = from_hex(hex);
    auto f = parse_one(bytes);
    ASSERT_TRUE(f.is_ok());
    EXPECT_EQ(to_hex(as_bytes(encode(*f))), to_hex(as_bytes(bytes)));
  }
}

TEST(Frame, ParsedFieldsBorrowFromThePayload) {
  auto bytes = from_hex("0e 04 43e8 05 68656c6c6f");
  auto f = parse_one(bytes);
  ASSERT_TRUE(f.is_ok());
  ASSERT_EQ(f->type, FrameType::kStream);
  EXPECT_EQ(f->stream.stream_id, 4u);
  EXPECT_EQ(f->stream.offset, 1000u);
  EXPECT_FALSE(f->stream.fin);
  EXPECT_EQ(f->stream.data.data(), bytes.data() + 5);
  EXPECT_EQ(f->stream.data.size(), 5u);

  bytes = from_hex("18 05 02 04 a1a2a3a4 000102030405060708090a0b0c0d0e0f");
  auto ncid = parse_one(bytes);
  ASSERT_TRUE(ncid.is_ok());
  EXPECT_EQ(ncid->new_connection_id.sequence, 5u);
  EXPECT_EQ(ncid->new_connection_id.retire_prior_to, 2u);
  EXPECT_EQ(ncid->new_connection_id.cid.data(), bytes.data() + 4);
  EXPECT_EQ(ncid->new_connection_id.cid.size(), 4u);
  EXPECT_EQ(ncid->new_connection_id.stateless_reset_token.data(), bytes.data() + 8);

  bytes = from_hex("1c 0a 1f 03 626164");
  auto close = parse_one(bytes);
  ASSERT_TRUE(close.is_ok());
  EXPECT_EQ(close->connection_close.error_code, 0x0au);
  EXPECT_EQ(close->connection_close.frame_type, 0x1fu);  // any type may be named, even unknown ones
  EXPECT_EQ(close->connection_close.reason.data(), bytes.data() + 4);
}

TEST(Frame, StreamTypeBitsAllEightVariants) {
  for (uint8_t bits = 0; bits < 8; ++bits) {
    std::vector<uint8_t> bytes = {static_cast<uint8_t>(0x08 | bits), 0x01};
    if (bits & 0x04) bytes.push_back(0x07);  // offset 7
    if (bits & 0x02) bytes.push_back(0x02);  // length 2
    bytes.push_back(0xaa);
    bytes.push_back(0xbb);
    auto f = parse_one(bytes);
    ASSERT_TRUE(f.is_ok()) << int(bits);
    EXPECT_EQ(f->type, FrameType::kStream);
    EXPECT_EQ(f->stream.stream_id, 1u);
    EXPECT_EQ(f->stream.offset, (bits & 0x04) ? 7u : 0u);
    EXPECT_EQ(f->stream.fin, (bits & 0x01) != 0);
    EXPECT_EQ(to_hex(f->stream.data), "aabb");
  }
}

TEST(Frame, LengthlessFramesExtendToTheEnd) {
  // STREAM without LEN and DATAGRAM 0x30 take the rest of the packet, even
  // when that is nothing.
  auto bytes = from_hex("08 00 aabbcc 01 02");
  size_t consumed = 0;
  auto f = parse_one(bytes, &consumed);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(consumed, bytes.size());
  EXPECT_EQ(to_hex(f->stream.data), "aabbcc0102");
  auto bare = from_hex("08 00");
  auto empty_stream = parse_one(bare);
  ASSERT_TRUE(empty_stream.is_ok());
  EXPECT_TRUE(empty_stream->stream.data.empty());
  auto dgram = from_hex("30");
  auto datagram = parse_one(dgram);
  ASSERT_TRUE(datagram.is_ok());
  EXPECT_EQ(datagram->type, FrameType::kDatagram);
  EXPECT_TRUE(datagram->datagram.data.empty());
}

TEST(Frame, PaddingRunCollapses) {
  auto bytes = from_hex("00000000 01 00");
  Reader r(as_bytes(bytes));
  auto f = parse_frame(r);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->type, FrameType::kPadding);
  EXPECT_EQ(f->padding.length, 4u);
  auto ping = parse_frame(r);
  ASSERT_TRUE(ping.is_ok());
  EXPECT_EQ(ping->type, FrameType::kPing);
  auto pad1 = parse_frame(r);
  ASSERT_TRUE(pad1.is_ok());
  EXPECT_EQ(pad1->padding.length, 1u);
  EXPECT_TRUE(r.empty());

  // A run to the end of the payload, as a padded Initial ends.
  auto tail = from_hex("01 000000");
  Reader r2(as_bytes(tail));
  ASSERT_TRUE(parse_frame(r2).is_ok());
  auto run = parse_frame(r2);
  ASSERT_TRUE(run.is_ok());
  EXPECT_EQ(run->padding.length, 3u);
  EXPECT_TRUE(r2.empty());

  Frame pad = make(FrameType::kPadding);
  pad.padding.length = 5;
  EXPECT_EQ(to_hex(as_bytes(encode(pad))), "0000000000");
}

// Every prefix of every encoding fails with FRAME_ENCODING_ERROR, reading
// only inside the prefix (a heap copy of exactly that size).
TEST(Frame, EveryTruncatedPrefixIsFrameEncodingError) {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> cases;
  for (const Vector& v : vectors()) {
    if (v.last_in_packet) continue;  // their prefixes are shorter valid frames, see below
    cases.emplace_back(v.name, from_hex(v.hex));
  }
  cases.emplace_back("ack", from_hex(kAckHex));
  cases.emplace_back("ack_ecn", from_hex(kAckEcnHex));
  size_t checked = 0;
  for (const auto& [name, full] : cases) {
    ASSERT_TRUE(parse_copy_status(full).is_ok()) << name;
    for (size_t n = 0; n < full.size(); ++n) {
      std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
      // The empty prefix is a payload without frames (§12.4).
      EXPECT_EQ(parse_copy_status(prefix).code(),
                n == 0 ? ErrorCode::kProtocolViolation : ErrorCode::kFrameEncodingError)
          << name << " prefix " << n;
      ++checked;
    }
  }
  EXPECT_GT(checked, 250u);

  // Length-less frames: the fields before the data cannot be cut short.
  auto full = from_hex("0d ffffffffffffffff 43e8 68656c6c6f");
  for (size_t n = 1; n < 11; ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    EXPECT_EQ(parse_copy_status(prefix).code(), ErrorCode::kFrameEncodingError) << n;
  }
  EXPECT_EQ(parse_error(""), ErrorCode::kProtocolViolation);  // §12.4: no frames
}

TEST(Frame, UnknownTypeIsFrameEncodingError) {
  std::vector<uint64_t> unknown = {0x1f, 0x40, 0x3fff, 0x4000, 0xaf, kVarintMax};
  for (uint64_t t = 0x20; t < 0x30; ++t) unknown.push_back(t);
  for (uint64_t t = 0x32; t < 0x40; ++t) unknown.push_back(t);
  for (uint64_t t : unknown) {
    uint8_t buf[16] = {};
    Writer w(MutBytes(buf, sizeof buf));
    ASSERT_TRUE(write_varint(w, t).is_ok());
    std::vector<uint8_t> bytes(buf, buf + sizeof buf);  // followed by zeros, as if fields
    EXPECT_EQ(parse_copy_status(bytes).code(), ErrorCode::kFrameEncodingError) << t;
  }
}

TEST(Frame, NonMinimalTypeIsProtocolViolation) {
  EXPECT_EQ(parse_error("4001"), ErrorCode::kProtocolViolation);  // RFC 9000 §12.4's own example
  EXPECT_EQ(parse_error("4000"), ErrorCode::kProtocolViolation);
  EXPECT_EQ(parse_error("80000006 00 00"), ErrorCode::kProtocolViolation);
  EXPECT_EQ(parse_error("c000000000000030"), ErrorCode::kProtocolViolation);
  EXPECT_EQ(parse_error("401f"), ErrorCode::kProtocolViolation);  // unknown, and too long
  EXPECT_EQ(parse_error("4040"), ErrorCode::kFrameEncodingError);  // 0x40 minimally encoded, unknown
  EXPECT_EQ(parse_error("40"), ErrorCode::kFrameEncodingError);    // truncated type
}

TEST(Frame, StreamAndCryptoEndBeyond2To62) {
  // RFC 9000 §19.8, §19.6: offset + length > 2^62-1.
  EXPECT_EQ(parse_error("0e 04 ffffffffffffffff 01 aa"), ErrorCode::kFrameEncodingError);
  EXPECT_EQ(parse_error("0c 04 ffffffffffffffff aa"), ErrorCode::kFrameEncodingError);
  EXPECT_EQ(parse_error("0e 04 fffffffffffffffe 02 aabb"), ErrorCode::kFrameEncodingError);
  EXPECT_EQ(parse_error("0e 04 fffffffffffffffe 01 aa"), ErrorCode::kNoError);
  EXPECT_EQ(parse_error("0c 04 ffffffffffffffff"), ErrorCode::kNoError);  // empty at the limit
  EXPECT_EQ(parse_error("06 ffffffffffffffff 01 aa"), ErrorCode::kFrameEncodingError);
  EXPECT_EQ(parse_error("06 fffffffffffffffe 01 aa"), ErrorCode::kNoError);
}

TEST(Frame, StreamCountAbove2To60) {
  // RFC 9000 §19.11, §19.14.
  for (const char* type : {"12", "13", "16", "17"}) {
    EXPECT_EQ(parse_error((std::string(type) + "d000000000000001").c_str()), ErrorCode::kFrameEncodingError)
        << type;
    EXPECT_EQ(parse_error((std::string(type) + "d000000000000000").c_str()), ErrorCode::kNoError) << type;
  }
}

TEST(Frame, NewConnectionIdRules) {
  const std::string token = "000102030405060708090a0b0c0d0e0f";
  // RFC 9000 §19.15: length 0 or above 20, Retire Prior To above Sequence.
  EXPECT_EQ(parse_error(("18 01 00 00" + token).c_str()), ErrorCode::kFrameEncodingError);
  EXPECT_EQ(parse_error(("18 01 00 15" + std::string(42, '0') + token).c_str()), ErrorCode::kFrameEncodingError);
  EXPECT_EQ(parse_error(("18 01 00 14" + std::string(40, '0') + token).c_str()), ErrorCode::kNoError);
  EXPECT_EQ(parse_error(("18 01 02 01 aa" + token).c_str()), ErrorCode::kFrameEncodingError);
  EXPECT_EQ(parse_error(("18 01 01 01 aa" + token).c_str()), ErrorCode::kNoError);
}

TEST(Frame, EmptyNewTokenIsFrameEncodingError) {
  EXPECT_EQ(parse_error("07 00"), ErrorCode::kFrameEncodingError);  // RFC 9000 §19.7
}

TEST(Ack, RangesIterateDescending) {
  auto ack_bytes = from_hex(kAckHex);
  auto f = parse_one(ack_bytes);
  ASSERT_TRUE(f.is_ok());
  ASSERT_EQ(f->type, FrameType::kAck);
  EXPECT_EQ(f->ack.largest_acked, 100u);
  EXPECT_EQ(f->ack.ack_delay, 0u);
  EXPECT_EQ(f->ack.range_count, 2u);
  EXPECT_EQ(collect(f->ack), std::vector<Range>(std::begin(kAckRanges), std::end(kAckRanges)));

  auto ecn_bytes = from_hex(kAckEcnHex);

  auto ecn_ack = parse_one(ecn_bytes);
  ASSERT_TRUE(ecn_ack.is_ok());
  ASSERT_EQ(ecn_ack->type, FrameType::kAckEcn);
  EXPECT_EQ(ecn_ack->ack.ecn, (EcnCounts{1, 2, 3}));
  EXPECT_EQ(collect(ecn_ack->ack).size(), 3u);

  // Down to packet 0 exactly: [10,10] then gap 0 -> hi 8, length 8 -> [0,8].
  auto zero_bytes = from_hex("02 0a 05 01 00 00 08");
  auto to_zero = parse_one(zero_bytes);
  ASSERT_TRUE(to_zero.is_ok());
  EXPECT_EQ(to_zero->ack.ack_delay, 5u);
  EXPECT_EQ(collect(to_zero->ack), (std::vector<Range>{{10, 10}, {0, 8}}));
  // A single range covering everything from 0.
  auto single_bytes = from_hex("02 05 00 00 05");
  auto single = parse_one(single_bytes);
  ASSERT_TRUE(single.is_ok());
  EXPECT_EQ(collect(single->ack), (std::vector<Range>{{0, 5}}));
}

TEST(Ack, RangeUnderflowIsFrameEncodingError) {
  // RFC 9000 §19.3.1: a computed packet number below 0.
  EXPECT_EQ(parse_error("02 05 00 00 06"), ErrorCode::kFrameEncodingError);        // first range
  EXPECT_EQ(parse_error("02 05 00 01 05 00 00"), ErrorCode::kFrameEncodingError);  // gap from 0
  EXPECT_EQ(parse_error("02 01 00 01 00 00 00"), ErrorCode::kFrameEncodingError);  // gap: 1 - 0 - 2
  EXPECT_EQ(parse_error("02 02 00 01 00 00 00"), ErrorCode::kNoError);             // gap to exactly 0
  EXPECT_EQ(parse_error("02 0a 00 01 00 00 09"), ErrorCode::kFrameEncodingError);  // length
  EXPECT_EQ(parse_error("02 0a 00 01 00 09 00"), ErrorCode::kFrameEncodingError);  // gap of 9 below 10
  // A huge Range Count runs out of bytes instead of looping.
  EXPECT_EQ(parse_error("02 43e8 00 bfffffff 00 0000 0000 0000"), ErrorCode::kFrameEncodingError);
}

TEST(Ack, WriteExactBytes) {
  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  auto n = write_ack(w, kAckRanges, 0);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(to_hex(w.written()), to_hex(as_bytes(from_hex(kAckHex))));
  EXPECT_EQ(ack_frame_size(kAckRanges, 0), w.position());

  EcnCounts ecn{1, 2, 3};
  Writer w2(MutBytes(buf, sizeof buf));
  auto n_ecn = write_ack(w2, kAckRanges, 0, &ecn);
  ASSERT_TRUE(n_ecn.is_ok());
  EXPECT_EQ(to_hex(w2.written()), to_hex(as_bytes(from_hex(kAckEcnHex))));
  EXPECT_EQ(ack_frame_size(kAckRanges, 0, &ecn), w2.position());

  Writer w3(MutBytes(buf, sizeof buf));
  const Range one[] = {{0, 0}};
  ASSERT_TRUE(write_ack(w3, one, 16384).is_ok());
  EXPECT_EQ(to_hex(w3.written()), "02" "00" "80004000" "00" "00");
}

// Ranges of single numbers separated by gaps of one, so each pair is two
// bytes; 70 of them cross the one-byte Range Count limit (63).
std::vector<Range> many_ranges(size_t count) {
  std::vector<Range> v;
  for (size_t i = 0; i < count; ++i) {
    uint64_t hi = 100000 - 3 * i;
    v.push_back(Range{hi, hi});
  }
  return v;
}

TEST(Ack, WritePartialFitNeverOverfills) {
  for (const std::vector<Range>& ranges : {std::vector<Range>(std::begin(kAckRanges), std::end(kAckRanges)),
                                           many_ranges(70)}) {
    std::span<const Range> all(ranges);
    EcnCounts ecn{5, 0, 70000};
    for (const EcnCounts* e : {static_cast<const EcnCounts*>(nullptr), static_cast<const EcnCounts*>(&ecn)}) {
      size_t full = ack_frame_size(all, 300, e);
      for (size_t room = 0; room <= full + 2; ++room) {
        // The answer: the most leading ranges whose frame fits.
        size_t best = 0;
        for (size_t k = 1; k <= all.size(); ++k)
          if (ack_frame_size(all.first(k), 300, e) <= room) best = k;
        std::vector<uint8_t> buf(room + 8, 0xee);
        Writer w(MutBytes(buf.data(), room));
        auto n = write_ack(w, all, 300, e);
        if (best == 0) {
          EXPECT_EQ(n.status().code(), ErrorCode::kBufferTooSmall) << room;
          EXPECT_EQ(w.position(), 0u);
          continue;
        }
        ASSERT_TRUE(n.is_ok()) << room;
        EXPECT_EQ(*n, best) << room;
        EXPECT_EQ(w.position(), ack_frame_size(all.first(best), 300, e)) << room;
        EXPECT_LE(w.position(), room);
        EXPECT_EQ(buf[room], 0xee);
        Reader r(w.written());
        auto f = parse_frame(r);
        ASSERT_TRUE(f.is_ok()) << room;
        EXPECT_TRUE(r.empty());
        EXPECT_EQ(f->type, e ? FrameType::kAckEcn : FrameType::kAck);
        EXPECT_EQ(f->ack.ack_delay, 300u);
        if (e) {
          EXPECT_EQ(f->ack.ecn, ecn);
        }
        EXPECT_EQ(collect(f->ack), std::vector<Range>(ranges.begin(), ranges.begin() + best)) << room;
      }
    }
  }
  // The Range Count crossing 63 costs a byte: 64 ranges need 1 more than
  // 63 ranges' pairs alone suggest.
  auto ranges = many_ranges(70);
  std::span<const Range> all(ranges);
  EXPECT_EQ(ack_frame_size(all.first(64), 0), ack_frame_size(all.first(1), 0) + 63 * 2);
  EXPECT_EQ(ack_frame_size(all.first(65), 0), ack_frame_size(all.first(1), 0) + 64 * 2 + 1);
}

TEST(Ack, WriteRejectsMalformedRanges) {
  uint8_t buf[64];
  auto code = [&](std::vector<Range> ranges, uint64_t delay = 0) {
    Writer w(MutBytes(buf, sizeof buf));
    auto n = write_ack(w, ranges, delay);
    EXPECT_EQ(w.position(), 0u);
    EXPECT_EQ(ack_frame_size(ranges, delay), 0u);
    return n.status().code();
  };
  EXPECT_EQ(code({}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({{5, 4}}), ErrorCode::kInvalidArgument);                     // lo > hi
  EXPECT_EQ(code({{5, 6}, {3, 4}}), ErrorCode::kInvalidArgument);             // adjacent: no gap
  EXPECT_EQ(code({{5, 6}, {3, 5}}), ErrorCode::kInvalidArgument);             // overlapping
  EXPECT_EQ(code({{5, 6}, {8, 9}}), ErrorCode::kInvalidArgument);             // ascending
  EXPECT_EQ(code({{5, 6}, {1, 3}, {0, 0}}), ErrorCode::kInvalidArgument);     // third one adjacent
  EXPECT_EQ(code({{0, kVarintMax + 1}}), ErrorCode::kInvalidArgument);        // not a varint
  EXPECT_EQ(code({{0, 1}}, kVarintMax + 1), ErrorCode::kInvalidArgument);     // delay not a varint
  Writer w(MutBytes(buf, sizeof buf));
  const Range ok[] = {{5, 6}, {0, 3}};
  EXPECT_TRUE(write_ack(w, ok, 0).is_ok());
}

TEST(Stream, WriteFitsTheMostData) {
  static uint8_t data[100];
  for (size_t i = 0; i < sizeof data; ++i) data[i] = static_cast<uint8_t>(i);
  for (uint64_t offset : {uint64_t{0}, uint64_t{1000}}) {
    for (bool last : {false, true}) {
      StreamFrame sf{4, offset, Bytes(data), true};
      for (size_t room = 0; room <= 110; ++room) {
        // The answer: the longest prefix whose frame fits.
        size_t best = 0;
        bool any = false;
        for (size_t k = 0; k <= sizeof data; ++k) {
          Frame f = make(FrameType::kStream);
          f.stream = {4, offset, Bytes(data, k), k == sizeof data};
          if (frame_size(f, last) <= room && k > 0) best = k, any = true;
        }
        std::vector<uint8_t> buf(room + 4, 0xee);
        Writer w(MutBytes(buf.data(), room));
        auto n = write_stream(w, sf, last);
        if (!any) {
          EXPECT_EQ(n.status().code(), ErrorCode::kBufferTooSmall) << room;
          EXPECT_EQ(w.position(), 0u);
          continue;
        }
        ASSERT_TRUE(n.is_ok()) << room;
        EXPECT_EQ(*n, best) << "room " << room << " offset " << offset << " last " << last;
        EXPECT_LE(w.position(), room);
        EXPECT_EQ(buf[room], 0xee);
        if (last && best < sizeof data) {
          EXPECT_EQ(w.position(), room);  // no Length field: fills the room
        }
        Reader r(w.written());
        auto f = parse_frame(r);
        ASSERT_TRUE(f.is_ok());
        EXPECT_TRUE(r.empty());
        EXPECT_EQ(f->stream.offset, offset);
        EXPECT_EQ(f->stream.fin, best == sizeof data);
        EXPECT_EQ(to_hex(f->stream.data), to_hex(Bytes(data, best)));
      }
    }
  }
}

TEST(Stream, WriteHeaderForDataInPieces) {
  // write_stream_header, then the data the caller copies: a frame that
  // parses back to the same bytes; with a Length field unless the data
  // fills the room, and then carrying more than write_stream with one.
  static uint8_t data[100];
  for (size_t i = 0; i < sizeof data; ++i) data[i] = static_cast<uint8_t>(i * 7 + 1);
  for (uint64_t offset : {uint64_t{0}, uint64_t{5000}}) {
    for (size_t len : {size_t{0}, size_t{10}, size_t{63}, size_t{100}}) {
      for (size_t room = 0; room <= 110; ++room) {
        std::vector<uint8_t> buf(room + 4, 0xee);
        Writer w(MutBytes(buf.data(), room));
        auto n = write_stream_header(w, StreamFrame{4, offset, Bytes(), true}, len);
        std::vector<uint8_t> ref_buf(room);
        Writer ref(MutBytes(ref_buf.data(), room));
        auto with_length = write_stream(ref, StreamFrame{4, offset, Bytes(data, len), true}, false);
        if (!n) {
          EXPECT_EQ(n.status().code(), ErrorCode::kBufferTooSmall) << room;
          EXPECT_EQ(w.position(), 0u);
          EXPECT_FALSE(with_length.is_ok()) << room;
          continue;
        }
        ASSERT_LE(*n, len);
        ASSERT_TRUE(w.bytes(Bytes(data, *n)).is_ok()) << room << " " << *n;
        EXPECT_EQ(buf[room], 0xee);
        // Never fewer bytes than with a Length field, which needs room.
        EXPECT_GE(*n, with_length ? *with_length : 0) << room;
        if (*n < len) EXPECT_EQ(w.position(), room) << "no Length field: the data fills the room";
        Reader r(w.written());
        auto f = parse_frame(r);
        ASSERT_TRUE(f.is_ok()) << room;
        EXPECT_TRUE(r.empty());
        EXPECT_EQ(f->stream.stream_id, 4u);
        EXPECT_EQ(f->stream.offset, offset);
        EXPECT_EQ(f->stream.fin, *n == len);
        EXPECT_EQ(to_hex(f->stream.data), to_hex(Bytes(data, *n)));
      }
    }
  }
}

TEST(Stream, WriteLengthFieldWidthBoundary) {
  // Header 0x0a + stream id 4 = 2 bytes. 70 bytes of room hold 66 data
  // bytes behind a two-byte Length; 67 bytes hold only 63 (64 would need a
  // two-byte Length, 68 bytes in all).
  static const uint8_t data[100] = {};
  for (auto [room, want] : {std::pair<size_t, size_t>{70, 66}, {67, 63}, {66, 63}, {65, 62}, {3, 0}}) {
    std::vector<uint8_t> buf(room);
    Writer w(MutBytes(buf.data(), buf.size()));
    auto n = write_stream(w, StreamFrame{4, 0, Bytes(data), false}, false);
    if (want == 0) {
      EXPECT_EQ(n.status().code(), ErrorCode::kBufferTooSmall);
      continue;
    }
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(*n, want) << room;
  }
}

TEST(Stream, WriteEmptyFin) {
  uint8_t buf[3];
  Writer w(MutBytes(buf, sizeof buf));
  auto n = write_stream(w, StreamFrame{4, 0, Bytes(), true}, false);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(to_hex(w.written()), "0b0400");
  Writer small(MutBytes(buf, 2));
  EXPECT_EQ(write_stream(small, StreamFrame{4, 0, Bytes(), true}, false).status().code(),
            ErrorCode::kBufferTooSmall);
  Writer last(MutBytes(buf, 2));
  ASSERT_TRUE(write_stream(last, StreamFrame{4, 0, Bytes(), true}, true).is_ok());
  EXPECT_EQ(to_hex(last.written()), "0904");
}

TEST(Stream, WriteRefusesDataBeyond2To62) {
  uint8_t buf[32];
  Writer w(MutBytes(buf, sizeof buf));
  EXPECT_EQ(write_stream(w, StreamFrame{0, kVarintMax, Bytes(kAbc), false}, false).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.position(), 0u);
}

TEST(Crypto, WriteFitsTheMostData) {
  static uint8_t data[300];
  for (uint64_t offset : {uint64_t{0}, uint64_t{70000}}) {
    for (size_t room = 0; room <= 310; ++room) {
      size_t best = 0;
      for (size_t k = 1; k <= sizeof data; ++k) {
        Frame f = make(FrameType::kCrypto);
        f.crypto = {offset, Bytes(data, k)};
        if (frame_size(f) <= room) best = k;
      }
      std::vector<uint8_t> buf(room + 1);
      Writer w(MutBytes(buf.data(), room));
      auto n = write_crypto(w, CryptoFrame{offset, Bytes(data)});
      if (best == 0) {
        EXPECT_EQ(n.status().code(), ErrorCode::kBufferTooSmall) << room;
        continue;
      }
      ASSERT_TRUE(n.is_ok()) << room;
      EXPECT_EQ(*n, best) << room;
      Reader r(w.written());
      auto f = parse_frame(r);
      ASSERT_TRUE(f.is_ok());
      EXPECT_EQ(f->crypto.offset, offset);
      EXPECT_EQ(f->crypto.data.size(), best);
    }
  }
}

TEST(Frame, WriteRefusesWhatTheParserRejects) {
  uint8_t buf[64];
  auto code = [&](const Frame& f) {
    Writer w(MutBytes(buf, sizeof buf));
    Status s = write_frame(w, f);
    EXPECT_EQ(w.position(), 0u);
    EXPECT_EQ(frame_size(f), 0u);
    return s.code();
  };
  Frame f = make(FrameType::kNewToken);
  f.new_token = {Bytes()};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f = make(FrameType::kMaxStreamsUni);
  f.max_streams = {kMaxStreamCount + 1};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f = make(FrameType::kStreamsBlockedBidi);
  f.streams_blocked = {kMaxStreamCount + 1};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f = make(FrameType::kNewConnectionId);
  f.new_connection_id = {1, 0, Bytes(kCid21), Bytes(kToken16)};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f.new_connection_id = {1, 0, Bytes(), Bytes(kToken16)};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f.new_connection_id = {1, 2, Bytes(kCid8), Bytes(kToken16)};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f.new_connection_id = {1, 0, Bytes(kCid8), Bytes(kToken16, 15)};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f = make(FrameType::kPathChallenge);
  f.path = {Bytes(kPath8, 7)};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f = make(FrameType::kMaxData);
  f.max_data = {kVarintMax + 1};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f = make(FrameType::kCrypto);
  f.crypto = {kVarintMax, Bytes(kAbc)};
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
  f = make(static_cast<FrameType>(0x1f));
  EXPECT_EQ(code(f), ErrorCode::kInvalidArgument);
}

TEST(Frame, WriteTooSmallWritesNothing) {
  for (const Vector& v : vectors()) {
    size_t size = frame_size(v.frame, v.last_in_packet);
    ASSERT_GT(size, 0u) << v.name;
    std::vector<uint8_t> buf(size);
    for (size_t room = 0; room < size; ++room) {
      Writer w(MutBytes(buf.data(), room));
      EXPECT_EQ(write_frame(w, v.frame, v.last_in_packet).code(), ErrorCode::kBufferTooSmall) << v.name;
      EXPECT_EQ(w.position(), 0u);
    }
  }
}

// RFC 9001 §A.3: the server Initial's payload is an ACK of packet 0 and a
// CRYPTO frame carrying the 90-byte ServerHello.
TEST(Frame, Rfc9001ServerInitialPayload) {
  auto payload = from_hex(
      "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
      "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
      "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
      "020304");
  Reader r(as_bytes(payload));
  auto ack = parse_frame(r);
  ASSERT_TRUE(ack.is_ok());
  ASSERT_EQ(ack->type, FrameType::kAck);
  EXPECT_EQ(ack->ack.ack_delay, 0u);
  EXPECT_EQ(collect(ack->ack), (std::vector<Range>{{0, 0}}));
  auto crypto = parse_frame(r);
  ASSERT_TRUE(crypto.is_ok());
  ASSERT_EQ(crypto->type, FrameType::kCrypto);
  EXPECT_EQ(crypto->crypto.offset, 0u);
  EXPECT_EQ(crypto->crypto.data.size(), 90u);
  EXPECT_EQ(to_hex(crypto->crypto.data.first(4)), "02000056");  // ServerHello, 0x56 bytes
  EXPECT_TRUE(r.empty());

  // And our serializers produce the same bytes.
  std::vector<uint8_t> out(payload.size());
  Writer w(MutBytes(out.data(), out.size()));
  const Range zero[] = {{0, 0}};
  ASSERT_TRUE(write_ack(w, zero, 0).is_ok());
  auto n = write_crypto(w, crypto->crypto);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 90u);
  EXPECT_EQ(to_hex(w.written()), to_hex(as_bytes(payload)));
}

// RFC 9000 §12.4 Table 3 "Pkts" column (plus RFC 9221 §5 for DATAGRAM).
TEST(Rules, FramePermittedByPacketType) {
  struct {
    FrameType type;
    const char* pkts;  // Table 3 notation: I H 0 1, '_' where not permitted
  } table[] = {
      {FrameType::kPadding, "IH01"},           {FrameType::kPing, "IH01"},
      {FrameType::kAck, "IH_1"},               {FrameType::kAckEcn, "IH_1"},
      {FrameType::kResetStream, "__01"},       {FrameType::kStopSending, "__01"},
      {FrameType::kCrypto, "IH_1"},            {FrameType::kNewToken, "___1"},
      {FrameType::kStream, "__01"},            {FrameType::kMaxData, "__01"},
      {FrameType::kMaxStreamData, "__01"},     {FrameType::kMaxStreamsBidi, "__01"},
      {FrameType::kMaxStreamsUni, "__01"},     {FrameType::kDataBlocked, "__01"},
      {FrameType::kStreamDataBlocked, "__01"}, {FrameType::kStreamsBlockedBidi, "__01"},
      {FrameType::kStreamsBlockedUni, "__01"}, {FrameType::kNewConnectionId, "__01"},
      {FrameType::kRetireConnectionId, "__01"}, {FrameType::kPathChallenge, "__01"},
      {FrameType::kPathResponse, "___1"},      {FrameType::kConnectionClose, "IH01"},
      {FrameType::kConnectionCloseApp, "__01"}, {FrameType::kHandshakeDone, "___1"},
      {FrameType::kDatagram, "__01"},
  };
  const PacketType columns[] = {PacketType::kInitial, PacketType::kHandshake, PacketType::kZeroRtt,
                                PacketType::kOneRtt};
  for (const auto& row : table) {
    for (int c = 0; c < 4; ++c) {
      Status s = check_frame_permitted(row.type, columns[c]);
      ErrorCode want = row.pkts[c] == '_' ? ErrorCode::kProtocolViolation : ErrorCode::kNoError;
      EXPECT_EQ(s.code(), want) << "type " << int(row.type) << " column " << c;
    }
    EXPECT_EQ(check_frame_permitted(row.type, PacketType::kRetry).code(), ErrorCode::kProtocolViolation);
    EXPECT_EQ(check_frame_permitted(row.type, PacketType::kVersionNegotiation).code(),
              ErrorCode::kProtocolViolation);
  }
}

TEST(Rules, AckElicitingCongestionControlledProbing) {
  const FrameType all[] = {
      FrameType::kPadding,         FrameType::kPing,           FrameType::kAck,
      FrameType::kAckEcn,          FrameType::kResetStream,    FrameType::kStopSending,
      FrameType::kCrypto,          FrameType::kNewToken,       FrameType::kStream,
      FrameType::kMaxData,         FrameType::kMaxStreamData,  FrameType::kMaxStreamsBidi,
      FrameType::kMaxStreamsUni,   FrameType::kDataBlocked,    FrameType::kStreamDataBlocked,
      FrameType::kStreamsBlockedBidi, FrameType::kStreamsBlockedUni, FrameType::kNewConnectionId,
      FrameType::kRetireConnectionId, FrameType::kPathChallenge, FrameType::kPathResponse,
      FrameType::kConnectionClose, FrameType::kConnectionCloseApp, FrameType::kHandshakeDone,
      FrameType::kDatagram,
  };
  std::string not_eliciting, not_controlled, probing;
  for (FrameType t : all) {
    char name[8];
    std::snprintf(name, sizeof name, "%02x ", static_cast<unsigned>(t));
    if (!is_ack_eliciting(t)) not_eliciting += name;
    if (!is_congestion_controlled(t)) not_controlled += name;
    if (is_probing(t)) probing += name;
  }
  EXPECT_EQ(not_eliciting, "00 02 03 1c 1d ");
  EXPECT_EQ(not_controlled, "02 03 1c 1d ");
  EXPECT_EQ(probing, "00 18 1a 1b ");
}

}  // namespace
}  // namespace quicbed
