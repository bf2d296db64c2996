// The malformed-input matrix of RFC 9000 §12.4 and §19, one row per rule:
// a peer that authenticates (its packets sealed with the keys the TLS spy
// saw) sends frames that break the rule, in the packet type the row names,
// and the receiver must close with the error code the RFC prescribes for
// that rule, naming the offending frame type; its CONNECTION_CLOSE carries
// the same code to the peer. Rows cite their section. The fuzz-style test
// (conn_fuzz_test) checks that random frames only earn transport errors;
// this one checks that each rule earns the right one. Initial packets'
// rows are ForgedInitialTest's (conn_handshake_test).
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "conn_pair.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

// Frames as bytes: varints (a frame type below 0x40 is one byte) and raw
// bytes, e.g. Enc().v(0x08).v(64).b(0x61) is STREAM id 64 carrying "a".
struct Enc {
  Enc& v(uint64_t x) {
    uint8_t tmp[8];
    Writer w{MutBytes(tmp, sizeof tmp)};
    EXPECT_TRUE(write_varint(w, x).is_ok());
    out.insert(out.end(), tmp, tmp + w.position());
    return *this;
  }
  Enc& b(uint8_t x, size_t n = 1) {
    out.insert(out.end(), n, x);
    return *this;
  }
  // A NEW_CONNECTION_ID frame (§19.15) whose CID and token derive from `seq`.
  Enc& new_cid(uint64_t seq, uint64_t retire_prior_to, size_t cid_len = 8) {
    return v(0x18).v(seq).v(retire_prior_to).v(cid_len).b(static_cast<uint8_t>(0x50 + seq), cid_len).b(
        static_cast<uint8_t>(0xa0 + seq), 16);
  }
  Buf out;
};

enum class Level { kHandshake, kOneRtt };

struct Row {
  const char* name;
  const char* rule;  // the RFC section the row checks
  Dir to;            // kToServer: a hostile client; kToClient: a hostile server
  Level level;
  Buf frames;
  ErrorCode expected;
  uint64_t frame_type;  // in the CONNECTION_CLOSE; 0 for packet-level rules
  uint8_t reserved_bits = 0;
};
// gtest names a failing row by its name rather than its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.name << " (" << row.rule << ")"; }

class MalformedFrameTest : public ConnPairTest, public ::testing::WithParamInterface<Row> {
 protected:
  // Both sides have opened a bidirectional and a unidirectional stream
  // and sent 10 bytes on each: client streams 0 and 2, server streams 1
  // and 3 exist (§2.1), the next ones (4, 5, ...) do not.
  void establish_with_streams() {
    handshake();
    ASSERT_TRUE(confirmed());
    const Buf ten(10, 0x61);
    for (Endpoint* e : {&client_, &server_}) {
      for (StreamDir dir : {StreamDir::kBidi, StreamDir::kUni}) {
        auto id = e->conn->open_stream(dir);
        ASSERT_TRUE(id.is_ok());
        ASSERT_TRUE(e->conn->stream_write(*id, bytes_of(ten), false).is_ok());
      }
    }
    run_for(200 * kMs);
    expect_established();
  }

  // The receiver's CID: the Source Connection ID of its first Initial.
  Buf receiver_cid(Dir d) { return scid_of(d == kToServer ? kToClient : kToServer); }
  Buf scid_of(Dir sender) {
    auto h = parse_packet_header(bytes_of(sent_[sender][0]), HeaderParseOptions{});
    EXPECT_TRUE(h.is_ok());
    return h ? Buf(h->scid.begin(), h->scid.end()) : Buf();
  }

  // `row`'s packet, sealed as the sender of `row.to` would seal it.
  Buf forge(const Row& row) {
    Endpoint& sender = from(row.to);
    const Buf dcid = receiver_cid(row.to);
    if (row.level == Level::kOneRtt) {
      const auto& key = sender.tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
      // Packet numbers far beyond the real ones; no padding, so that a
      // truncated last frame stays truncated.
      return forge_one_rtt(sender.crypto, key, bytes_of(dcid), 1 << 20, row.frames, 0, row.reserved_bits);
    }
    const auto& key = sender.tls->secrets.at({EncryptionLevel::kHandshake, KeyDirection::kWrite});
    const Buf scid = scid_of(row.to);
    return forge_handshake(sender.crypto, key, bytes_of(dcid), bytes_of(scid), 1000, row.frames, row.reserved_bits);
  }
};

TEST_P(MalformedFrameTest, ClosesWithTheRfcError) {
  const Row& row = GetParam();
  if (row.level == Level::kOneRtt) {
    establish_with_streams();
  } else {
    // The receiver still has Handshake keys: the server until the
    // client's Finished arrives (RFC 9001 §4.9.2), the client until
    // HANDSHAKE_DONE. Both sides' Handshake write keys are known once the
    // client has them; the server then has not yet seen its Finished.
    start();
    run_until(
        [&] {
          return client_.tls->secrets.count({EncryptionLevel::kHandshake, KeyDirection::kWrite}) > 0 &&
                 server_.tls->secrets.count({EncryptionLevel::kHandshake, KeyDirection::kWrite}) > 0;
        },
        kSec);
    ASSERT_FALSE(server_.conn->handshake_complete());
    ASSERT_FALSE(client_.conn->handshake_confirmed());
  }
  ASSERT_FALSE(HasFatalFailure());
  Endpoint& receiver = to(row.to);
  Endpoint& sender = from(row.to);
  deliver(row.to, forge(row));

  ASSERT_EQ(receiver.events.closes, 1) << row.rule << ": not closed";
  EXPECT_EQ(receiver.conn->state(), Connection::State::kClosing);
  EXPECT_EQ(receiver.events.source, CloseInfo::Source::kLocal);
  EXPECT_FALSE(receiver.events.application);
  EXPECT_EQ(receiver.events.error_code, static_cast<uint64_t>(row.expected))
      << row.rule << ": closed with 0x" << std::hex << receiver.events.error_code << " (" << receiver.events.reason
      << ")";
  EXPECT_EQ(receiver.events.frame_type, row.frame_type) << row.rule;
  // The peer hears the same code and frame type (§10.2.3, §19.19).
  run_until([&] { return sender.events.closes > 0; }, now_ + kSec);
  ASSERT_EQ(sender.events.closes, 1) << row.rule << ": the peer heard no CONNECTION_CLOSE";
  EXPECT_EQ(sender.events.source, CloseInfo::Source::kPeer);
  EXPECT_EQ(sender.events.error_code, static_cast<uint64_t>(row.expected));
  EXPECT_EQ(sender.events.frame_type, row.frame_type);
}

constexpr uint64_t k2to60 = uint64_t{1} << 60;
constexpr uint64_t kWindow = 256 << 10;  // default_params()' stream windows
constexpr auto kPv = ErrorCode::kProtocolViolation;
constexpr auto kFee = ErrorCode::kFrameEncodingError;
constexpr auto kSse = ErrorCode::kStreamStateError;
constexpr auto kFce = ErrorCode::kFlowControlError;
constexpr auto kFse = ErrorCode::kFinalSizeError;
constexpr auto kOne = Level::kOneRtt;
constexpr auto kHs = Level::kHandshake;

// Four streams of the connection filled to their window, a fifth beyond
// the connection's (default_params(): 1 MiB = 4 stream windows).
Buf beyond_connection_window() {
  Enc e;
  for (uint64_t id = 0; id <= 16; id += 4) e.v(0x0e).v(id).v(kWindow - 1).v(1).b(0x61);
  return e.out;
}

// Five CIDs with the ones the peer issued (up to our limit of 4, §5.1.1).
Buf too_many_cids() {
  Enc e;
  for (uint64_t seq = 4; seq < 9; ++seq) e.new_cid(seq, 0);
  return e.out;
}

const Row kRows[] = {
    // ---- Who may send a frame (§19.7, §19.20) and in which packet (§12.4 Table 3).
    {"HandshakeDoneFromClient", "RFC 9000 §19.20", kToServer, kOne, Enc().v(0x1e).out, kPv, 0x1e},
    {"NewTokenFromClient", "RFC 9000 §19.7", kToServer, kOne, Enc().v(0x07).v(1).b(0xaa).out, kPv, 0x07},
    {"StreamInHandshake", "RFC 9000 §12.4 Table 3", kToServer, kHs, Enc().v(0x08).v(0).b(0x61).out, kPv, 0x08},
    {"MaxDataInHandshake", "RFC 9000 §12.4 Table 3", kToServer, kHs, Enc().v(0x10).v(5000).out, kPv, 0x10},
    {"NewConnectionIdInHandshake", "RFC 9000 §12.4 Table 3", kToClient, kHs, Enc().new_cid(1, 0).out, kPv, 0x18},
    {"HandshakeDoneInHandshake", "RFC 9000 §12.4 Table 3", kToClient, kHs, Enc().v(0x1e).out, kPv, 0x1e},
    {"NewTokenInHandshake", "RFC 9000 §12.4 Table 3", kToClient, kHs, Enc().v(0x07).v(1).b(0xaa).out, kPv, 0x07},
    {"DatagramNotNegotiated", "RFC 9221 §3", kToServer, kOne, Enc().v(0x31).v(1).b(0x61).out, kPv, 0x31},
    // ---- Stream limits and stream directions (§4.6, §19.4-§19.13).
    {"BidiStreamBeyondLimit", "RFC 9000 §4.6", kToServer, kOne, Enc().v(0x08).v(64).b(0x61).out,
     ErrorCode::kStreamLimitError, 0x08},
    {"UniStreamBeyondLimit", "RFC 9000 §4.6", kToServer, kOne, Enc().v(0x08).v(66).b(0x61).out,
     ErrorCode::kStreamLimitError, 0x08},
    {"ServerBidiStreamBeyondLimit", "RFC 9000 §4.6", kToClient, kOne, Enc().v(0x08).v(65).b(0x61).out,
     ErrorCode::kStreamLimitError, 0x08},
    {"MaxStreamDataBeyondLimit", "RFC 9000 §4.6", kToServer, kOne, Enc().v(0x11).v(64).v(100).out,
     ErrorCode::kStreamLimitError, 0x11},
    {"StreamOnSendOnlyStream", "RFC 9000 §19.8", kToServer, kOne, Enc().v(0x08).v(3).b(0x61).out, kSse, 0x08},
    {"StreamOnUncreatedLocalStream", "RFC 9000 §19.8", kToServer, kOne, Enc().v(0x08).v(5).b(0x61).out, kSse, 0x08},
    {"StreamOnUncreatedClientStream", "RFC 9000 §19.8", kToClient, kOne, Enc().v(0x08).v(4).b(0x61).out, kSse, 0x08},
    {"ResetStreamOnSendOnlyStream", "RFC 9000 §19.4", kToServer, kOne, Enc().v(0x04).v(3).v(0).v(0).out, kSse, 0x04},
    {"ResetStreamOnClientSendOnly", "RFC 9000 §19.4", kToClient, kOne, Enc().v(0x04).v(2).v(0).v(0).out, kSse, 0x04},
    {"StopSendingOnReceiveOnlyStream", "RFC 9000 §19.5", kToServer, kOne, Enc().v(0x05).v(2).v(0).out, kSse, 0x05},
    {"StopSendingOnUncreatedLocalStream", "RFC 9000 §19.5", kToServer, kOne, Enc().v(0x05).v(5).v(0).out, kSse,
     0x05},
    {"MaxStreamDataOnReceiveOnlyStream", "RFC 9000 §19.10", kToServer, kOne, Enc().v(0x11).v(2).v(5000).out, kSse,
     0x11},
    {"MaxStreamDataOnServerUniStream", "RFC 9000 §19.10", kToClient, kOne, Enc().v(0x11).v(3).v(5000).out, kSse,
     0x11},
    {"MaxStreamDataOnUncreatedLocalStream", "RFC 9000 §19.10", kToServer, kOne, Enc().v(0x11).v(5).v(5000).out, kSse,
     0x11},
    {"StreamDataBlockedOnSendOnlyStream", "RFC 9000 §19.13", kToServer, kOne, Enc().v(0x15).v(3).v(0).out, kSse,
     0x15},
    // ---- Flow control (§4.1) and final sizes (§4.5).
    {"StreamBeyondStreamWindow", "RFC 9000 §4.1", kToServer, kOne, Enc().v(0x0e).v(0).v(kWindow).v(1).b(0x61).out,
     kFce, 0x0e},
    {"ServerStreamBeyondStreamWindow", "RFC 9000 §4.1", kToClient, kOne,
     Enc().v(0x0e).v(1).v(kWindow).v(1).b(0x61).out, kFce, 0x0e},
    {"StreamsBeyondConnectionWindow", "RFC 9000 §4.1", kToServer, kOne, beyond_connection_window(), kFce, 0x0e},
    {"ResetStreamBeyondStreamWindow", "RFC 9000 §4.5", kToServer, kOne, Enc().v(0x04).v(0).v(0).v(kWindow + 1).out,
     kFce, 0x04},
    {"FinalSizeChanged", "RFC 9000 §4.5", kToServer, kOne,
     Enc().v(0x0f).v(0).v(20).v(1).b(0x61).v(0x0f).v(0).v(30).v(1).b(0x61).out, kFse, 0x0f},
    {"DataBeyondFinalSize", "RFC 9000 §4.5", kToServer, kOne,
     Enc().v(0x0f).v(0).v(20).v(1).b(0x61).v(0x0e).v(0).v(21).v(1).b(0x61).out, kFse, 0x0e},
    {"FinalSizeBelowDataReceived", "RFC 9000 §4.5", kToServer, kOne, Enc().v(0x0f).v(0).v(4).v(1).b(0x61).out, kFse,
     0x0f},
    {"ResetStreamBelowDataReceived", "RFC 9000 §4.5", kToServer, kOne, Enc().v(0x04).v(0).v(0).v(5).out, kFse, 0x04},
    {"ResetStreamChangesFinalSize", "RFC 9000 §4.5", kToServer, kOne,
     Enc().v(0x0f).v(0).v(20).v(1).b(0x61).v(0x04).v(0).v(0).v(30).out, kFse, 0x04},
    // ---- Acknowledgments (§13.1, §19.3.1).
    {"AckOfUnsentPacket", "RFC 9000 §13.1", kToServer, kOne, Enc().v(0x02).v(16000).v(0).v(0).v(0).out, kPv, 0x02},
    {"AckOfUnsentHandshakePacket", "RFC 9000 §13.1", kToServer, kHs, Enc().v(0x02).v(100).v(0).v(0).v(0).out, kPv,
     0x02},
    {"AckRangeBelowZero", "RFC 9000 §19.3.1", kToServer, kOne, Enc().v(0x02).v(5).v(0).v(0).v(6).out, kFee, 0x02},
    {"AckGapBelowZero", "RFC 9000 §19.3.1", kToClient, kOne, Enc().v(0x02).v(5).v(0).v(1).v(0).v(4).v(0).out, kFee,
     0x02},
    // ---- CRYPTO (§7.5).
    {"CryptoBeyondBuffer", "RFC 9000 §7.5", kToServer, kOne, Enc().v(0x06).v(1 << 20).v(1).b(0x61).out,
     ErrorCode::kCryptoBufferExceeded, 0x06},
    {"HandshakeCryptoBeyondBuffer", "RFC 9000 §7.5", kToClient, kHs, Enc().v(0x06).v(1 << 20).v(1).b(0x61).out,
     ErrorCode::kCryptoBufferExceeded, 0x06},
    // ---- Connection IDs (§5.1.1, §19.15, §19.16).
    {"TooManyConnectionIds", "RFC 9000 §5.1.1", kToServer, kOne, too_many_cids(), ErrorCode::kConnectionIdLimitError,
     0x18},
    {"TooManyConnectionIdsFromServer", "RFC 9000 §5.1.1", kToClient, kOne, too_many_cids(),
     ErrorCode::kConnectionIdLimitError, 0x18},
    {"RetirePriorToAboveSequence", "RFC 9000 §19.15", kToServer, kOne, Enc().new_cid(5, 6).out, kFee, 0x18},
    {"ZeroLengthNewConnectionId", "RFC 9000 §19.15", kToServer, kOne, Enc().new_cid(5, 0, 0).out, kFee, 0x18},
    {"NewConnectionIdAbove20Bytes", "RFC 9000 §19.15", kToServer, kOne, Enc().new_cid(5, 0, 21).out, kFee, 0x18},
    {"RetireUnissuedConnectionId", "RFC 9000 §19.16", kToServer, kOne, Enc().v(0x19).v(100).out, kPv, 0x19},
    // ---- Stream counts (§19.11, §19.14).
    {"MaxStreamsAbove2To60", "RFC 9000 §19.11", kToServer, kOne, Enc().v(0x12).v(k2to60 + 1).out, kFee, 0x12},
    {"MaxStreamsUniAbove2To60", "RFC 9000 §19.11", kToClient, kOne, Enc().v(0x13).v(k2to60 + 1).out, kFee, 0x13},
    {"StreamsBlockedAbove2To60", "RFC 9000 §19.14", kToServer, kOne, Enc().v(0x16).v(k2to60 + 1).out, kFee, 0x16},
    // ---- Encoding (§12.4, §16, §19).
    {"StreamBeyond2To62", "RFC 9000 §19.8", kToServer, kOne, Enc().v(0x0e).v(0).v(kVarintMax).v(1).b(0x61).out, kFee,
     0x0e},
    {"CryptoBeyond2To62", "RFC 9000 §19.6", kToServer, kOne, Enc().v(0x06).v(kVarintMax).v(1).b(0x61).out, kFee,
     0x06},
    {"UnknownFrameType", "RFC 9000 §12.4", kToServer, kOne, Enc().v(0x21).out, kFee, 0x21},
    {"UnknownFrameTypeToClient", "RFC 9000 §12.4", kToClient, kOne, Enc().v(0x3f).out, kFee, 0x3f},
    {"TruncatedStream", "RFC 9000 §19.8", kToServer, kOne, Enc().v(0x0a).v(0).v(10).b(0x61, 2).out, kFee, 0x0a},
    {"TruncatedVarint", "RFC 9000 §16", kToServer, kOne, Enc().v(0x04).b(0x40).out, kFee, 0x04},
    {"TruncatedPathChallenge", "RFC 9000 §19.17", kToClient, kOne, Enc().v(0x1a).b(0x01, 7).out, kFee, 0x1a},
    {"TruncatedCloseReason", "RFC 9000 §19.19", kToServer, kOne, Enc().v(0x1c).v(0).v(0).v(5).b(0x61).out, kFee,
     0x1c},
    {"TruncatedNewToken", "RFC 9000 §19.7", kToClient, kOne, Enc().v(0x07).v(8).b(0xaa, 3).out, kFee, 0x07},
    {"EmptyNewToken", "RFC 9000 §19.7", kToClient, kOne, Enc().v(0x07).v(0).out, kFee, 0x07},
    {"TruncatedMaxData", "RFC 9000 §19.9", kToServer, kOne, Enc().v(0x10).out, kFee, 0x10},
    {"NonMinimalFrameType", "RFC 9000 §12.4", kToServer, kOne, Enc().b(0x40).b(0x01).out, kPv, 0x01},
    // ---- Packet-level rules (§12.4, §17.2, §17.3.1).
    {"PacketWithoutFrames", "RFC 9000 §12.4", kToServer, kOne, Buf(), kPv, 0},
    {"ReservedBitsInShortHeader", "RFC 9000 §17.3.1", kToServer, kOne, Enc().v(0x01).b(0, 4).out, kPv, 0, 0x10},
    {"ReservedBitsToClient", "RFC 9000 §17.3.1", kToClient, kOne, Enc().v(0x01).b(0, 4).out, kPv, 0, 0x08},
    {"ReservedBitsInLongHeader", "RFC 9000 §17.2", kToServer, kHs, Enc().v(0x01).b(0, 4).out, kPv, 0, 0x04},
};

INSTANTIATE_TEST_SUITE_P(Rfc9000, MalformedFrameTest, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace quicbed
