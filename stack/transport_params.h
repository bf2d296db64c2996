// QUIC transport parameters (RFC 9000 §7.4, §18): the declarations each
// endpoint makes in the TLS quic_transport_parameters extension (RFC 9001
// §8.2), plus the extensions this stack speaks: max_datagram_frame_size
// (RFC 9221 §3), grease_quic_bit (RFC 9287 §3) and version_information
// (RFC 9368 §3).
//
// The struct owns every value inline (connection IDs, tokens, versions), so
// it outlives the TLS buffer it was parsed from and needs no allocator.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bounded.h"
#include "base/bytes.h"
#include "cid.h"

namespace quicbed {

// Which endpoint sent (or is sending) a set of parameters: RFC 9000 §18.2
// forbids some parameters from clients, and RFC 9368 §4 checks the client's
// version list differently from the server's.
enum class Role : uint8_t { kClient, kServer };

// Parameter identifiers (RFC 9000 §18.2, RFC 9221 §3, RFC 9287 §3, RFC 9368 §3).
enum class TransportParameterId : uint64_t {
  kOriginalDestinationConnectionId = 0x00,
  kMaxIdleTimeout = 0x01,
  kStatelessResetToken = 0x02,
  kMaxUdpPayloadSize = 0x03,
  kInitialMaxData = 0x04,
  kInitialMaxStreamDataBidiLocal = 0x05,
  kInitialMaxStreamDataBidiRemote = 0x06,
  kInitialMaxStreamDataUni = 0x07,
  kInitialMaxStreamsBidi = 0x08,
  kInitialMaxStreamsUni = 0x09,
  kAckDelayExponent = 0x0a,
  kMaxAckDelay = 0x0b,
  kDisableActiveMigration = 0x0c,
  kPreferredAddress = 0x0d,
  kActiveConnectionIdLimit = 0x0e,
  kInitialSourceConnectionId = 0x0f,
  kRetrySourceConnectionId = 0x10,
  kVersionInformation = 0x11,
  kMaxDatagramFrameSize = 0x20,
  kGreaseQuicBit = 0x2ab2,
};

// A reserved parameter to add when serializing: RFC 9000 §18.1 sets aside
// identifiers 31*N+27 to exercise the rule that unknown parameters are
// ignored. The core has no RNG, so the caller picks N and the value bytes.
struct GreaseTransportParameter {
  uint64_t n = 0;  // 31*n+27 must stay a varint: n <= kMaxN
  Bytes value;

  static constexpr uint64_t kMaxN = ((uint64_t{1} << 62) - 1 - 27) / 31;
  constexpr uint64_t id() const { return 31 * n + 27; }
};

struct TransportParameters {
  // RFC 9000 §18.2 defaults that are not 0.
  static constexpr uint64_t kDefaultMaxUdpPayloadSize = 65527;
  static constexpr uint64_t kDefaultAckDelayExponent = 3;
  static constexpr uint64_t kDefaultMaxAckDelay = 25;  // ms
  static constexpr uint64_t kDefaultActiveConnectionIdLimit = 2;

  // RFC 9000 §18.2, Figure 22.
  struct PreferredAddress {
    uint8_t ipv4_address[4] = {};
    uint16_t ipv4_port = 0;
    uint8_t ipv6_address[16] = {};
    uint16_t ipv6_port = 0;
    ConnectionId connection_id;  // never empty on the wire
    uint8_t stateless_reset_token[kStatelessResetTokenLen] = {};
    bool operator==(const PreferredAddress&) const = default;
  };

  // RFC 9368 §3. Available Versions is kept in wire order, without the
  // reserved 0x?a?a?a?a versions (RFC 9368 §3: never selected, so they carry
  // nothing for negotiation or downgrade checks), up to kMaxAvailable
  // entries. A peer listing more real versions than that is not in error:
  // the first kMaxAvailable are kept (for a client, its most preferred) and
  // `available_truncated` is set, so a downgrade check (RFC 9368 §4) knows
  // the list is incomplete (serialize() refuses such a list). Validation
  // (zero versions, the client's Chosen Version being listed) always runs
  // over the full wire list.
  struct VersionInformation {
    static constexpr size_t kMaxAvailable = 16;
    uint32_t chosen_version = 0;
    BoundedVec<uint32_t, kMaxAvailable> available_versions;
    bool available_truncated = false;

    bool operator==(const VersionInformation& o) const;
  };

  // Presence flags mark the parameters whose absence means something other
  // than a value; every other field holds its RFC default when absent.
  bool has_original_destination_connection_id = false;  // server only
  ConnectionId original_destination_connection_id;
  uint64_t max_idle_timeout = 0;  // ms; 0 disables (RFC 9000 §10.1)
  bool has_stateless_reset_token = false;  // server only
  uint8_t stateless_reset_token[kStatelessResetTokenLen] = {};
  uint64_t max_udp_payload_size = kDefaultMaxUdpPayloadSize;  // >= 1200
  uint64_t initial_max_data = 0;
  uint64_t initial_max_stream_data_bidi_local = 0;
  uint64_t initial_max_stream_data_bidi_remote = 0;
  uint64_t initial_max_stream_data_uni = 0;
  uint64_t initial_max_streams_bidi = 0;  // <= 2^60
  uint64_t initial_max_streams_uni = 0;   // <= 2^60
  uint64_t ack_delay_exponent = kDefaultAckDelayExponent;  // <= 20
  uint64_t max_ack_delay = kDefaultMaxAckDelay;  // ms, < 2^14
  bool disable_active_migration = false;
  bool has_preferred_address = false;  // server only
  PreferredAddress preferred_address;
  uint64_t active_connection_id_limit = kDefaultActiveConnectionIdLimit;  // >= 2
  bool has_initial_source_connection_id = false;  // required from both
  ConnectionId initial_source_connection_id;
  bool has_retry_source_connection_id = false;  // server only
  ConnectionId retry_source_connection_id;
  uint64_t max_datagram_frame_size = 0;  // 0: DATAGRAM not supported (RFC 9221 §3)
  bool grease_quic_bit = false;          // RFC 9287 §3
  bool has_version_information = false;
  VersionInformation version_information;

  bool operator==(const TransportParameters&) const = default;

  // Decodes the extension body sent by `sender`. Every violation is
  // TRANSPORT_PARAMETER_ERROR (RFC 9000 §7.4): truncation, a value whose
  // length does not match its content, a duplicate, an invalid value, a
  // server-only parameter from a client, or a missing required one (§7.3).
  // Unknown and reserved parameters are skipped (§18.1). A duplicate is only
  // detectable for the parameters this stack knows; unknown ones are not
  // remembered.
  static Result<TransportParameters> parse(Bytes in, Role sender);

  // Encodes the parameters `sender` sends, omitting integers equal to their
  // defaults; with `grease`, a reserved parameter goes last.
  // kInvalidArgument if the struct breaks a rule parse() enforces (we never
  // send what we would reject), kBufferTooSmall if `w` runs out (its
  // position is then unspecified).
  Status serialize(Writer& w, Role sender, const GreaseTransportParameter* grease = nullptr) const;

  // The rules on values, presence and roles shared by parse() and
  // serialize(); fails with TRANSPORT_PARAMETER_ERROR.
  Status validate(Role sender) const;
};

}  // namespace quicbed
