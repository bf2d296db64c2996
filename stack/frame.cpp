#include "frame.h"

#include <initializer_list>

#include "varint.h"

namespace quicbed {
namespace {

// Low bits of the STREAM frame type (RFC 9000 §19.8) and DATAGRAM's LEN
// bit (RFC 9221 §4).
constexpr uint64_t kStreamFin = 0x01;
constexpr uint64_t kStreamLen = 0x02;
constexpr uint64_t kStreamOff = 0x04;
constexpr uint64_t kDatagramLen = 0x01;
// Every frame type this codec knows is below 0x40, so it has a one-byte
// encoding (RFC 9000 §12.4).
constexpr uint64_t kLargestKnownType = 0x3f;

Status encoding_error(const char* reason) { return Status(ErrorCode::kFrameEncodingError, reason); }

constexpr uint64_t type_value(FrameType t) { return static_cast<uint64_t>(t); }

// RFC 9000 §19.3.1: from the range `cur`, a Gap and an ACK Range Length give
// the next range below; a packet number below 0 is FRAME_ENCODING_ERROR.
Status next_ack_range(Reader& r, Range& cur) {
  QB_ASSIGN_OR_RETURN(uint64_t gap, read_varint(r));
  QB_ASSIGN_OR_RETURN(uint64_t len, read_varint(r));
  // gap + 1 unacknowledged numbers lie between cur.lo and the next range;
  // gap < 2^62, so gap + 2 cannot wrap.
  if (cur.lo < gap + 2) return encoding_error("ACK gap below packet 0");
  uint64_t hi = cur.lo - gap - 2;
  if (hi < len) return encoding_error("ACK range below packet 0");
  cur = Range{hi - len, hi};
  return Status::ok();
}

// Validates an ACK frame's first range and the range_count pairs read from
// `pairs`.
Status check_ack_ranges(const AckFrame& a, Reader& pairs) {
  if (a.first_range > a.largest_acked) return encoding_error("ACK first range below packet 0");
  Range cur{a.largest_acked - a.first_range, a.largest_acked};
  for (uint64_t i = 0; i < a.range_count; ++i) QB_TRY(next_ack_range(pairs, cur));
  return Status::ok();
}

// RFC 9000 §19.6, §19.8: the end of the data must stay a varint.
Status check_data_end(uint64_t offset, size_t len) {
  if (offset > kVarintMax || len > kVarintMax - offset) return encoding_error("data beyond 2^62-1");
  return Status::ok();
}

// The value rules of RFC 9000 §19 that the layout alone does not enforce.
// The parser reports them as FRAME_ENCODING_ERROR; write_frame refuses to
// send a frame that breaks them.
Status check_fields(const Frame& f) {
  switch (f.type) {
    case FrameType::kAck:
    case FrameType::kAckEcn: {
      Reader pairs(f.ack.range_pairs);
      QB_TRY(check_ack_ranges(f.ack, pairs));
      return pairs.empty() ? Status::ok() : encoding_error("ACK range bytes beyond range count");
    }
    case FrameType::kCrypto:
      return check_data_end(f.crypto.offset, f.crypto.data.size());
    case FrameType::kStream:
      return check_data_end(f.stream.offset, f.stream.data.size());
    case FrameType::kNewToken:  // §19.7
      return f.new_token.token.empty() ? encoding_error("empty NEW_TOKEN") : Status::ok();
    case FrameType::kMaxStreamsBidi:  // §19.11
    case FrameType::kMaxStreamsUni:
      return f.max_streams.maximum > kMaxStreamCount ? encoding_error("MAX_STREAMS above 2^60") : Status::ok();
    case FrameType::kStreamsBlockedBidi:  // §19.14
    case FrameType::kStreamsBlockedUni:
      return f.streams_blocked.limit > kMaxStreamCount ? encoding_error("STREAMS_BLOCKED above 2^60")
                                                       : Status::ok();
    case FrameType::kNewConnectionId: {  // §19.15
      const NewConnectionIdFrame& n = f.new_connection_id;
      if (n.cid.empty() || n.cid.size() > kMaxCidLen) return encoding_error("NEW_CONNECTION_ID length");
      if (n.retire_prior_to > n.sequence) return encoding_error("Retire Prior To above Sequence Number");
      if (n.stateless_reset_token.size() != kStatelessResetTokenLen) return encoding_error("reset token length");
      return Status::ok();
    }
    case FrameType::kPathChallenge:  // §19.17, §19.18
    case FrameType::kPathResponse:
      return f.path.data.size() == kPathDataLen ? Status::ok() : encoding_error("path data length");
    default:
      return Status::ok();
  }
}

Result<Bytes> read_length_prefixed(Reader& r) {
  QB_ASSIGN_OR_RETURN(uint64_t len, read_varint(r));
  return r.bytes(len);
}

Status parse_ack(Reader& r, bool with_ecn, AckFrame& a) {
  QB_ASSIGN_OR_RETURN(a.largest_acked, read_varint(r));
  QB_ASSIGN_OR_RETURN(a.ack_delay, read_varint(r));
  QB_ASSIGN_OR_RETURN(a.range_count, read_varint(r));
  QB_ASSIGN_OR_RETURN(a.first_range, read_varint(r));
  // Validate the pairs in place (each is at least two bytes, so a huge
  // range_count ends at the end of the input) and keep them encoded.
  Bytes from = r.rest();
  size_t start = r.position();
  QB_TRY(check_ack_ranges(a, r));
  a.range_pairs = from.first(r.position() - start);
  a.ecn = EcnCounts{};
  if (with_ecn) {  // §19.3.2
    QB_ASSIGN_OR_RETURN(a.ecn.ect0, read_varint(r));
    QB_ASSIGN_OR_RETURN(a.ecn.ect1, read_varint(r));
    QB_ASSIGN_OR_RETURN(a.ecn.ce, read_varint(r));
  }
  return Status::ok();
}

// Reads the fields of a frame of type `type` into f.
Status parse_fields(Reader& r, uint64_t type, Frame& f) {
  if (type > kLargestKnownType) return encoding_error("unknown frame type");
  if (type >= type_value(FrameType::kStream) && type < type_value(FrameType::kStream) + 8) {
    f.type = FrameType::kStream;
  } else if (type == (type_value(FrameType::kDatagram) | kDatagramLen)) {
    f.type = FrameType::kDatagram;
  } else {
    f.type = static_cast<FrameType>(type);
  }

  switch (f.type) {
    case FrameType::kPadding: {  // §19.1: the run of zero bytes is one frame
      Bytes rest = r.rest();
      size_t n = 0;
      while (n < rest.size() && rest[n] == 0) ++n;
      QB_TRY(r.skip(n));
      f.padding.length = n + 1;
      return Status::ok();
    }
    case FrameType::kPing:
    case FrameType::kHandshakeDone:
      return Status::ok();
    case FrameType::kAck:
    case FrameType::kAckEcn:
      // Validated while reading: the pairs' extent is only known by walking them.
      return parse_ack(r, f.type == FrameType::kAckEcn, f.ack);
    case FrameType::kResetStream: {
      QB_ASSIGN_OR_RETURN(f.reset_stream.stream_id, read_varint(r));
      QB_ASSIGN_OR_RETURN(f.reset_stream.error_code, read_varint(r));
      QB_ASSIGN_OR_RETURN(f.reset_stream.final_size, read_varint(r));
      break;
    }
    case FrameType::kStopSending: {
      QB_ASSIGN_OR_RETURN(f.stop_sending.stream_id, read_varint(r));
      QB_ASSIGN_OR_RETURN(f.stop_sending.error_code, read_varint(r));
      break;
    }
    case FrameType::kCrypto: {
      QB_ASSIGN_OR_RETURN(f.crypto.offset, read_varint(r));
      QB_ASSIGN_OR_RETURN(f.crypto.data, read_length_prefixed(r));
      break;
    }
    case FrameType::kNewToken: {
      QB_ASSIGN_OR_RETURN(f.new_token.token, read_length_prefixed(r));
      break;
    }
    case FrameType::kStream: {
      StreamFrame& s = f.stream;
      QB_ASSIGN_OR_RETURN(s.stream_id, read_varint(r));
      s.offset = 0;
      if (type & kStreamOff) {
        QB_ASSIGN_OR_RETURN(s.offset, read_varint(r));
      }
      if (type & kStreamLen) {
        QB_ASSIGN_OR_RETURN(s.data, read_length_prefixed(r));
      } else {
        QB_ASSIGN_OR_RETURN(s.data, r.bytes(r.remaining()));
      }
      s.fin = (type & kStreamFin) != 0;
      break;
    }
    case FrameType::kMaxData: {
      QB_ASSIGN_OR_RETURN(f.max_data.maximum, read_varint(r));
      break;
    }
    case FrameType::kMaxStreamData: {
      QB_ASSIGN_OR_RETURN(f.max_stream_data.stream_id, read_varint(r));
      QB_ASSIGN_OR_RETURN(f.max_stream_data.maximum, read_varint(r));
      break;
    }
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni: {
      QB_ASSIGN_OR_RETURN(f.max_streams.maximum, read_varint(r));
      break;
    }
    case FrameType::kDataBlocked: {
      QB_ASSIGN_OR_RETURN(f.data_blocked.limit, read_varint(r));
      break;
    }
    case FrameType::kStreamDataBlocked: {
      QB_ASSIGN_OR_RETURN(f.stream_data_blocked.stream_id, read_varint(r));
      QB_ASSIGN_OR_RETURN(f.stream_data_blocked.limit, read_varint(r));
      break;
    }
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni: {
      QB_ASSIGN_OR_RETURN(f.streams_blocked.limit, read_varint(r));
      break;
    }
    case FrameType::kNewConnectionId: {
      NewConnectionIdFrame& n = f.new_connection_id;
      QB_ASSIGN_OR_RETURN(n.sequence, read_varint(r));
      QB_ASSIGN_OR_RETURN(n.retire_prior_to, read_varint(r));
      QB_ASSIGN_OR_RETURN(uint8_t len, r.u8());
      QB_ASSIGN_OR_RETURN(n.cid, r.bytes(len));
      QB_ASSIGN_OR_RETURN(n.stateless_reset_token, r.bytes(kStatelessResetTokenLen));
      break;
    }
    case FrameType::kRetireConnectionId: {
      QB_ASSIGN_OR_RETURN(f.retire_connection_id.sequence, read_varint(r));
      break;
    }
    case FrameType::kPathChallenge:
    case FrameType::kPathResponse: {
      QB_ASSIGN_OR_RETURN(f.path.data, r.bytes(kPathDataLen));
      break;
    }
    case FrameType::kConnectionClose:
    case FrameType::kConnectionCloseApp: {
      ConnectionCloseFrame& c = f.connection_close;
      QB_ASSIGN_OR_RETURN(c.error_code, read_varint(r));
      c.frame_type = 0;
      if (f.type == FrameType::kConnectionClose) {
        QB_ASSIGN_OR_RETURN(c.frame_type, read_varint(r));
      }
      QB_ASSIGN_OR_RETURN(c.reason, read_length_prefixed(r));
      break;
    }
    case FrameType::kDatagram: {
      if (type & kDatagramLen) {
        QB_ASSIGN_OR_RETURN(f.datagram.data, read_length_prefixed(r));
      } else {
        QB_ASSIGN_OR_RETURN(f.datagram.data, r.bytes(r.remaining()));
      }
      break;
    }
    default:
      return encoding_error("unknown frame type");
  }
  return check_fields(f);
}

// encode() runs twice per frame: over a SizeSink to validate and measure it,
// then, once it is known to fit, over a WriteSink. One layout, no twin.
class SizeSink {
 public:
  Status varint(uint64_t v) {
    size_t n = varint_size(v);
    if (n == 0) return Status(ErrorCode::kInvalidArgument, "varint above 2^62-1");
    size_ += n;
    return Status::ok();
  }
  Status u8(uint8_t) {
    size_ += 1;
    return Status::ok();
  }
  Status bytes(Bytes b) {
    size_ += b.size();
    return Status::ok();
  }
  Status zeros(size_t n) {
    size_ += n;
    return Status::ok();
  }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

class WriteSink {
 public:
  explicit WriteSink(Writer& w) : w_(w) {}
  Status varint(uint64_t v) { return write_varint(w_, v); }
  Status u8(uint8_t v) { return w_.u8(v); }
  Status bytes(Bytes b) { return w_.bytes(b); }
  Status zeros(size_t n) { return w_.fill(0, n); }

 private:
  Writer& w_;
};

template <typename Sink>
Status put_varints(Sink& s, std::initializer_list<uint64_t> values) {
  for (uint64_t v : values) QB_TRY(s.varint(v));
  return Status::ok();
}

template <typename Sink>
Status put_length_prefixed(Sink& s, Bytes b) {
  QB_TRY(s.varint(b.size()));
  return s.bytes(b);
}

template <typename Sink>
Status encode(Sink& s, const Frame& f, bool last_in_packet) {
  const uint64_t type = type_value(f.type);
  switch (f.type) {
    case FrameType::kPadding:
      return s.zeros(f.padding.length);
    case FrameType::kPing:
    case FrameType::kHandshakeDone:
      return s.varint(type);
    case FrameType::kAck:
    case FrameType::kAckEcn: {
      const AckFrame& a = f.ack;
      QB_TRY(put_varints(s, {type, a.largest_acked, a.ack_delay, a.range_count, a.first_range}));
      QB_TRY(s.bytes(a.range_pairs));
      if (f.type == FrameType::kAckEcn) return put_varints(s, {a.ecn.ect0, a.ecn.ect1, a.ecn.ce});
      return Status::ok();
    }
    case FrameType::kResetStream:
      return put_varints(s, {type, f.reset_stream.stream_id, f.reset_stream.error_code, f.reset_stream.final_size});
    case FrameType::kStopSending:
      return put_varints(s, {type, f.stop_sending.stream_id, f.stop_sending.error_code});
    case FrameType::kCrypto:
      QB_TRY(put_varints(s, {type, f.crypto.offset}));
      return put_length_prefixed(s, f.crypto.data);
    case FrameType::kNewToken:
      QB_TRY(s.varint(type));
      return put_length_prefixed(s, f.new_token.token);
    case FrameType::kStream: {
      const StreamFrame& st = f.stream;
      uint64_t t = type | (st.offset ? kStreamOff : 0) | (last_in_packet ? 0 : kStreamLen) | (st.fin ? kStreamFin : 0);
      QB_TRY(put_varints(s, {t, st.stream_id}));
      if (st.offset) QB_TRY(s.varint(st.offset));  // §19.8: absent Offset means 0
      if (last_in_packet) return s.bytes(st.data);
      return put_length_prefixed(s, st.data);
    }
    case FrameType::kMaxData:
      return put_varints(s, {type, f.max_data.maximum});
    case FrameType::kMaxStreamData:
      return put_varints(s, {type, f.max_stream_data.stream_id, f.max_stream_data.maximum});
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
      return put_varints(s, {type, f.max_streams.maximum});
    case FrameType::kDataBlocked:
      return put_varints(s, {type, f.data_blocked.limit});
    case FrameType::kStreamDataBlocked:
      return put_varints(s, {type, f.stream_data_blocked.stream_id, f.stream_data_blocked.limit});
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      return put_varints(s, {type, f.streams_blocked.limit});
    case FrameType::kNewConnectionId: {
      const NewConnectionIdFrame& n = f.new_connection_id;
      QB_TRY(put_varints(s, {type, n.sequence, n.retire_prior_to}));
      QB_TRY(s.u8(static_cast<uint8_t>(n.cid.size())));  // check_fields bounded it to 20
      QB_TRY(s.bytes(n.cid));
      return s.bytes(n.stateless_reset_token);
    }
    case FrameType::kRetireConnectionId:
      return put_varints(s, {type, f.retire_connection_id.sequence});
    case FrameType::kPathChallenge:
    case FrameType::kPathResponse:
      QB_TRY(s.varint(type));
      return s.bytes(f.path.data);
    case FrameType::kConnectionClose:
      QB_TRY(put_varints(s, {type, f.connection_close.error_code, f.connection_close.frame_type}));
      return put_length_prefixed(s, f.connection_close.reason);
    case FrameType::kConnectionCloseApp:
      QB_TRY(put_varints(s, {type, f.connection_close.error_code}));
      return put_length_prefixed(s, f.connection_close.reason);
    case FrameType::kDatagram:
      if (last_in_packet) {
        QB_TRY(s.varint(type));
        return s.bytes(f.datagram.data);
      }
      QB_TRY(s.varint(type | kDatagramLen));
      return put_length_prefixed(s, f.datagram.data);
  }
  return Status(ErrorCode::kInvalidArgument, "unknown frame type");
}

Result<size_t> encoded_size(const Frame& f, bool last_in_packet) {
  Status valid = check_fields(f);
  if (!valid) return Status(ErrorCode::kInvalidArgument, valid.reason());
  SizeSink size;
  QB_TRY(encode(size, f, last_in_packet));
  return size.size();
}

// The most data bytes that fit in `room` after `header` bytes and a Length
// field counting them. The narrowest Length field that can count what is
// left after it leaves the most room for data.
size_t fit_with_length(size_t room, size_t header, size_t want) {
  for (size_t width : {size_t{1}, size_t{2}, size_t{4}, size_t{8}}) {
    if (room < header + width) return 0;
    size_t n = want < room - header - width ? want : room - header - width;
    if (varint_size(n) <= width) return n;
  }
  return 0;
}

// Writes `frame`, whose data field is `field`, carrying the first n bytes of
// `data`; a frame that carries none of its non-empty data is not worth
// sending.
Result<size_t> write_data_prefix(Writer& w, Frame& frame, Bytes& field, Bytes data, size_t n, bool last_in_packet) {
  if (n == 0 && !data.empty()) return Status(ErrorCode::kBufferTooSmall);
  field = data.first(n);
  QB_TRY(write_frame(w, frame, last_in_packet));
  return n;
}

// Type, Stream ID and (when not 0) Offset of f: the bytes of a STREAM
// frame before its Length field and data; 0 if not encodable.
size_t stream_header_size(const StreamFrame& f) {
  Frame frame;
  frame.type = FrameType::kStream;
  frame.stream = StreamFrame{f.stream_id, f.offset, Bytes(), false};
  return frame_size(frame, true);
}

// An ACK Range after the first, as its Gap and ACK Range Length
// (RFC 9000 §19.3.1).
struct AckPair {
  uint64_t gap;
  uint64_t length;
};
AckPair ack_pair(const Range& above, const Range& r) { return {above.lo - r.hi - 2, r.hi - r.lo}; }

struct AckPlan {
  size_t ranges;  // how many of the input ranges are written
  size_t bytes;
};

Result<AckPlan> plan_ack(std::span<const Range> ranges, uint64_t ack_delay, const EcnCounts* ecn, size_t room) {
  if (ranges.empty()) return Status(ErrorCode::kInvalidArgument, "ACK without ranges");
  const Range& top = ranges[0];
  if (top.lo > top.hi) return Status(ErrorCode::kInvalidArgument, "ACK range lo > hi");
  for (size_t i = 1; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    if (r.lo > r.hi || ranges[i - 1].lo < 2 || r.hi > ranges[i - 1].lo - 2)
      return Status(ErrorCode::kInvalidArgument, "ACK ranges not descending and disjoint");
  }
  // Every gap and length is below top.hi, so these checks cover all values.
  SizeSink fixed;
  QB_TRY(put_varints(fixed, {type_value(FrameType::kAck), top.hi, ack_delay, top.hi - top.lo}));
  if (ecn) QB_TRY(put_varints(fixed, {ecn->ect0, ecn->ect1, ecn->ce}));

  AckPlan plan{1, fixed.size() + 1};  // + the one-byte Range Count 0
  if (plan.bytes > room) return Status(ErrorCode::kBufferTooSmall);
  size_t pairs = 0;
  for (size_t i = 1; i < ranges.size(); ++i) {
    AckPair p = ack_pair(ranges[i - 1], ranges[i]);
    size_t grown = pairs + varint_size(p.gap) + varint_size(p.length);
    size_t bytes = fixed.size() + varint_size(i) + grown;
    if (bytes > room) break;
    pairs = grown;
    plan = AckPlan{i + 1, bytes};
  }
  return plan;
}

}  // namespace

AckRangeIterator& AckRangeIterator::operator++() {
  QB_ASSERT(left_ > 0);
  if (--left_ > 0) {
    Status s = next_ack_range(pairs_, cur_);
    QB_ASSERT(s.is_ok());  // parse_frame validated every pair
  }
  return *this;
}

AckRangeView AckFrame::ranges() const {
  Range first{largest_acked - first_range, largest_acked};
  return AckRangeView{AckRangeIterator(range_pairs, first, range_count + 1), AckRangeIterator(Bytes(), first, 0)};
}

Result<Frame> parse_frame(Reader& r) {
  // §12.4: a packet without frames is a PROTOCOL_VIOLATION.
  if (r.empty()) return Status(ErrorCode::kProtocolViolation, "no frame");
  size_t encoded_len = varint_len_from_first(r.peek());
  QB_ASSIGN_OR_RETURN(uint64_t type, read_varint(r));
  // §12.4: the frame type must use its shortest encoding.
  if (varint_size(type) != encoded_len) return Status(ErrorCode::kProtocolViolation, "frame type not minimally encoded");
  Frame f;
  QB_TRY(parse_fields(r, type, f));
  return f;
}

size_t frame_size(const Frame& f, bool last_in_packet) {
  Result<size_t> size = encoded_size(f, last_in_packet);
  return size ? *size : 0;
}

Status write_frame(Writer& w, const Frame& f, bool last_in_packet) {
  QB_ASSIGN_OR_RETURN(size_t size, encoded_size(f, last_in_packet));
  if (size > w.remaining()) return ErrorCode::kBufferTooSmall;
  WriteSink out(w);
  Status s = encode(out, f, last_in_packet);
  QB_ASSERT(s.is_ok());  // measured above
  return s;
}

Result<size_t> write_stream(Writer& w, const StreamFrame& f, bool last_in_packet) {
  size_t header = stream_header_size(f);
  if (header == 0) return Status(ErrorCode::kInvalidArgument, "STREAM frame not encodable");
  Frame frame;
  frame.type = FrameType::kStream;
  frame.stream = f;
  size_t room = w.remaining();
  size_t n = room < header ? 0
             : last_in_packet ? (f.data.size() < room - header ? f.data.size() : room - header)
                              : fit_with_length(room, header, f.data.size());
  frame.stream.fin = f.fin && n == f.data.size();
  return write_data_prefix(w, frame, frame.stream.data, f.data, n, last_in_packet);
}

Result<size_t> write_stream_header(Writer& w, const StreamFrame& f, uint64_t len) {
  const size_t header = stream_header_size(f);
  if (header == 0) return Status(ErrorCode::kInvalidArgument, "STREAM frame not encodable");
  const size_t room = w.remaining();
  if (room <= header) return Status(ErrorCode::kBufferTooSmall);
  const bool to_end = len > 0 && len >= room - header;
  const size_t n = to_end ? room - header : fit_with_length(room, header, static_cast<size_t>(len < room ? len : room));
  if (n == 0 && (len > 0 || header + 1 > room)) return Status(ErrorCode::kBufferTooSmall);
  const bool fin = f.fin && n == len;
  const uint64_t type = type_value(FrameType::kStream) | (f.offset ? kStreamOff : 0) |
                        (to_end ? 0 : kStreamLen) | (fin ? kStreamFin : 0);
  WriteSink out(w);
  Status s = put_varints(out, {type, f.stream_id});
  if (s.is_ok() && f.offset) s = out.varint(f.offset);  // §19.8: absent Offset means 0
  if (s.is_ok() && !to_end) s = out.varint(n);
  QB_ASSERT(s.is_ok());  // measured above
  return n;
}

Result<size_t> write_crypto(Writer& w, const CryptoFrame& f) {
  Frame frame;
  frame.type = FrameType::kCrypto;
  frame.crypto = f;
  frame.crypto.data = Bytes();
  size_t empty = frame_size(frame);
  if (empty == 0) return Status(ErrorCode::kInvalidArgument, "CRYPTO frame not encodable");
  // Type and Offset come before the Length, one byte in the empty frame.
  size_t n = fit_with_length(w.remaining(), empty - 1, f.data.size());
  return write_data_prefix(w, frame, frame.crypto.data, f.data, n, false);
}

Result<size_t> write_ack(Writer& w, std::span<const Range> ranges, uint64_t ack_delay, const EcnCounts* ecn) {
  QB_ASSIGN_OR_RETURN(AckPlan plan, plan_ack(ranges, ack_delay, ecn, w.remaining()));
  WriteSink out(w);
  const Range& top = ranges[0];
  FrameType type = ecn ? FrameType::kAckEcn : FrameType::kAck;
  Status s = put_varints(out, {type_value(type), top.hi, ack_delay, plan.ranges - 1, top.hi - top.lo});
  for (size_t i = 1; s.is_ok() && i < plan.ranges; ++i) {
    AckPair p = ack_pair(ranges[i - 1], ranges[i]);
    s = put_varints(out, {p.gap, p.length});
  }
  if (s.is_ok() && ecn) s = put_varints(out, {ecn->ect0, ecn->ect1, ecn->ce});
  QB_ASSERT(s.is_ok());  // planned to fit
  return plan.ranges;
}

size_t ack_frame_size(std::span<const Range> ranges, uint64_t ack_delay, const EcnCounts* ecn) {
  Result<AckPlan> plan = plan_ack(ranges, ack_delay, ecn, SIZE_MAX);
  return plan ? plan->bytes : 0;
}

Status check_frame_permitted(FrameType t, PacketType p) {
  bool permitted = false;
  switch (p) {
    case PacketType::kInitial:
    case PacketType::kHandshake:
      // "IH": PADDING, PING, ACK, CRYPTO; "ih": CONNECTION_CLOSE of type 0x1c only.
      permitted = t == FrameType::kPadding || t == FrameType::kPing || t == FrameType::kAck ||
                  t == FrameType::kAckEcn || t == FrameType::kCrypto || t == FrameType::kConnectionClose;
      break;
    case PacketType::kZeroRtt:
      // "0" is missing from ACK, CRYPTO, NEW_TOKEN, PATH_RESPONSE and
      // HANDSHAKE_DONE. (§12.5 adds RETIRE_CONNECTION_ID as impossible to
      // send in 0-RTT but only MAY reject it; we follow Table 3.)
      permitted = t != FrameType::kAck && t != FrameType::kAckEcn && t != FrameType::kCrypto &&
                  t != FrameType::kNewToken && t != FrameType::kPathResponse && t != FrameType::kHandshakeDone;
      break;
    case PacketType::kOneRtt:  // "all frames can appear in 1-RTT packets"
      permitted = true;
      break;
    case PacketType::kRetry:  // carry no frames (§12.4)
    case PacketType::kVersionNegotiation:
      permitted = false;
      break;
  }
  return permitted ? Status::ok() : Status(ErrorCode::kProtocolViolation, "frame not permitted in this packet type");
}

}  // namespace quicbed
