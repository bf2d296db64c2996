// The server Endpoint (stack/endpoint.h) with real GnuTLS handshakes
// against client Connections: routing by connection ID (RFC 9000 §5.2),
// new connections (§7.2, §14.1), Version Negotiation (§6, §17.2.1),
// Stateless Reset (§10.3), refusals at the connection bound (§5.2.2),
// timers and freeing, and a thousand connections at once. Also the parts
// it is made of: SipHash-2-4, the CID routing table and the deadline heap.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

#include "cid_table.h"
#include "deadline_heap.h"
#include "endpoint_pair.h"
#include "siphash.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

// ---- SipHash-2-4 -------------------------------------------------------------

// The reference implementation's vectors (key 00..0f, message 00..len-1).
TEST(SipHash, ReferenceVectors) {
  uint8_t key_bytes[16];
  for (uint8_t i = 0; i < 16; ++i) key_bytes[i] = i;
  const SipKey key = SipKey::from_bytes(key_bytes);
  EXPECT_EQ(key.k0, 0x0706050403020100ULL);
  EXPECT_EQ(key.k1, 0x0f0e0d0c0b0a0908ULL);
  uint8_t msg[64];
  for (uint8_t i = 0; i < 64; ++i) msg[i] = i;
  const std::map<size_t, uint64_t> vectors = {
      {0, 0x726fdb47dd0e0e31ULL},  {1, 0x74f839c593dc67fdULL},  {7, 0xab0200f58b01d137ULL},
      {8, 0x93f5f5799a932462ULL},  {15, 0xa129ca6149be45e5ULL}, {16, 0x3f2acc7f57c29bdbULL},
  };
  for (const auto& [len, want] : vectors) EXPECT_EQ(siphash24(key, Bytes(msg, len)), want) << "length " << len;
}

// ---- CidTable ----------------------------------------------------------------

ConnectionId cid_of(uint64_t v, uint8_t len = 8) {
  ConnectionId c;
  c.len = len;
  for (uint8_t i = 0; i < len; ++i) c.bytes[i] = static_cast<uint8_t>(v >> (8 * (i % 8)) ^ i);
  return c;
}

TEST(CidTable, InsertFindRemove) {
  MallocAllocator alloc;
  {
    CidTable<int> t(alloc);
    EXPECT_EQ(t.init(12, SipKey{1, 2}).code(), ErrorCode::kInvalidArgument);  // not a power of two
    EXPECT_EQ(t.init(2, SipKey{1, 2}).code(), ErrorCode::kInvalidArgument);
    ASSERT_TRUE(t.init(16, SipKey{1, 2}).is_ok());
    EXPECT_EQ(t.init(16, SipKey{1, 2}).code(), ErrorCode::kInvalidArgument);  // twice
    EXPECT_EQ(t.capacity(), 16u);
    EXPECT_EQ(t.max_size(), 12u);
    int values[13];
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(t.insert(cid_of(i).view(), &values[i]).is_ok()) << i;
    EXPECT_EQ(t.insert(cid_of(12).view(), &values[12]).code(), ErrorCode::kLimitExceeded);
    EXPECT_EQ(t.size(), 12u);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(t.find(cid_of(i).view()), &values[i]);
    EXPECT_EQ(t.find(cid_of(12).view()), nullptr);
    // The same bytes at another length are another CID.
    EXPECT_EQ(t.find(cid_of(3, 9).view()), nullptr);
    EXPECT_TRUE(t.remove(cid_of(5).view()));
    EXPECT_FALSE(t.remove(cid_of(5).view()));
    EXPECT_EQ(t.find(cid_of(5).view()), nullptr);
    for (int i = 0; i < 12; ++i) {
      if (i != 5) {
        EXPECT_EQ(t.find(cid_of(i).view()), &values[i]) << i;
      }
    }
    ASSERT_TRUE(t.insert(cid_of(12).view(), &values[12]).is_ok());
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

TEST(CidTable, RejectsBadKeys) {
  MallocAllocator alloc;
  CidTable<int> t(alloc);
  ASSERT_TRUE(t.init(8, SipKey{}).is_ok());
  int v = 0;
  EXPECT_EQ(t.insert(Bytes(), &v).code(), ErrorCode::kInvalidArgument);
  uint8_t long_cid[21] = {};
  EXPECT_EQ(t.insert(Bytes(long_cid, 21), &v).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.insert(cid_of(1).view(), nullptr).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(t.insert(cid_of(1).view(), &v).is_ok());
  EXPECT_EQ(t.insert(cid_of(1).view(), &v).code(), ErrorCode::kInvalidArgument);  // already routed
}

// Random churn at the load bound against a std::map: backward-shift
// deletion must keep every remaining entry reachable.
TEST(CidTable, ChurnMatchesAReferenceMap) {
  MallocAllocator alloc;
  CidTable<int> t(alloc);
  ASSERT_TRUE(t.init(256, SipKey{0x1234, 0x5678}).is_ok());
  std::map<uint64_t, int*> ref;
  std::vector<int> values(1000);
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20000; ++round) {
    const uint64_t k = rng() % 400;
    const ConnectionId c = cid_of(k, static_cast<uint8_t>(8 + k % 13));
    if (rng() % 2 && ref.size() < t.max_size()) {
      const bool fresh = !ref.count(k);
      EXPECT_EQ(t.insert(c.view(), &values[k]).is_ok(), fresh);
      ref[k] = &values[k];
    } else {
      EXPECT_EQ(t.remove(c.view()), ref.erase(k) == 1);
    }
    ASSERT_EQ(t.size(), ref.size());
    if (round % 1000 == 0) {
      for (uint64_t j = 0; j < 400; ++j) {
        auto it = ref.find(j);
        ASSERT_EQ(t.find(cid_of(j, static_cast<uint8_t>(8 + j % 13)).view()), it == ref.end() ? nullptr : it->second);
      }
    }
  }
}

// The slot a CID lands in depends on the host's key: CIDs a peer found to
// share a slot under one key spread out under another.
TEST(CidTable, SlotsDependOnTheKey) {
  MallocAllocator alloc;
  CidTable<int> a(alloc), b(alloc);
  ASSERT_TRUE(a.init(1024, SipKey{1, 2}).is_ok());
  ASSERT_TRUE(b.init(1024, SipKey{3, 4}).is_ok());
  std::vector<ConnectionId> same_slot;
  for (uint64_t i = 0; same_slot.size() < 32; ++i) {
    if (a.home(cid_of(i).view()) == 0) same_slot.push_back(cid_of(i));
  }
  std::set<size_t> slots_b;
  for (const ConnectionId& c : same_slot) slots_b.insert(b.home(c.view()));
  EXPECT_GT(slots_b.size(), 24u);
}

// ---- DeadlineHeap ------------------------------------------------------------

TEST(DeadlineHeap, RandomUpdatesKeepTheEarliestOnTop) {
  MallocAllocator alloc;
  {
    DeadlineHeap h(alloc);
    EXPECT_EQ(h.init(0).code(), ErrorCode::kInvalidArgument);
    ASSERT_TRUE(h.init(64).is_ok());
    std::vector<DeadlineNode> nodes(64);
    std::mt19937_64 rng(3);
    for (int round = 0; round < 20000; ++round) {
      DeadlineNode& n = nodes[rng() % nodes.size()];
      const uint64_t d = rng() % 5 == 0 ? DeadlineHeap::kNever : rng() % 1000;
      h.set(n, d);
      EXPECT_EQ(n.deadline, d);
      EXPECT_EQ(n.queued(), d != DeadlineHeap::kNever);
      uint64_t want = DeadlineHeap::kNever;
      size_t queued = 0;
      for (const DeadlineNode& m : nodes) {
        want = std::min(want, m.deadline);
        queued += m.queued();
      }
      ASSERT_EQ(h.earliest(), want);
      ASSERT_EQ(h.size(), queued);
      if (queued) {
        ASSERT_EQ(h.top()->deadline, want);
      }
    }
    // Popping everything comes out in order.
    uint64_t last = 0;
    while (DeadlineNode* top = h.top()) {
      EXPECT_GE(top->deadline, last);
      last = top->deadline;
      h.remove(*top);
      EXPECT_FALSE(top->queued());
    }
  }
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
}

// ---- Helpers for datagrams the tests forge -------------------------------------

// A long header of `version` with the invariant fields (RFC 8999 §5.1) and
// `total` bytes in all.
Buf long_header_datagram(uint32_t version, const Buf& dcid, const Buf& scid, size_t total) {
  Buf d;
  d.push_back(0xc0);
  for (int i = 3; i >= 0; --i) d.push_back(static_cast<uint8_t>(version >> (8 * i)));
  d.push_back(static_cast<uint8_t>(dcid.size()));
  d.insert(d.end(), dcid.begin(), dcid.end());
  d.push_back(static_cast<uint8_t>(scid.size()));
  d.insert(d.end(), scid.begin(), scid.end());
  d.resize(total, 0x5a);
  return d;
}

// A v1 Initial whose payload is garbage (it cannot authenticate).
Buf garbage_initial(const Buf& dcid, size_t total, PacketType type = PacketType::kInitial) {
  Buf d(total, 0x77);
  Writer w{MutBytes(d.data(), d.size())};
  const Buf scid = {1, 2, 3, 4};
  LongHeader h;
  h.type = type;
  h.dcid = bytes_of(dcid);
  h.scid = bytes_of(scid);
  h.pn_len = 4;
  auto layout = write_long_header(w, h);
  EXPECT_TRUE(layout.is_ok());
  EXPECT_TRUE(write_length_field(MutBytes(d.data(), d.size()), layout->length_offset, total - layout->pn_offset).is_ok());
  return d;
}

Buf short_header_datagram(const Buf& dcid, size_t total) {
  Buf d;
  d.push_back(0x41);
  d.insert(d.end(), dcid.begin(), dcid.end());
  d.resize(total, 0x33);
  return d;
}

using EndpointTest = EndpointPairTest;

// ---- Handshakes and data ---------------------------------------------------------

TEST_F(EndpointTest, ClientsHandshakeAndEchoThroughOneEndpoint) {
  start_server();
  constexpr int kClients = 8;
  for (int i = 0; i < kClients; ++i) add_client(i % 2 ? kVersion2 : kVersion1);
  run_until([&] { return all_confirmed(); }, 10 * kSec);
  ASSERT_TRUE(all_confirmed());
  EXPECT_EQ(host_.accepted, kClients);
  EXPECT_EQ(host_.creates, kClients);
  EXPECT_EQ(endpoint_->connection_count(), size_t{kClients});
  EXPECT_EQ(endpoint_->stats().connections_accepted, uint64_t{kClients});
  for (EchoEvents* e : host_.accepted_events) EXPECT_EQ(e->handshakes, 1);

  // Each client sends its own message on a bidirectional stream; the echo
  // comes back to it and to no one else.
  std::vector<uint64_t> streams;
  for (int i = 0; i < kClients; ++i) {
    Connection& c = *clients_[i]->conn;
    auto id = c.open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok());
    streams.push_back(*id);
    const std::string msg = "hello from client " + std::to_string(i) + std::string(3000 + 100 * i, '.');
    auto n = c.stream_write(*id, Bytes(reinterpret_cast<const uint8_t*>(msg.data()), msg.size()), true);
    ASSERT_TRUE(n.is_ok() && *n == msg.size());
  }
  std::vector<Buf> echoed(kClients);
  std::vector<bool> fin(kClients, false);
  run_until(
      [&] {
        for (int i = 0; i < kClients; ++i) {
          Connection& c = *clients_[i]->conn;
          while (!fin[i] && c.streams().find(streams[i])) {
            uint8_t buf[4096];
            auto r = c.stream_read(streams[i], MutBytes(buf, sizeof buf));
            if (!r) break;
            echoed[i].insert(echoed[i].end(), buf, buf + r->bytes);
            fin[i] = r->fin;
            if (r->bytes == 0) break;
          }
        }
        return std::all_of(fin.begin(), fin.end(), [](bool b) { return b; });
      },
      now_ + 10 * kSec);
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(fin[i]) << i;
    const std::string want = "hello from client " + std::to_string(i) + std::string(3000 + 100 * i, '.');
    EXPECT_EQ(std::string(echoed[i].begin(), echoed[i].end()), want);
  }
  EXPECT_EQ(endpoint_->stats().stateless_resets_sent, 0u);
  EXPECT_EQ(endpoint_->stats().version_negotiations_sent, 0u);
}

TEST_F(EndpointTest, RoutesEveryConnectionId) {
  start_server();
  add_client();
  run_until([&] { return all_confirmed(); }, 10 * kSec);
  ASSERT_TRUE(all_confirmed());
  run_for(100 * kMs);  // NEW_CONNECTION_ID frames go out after the handshake
  ASSERT_EQ(host_.accepted_events.size(), 1u);
  EchoEvents& events = *host_.accepted_events[0];
  // The client's first DCID (its Initials, §7.2) and every CID the server
  // issued route to the one connection: sequence 0, and up to the client's
  // active_connection_id_limit of 4 in all (§5.1.1).
  EndpointConnection* c = endpoint_->find(bytes_of(host_.last_incoming_dcid));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&c->connection(), events.conn);
  EXPECT_EQ(c->path(), path_from(0));
  ASSERT_EQ(events.issued.size(), 4u);
  for (const ConnectionId& cid : events.issued) EXPECT_EQ(endpoint_->find(cid.view()), c);
  EXPECT_EQ(c->route_count(), 5u);

  // A short header the client sends carries the server's CID of sequence 0.
  Buf captured;
  drop_to_server = [&](uint32_t, const Buf& d) {
    if (!(d[0] & 0x80) && captured.empty()) captured = d;
    return false;
  };
  auto id = clients_[0]->conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(clients_[0]->conn->stream_write(*id, bytes_of(Buf{1, 2, 3}), true).is_ok());
  run_for(100 * kMs);
  ASSERT_FALSE(captured.empty());
  EXPECT_EQ(Buf(captured.begin() + 1, captured.begin() + 9), Buf(events.issued[0].bytes, events.issued[0].bytes + 8));

  // The client retires sequence 1 (RETIRE_CONNECTION_ID, §19.16): it stops
  // routing, and the replacement the connection issues routes instead.
  const auto& key = clients_[0]->tls->secrets.at({EncryptionLevel::kApplication, KeyDirection::kWrite});
  const uint64_t pn = clients_[0]->conn->space(PnSpace::kApplication).next_pn + 100;
  inject(forge_one_rtt(crypto_, key, events.issued[0].view(), pn, Buf{0x19, 0x01}), 0);
  run_for(100 * kMs);
  ASSERT_EQ(events.retired.size(), 1u);
  EXPECT_EQ(events.retired[0], events.issued[1]);
  EXPECT_EQ(endpoint_->find(events.issued[1].view()), nullptr);
  ASSERT_EQ(events.issued.size(), 5u);
  EXPECT_EQ(endpoint_->find(events.issued[4].view()), c);
  EXPECT_EQ(c->route_count(), 5u);
  EXPECT_EQ(endpoint_->stats().routes_failed, 0u);
}

// The server lost the connection (a restart with the same reset key): the
// client's next packet draws a Stateless Reset carrying the token the
// connection gave that CID, and the client stops at once (§10.3).
TEST_F(EndpointTest, RestartedServerResetsTheClient) {
  start_server();
  add_client();
  run_until([&] { return all_confirmed(); }, 10 * kSec);
  ASSERT_TRUE(all_confirmed());
  run_for(100 * kMs);
  endpoint_ = std::make_unique<quicbed::Endpoint>(config_);
  ASSERT_TRUE(endpoint_->init().is_ok());
  EXPECT_EQ(host_.removed, 1);  // the old endpoint told of its connection
  auto id = clients_[0]->conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(clients_[0]->conn->stream_write(*id, bytes_of(Buf(100, 7)), true).is_ok());
  run_until([&] { return clients_[0]->events.closes > 0; }, now_ + 5 * kSec);
  ASSERT_EQ(clients_[0]->events.closes, 1);
  EXPECT_EQ(clients_[0]->events.source, CloseInfo::Source::kStatelessReset);
  EXPECT_GE(endpoint_->stats().stateless_resets_sent, 1u);
  EXPECT_EQ(endpoint_->connection_count(), 0u);
}

// The client's Initial goes again (a duplicate, then a PTO retransmission
// while the server's first flight is lost): all of its Initials reach the
// same connection through the Original Destination Connection ID (§7.2).
TEST_F(EndpointTest, RetransmittedInitialsReachTheSameConnection) {
  start_server();
  add_client();
  Buf odcid;
  int initials_to_odcid = 0;
  drop_to_server = [&](uint32_t, const Buf& d) {
    auto h = parse_packet_header(bytes_of(d), HeaderParseOptions{8, false});
    if (!h || h->type != PacketType::kInitial) return false;
    if (odcid.empty()) {
      odcid.assign(h->dcid.begin(), h->dcid.end());
      inject(d, 0);  // a duplicate of the first datagram
      ++initials_to_odcid;
    }
    if (bytes_equal(h->dcid, bytes_of(odcid))) ++initials_to_odcid;
    return false;
  };
  // The server's first flight and its probes are lost for 2.5 s: the
  // client's PTO (RFC 9002 §6.2.1, about 1 s with the initial RTT, then
  // doubling) repeats its Initial to the same DCID.
  drop_to_client = [&](uint32_t, const Buf&) { return now_ < 2500 * kMs; };
  run_until([&] { return all_confirmed(); }, 20 * kSec);
  ASSERT_TRUE(all_confirmed());
  EXPECT_GE(initials_to_odcid, 3);
  EXPECT_EQ(host_.creates, 1);
  EXPECT_EQ(host_.accepted, 1);
  EXPECT_EQ(endpoint_->connection_count(), 1u);
}

// ---- New connections: what does not start one ----------------------------------

TEST_F(EndpointTest, InitialsThatStartNoConnection) {
  start_server();
  const Buf dcid8 = {1, 2, 3, 4, 5, 6, 7, 8};
  inject(garbage_initial(dcid8, 1199), kStrayBase);            // §14.1: too small
  inject(garbage_initial(Buf{1, 2, 3, 4, 5, 6, 7}, 1200), kStrayBase);  // §7.2: DCID < 8
  inject(garbage_initial(dcid8, 1200, PacketType::kHandshake), kStrayBase);  // not an Initial
  inject(garbage_initial(dcid8, 1200, PacketType::kZeroRtt), kStrayBase);
  run_for(10 * kMs + 1);
  EXPECT_EQ(host_.creates, 0);
  EXPECT_EQ(endpoint_->stats().datagrams_dropped, 4u);
  // An Initial of the right shape that does not authenticate: a
  // connection is tried, then freed without a trace.
  inject(garbage_initial(dcid8, 1200), kStrayBase);
  run_for(10 * kMs + 1);
  EXPECT_EQ(host_.creates, 1);
  EXPECT_EQ(host_.destroys, 1);
  EXPECT_EQ(host_.accepted, 0);
  EXPECT_EQ(endpoint_->connection_count(), 0u);
  EXPECT_EQ(endpoint_->find(bytes_of(dcid8)), nullptr);
  EXPECT_TRUE(strays_.empty());
  EXPECT_EQ(endpoint_->next_timeout(), kNever);
}

// ---- Version Negotiation (RFC 9000 §6, §17.2.1) --------------------------------

TEST_F(EndpointTest, UnknownVersionGetsVersionNegotiation) {
  start_server();
  // The interop runner's probe version.
  const Buf dcid = {0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9};
  const Buf scid = {0x51, 0x52, 0x53};
  inject(long_header_datagram(0x57414954, dcid, scid, 1200), kStrayBase + 1);
  run_for(10 * kMs + 1);
  ASSERT_EQ(strays_.size(), 1u);
  EXPECT_EQ(strays_[0].to, kStrayBase + 1);
  const Buf& vn = strays_[0].bytes;
  // First byte: long header form, then unused bits (0x40 set, RFC 9000
  // §17.2.1); Version 0; the client's CIDs swapped; v1 and v2, and a
  // reserved version somewhere (§15).
  Buf want = {0x00, 0x00, 0x00, 0x00, 0x03, 0x51, 0x52, 0x53, 0x09, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
              0xd8, 0xd9};
  ASSERT_EQ(vn.size(), 1 + want.size() + 3 * 4);
  EXPECT_EQ(vn[0] & 0xc0, 0xc0);
  EXPECT_EQ(Buf(vn.begin() + 1, vn.begin() + 1 + want.size()), want);
  auto h = parse_packet_header(bytes_of(vn), HeaderParseOptions{8, false});
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->type, PacketType::kVersionNegotiation);
  std::vector<uint32_t> real;
  int reserved = 0;
  for (uint32_t v : h->versions) {
    if (is_reserved_version(v)) {
      ++reserved;
    } else {
      real.push_back(v);
    }
  }
  EXPECT_EQ(reserved, 1);
  EXPECT_EQ(real, (std::vector<uint32_t>{kVersion1, kVersion2}));
  EXPECT_EQ(endpoint_->stats().version_negotiations_sent, 1u);
  EXPECT_EQ(host_.creates, 0);

  // RFC 8999 allows 255-byte CIDs in other versions: echoed whole.
  const Buf long_dcid(255, 0xaa), long_scid(200, 0xbb);
  inject(long_header_datagram(0x1a2a3a4a, long_dcid, long_scid, 1300), kStrayBase + 2);
  run_for(10 * kMs + 1);
  ASSERT_EQ(strays_.size(), 2u);
  auto h2 = parse_packet_header(bytes_of(strays_[1].bytes), HeaderParseOptions{8, false});
  ASSERT_TRUE(h2.is_ok());
  EXPECT_EQ(h2->dcid.size(), 200u);
  EXPECT_EQ(h2->scid.size(), 255u);
}

TEST_F(EndpointTest, NoVersionNegotiationForSmallDatagramsOrVersionNegotiation) {
  start_server();
  const Buf dcid = {1, 2, 3, 4, 5, 6, 7, 8};
  inject(long_header_datagram(0x57414954, dcid, Buf{9}, 1199), kStrayBase);
  // A Version Negotiation packet (Version 0) is never answered.
  inject(long_header_datagram(0, dcid, Buf{9}, 1200), kStrayBase);
  run_for(10 * kMs + 1);
  EXPECT_TRUE(strays_.empty());
  EXPECT_EQ(endpoint_->stats().version_negotiations_sent, 0u);
  EXPECT_EQ(endpoint_->stats().datagrams_dropped, 2u);
}

// A version the stack speaks but the endpoint does not enable is
// negotiated too, and the list names only the enabled ones.
TEST_F(EndpointTest, VersionNegotiationListsTheEnabledVersions) {
  config_.versions[0] = kVersion1;
  config_.versions[1] = 0;
  start_server();
  add_client(kVersion2);
  run_for(50 * kMs);
  EXPECT_EQ(host_.creates, 0);
  EXPECT_EQ(endpoint_->stats().version_negotiations_sent, 1u);
  // The bytes list v1 alone (and a reserved version); the client, which
  // speaks only v2, gives up (RFC 9368 §2.1: no version in common).
  ASSERT_GE(sent_by_server_.size(), 1u);
  const Buf& vn = sent_by_server_[0].bytes;
  auto h = parse_packet_header(bytes_of(vn), HeaderParseOptions{8, false});
  ASSERT_TRUE(h.is_ok());
  ASSERT_EQ(h->type, PacketType::kVersionNegotiation);
  ASSERT_EQ(h->versions.size(), 2u);
  EXPECT_TRUE(h->versions.contains(kVersion1));
  EXPECT_FALSE(h->versions.contains(kVersion2));
  const Connection& c = *clients_[0]->conn;
  EXPECT_TRUE(c.is_terminated());
  EXPECT_EQ(c.restart_version(), 0u);
  EXPECT_EQ(c.close_info().error_code, static_cast<uint64_t>(ErrorCode::kVersionNegotiationError));
}

// ---- Stateless Reset (RFC 9000 §10.3) ------------------------------------------

TEST_F(EndpointTest, UnknownShortHeaderGetsStatelessReset) {
  config_.stateless_reply_burst = 100;
  start_server();
  const Buf dcid = {0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8};
  uint8_t token[kStatelessResetTokenLen];
  ASSERT_TRUE(endpoint_->reset_token(bytes_of(dcid), MutBytes(token)).is_ok());
  // Trigger size -> reset size: one byte less up to 43 bytes (§10.3
  // SHOULD), 42 above; nothing for 21 bytes or less (§10.3.3).
  const std::vector<std::pair<size_t, size_t>> cases = {{1200, 42}, {100, 42}, {44, 42}, {43, 42},
                                                        {30, 29},   {22, 21},  {21, 0},  {10, 0}};
  uint32_t from = kStrayBase;
  for (const auto& [trigger, want] : cases) {
    strays_.clear();
    inject(short_header_datagram(dcid, trigger), ++from);
    run_for(10 * kMs + 1);
    if (want == 0) {
      EXPECT_TRUE(strays_.empty()) << trigger;
      continue;
    }
    ASSERT_EQ(strays_.size(), 1u) << trigger;
    const Buf& r = strays_[0].bytes;
    EXPECT_EQ(strays_[0].to, from);
    EXPECT_EQ(r.size(), want) << trigger;
    EXPECT_EQ(r[0] & 0xc0, 0x40);  // a short header's form and fixed bit
    EXPECT_EQ(Buf(r.end() - 16, r.end()), Buf(token, token + 16)) << trigger;
  }
  EXPECT_EQ(endpoint_->stats().stateless_resets_sent, 6u);
  // Another CID, another token.
  uint8_t other[kStatelessResetTokenLen];
  ASSERT_TRUE(endpoint_->reset_token(bytes_of(Buf{0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9}), MutBytes(other)).is_ok());
  EXPECT_NE(Buf(token, token + 16), Buf(other, other + 16));
  // Another reset key, another token.
  config_.reset_key[0] ^= 1;
  quicbed::Endpoint other_endpoint(config_);
  ASSERT_TRUE(other_endpoint.init().is_ok());
  ASSERT_TRUE(other_endpoint.reset_token(bytes_of(dcid), MutBytes(other)).is_ok());
  EXPECT_NE(Buf(token, token + 16), Buf(other, other + 16));
}

TEST_F(EndpointTest, StatelessRepliesAreRateLimited) {
  config_.stateless_replies_per_second = 10;
  config_.stateless_reply_burst = 3;
  start_server();
  const Buf dcid = {1, 1, 2, 3, 5, 8, 13, 21};
  for (int i = 0; i < 6; ++i) inject(short_header_datagram(dcid, 100), kStrayBase);
  run_for(10 * kMs + 1);
  EXPECT_EQ(strays_.size(), 3u);  // the burst
  EXPECT_EQ(endpoint_->stats().stateless_replies_limited, 3u);
  // 100 ms later one more has accrued (10 per second); VN shares the bucket.
  run_for(90 * kMs);
  inject(long_header_datagram(0x57414954, dcid, Buf{}, 1200), kStrayBase);
  inject(short_header_datagram(dcid, 100), kStrayBase);
  run_for(10 * kMs + 1);
  EXPECT_EQ(strays_.size(), 4u);
  EXPECT_EQ(endpoint_->stats().version_negotiations_sent, 1u);
  EXPECT_EQ(endpoint_->stats().stateless_resets_sent, 3u);
}

// ---- Bounds --------------------------------------------------------------------

// Past max_connections a client's Initial is answered with
// CONNECTION_CLOSE(CONNECTION_REFUSED) in an Initial (§5.2.2).
TEST_F(EndpointTest, ConnectionBoundRefuses) {
  config_.max_connections = 2;
  start_server();
  EXPECT_EQ(endpoint_->connection_capacity(), 2u);
  for (int i = 0; i < 3; ++i) add_client();
  run_until([&] { return clients_[2]->events.closes > 0 && clients_[0]->conn->handshake_confirmed() &&
                         clients_[1]->conn->handshake_confirmed(); },
            10 * kSec);
  EXPECT_TRUE(clients_[0]->conn->handshake_confirmed());
  EXPECT_TRUE(clients_[1]->conn->handshake_confirmed());
  const Events& refused = clients_[2]->events;
  ASSERT_EQ(refused.closes, 1);
  EXPECT_EQ(refused.source, CloseInfo::Source::kPeer);
  EXPECT_FALSE(refused.application);
  EXPECT_EQ(refused.error_code, static_cast<uint64_t>(ErrorCode::kConnectionRefused));
  EXPECT_EQ(refused.reason, "server at capacity");
  EXPECT_EQ(host_.creates, 2);
  EXPECT_EQ(endpoint_->connection_count(), 2u);
  EXPECT_EQ(endpoint_->stats().connections_refused, 1u);
  EXPECT_EQ(endpoint_->stats().refusals_sent, 1u);
}

// A small routing table admits fewer connections than max_connections:
// each reserves the slots of every CID it may hold.
TEST_F(EndpointTest, TableSizeBoundsConnections) {
  config_.max_connections = 100;
  config_.table_slots = 64;  // 48 usable slots: two connections
  start_server();
  EXPECT_EQ(endpoint_->connection_capacity(), 48 / quicbed::Endpoint::kRoutesPerConnection);
  for (int i = 0; i < 3; ++i) add_client();
  run_until([&] { return clients_[2]->events.closes > 0; }, 10 * kSec);
  EXPECT_EQ(clients_[2]->events.error_code, static_cast<uint64_t>(ErrorCode::kConnectionRefused));
  run_until([&] { return clients_[0]->conn->handshake_confirmed() && clients_[1]->conn->handshake_confirmed(); },
            10 * kSec);
  EXPECT_EQ(endpoint_->connection_count(), 2u);

  config_.table_slots = 16;  // 12 usable slots: not one connection
  quicbed::Endpoint tiny(config_);
  EXPECT_EQ(tiny.init().code(), ErrorCode::kInvalidArgument);
  config_.table_slots = 100;  // not a power of two
  quicbed::Endpoint odd(config_);
  EXPECT_EQ(odd.init().code(), ErrorCode::kInvalidArgument);
}

TEST_F(EndpointTest, FactoryRefusal) {
  host_.refuse = true;
  start_server();
  add_client();
  run_until([&] { return clients_[0]->events.closes > 0; }, 5 * kSec);
  EXPECT_EQ(clients_[0]->events.error_code, static_cast<uint64_t>(ErrorCode::kConnectionRefused));
  EXPECT_EQ(host_.refusals, 1);
  EXPECT_EQ(host_.creates, 0);
  EXPECT_EQ(endpoint_->connection_count(), 0u);
}

TEST_F(EndpointTest, BadConfigurations) {
  auto init_code = [&](const EndpointConfig& c) {
    quicbed::Endpoint ep(c);
    return ep.init().code();
  };
  EndpointConfig c = config_;
  c.connection.cid_len = 4;
  EXPECT_EQ(init_code(c), ErrorCode::kInvalidArgument);
  c = config_;
  c.max_connections = 0;
  EXPECT_EQ(init_code(c), ErrorCode::kInvalidArgument);
  c = config_;
  c.max_connections = quicbed::Endpoint::kMaxConnections + 1;
  EXPECT_EQ(init_code(c), ErrorCode::kInvalidArgument);
  c = config_;
  c.versions[0] = 0;
  EXPECT_EQ(init_code(c), ErrorCode::kInvalidArgument);
  c = config_;
  c.versions[1] = 0x57414954;
  EXPECT_EQ(init_code(c), ErrorCode::kInvalidArgument);
  EXPECT_EQ(server_alloc_.bytes_in_use(), 0u);
}

// The default table holds every CID of max_connections connections: ten
// thousand fit, at 32 bytes a slot.
TEST_F(EndpointTest, SizedForTenThousandConnections) {
  config_.max_connections = 10000;
  start_server();
  EXPECT_EQ(endpoint_->connection_capacity(), 10000u);
  // 170,000 CIDs at 3/4 load: 2^18 slots.
  EXPECT_LT(server_alloc_.bytes_in_use(), size_t{(1 << 18) * 32 + 10000 * 8 + 4096});
}

// ---- Life cycle ------------------------------------------------------------------

// A connection the client closes drains at the server (§10.2.2) and is
// freed once that period ends: no byte of it stays allocated.
TEST_F(EndpointTest, ClosedConnectionIsFreed) {
  start_server();
  const size_t baseline = server_alloc_.bytes_in_use();  // the table and the heap
  add_client();
  add_client();
  run_until([&] { return all_confirmed(); }, 10 * kSec);
  ASSERT_TRUE(all_confirmed());
  EXPECT_GT(server_alloc_.bytes_in_use(), baseline);
  clients_[0]->conn->close(0x42, "bye", now_);
  run_until([&] { return host_.removed == 1; }, now_ + 5 * kSec);
  EXPECT_EQ(host_.removed, 1);
  ASSERT_EQ(host_.removed_close_sources.size(), 1u);
  EXPECT_EQ(host_.removed_close_sources[0], CloseInfo::Source::kPeer);
  EXPECT_EQ(endpoint_->connection_count(), 1u);
  EXPECT_EQ(host_.destroys, 1);
  // The other one idles out (30 s) and goes too.
  run_until([&] { return host_.removed == 2; }, now_ + 120 * kSec);
  EXPECT_EQ(host_.removed, 2);
  EXPECT_EQ(endpoint_->connection_count(), 0u);
  EXPECT_EQ(endpoint_->next_timeout(), kNever);
  EXPECT_EQ(server_alloc_.bytes_in_use(), baseline);
  EXPECT_EQ(endpoint_->stats().connections_removed, 2u);
}

TEST_F(EndpointTest, CloseAllAndDestruction) {
  start_server();
  for (int i = 0; i < 3; ++i) add_client();
  run_until([&] { return all_confirmed(); }, 10 * kSec);
  ASSERT_TRUE(all_confirmed());
  endpoint_->close_all(7, "shutdown", now_);
  run_until([&] {
    return std::all_of(clients_.begin(), clients_.end(), [](const auto& c) { return c->events.closes == 1; });
  }, now_ + 5 * kSec);
  for (const auto& c : clients_) {
    EXPECT_EQ(c->events.source, CloseInfo::Source::kPeer);
    EXPECT_TRUE(c->events.application);
    EXPECT_EQ(c->events.error_code, 7u);
  }
  // Destroying the endpoint while they close frees them all (TearDown
  // checks the allocator), telling the host of each.
  endpoint_.reset();
  EXPECT_EQ(host_.removed, 3);
}

// write_datagram takes the connections in turn: while two have something
// to send, their datagrams alternate instead of one draining first.
TEST_F(EndpointTest, ConnectionsTakeTurnsToSend) {
  start_server();
  add_client();
  add_client();
  run_until([&] { return all_confirmed(); }, 10 * kSec);
  ASSERT_TRUE(all_confirmed());
  for (auto& c : clients_) {
    auto id = c->conn->open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok());
    ASSERT_TRUE(c->conn->stream_write(*id, bytes_of(Buf(20000, 0x61)), true).is_ok());
  }
  sent_by_server_.clear();
  run_for(300 * kMs);
  // Flushes in which both connections sent several datagrams: in each,
  // the destinations alternate as long as both still had some.
  size_t checked = 0;
  for (size_t start = 0; start < sent_by_server_.size();) {
    size_t end = start;
    size_t count[2] = {0, 0};
    while (end < sent_by_server_.size() && sent_by_server_[end].at == sent_by_server_[start].at) {
      ++count[sent_by_server_[end].to];
      ++end;
    }
    const size_t turns = 2 * std::min(count[0], count[1]);
    if (turns >= 6) {
      ++checked;
      for (size_t i = start + 1; i < start + turns; ++i) {
        EXPECT_NE(sent_by_server_[i].to, sent_by_server_[i - 1].to) << "datagram " << i - start << " of a flush";
      }
    }
    start = end;
  }
  EXPECT_GE(checked, 1u);
}

// ---- Scale -----------------------------------------------------------------------

// A thousand clients start at once; the endpoint's routing, timers and
// send turns keep up (the wall-clock bound catches a data structure that
// scans every connection per event).
TEST_F(EndpointTest, ThousandConcurrentHandshakes) {
  constexpr int kClients = 1000;
  config_.max_connections = 2000;
  start_server();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kClients; ++i) add_client();
  run_until([&] { return all_confirmed(); }, 30 * kSec);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(all_confirmed());
  EXPECT_EQ(host_.accepted, kClients);
  EXPECT_EQ(endpoint_->connection_count(), size_t{kClients});
  EXPECT_EQ(endpoint_->stats().stateless_resets_sent, 0u);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 120);
  // Every connection idles out and is freed.
  run_until([&] { return endpoint_->connection_count() == 0; }, now_ + 200 * kSec);
  EXPECT_EQ(host_.removed, kClients);
}

}  // namespace
}  // namespace quicbed
