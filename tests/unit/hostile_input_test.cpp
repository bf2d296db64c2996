// Every parser of the core fed hostile input: random bytes and mutations of
// valid encodings, from a fixed-seed generator so failures reproduce. The
// parsers must never crash or read out of bounds (the ASan+UBSan build runs
// this too, with each input in a heap buffer of exactly its size) and must
// fail only with the error their RFC context prescribes. Long runs belong to
// the fuzzers; this is the always-on guard.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "frame.h"
#include "gnutls_crypto.h"
#include "hex.h"
#include "keys.h"
#include "packet.h"
#include "protection.h"
#include "transport_params.h"
#include "varint.h"

namespace quicbed {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  size_t below(size_t n) { return n ? next() % n : 0; }

 private:
  uint64_t s_;
};

// A heap copy of exactly the input's size, so ASan sees any overread.
struct Exact {
  explicit Exact(const std::vector<uint8_t>& v) : size(v.size()), data(new uint8_t[v.size() ? v.size() : 1]) {
    if (size) std::memcpy(data.get(), v.data(), size);
  }
  MutBytes bytes() { return MutBytes(data.get(), size); }
  size_t size;
  std::unique_ptr<uint8_t[]> data;
};

// Random bytes, or a valid seed with a few bytes flipped, cut or extended.
std::vector<uint8_t> hostile(Rng& rng, const std::vector<std::vector<uint8_t>>& seeds) {
  std::vector<uint8_t> v;
  if (seeds.empty() || rng.below(4) == 0) {
    v.resize(rng.below(64));
    for (auto& b : v) b = static_cast<uint8_t>(rng.next());
    return v;
  }
  v = seeds[rng.below(seeds.size())];
  size_t flips = 1 + rng.below(4);
  for (size_t i = 0; i < flips && !v.empty(); ++i) v[rng.below(v.size())] ^= static_cast<uint8_t>(1 + rng.below(255));
  switch (rng.below(3)) {
    case 0: v.resize(rng.below(v.size() + 1)); break;
    case 1: v.push_back(static_cast<uint8_t>(rng.next())); break;
    default: break;
  }
  return v;
}

constexpr int kIterations = 20000;

TEST(HostileInput, Frames) {
  std::vector<std::vector<uint8_t>> seeds = {
      test::from_hex("0240640a0105"),                // ACK with ranges
      test::from_hex("030a0000000102034d"),          // ACK_ECN (possibly invalid, still a seed)
      test::from_hex("0f04400a05616263646566"),      // STREAM with OFF|LEN|FIN
      test::from_hex("180102081122334455667788" "00112233445566778899aabbccddeeff"),  // NEW_CONNECTION_ID
      test::from_hex("1c0a0003626164"),              // CONNECTION_CLOSE
      test::from_hex("06000474657374"),              // CRYPTO
      test::from_hex("1e"),                          // HANDSHAKE_DONE
      test::from_hex("310461626364"),                // DATAGRAM with length
  };
  Rng rng(1);
  int parsed = 0;
  for (int i = 0; i < kIterations; ++i) {
    Exact in(hostile(rng, seeds));
    Reader r(in.bytes());
    while (!r.empty()) {
      size_t before = r.position();
      auto f = parse_frame(r);
      if (!f.is_ok()) {
        ErrorCode c = f.status().code();
        ASSERT_TRUE(c == ErrorCode::kFrameEncodingError || c == ErrorCode::kProtocolViolation)
            << "error 0x" << std::hex << static_cast<uint64_t>(c) << " on " << test::to_hex(in.bytes());
        break;
      }
      ASSERT_GT(r.position(), before) << "a frame consumed nothing";
      ++parsed;
      // Whatever parsed must serialize to the same size it claims.
      std::vector<uint8_t> out(frame_size(*f) + 1);
      Writer w{MutBytes(out)};
      if (f->type != FrameType::kAck && f->type != FrameType::kAckEcn) {
        ASSERT_TRUE(write_frame(w, *f).is_ok()) << test::to_hex(in.bytes());
        ASSERT_EQ(w.position(), frame_size(*f));
      }
    }
  }
  EXPECT_GT(parsed, 1000);  // the mutations reach past the first byte
}

TEST(HostileInput, PacketHeaders) {
  std::vector<std::vector<uint8_t>> seeds = {
      test::from_hex("c000000001088394c8f03e5157080000449e7b9aec34"),  // RFC 9001 A.2 header
      test::from_hex("d16b3343cf088394c8f03e5157080000449e"),
      test::from_hex("4200bff4"),                                      // short header
      test::from_hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"),  // Retry
      test::from_hex("80000000000401020304040506070800000001"),       // Version Negotiation
      test::from_hex("c0fafafafa0401020304040506070800"),             // unknown version
  };
  Rng rng(2);
  int ok = 0;
  for (int i = 0; i < kIterations; ++i) {
    Exact in(hostile(rng, seeds));
    HeaderParseOptions opts;
    opts.short_dcid_len = rng.below(21);
    opts.accept_greased_fixed_bit = rng.below(2);
    Bytes rest = in.bytes();
    while (!rest.empty()) {
      auto h = parse_packet_header(rest, opts);
      if (!h.is_ok()) {
        ASSERT_EQ(h.status().code(), ErrorCode::kDropPacket) << test::to_hex(in.bytes());
        break;
      }
      ++ok;
      ASSERT_GT(h->packet_length, 0u);
      ASSERT_LE(h->packet_length, rest.size());
      ASSERT_LE(h->pn_offset, h->packet_length);
      rest = rest.subspan(h->packet_length);
    }
  }
  EXPECT_GT(ok, 1000);
}

TEST(HostileInput, TransportParameters) {
  std::vector<std::vector<uint8_t>> seeds = {
      // RFC 9001 A.2's client transport parameters.
      test::from_hex("0504800100000604800100000704800100000404" "8100000001040780752008024064" "0901030f088394c8f03e515708"),
  };
  // A server set with every server-only parameter, from our own encoder.
  TransportParameters tp;
  tp.has_original_destination_connection_id = true;
  (void)tp.original_destination_connection_id.assign(Bytes(seeds[0].data(), 8));
  tp.has_initial_source_connection_id = true;
  (void)tp.initial_source_connection_id.assign(Bytes(seeds[0].data() + 8, 5));
  tp.has_stateless_reset_token = true;
  tp.has_preferred_address = true;
  (void)tp.preferred_address.connection_id.assign(Bytes(seeds[0].data(), 4));
  tp.has_retry_source_connection_id = true;
  tp.max_datagram_frame_size = 1200;
  tp.grease_quic_bit = true;
  uint8_t buf[512];
  Writer w{MutBytes(buf)};
  Status st = tp.serialize(w, Role::kServer);
  ASSERT_TRUE(st.is_ok()) << std::hex << static_cast<uint64_t>(st.code()) << " " << st.reason();
  seeds.emplace_back(buf, buf + w.position());

  Rng rng(3);
  int ok = 0;
  for (int i = 0; i < kIterations; ++i) {
    Exact in(hostile(rng, seeds));
    Role role = rng.below(2) ? Role::kClient : Role::kServer;
    auto p = TransportParameters::parse(in.bytes(), role);
    if (!p.is_ok()) {
      ASSERT_EQ(p.status().code(), ErrorCode::kTransportParameterError) << test::to_hex(in.bytes());
      continue;
    }
    ++ok;
    // What we accept we can send back, and it parses to the same values.
    uint8_t out[1024];
    Writer ow{MutBytes(out)};
    ASSERT_TRUE(p->serialize(ow, role).is_ok()) << test::to_hex(in.bytes());
    auto again = TransportParameters::parse(ow.written(), role);
    ASSERT_TRUE(again.is_ok());
    ASSERT_TRUE(*again == *p);
  }
  EXPECT_GT(ok, 100);
}

TEST(HostileInput, ProtectedPacketsNeverDecryptOrCrash) {
  GnutlsCrypto crypto;
  const VersionCrypto* vc = version_crypto(kVersion1);
  auto dcid = test::from_hex("8394c8f03e515708");
  auto secrets = derive_initial_secrets(crypto, *vc, test::as_bytes(dcid));
  ASSERT_TRUE(secrets.is_ok());
  PacketProtection pp;
  ASSERT_TRUE(pp.init(crypto, kInitialSuite, *vc, secrets->client.bytes()).is_ok());
  Rng rng(4);
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> v(rng.below(80));
    for (auto& b : v) b = static_cast<uint8_t>(rng.next());
    if (!v.empty()) v[0] |= 0x80;
    Exact in(v);
    size_t pn_offset = rng.below(v.size() + 2);
    auto pnf = pp.unprotect_header(in.bytes(), pn_offset);
    if (!pnf.is_ok()) {
      ASSERT_EQ(pnf.status().code(), ErrorCode::kDropPacket);
      continue;
    }
    size_t header_len = pn_offset + pnf->len;
    auto payload = pp.open(in.bytes(), header_len, pnf->truncated);
    ASSERT_FALSE(payload.is_ok());
    ErrorCode c = payload.status().code();
    ASSERT_TRUE(c == ErrorCode::kDecryptFailed || c == ErrorCode::kDropPacket);
  }
}

}  // namespace
}  // namespace quicbed
