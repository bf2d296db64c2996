// Loopback only: every socket here binds to 127.0.0.1, ::1 or a wildcard
// and every datagram goes to 127.0.0.1 or ::1.
#include "udp_socket.h"

#include <poll.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace quicbed {
namespace {

constexpr int kBigBuffers = 4 << 20;  // room for every test's burst

struct Got {
  std::vector<uint8_t> data;
  SocketAddress peer;
  SocketAddress local;
  Ecn ecn;
};

struct Receipt {
  std::vector<Got> datagrams;
  size_t messages = 0;
  size_t coalesced_messages = 0;  // messages GRO made of more than one datagram
};

UdpSocketOptions options(bool gso = true, bool gro = true) {
  UdpSocketOptions o;
  o.gso = gso;
  o.gro = gro;
  o.socket_buffer_bytes = kBigBuffers;
  return o;
}

UdpSocket open_socket(const char* local, const UdpSocketOptions& o = options()) {
  UdpSocket s;
  auto a = parse_address(local);
  EXPECT_TRUE(a.is_ok()) << local;
  SysStatus st = s.open(*a, o);
  EXPECT_TRUE(st.is_ok()) << st.message();
  return s;
}

// The loopback address a socket bound to `s` can be reached at.
SocketAddress reach(const UdpSocket& s) {
  SocketAddress a = SocketAddress::loopback(s.local_address().is_ipv6() ? AddressFamily::kIPv6 : AddressFamily::kIPv4,
                                            s.local_address().port());
  return a;
}

// Receives until `want` datagrams arrived or a second passes without any.
Receipt receive_n(UdpSocket& s, size_t want) {
  Receipt r;
  while (r.datagrams.size() < want) {
    pollfd p{s.fd(), POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) break;
    SysStatus st = s.receive();
    if (st.would_block()) continue;
    EXPECT_TRUE(st.is_ok()) << st.message();
    if (!st.is_ok()) break;
    for (size_t i = 0; i < s.received_count(); ++i) {
      const ReceivedMessage& m = s.received(i);
      EXPECT_FALSE(m.truncated);
      ++r.messages;
      if (m.datagram_count() > 1) ++r.coalesced_messages;
    }
    s.for_each_datagram([&](Bytes d, const ReceivedMessage& m) {
      r.datagrams.push_back(Got{std::vector<uint8_t>(d.begin(), d.end()), m.peer, m.local, m.ecn});
    });
  }
  return r;
}

// Datagram `index` of a batch: its index in the first bytes, then a pattern.
void fill(uint8_t* p, size_t size, uint32_t index) {
  for (size_t j = 0; j < size; ++j) p[j] = static_cast<uint8_t>(index * 31 + j * 7);
  if (size >= 4) std::memcpy(p, &index, 4);
}

std::vector<uint8_t> make_batch(size_t count, size_t segment, size_t last) {
  std::vector<uint8_t> data((count - 1) * segment + last);
  for (size_t i = 0; i < count; ++i)
    fill(data.data() + i * segment, i + 1 == count ? last : segment, static_cast<uint32_t>(i));
  return data;
}

void expect_batch(const Receipt& r, size_t count, size_t segment, size_t last) {
  ASSERT_EQ(r.datagrams.size(), count);
  std::vector<uint8_t> want(segment);
  for (size_t i = 0; i < count; ++i) {
    const size_t size = i + 1 == count ? last : segment;
    want.resize(size);
    fill(want.data(), size, static_cast<uint32_t>(i));
    ASSERT_EQ(r.datagrams[i].data, want) << "datagram " << i << " of " << count;
  }
}

SysStatus send_batch(UdpSocket& s, const SocketAddress& to, const std::vector<uint8_t>& data, size_t segment,
                     size_t* sent, Ecn ecn = Ecn::kNotEct) {
  SendBatch b;
  b.peer = to;
  b.ecn = ecn;
  b.data = Bytes(data.data(), data.size());
  b.segment_size = segment;
  return s.send(b, sent);
}

TEST(UdpSocket, OneDatagramWithAddressesAndEcn) {
  UdpSocket rx = open_socket("127.0.0.1:0");
  UdpSocket tx = open_socket("127.0.0.1:0");
  ASSERT_NE(rx.local_address().port(), 0);
  auto data = make_batch(1, 1200, 1200);
  size_t sent = 0;
  SysStatus st = send_batch(tx, reach(rx), data, 0, &sent, Ecn::kEct0);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(sent, 1u);
  Receipt r = receive_n(rx, 1);
  expect_batch(r, 1, 1200, 1200);
  EXPECT_EQ(r.datagrams[0].peer, tx.local_address());
  EXPECT_EQ(r.datagrams[0].local, rx.local_address());
  EXPECT_EQ(r.datagrams[0].ecn, Ecn::kEct0);
}

TEST(UdpSocket, NothingToReadWouldBlock) {
  UdpSocket rx = open_socket("127.0.0.1:0");
  SysStatus st = rx.receive();
  EXPECT_TRUE(st.would_block()) << st.message();
  EXPECT_EQ(st.err(), EAGAIN);
  EXPECT_EQ(rx.received_count(), 0u);
}

// Sizes from tiny to jumbo, counts that span several GSO messages and
// several sendmmsg calls, a short last datagram; every combination of
// GSO/GRO on and off.
TEST(UdpSocket, BatchesArriveIntactInOrderWithAndWithoutGsoGro) {
  struct {
    size_t count, segment, last;
  } shapes[] = {{1, 1, 1}, {3, 1, 1}, {2, 1200, 1200}, {10, 1200, 17}, {200, 1200, 1200}, {150, 1472, 1000},
                {20, 9000, 8999}, {7, 20000, 20000}, {1, 65507, 65507}, {300, 100, 1}};
  for (bool gso : {true, false}) {
    for (bool gro : {true, false}) {
      UdpSocket rx = open_socket("127.0.0.1:0", options(true, gro));
      UdpSocket tx = open_socket("127.0.0.1:0", options(gso, true));
      EXPECT_EQ(tx.gso_enabled(), gso);
      EXPECT_EQ(rx.gro_enabled(), gro);
      size_t coalesced = 0;
      for (const auto& s : shapes) {
        SCOPED_TRACE("gso " + std::to_string(gso) + " gro " + std::to_string(gro) + " count " +
                     std::to_string(s.count) + " segment " + std::to_string(s.segment));
        auto data = make_batch(s.count, s.segment, s.last);
        size_t sent = 0;
        SysStatus st = send_batch(tx, reach(rx), data, s.segment, &sent);
        ASSERT_TRUE(st.is_ok()) << st.message();
        EXPECT_EQ(sent, s.count);
        Receipt r = receive_n(rx, s.count);
        expect_batch(r, s.count, s.segment, s.last);
        EXPECT_LE(r.messages, s.count);
        if (!gro) {
          EXPECT_EQ(r.coalesced_messages, 0u);
        }
        coalesced += r.coalesced_messages;
      }
      // Loopback hands a GSO unit to a GRO socket whole: the split above
      // is what recovered the datagrams.
      if (gso && gro) EXPECT_GT(coalesced, 0u);
      else EXPECT_EQ(coalesced, 0u);
      EXPECT_EQ(tx.gso_enabled(), gso);
    }
  }
}

TEST(UdpSocket, Ipv6BatchesWithGsoAndGro) {
  UdpSocket rx = open_socket("[::1]:0");
  UdpSocket tx = open_socket("[::1]:0");
  ASSERT_TRUE(tx.gso_enabled());
  ASSERT_TRUE(rx.gro_enabled());
  // 60 x 1200 needs two GSO units (IPv6 carries at most 65527 bytes).
  auto data = make_batch(60, 1200, 700);
  size_t sent = 0;
  SysStatus st = send_batch(tx, reach(rx), data, 1200, &sent, Ecn::kEct1);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(sent, 60u);
  Receipt r = receive_n(rx, 60);
  expect_batch(r, 60, 1200, 700);
  EXPECT_GT(r.coalesced_messages, 0u);
  for (const Got& g : r.datagrams) {
    EXPECT_EQ(g.peer, tx.local_address());
    EXPECT_EQ(g.local, rx.local_address());
    EXPECT_EQ(g.ecn, Ecn::kEct1);
  }
  EXPECT_EQ(r.datagrams[0].peer.to_string(), "[::1]:" + std::to_string(tx.local_address().port()));
}

TEST(UdpSocket, EcnCodepointsSurviveLoopback) {
  const Ecn marks[] = {Ecn::kNotEct, Ecn::kEct0, Ecn::kEct1, Ecn::kCe};
  for (const char* local : {"127.0.0.1:0", "[::1]:0"}) {
    for (bool gso : {true, false}) {
      UdpSocket rx = open_socket(local);
      UdpSocket tx = open_socket(local, options(gso, true));
      for (Ecn e : marks) {
        SCOPED_TRACE(std::string(local) + " gso " + std::to_string(gso) + " ecn " + std::to_string(int(e)));
        auto data = make_batch(5, 1200, 1200);
        size_t sent = 0;
        ASSERT_TRUE(send_batch(tx, reach(rx), data, 1200, &sent, e).is_ok());
        Receipt r = receive_n(rx, 5);
        expect_batch(r, 5, 1200, 1200);
        for (const Got& g : r.datagrams) EXPECT_EQ(g.ecn, e);
      }
    }
  }
}

// A dual-stack socket sees IPv4 peers as ::ffff:127.0.0.1, reads their ECN
// from the IPv4 header and sends back to them with the IPv4 options.
TEST(UdpSocket, DualStackCarriesIpv4WithEcn) {
  UdpSocketOptions dual = options();
  dual.dual_stack = true;
  UdpSocket server = open_socket("[::]:0", dual);
  UdpSocket client = open_socket("127.0.0.1:0");
  auto data = make_batch(3, 1200, 1200);
  size_t sent = 0;
  const SocketAddress server_v4 = SocketAddress::loopback(AddressFamily::kIPv4, server.local_address().port());
  ASSERT_TRUE(send_batch(client, server_v4, data, 1200, &sent, Ecn::kEct1).is_ok());
  Receipt r = receive_n(server, 3);
  expect_batch(r, 3, 1200, 1200);
  EXPECT_TRUE(r.datagrams[0].peer.is_v4_mapped());
  EXPECT_EQ(r.datagrams[0].peer.unmapped(), client.local_address());
  EXPECT_EQ(r.datagrams[0].local.to_string(), "[::ffff:127.0.0.1]:" + std::to_string(server.local_address().port()));
  EXPECT_EQ(r.datagrams[0].ecn, Ecn::kEct1);

  // Reply to the mapped peer and to its plain IPv4 form, from the address
  // the client used.
  for (const SocketAddress& to : {r.datagrams[0].peer, r.datagrams[0].peer.unmapped()}) {
    SendBatch b;
    b.peer = to;
    b.source = r.datagrams[0].local;
    b.ecn = Ecn::kCe;
    b.data = Bytes(data.data(), data.size());
    b.segment_size = 1200;
    SysStatus st = server.send(b, &sent);
    ASSERT_TRUE(st.is_ok()) << st.message();
    Receipt back = receive_n(client, 3);
    expect_batch(back, 3, 1200, 1200);
    EXPECT_EQ(back.datagrams[0].peer, server_v4);
    EXPECT_EQ(back.datagrams[0].ecn, Ecn::kCe);
  }
}

// A server bound to a wildcard learns which address each datagram was
// sent to, and answers from it.
TEST(UdpSocket, WildcardServerReportsAndAnswersFromLocalAddress) {
  for (AddressFamily f : {AddressFamily::kIPv4, AddressFamily::kIPv6}) {
    UdpSocket server;
    ASSERT_TRUE(server.open(SocketAddress::wildcard(f, 0), options()).is_ok());
    UdpSocket client;
    ASSERT_TRUE(client.open(SocketAddress::loopback(f, 0), options()).is_ok());
    const SocketAddress server_addr = SocketAddress::loopback(f, server.local_address().port());
    EXPECT_NE(server.local_address(), server_addr);  // bound to the wildcard
    auto data = make_batch(1, 50, 50);
    size_t sent = 0;
    ASSERT_TRUE(send_batch(client, server_addr, data, 0, &sent).is_ok());
    Receipt r = receive_n(server, 1);
    ASSERT_EQ(r.datagrams.size(), 1u);
    EXPECT_EQ(r.datagrams[0].local, server_addr);
    EXPECT_EQ(r.datagrams[0].peer, client.local_address());

    SendBatch b;
    b.peer = r.datagrams[0].peer;
    b.source = r.datagrams[0].local;
    b.data = Bytes(data.data(), data.size());
    ASSERT_TRUE(server.send(b, &sent).is_ok());
    Receipt back = receive_n(client, 1);
    ASSERT_EQ(back.datagrams.size(), 1u);
    EXPECT_EQ(back.datagrams[0].peer, server_addr);
  }
}

size_t loopback_mtu() {
  FILE* f = std::fopen("/sys/class/net/lo/mtu", "r");
  unsigned mtu = 0;
  if (f) {
    if (std::fscanf(f, "%u", &mtu) != 1) mtu = 0;
    std::fclose(f);
  }
  return mtu;
}

// Beyond the largest UDP payload, or beyond the interface MTU (IP
// fragmentation is off), the kernel refuses with EMSGSIZE; the largest
// itself goes through.
TEST(UdpSocket, OversizeDatagramIsEmsgsize) {
  const size_t mtu = loopback_mtu();
  ASSERT_GT(mtu, 1280u);
  struct {
    const char* local;
    size_t max;
  } cases[] = {{"127.0.0.1:0", std::min<size_t>(65507, mtu - 20 - 8)},
               {"[::1]:0", std::min<size_t>(65527, mtu - 40 - 8)}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.local);
    UdpSocket rx = open_socket(c.local);
    UdpSocket tx = open_socket(c.local);
    auto too_big = make_batch(1, c.max + 1, c.max + 1);
    size_t sent = 99;
    SysStatus st = send_batch(tx, reach(rx), too_big, 0, &sent);
    EXPECT_EQ(st.err(), EMSGSIZE) << st.message();
    EXPECT_EQ(sent, 0u);
    EXPECT_EQ(st.message(), "sendmmsg: Message too long (EMSGSIZE)");
    EXPECT_TRUE(tx.gso_enabled());  // a single datagram never blames GSO

    auto biggest = make_batch(1, c.max, c.max);
    st = send_batch(tx, reach(rx), biggest, 0, &sent);
    ASSERT_TRUE(st.is_ok()) << st.message();
    expect_batch(receive_n(rx, 1), 1, c.max, c.max);
  }
}

// A segment size no single UDP datagram can have: every datagram is
// EMSGSIZE, with or without GSO, and GSO stays on.
TEST(UdpSocket, OversizeSegmentsAreEmsgsize) {
  UdpSocket rx = open_socket("127.0.0.1:0");
  UdpSocket tx = open_socket("127.0.0.1:0");
  std::vector<uint8_t> data(2 * 65508);
  size_t sent = 99;
  SysStatus st = send_batch(tx, reach(rx), data, 65508, &sent);
  EXPECT_EQ(st.err(), EMSGSIZE) << st.message();
  EXPECT_EQ(sent, 0u);
  EXPECT_TRUE(tx.gso_enabled());
}

// SO_NO_CHECK (no UDP checksums) makes the kernel refuse GSO with EINVAL
// while plain sends work: the socket falls back to sendmmsg, delivers the
// batch and does not try GSO again.
TEST(UdpSocket, FallsBackWhenKernelRefusesGso) {
  UdpSocket rx = open_socket("127.0.0.1:0");
  UdpSocket tx = open_socket("127.0.0.1:0");
  ASSERT_TRUE(tx.gso_enabled());
  int one = 1;
  ASSERT_EQ(setsockopt(tx.fd(), SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
  for (int round = 0; round < 2; ++round) {
    auto data = make_batch(100, 1200, 1000);
    size_t sent = 0;
    SysStatus st = send_batch(tx, reach(rx), data, 1200, &sent, Ecn::kEct0);
    ASSERT_TRUE(st.is_ok()) << st.message();
    EXPECT_EQ(sent, 100u);
    EXPECT_FALSE(tx.gso_enabled());
    Receipt r = receive_n(rx, 100);
    expect_batch(r, 100, 1200, 1000);
    EXPECT_EQ(r.coalesced_messages, 0u);
    EXPECT_EQ(r.datagrams[99].ecn, Ecn::kEct0);
  }
}

// An ICMP port unreachable answer reaches a connected socket as
// ECONNREFUSED on its next receive, which is not EAGAIN.
TEST(UdpSocket, ConnectedSocketReportsConnectionRefused) {
  SocketAddress closed;
  {
    UdpSocket gone = open_socket("127.0.0.1:0");
    closed = reach(gone);
  }
  UdpSocket tx = open_socket("127.0.0.1:0");
  ASSERT_TRUE(tx.connect(closed).is_ok());
  auto data = make_batch(1, 100, 100);
  SendBatch b;  // no peer: the connected one
  b.data = Bytes(data.data(), data.size());
  size_t sent = 0;
  ASSERT_TRUE(tx.send(b, &sent).is_ok());
  EXPECT_EQ(sent, 1u);
  pollfd p{tx.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 1000), 1);
  EXPECT_TRUE(p.revents & POLLERR);
  SysStatus st = tx.receive();
  EXPECT_EQ(st.err(), ECONNREFUSED) << st.message();
  EXPECT_FALSE(st.would_block());
  EXPECT_EQ(st.message(), "recvmmsg: Connection refused (ECONNREFUSED)");
  EXPECT_TRUE(tx.receive().would_block());  // the error is reported once
}

TEST(UdpSocket, MisuseIsReported) {
  UdpSocket s;
  size_t sent = 9;
  std::vector<uint8_t> data(10);
  SysStatus st = send_batch(s, SocketAddress::loopback(AddressFamily::kIPv4, 9), data, 0, &sent);
  EXPECT_EQ(st.err(), EBADF);
  EXPECT_EQ(sent, 0u);
  EXPECT_EQ(s.receive().err(), EBADF);
  EXPECT_EQ(s.open(SocketAddress()).err(), EINVAL);
  UdpSocketOptions bad;
  bad.recv_batch = 0;
  EXPECT_EQ(s.open(SocketAddress::loopback(AddressFamily::kIPv4, 0), bad).err(), EINVAL);
  EXPECT_FALSE(s.is_open());

  UdpSocket unconnected = open_socket("127.0.0.1:0");
  SendBatch b;
  b.data = Bytes(data.data(), data.size());
  EXPECT_EQ(unconnected.send(b, &sent).err(), EDESTADDRREQ);
  b.peer = SocketAddress::loopback(AddressFamily::kIPv4, 9);
  b.source = SocketAddress::loopback(AddressFamily::kIPv6, 0);
  EXPECT_EQ(unconnected.send(b, &sent).err(), EINVAL);
  EXPECT_EQ(sent, 0u);

  UdpSocket a = open_socket("127.0.0.1:0");
  SysStatus in_use = UdpSocket().open(a.local_address(), options());
  EXPECT_EQ(in_use.err(), EADDRINUSE);
  EXPECT_EQ(in_use.message(), "bind: Address already in use (EADDRINUSE)");
}

TEST(UdpSocket, MovedSocketKeepsWorking) {
  UdpSocket rx = open_socket("127.0.0.1:0");
  UdpSocket tx0 = open_socket("127.0.0.1:0");
  const int fd = tx0.fd();
  UdpSocket tx = std::move(tx0);
  EXPECT_FALSE(tx0.is_open());
  EXPECT_EQ(tx.fd(), fd);
  auto data = make_batch(4, 1200, 1200);
  size_t sent = 0;
  ASSERT_TRUE(send_batch(tx, reach(rx), data, 1200, &sent).is_ok());
  UdpSocket rx2;
  rx2 = std::move(rx);
  expect_batch(receive_n(rx2, 4), 4, 1200, 1200);
}

TEST(UdpSocket, GroNeedsFullSizeBuffers) {
  UdpSocketOptions small = options();
  small.recv_buffer_size = 2048;
  UdpSocket rx = open_socket("127.0.0.1:0", small);
  EXPECT_FALSE(rx.gro_enabled());
  UdpSocket tx = open_socket("127.0.0.1:0");
  auto data = make_batch(30, 1200, 1200);
  size_t sent = 0;
  ASSERT_TRUE(send_batch(tx, reach(rx), data, 1200, &sent).is_ok());
  Receipt r = receive_n(rx, 30);
  expect_batch(r, 30, 1200, 1200);
  EXPECT_EQ(r.coalesced_messages, 0u);
}

}  // namespace
}  // namespace quicbed
