// IPv4/IPv6 socket addresses with ports for the userspace host: parsing
// "host:port" and "[v6]:port", printing them back, and name resolution
// through getaddrinfo. Errors are Status values of kInvalidArgument whose
// reason says what is wrong with the text (or getaddrinfo's own message).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace quicbed {

enum class AddressFamily : uint8_t { kAny, kIPv4, kIPv6 };

// A sockaddr_in or sockaddr_in6, or empty (AF_UNSPEC). Trivially copyable
// and 28 bytes, so receive batches can hold one per message.
class SocketAddress {
 public:
  // Room for the longest text format() writes: "[", an IPv6 address with
  // its NUL, "%", a 10-digit scope, "]:" and a port.
  static constexpr size_t kMaxText = 1 + INET6_ADDRSTRLEN + 1 + 10 + 2 + 5;

  SocketAddress() { u_.sa.sa_family = AF_UNSPEC; }
  // Copies an AF_INET or AF_INET6 sockaddr; anything else gives empty.
  static SocketAddress from_sockaddr(const sockaddr* sa, socklen_t len);
  // `addr` in network byte order, as in in_addr / in6_addr.
  static SocketAddress ipv4(const in_addr& addr, uint16_t port);
  static SocketAddress ipv6(const in6_addr& addr, uint16_t port, uint32_t scope_id = 0);
  static SocketAddress loopback(AddressFamily family, uint16_t port);  // kAny means IPv4
  static SocketAddress wildcard(AddressFamily family, uint16_t port);  // kAny means IPv6

  bool empty() const { return u_.sa.sa_family == AF_UNSPEC; }
  bool is_ipv4() const { return u_.sa.sa_family == AF_INET; }
  bool is_ipv6() const { return u_.sa.sa_family == AF_INET6; }
  int family() const { return u_.sa.sa_family; }
  // An IPv6 address of the form ::ffff:a.b.c.d (RFC 4291 §2.5.5.2), as a
  // dual-stack socket reports IPv4 peers.
  bool is_v4_mapped() const;
  // IPv4 <-> IPv4-mapped IPv6; any other address is returned unchanged.
  SocketAddress to_v4_mapped() const;
  SocketAddress unmapped() const;
  // True when the datagram leaves as IPv4: an IPv4 or IPv4-mapped address.
  bool on_ipv4_wire() const { return is_ipv4() || is_v4_mapped(); }

  uint16_t port() const;  // host byte order; 0 when empty
  void set_port(uint16_t port);

  const sockaddr* sockaddr_ptr() const { return &u_.sa; }
  socklen_t sockaddr_len() const;
  const sockaddr_in& v4() const { return u_.v4; }
  const sockaddr_in6& v6() const { return u_.v6; }

  // "192.0.2.1:443", "[2001:db8::1]:443", "[fe80::1%2]:443" or "(none)";
  // NUL-terminated, truncated to `size`. Returns the full length.
  size_t format(char* out, size_t size) const;
  std::string to_string() const;

  // Same family, address, port (and IPv6 scope); flow info is ignored.
  bool operator==(const SocketAddress& o) const;

 private:
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } u_{};
};

// A "host:port" split into its parts (views into the input). The host is
// returned without the brackets of "[v6]:port".
struct HostPort {
  std::string_view host;
  uint16_t port = 0;
  bool bracketed = false;  // written as "[host]:port": must be an IPv6 literal
};
Result<HostPort> split_host_port(std::string_view text);

// A numeric address: "a.b.c.d:port", "[v6]:port" or "[v6%scope]:port"
// (scope by interface name or number). Never touches the network.
Result<SocketAddress> parse_address(std::string_view text);

// "host:port" where host is a numeric address or a name resolved through
// getaddrinfo (which may consult DNS); the first address of `family` wins.
Result<SocketAddress> resolve_address(std::string_view text, AddressFamily family = AddressFamily::kAny);

}  // namespace quicbed
