// QUIC packet headers: versions (RFC 9000 §15, RFC 9369), parsing the
// packets of a datagram before header protection is removed (RFC 9000 §17,
// RFC 8999 for versions we do not speak), serializing headers, and packet
// number encoding (RFC 9000 §17.1, Appendix A).
//
// Packet protection is not here (protection.{h,cpp}): it takes pn_offset and
// packet_length from a parsed PacketHeader, or from the writers' layouts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.h"
#include "cid.h"
#include "packet_type.h"

namespace quicbed {

// --- Versions ---------------------------------------------------------------

inline constexpr uint32_t kVersion1 = 0x00000001;  // RFC 9000
inline constexpr uint32_t kVersion2 = 0x6b3343cf;  // RFC 9369 §3.1
// RFC 9000 §17.2.1: the Version field of a Version Negotiation packet.
inline constexpr uint32_t kVersionNegotiationVersion = 0;

// RFC 9000 §15: versions 0x?a?a?a?a are reserved to exercise version
// negotiation; an endpoint never supports them.
constexpr bool is_reserved_version(uint32_t v) { return (v & 0x0f0f0f0fu) == 0x0a0a0a0au; }
// The versions whose long headers this codec parses beyond the invariants.
constexpr bool is_supported_version(uint32_t v) { return v == kVersion1 || v == kVersion2; }

// --- Header layout constants ------------------------------------------------

inline constexpr size_t kMaxInvariantCidLen = 255;   // RFC 8999 §5.1
inline constexpr size_t kRetryIntegrityTagLen = 16;  // RFC 9001 §5.8
inline constexpr size_t kMaxPnLen = 4;               // RFC 9000 §17.1
// Width of the Length field the long header writer reserves: a 2-byte
// varint holds up to 16383, more than any long header packet we send.
inline constexpr size_t kLengthFieldLen = 2;
// "No packet number yet" for largest acknowledged / largest received.
inline constexpr uint64_t kNoPacketNumber = ~uint64_t{0};

// Long Packet Type field (RFC 9000 §17.2 for v1, RFC 9369 §3.2 for v2).
// `type` must be kInitial, kZeroRtt, kHandshake or kRetry and `version`
// supported.
uint8_t long_type_bits(uint32_t version, PacketType type);
// Every 2-bit value names a type in both versions.
PacketType long_type_from_bits(uint32_t version, uint8_t bits);

// First-byte fields once header protection is removed (RFC 9000 §17.2,
// §17.3.1).
constexpr size_t pn_length_from_first_byte(uint8_t first) { return size_t{(first & 0x03u)} + 1; }
constexpr bool key_phase_bit(uint8_t first) { return (first & 0x04u) != 0; }  // short header only
// Reserved bits (0x0c long, 0x18 short) must be zero: PROTOCOL_VIOLATION,
// checked only after packet protection is removed too (RFC 9000 §17.2).
Status check_reserved_bits(uint8_t first);

// --- Parsing ----------------------------------------------------------------

enum class HeaderForm : uint8_t { kLong, kShort };

// The Supported Version list of a Version Negotiation packet: a view into
// the datagram, read as big-endian 32-bit versions.
class VersionList {
 public:
  class Iterator {
   public:
    explicit Iterator(const uint8_t* p) : p_(p) {}
    uint32_t operator*() const;
    Iterator& operator++() {
      p_ += 4;
      return *this;
    }
    bool operator==(const Iterator&) const = default;

   private:
    const uint8_t* p_;
  };

  VersionList() = default;
  // raw.size() must be a multiple of 4 (the parser drops other packets).
  explicit VersionList(Bytes raw);

  size_t size() const { return raw_.size() / 4; }
  bool empty() const { return raw_.empty(); }
  uint32_t operator[](size_t i) const;
  // RFC 9000 §6.2: a client discards a Version Negotiation packet that
  // lists the version it attempted.
  bool contains(uint32_t version) const;
  Bytes raw() const { return raw_; }
  Iterator begin() const { return Iterator(raw_.data()); }
  Iterator end() const { return Iterator(raw_.data() + raw_.size()); }

 private:
  Bytes raw_;
};

// One packet's header as received, header protection still applied: the
// reserved bits, packet number length and packet number are unreadable
// until protection.{h,cpp} removes it. Spans point into the parsed input.
struct PacketHeader {
  HeaderForm form = HeaderForm::kShort;
  // Meaningful unless has_invariants_only().
  PacketType type = PacketType::kOneRtt;
  uint32_t version = 0;    // long header only
  uint8_t first_byte = 0;  // as received (low bits protected)
  Bytes dcid;
  Bytes scid;                 // long header only
  Bytes token;                // Initial: Token; Retry: Retry Token
  Bytes retry_integrity_tag;  // Retry: the last 16 bytes
  VersionList versions;       // Version Negotiation: Supported Version list
  uint64_t length = 0;        // Initial, 0-RTT, Handshake: the Length field
  // From the packet's first byte; set for Initial, 0-RTT, Handshake, 1-RTT.
  size_t pn_offset = 0;
  // Bytes of this packet in the input; the next coalesced packet (RFC 9000
  // §12.2) starts here. Packets without a Length field (short header,
  // Retry, Version Negotiation, unknown versions) take the whole rest.
  size_t packet_length = 0;

  // A long header of a version we do not speak: only form, version, dcid
  // and scid are set (RFC 8999), enough to answer with Version Negotiation.
  bool has_invariants_only() const {
    return form == HeaderForm::kLong && version != kVersionNegotiationVersion && !is_supported_version(version);
  }
};

struct HeaderParseOptions {
  // Short headers do not carry the Destination Connection ID length: it is
  // the length of the connection IDs this endpoint issues (RFC 9000 §17.3).
  size_t short_dcid_len = 0;
  // RFC 9287: when this endpoint advertised grease_quic_bit, a zero Fixed
  // Bit is accepted; otherwise such packets are dropped (RFC 9000 §17.2).
  bool accept_greased_fixed_bit = false;
};

// Parses the packet at the start of `in` (a datagram's remaining bytes).
// Malformed headers fail with kDropPacket: they are discarded, never a
// connection error (RFC 9000 §5.2, §12.2).
Result<PacketHeader> parse_packet_header(Bytes in, const HeaderParseOptions& opts);

// --- Serializing ------------------------------------------------------------
// Each writer checks its arguments (kInvalidArgument) and the room left
// (kBufferTooSmall) before writing anything. Offsets they return count from
// the packet's first byte, i.e. from the Writer's position at the call.

struct LongHeader {
  PacketType type = PacketType::kInitial;  // kInitial, kZeroRtt or kHandshake
  uint32_t version = kVersion1;            // a supported version
  Bytes dcid{};                            // up to kMaxCidLen
  Bytes scid{};                            // up to kMaxCidLen
  Bytes token{};                           // Initial only (RFC 9000 §17.2.2)
  uint64_t packet_number = 0;              // full; its low pn_len bytes are sent
  size_t pn_len = 1;                       // 1..4
};

struct LongHeaderLayout {
  size_t length_offset = 0;  // the reserved kLengthFieldLen-byte Length field
  size_t pn_offset = 0;
};

// Writes the header up to and including the packet number, with a zero
// Length field to fill by write_length_field once the payload is sealed.
Result<LongHeaderLayout> write_long_header(Writer& w, const LongHeader& h);
// Fills the Length field (packet number + payload + AEAD tag bytes) of the
// packet starting at `packet`; kInvalidArgument above 16383.
Status write_length_field(MutBytes packet, size_t length_offset, uint64_t length);

struct ShortHeader {
  Bytes dcid{};  // up to kMaxCidLen
  uint64_t packet_number = 0;
  size_t pn_len = 1;
  bool spin = false;       // RFC 9000 §17.4
  bool key_phase = false;  // RFC 9001 §6
};

// Writes a 1-RTT header up to and including the packet number; returns the
// packet number offset.
Result<size_t> write_short_header(Writer& w, const ShortHeader& h);

// RFC 9000 §17.2.1, sent by a server: `dcid`/`scid` echo the client's
// Source/Destination Connection IDs. The core has no RNG, so the host
// supplies `random_bits` for the unused first-byte bits; the 0x40 bit is
// always set so the packet looks like QUIC to demultiplexers (RFC 7983).
Status write_version_negotiation(Writer& w, uint8_t random_bits, Bytes dcid, Bytes scid,
                                 std::span<const uint32_t> versions);

// RFC 9000 §17.2.5 up to the Retry Token; the caller appends the Retry
// Integrity Tag (RFC 9001 §5.8) computed from these bytes. The low 4 bits of
// `unused_bits` fill the Unused field.
Status write_retry_without_tag(Writer& w, uint32_t version, uint8_t unused_bits, Bytes dcid, Bytes scid,
                               Bytes token);

// --- Packet numbers (RFC 9000 §17.1) ----------------------------------------

// Bytes (1..4) to send `full_pn` given the largest packet number the peer
// acknowledged in this space (kNoPacketNumber if none), per Appendix A.2.
size_t packet_number_length(uint64_t full_pn, uint64_t largest_acked);
// The full packet number closest to the next expected one, given the
// largest received in this space (kNoPacketNumber if none), per Appendix A.3.
uint64_t decode_packet_number(uint64_t largest_pn, uint64_t truncated_pn, size_t pn_len);

}  // namespace quicbed
