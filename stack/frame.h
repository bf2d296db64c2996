// QUIC frames (RFC 9000 §12.4, §19; DATAGRAM from RFC 9221 §4): a
// zero-copy parser that reads one frame at a time, serializers that fit a
// frame into the room a packet builder has left, and the rules of Table 3
// (which packet types may carry a frame, which frames elicit an ACK).
//
// A parsed Frame borrows: every byte field is a span into the packet
// payload, valid as long as that payload is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.h"
#include "base/range.h"
#include "base/status.h"
#include "cid.h"
#include "packet_type.h"

namespace quicbed {

// Frame type values (RFC 9000 §12.4 Table 3, RFC 9221 §4). STREAM
// (0x08-0x0f) and DATAGRAM (0x30-0x31) keep encoding flags in their low
// bits; a Frame names them by the base value and carries the flags in its
// fields, so one tag covers the family.
enum class FrameType : uint8_t {
  kPadding = 0x00,
  kPing = 0x01,
  kAck = 0x02,
  kAckEcn = 0x03,
  kResetStream = 0x04,
  kStopSending = 0x05,
  kCrypto = 0x06,
  kNewToken = 0x07,
  kStream = 0x08,
  kMaxData = 0x10,
  kMaxStreamData = 0x11,
  kMaxStreamsBidi = 0x12,
  kMaxStreamsUni = 0x13,
  kDataBlocked = 0x14,
  kStreamDataBlocked = 0x15,
  kStreamsBlockedBidi = 0x16,
  kStreamsBlockedUni = 0x17,
  kNewConnectionId = 0x18,
  kRetireConnectionId = 0x19,
  kPathChallenge = 0x1a,
  kPathResponse = 0x1b,
  kConnectionClose = 0x1c,     // transport error, carries the offending frame type
  kConnectionCloseApp = 0x1d,  // application error
  kHandshakeDone = 0x1e,
  kDatagram = 0x30,
};

// RFC 9000 §19.11, §19.14: stream counts cannot exceed 2^60, since a stream
// ID (count << 2 | type bits) must remain a varint.
inline constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;
// RFC 9000 §19.17.
inline constexpr size_t kPathDataLen = 8;

// Consecutive PADDING bytes collapse into one frame (RFC 9000 §19.1).
struct PaddingFrame {
  size_t length;
};

struct EcnCounts {
  uint64_t ect0;
  uint64_t ect1;
  uint64_t ce;
  constexpr bool operator==(const EcnCounts&) const = default;
};

// Walks the ranges of a parsed ACK frame, largest first (RFC 9000 §19.3.1).
// The parser has validated every range, so stepping cannot fail.
class AckRangeIterator {
 public:
  Range operator*() const { return cur_; }
  AckRangeIterator& operator++();
  bool operator==(const AckRangeIterator& o) const { return left_ == o.left_; }

 private:
  friend struct AckFrame;
  AckRangeIterator(Bytes pairs, Range first, uint64_t left) : pairs_(pairs), cur_(first), left_(left) {}

  Reader pairs_;    // the Gap / ACK Range Length pairs not yet decoded
  Range cur_;
  uint64_t left_;   // ranges from cur_ onward; 0 at the end
};

struct AckRangeView {
  AckRangeIterator first;
  AckRangeIterator last;
  AckRangeIterator begin() const { return first; }
  AckRangeIterator end() const { return last; }
};

// ACK (0x02) or, when the Frame's type is kAckEcn, ACK with ECN counts
// (0x03). Ranges stay encoded: a packet's ACK is walked once by loss
// detection, so copying it into a list would only cost memory.
struct AckFrame {
  uint64_t largest_acked;
  uint64_t ack_delay;    // as encoded; the receiver scales it by the peer's ack_delay_exponent (§18.2)
  uint64_t first_range;  // First ACK Range: packets below largest_acked also acknowledged
  uint64_t range_count;  // ACK Range Count: Gap/Length pairs after the first range
  Bytes range_pairs;     // those pairs, still encoded, validated by parse_frame
  EcnCounts ecn;         // only for kAckEcn

  // Inclusive ranges in descending order; only for frames from parse_frame.
  AckRangeView ranges() const;
};

struct ResetStreamFrame {
  uint64_t stream_id;
  uint64_t error_code;
  uint64_t final_size;
};

struct StopSendingFrame {
  uint64_t stream_id;
  uint64_t error_code;
};

struct CryptoFrame {
  uint64_t offset;
  Bytes data;
};

struct NewTokenFrame {
  Bytes token;
};

struct StreamFrame {
  uint64_t stream_id;
  uint64_t offset;
  Bytes data;
  bool fin;
};

struct MaxDataFrame {
  uint64_t maximum;
};

struct MaxStreamDataFrame {
  uint64_t stream_id;
  uint64_t maximum;
};

// kMaxStreamsBidi / kMaxStreamsUni.
struct MaxStreamsFrame {
  uint64_t maximum;
};

struct DataBlockedFrame {
  uint64_t limit;
};

struct StreamDataBlockedFrame {
  uint64_t stream_id;
  uint64_t limit;
};

// kStreamsBlockedBidi / kStreamsBlockedUni.
struct StreamsBlockedFrame {
  uint64_t limit;
};

struct NewConnectionIdFrame {
  uint64_t sequence;
  uint64_t retire_prior_to;
  Bytes cid;                    // 1..20 bytes
  Bytes stateless_reset_token;  // 16 bytes
};

struct RetireConnectionIdFrame {
  uint64_t sequence;
};

// kPathChallenge / kPathResponse.
struct PathFrame {
  Bytes data;  // 8 bytes
};

// kConnectionClose / kConnectionCloseApp.
struct ConnectionCloseFrame {
  uint64_t error_code;
  uint64_t frame_type;  // kConnectionClose only: the frame that caused the error, 0 if unknown
  Bytes reason;
};

struct DatagramFrame {
  Bytes data;
};

// One frame: `type` says which member is live. PING and HANDSHAKE_DONE have
// no fields.
struct Frame {
  Frame() : padding{0} {}

  FrameType type = FrameType::kPadding;
  union {
    PaddingFrame padding;
    AckFrame ack;
    ResetStreamFrame reset_stream;
    StopSendingFrame stop_sending;
    CryptoFrame crypto;
    NewTokenFrame new_token;
    StreamFrame stream;
    MaxDataFrame max_data;
    MaxStreamDataFrame max_stream_data;
    MaxStreamsFrame max_streams;
    DataBlockedFrame data_blocked;
    StreamDataBlockedFrame stream_data_blocked;
    StreamsBlockedFrame streams_blocked;
    NewConnectionIdFrame new_connection_id;
    RetireConnectionIdFrame retire_connection_id;
    PathFrame path;
    ConnectionCloseFrame connection_close;
    DatagramFrame datagram;
  };
};

// Parses the frame at the reader's position and advances past it. Errors
// (RFC 9000 §12.4, §19): a frame type not in its shortest encoding is
// PROTOCOL_VIOLATION; an unknown type, a truncated frame, or a field value
// the RFC forbids is FRAME_ENCODING_ERROR. Whether the frame may appear in
// the packet it came in is check_frame_permitted's business, and whether
// DATAGRAM was negotiated (RFC 9221 §3) the connection's.
Result<Frame> parse_frame(Reader& r);

// Bytes write_frame(f, last_in_packet) writes; 0 if f cannot be encoded.
size_t frame_size(const Frame& f, bool last_in_packet = false);

// Writes `f` whole, or writes nothing and returns kBufferTooSmall.
// last_in_packet omits the Length field of STREAM and DATAGRAM, which then
// extend to the end of the packet: the caller must write nothing after them.
// PADDING writes padding.length zero bytes. An ACK re-emits its encoded
// range_pairs; new ACKs are built with write_ack. A frame that breaks a rule
// parse_frame enforces is kInvalidArgument: we never send what we would
// reject.
Status write_frame(Writer& w, const Frame& f, bool last_in_packet = false);

// Writes an ACK frame (0x03 when `ecn` is given) acknowledging `ranges`:
// non-empty, descending, each separated from the previous one by at least
// one unacknowledged number. ack_delay is the value to encode (already
// scaled by our ack_delay_exponent). As many ranges as fit in w.remaining()
// are written, largest first: older ranges are the ones to omit (RFC 9000
// §13.2.3). Returns how many were written; kBufferTooSmall if not even the
// first fits, kInvalidArgument if the ranges are malformed.
Result<size_t> write_ack(Writer& w, std::span<const Range> ranges, uint64_t ack_delay,
                         const EcnCounts* ecn = nullptr);
// Bytes write_ack needs to write every range; 0 if the input is malformed.
size_t ack_frame_size(std::span<const Range> ranges, uint64_t ack_delay, const EcnCounts* ecn = nullptr);

// Write a STREAM or CRYPTO frame carrying as much of the front of f.data
// as fits in w.remaining(), and return how many data bytes that was. FIN is
// kept only if all of the data fits. See write_frame for last_in_packet.
// kBufferTooSmall if no data byte fits (for empty data: if the frame does not).
Result<size_t> write_stream(Writer& w, const StreamFrame& f, bool last_in_packet);
// The header of a STREAM frame for `len` bytes at f.offset (f.data is not
// used) whose data the caller writes right after it, as it may lie in
// pieces. Returns n, the data bytes the header announces (at most len, as
// many as fit in w.remaining()); the caller must write exactly n. When
// they reach the end of w (len fills it), the Length field is left out
// (§19.8: the frame then extends to the end of the packet): 1 to 8 bytes
// more for data, and nothing may be written after them. FIN is set only if
// n == len. kBufferTooSmall if no data byte fits (for len 0: if the frame
// does not).
Result<size_t> write_stream_header(Writer& w, const StreamFrame& f, uint64_t len);
Result<size_t> write_crypto(Writer& w, const CryptoFrame& f);

// RFC 9000 §12.4 Table 3 "Pkts" column, and RFC 9221 §5 for DATAGRAM (0-RTT
// and 1-RTT only): PROTOCOL_VIOLATION if a frame of type t must not appear
// in a packet of type p.
Status check_frame_permitted(FrameType t, PacketType p);

// RFC 9000 §1.2, §13.2.1 (RFC 9002 §2): all frames but ACK, PADDING and
// CONNECTION_CLOSE; DATAGRAM is ack-eliciting (RFC 9221 §5.2).
constexpr bool is_ack_eliciting(FrameType t) {
  return t != FrameType::kAck && t != FrameType::kAckEcn && t != FrameType::kPadding &&
         t != FrameType::kConnectionClose && t != FrameType::kConnectionCloseApp;
}

// A packet counts toward bytes in flight, i.e. is congestion controlled, if
// one of its frames does: RFC 9002 §2 "in flight" is ack-eliciting or
// PADDING. This is Table 3's "C" (only ACK is exempt) narrowed by RFC 9002
// to leave out CONNECTION_CLOSE, which is never acknowledged.
constexpr bool is_congestion_controlled(FrameType t) { return is_ack_eliciting(t) || t == FrameType::kPadding; }

// RFC 9000 §9.1 (Table 3 "P"): a packet made only of these frames is a
// probing packet.
constexpr bool is_probing(FrameType t) {
  return t == FrameType::kPathChallenge || t == FrameType::kPathResponse ||
         t == FrameType::kNewConnectionId || t == FrameType::kPadding;
}

}  // namespace quicbed
