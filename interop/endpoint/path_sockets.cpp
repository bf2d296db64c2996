#include "path_sockets.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace quicbed {
namespace {

// sockaddr_in and sockaddr_in6 both keep the port right after the family.
constexpr uint8_t kPortOffset = offsetof(sockaddr_in, sin_port);
static_assert(offsetof(sockaddr_in6, sin6_port) == kPortOffset);

bool is_wildcard(const SocketAddress& a) {
  if (a.is_ipv4()) return a.v4().sin_addr.s_addr == htonl(INADDR_ANY);
  if (a.is_ipv6()) return std::memcmp(&a.v6().sin6_addr, &in6addr_any, sizeof(in6_addr)) == 0;
  return false;
}

}  // namespace

PathAddress path_address(const SocketAddress& a) {
  PathAddress p;
  // A sockaddr_in6 (28 bytes) fits kMaxPathAddressLen.
  (void)p.assign(Bytes(reinterpret_cast<const uint8_t*>(a.sockaddr_ptr()), a.sockaddr_len()));
  if (!a.empty()) {
    p.port_at = kPortOffset;
    p.port_len = 2;
  }
  return p;
}

SocketAddress socket_address(const PathAddress& a) {
  // PathAddress keeps plain bytes, without a sockaddr's alignment.
  sockaddr_storage ss{};
  std::memcpy(&ss, a.bytes, std::min<size_t>(a.len, sizeof ss));
  return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), a.len);
}

size_t PathSockets::add(UdpSocket udp, size_t max_datagram_size, bool connected) {
  auto s = std::make_unique<Socket>();
  s->udp = std::move(udp);
  s->local = s->udp.local_address();
  s->connected = connected;
  s->sender = std::make_unique<DatagramSender>(s->udp, max_datagram_size);
  sockets_.push_back(std::move(s));
  return sockets_.size() - 1;
}

void PathSockets::replace(size_t i, UdpSocket udp) {
  Socket& s = *sockets_[i];
  (void)s.sender->send_pending();
  s.udp = std::move(udp);
  // The sender refers to the UdpSocket object, which stays; its queue
  // (what the old socket could not take) leaves on the new one.
}

void PathSockets::close(size_t i) {
  Socket& s = *sockets_[i];
  (void)s.sender->send_pending();
  s.udp.close();
}

size_t PathSockets::find(const SocketAddress& a, size_t fallback) const {
  size_t wildcard = sockets_.size();
  for (size_t i = 0; i < sockets_.size(); ++i) {
    const Socket& s = *sockets_[i];
    if (!s.udp.is_open()) continue;
    if (s.local == a) return i;
    if (s.local.port() == a.port() && is_wildcard(s.local) && wildcard == sockets_.size()) wildcard = i;
  }
  return wildcard < sockets_.size() ? wildcard : fallback;
}

}  // namespace quicbed
