#include "trace.h"

#include "base/fixed_point.h"
#include "packet.h"

namespace quicbed {
namespace {

// RFC 9000 §19.3: ack_delay is scaled by 2^ack_delay_exponent (at most 20,
// §18.2); a hostile 62-bit value would overflow, so saturate.
uint64_t decode_ack_delay(uint64_t encoded, uint64_t exponent) {
  if (exponent >= 64 || encoded > (kU64Max >> exponent)) return kU64Max;
  return encoded << exponent;
}

void add_range(TracedAck& a, Range r) {
  if (a.range_count == kMaxTracedAckRanges) {
    a.ranges_truncated = true;
    return;
  }
  a.ranges[a.range_count++] = r;
}

}  // namespace

TracedFrame trace_frame(const Frame& f, uint64_t ack_delay_exponent) {
  TracedFrame t;
  t.type = f.type;
  switch (f.type) {
    case FrameType::kPadding:
      t.padding = f.padding;
      break;
    case FrameType::kPing:
    case FrameType::kHandshakeDone:
      break;
    case FrameType::kAck:
    case FrameType::kAckEcn:
      t.ack = TracedAck{};
      t.ack.ack_delay_us = decode_ack_delay(f.ack.ack_delay, ack_delay_exponent);
      if (f.type == FrameType::kAckEcn) t.ack.ecn = f.ack.ecn;
      for (Range r : f.ack.ranges()) add_range(t.ack, r);
      break;
    case FrameType::kResetStream:
      t.reset_stream = f.reset_stream;
      break;
    case FrameType::kStopSending:
      t.stop_sending = f.stop_sending;
      break;
    case FrameType::kCrypto:
      t.data = TracedData{0, f.crypto.offset, f.crypto.data.size(), false};
      break;
    case FrameType::kNewToken:
      t.new_token = f.new_token;
      break;
    case FrameType::kStream:
      t.data = TracedData{f.stream.stream_id, f.stream.offset, f.stream.data.size(), f.stream.fin};
      break;
    case FrameType::kMaxData:
      t.max_data = f.max_data;
      break;
    case FrameType::kMaxStreamData:
      t.max_stream_data = f.max_stream_data;
      break;
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
      t.max_streams = f.max_streams;
      break;
    case FrameType::kDataBlocked:
      t.data_blocked = f.data_blocked;
      break;
    case FrameType::kStreamDataBlocked:
      t.stream_data_blocked = f.stream_data_blocked;
      break;
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      t.streams_blocked = f.streams_blocked;
      break;
    case FrameType::kNewConnectionId:
      t.new_connection_id = f.new_connection_id;
      break;
    case FrameType::kRetireConnectionId:
      t.retire_connection_id = f.retire_connection_id;
      break;
    case FrameType::kPathChallenge:
    case FrameType::kPathResponse:
      t.path = f.path;
      break;
    case FrameType::kConnectionClose:
    case FrameType::kConnectionCloseApp:
      t.connection_close = f.connection_close;
      break;
    case FrameType::kDatagram:
      t.datagram_length = f.datagram.data.size();
      break;
  }
  return t;
}

TracedFrame trace_ack(std::span<const Range> ranges, size_t written, uint64_t ack_delay_us,
                      const EcnCounts* ecn) {
  TracedFrame t;
  t.type = ecn ? FrameType::kAckEcn : FrameType::kAck;
  t.ack = TracedAck{};
  t.ack.ack_delay_us = ack_delay_us;
  if (ecn) t.ack.ecn = *ecn;
  for (size_t i = 0; i < written && i < ranges.size(); ++i) add_range(t.ack, ranges[i]);
  return t;
}

TracedPacketHeader trace_header(const PacketHeader& h) {
  TracedPacketHeader t;
  t.type = h.type;
  t.has_dcid = t.dcid.assign(h.dcid);
  if (h.form == HeaderForm::kShort) return t;
  t.has_scid = t.scid.assign(h.scid);
  // RFC 9000 §17.2.1: Version Negotiation's Version field only marks it.
  if (h.type == PacketType::kVersionNegotiation) return t;
  t.has_version = true;
  t.version = h.version;
  t.type_known = !h.has_invariants_only();
  t.length = h.length;  // 0 where the header has no Length field
  return t;
}

}  // namespace quicbed
