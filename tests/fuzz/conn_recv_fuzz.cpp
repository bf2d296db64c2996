// The whole receive path of a server Connection (RFC 9000 §5-§13, §17,
// §19; RFC 9001 §4-§6) fed a scripted client: the input is a list of
// operations, each a datagram of raw bytes, or a packet in one of the four
// packet number spaces whose frames come from the input and which the
// harness seals with the null cipher (ScriptedTls's secrets), so that the
// frames pass packet protection; or time passing, or the application
// reading, writing and closing. After each operation the connection writes
// what it has to send. Nothing may crash, leak or trip an assertion, and a
// terminated connection stays terminated.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "conn.h"
#include "counting_random.h"
#include "malloc_allocator.h"
#include "null_cipher.h"
#include "scripted_tls.h"

using namespace quicbed;
using namespace quicbed::fuzz;

namespace {

class FuzzEvents final : public ConnectionEvents {
 public:
  void on_stream_readable(uint64_t id) override { readable.push_back(id); }
  void on_stream_opened(uint64_t id) override { opened.push_back(id); }
  void on_cid_issued(const ConnectionId& cid) override {
    if (!have_cid) server_cid = cid;
    have_cid = true;
  }
  void on_connection_closed(const CloseInfo&) override { ++closes; }

  std::vector<uint64_t> readable;
  std::vector<uint64_t> opened;
  ConnectionId server_cid;
  bool have_cid = false;
  int closes = 0;
};

constexpr uint8_t kOdcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};  // RFC 9001 §A
constexpr uint8_t kClientScid[8] = {0xc1, 0x1e, 0x17, 0x5c, 0x1d, 0, 0, 1};

void drain(Connection& conn, uint64_t now) {
  static uint8_t out[1500];
  for (int i = 0; i < 32; ++i)
    if (conn.write_datagram(MutBytes(out, sizeof out), now) == 0) break;
}

void run(FuzzedDataProvider& in) {
  MallocAllocator alloc;
  NullCipherCrypto crypto;
  CountingRandom random;
  FuzzEvents events;
  const uint32_t version = in.ConsumeBool() ? kVersion2 : kVersion1;
  ScriptedTls tls(Bytes(kClientScid, sizeof kClientScid));
  PacketBuilder client;
  if (!client.init(crypto, version, Bytes(kOdcid, sizeof kOdcid)).is_ok()) abort();
  {
    ConnectionConfig config;
    config.role = Role::kServer;
    config.version = version;
    config.params.max_idle_timeout = 30'000;
    config.params.initial_max_data = 1 << 16;
    config.params.initial_max_stream_data_bidi_local = 1 << 14;
    config.params.initial_max_stream_data_bidi_remote = 1 << 14;
    config.params.initial_max_stream_data_uni = 1 << 14;
    config.params.initial_max_streams_bidi = 4;
    config.params.initial_max_streams_uni = 4;
    config.params.active_connection_id_limit = 4;
    config.params.max_datagram_frame_size = in.ConsumeBool() ? 1200 : 0;
    config.ecn = in.ConsumeBool();
    config.pmtud = in.ConsumeBool();
    config.max_datagram_size = 1452;
    config.max_stream_window = 1 << 15;
    config.max_connection_window = 1 << 16;
    config.alloc = &alloc;
    config.crypto_backend = &crypto;
    config.tls = &tls;
    config.events = &events;
    config.random = &random;
    Connection conn(config);
    uint64_t now = 1'000'000;
    if (!conn.init(now).is_ok()) abort();
    bool terminated = false;
    for (int ops = 0; ops < 64 && in.remaining_bytes() > 0; ++ops) {
      const uint8_t op = in.ConsumeIntegral<uint8_t>();
      Buf datagram;
      switch (op % 8) {
        case 0:  // raw bytes
          datagram = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 1500));
          break;
        case 1:
        case 2:
        case 3:
        case 4: {  // a sealed packet, maybe followed by coalesced ones
          int packets = 1 + ((op >> 3) & 1);
          while (packets-- > 0) {
            const auto space = static_cast<PacketBuilder::Space>(in.ConsumeIntegralInRange<int>(0, 3));
            const Buf frames = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 1200));
            const Bytes odcid(kOdcid, sizeof kOdcid);
            const Bytes dcid = events.have_cid && !(op & 0x40) ? events.server_cid.view() : odcid;
            const Buf token = (op & 0x20) ? in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 64)) : Buf();
            const uint64_t skip = (op & 0x80) ? in.ConsumeIntegralInRange<uint64_t>(0, 1 << 20) : 0;
            client.append(datagram, space, dcid, Bytes(kClientScid, sizeof kClientScid),
                          Bytes(token.data(), token.size()), Bytes(frames.data(), frames.size()), skip,
                          !(op & 0x10));
          }
          break;
        }
        case 5:  // time passes
          now += in.ConsumeIntegralInRange<uint64_t>(0, 2'000'000);
          conn.on_timeout(now);
          break;
        case 6: {  // the application reads what arrived and answers on it
          for (uint64_t id : events.readable) {
            uint8_t buf[4096];
            auto r = conn.stream_read(id, MutBytes(buf, sizeof buf));
            if (r && r->bytes > 0) (void)conn.stream_write(id, Bytes(buf, r->bytes), r->fin);
          }
          events.readable.clear();
          if (op & 0x08) (void)conn.stream_write(op & 0x10 ? 1 : 3, Bytes(kOdcid, sizeof kOdcid), op & 0x20);
          if (op & 0x40) (void)conn.datagram_send(Bytes(kOdcid, sizeof kOdcid));
          if (op & 0x80 && !events.opened.empty()) (void)conn.stream_reset(events.opened.back(), 7);
          break;
        }
        default:  // the application closes, or updates keys
          if (op & 0x08)
            conn.close(op >> 4, "fuzz", now);
          else
            (void)conn.update_keys();
          break;
      }
      if (!datagram.empty()) conn.receive_datagram(MutBytes(datagram.data(), datagram.size()), DatagramInfo{}, now);
      drain(conn, now);
      if (terminated && !conn.is_terminated()) abort();
      terminated = conn.is_terminated();
    }
    // How far the input got, for checking what a seed reaches.
    if (getenv("QUICBED_FUZZ_TRACE"))
      fprintf(stderr, "conn: handshake %s, confirmed %d, streams opened %zu, closes %d, state %d\n",
              conn.handshake_complete() ? "complete" : "incomplete", conn.handshake_confirmed(),
              events.opened.size(), events.closes, static_cast<int>(conn.state()));
  }
  if (alloc.bytes_in_use() != 0) abort();  // the connection gave back all it took
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  run(in);
  return 0;
}
