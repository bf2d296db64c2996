#include "packet.h"

#include "varint.h"

namespace quicbed {
namespace {

constexpr uint8_t kHeaderFormBit = 0x80;  // RFC 9000 §17.2, §17.3
constexpr uint8_t kFixedBit = 0x40;
constexpr uint8_t kSpinBit = 0x20;       // short header, RFC 9000 §17.3.1
constexpr uint8_t kKeyPhaseBit = 0x04;   // short header
constexpr uint8_t kLongReservedBits = 0x0c;
constexpr uint8_t kShortReservedBits = 0x18;
constexpr ErrorCode kDrop = ErrorCode::kDropPacket;
// RFC 9000 §12.2: the largest value a 2-byte varint Length field holds.
constexpr uint64_t kMaxFixedLength = (uint64_t{1} << (8 * kLengthFieldLen - 2)) - 1;

uint32_t load_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

bool valid_pn_len(size_t n) { return n >= 1 && n <= kMaxPnLen; }

// A connection ID preceded by its 8-bit length (RFC 9000 §17.2).
Result<Bytes> read_cid(Reader& r, size_t max_len) {
  QB_ASSIGN_OR_RETURN(uint8_t len, r.u8(kDrop));
  if (len > max_len) return Status(kDrop, "connection ID too long");
  return r.bytes(len, kDrop);
}

Status write_cid(Writer& w, Bytes cid) {
  QB_TRY(w.u8(static_cast<uint8_t>(cid.size())));
  return w.bytes(cid);
}

// Writes the low pn_len bytes of the packet number (RFC 9000 §17.1).
Status write_truncated_pn(Writer& w, uint64_t pn, size_t pn_len) {
  return w.be(pn & ((uint64_t{1} << (8 * pn_len)) - 1), pn_len);
}

Status parse_short(Reader& r, const HeaderParseOptions& opts, PacketHeader& h) {
  QB_ASSERT(opts.short_dcid_len <= kMaxCidLen);
  h.form = HeaderForm::kShort;
  h.type = PacketType::kOneRtt;
  QB_ASSIGN_OR_RETURN(h.dcid, r.bytes(opts.short_dcid_len, kDrop));
  h.pn_offset = r.position();
  return Status::ok();
}

// The Version Negotiation body after the CIDs: whole 32-bit versions up to
// the end of the datagram (RFC 9000 §17.2.1).
Status parse_version_negotiation(Reader& r, PacketHeader& h) {
  h.type = PacketType::kVersionNegotiation;
  if (r.remaining() % 4 != 0) return Status(kDrop, "version list not a multiple of 4");
  h.versions = VersionList(r.rest());
  return Status::ok();
}

// RFC 9000 §17.2.5: the Retry Token runs up to the 16-byte integrity tag,
// and a Retry with an empty token is discarded (§17.2.5.2).
Status parse_retry(Reader& r, PacketHeader& h) {
  if (r.remaining() <= kRetryIntegrityTagLen) return Status(kDrop, "retry without token");
  QB_ASSIGN_OR_RETURN(h.token, r.bytes(r.remaining() - kRetryIntegrityTagLen, kDrop));
  QB_ASSIGN_OR_RETURN(h.retry_integrity_tag, r.bytes(kRetryIntegrityTagLen, kDrop));
  return Status::ok();
}

// Initial (Token, RFC 9000 §17.2.2), 0-RTT and Handshake: Length then the
// protected packet number.
Status parse_length_and_pn(Reader& r, PacketHeader& h) {
  if (h.type == PacketType::kInitial) {
    QB_ASSIGN_OR_RETURN(uint64_t token_len, read_varint(r, kDrop));
    if (token_len > r.remaining()) return Status(kDrop, "truncated token");
    QB_ASSIGN_OR_RETURN(h.token, r.bytes(static_cast<size_t>(token_len), kDrop));
  }
  QB_ASSIGN_OR_RETURN(h.length, read_varint(r, kDrop));
  // RFC 9000 §12.2: a Length past the datagram's end makes the packet
  // unparseable; the caller drops the rest of the datagram with it.
  if (h.length > r.remaining()) return Status(kDrop, "length beyond datagram");
  h.pn_offset = r.position();
  h.packet_length = h.pn_offset + static_cast<size_t>(h.length);
  return Status::ok();
}

Status parse_long(Reader& r, const HeaderParseOptions& opts, PacketHeader& h) {
  h.form = HeaderForm::kLong;
  QB_ASSIGN_OR_RETURN(h.version, r.u32(kDrop));
  // v1 and v2 cap connection IDs at 20 bytes (RFC 9000 §17.2); other
  // versions are read with the invariants' 255 (RFC 8999 §5.1) so that a
  // server can still answer with Version Negotiation (RFC 9000 §6.1).
  const size_t max_cid = is_supported_version(h.version) ? kMaxCidLen : kMaxInvariantCidLen;
  QB_ASSIGN_OR_RETURN(h.dcid, read_cid(r, max_cid));
  QB_ASSIGN_OR_RETURN(h.scid, read_cid(r, max_cid));
  if (h.version == kVersionNegotiationVersion) return parse_version_negotiation(r, h);
  if (!is_supported_version(h.version)) return Status::ok();

  // RFC 9000 §17.2: a zero Fixed Bit is invalid unless greased (RFC 9287).
  // Version Negotiation and unknown versions are exempt: they do not
  // define this bit (RFC 8999).
  if (!(h.first_byte & kFixedBit) && !opts.accept_greased_fixed_bit) return Status(kDrop, "fixed bit is zero");
  h.type = long_type_from_bits(h.version, static_cast<uint8_t>((h.first_byte >> 4) & 0x03));
  if (h.type == PacketType::kRetry) return parse_retry(r, h);
  return parse_length_and_pn(r, h);
}

}  // namespace

uint8_t long_type_bits(uint32_t version, PacketType type) {
  QB_ASSERT(is_supported_version(version));
  uint8_t v1;
  switch (type) {
    case PacketType::kInitial: v1 = 0; break;
    case PacketType::kZeroRtt: v1 = 1; break;
    case PacketType::kHandshake: v1 = 2; break;
    case PacketType::kRetry: v1 = 3; break;
    default: QB_ASSERT(false && "not a long header type"); return 0;
  }
  // RFC 9369 §3.2: v2's codes are v1's plus one, modulo 4.
  return version == kVersion2 ? static_cast<uint8_t>((v1 + 1) & 0x03) : v1;
}

PacketType long_type_from_bits(uint32_t version, uint8_t bits) {
  QB_ASSERT(is_supported_version(version) && bits <= 3);
  const uint8_t v1 = version == kVersion2 ? static_cast<uint8_t>((bits + 3) & 0x03) : bits;
  constexpr PacketType kV1Types[4] = {PacketType::kInitial, PacketType::kZeroRtt, PacketType::kHandshake,
                                      PacketType::kRetry};
  return kV1Types[v1];
}

Status check_reserved_bits(uint8_t first) {
  const uint8_t reserved = (first & kHeaderFormBit) ? kLongReservedBits : kShortReservedBits;
  if (first & reserved) return Status(ErrorCode::kProtocolViolation, "reserved header bits set");
  return Status::ok();
}

uint32_t VersionList::Iterator::operator*() const { return load_be32(p_); }

VersionList::VersionList(Bytes raw) : raw_(raw) { QB_ASSERT(raw.size() % 4 == 0); }

uint32_t VersionList::operator[](size_t i) const {
  QB_ASSERT(i < size());
  return load_be32(raw_.data() + 4 * i);
}

bool VersionList::contains(uint32_t version) const {
  for (uint32_t v : *this) {
    if (v == version) return true;
  }
  return false;
}

Result<PacketHeader> parse_packet_header(Bytes in, const HeaderParseOptions& opts) {
  Reader r(in);
  PacketHeader h;
  QB_ASSIGN_OR_RETURN(h.first_byte, r.u8(kDrop));
  // Only Initial, 0-RTT and Handshake packets carry a Length; every other
  // packet extends to the end of the datagram (RFC 9000 §12.2).
  h.packet_length = in.size();
  if (h.first_byte & kHeaderFormBit) {
    QB_TRY(parse_long(r, opts, h));
    return h;
  }
  if (!(h.first_byte & kFixedBit) && !opts.accept_greased_fixed_bit) return Status(kDrop, "fixed bit is zero");
  QB_TRY(parse_short(r, opts, h));
  return h;
}

Result<LongHeaderLayout> write_long_header(Writer& w, const LongHeader& h) {
  if (!is_supported_version(h.version)) return Status(ErrorCode::kInvalidArgument, "unsupported version");
  if (h.type != PacketType::kInitial && h.type != PacketType::kZeroRtt && h.type != PacketType::kHandshake)
    return Status(ErrorCode::kInvalidArgument, "not a long header packet with a Length");
  if (h.dcid.size() > kMaxCidLen || h.scid.size() > kMaxCidLen)
    return Status(ErrorCode::kInvalidArgument, "connection ID too long");
  if (h.type != PacketType::kInitial && !h.token.empty())
    return Status(ErrorCode::kInvalidArgument, "token outside an Initial packet");
  if (!valid_pn_len(h.pn_len)) return Status(ErrorCode::kInvalidArgument, "packet number length");

  const bool initial = h.type == PacketType::kInitial;
  const size_t token_field = initial ? varint_size(h.token.size()) + h.token.size() : 0;
  const size_t size = 1 + 4 + 1 + h.dcid.size() + 1 + h.scid.size() + token_field + kLengthFieldLen + h.pn_len;
  if (w.remaining() < size) return ErrorCode::kBufferTooSmall;

  const size_t start = w.position();
  const uint8_t first = static_cast<uint8_t>(kHeaderFormBit | kFixedBit | long_type_bits(h.version, h.type) << 4 |
                                             (h.pn_len - 1));
  QB_TRY(w.u8(first));
  QB_TRY(w.u32(h.version));
  QB_TRY(write_cid(w, h.dcid));
  QB_TRY(write_cid(w, h.scid));
  if (initial) {
    QB_TRY(write_varint(w, h.token.size()));
    QB_TRY(w.bytes(h.token));
  }
  LongHeaderLayout layout;
  layout.length_offset = w.position() - start;
  QB_TRY(write_varint_fixed(w, 0, kLengthFieldLen));
  layout.pn_offset = w.position() - start;
  QB_TRY(write_truncated_pn(w, h.packet_number, h.pn_len));
  return layout;
}

Status write_length_field(MutBytes packet, size_t length_offset, uint64_t length) {
  if (length_offset > packet.size() || packet.size() - length_offset < kLengthFieldLen)
    return Status(ErrorCode::kInvalidArgument, "length field outside packet");
  if (length > kMaxFixedLength) return Status(ErrorCode::kInvalidArgument, "packet too long for its Length field");
  Writer w(packet.subspan(length_offset, kLengthFieldLen));
  return write_varint_fixed(w, length, kLengthFieldLen);
}

Result<size_t> write_short_header(Writer& w, const ShortHeader& h) {
  if (h.dcid.size() > kMaxCidLen) return Status(ErrorCode::kInvalidArgument, "connection ID too long");
  if (!valid_pn_len(h.pn_len)) return Status(ErrorCode::kInvalidArgument, "packet number length");
  if (w.remaining() < 1 + h.dcid.size() + h.pn_len) return ErrorCode::kBufferTooSmall;

  const uint8_t first = static_cast<uint8_t>(kFixedBit | (h.spin ? kSpinBit : 0) | (h.key_phase ? kKeyPhaseBit : 0) |
                                             (h.pn_len - 1));
  QB_TRY(w.u8(first));
  QB_TRY(w.bytes(h.dcid));
  const size_t pn_offset = 1 + h.dcid.size();
  QB_TRY(write_truncated_pn(w, h.packet_number, h.pn_len));
  return pn_offset;
}

Status write_version_negotiation(Writer& w, uint8_t random_bits, Bytes dcid, Bytes scid,
                                 std::span<const uint32_t> versions) {
  if (dcid.size() > kMaxInvariantCidLen || scid.size() > kMaxInvariantCidLen)
    return Status(ErrorCode::kInvalidArgument, "connection ID too long");
  if (versions.empty()) return Status(ErrorCode::kInvalidArgument, "no versions to offer");
  if (w.remaining() < 1 + 4 + 1 + dcid.size() + 1 + scid.size() + 4 * versions.size())
    return ErrorCode::kBufferTooSmall;

  QB_TRY(w.u8(static_cast<uint8_t>(kHeaderFormBit | kFixedBit | (random_bits & 0x3f))));
  QB_TRY(w.u32(kVersionNegotiationVersion));
  QB_TRY(write_cid(w, dcid));
  QB_TRY(write_cid(w, scid));
  for (uint32_t v : versions) QB_TRY(w.u32(v));
  return Status::ok();
}

Status write_retry_without_tag(Writer& w, uint32_t version, uint8_t unused_bits, Bytes dcid, Bytes scid,
                               Bytes token) {
  if (!is_supported_version(version)) return Status(ErrorCode::kInvalidArgument, "unsupported version");
  if (dcid.size() > kMaxCidLen || scid.size() > kMaxCidLen)
    return Status(ErrorCode::kInvalidArgument, "connection ID too long");
  // A client discards a Retry with an empty token (RFC 9000 §17.2.5.2).
  if (token.empty()) return Status(ErrorCode::kInvalidArgument, "empty retry token");
  if (w.remaining() < 1 + 4 + 1 + dcid.size() + 1 + scid.size() + token.size()) return ErrorCode::kBufferTooSmall;

  QB_TRY(w.u8(static_cast<uint8_t>(kHeaderFormBit | kFixedBit | long_type_bits(version, PacketType::kRetry) << 4 |
                                   (unused_bits & 0x0f))));
  QB_TRY(w.u32(version));
  QB_TRY(write_cid(w, dcid));
  QB_TRY(write_cid(w, scid));
  return w.bytes(token);
}

size_t packet_number_length(uint64_t full_pn, uint64_t largest_acked) {
  QB_ASSERT(full_pn <= kVarintMax);
  QB_ASSERT(largest_acked == kNoPacketNumber || largest_acked < full_pn);
  const uint64_t num_unacked = largest_acked == kNoPacketNumber ? full_pn + 1 : full_pn - largest_acked;
  // RFC 9000 §17.1: the encoding must cover "more than twice" the distance,
  // i.e. 2^(8*len) > 2 * num_unacked. (Appendix A.2's log2 sketch also
  // accepts equality, at exact powers of two; we keep the normative text.)
  for (size_t len = 1; len < kMaxPnLen; ++len) {
    if (2 * num_unacked < (uint64_t{1} << (8 * len))) return len;
  }
  // Further than 2^31 packets ahead of the peer's acknowledgments: no
  // encoding is unambiguous, the widest is the best effort.
  return kMaxPnLen;
}

uint64_t decode_packet_number(uint64_t largest_pn, uint64_t truncated_pn, size_t pn_len) {
  QB_ASSERT(valid_pn_len(pn_len));
  const uint64_t window = uint64_t{1} << (8 * pn_len);
  const uint64_t half_window = window / 2;
  const uint64_t mask = window - 1;
  QB_ASSERT(truncated_pn <= mask);
  const uint64_t expected = largest_pn == kNoPacketNumber ? 0 : largest_pn + 1;
  const uint64_t candidate = (expected & ~mask) | truncated_pn;
  // Appendix A.3, with "candidate <= expected - half_window" rearranged so
  // that nothing underflows near zero.
  if (candidate + half_window <= expected && candidate < (uint64_t{1} << 62) - window) return candidate + window;
  if (candidate > expected + half_window && candidate >= window) return candidate - window;
  return candidate;
}

}  // namespace quicbed
