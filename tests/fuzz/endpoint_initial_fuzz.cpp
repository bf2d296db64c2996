// The server Endpoint (stack/endpoint.h) facing any datagrams from a few
// client addresses: routing by connection ID (RFC 9000 §5.2), new
// connections from Initials (§7.2, §14.1), Version Negotiation (§6),
// Retry and its tokens (§8.1), Stateless Reset (§10.3) and refusals at the
// connection bound (§5.2.2). Each operation is raw bytes, or an Initial
// (or other long or short header packet) built for one of the clients and
// sealed with the null cipher, so the server's connections get as far as
// their scripted handshakes allow; a Retry the endpoint sends is obeyed by
// the next packets of that client. Nothing may crash, leak or trip an
// assertion; every connection the factory made is destroyed.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "counting_random.h"
#include "endpoint.h"
#include "malloc_allocator.h"
#include "null_cipher.h"
#include "scripted_tls.h"

using namespace quicbed;
using namespace quicbed::fuzz;

namespace {

class Host final : public ConnectionFactory {
 public:
  Status create(const IncomingConnection& in, ConnectionServices& out) override {
    auto tls = std::make_unique<ScriptedTls>(in.client_scid);
    out.tls = tls.get();
    live[out.tls] = std::move(tls);
    return Status::ok();
  }
  void destroy(const ConnectionServices& s) override {
    if (live.erase(s.tls) != 1) abort();
  }
  std::map<TlsSession*, std::unique_ptr<ScriptedTls>> live;
};

PathAddress address(uint8_t id) {
  const uint8_t b[6] = {10, 0, 0, id, 0x12, 0x34};
  PathAddress a;
  (void)a.assign(Bytes(b, sizeof b));
  return a;
}

struct Client {
  uint8_t id = 0;
  Buf dcid;   // the Destination Connection ID its Initials carry
  Buf token;  // from a Retry
  ConnectionId server_cid;  // learnt from the server's long headers
  std::unique_ptr<PacketBuilder> keys;
};

constexpr uint8_t kScid[4] = {0x5c, 0x1d, 0, 0};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  MallocAllocator alloc;
  NullCipherCrypto crypto;
  CountingRandom random;
  Host host;
  {
    EndpointConfig config;
    config.connection.params.max_idle_timeout = 10'000;
    config.connection.params.initial_max_data = 1 << 16;
    config.connection.params.initial_max_streams_bidi = 4;
    config.connection.params.initial_max_stream_data_bidi_remote = 1 << 14;
    config.max_connections = 2;
    config.validation.retry = in.ConsumeBool();
    config.validation.new_tokens = in.ConsumeBool();
    config.stateless_reply_burst = 4;
    config.alloc = &alloc;
    config.crypto_backend = &crypto;
    config.random = &random;
    config.factory = &host;
    Endpoint ep(config);
    if (!ep.init().is_ok()) abort();
    const uint32_t versions[] = {kVersion1, kVersion2, 0x1a2a3a4a, 0xff00001d};
    Client clients[3];
    for (uint8_t i = 0; i < 3; ++i) clients[i].id = i;
    uint64_t now = 1'000'000;
    Buf datagram;
    for (int ops = 0; ops < 48 && in.remaining_bytes() > 0; ++ops) {
      const uint8_t op = in.ConsumeIntegral<uint8_t>();
      Client& c = clients[(op >> 4) % 3];
      datagram.clear();
      if (op % 4 == 0) {  // raw bytes
        datagram = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 1500));
      } else if (op % 4 == 3) {  // time passes
        now += in.ConsumeIntegralInRange<uint64_t>(0, 3'000'000);
        if (ep.next_timeout() <= now) ep.on_timeout(now);
      } else {
        if (!c.keys || (op & 0x40)) {  // a new attempt: a fresh first Destination Connection ID
          c.dcid = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 20));
          c.token.clear();
          c.server_cid = ConnectionId();
          c.keys = std::make_unique<PacketBuilder>();
          if (!c.keys->init(crypto, versions[in.ConsumeIntegralInRange<int>(0, 1)], Bytes(c.dcid.data(), c.dcid.size()))
                   .is_ok())
            abort();
        }
        const auto space = static_cast<PacketBuilder::Space>(op % 4 == 1 ? 0 : in.ConsumeIntegralInRange<int>(0, 3));
        const Buf frames = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 600));
        const Bytes dcid = c.server_cid.len && space != PacketBuilder::kInitialSpace
                               ? c.server_cid.view()
                               : Bytes(c.dcid.data(), c.dcid.size());
        c.keys->append(datagram, space, dcid, Bytes(kScid, sizeof kScid), Bytes(c.token.data(), c.token.size()),
                       Bytes(frames.data(), frames.size()), 0, !(op & 0x80));
      }
      if (!datagram.empty())
        ep.receive_datagram(MutBytes(datagram.data(), datagram.size()), Path{address(0), address(c.id)},
                            DatagramInfo{}, now);
      // What the endpoint sends: Retry tokens and server CIDs are noted.
      for (int i = 0; i < 64; ++i) {
        static uint8_t out[1500];
        const Transmit t = ep.write_datagram(MutBytes(out, sizeof out), now);
        if (t.size == 0) break;
        if (t.size > sizeof out) abort();
        auto h = parse_packet_header(Bytes(out, t.size), HeaderParseOptions{});
        if (!h || h->form != HeaderForm::kLong || h->has_invariants_only()) continue;
        for (Client& to : clients) {
          if (!(t.path.peer == address(to.id)) || !to.keys) continue;
          if (h->type == PacketType::kRetry) {
            to.token.assign(h->token.begin(), h->token.end());
            to.dcid.assign(h->scid.begin(), h->scid.end());
            to.keys = std::make_unique<PacketBuilder>();
            if (!to.keys->init(crypto, h->version, Bytes(to.dcid.data(), to.dcid.size())).is_ok()) abort();
          } else if (h->version != kVersionNegotiationVersion) {
            (void)to.server_cid.assign(h->scid);
          }
        }
      }
    }
    // How far the input got, for checking what a seed reaches.
    if (getenv("QUICBED_FUZZ_TRACE")) {
      const EndpointStats& st = ep.stats();
      fprintf(stderr, "endpoint: accepted %llu, retries %llu, refused %llu, resets %llu, VN %llu, live %zu\n",
              static_cast<unsigned long long>(st.connections_accepted),
              static_cast<unsigned long long>(st.retries_sent),
              static_cast<unsigned long long>(st.connections_refused),
              static_cast<unsigned long long>(st.stateless_resets_sent),
              static_cast<unsigned long long>(st.version_negotiations_sent), ep.connection_count());
      if (const EndpointConnection* c = ep.find(clients[0].server_cid.view()))
        fprintf(stderr, "endpoint: client 0 handshake %s\n", c->connection().handshake_complete() ? "complete" : "incomplete");
    }
    ep.close_all(0, "done", now);
    for (int i = 0; i < 64 && ep.connection_count() > 0; ++i) {
      now += 1'000'000;
      ep.on_timeout(now);
      static uint8_t out[1500];
      while (ep.write_datagram(MutBytes(out, sizeof out), now).size > 0) {
      }
    }
  }
  if (!host.live.empty()) abort();          // every connection made was destroyed
  if (alloc.bytes_in_use() != 0) abort();   // and everything allocated returned
  return 0;
}
