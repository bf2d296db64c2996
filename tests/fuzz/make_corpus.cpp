// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
// from real packets: RFC 9001 Appendix A's Retry and short header packets,
// and packets, frames and parameters made by the core's own encoders; the
// connection and endpoint seeds script a whole handshake in the targets'
// input format. Run by `run.sh --regen-corpus`; the output is committed.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "frame.h"
#include "null_cipher.h"
#include "packet.h"
#include "scripted_tls.h"
#include "transport_params.h"
#include "varint.h"

using namespace quicbed;
using namespace quicbed::fuzz;

namespace {

std::string out_dir;

void save(const std::string& target, const std::string& name, const Buf& b) {
  const std::string path = out_dir + "/" + target + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  if (!f || fwrite(b.data(), 1, b.size(), f) != b.size() || fclose(f) != 0) {
    perror(path.c_str());
    exit(1);
  }
}

Buf hex(const char* s) {
  Buf b;
  for (; s[0] && s[1]; s += 2) b.push_back(static_cast<uint8_t>(std::stoi(std::string(s, 2), nullptr, 16)));
  return b;
}

Buf cat(std::initializer_list<Buf> parts) {
  Buf b;
  for (const Buf& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}

Buf frame(const Frame& f, bool last = false) {
  Buf b(frame_size(f, last));
  Writer w{MutBytes(b.data(), b.size())};
  if (b.empty() || !write_frame(w, f, last).is_ok()) abort();
  return b;
}

Bytes view(const Buf& b) { return Bytes(b.data(), b.size()); }

// Input for the targets that read through FuzzedDataProvider: byte strings
// are taken from the front, integers from the back, last byte first.
class ProviderInput {
 public:
  // Bytes of the range's width, most significant consumed first.
  void integer(uint64_t v, uint64_t min, uint64_t max) {
    const uint64_t range = max - min;
    int n = 0;
    while (n < 8 && (range >> (8 * n)) > 0) ++n;
    for (int i = n - 1; i >= 0; --i) back_.push_back(static_cast<uint8_t>((v - min) >> (8 * i)));
  }
  void u8(uint8_t v) { back_.push_back(v); }
  Buf take() const {
    Buf b = front_;
    b.insert(b.end(), back_.rbegin(), back_.rend());
    return b;
  }

 private:
  Buf front_;
  Buf back_;
};

Frame crypto_frame(uint64_t offset, const Buf& data) {
  Frame f;
  f.type = FrameType::kCrypto;
  f.crypto = CryptoFrame{offset, view(data)};
  return f;
}

Buf ack_of(uint64_t largest) {
  const Range r[] = {{0, largest}};
  Buf b(32);
  Writer w{MutBytes(b.data(), b.size())};
  if (!write_ack(w, r, 0)) abort();
  b.resize(w.position());
  return b;
}

void packet_header_seeds(CryptoBackend& crypto) {
  // RFC 9001 §A.4 (Retry) and §A.5 (ChaCha20 short header).
  save("packet_header", "rfc9001_a4_retry", cat({{0x08}, hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba")}));
  save("packet_header", "rfc9001_a5_short", cat({{0x00}, hex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb")}));
  const Buf dcid = hex("8394c8f03e515708");
  for (uint32_t v : {kVersion1, kVersion2}) {
    PacketBuilder b;
    if (!b.init(crypto, v, view(dcid)).is_ok()) abort();
    Buf d;
    const Buf ping = {0x01};
    b.append(d, PacketBuilder::kInitialSpace, view(dcid), Bytes(), view(hex("746f6b656e")), view(ping), 0, false);
    b.append(d, PacketBuilder::kZeroRttSpace, view(dcid), Bytes(), Bytes(), view(ping), 0, false);
    b.append(d, PacketBuilder::kHandshakeSpace, view(dcid), Bytes(), Bytes(), view(ping), 0, false);
    b.append(d, PacketBuilder::kOneRttSpace, view(dcid), Bytes(), Bytes(), view(ping), 0, false);
    save("packet_header", v == kVersion1 ? "coalesced_v1" : "coalesced_v2", cat({{0x08}, d}));
  }
  Buf vn(64);
  Writer w{MutBytes(vn.data(), vn.size())};
  const uint32_t versions[] = {kVersion1, kVersion2, 0x1a2a3a4a};
  if (!write_version_negotiation(w, 0x15, view(dcid), view(hex("0102")), versions).is_ok()) abort();
  vn.resize(w.position());
  save("packet_header", "version_negotiation", cat({{0x02}, vn}));
}

void frame_seeds() {
  const Buf data = hex("68656c6c6f");
  const Buf cid = hex("0102030405060708");
  const Buf token(16, 0xab);
  const Buf path8 = hex("0011223344556677");
  Frame f;
  const Buf ranges = [] {
    const Range r[] = {{90, 100}, {50, 80}, {0, 10}};
    Buf b(64);
    Writer w{MutBytes(b.data(), b.size())};
    const EcnCounts ecn{5, 1, 2};
    if (!write_ack(w, r, 7, &ecn)) abort();
    b.resize(w.position());
    return b;
  }();
  save("frame", "ack_ecn", ranges);
  save("frame", "ack", ack_of(1000));
  f.type = FrameType::kPadding;
  f.padding = PaddingFrame{3};
  save("frame", "padding_ping", cat({frame(f), {0x01}}));
  f.type = FrameType::kResetStream;
  f.reset_stream = ResetStreamFrame{4, 9, 1 << 20};
  save("frame", "reset_stream", frame(f));
  f.type = FrameType::kStopSending;
  f.stop_sending = StopSendingFrame{8, 1};
  save("frame", "stop_sending", frame(f));
  save("frame", "crypto", frame(crypto_frame(1 << 14, data)));
  f.type = FrameType::kNewToken;
  f.new_token = NewTokenFrame{view(token)};
  save("frame", "new_token", frame(f));
  f.type = FrameType::kStream;
  f.stream = StreamFrame{0, 100, view(data), true};
  const Buf stream = frame(f);
  f.stream = StreamFrame{2, 0, view(data), false};
  save("frame", "stream", cat({stream, frame(f, true)}));
  f.type = FrameType::kMaxData;
  f.max_data = MaxDataFrame{1 << 30};
  save("frame", "max_data", frame(f));
  f.type = FrameType::kMaxStreamData;
  f.max_stream_data = MaxStreamDataFrame{4, 1 << 16};
  save("frame", "max_stream_data", frame(f));
  for (FrameType t : {FrameType::kMaxStreamsBidi, FrameType::kMaxStreamsUni}) {
    f.type = t;
    f.max_streams = MaxStreamsFrame{100};
    save("frame", t == FrameType::kMaxStreamsBidi ? "max_streams_bidi" : "max_streams_uni", frame(f));
  }
  f.type = FrameType::kDataBlocked;
  f.data_blocked = DataBlockedFrame{4096};
  save("frame", "data_blocked", frame(f));
  f.type = FrameType::kStreamDataBlocked;
  f.stream_data_blocked = StreamDataBlockedFrame{0, 4096};
  save("frame", "stream_data_blocked", frame(f));
  for (FrameType t : {FrameType::kStreamsBlockedBidi, FrameType::kStreamsBlockedUni}) {
    f.type = t;
    f.streams_blocked = StreamsBlockedFrame{10};
    save("frame", t == FrameType::kStreamsBlockedBidi ? "streams_blocked_bidi" : "streams_blocked_uni", frame(f));
  }
  f.type = FrameType::kNewConnectionId;
  f.new_connection_id = NewConnectionIdFrame{1, 0, view(cid), view(token)};
  save("frame", "new_connection_id", frame(f));
  f.type = FrameType::kRetireConnectionId;
  f.retire_connection_id = RetireConnectionIdFrame{1};
  save("frame", "retire_connection_id", frame(f));
  for (FrameType t : {FrameType::kPathChallenge, FrameType::kPathResponse}) {
    f.type = t;
    f.path = PathFrame{view(path8)};
    save("frame", t == FrameType::kPathChallenge ? "path_challenge" : "path_response", frame(f));
  }
  for (FrameType t : {FrameType::kConnectionClose, FrameType::kConnectionCloseApp}) {
    f.type = t;
    f.connection_close = ConnectionCloseFrame{0x0a, t == FrameType::kConnectionClose ? 0x08u : 0u, view(data)};
    save("frame", t == FrameType::kConnectionClose ? "connection_close" : "connection_close_app", frame(f));
  }
  f.type = FrameType::kHandshakeDone;
  save("frame", "handshake_done", frame(f));
  f.type = FrameType::kDatagram;
  f.datagram = DatagramFrame{view(data)};
  save("frame", "datagram", cat({frame(f), frame(f, true)}));
}

Buf serialized_params(Role role) {
  TransportParameters tp;
  tp.max_idle_timeout = 30000;
  tp.initial_max_data = 1 << 20;
  tp.initial_max_stream_data_bidi_local = 1 << 16;
  tp.initial_max_streams_bidi = 100;
  tp.max_datagram_frame_size = 1200;
  tp.grease_quic_bit = true;
  tp.has_initial_source_connection_id = tp.initial_source_connection_id.assign(view(hex("c0ffee")));
  tp.has_version_information = true;
  tp.version_information.chosen_version = kVersion1;
  (void)tp.version_information.available_versions.push_back(kVersion1);
  (void)tp.version_information.available_versions.push_back(kVersion2);
  if (role == Role::kServer) {
    tp.has_original_destination_connection_id = tp.original_destination_connection_id.assign(view(hex("8394c8f03e515708")));
    tp.has_stateless_reset_token = true;
    tp.has_preferred_address = true;
    tp.preferred_address.ipv4_port = 4433;
    (void)tp.preferred_address.connection_id.assign(view(hex("0a0b0c0d")));
  }
  Buf b(512);
  Writer w{MutBytes(b.data(), b.size())};
  const GreaseTransportParameter grease{};
  if (!tp.serialize(w, role, &grease).is_ok()) abort();
  b.resize(w.position());
  return b;
}

// The connection target: a whole scripted handshake, then 1-RTT traffic,
// time, the application's answer and a close.
void conn_recv_seed() {
  ProviderInput in;
  for (int i = 0; i < 4; ++i) in.u8(i == 1 ? 1 : 0);  // v1, DATAGRAM on, no ECN, no PMTUD
  Buf front;
  auto add = [&](uint8_t op, int space, const Buf& frames) {
    in.u8(op);
    in.integer(space, 0, 3);
    in.integer(frames.size(), 0, 1200);
    front.insert(front.end(), frames.begin(), frames.end());
  };
  add(0x01, 0, frame(crypto_frame(0, hex("16030100"))));
  add(0x01, 2, cat({frame(crypto_frame(0, hex("14000004aabbccdd"))), ack_of(0)}));
  Frame s;
  s.type = FrameType::kStream;
  const Buf hello = hex("68656c6c6f");
  s.stream = StreamFrame{0, 0, view(hello), true};
  Frame d;
  d.type = FrameType::kDatagram;
  d.datagram = DatagramFrame{view(hello)};
  add(0x01, 3, cat({frame(s), frame(d), ack_of(1), {0x01}}));
  in.u8(0x06);  // the application reads and answers
  in.u8(0x05);  // time passes
  in.integer(50'000, 0, 2'000'000);
  add(0x01, 3, ack_of(3));
  in.u8(0x0f);  // close
  Buf b = front;
  const Buf back = in.take();
  b.insert(b.end(), back.begin(), back.end());
  save("conn_recv", "handshake_stream_close", b);
}

// The endpoint target: a client's Initial, then its Handshake and 1-RTT
// packets (with Retry on, the first Initial is answered by a Retry that
// the harness obeys, so the same script goes through).
void endpoint_seed(bool retry) {
  ProviderInput in;
  in.u8(retry);
  in.u8(1);  // NEW_TOKEN on
  Buf front;
  const Buf dcid = hex("8394c8f03e515708");
  auto add = [&](uint8_t op, int space, const Buf& frames) {
    in.u8(op);
    if (op % 4 == 2) in.integer(space, 0, 3);
    in.integer(frames.size(), 0, 600);
    front.insert(front.end(), frames.begin(), frames.end());
  };
  // A new attempt: dcid first, then the version.
  in.u8(0x01);
  in.integer(dcid.size(), 0, 20);
  front.insert(front.end(), dcid.begin(), dcid.end());
  in.integer(0, 0, 1);
  in.integer(6, 0, 600);
  const Buf ch = frame(crypto_frame(0, hex("160301")));
  front.insert(front.end(), ch.begin(), ch.end());
  if (retry) add(0x01, 0, ch);  // again, with the Retry token
  add(0x02, 2, cat({frame(crypto_frame(0, hex("14000004aabbccdd"))), ack_of(0)}));
  add(0x02, 3, cat({ack_of(0), {0x01}}));
  in.u8(0x03);
  in.integer(100'000, 0, 3'000'000);
  Buf b = front;
  const Buf back = in.take();
  b.insert(b.end(), back.begin(), back.end());
  save("endpoint_initial", retry ? "retry_handshake" : "handshake", b);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  NullCipherCrypto crypto;
  // RFC 9000 §16 / §A.1 examples.
  save("varint", "rfc9000_examples", hex("c2197c5eff14e88c9d7f3e7d7bbd254025"));
  save("varint", "edges", hex("003f407fffbfffffffffffffffffff"));
  packet_header_seeds(crypto);
  frame_seeds();
  save("transport_params", "client", serialized_params(Role::kClient));
  save("transport_params", "server", serialized_params(Role::kServer));
  // op, varint: adds in order, a gap, the gap filled, remove_below, queries.
  save("ack_ranges", "in_order_gap_fill", hex("4000400140024004810040034003020203000305"));
  // limits, then op, varint: inserts out of order, overlapping, FIN, reads.
  save("reassembly", "out_of_order_fin", hex("0f05400a0d0045000a02403c030005ff"));
  conn_recv_seed();
  endpoint_seed(false);
  endpoint_seed(true);
  return 0;
}
