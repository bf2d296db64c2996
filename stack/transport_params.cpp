#include "transport_params.h"

#include "frame.h"   // kMaxStreamCount
#include "packet.h"  // is_reserved_version
#include "varint.h"

namespace quicbed {

namespace {

using Id = TransportParameterId;
using TP = TransportParameters;
constexpr ErrorCode kTpError = ErrorCode::kTransportParameterError;

// RFC 9000 §18.2 value ranges, and §4.6 for the stream counts.
constexpr uint64_t kMinUdpPayloadSize = 1200;
constexpr uint64_t kMaxAckDelayExponent = 20;
constexpr uint64_t kMaxAckDelayLimit = 1u << 14;  // exclusive
constexpr uint64_t kMinActiveCidLimit = 2;
// RFC 9000 §18.2, Figure 22: the fixed part of preferred_address.
constexpr size_t kPreferredAddressFixedLen = 4 + 2 + 16 + 2 + 1 + kStatelessResetTokenLen;

// A bit per known parameter, to catch duplicates (RFC 9000 §7.4).
int known_index(uint64_t id) {
  if (id <= static_cast<uint64_t>(Id::kVersionInformation)) return static_cast<int>(id);
  if (id == static_cast<uint64_t>(Id::kMaxDatagramFrameSize)) return 18;
  if (id == static_cast<uint64_t>(Id::kGreaseQuicBit)) return 19;
  return -1;
}

// An integer parameter: one varint filling the value exactly (RFC 9000 §18).
Result<uint64_t> varint_value(Bytes value) {
  Reader r(value);
  QB_ASSIGN_OR_RETURN(uint64_t v, read_varint(r, kTpError));
  if (!r.empty()) return Status(kTpError, "transport parameter longer than its varint");
  return v;
}

Status cid_value(Bytes value, ConnectionId& out) {
  if (!out.assign(value)) return Status(kTpError, "connection ID over 20 bytes");
  return Status::ok();
}

Status preferred_address_value(Bytes value, TP::PreferredAddress& pa) {
  Reader r(value);
  QB_ASSIGN_OR_RETURN(Bytes v4, r.bytes(sizeof pa.ipv4_address, kTpError));
  copy_bytes(pa.ipv4_address, v4.data(), v4.size());
  QB_ASSIGN_OR_RETURN(pa.ipv4_port, r.u16(kTpError));
  QB_ASSIGN_OR_RETURN(Bytes v6, r.bytes(sizeof pa.ipv6_address, kTpError));
  copy_bytes(pa.ipv6_address, v6.data(), v6.size());
  QB_ASSIGN_OR_RETURN(pa.ipv6_port, r.u16(kTpError));
  QB_ASSIGN_OR_RETURN(uint8_t cid_len, r.u8(kTpError));
  QB_ASSIGN_OR_RETURN(Bytes cid, r.bytes(cid_len, kTpError));
  QB_TRY(cid_value(cid, pa.connection_id));
  QB_ASSIGN_OR_RETURN(Bytes token, r.bytes(sizeof pa.stateless_reset_token, kTpError));
  copy_bytes(pa.stateless_reset_token, token.data(), token.size());
  if (!r.empty()) return Status(kTpError, "preferred_address longer than its fields");
  return Status::ok();
}

// RFC 9368 §4: a value too short, not a multiple of four, or holding a zero
// version is a parsing failure (TRANSPORT_PARAMETER_ERROR in QUIC v1), and so
// is a client's Chosen Version missing from its Available Versions.
Status version_information_value(Bytes value, Role sender, TP::VersionInformation& vi) {
  if (value.size() < 4 || value.size() % 4 != 0) return Status(kTpError, "version_information length");
  Reader r(value);
  QB_ASSIGN_OR_RETURN(vi.chosen_version, r.u32(kTpError));
  if (vi.chosen_version == 0) return Status(kTpError, "version_information chosen version 0");
  bool chosen_listed = false;
  while (!r.empty()) {
    QB_ASSIGN_OR_RETURN(uint32_t v, r.u32(kTpError));
    if (v == 0) return Status(kTpError, "version_information available version 0");
    chosen_listed |= v == vi.chosen_version;
    if (is_reserved_version(v)) continue;
    if (!vi.available_versions.push_back(v)) vi.available_truncated = true;
  }
  if (sender == Role::kClient && !chosen_listed) return Status(kTpError, "chosen version not in available versions");
  return Status::ok();
}

// The integer parameters (RFC 9000 §18.2, RFC 9221 §3): one varint each,
// omitted on the wire when equal to the default.
struct IntegerParam {
  Id id;
  uint64_t TP::*field;
  uint64_t default_value;
};
constexpr IntegerParam kIntegerParams[] = {
    {Id::kMaxIdleTimeout, &TP::max_idle_timeout, 0},
    {Id::kMaxUdpPayloadSize, &TP::max_udp_payload_size, TP::kDefaultMaxUdpPayloadSize},
    {Id::kInitialMaxData, &TP::initial_max_data, 0},
    {Id::kInitialMaxStreamDataBidiLocal, &TP::initial_max_stream_data_bidi_local, 0},
    {Id::kInitialMaxStreamDataBidiRemote, &TP::initial_max_stream_data_bidi_remote, 0},
    {Id::kInitialMaxStreamDataUni, &TP::initial_max_stream_data_uni, 0},
    {Id::kInitialMaxStreamsBidi, &TP::initial_max_streams_bidi, 0},
    {Id::kInitialMaxStreamsUni, &TP::initial_max_streams_uni, 0},
    {Id::kAckDelayExponent, &TP::ack_delay_exponent, TP::kDefaultAckDelayExponent},
    {Id::kMaxAckDelay, &TP::max_ack_delay, TP::kDefaultMaxAckDelay},
    {Id::kActiveConnectionIdLimit, &TP::active_connection_id_limit, TP::kDefaultActiveConnectionIdLimit},
    {Id::kMaxDatagramFrameSize, &TP::max_datagram_frame_size, 0},
};

Status decode_one(TP& tp, uint64_t id, Bytes value, Role sender) {
  for (const IntegerParam& p : kIntegerParams) {
    if (static_cast<uint64_t>(p.id) != id) continue;
    QB_ASSIGN_OR_RETURN(tp.*p.field, varint_value(value));
    return Status::ok();
  }
  switch (static_cast<Id>(id)) {
    case Id::kOriginalDestinationConnectionId:
      tp.has_original_destination_connection_id = true;
      return cid_value(value, tp.original_destination_connection_id);
    case Id::kStatelessResetToken:
      if (value.size() != sizeof tp.stateless_reset_token) return Status(kTpError, "stateless_reset_token length");
      tp.has_stateless_reset_token = true;
      copy_bytes(tp.stateless_reset_token, value.data(), value.size());
      return Status::ok();
    case Id::kDisableActiveMigration:
      // RFC 9000 §18.2: a zero-length value.
      if (!value.empty()) return Status(kTpError, "disable_active_migration has a value");
      tp.disable_active_migration = true;
      return Status::ok();
    case Id::kPreferredAddress:
      tp.has_preferred_address = true;
      return preferred_address_value(value, tp.preferred_address);
    case Id::kInitialSourceConnectionId:
      tp.has_initial_source_connection_id = true;
      return cid_value(value, tp.initial_source_connection_id);
    case Id::kRetrySourceConnectionId:
      tp.has_retry_source_connection_id = true;
      return cid_value(value, tp.retry_source_connection_id);
    case Id::kVersionInformation:
      tp.has_version_information = true;
      return version_information_value(value, sender, tp.version_information);
    case Id::kGreaseQuicBit:
      // RFC 9287 §3: sent empty; a non-empty value is an error.
      if (!value.empty()) return Status(kTpError, "grease_quic_bit has a value");
      tp.grease_quic_bit = true;
      return Status::ok();
    default:
      return Status::ok();  // unknown or reserved (RFC 9000 §18.1): ignored
  }
}

// One (id, length, value) tuple of RFC 9000 §18, Figure 21.
Status write_header(Writer& w, Id id, size_t len) {
  QB_TRY(write_varint(w, static_cast<uint64_t>(id)));
  return write_varint(w, len);
}

Status write_bytes_param(Writer& w, Id id, Bytes value) {
  QB_TRY(write_header(w, id, value.size()));
  return w.bytes(value);
}

Status write_preferred_address(Writer& w, const TP::PreferredAddress& pa) {
  QB_TRY(write_header(w, Id::kPreferredAddress, kPreferredAddressFixedLen + pa.connection_id.len));
  QB_TRY(w.bytes(Bytes(pa.ipv4_address, sizeof pa.ipv4_address)));
  QB_TRY(w.u16(pa.ipv4_port));
  QB_TRY(w.bytes(Bytes(pa.ipv6_address, sizeof pa.ipv6_address)));
  QB_TRY(w.u16(pa.ipv6_port));
  QB_TRY(w.u8(pa.connection_id.len));
  QB_TRY(w.bytes(pa.connection_id.view()));
  return w.bytes(Bytes(pa.stateless_reset_token, sizeof pa.stateless_reset_token));
}

Status write_version_information(Writer& w, const TP::VersionInformation& vi) {
  QB_TRY(write_header(w, Id::kVersionInformation, 4 * (1 + vi.available_versions.size())));
  QB_TRY(w.u32(vi.chosen_version));
  for (uint32_t v : vi.available_versions) QB_TRY(w.u32(v));
  return Status::ok();
}

}  // namespace

bool TransportParameters::VersionInformation::operator==(const VersionInformation& o) const {
  if (chosen_version != o.chosen_version || available_truncated != o.available_truncated ||
      available_versions.size() != o.available_versions.size())
    return false;
  for (size_t i = 0; i < available_versions.size(); ++i)
    if (available_versions[i] != o.available_versions[i]) return false;
  return true;
}

Result<TransportParameters> TransportParameters::parse(Bytes in, Role sender) {
  TransportParameters tp;
  uint32_t seen = 0;
  Reader r(in);
  while (!r.empty()) {
    QB_ASSIGN_OR_RETURN(uint64_t id, read_varint(r, kTpError));
    QB_ASSIGN_OR_RETURN(uint64_t len, read_varint(r, kTpError));
    if (len > r.remaining()) return Status(kTpError, "transport parameter truncated");
    QB_ASSIGN_OR_RETURN(Bytes value, r.bytes(static_cast<size_t>(len), kTpError));
    int bit = known_index(id);
    if (bit >= 0) {
      // RFC 9000 §7.4: a parameter sent twice.
      if (seen & (uint32_t{1} << bit)) return Status(kTpError, "duplicate transport parameter");
      seen |= uint32_t{1} << bit;
    }
    QB_TRY(decode_one(tp, id, value, sender));
  }
  QB_TRY(tp.validate(sender));
  return tp;
}

Status TransportParameters::validate(Role sender) const {
  // RFC 9000 §18.2: parameters only a server may send.
  if (sender == Role::kClient && (has_original_destination_connection_id || has_stateless_reset_token ||
                                  has_preferred_address || has_retry_source_connection_id))
    return Status(kTpError, "server-only transport parameter from a client");
  // RFC 9000 §7.3: both send initial_source_connection_id, the server also
  // original_destination_connection_id.
  if (!has_initial_source_connection_id) return Status(kTpError, "missing initial_source_connection_id");
  if (sender == Role::kServer && !has_original_destination_connection_id)
    return Status(kTpError, "missing original_destination_connection_id");
  // RFC 9000 §18.2 value ranges.
  if (max_udp_payload_size < kMinUdpPayloadSize) return Status(kTpError, "max_udp_payload_size below 1200");
  if (ack_delay_exponent > kMaxAckDelayExponent) return Status(kTpError, "ack_delay_exponent above 20");
  if (max_ack_delay >= kMaxAckDelayLimit) return Status(kTpError, "max_ack_delay of 2^14 or more");
  if (active_connection_id_limit < kMinActiveCidLimit) return Status(kTpError, "active_connection_id_limit below 2");
  // RFC 9000 §4.6: a stream count above 2^60 cannot be expressed as stream IDs.
  if (initial_max_streams_bidi > kMaxStreamCount || initial_max_streams_uni > kMaxStreamCount)
    return Status(kTpError, "initial_max_streams above 2^60");
  // RFC 9000 §18.2: a server using a zero-length connection ID must not send
  // preferred_address, whose own connection ID must not be empty.
  if (has_preferred_address &&
      (preferred_address.connection_id.len == 0 || initial_source_connection_id.len == 0))
    return Status(kTpError, "preferred_address with a zero-length connection ID");
  if (has_version_information) {
    // RFC 9368 §4 (parse() checks the same on the full wire list).
    const VersionInformation& vi = version_information;
    if (vi.chosen_version == 0) return Status(kTpError, "version_information chosen version 0");
    bool chosen_listed = is_reserved_version(vi.chosen_version) || vi.available_truncated;
    for (uint32_t v : vi.available_versions) {
      if (v == 0) return Status(kTpError, "version_information available version 0");
      chosen_listed |= v == vi.chosen_version;
    }
    if (sender == Role::kClient && !chosen_listed) return Status(kTpError, "chosen version not in available versions");
  }
  return Status::ok();
}

Status TransportParameters::serialize(Writer& w, Role sender, const GreaseTransportParameter* grease) const {
  Status valid = validate(sender);
  if (!valid) return Status(ErrorCode::kInvalidArgument, valid.reason());
  if (grease && grease->n > GreaseTransportParameter::kMaxN) return Status(ErrorCode::kInvalidArgument, "grease id");
  // A list cut at the bound is what a peer sent, not something to send.
  if (has_version_information && version_information.available_truncated)
    return Status(ErrorCode::kInvalidArgument, "truncated version_information");

  if (has_original_destination_connection_id)
    QB_TRY(write_bytes_param(w, Id::kOriginalDestinationConnectionId, original_destination_connection_id.view()));
  if (has_stateless_reset_token)
    QB_TRY(write_bytes_param(w, Id::kStatelessResetToken, Bytes(stateless_reset_token, sizeof stateless_reset_token)));
  for (const IntegerParam& p : kIntegerParams) {
    uint64_t v = this->*p.field;
    if (v == p.default_value) continue;
    QB_TRY(write_header(w, p.id, varint_size(v)));
    QB_TRY(write_varint(w, v));
  }
  if (disable_active_migration) QB_TRY(write_header(w, Id::kDisableActiveMigration, 0));
  if (has_preferred_address) QB_TRY(write_preferred_address(w, preferred_address));
  QB_TRY(write_bytes_param(w, Id::kInitialSourceConnectionId, initial_source_connection_id.view()));
  if (has_retry_source_connection_id)
    QB_TRY(write_bytes_param(w, Id::kRetrySourceConnectionId, retry_source_connection_id.view()));
  if (has_version_information) QB_TRY(write_version_information(w, version_information));
  if (grease_quic_bit) QB_TRY(write_header(w, Id::kGreaseQuicBit, 0));
  if (grease) {
    QB_TRY(write_varint(w, grease->id()));
    QB_TRY(write_varint(w, grease->value.size()));
    QB_TRY(w.bytes(grease->value));
  }
  return Status::ok();
}

}  // namespace quicbed
