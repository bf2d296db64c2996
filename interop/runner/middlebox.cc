// quicbed-middlebox: the local interop runner's simulated link, a real-time
// ns-3 simulation in the simulator's network namespace.
//
// Like the quic-interop-runner's simulator, it bridges two veths through
// one point-to-point link: the client side's veth (--left-dev) is an
// EmuFdNetDevice on node L, the server side's (--right-dev) one on node R,
// and L and R share a PointToPointNetDevice pair with the scenario's rate,
// one-way delay and drop-tail queue (one queue per direction, in the
// sending device). It acts as the endpoints' router at layer 2: each
// endpoint has a static neighbour entry for its gateway with the MAC of
// the veth it faces, and the middlebox sends each IPv4/IPv6 packet on to
// the other endpoint's MAC (--left-peer-mac, --right-peer-mac). Nothing
// but IPv4 and IPv6 crosses (no ARP: the neighbours are static).
//
// Impairments, applied as a packet enters the link, each direction on its
// own (the runner's scenarios): random drops and corruptions with a
// bounded burst (drop-rate / corrupt-rate), the 1-based indices of packets
// to drop (drop-list), a link that goes off periodically (blackhole), and
// a NAT in front of the client that moves it to a new port or address
// periodically (rebind). Counters go to stderr when the program ends on
// SIGTERM or SIGINT.

#include <arpa/inet.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ns3/boolean.h"
#include "ns3/command-line.h"
#include "ns3/data-rate.h"
#include "ns3/emu-fd-net-device-helper.h"
#include "ns3/fd-net-device.h"
#include "ns3/global-value.h"
#include "ns3/mac48-address.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/queue.h"
#include "ns3/queue-size.h"
#include "ns3/random-variable-stream.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"

using namespace ns3;

namespace {

constexpr uint16_t kIpv4 = 0x0800;
constexpr uint16_t kIpv6 = 0x86DD;
constexpr uint8_t kUdp = 17;

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

// One direction's impairments and counters.
struct Direction {
  explicit Direction(const char* n) : name(n) {}
  const char* name;
  double drop_rate = 0;     // percent
  double corrupt_rate = 0;  // percent
  uint32_t burst = 3;       // longest run of consecutive drops/corruptions
  std::set<uint64_t> drop_list;  // 1-based packet indices

  uint64_t seen = 0, forwarded = 0, dropped = 0, corrupted = 0, blackholed = 0,
           not_ip = 0, rewritten = 0, queue_drops = 0;
  uint32_t run = 0;  // current burst length
};

// The address and port of a UDP/IP packet, as bytes in network order.
struct Endpoint {
  std::vector<uint8_t> addr;
  uint16_t port = 0;
  bool operator==(const Endpoint& o) const { return addr == o.addr && port == o.port; }
};

struct Config {
  std::string left_dev = "sim-c", right_dev = "sim-s";
  std::string left_mac, right_mac, left_peer_mac, right_peer_mac;
  std::string rate = "10Mbps", delay = "15ms";
  uint32_t queue = 25;
  double blackhole_on = 0, blackhole_off = 0;  // seconds; 0: never off
  std::string rebind;                          // "", "port" or "addr"
  double first_rebind = 1, rebind_every = 5;   // seconds
  uint32_t seed = 1;
};

Config g_cfg;
Direction g_to_server{"to-server"}, g_to_client{"to-client"};
Ptr<UniformRandomVariable> g_rng;
Ptr<NetDevice> g_left_emu, g_right_emu, g_left_p2p, g_right_p2p;
Mac48Address g_left_peer, g_right_peer;

// The NAT: each client endpoint (address, port) seen and the one the
// server sees for it now; the public endpoints of earlier bindings, whose
// replies are dropped.
struct Binding {
  Endpoint real, current;
};
std::vector<Binding> g_bindings;
std::vector<Endpoint> g_expired;
uint64_t g_rebinds = 0;

uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void store16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += load16(p + i);
  if (n & 1) acc += uint32_t(p[n - 1]) << 8;
  return acc;
}
uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(~acc);
}

// Where the UDP header and the addresses of an IP packet are; false when
// it is not UDP (or is truncated).
struct UdpView {
  uint8_t* ip;
  size_t ip_len;
  bool v6;
  uint8_t* src;
  uint8_t* dst;
  size_t addr_len;
  uint8_t* udp;
  size_t udp_len;
};

bool parse_udp(std::vector<uint8_t>& b, uint16_t proto, UdpView* v) {
  if (proto == kIpv4) {
    if (b.size() < 20 || (b[0] >> 4) != 4) return false;
    size_t ihl = size_t(b[0] & 0x0f) * 4;
    if (b[9] != kUdp || b.size() < ihl + 8) return false;
    *v = {b.data(), ihl, false, &b[12], &b[16], 4, &b[ihl], b.size() - ihl};
    return true;
  }
  if (proto == kIpv6) {  // no extension headers: our endpoints send none
    if (b.size() < 48 || (b[0] >> 4) != 6 || b[6] != kUdp) return false;
    *v = {b.data(), 40, true, &b[8], &b[24], 16, &b[40], b.size() - 40};
    return true;
  }
  return false;
}

// RFC 768 / RFC 8200 §8.1: the UDP checksum over the pseudo-header; for
// IPv4 also the header checksum (RFC 791).
void fix_checksums(UdpView& v) {
  if (!v.v6) {
    store16(v.ip + 10, 0);
    store16(v.ip + 10, fold(sum16(v.ip, v.ip_len)));
  }
  store16(v.udp + 6, 0);
  uint32_t acc = sum16(v.src, v.addr_len);
  acc = sum16(v.dst, v.addr_len, acc);
  acc += kUdp + uint32_t(v.udp_len);
  acc = sum16(v.udp, v.udp_len, acc);
  uint16_t c = fold(acc);
  store16(v.udp + 6, c == 0 ? 0xffff : c);
}

Endpoint endpoint_of(const uint8_t* addr, size_t len, const uint8_t* port) {
  return {std::vector<uint8_t>(addr, addr + len), load16(port)};
}

bool in_use(const Endpoint& e) {
  for (const Binding& b : g_bindings) {
    if (b.real == e || b.current == e) return true;
  }
  for (const Endpoint& x : g_expired) {
    if (x == e) return true;
  }
  return false;
}

// New public endpoints for the client: another port, and with "addr"
// another host in the client's subnet (the last byte of the address).
void rebind() {
  for (Binding& b : g_bindings) {
    Endpoint next = b.current;
    do {
      next.port = uint16_t(g_rng->GetInteger(1024, 65535));
      if (g_cfg.rebind == "addr") next.addr.back() = uint8_t(g_rng->GetInteger(101, 250));
    } while (in_use(next));
    if (!(b.current == b.real)) g_expired.push_back(b.current);
    b.current = next;
    ++g_rebinds;
  }
}

void schedule_rebinds() {
  rebind();
  Simulator::Schedule(Seconds(g_cfg.rebind_every), &schedule_rebinds);
}

// The NAT for one packet; false when it must be dropped (a reply to a
// binding the NAT has forgotten).
bool nat(std::vector<uint8_t>& b, uint16_t proto, bool to_server, Direction& d) {
  UdpView v;
  if (g_cfg.rebind.empty() || !parse_udp(b, proto, &v)) return true;
  if (to_server) {
    Endpoint src = endpoint_of(v.src, v.addr_len, v.udp);
    Binding* bind = nullptr;
    for (Binding& b : g_bindings) {
      if (b.real == src) bind = &b;
    }
    if (!bind) {
      g_bindings.push_back({src, src});
      return true;
    }
    if (bind->current == bind->real) return true;
    std::memcpy(v.src, bind->current.addr.data(), v.addr_len);
    store16(v.udp, bind->current.port);
  } else {
    Endpoint dst = endpoint_of(v.dst, v.addr_len, v.udp + 2);
    const Binding* bind = nullptr;
    for (const Binding& b : g_bindings) {
      if (b.current == dst) bind = &b;
    }
    if (!bind) {
      for (const Binding& b : g_bindings) {
        if (b.real == dst) return false;  // only its public endpoint is reachable
      }
      for (const Endpoint& x : g_expired) {
        if (x == dst) return false;  // a binding the NAT forgot
      }
      return true;
    }
    if (bind->current == bind->real) return true;
    std::memcpy(v.dst, bind->real.addr.data(), v.addr_len);
    store16(v.udp + 2, bind->real.port);
  }
  fix_checksums(v);
  ++d.rewritten;
  return true;
}

bool blackholed() {
  if (g_cfg.blackhole_off <= 0) return false;
  double period = g_cfg.blackhole_on + g_cfg.blackhole_off;
  double t = Simulator::Now().GetSeconds();
  return t - period * double(uint64_t(t / period)) >= g_cfg.blackhole_on;
}

// Whether the random model hits this packet, with runs of at most `burst`.
bool hit(double percent, Direction& d) {
  if (percent <= 0) return false;
  if (g_rng->GetValue(0, 100) >= percent || d.run >= d.burst) {
    d.run = 0;
    return false;
  }
  ++d.run;
  return true;
}

// One packet entering the link in direction `d`: impairments, then the
// point-to-point device `out` (which queues it at the link's rate).
void enter_link(Ptr<const Packet> packet, uint16_t proto, Direction& d, bool to_server,
                Ptr<NetDevice> out) {
  ++d.seen;
  if (proto != kIpv4 && proto != kIpv6) {
    ++d.not_ip;
    return;
  }
  if (blackholed()) {
    ++d.blackholed;
    return;
  }
  if (d.drop_list.count(d.seen) || hit(d.drop_rate, d)) {
    ++d.dropped;
    return;
  }
  std::vector<uint8_t> b(packet->GetSize());
  packet->CopyData(b.data(), b.size());
  if (!nat(b, proto, to_server, d)) {
    ++d.dropped;
    return;
  }
  UdpView v;
  if (hit(d.corrupt_rate, d) && parse_udp(b, proto, &v) && v.udp_len > 8) {
    // One byte of the first 50 of the UDP payload, as the runner's model;
    // the UDP checksum is fixed so that the endpoint's QUIC sees it.
    size_t n = std::min<size_t>(50, v.udp_len - 8);
    v.udp[8 + g_rng->GetInteger(0, uint32_t(n - 1))] ^= uint8_t(g_rng->GetInteger(1, 255));
    fix_checksums(v);
    ++d.corrupted;
  }
  ++d.forwarded;
  out->Send(Create<Packet>(b.data(), b.size()), out->GetBroadcast(), proto);
}

// Frames the emulated devices receive: only those sent to our MAC (the
// endpoints' gateway) enter the link; the rest (our own transmissions seen
// by the raw socket, multicast) are not ours to route.
void from_left(Ptr<NetDevice>, Ptr<const Packet> p, uint16_t proto, const Address&, const Address&,
               NetDevice::PacketType type) {
  if (type == NetDevice::PACKET_HOST) enter_link(p, proto, g_to_server, true, g_left_p2p);
}
void from_right(Ptr<NetDevice>, Ptr<const Packet> p, uint16_t proto, const Address&, const Address&,
                NetDevice::PacketType type) {
  if (type == NetDevice::PACKET_HOST) enter_link(p, proto, g_to_client, false, g_right_p2p);
}
// Packets leaving the link go to the endpoint on that side.
void link_to_right(Ptr<NetDevice>, Ptr<const Packet> p, uint16_t proto, const Address&,
                   const Address&, NetDevice::PacketType) {
  g_right_emu->Send(p->Copy(), g_right_peer, proto);
}
void link_to_left(Ptr<NetDevice>, Ptr<const Packet> p, uint16_t proto, const Address&,
                  const Address&, NetDevice::PacketType) {
  g_left_emu->Send(p->Copy(), g_left_peer, proto);
}

// The link's drop-tail queues (in each sending point-to-point device).
void queue_drop(Direction* d, Ptr<const Packet>) { ++d->queue_drops; }

void poll_stop() {
  if (g_stop) {
    Simulator::Stop();
    return;
  }
  Simulator::Schedule(MilliSeconds(50), &poll_stop);
}

std::set<uint64_t> parse_list(const std::string& s) {
  std::set<uint64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.insert(std::stoull(item));
  }
  return out;
}

Ptr<NetDevice> emu(Ptr<Node> node, const std::string& dev, const std::string& mac) {
  EmuFdNetDeviceHelper h;
  h.SetDeviceName(dev);
  Ptr<NetDevice> d = h.Install(node).Get(0);
  d->SetAddress(Mac48Address(mac.c_str()));
  return d;
}

void print(const Direction& d) {
  std::fprintf(stderr,
               "%s: seen %llu forwarded %llu dropped %llu corrupted %llu blackholed %llu "
               "not-ip %llu nat-rewritten %llu queue-drops %llu\n",
               d.name, (unsigned long long)d.seen, (unsigned long long)d.forwarded,
               (unsigned long long)d.dropped, (unsigned long long)d.corrupted,
               (unsigned long long)d.blackholed, (unsigned long long)d.not_ip,
               (unsigned long long)d.rewritten, (unsigned long long)d.queue_drops);
}

}  // namespace

int main(int argc, char** argv) {
  Config& c = g_cfg;
  std::string drop_list_to_server, drop_list_to_client;
  CommandLine cmd(__FILE__);
  cmd.AddValue("left-dev", "veth towards the client", c.left_dev);
  cmd.AddValue("right-dev", "veth towards the server", c.right_dev);
  cmd.AddValue("left-mac", "MAC of --left-dev (the client's gateway)", c.left_mac);
  cmd.AddValue("right-mac", "MAC of --right-dev (the server's gateway)", c.right_mac);
  cmd.AddValue("left-peer-mac", "MAC of the client's interface", c.left_peer_mac);
  cmd.AddValue("right-peer-mac", "MAC of the server's interface", c.right_peer_mac);
  cmd.AddValue("rate", "link rate, each direction", c.rate);
  cmd.AddValue("delay", "one-way delay", c.delay);
  cmd.AddValue("queue", "drop-tail queue, packets, each direction", c.queue);
  cmd.AddValue("drop-rate-to-server", "percent of packets dropped", g_to_server.drop_rate);
  cmd.AddValue("drop-rate-to-client", "percent of packets dropped", g_to_client.drop_rate);
  cmd.AddValue("corrupt-rate-to-server", "percent of packets corrupted", g_to_server.corrupt_rate);
  cmd.AddValue("corrupt-rate-to-client", "percent of packets corrupted", g_to_client.corrupt_rate);
  cmd.AddValue("burst-to-server", "longest run of drops/corruptions", g_to_server.burst);
  cmd.AddValue("burst-to-client", "longest run of drops/corruptions", g_to_client.burst);
  cmd.AddValue("drop-list-to-server", "1-based indices, ',' separated", drop_list_to_server);
  cmd.AddValue("drop-list-to-client", "1-based indices, ',' separated", drop_list_to_client);
  cmd.AddValue("blackhole-on", "seconds the link is on (with --blackhole-off)", c.blackhole_on);
  cmd.AddValue("blackhole-off", "seconds the link is then off", c.blackhole_off);
  cmd.AddValue("rebind", "NAT rebinding of the client: port or addr", c.rebind);
  cmd.AddValue("first-rebind", "seconds until the first rebinding", c.first_rebind);
  cmd.AddValue("rebind-every", "seconds between rebindings", c.rebind_every);
  cmd.AddValue("seed", "random seed", c.seed);
  cmd.Parse(argc, argv);
  if (c.left_mac.empty() || c.right_mac.empty() || c.left_peer_mac.empty() ||
      c.right_peer_mac.empty()) {
    std::fprintf(stderr, "quicbed-middlebox: --left-mac, --right-mac, --left-peer-mac and "
                         "--right-peer-mac are required\n");
    return 2;
  }
  if (!c.rebind.empty() && c.rebind != "port" && c.rebind != "addr") {
    std::fprintf(stderr, "quicbed-middlebox: --rebind must be port or addr\n");
    return 2;
  }
  g_to_server.drop_list = parse_list(drop_list_to_server);
  g_to_client.drop_list = parse_list(drop_list_to_client);
  g_left_peer = Mac48Address(c.left_peer_mac.c_str());
  g_right_peer = Mac48Address(c.right_peer_mac.c_str());

  GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::RealtimeSimulatorImpl"));
  RngSeedManager::SetSeed(c.seed);
  g_rng = CreateObject<UniformRandomVariable>();
  g_rng->SetStream(1);

  Ptr<Node> left = CreateObject<Node>(), right = CreateObject<Node>();
  g_left_emu = emu(left, c.left_dev, c.left_mac);
  g_right_emu = emu(right, c.right_dev, c.right_mac);
  PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", StringValue(c.rate));
  p2p.SetChannelAttribute("Delay", StringValue(c.delay));
  p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize",
               QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, c.queue)));
  NetDeviceContainer link = p2p.Install(left, right);
  g_left_p2p = link.Get(0);
  g_right_p2p = link.Get(1);

  DynamicCast<PointToPointNetDevice>(g_left_p2p)->GetQueue()->TraceConnectWithoutContext(
      "Drop", MakeBoundCallback(&queue_drop, &g_to_server));
  DynamicCast<PointToPointNetDevice>(g_right_p2p)->GetQueue()->TraceConnectWithoutContext(
      "Drop", MakeBoundCallback(&queue_drop, &g_to_client));
  left->RegisterProtocolHandler(MakeCallback(&from_left), 0, g_left_emu, true);
  right->RegisterProtocolHandler(MakeCallback(&from_right), 0, g_right_emu, true);
  right->RegisterProtocolHandler(MakeCallback(&link_to_right), 0, g_right_p2p, false);
  left->RegisterProtocolHandler(MakeCallback(&link_to_left), 0, g_left_p2p, false);

  if (!c.rebind.empty()) Simulator::Schedule(Seconds(c.first_rebind), &schedule_rebinds);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  Simulator::ScheduleNow(&poll_stop);
  std::fprintf(stderr, "quicbed-middlebox: running %s <-> %s, %s, %s, queue %u\n",
               c.left_dev.c_str(), c.right_dev.c_str(), c.rate.c_str(), c.delay.c_str(), c.queue);
  Simulator::Run();
  print(g_to_server);
  print(g_to_client);
  std::fprintf(stderr, "rebinds: %llu\n", (unsigned long long)g_rebinds);
  Simulator::Destroy();
  return 0;
}
