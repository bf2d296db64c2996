#include "transport_params.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hex.h"
#include "varint.h"

namespace quicbed {
namespace {

using test::as_bytes;
using test::from_hex;
using test::to_hex;
using TP = TransportParameters;
using Id = TransportParameterId;
constexpr ErrorCode kTpe = ErrorCode::kTransportParameterError;

using Buf = std::vector<uint8_t>;

ConnectionId cid(const char* hex) {
  Buf b = from_hex(hex);
  ConnectionId c;
  EXPECT_TRUE(c.assign(as_bytes(b)));
  return c;
}

void append_varint(Buf& out, uint64_t v) {
  uint8_t tmp[8];
  Writer w(MutBytes(tmp, sizeof tmp));
  EXPECT_TRUE(write_varint(w, v).is_ok());
  out.insert(out.end(), tmp, tmp + w.position());
}

// One (id, length, value) tuple, RFC 9000 §18 Figure 21.
Buf tlv(uint64_t id, const Buf& value) {
  Buf out;
  append_varint(out, id);
  append_varint(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}
Buf tlv(Id id, const Buf& value) { return tlv(static_cast<uint64_t>(id), value); }
Buf tlv(Id id, const char* hex) { return tlv(id, from_hex(hex)); }
Buf int_tlv(Id id, uint64_t v) {
  Buf value;
  append_varint(value, v);
  return tlv(id, value);
}

Buf cat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const Buf& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The parameters every endpoint must send (RFC 9000 §7.3).
Buf required(Role sender) {
  Buf iscid = tlv(Id::kInitialSourceConnectionId, "c1c2c3c4");
  if (sender == Role::kClient) return iscid;
  return cat({tlv(Id::kOriginalDestinationConnectionId, "0d0d0d0d0d0d0d0d"), iscid});
}

TP minimal(Role sender) {
  TP tp;
  tp.has_initial_source_connection_id = true;
  tp.initial_source_connection_id = cid("c1c2c3c4");
  if (sender == Role::kServer) {
    tp.has_original_destination_connection_id = true;
    tp.original_destination_connection_id = cid("0d0d0d0d0d0d0d0d");
  }
  return tp;
}

Buf encode(const TP& tp, Role sender, const GreaseTransportParameter* grease = nullptr) {
  Buf out(4096);
  Writer w(MutBytes(out.data(), out.size()));
  Status s = tp.serialize(w, sender, grease);
  EXPECT_TRUE(s.is_ok()) << s.reason();
  out.resize(w.position());
  return out;
}

ErrorCode parse_error(const Buf& in, Role sender) {
  auto r = TP::parse(as_bytes(in), sender);
  return r.is_ok() ? ErrorCode::kNoError : r.status().code();
}

// Every field away from its default; only the server-only ones differ by role.
TP everything(Role sender) {
  TP tp = minimal(sender);
  tp.initial_source_connection_id = cid("0123456789abcdef0123456789abcdef01234567");  // 20 bytes
  tp.max_idle_timeout = 30000;
  tp.max_udp_payload_size = 1452;
  tp.initial_max_data = (uint64_t{1} << 62) - 1;
  tp.initial_max_stream_data_bidi_local = 1 << 20;
  tp.initial_max_stream_data_bidi_remote = 1 << 21;
  tp.initial_max_stream_data_uni = 63;
  tp.initial_max_streams_bidi = uint64_t{1} << 60;
  tp.initial_max_streams_uni = 100;
  tp.ack_delay_exponent = 20;
  tp.max_ack_delay = (1 << 14) - 1;
  tp.disable_active_migration = true;
  tp.active_connection_id_limit = 8;
  tp.max_datagram_frame_size = 65535;
  tp.grease_quic_bit = true;
  tp.has_version_information = true;
  tp.version_information.chosen_version = 0x00000001;
  EXPECT_TRUE(tp.version_information.available_versions.push_back(0x6b3343cf));  // v2, RFC 9369
  EXPECT_TRUE(tp.version_information.available_versions.push_back(0x00000001));
  if (sender == Role::kServer) {
    tp.has_stateless_reset_token = true;
    for (int i = 0; i < 16; ++i) tp.stateless_reset_token[i] = static_cast<uint8_t>(0xa0 + i);
    tp.has_preferred_address = true;
    TP::PreferredAddress& pa = tp.preferred_address;
    const uint8_t v4[4] = {192, 0, 2, 1};
    copy_bytes(pa.ipv4_address, v4, 4);
    pa.ipv4_port = 443;
    for (int i = 0; i < 16; ++i) pa.ipv6_address[i] = static_cast<uint8_t>(0x20 + i);
    pa.ipv6_port = 4433;
    pa.connection_id = cid("5555555555555555");
    for (int i = 0; i < 16; ++i) pa.stateless_reset_token[i] = static_cast<uint8_t>(0xb0 + i);
    tp.has_retry_source_connection_id = true;
    tp.retry_source_connection_id = cid("");  // zero-length is a valid CID
  }
  return tp;
}

// Offsets where one parameter ends and the next begins (0 and size included).
std::vector<size_t> boundaries(const Buf& in) {
  std::vector<size_t> out{0};
  Reader r(as_bytes(in));
  while (!r.empty()) {
    uint64_t id = *read_varint(r);
    (void)id;
    uint64_t len = *read_varint(r);
    EXPECT_TRUE(r.skip(len).is_ok());
    out.push_back(r.position());
  }
  return out;
}

// RFC 9001 §A.2: the quic_transport_parameters extension (0x0039, length
// 0x0032) of the sample client Initial's ClientHello.
constexpr const char* kRfc9001ClientParams =
    "0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901"
    "100f088394c8f03e51570806048000ffff";

TEST(TransportParams, Rfc9001ClientHelloVector) {
  Buf blob = from_hex(kRfc9001ClientParams);
  ASSERT_EQ(blob.size(), 0x32u);
  auto r = TP::parse(as_bytes(blob), Role::kClient);
  ASSERT_TRUE(r.is_ok()) << r.status().reason();
  const TP& tp = *r;
  EXPECT_EQ(tp.initial_max_data, (uint64_t{1} << 62) - 1);
  EXPECT_EQ(tp.initial_max_stream_data_bidi_local, 65535u);
  EXPECT_EQ(tp.initial_max_stream_data_bidi_remote, 65535u);
  EXPECT_EQ(tp.initial_max_stream_data_uni, 65535u);
  EXPECT_EQ(tp.initial_max_streams_bidi, 16u);
  EXPECT_EQ(tp.initial_max_streams_uni, 16u);
  EXPECT_EQ(tp.max_idle_timeout, 30000u);
  ASSERT_TRUE(tp.has_initial_source_connection_id);
  EXPECT_EQ(to_hex(tp.initial_source_connection_id.view()), "8394c8f03e515708");
  // Everything the client left out holds the RFC 9000 §18.2 default.
  EXPECT_EQ(tp.max_udp_payload_size, 65527u);
  EXPECT_EQ(tp.ack_delay_exponent, 3u);
  EXPECT_EQ(tp.max_ack_delay, 25u);
  EXPECT_EQ(tp.active_connection_id_limit, 2u);
  EXPECT_EQ(tp.max_datagram_frame_size, 0u);
  EXPECT_FALSE(tp.disable_active_migration || tp.grease_quic_bit || tp.has_version_information);
  EXPECT_FALSE(tp.has_original_destination_connection_id || tp.has_stateless_reset_token ||
               tp.has_preferred_address || tp.has_retry_source_connection_id);

  // Re-encoded: the same tuples, in this stack's order.
  EXPECT_EQ(to_hex(as_bytes(encode(tp, Role::kClient))),
            "010480007530"
            "0408ffffffffffffffff"
            "05048000ffff"
            "06048000ffff"
            "07048000ffff"
            "080110"
            "090110"
            "0f088394c8f03e515708");

  // From a server, the same bytes lack original_destination_connection_id.
  EXPECT_EQ(parse_error(blob, Role::kServer), kTpe);
}

TEST(TransportParams, DefaultsWhenAbsent) {
  auto r = TP::parse(as_bytes(required(Role::kClient)), Role::kClient);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, minimal(Role::kClient));
  EXPECT_EQ(r->max_idle_timeout, 0u);
  EXPECT_EQ(r->max_udp_payload_size, 65527u);
  EXPECT_EQ(r->initial_max_data, 0u);
  EXPECT_EQ(r->ack_delay_exponent, 3u);
  EXPECT_EQ(r->max_ack_delay, 25u);
  EXPECT_EQ(r->active_connection_id_limit, 2u);
  EXPECT_EQ(r->max_datagram_frame_size, 0u);
}

TEST(TransportParams, RoundTripEveryParameterBothRoles) {
  for (Role role : {Role::kClient, Role::kServer}) {
    TP tp = everything(role);
    Buf wire = encode(tp, role);
    auto r = TP::parse(as_bytes(wire), role);
    ASSERT_TRUE(r.is_ok()) << r.status().reason();
    EXPECT_EQ(*r, tp) << static_cast<int>(role);
    // Nothing was left at its default, so every parameter is on the wire.
    size_t params = boundaries(wire).size() - 1;
    EXPECT_EQ(params, role == Role::kServer ? 20u : 16u);
  }
}

TEST(TransportParams, ServerEncodingBytes) {
  TP tp = minimal(Role::kServer);
  tp.has_stateless_reset_token = true;
  for (int i = 0; i < 16; ++i) tp.stateless_reset_token[i] = static_cast<uint8_t>(i);
  tp.has_preferred_address = true;
  TP::PreferredAddress& pa = tp.preferred_address;
  const uint8_t v4[4] = {192, 0, 2, 1};
  copy_bytes(pa.ipv4_address, v4, 4);
  pa.ipv4_port = 443;
  pa.ipv6_address[0] = 0x20;
  pa.ipv6_address[1] = 0x01;
  pa.ipv6_address[15] = 0x01;
  pa.ipv6_port = 8443;
  pa.connection_id = cid("aabb");
  for (int i = 0; i < 16; ++i) pa.stateless_reset_token[i] = static_cast<uint8_t>(0xf0 + i);
  tp.max_ack_delay = 26;
  tp.grease_quic_bit = true;
  EXPECT_EQ(to_hex(as_bytes(encode(tp, Role::kServer))),
            "00080d0d0d0d0d0d0d0d"
            "0210000102030405060708090a0b0c0d0e0f"
            "0b011a"
            // preferred_address: 4+2+16+2+1+2+16 = 43 = 0x2b bytes
            "0d2b" "c0000201" "01bb" "20010000000000000000000000000001" "20fb" "02" "aabb"
            "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
            "0f04c1c2c3c4"
            "6ab200");  // 0x2ab2 is a two-byte varint
}

TEST(TransportParams, ValuesEqualToDefaultsAreOmitted) {
  TP tp = minimal(Role::kClient);
  tp.max_udp_payload_size = 65527;
  tp.ack_delay_exponent = 3;
  tp.max_ack_delay = 25;
  tp.active_connection_id_limit = 2;
  EXPECT_EQ(to_hex(as_bytes(encode(tp, Role::kClient))), "0f04c1c2c3c4");
  // An explicit default on the wire parses to the same struct.
  Buf wire = cat({required(Role::kClient), int_tlv(Id::kMaxUdpPayloadSize, 65527), int_tlv(Id::kAckDelayExponent, 3)});
  auto r = TP::parse(as_bytes(wire), Role::kClient);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, tp);
}

TEST(TransportParams, ZeroLengthInitialSourceConnectionId) {
  TP tp = minimal(Role::kClient);
  tp.initial_source_connection_id = cid("");
  Buf wire = encode(tp, Role::kClient);
  EXPECT_EQ(to_hex(as_bytes(wire)), "0f00");
  auto r = TP::parse(as_bytes(wire), Role::kClient);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->has_initial_source_connection_id);
  EXPECT_EQ(r->initial_source_connection_id.len, 0u);
}

// Each rule of RFC 9000 §7.3, §7.4, §18.2, §4.6, RFC 9287 §3 and RFC 9368
// §4, broken once: always TRANSPORT_PARAMETER_ERROR.
TEST(TransportParams, EachRuleGivesTransportParameterError) {
  const Buf cl = required(Role::kClient);
  const Buf sv = required(Role::kServer);
  const Buf token16 = from_hex("000102030405060708090a0b0c0d0e0f");
  const Buf cid21 = from_hex("000102030405060708090a0b0c0d0e0f1011121314");
  // A well-formed preferred_address body with a given CID field.
  auto pa = [](const char* cid_len_and_cid) {
    return tlv(Id::kPreferredAddress, from_hex(std::string("c000020101bb") + "20010000000000000000000000000001" + "20fb" +
                                               cid_len_and_cid + "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"));
  };
  struct Case {
    const char* what;
    Role sender;
    Buf wire;
  } cases[] = {
      // Framing (RFC 9000 §18).
      {"length past the end", Role::kClient, cat({cl, from_hex("0405" "0102")})},
      {"varint longer than value", Role::kClient, cat({cl, tlv(Id::kInitialMaxData, "40")})},
      {"value longer than varint", Role::kClient, cat({cl, tlv(Id::kInitialMaxData, "0101")})},
      {"empty integer", Role::kClient, cat({cl, tlv(Id::kMaxIdleTimeout, "")})},
      // Duplicates (RFC 9000 §7.4).
      {"duplicate integer", Role::kClient, cat({cl, int_tlv(Id::kInitialMaxData, 1), int_tlv(Id::kInitialMaxData, 1)})},
      {"duplicate cid", Role::kClient, cat({cl, cl})},
      {"duplicate flag", Role::kClient, cat({cl, tlv(Id::kGreaseQuicBit, ""), tlv(Id::kGreaseQuicBit, "")})},
      {"duplicate datagram", Role::kClient,
       cat({cl, int_tlv(Id::kMaxDatagramFrameSize, 0), int_tlv(Id::kMaxDatagramFrameSize, 9)})},
      // Value ranges (RFC 9000 §18.2, §4.6).
      {"max_udp_payload_size 1199", Role::kClient, cat({cl, int_tlv(Id::kMaxUdpPayloadSize, 1199)})},
      {"max_udp_payload_size 0", Role::kServer, cat({sv, int_tlv(Id::kMaxUdpPayloadSize, 0)})},
      {"ack_delay_exponent 21", Role::kClient, cat({cl, int_tlv(Id::kAckDelayExponent, 21)})},
      {"max_ack_delay 2^14", Role::kServer, cat({sv, int_tlv(Id::kMaxAckDelay, 1 << 14)})},
      {"active_connection_id_limit 1", Role::kClient, cat({cl, int_tlv(Id::kActiveConnectionIdLimit, 1)})},
      {"active_connection_id_limit 0", Role::kServer, cat({sv, int_tlv(Id::kActiveConnectionIdLimit, 0)})},
      {"max_streams_bidi 2^60+1", Role::kClient, cat({cl, int_tlv(Id::kInitialMaxStreamsBidi, (uint64_t{1} << 60) + 1)})},
      {"max_streams_uni 2^62-1", Role::kServer, cat({sv, int_tlv(Id::kInitialMaxStreamsUni, (uint64_t{1} << 62) - 1)})},
      // Fixed-size and zero-length values.
      {"reset token 15 bytes", Role::kServer, cat({sv, tlv(Id::kStatelessResetToken, Buf(token16.begin(), token16.end() - 1))})},
      {"reset token 17 bytes", Role::kServer, cat({sv, tlv(Id::kStatelessResetToken, cat({token16, {0}}))})},
      {"disable_active_migration with value", Role::kClient, cat({cl, tlv(Id::kDisableActiveMigration, "00")})},
      {"grease_quic_bit with value", Role::kClient, cat({cl, tlv(Id::kGreaseQuicBit, "01")})},
      {"grease_quic_bit with value (server)", Role::kServer, cat({sv, tlv(Id::kGreaseQuicBit, "0000")})},
      // Connection IDs (RFC 9000 §17.2: at most 20 bytes).
      {"iscid 21 bytes", Role::kClient, tlv(Id::kInitialSourceConnectionId, cid21)},
      {"odcid 21 bytes", Role::kServer,
       cat({tlv(Id::kOriginalDestinationConnectionId, cid21), tlv(Id::kInitialSourceConnectionId, "01")})},
      {"rscid 21 bytes", Role::kServer, cat({sv, tlv(Id::kRetrySourceConnectionId, cid21)})},
      // preferred_address (RFC 9000 §18.2).
      {"preferred_address zero-length cid", Role::kServer, cat({sv, pa("00")})},
      {"preferred_address cid 21 bytes", Role::kServer, cat({sv, pa("15000102030405060708090a0b0c0d0e0f1011121314")})},
      {"preferred_address cid past the end", Role::kServer, cat({sv, pa("30aabb")})},
      {"preferred_address short", Role::kServer, cat({sv, tlv(Id::kPreferredAddress, "c000020101bb")})},
      {"preferred_address trailing byte", Role::kServer,
       cat({sv, tlv(Id::kPreferredAddress, cat({from_hex("c000020101bb20010000000000000000000000000001"
                                                         "20fb02aabbf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
                                                {0}}))})},
      {"preferred_address from a zero-length-cid server", Role::kServer,
       cat({tlv(Id::kOriginalDestinationConnectionId, "0d0d0d0d0d0d0d0d"), tlv(Id::kInitialSourceConnectionId, ""),
            pa("02aabb")})},
      // Server-only parameters from a client (RFC 9000 §18.2).
      {"client sends odcid", Role::kClient, cat({cl, tlv(Id::kOriginalDestinationConnectionId, "0102030405060708")})},
      {"client sends reset token", Role::kClient, cat({cl, tlv(Id::kStatelessResetToken, token16)})},
      {"client sends preferred_address", Role::kClient, cat({cl, pa("02aabb")})},
      {"client sends rscid", Role::kClient, cat({cl, tlv(Id::kRetrySourceConnectionId, "0102")})},
      // Required parameters (RFC 9000 §7.3).
      {"client without iscid", Role::kClient, int_tlv(Id::kInitialMaxData, 10)},
      {"server without iscid", Role::kServer, tlv(Id::kOriginalDestinationConnectionId, "0d0d0d0d0d0d0d0d")},
      {"server without odcid", Role::kServer, cl},
      {"empty extension", Role::kClient, Buf{}},
      // version_information (RFC 9368 §4).
      {"version_information empty", Role::kClient, cat({cl, tlv(Id::kVersionInformation, "")})},
      {"version_information 3 bytes", Role::kServer, cat({sv, tlv(Id::kVersionInformation, "000001")})},
      {"version_information 6 bytes", Role::kServer, cat({sv, tlv(Id::kVersionInformation, "000000010000")})},
      {"version_information 9 bytes", Role::kClient, cat({cl, tlv(Id::kVersionInformation, "000000010000000100")})},
      {"chosen version 0", Role::kServer, cat({sv, tlv(Id::kVersionInformation, "0000000000000001")})},
      {"available version 0", Role::kServer, cat({sv, tlv(Id::kVersionInformation, "000000010000000100000000")})},
      {"client chosen version not listed", Role::kClient, cat({cl, tlv(Id::kVersionInformation, "000000016b3343cf")})},
      {"client lists nothing", Role::kClient, cat({cl, tlv(Id::kVersionInformation, "00000001")})},
  };
  for (const Case& c : cases) EXPECT_EQ(parse_error(c.wire, c.sender), kTpe) << c.what;
}

// The edges of the ranges above are accepted.
TEST(TransportParams, RangeEdgesAccepted) {
  const Buf cl = required(Role::kClient);
  Buf wire = cat({cl, int_tlv(Id::kMaxUdpPayloadSize, 1200), int_tlv(Id::kAckDelayExponent, 20),
                  int_tlv(Id::kMaxAckDelay, (1 << 14) - 1), int_tlv(Id::kActiveConnectionIdLimit, 2),
                  int_tlv(Id::kInitialMaxStreamsBidi, uint64_t{1} << 60),
                  int_tlv(Id::kInitialMaxStreamsUni, uint64_t{1} << 60)});
  auto r = TP::parse(as_bytes(wire), Role::kClient);
  ASSERT_TRUE(r.is_ok()) << r.status().reason();
  EXPECT_EQ(r->max_udp_payload_size, 1200u);
  EXPECT_EQ(r->ack_delay_exponent, 20u);
  EXPECT_EQ(r->max_ack_delay, 16383u);
  EXPECT_EQ(r->active_connection_id_limit, 2u);
  EXPECT_EQ(r->initial_max_streams_bidi, uint64_t{1} << 60);
  EXPECT_EQ(r->initial_max_streams_uni, uint64_t{1} << 60);
  // A server's Chosen Version need not be in its list, which may be empty
  // (RFC 9368 §3).
  auto s = TP::parse(as_bytes(cat({required(Role::kServer), tlv(Id::kVersionInformation, "6b3343cf")})), Role::kServer);
  ASSERT_TRUE(s.is_ok()) << s.status().reason();
  EXPECT_EQ(s->version_information.chosen_version, 0x6b3343cfu);
  EXPECT_TRUE(s->version_information.available_versions.empty());
}

TEST(TransportParams, EveryTruncatedPrefixFailsCleanly) {
  const Buf grease_value = from_hex("0102");
  const GreaseTransportParameter grease{7, as_bytes(grease_value)};
  std::vector<std::pair<Role, Buf>> encodings = {
      {Role::kServer, encode(everything(Role::kServer), Role::kServer, &grease)},
      {Role::kClient, encode(everything(Role::kClient), Role::kClient)},
      {Role::kClient, from_hex(kRfc9001ClientParams)},
  };
  for (auto& [role, full] : encodings) {
    std::vector<size_t> cuts = boundaries(full);
    for (size_t n = 0; n < full.size(); ++n) {
      Buf prefix(full.begin(), full.begin() + n);
      auto r = TP::parse(as_bytes(prefix), role);
      bool at_boundary = std::find(cuts.begin(), cuts.end(), n) != cuts.end();
      if (!at_boundary) {
        ASSERT_FALSE(r.is_ok()) << n;
        EXPECT_EQ(r.status().code(), kTpe) << n;
        continue;
      }
      // A prefix of whole parameters is a valid encoding exactly when it
      // already holds the required ones (RFC 9000 §7.3).
      Reader scan(as_bytes(prefix));
      bool has_iscid = false, has_odcid = false;
      while (!scan.empty()) {
        uint64_t id = *read_varint(scan);
        has_iscid |= id == 0x0f;
        has_odcid |= id == 0x00;
        ASSERT_TRUE(scan.skip(*read_varint(scan)).is_ok());
      }
      bool complete = has_iscid && (role == Role::kClient || has_odcid);
      EXPECT_EQ(r.is_ok(), complete) << n;
      if (!r.is_ok()) {
        EXPECT_EQ(r.status().code(), kTpe) << n;
      }
    }
  }
}

TEST(TransportParams, UnknownAndReservedParametersIgnored) {
  const Buf cl = required(Role::kClient);
  Buf wire = cat({
      tlv(27, from_hex("deadbeef")),                 // reserved, N = 0
      cl,
      tlv(27 + 31 * 1000, Buf{}),                    // reserved, empty
      tlv(0x21, from_hex("00")),                     // unassigned
      tlv(0x12, from_hex("ffffffff")),               // unassigned, next to version_information
      tlv((uint64_t{1} << 62) - 1, from_hex("01")),  // the largest identifier
      tlv(27 + 31 * GreaseTransportParameter::kMaxN, Buf(300, 0x5a)),
      int_tlv(Id::kInitialMaxData, 1000),
  });
  auto r = TP::parse(as_bytes(wire), Role::kClient);
  ASSERT_TRUE(r.is_ok()) << r.status().reason();
  TP expected = minimal(Role::kClient);
  expected.initial_max_data = 1000;
  EXPECT_EQ(*r, expected);
  // A truncated unknown parameter is still a framing error.
  EXPECT_EQ(parse_error(cat({cl, from_hex("4021" "05" "0000")}), Role::kClient), kTpe);
}

TEST(TransportParams, GreasedParameterOnSerialize) {
  TP tp = minimal(Role::kClient);
  Buf value = from_hex("deadbeef");
  GreaseTransportParameter grease{5, as_bytes(value)};  // id 31*5+27 = 182
  Buf wire = encode(tp, Role::kClient, &grease);
  EXPECT_EQ(to_hex(as_bytes(wire)), "0f04c1c2c3c4" "40b6" "04" "deadbeef");
  auto r = TP::parse(as_bytes(wire), Role::kClient);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, tp);

  GreaseTransportParameter largest{GreaseTransportParameter::kMaxN, Bytes()};
  Buf wire2 = encode(tp, Role::kClient, &largest);
  EXPECT_EQ(to_hex(Bytes(wire2.data() + 6, 9)), "fffffffffffffff800");  // 31*kMaxN+27 = 2^62-8

  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  GreaseTransportParameter too_big{GreaseTransportParameter::kMaxN + 1, Bytes()};
  EXPECT_EQ(tp.serialize(w, Role::kClient, &too_big).code(), ErrorCode::kInvalidArgument);
}

TEST(TransportParams, BufferTooSmallOnSerialize) {
  const Buf grease_value = from_hex("00112233");
  const GreaseTransportParameter grease{1, as_bytes(grease_value)};
  for (Role role : {Role::kClient, Role::kServer}) {
    TP tp = everything(role);
    Buf full = encode(tp, role, &grease);
    Buf out(full.size());
    for (size_t n = 0; n < full.size(); ++n) {
      Writer w(MutBytes(out.data(), n));
      EXPECT_EQ(tp.serialize(w, role, &grease).code(), ErrorCode::kBufferTooSmall) << n;
    }
    Writer w(MutBytes(out.data(), out.size()));
    ASSERT_TRUE(tp.serialize(w, role, &grease).is_ok());
    EXPECT_EQ(out, full);
  }
}

TEST(TransportParams, SerializeRefusesWhatParseRejects) {
  auto refused = [](const TP& tp, Role role) {
    uint8_t buf[512];
    Writer w(MutBytes(buf, sizeof buf));
    return tp.serialize(w, role).code();
  };
  TP client = minimal(Role::kClient);
  client.has_stateless_reset_token = true;
  EXPECT_EQ(refused(client, Role::kClient), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused(everything(Role::kServer), Role::kClient), ErrorCode::kInvalidArgument);
  TP bad = minimal(Role::kClient);
  bad.ack_delay_exponent = 21;
  EXPECT_EQ(refused(bad, Role::kClient), ErrorCode::kInvalidArgument);
  bad = minimal(Role::kClient);
  bad.max_udp_payload_size = 1000;
  EXPECT_EQ(refused(bad, Role::kClient), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused(TP(), Role::kClient), ErrorCode::kInvalidArgument);  // no iscid
  EXPECT_EQ(refused(minimal(Role::kClient), Role::kServer), ErrorCode::kInvalidArgument);  // no odcid
  bad = minimal(Role::kClient);
  bad.has_version_information = true;
  bad.version_information.chosen_version = 1;  // not in its own list
  EXPECT_EQ(refused(bad, Role::kClient), ErrorCode::kInvalidArgument);
  // validate() itself speaks the wire error.
  EXPECT_EQ(bad.validate(Role::kClient).code(), kTpe);
  EXPECT_TRUE(bad.validate(Role::kServer).code() == kTpe);  // and no odcid
}

// RFC 9368 §3: the bounded list keeps the first kMaxAvailable real versions
// in wire order, drops reserved 0x?a?a?a?a ones, and flags what it dropped.
TEST(TransportParams, VersionInformationBound) {
  const Buf cl = required(Role::kClient);
  {
    Buf vi = from_hex("00000001" "1a2a3a4a" "00000001" "6b3343cf" "fafafafa");
    auto r = TP::parse(as_bytes(cat({cl, tlv(Id::kVersionInformation, vi)})), Role::kClient);
    ASSERT_TRUE(r.is_ok()) << r.status().reason();
    const auto& v = r->version_information;
    EXPECT_EQ(v.chosen_version, 1u);
    ASSERT_EQ(v.available_versions.size(), 2u);
    EXPECT_EQ(v.available_versions[0], 1u);
    EXPECT_EQ(v.available_versions[1], 0x6b3343cfu);
    EXPECT_FALSE(v.available_truncated);
  }
  constexpr size_t kMax = TP::VersionInformation::kMaxAvailable;
  auto versions = [](uint32_t chosen, size_t count) {
    Buf vi;
    auto put = [&vi](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) vi.push_back(static_cast<uint8_t>(v >> s));
    };
    put(chosen);
    for (size_t i = 1; i <= count; ++i) put(static_cast<uint32_t>(0xff000000u + i));
    return vi;
  };
  {
    // The chosen version is the last of kMax+4: beyond the bound, yet listed.
    uint32_t chosen = 0xff000000u + kMax + 4;
    auto r = TP::parse(as_bytes(cat({cl, tlv(Id::kVersionInformation, versions(chosen, kMax + 4))})), Role::kClient);
    ASSERT_TRUE(r.is_ok()) << r.status().reason();
    const auto& v = r->version_information;
    EXPECT_EQ(v.chosen_version, chosen);
    ASSERT_EQ(v.available_versions.size(), kMax);
    EXPECT_EQ(v.available_versions[0], 0xff000001u);
    EXPECT_EQ(v.available_versions[kMax - 1], 0xff000000u + kMax);
    EXPECT_TRUE(v.available_truncated);
    // An incomplete list is a received-only state: sending it would drop
    // the client's own Chosen Version.
    uint8_t buf[256];
    Writer w(MutBytes(buf, sizeof buf));
    EXPECT_EQ(r->serialize(w, Role::kClient).code(), ErrorCode::kInvalidArgument);
  }
  {
    // Exactly kMax: nothing dropped.
    auto r = TP::parse(as_bytes(cat({cl, tlv(Id::kVersionInformation, versions(0xff000001u, kMax))})), Role::kClient);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->version_information.available_versions.size(), kMax);
    EXPECT_FALSE(r->version_information.available_truncated);
  }
  // Over the bound, a chosen version absent from the whole list is still caught.
  EXPECT_EQ(parse_error(cat({cl, tlv(Id::kVersionInformation, versions(0x00000001u, kMax + 4))}), Role::kClient), kTpe);
  // So is a zero past the bound.
  Buf zero_late = cat({versions(0xff000001u, kMax + 2), from_hex("00000000")});
  EXPECT_EQ(parse_error(cat({cl, tlv(Id::kVersionInformation, zero_late)}), Role::kClient), kTpe);
}

}  // namespace
}  // namespace quicbed
