#include "packet.h"

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

constexpr ErrorCode kDrop = ErrorCode::kDropPacket;

// RFC 9001 §A / RFC 9369 §A connection IDs.
const std::vector<uint8_t> kClientDcid = from_hex("8394c8f03e515708");
const std::vector<uint8_t> kServerScid = from_hex("f067a5502a4262b5");
const std::vector<uint8_t> kToken = from_hex("746f6b656e");  // "token"

Result<PacketHeader> parse(const std::vector<uint8_t>& in, size_t short_dcid_len = 0, bool grease = false) {
  return parse_packet_header(as_bytes(in), {.short_dcid_len = short_dcid_len, .accept_greased_fixed_bit = grease});
}

std::string hex_of(Bytes b) { return to_hex(b); }

// --- Versions and type bits --------------------------------------------------

TEST(PacketVersion, ReservedPattern) {
  EXPECT_TRUE(is_reserved_version(0x0a0a0a0a));
  EXPECT_TRUE(is_reserved_version(0x1a2a3a4a));
  EXPECT_TRUE(is_reserved_version(0xfafafafa));
  EXPECT_FALSE(is_reserved_version(0x0a0a0a0b));
  EXPECT_FALSE(is_reserved_version(0xaaaaaaa0));
  EXPECT_FALSE(is_reserved_version(kVersion1));
  EXPECT_FALSE(is_reserved_version(kVersion2));
}

TEST(PacketVersion, Supported) {
  EXPECT_TRUE(is_supported_version(0x00000001));
  EXPECT_TRUE(is_supported_version(0x6b3343cf));
  EXPECT_FALSE(is_supported_version(0));
  EXPECT_FALSE(is_supported_version(0xff00001d));  // draft-29
  EXPECT_FALSE(is_supported_version(0x1a2a3a4a));
}

TEST(PacketVersion, LongTypeBits) {
  // RFC 9000 §17.2 table.
  EXPECT_EQ(long_type_bits(kVersion1, PacketType::kInitial), 0);
  EXPECT_EQ(long_type_bits(kVersion1, PacketType::kZeroRtt), 1);
  EXPECT_EQ(long_type_bits(kVersion1, PacketType::kHandshake), 2);
  EXPECT_EQ(long_type_bits(kVersion1, PacketType::kRetry), 3);
  // RFC 9369 §3.2.
  EXPECT_EQ(long_type_bits(kVersion2, PacketType::kInitial), 1);
  EXPECT_EQ(long_type_bits(kVersion2, PacketType::kZeroRtt), 2);
  EXPECT_EQ(long_type_bits(kVersion2, PacketType::kHandshake), 3);
  EXPECT_EQ(long_type_bits(kVersion2, PacketType::kRetry), 0);
  for (uint32_t v : {kVersion1, kVersion2}) {
    for (uint8_t bits = 0; bits < 4; ++bits) EXPECT_EQ(long_type_bits(v, long_type_from_bits(v, bits)), bits);
  }
  EXPECT_EQ(long_type_from_bits(kVersion2, 0), PacketType::kRetry);
  EXPECT_EQ(long_type_from_bits(kVersion1, 0), PacketType::kInitial);
}

TEST(PacketFirstByte, UnprotectedFields) {
  EXPECT_EQ(pn_length_from_first_byte(0xc3), 4u);  // RFC 9001 A.2
  EXPECT_EQ(pn_length_from_first_byte(0xc1), 2u);  // RFC 9001 A.3
  EXPECT_EQ(pn_length_from_first_byte(0x42), 3u);  // RFC 9001 A.5
  EXPECT_EQ(pn_length_from_first_byte(0x40), 1u);
  EXPECT_TRUE(key_phase_bit(0x44));
  EXPECT_FALSE(key_phase_bit(0x43));
  EXPECT_TRUE(check_reserved_bits(0xc3).is_ok());
  EXPECT_TRUE(check_reserved_bits(0x67).is_ok());  // spin + key phase are not reserved
  EXPECT_EQ(check_reserved_bits(0xc4).code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(check_reserved_bits(0xc8).code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(check_reserved_bits(0x48).code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(check_reserved_bits(0x50).code(), ErrorCode::kProtocolViolation);
}

// --- Parsing RFC examples -----------------------------------------------------

// RFC 9001 A.2: the protected client Initial starts with this header; the
// Length 0x449e = 1182 covers the rest of the 1200-byte datagram.
TEST(PacketParse, Rfc9001ClientInitial) {
  auto pkt = from_hex("c000000001088394c8f03e5157080000449e");
  pkt.resize(1200, 0x5a);
  auto h = parse(pkt);
  ASSERT_TRUE(h.is_ok()) << h.status().reason();
  EXPECT_EQ(h->form, HeaderForm::kLong);
  EXPECT_EQ(h->type, PacketType::kInitial);
  EXPECT_EQ(h->version, kVersion1);
  EXPECT_EQ(h->first_byte, 0xc0);
  EXPECT_EQ(hex_of(h->dcid), "8394c8f03e515708");
  EXPECT_TRUE(h->scid.empty());
  EXPECT_TRUE(h->token.empty());
  EXPECT_EQ(h->length, 1182u);
  EXPECT_EQ(h->pn_offset, 18u);
  EXPECT_EQ(h->packet_length, 1200u);
  EXPECT_FALSE(h->has_invariants_only());
  EXPECT_EQ(h->dcid.data(), pkt.data() + 6);  // zero-copy
}

// RFC 9369 A.2 and A.3: the v2 Initial type bits are 01.
TEST(PacketParse, Rfc9369Initials) {
  auto client = from_hex("d36b3343cf088394c8f03e5157080000449e00000002");
  client.resize(1200, 0);
  auto h = parse(client);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->type, PacketType::kInitial);
  EXPECT_EQ(h->version, kVersion2);
  EXPECT_EQ(h->pn_offset, 18u);
  EXPECT_EQ(h->packet_length, 1200u);

  auto server = from_hex("d16b3343cf0008f067a5502a4262b50040750001");
  server.resize(18 + 117, 0);
  auto s = parse(server);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->type, PacketType::kInitial);
  EXPECT_TRUE(s->dcid.empty());
  EXPECT_EQ(hex_of(s->scid), "f067a5502a4262b5");
  EXPECT_EQ(s->length, 117u);
  EXPECT_EQ(s->pn_offset, 18u);
  EXPECT_EQ(s->packet_length, 135u);
}

// RFC 9001 A.5: a protected short header packet with an empty DCID.
TEST(PacketParse, Rfc9001ShortHeader) {
  auto pkt = from_hex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
  auto h = parse(pkt, 0);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->form, HeaderForm::kShort);
  EXPECT_EQ(h->type, PacketType::kOneRtt);
  EXPECT_TRUE(h->dcid.empty());
  EXPECT_EQ(h->pn_offset, 1u);
  EXPECT_EQ(h->packet_length, 21u);
  EXPECT_FALSE(h->has_invariants_only());

  // The same bytes read by an endpoint issuing 8-byte connection IDs.
  auto h8 = parse(pkt, 8);
  ASSERT_TRUE(h8.is_ok());
  EXPECT_EQ(hex_of(h8->dcid), "fe4189655e5cd55c");
  EXPECT_EQ(h8->pn_offset, 9u);
  EXPECT_EQ(h8->packet_length, 21u);
}

// RFC 9001 A.4 and RFC 9369 A.4 Retry packets.
TEST(PacketParse, RfcRetries) {
  struct {
    const char* hex;
    uint32_t version;
    const char* tag;
  } cases[] = {
      {"ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba", kVersion1,
       "04a265ba2eff4d829058fb3f0f2496ba"},
      {"cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6", kVersion2,
       "c8646ce8bfe33952d955543665dcc7b6"},
  };
  for (auto& c : cases) {
    auto pkt = from_hex(c.hex);
    auto h = parse(pkt);
    ASSERT_TRUE(h.is_ok()) << c.hex;
    EXPECT_EQ(h->type, PacketType::kRetry);
    EXPECT_EQ(h->version, c.version);
    EXPECT_TRUE(h->dcid.empty());
    EXPECT_EQ(hex_of(h->scid), "f067a5502a4262b5");
    EXPECT_EQ(hex_of(h->token), "746f6b656e");
    EXPECT_EQ(hex_of(h->retry_integrity_tag), c.tag);
    EXPECT_EQ(h->retry_integrity_tag.data(), pkt.data() + pkt.size() - 16);
    EXPECT_EQ(h->packet_length, pkt.size());
  }
}

// --- Serializing RFC examples -------------------------------------------------

struct LongCase {
  const char* expected;  // unprotected header with the Length filled in
  uint32_t version;
  std::vector<uint8_t> dcid, scid;
  uint64_t pn;
  size_t pn_len;
  uint64_t length;
};

TEST(PacketWrite, RfcInitialHeaders) {
  const LongCase cases[] = {
      {"c300000001088394c8f03e5157080000449e00000002", kVersion1, kClientDcid, {}, 2, 4, 1182},  // RFC 9001 A.2
      {"c1000000010008f067a5502a4262b50040750001", kVersion1, {}, kServerScid, 1, 2, 117},       // RFC 9001 A.3
      {"d36b3343cf088394c8f03e5157080000449e00000002", kVersion2, kClientDcid, {}, 2, 4, 1182},  // RFC 9369 A.2
      {"d16b3343cf0008f067a5502a4262b50040750001", kVersion2, {}, kServerScid, 1, 2, 117},       // RFC 9369 A.3
  };
  for (auto& c : cases) {
    uint8_t buf[64];
    Writer w(MutBytes(buf, sizeof buf));
    LongHeader h{.type = PacketType::kInitial,
                 .version = c.version,
                 .dcid = as_bytes(c.dcid),
                 .scid = as_bytes(c.scid),
                 .packet_number = c.pn,
                 .pn_len = c.pn_len};
    auto layout = write_long_header(w, h);
    ASSERT_TRUE(layout.is_ok()) << c.expected;
    const size_t len = w.position();
    EXPECT_EQ(layout->pn_offset, len - c.pn_len);
    EXPECT_EQ(layout->length_offset, layout->pn_offset - 2);
    ASSERT_TRUE(write_length_field(MutBytes(buf, len), layout->length_offset, c.length).is_ok());
    EXPECT_EQ(to_hex(Bytes(buf, len)), c.expected);
  }
}

TEST(PacketWrite, RfcShortHeader) {
  // RFC 9001 A.5: packet number 654360564 in 3 bytes, empty DCID.
  uint8_t buf[8];
  Writer w(MutBytes(buf, sizeof buf));
  auto pn_offset = write_short_header(w, {.packet_number = 654360564, .pn_len = 3});
  ASSERT_TRUE(pn_offset.is_ok());
  EXPECT_EQ(*pn_offset, 1u);
  EXPECT_EQ(to_hex(w.written()), "4200bff4");
}

TEST(PacketWrite, ShortHeaderBits) {
  uint8_t buf[32];
  Writer w(MutBytes(buf, sizeof buf));
  auto pn_offset = write_short_header(
      w, {.dcid = as_bytes(kClientDcid), .packet_number = 0x1234, .pn_len = 2, .spin = true, .key_phase = true});
  ASSERT_TRUE(pn_offset.is_ok());
  EXPECT_EQ(*pn_offset, 9u);
  EXPECT_EQ(to_hex(w.written()), "658394c8f03e5157081234");
  Writer w2(MutBytes(buf, sizeof buf));
  ASSERT_TRUE(write_short_header(w2, {.packet_number = 0xabcdef, .pn_len = 1, .spin = true}).is_ok());
  EXPECT_EQ(to_hex(w2.written()), "60ef");
  Writer w3(MutBytes(buf, sizeof buf));
  ASSERT_TRUE(write_short_header(w3, {.packet_number = 7, .pn_len = 4, .key_phase = true}).is_ok());
  EXPECT_EQ(to_hex(w3.written()), "4700000007");
}

TEST(PacketWrite, RfcRetries) {
  struct {
    uint32_t version;
    const char* expected;
  } cases[] = {
      {kVersion1, "ff000000010008f067a5502a4262b5746f6b656e"},  // RFC 9001 A.4 minus tag
      {kVersion2, "cf6b3343cf0008f067a5502a4262b5746f6b656e"},  // RFC 9369 A.4 minus tag
  };
  for (auto& c : cases) {
    uint8_t buf[64];
    Writer w(MutBytes(buf, sizeof buf));
    ASSERT_TRUE(write_retry_without_tag(w, c.version, 0x0f, {}, as_bytes(kServerScid), as_bytes(kToken)).is_ok());
    EXPECT_EQ(to_hex(w.written()), c.expected);
  }
  // Only the low 4 bits of unused_bits are used.
  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  ASSERT_TRUE(write_retry_without_tag(w, kVersion1, 0xf5, {}, {}, as_bytes(kToken)).is_ok());
  EXPECT_EQ(to_hex(w.written()), "f5000000010000746f6b656e");
}

TEST(PacketWrite, HandshakeAndZeroRttHeaders) {
  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  auto layout = write_long_header(w, {.type = PacketType::kHandshake,
                                      .version = kVersion1,
                                      .dcid = as_bytes(kServerScid),
                                      .scid = as_bytes(kClientDcid),
                                      .packet_number = 0x0102,
                                      .pn_len = 1});
  ASSERT_TRUE(layout.is_ok());
  EXPECT_EQ(layout->length_offset, 23u);
  EXPECT_EQ(layout->pn_offset, 25u);
  ASSERT_TRUE(write_length_field(w.written(), layout->length_offset, 300).is_ok());
  EXPECT_EQ(to_hex(w.written()), "e00000000108f067a5502a4262b5088394c8f03e515708412c02");

  Writer w2(MutBytes(buf, sizeof buf));
  auto layout2 =
      write_long_header(w2, {.type = PacketType::kZeroRtt, .version = kVersion2, .packet_number = 5, .pn_len = 2});
  ASSERT_TRUE(layout2.is_ok());
  ASSERT_TRUE(write_length_field(w2.written(), layout2->length_offset, 16383).is_ok());
  EXPECT_EQ(to_hex(w2.written()), "e16b3343cf00007fff0005");
}

TEST(PacketWrite, VersionNegotiation) {
  const uint32_t versions[] = {kVersion1, kVersion2, 0x1a2a3a4a};
  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  ASSERT_TRUE(write_version_negotiation(w, 0xaa, as_bytes(kServerScid), as_bytes(kClientDcid), versions).is_ok());
  EXPECT_EQ(to_hex(w.written()),
            "ea"
            "00000000"
            "08f067a5502a4262b5"
            "088394c8f03e515708"
            "000000016b3343cf1a2a3a4a");
  std::vector<uint8_t> pkt(w.written().begin(), w.written().end());
  auto h = parse(pkt);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->form, HeaderForm::kLong);
  EXPECT_EQ(h->type, PacketType::kVersionNegotiation);
  EXPECT_EQ(h->version, 0u);
  EXPECT_FALSE(h->has_invariants_only());
  EXPECT_EQ(hex_of(h->dcid), "f067a5502a4262b5");
  EXPECT_EQ(hex_of(h->scid), "8394c8f03e515708");
  EXPECT_EQ(h->packet_length, pkt.size());
  ASSERT_EQ(h->versions.size(), 3u);
  EXPECT_EQ(h->versions[0], kVersion1);
  EXPECT_EQ(h->versions[1], kVersion2);
  EXPECT_EQ(h->versions[2], 0x1a2a3a4au);
  EXPECT_TRUE(h->versions.contains(kVersion2));
  EXPECT_FALSE(h->versions.contains(0xff00001d));
  std::vector<uint32_t> seen;
  for (uint32_t v : h->versions) seen.push_back(v);
  EXPECT_EQ(seen, std::vector<uint32_t>(std::begin(versions), std::end(versions)));
  EXPECT_EQ(h->versions.raw().data(), pkt.data() + 23);
}

// --- Coalescing -----------------------------------------------------------------

// RFC 9000 §12.2: Initial + Handshake + 1-RTT in one datagram, split by the
// Length fields; the short header packet takes the rest.
TEST(PacketParse, CoalescedDatagram) {
  std::vector<uint8_t> dgram(1200, 0xee);
  Writer w(MutBytes(dgram.data(), dgram.size()));
  size_t starts[3];
  starts[0] = w.position();
  auto init = write_long_header(w, {.type = PacketType::kInitial,
                                    .version = kVersion2,
                                    .dcid = as_bytes(kClientDcid),
                                    .scid = as_bytes(kServerScid),
                                    .token = as_bytes(kToken),
                                    .packet_number = 0,
                                    .pn_len = 1});
  ASSERT_TRUE(init.is_ok());
  ASSERT_TRUE(write_length_field(MutBytes(dgram.data(), w.position()), init->length_offset, 1 + 100).is_ok());
  ASSERT_TRUE(w.advance(100).is_ok());
  starts[1] = w.position();
  auto hs = write_long_header(w, {.type = PacketType::kHandshake,
                                  .version = kVersion2,
                                  .dcid = as_bytes(kClientDcid),
                                  .scid = as_bytes(kServerScid),
                                  .packet_number = 3,
                                  .pn_len = 2});
  ASSERT_TRUE(hs.is_ok());
  ASSERT_TRUE(write_length_field(MutBytes(dgram.data() + starts[1], w.position() - starts[1]), hs->length_offset,
                                 2 + 50)
                  .is_ok());
  ASSERT_TRUE(w.advance(50).is_ok());
  starts[2] = w.position();
  ASSERT_TRUE(write_short_header(w, {.dcid = as_bytes(kClientDcid), .packet_number = 9, .pn_len = 1}).is_ok());

  const PacketType types[] = {PacketType::kInitial, PacketType::kHandshake, PacketType::kOneRtt};
  const size_t pn_offsets[] = {init->pn_offset, hs->pn_offset, 9};
  Bytes rest(dgram.data(), dgram.size());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(rest.data(), dgram.data() + starts[i]);
    auto h = parse_packet_header(rest, {.short_dcid_len = 8});
    ASSERT_TRUE(h.is_ok()) << i;
    EXPECT_EQ(h->type, types[i]);
    EXPECT_EQ(h->pn_offset, pn_offsets[i]);
    EXPECT_EQ(hex_of(h->dcid), "8394c8f03e515708");
    if (i == 0) {
      EXPECT_EQ(hex_of(h->token), "746f6b656e");
    }
    if (i < 2) {
      EXPECT_EQ(h->version, kVersion2);
    }
    rest = rest.subspan(h->packet_length);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(init->pn_offset, 1 + 4 + 9 + 9 + 6 + 2u);
}

// --- Unknown versions ---------------------------------------------------------

TEST(PacketParse, UnknownVersionReadsInvariantsOnly) {
  // 255-byte CIDs are legal under RFC 8999; the fixed bit is not checked.
  std::vector<uint8_t> pkt = {0x80, 0x1a, 0x2a, 0x3a, 0x4a, 255};
  pkt.insert(pkt.end(), 255, 0x11);
  pkt.push_back(21);
  pkt.insert(pkt.end(), 21, 0x22);
  pkt.insert(pkt.end(), 900, 0);  // an opaque body
  auto h = parse(pkt);
  ASSERT_TRUE(h.is_ok());
  EXPECT_TRUE(h->has_invariants_only());
  EXPECT_EQ(h->form, HeaderForm::kLong);
  EXPECT_EQ(h->version, 0x1a2a3a4au);
  EXPECT_EQ(h->dcid.size(), 255u);
  EXPECT_EQ(h->dcid.data(), pkt.data() + 6);
  EXPECT_EQ(h->scid.size(), 21u);
  EXPECT_EQ(h->packet_length, pkt.size());

  // Truncated invariant fields still drop.
  for (size_t n = 0; n < 6 + 255 + 1 + 21; ++n) {
    std::vector<uint8_t> prefix(pkt.begin(), pkt.begin() + n);
    auto t = parse(prefix);
    ASSERT_FALSE(t.is_ok()) << n;
    EXPECT_EQ(t.status().code(), kDrop) << n;
  }
}

TEST(PacketParse, CidLongerThan20DropsForV1AndV2) {
  auto initial = [](uint32_t version, size_t dcid_len, size_t scid_len) {
    std::vector<uint8_t> pkt = {uint8_t(0xc0 | long_type_bits(version, PacketType::kInitial) << 4),
                                uint8_t(version >> 24), uint8_t(version >> 16), uint8_t(version >> 8), uint8_t(version)};
    pkt.push_back(uint8_t(dcid_len));
    pkt.insert(pkt.end(), dcid_len, 1);
    pkt.push_back(uint8_t(scid_len));
    pkt.insert(pkt.end(), scid_len, 2);
    pkt.insert(pkt.end(), {0x00, 0x01, 0x00});  // token length 0, Length 1, one byte
    return pkt;
  };
  for (uint32_t version : {kVersion1, kVersion2}) {
    for (auto [dcid_len, scid_len] : {std::pair{21, 20}, std::pair{20, 21}, std::pair{255, 0}, std::pair{0, 255}}) {
      auto h = parse(initial(version, dcid_len, scid_len));
      ASSERT_FALSE(h.is_ok()) << dcid_len << " " << scid_len;
      EXPECT_EQ(h.status().code(), kDrop);
    }
    auto pkt = initial(version, 20, 20);
    auto ok = parse(pkt);
    ASSERT_TRUE(ok.is_ok());
    EXPECT_EQ(ok->type, PacketType::kInitial);
    EXPECT_EQ(ok->dcid.size(), 20u);
    EXPECT_EQ(ok->scid.size(), 20u);
    EXPECT_EQ(ok->packet_length, pkt.size());
  }
}

// --- Version Negotiation parsing ----------------------------------------------

TEST(PacketParse, VersionNegotiationListMustBeWholeVersions) {
  auto base = from_hex("c5000000000000");  // empty CIDs, empty list
  auto h = parse(base);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->type, PacketType::kVersionNegotiation);
  EXPECT_TRUE(h->versions.empty());
  for (size_t extra = 1; extra < 8; ++extra) {
    auto pkt = base;
    pkt.insert(pkt.end(), extra, 0x01);
    auto r = parse(pkt);
    if (extra % 4 == 0) {
      ASSERT_TRUE(r.is_ok()) << extra;
      EXPECT_EQ(r->versions.size(), extra / 4);
      EXPECT_EQ(r->versions[0], 0x01010101u);
    } else {
      ASSERT_FALSE(r.is_ok()) << extra;
      EXPECT_EQ(r.status().code(), kDrop) << extra;
    }
  }
}

TEST(PacketParse, VersionNegotiationIgnoresFixedBitAndAllowsLongCids) {
  std::vector<uint8_t> pkt = {0x80, 0, 0, 0, 0, 100};
  pkt.insert(pkt.end(), 100, 0x33);
  pkt.push_back(0);
  pkt.insert(pkt.end(), {0x6b, 0x33, 0x43, 0xcf});
  auto h = parse(pkt);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->type, PacketType::kVersionNegotiation);
  EXPECT_EQ(h->dcid.size(), 100u);
  ASSERT_EQ(h->versions.size(), 1u);
  EXPECT_TRUE(h->versions.contains(kVersion2));
}

// --- Fixed bit -----------------------------------------------------------------

TEST(PacketParse, FixedBit) {
  auto initial = from_hex("8000000001088394c8f03e515708000001aa");  // fixed bit cleared
  auto retry = from_hex("bf000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
  auto shrt = from_hex("0cfe4189655e5cd55c41f69080575d7999c25a5bfb");
  for (auto* pkt : {&initial, &retry, &shrt}) {
    auto h = parse(*pkt);
    ASSERT_FALSE(h.is_ok());
    EXPECT_EQ(h.status().code(), kDrop);
    // RFC 9287: accepted when this endpoint advertised grease_quic_bit.
    auto g = parse(*pkt, 0, true);
    ASSERT_TRUE(g.is_ok());
    EXPECT_EQ(g->packet_length, pkt->size());
  }
  EXPECT_EQ(parse(initial, 0, true)->type, PacketType::kInitial);
  EXPECT_EQ(parse(retry, 0, true)->type, PacketType::kRetry);
  EXPECT_EQ(parse(shrt, 0, true)->type, PacketType::kOneRtt);
}

// --- Malformed and truncated input ---------------------------------------------

TEST(PacketParse, EmptyInputDrops) {
  std::vector<uint8_t> empty;
  auto h = parse(empty);
  ASSERT_FALSE(h.is_ok());
  EXPECT_EQ(h.status().code(), kDrop);
}

// A packet with a Length field fails on every strict prefix: either a field
// is cut or the Length runs past the end.
TEST(PacketParse, EveryPrefixOfLengthPacketsDrops) {
  uint8_t buf[128];
  std::vector<std::vector<uint8_t>> packets;
  for (PacketType t : {PacketType::kInitial, PacketType::kZeroRtt, PacketType::kHandshake}) {
    Writer w(MutBytes(buf, sizeof buf));
    LongHeader lh{.type = t,
                  .version = kVersion1,
                  .dcid = as_bytes(kClientDcid),
                  .scid = as_bytes(kServerScid),
                  .packet_number = 77,
                  .pn_len = 2};
    if (t == PacketType::kInitial) lh.token = as_bytes(kToken);
    auto layout = write_long_header(w, lh);
    ASSERT_TRUE(layout.is_ok());
    ASSERT_TRUE(w.fill(0xab, 20).is_ok());
    ASSERT_TRUE(write_length_field(w.written(), layout->length_offset, 22).is_ok());
    packets.emplace_back(w.written().begin(), w.written().end());
  }
  for (auto& pkt : packets) {
    auto full = parse(pkt);
    ASSERT_TRUE(full.is_ok());
    EXPECT_EQ(full->packet_length, pkt.size());
    for (size_t n = 0; n < pkt.size(); ++n) {
      std::vector<uint8_t> prefix(pkt.begin(), pkt.begin() + n);
      auto h = parse(prefix);
      ASSERT_FALSE(h.is_ok()) << to_hex(as_bytes(pkt)) << " cut at " << n;
      EXPECT_EQ(h.status().code(), kDrop);
    }
  }
}

// Retry and short header packets extend to the datagram's end, so only
// prefixes that cut their fixed fields are detectably short.
TEST(PacketParse, TruncatedRetryAndShortHeaderDrop) {
  auto retry = from_hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
  // Header up to the token is 15 bytes; a token needs 1 byte, the tag 16.
  for (size_t n = 0; n < 15 + 1 + 16; ++n) {
    std::vector<uint8_t> prefix(retry.begin(), retry.begin() + n);
    auto h = parse(prefix);
    ASSERT_FALSE(h.is_ok()) << n;
    EXPECT_EQ(h.status().code(), kDrop) << n;
  }
  std::vector<uint8_t> one_byte_token(retry.begin(), retry.begin() + 32);
  auto h = parse(one_byte_token);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(hex_of(h->token), "74");

  auto shrt = from_hex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
  for (size_t n = 0; n < 9; ++n) {
    std::vector<uint8_t> prefix(shrt.begin(), shrt.begin() + n);
    auto s = parse(prefix, 8);
    ASSERT_FALSE(s.is_ok()) << n;
    EXPECT_EQ(s.status().code(), kDrop) << n;
  }
}

TEST(PacketParse, LengthBeyondDatagramDrops) {
  // Handshake, empty CIDs, Length = 5.
  auto pkt = from_hex("e000000001000005");
  pkt.insert(pkt.end(), 4, 0);
  auto h = parse(pkt);
  ASSERT_FALSE(h.is_ok());
  EXPECT_EQ(h.status().code(), kDrop);
  pkt.push_back(0);
  auto exact = parse(pkt);
  ASSERT_TRUE(exact.is_ok());
  EXPECT_EQ(exact->length, 5u);
  EXPECT_EQ(exact->pn_offset, 8u);
  EXPECT_EQ(exact->packet_length, 13u);
  // Trailing bytes are the next packet, not part of this one.
  pkt.insert(pkt.end(), 7, 0);
  auto more = parse(pkt);
  ASSERT_TRUE(more.is_ok());
  EXPECT_EQ(more->packet_length, 13u);

  // An 8-byte Length of 2^62-1 must not wrap anything.
  auto huge = parse(from_hex("e0000000010000ffffffffffffffff00"));
  ASSERT_FALSE(huge.is_ok());
  EXPECT_EQ(huge.status().code(), kDrop);
}

TEST(PacketParse, InitialTokenLengthBeyondDatagramDrops) {
  // Token length 0x7fff = 16383 in a 100-byte datagram.
  auto pkt = from_hex("c0000000010000" "7fff" "0001");
  pkt.resize(100, 0);
  auto h = parse(pkt);
  ASSERT_FALSE(h.is_ok());
  EXPECT_EQ(h.status().code(), kDrop);
  // The same token length with exactly enough bytes parses.
  pkt.resize(9 + 16383, 0);
  pkt.push_back(0x01);  // Length 1 ...
  pkt.push_back(0xaa);  // ... covering one byte
  auto fits = parse(pkt);
  ASSERT_TRUE(fits.is_ok());
  EXPECT_EQ(fits->token.size(), 16383u);
  EXPECT_EQ(fits->pn_offset, 9 + 16383 + 1u);
  EXPECT_EQ(fits->packet_length, pkt.size());
  // An 8-byte token length of 2^62-1.
  auto huge = parse(from_hex("c0000000010000ffffffffffffffff0100"));
  ASSERT_FALSE(huge.is_ok());
  EXPECT_EQ(huge.status().code(), kDrop);
}

// --- Writer errors ---------------------------------------------------------------

TEST(PacketWrite, InvalidLongHeaderArguments) {
  uint8_t buf[128];
  const std::vector<uint8_t> cid21(21, 0);
  const LongHeader good{.type = PacketType::kHandshake, .version = kVersion1, .packet_number = 1, .pn_len = 1};
  auto expect_invalid = [&](LongHeader h, const char* what) {
    Writer w(MutBytes(buf, sizeof buf));
    auto r = write_long_header(w, h);
    ASSERT_FALSE(r.is_ok()) << what;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << what;
    EXPECT_EQ(w.position(), 0u) << what;
  };
  LongHeader h = good;
  h.version = 0x1a2a3a4a;
  expect_invalid(h, "version");
  h = good;
  h.type = PacketType::kRetry;
  expect_invalid(h, "retry");
  h.type = PacketType::kOneRtt;
  expect_invalid(h, "1-rtt");
  h.type = PacketType::kVersionNegotiation;
  expect_invalid(h, "vn");
  h = good;
  h.dcid = as_bytes(cid21);
  expect_invalid(h, "dcid");
  h = good;
  h.scid = as_bytes(cid21);
  expect_invalid(h, "scid");
  h = good;
  h.token = as_bytes(kToken);
  expect_invalid(h, "token on handshake");
  h = good;
  h.pn_len = 0;
  expect_invalid(h, "pn_len 0");
  h.pn_len = 5;
  expect_invalid(h, "pn_len 5");
}

TEST(PacketWrite, BufferTooSmallWritesNothing) {
  const LongHeader lh{.type = PacketType::kInitial,
                      .version = kVersion1,
                      .dcid = as_bytes(kClientDcid),
                      .scid = as_bytes(kServerScid),
                      .token = as_bytes(kToken),
                      .packet_number = 9,
                      .pn_len = 4};
  const size_t long_size = 1 + 4 + 9 + 9 + 6 + 2 + 4;
  const uint32_t versions[] = {kVersion1};
  uint8_t buf[64];
  for (size_t room = 0; room <= long_size; ++room) {
    __builtin_memset(buf, 0x77, sizeof buf);
    Writer w(MutBytes(buf, room));
    auto r = write_long_header(w, lh);
    if (room == long_size) {
      EXPECT_TRUE(r.is_ok());
      continue;
    }
    ASSERT_FALSE(r.is_ok()) << room;
    EXPECT_EQ(r.status().code(), ErrorCode::kBufferTooSmall);
    EXPECT_EQ(w.position(), 0u);
    EXPECT_EQ(buf[0], 0x77);
  }
  for (size_t room = 0; room < 1 + 8 + 2; ++room) {
    Writer w(MutBytes(buf, room));
    auto r = write_short_header(w, {.dcid = as_bytes(kClientDcid), .pn_len = 2});
    ASSERT_FALSE(r.is_ok()) << room;
    EXPECT_EQ(r.status().code(), ErrorCode::kBufferTooSmall);
    EXPECT_EQ(w.position(), 0u);
  }
  for (size_t room = 0; room < 1 + 4 + 9 + 9 + 4; ++room) {
    Writer w(MutBytes(buf, room));
    EXPECT_EQ(write_version_negotiation(w, 0, as_bytes(kClientDcid), as_bytes(kServerScid), versions).code(),
              ErrorCode::kBufferTooSmall);
    EXPECT_EQ(w.position(), 0u);
  }
  for (size_t room = 0; room < 1 + 4 + 1 + 9 + 5; ++room) {
    Writer w(MutBytes(buf, room));
    EXPECT_EQ(write_retry_without_tag(w, kVersion1, 0, {}, as_bytes(kServerScid), as_bytes(kToken)).code(),
              ErrorCode::kBufferTooSmall);
    EXPECT_EQ(w.position(), 0u);
  }
}

TEST(PacketWrite, LengthField) {
  uint8_t buf[8] = {};
  MutBytes pkt(buf, sizeof buf);
  ASSERT_TRUE(write_length_field(pkt, 3, 0).is_ok());
  EXPECT_EQ(to_hex(Bytes(buf, 8)), "0000004000000000");
  ASSERT_TRUE(write_length_field(pkt, 6, 16383).is_ok());
  EXPECT_EQ(to_hex(Bytes(buf, 8)), "0000004000007fff");
  EXPECT_EQ(write_length_field(pkt, 0, 16384).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_length_field(pkt, 7, 1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_length_field(pkt, 9, 1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(to_hex(Bytes(buf, 8)), "0000004000007fff");
}

TEST(PacketWrite, InvalidShortVnRetryArguments) {
  uint8_t buf[600];
  const std::vector<uint8_t> cid21(21, 0), cid255(255, 1), cid256(256, 1);
  const uint32_t versions[] = {kVersion1};
  Writer w(MutBytes(buf, sizeof buf));
  EXPECT_EQ(write_short_header(w, {.dcid = as_bytes(cid21)}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_short_header(w, {.pn_len = 0}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_short_header(w, {.pn_len = 5}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_version_negotiation(w, 0, as_bytes(cid256), {}, versions).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_version_negotiation(w, 0, {}, as_bytes(cid256), versions).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_version_negotiation(w, 0, {}, {}, {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_retry_without_tag(w, 0x1a2a3a4a, 0, {}, {}, as_bytes(kToken)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_retry_without_tag(w, kVersion1, 0, as_bytes(cid21), {}, as_bytes(kToken)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_retry_without_tag(w, kVersion1, 0, {}, as_bytes(cid21), as_bytes(kToken)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_retry_without_tag(w, kVersion1, 0, {}, {}, {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.position(), 0u);
  // A server echoes an unknown version's 255-byte CIDs in Version Negotiation.
  ASSERT_TRUE(write_version_negotiation(w, 0, as_bytes(cid255), as_bytes(cid255), versions).is_ok());
  EXPECT_EQ(w.position(), 1 + 4 + 256 + 256 + 4u);
}

// --- Packet numbers ------------------------------------------------------------

TEST(PacketNumber, Rfc9000A2Encoding) {
  // "if an endpoint has received an acknowledgment for packet 0xabe8b3 and
  // is sending a packet with a number of 0xac5c02, there are 29,519
  // (0x734f) outstanding packet numbers. In order to represent at least
  // twice this range (59,038 packets, or 0xe69e), 16 bits are required."
  EXPECT_EQ(packet_number_length(0xac5c02, 0xabe8b3), 2u);
  // "If the same endpoint ... sending 0xace8fe ... at least 24 bits".
  EXPECT_EQ(packet_number_length(0xace8fe, 0xabe8b3), 3u);
}

TEST(PacketNumber, EncodingLengthBoundaries) {
  EXPECT_EQ(packet_number_length(0, kNoPacketNumber), 1u);
  EXPECT_EQ(packet_number_length(126, kNoPacketNumber), 1u);  // 127 unacked: 254 < 256
  EXPECT_EQ(packet_number_length(127, kNoPacketNumber), 2u);  // 128 unacked: 256 is not < 256
  EXPECT_EQ(packet_number_length(1000 + 127, 1000), 1u);
  EXPECT_EQ(packet_number_length(1000 + 128, 1000), 2u);
  EXPECT_EQ(packet_number_length(1000 + 32767, 1000), 2u);
  EXPECT_EQ(packet_number_length(1000 + 32768, 1000), 3u);
  EXPECT_EQ(packet_number_length(1000 + (1u << 23) - 1, 1000), 3u);
  EXPECT_EQ(packet_number_length(1000 + (1u << 23), 1000), 4u);
  EXPECT_EQ(packet_number_length(uint64_t{1} << 40, 0), 4u);  // beyond any unambiguous encoding
  EXPECT_EQ(packet_number_length(kVarintMax, kVarintMax - 1), 1u);
}

TEST(PacketNumber, Rfc9000A3Decoding) {
  // "if the highest successfully authenticated packet had a packet number of
  // 0xa82f30ea, then a packet containing a 16-bit value of 0x9b32 will be
  // decoded as 0xa82f9b32."
  EXPECT_EQ(decode_packet_number(0xa82f30ea, 0x9b32, 2), 0xa82f9b32u);
}

TEST(PacketNumber, DecodingWrapsAroundTheWindow) {
  // Within half a window of the expected number.
  EXPECT_EQ(decode_packet_number(0x1ff, 0x01, 1), 0x201u);
  // Candidate too far below the expected number: add a window.
  EXPECT_EQ(decode_packet_number(0x2fe, 0x01, 1), 0x301u);
  // Exactly half a window away: below wraps up, above stays (A.3's <= and >).
  EXPECT_EQ(decode_packet_number(0x17f, 0x00, 1), 0x200u);
  EXPECT_EQ(decode_packet_number(0x100, 0x81, 1), 0x181u);
  // Candidate too far above: subtract a window.
  EXPECT_EQ(decode_packet_number(0x200, 0xff, 1), 0x1ffu);
  // No packet received yet: expected is 0.
  EXPECT_EQ(decode_packet_number(kNoPacketNumber, 0, 1), 0u);
  EXPECT_EQ(decode_packet_number(kNoPacketNumber, 0x7f, 1), 0x7fu);
  EXPECT_EQ(decode_packet_number(kNoPacketNumber, 0xff, 1), 0xffu);  // cannot go below 0
  // Near 2^62 the result never exceeds the largest packet number.
  EXPECT_EQ(decode_packet_number(kVarintMax - 1, 0xff, 1), kVarintMax);
  EXPECT_EQ(decode_packet_number(kVarintMax - 1, 0x00, 1), kVarintMax - 0xff);
}

// Whatever length the sender picks from its largest acknowledged, a receiver
// that has seen at least that packet decodes the exact number.
TEST(PacketNumber, EncodeDecodeRoundTrip) {
  const uint64_t bases[] = {0, 1, 200, 0xabe8b3, 0xffffffff, uint64_t{1} << 40, kVarintMax - (1u << 25)};
  const uint64_t gaps[] = {1, 2, 100, 127, 128, 255, 256, 32767, 32768, 40000, (1u << 23) - 1, 1u << 23, 1u << 24};
  for (uint64_t acked : bases) {
    for (uint64_t gap : gaps) {
      const uint64_t pn = acked + gap;
      const size_t len = packet_number_length(pn, acked);
      const uint64_t truncated = pn & ((uint64_t{1} << (8 * len)) - 1);
      // The receiver's largest lies anywhere from the acknowledged packet to pn - 1.
      for (uint64_t largest : {acked, acked + gap / 2, pn - 1}) {
        EXPECT_EQ(decode_packet_number(largest, truncated, len), pn)
            << "acked " << acked << " gap " << gap << " largest " << largest;
      }
    }
  }
  for (uint64_t pn : {uint64_t{0}, uint64_t{5}, uint64_t{126}, uint64_t{127}, uint64_t{40000}}) {
    const size_t len = packet_number_length(pn, kNoPacketNumber);
    EXPECT_EQ(decode_packet_number(kNoPacketNumber, pn & ((uint64_t{1} << (8 * len)) - 1), len), pn) << pn;
  }
}

// The serializer truncates to pn_len bytes; the parser's pn_offset finds them.
TEST(PacketNumber, HeaderRoundTrip) {
  const uint64_t largest_acked = 0xabe8b3, pn = 0xac5c02;
  const size_t len = packet_number_length(pn, largest_acked);
  uint8_t buf[64];
  Writer w(MutBytes(buf, sizeof buf));
  auto pn_offset = write_short_header(w, {.dcid = as_bytes(kServerScid), .packet_number = pn, .pn_len = len});
  ASSERT_TRUE(pn_offset.is_ok());
  ASSERT_TRUE(w.fill(0, 20).is_ok());
  auto h = parse_packet_header(Bytes(w.written()), {.short_dcid_len = 8});
  ASSERT_TRUE(h.is_ok());
  ASSERT_EQ(h->pn_offset, *pn_offset);
  EXPECT_EQ(pn_length_from_first_byte(h->first_byte), 2u);
  const uint64_t truncated = uint64_t{buf[h->pn_offset]} << 8 | buf[h->pn_offset + 1];
  EXPECT_EQ(truncated, 0x5c02u);
  EXPECT_EQ(decode_packet_number(largest_acked, truncated, 2), pn);
}

}  // namespace
}  // namespace quicbed
