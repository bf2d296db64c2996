// quicbed-demo: the README's main job until the connection engine exists. It
// exercises the core end to end on the wire level, for QUIC v1 and v2:
// a client builds its Initial (transport parameters in a CRYPTO frame,
// padding to 1200 bytes, RFC 9000 §14.1), protects it with the Initial keys
// (RFC 9001 §5.2), and a server parses the datagram, removes protection,
// decodes the packet number and frames, and decodes the transport
// parameters. It writes what it saw as JSON and measures the protection
// cost per packet (informative; timings on shared machines are noisy).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "frame.h"
#include "gnutls_crypto.h"
#include "keys.h"
#include "packet.h"
#include "protection.h"
#include "transport_params.h"

namespace quicbed {
namespace {

std::string hex(Bytes b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) s += {d[x >> 4], d[x & 15]};
  return s;
}

bool check(Status s, const char* what) {
  if (s.is_ok()) return true;
  std::fprintf(stderr, "quicbed-demo: %s failed: error 0x%llx %s\n", what,
               static_cast<unsigned long long>(s.code()), s.reason());
  return false;
}

constexpr uint8_t kClientDcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};  // RFC 9001 A.1
constexpr uint8_t kClientScid[] = {0xc1, 0x01, 0x5e, 0x7a, 0x00, 0x00, 0x00, 0x01};
constexpr size_t kMinInitialDatagram = 1200;  // RFC 9000 §14.1

// Builds the client's first Initial into `out`; returns the datagram length.
Result<size_t> build_client_initial(GnutlsCrypto& crypto, const VersionCrypto& vc, uint32_t version,
                                    MutBytes out) {
  TransportParameters tp;
  tp.has_initial_source_connection_id = true;
  (void)tp.initial_source_connection_id.assign(Bytes(kClientScid));
  tp.initial_max_data = 1 << 20;
  tp.initial_max_stream_data_bidi_local = 256 << 10;
  tp.initial_max_streams_bidi = 100;
  tp.max_idle_timeout = 30000;
  tp.max_datagram_frame_size = 1200;
  tp.grease_quic_bit = true;
  tp.has_version_information = true;
  tp.version_information.chosen_version = version;
  (void)tp.version_information.available_versions.push_back(kVersion2);
  (void)tp.version_information.available_versions.push_back(kVersion1);
  uint8_t tp_buf[256];
  Writer tpw{MutBytes(tp_buf)};
  QB_TRY(tp.serialize(tpw, Role::kClient));

  Writer w(out);
  LongHeader h;
  h.type = PacketType::kInitial;
  h.version = version;
  h.dcid = Bytes(kClientDcid);
  h.scid = Bytes(kClientScid);
  h.packet_number = 0;
  h.pn_len = packet_number_length(0, kNoPacketNumber);
  QB_ASSIGN_OR_RETURN(LongHeaderLayout layout, write_long_header(w, h));
  // Stand-in for the ClientHello that TLS will write (issue 3): the
  // transport parameters are what the handshake carries for QUIC.
  QB_ASSIGN_OR_RETURN(size_t written, write_crypto(w, CryptoFrame{0, tpw.written()}));
  if (written != tpw.position()) return Status(ErrorCode::kBufferTooSmall, "CRYPTO frame cut");
  size_t padding = kMinInitialDatagram - kAeadTagLen - w.position();
  QB_TRY(w.fill(0, padding));  // PADDING frames are zero bytes (RFC 9000 §19.1)
  size_t total = w.position() + kAeadTagLen;
  QB_TRY(write_length_field(out, layout.length_offset, total - layout.pn_offset));

  QB_ASSIGN_OR_RETURN(InitialSecrets secrets, derive_initial_secrets(crypto, vc, Bytes(kClientDcid)));
  PacketProtection pp;
  QB_TRY(pp.init(crypto, kInitialSuite, vc, secrets.client.bytes()));
  QB_TRY(pp.protect(out.first(total), layout.pn_offset, h.pn_len, h.packet_number));
  return total;
}

// The server side: everything it learns from the datagram, as JSON.
Status receive_client_initial(GnutlsCrypto& crypto, MutBytes datagram, std::string& json) {
  QB_ASSIGN_OR_RETURN(PacketHeader hdr, parse_packet_header(datagram, HeaderParseOptions{}));
  const VersionCrypto* vc = version_crypto(hdr.version);
  if (!vc || hdr.type != PacketType::kInitial) return Status(ErrorCode::kDropPacket, "not an Initial we speak");
  QB_ASSIGN_OR_RETURN(InitialSecrets secrets, derive_initial_secrets(crypto, *vc, hdr.dcid));
  PacketProtection pp;
  QB_TRY(pp.init(crypto, kInitialSuite, *vc, secrets.client.bytes()));
  MutBytes packet = datagram.first(hdr.packet_length);
  QB_ASSIGN_OR_RETURN(PacketNumberField pnf, pp.unprotect_header(packet, hdr.pn_offset));
  uint64_t pn = decode_packet_number(kNoPacketNumber, pnf.truncated, pnf.len);
  QB_ASSIGN_OR_RETURN(MutBytes payload, pp.open(packet, hdr.pn_offset + pnf.len, pn));

  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"version\": \"0x%08x\", \"datagram_bytes\": %zu, \"dcid\": \"%s\", \"scid\": \"%s\", "
                "\"packet_number\": %llu, \"payload_bytes\": %zu, \"frames\": [",
                hdr.version, datagram.size(), hex(hdr.dcid).c_str(), hex(hdr.scid).c_str(),
                static_cast<unsigned long long>(pn), payload.size());
  json += buf;
  std::string tp_json;
  Reader r(payload);
  for (bool first = true; !r.empty(); first = false) {
    QB_ASSIGN_OR_RETURN(Frame f, parse_frame(r));
    QB_TRY(check_frame_permitted(f.type, hdr.type));
    if (f.type == FrameType::kCrypto) {
      QB_ASSIGN_OR_RETURN(TransportParameters tp, TransportParameters::parse(f.crypto.data, Role::kClient));
      std::snprintf(buf, sizeof buf,
                    "{\"initial_max_data\": %llu, \"initial_max_streams_bidi\": %llu, "
                    "\"max_idle_timeout_ms\": %llu, \"max_datagram_frame_size\": %llu, "
                    "\"grease_quic_bit\": %s, \"chosen_version\": \"0x%08x\"}",
                    static_cast<unsigned long long>(tp.initial_max_data),
                    static_cast<unsigned long long>(tp.initial_max_streams_bidi),
                    static_cast<unsigned long long>(tp.max_idle_timeout),
                    static_cast<unsigned long long>(tp.max_datagram_frame_size),
                    tp.grease_quic_bit ? "true" : "false", tp.version_information.chosen_version);
      tp_json = buf;
      std::snprintf(buf, sizeof buf, "%s{\"type\": \"CRYPTO\", \"offset\": %llu, \"length\": %zu}",
                    first ? "" : ", ", static_cast<unsigned long long>(f.crypto.offset), f.crypto.data.size());
    } else if (f.type == FrameType::kPadding) {
      std::snprintf(buf, sizeof buf, "%s{\"type\": \"PADDING\", \"length\": %zu}", first ? "" : ", ",
                    f.padding.length);
    } else {
      std::snprintf(buf, sizeof buf, "%s{\"type\": \"0x%02x\"}", first ? "" : ", ", static_cast<unsigned>(f.type));
    }
    json += buf;
  }
  json += "], \"transport_parameters\": " + tp_json + "}";
  return Status::ok();
}

// Protect + unprotect cost of a 1200-byte Initial, averaged over `n` runs.
double protection_ns_per_packet(GnutlsCrypto& crypto, const VersionCrypto& vc, uint32_t version, int n) {
  std::vector<uint8_t> pkt(kMinInitialDatagram);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto len = build_client_initial(crypto, vc, version, MutBytes(pkt));
    std::string sink;
    if (!len.is_ok() || !receive_client_initial(crypto, MutBytes(pkt.data(), *len), sink).is_ok()) return -1;
  }
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
}

int run(const char* out_path) {
  GnutlsCrypto crypto;
  std::string json = "{\"packets\": [";
  const uint32_t versions[] = {kVersion1, kVersion2};
  for (size_t i = 0; i < 2; ++i) {
    uint32_t version = versions[i];
    const VersionCrypto* vc = version_crypto(version);
    std::vector<uint8_t> datagram(kMinInitialDatagram);
    auto len = build_client_initial(crypto, *vc, version, MutBytes(datagram));
    if (!check(len.status(), "building the client Initial")) return 1;
    std::printf("[demo] QUIC 0x%08x: client Initial built and protected, %zu bytes, first bytes %s...\n", version,
                *len, hex(Bytes(datagram.data(), 16)).c_str());
    std::string pkt_json;
    if (!check(receive_client_initial(crypto, MutBytes(datagram.data(), *len), pkt_json), "receiving it")) return 1;
    std::printf("[demo] QUIC 0x%08x: server decrypted it: %s\n", version, pkt_json.c_str());
    double ns = protection_ns_per_packet(crypto, *vc, version, 2000);
    std::printf("[demo] QUIC 0x%08x: build+protect+parse+decrypt with Initial key derivation: %.0f ns/packet\n",
                version, ns);
    char buf[96];
    std::snprintf(buf, sizeof buf, ", \"roundtrip_ns_per_packet\": %.0f}", ns);
    pkt_json.pop_back();
    json += (i ? ", " : "") + pkt_json + buf;
  }
  json += "]}\n";
  FILE* f = std::fopen(out_path, "w");
  if (!f) {
    std::fprintf(stderr, "quicbed-demo: cannot write %s: %s\n", out_path, std::strerror(errno));
    return 1;
  }
  std::fputs(json.c_str(), f);
  std::fclose(f);
  std::printf("[demo] wrote %s\n", out_path);
  return 0;
}

}  // namespace
}  // namespace quicbed

int main(int argc, char** argv) {
  const char* out = "demo.json";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--out FILE.json]\n", argv[0]);
      return 2;
    }
  }
  return quicbed::run(out);
}
