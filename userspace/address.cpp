#include "address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace quicbed {
namespace {

constexpr ErrorCode kBad = ErrorCode::kInvalidArgument;

// Decimal 0-65535, digits only (no sign, no spaces, no hex).
bool parse_port(std::string_view s, uint16_t* port) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

// inet_pton needs a NUL-terminated string; hosts are short.
bool copy_host(std::string_view host, char* out, size_t size) {
  if (host.size() >= size) return false;
  std::memcpy(out, host.data(), host.size());
  out[host.size()] = '\0';
  return true;
}

Result<SocketAddress> parse_ipv4(std::string_view host, uint16_t port) {
  char text[INET_ADDRSTRLEN];
  in_addr a;
  // inet_pton, unlike inet_aton, accepts only the dotted quad.
  if (!copy_host(host, text, sizeof text) || inet_pton(AF_INET, text, &a) != 1)
    return Status(kBad, "address: not a numeric IPv4 address (write IPv6 as [v6]:port)");
  return SocketAddress::ipv4(a, port);
}

// An interface name or number after '%' (RFC 4007 §11).
bool parse_scope(std::string_view scope, uint32_t* id) {
  if (scope.empty()) return false;
  bool numeric = true;
  uint64_t v = 0;
  for (char c : scope) {
    if (c < '0' || c > '9') numeric = false;
    else v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > UINT32_MAX) return false;
  }
  if (numeric) {
    *id = static_cast<uint32_t>(v);
    return true;
  }
  char name[IF_NAMESIZE];
  if (!copy_host(scope, name, sizeof name)) return false;
  *id = if_nametoindex(name);
  return *id != 0;
}

Result<SocketAddress> parse_ipv6(std::string_view host, uint16_t port) {
  uint32_t scope_id = 0;
  size_t pct = host.find('%');
  if (pct != std::string_view::npos) {
    if (!parse_scope(host.substr(pct + 1), &scope_id))
      return Status(kBad, "address: unknown interface after '%' in the IPv6 address");
    host = host.substr(0, pct);
  }
  char text[INET6_ADDRSTRLEN];
  in6_addr a;
  if (!copy_host(host, text, sizeof text) || inet_pton(AF_INET6, text, &a) != 1)
    return Status(kBad, "address: not a numeric IPv6 address inside [ ]");
  return SocketAddress::ipv6(a, port, scope_id);
}

bool family_matches(const SocketAddress& a, AddressFamily family) {
  return family == AddressFamily::kAny || (family == AddressFamily::kIPv4) == a.is_ipv4();
}

}  // namespace

SocketAddress SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in)))
    std::memcpy(&a.u_.v4, sa, sizeof(sockaddr_in));
  else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6)))
    std::memcpy(&a.u_.v6, sa, sizeof(sockaddr_in6));
  return a;
}

SocketAddress SocketAddress::ipv4(const in_addr& addr, uint16_t port) {
  SocketAddress a;
  a.u_.v4.sin_family = AF_INET;
  a.u_.v4.sin_addr = addr;
  a.u_.v4.sin_port = htons(port);
  return a;
}

SocketAddress SocketAddress::ipv6(const in6_addr& addr, uint16_t port, uint32_t scope_id) {
  SocketAddress a;
  a.u_.v6.sin6_family = AF_INET6;
  a.u_.v6.sin6_addr = addr;
  a.u_.v6.sin6_port = htons(port);
  a.u_.v6.sin6_scope_id = scope_id;
  return a;
}

SocketAddress SocketAddress::loopback(AddressFamily family, uint16_t port) {
  if (family == AddressFamily::kIPv6) return ipv6(in6addr_loopback, port);
  return ipv4(in_addr{htonl(INADDR_LOOPBACK)}, port);
}

SocketAddress SocketAddress::wildcard(AddressFamily family, uint16_t port) {
  if (family == AddressFamily::kIPv4) return ipv4(in_addr{htonl(INADDR_ANY)}, port);
  return ipv6(in6addr_any, port);
}

bool SocketAddress::is_v4_mapped() const { return is_ipv6() && IN6_IS_ADDR_V4MAPPED(&u_.v6.sin6_addr); }

SocketAddress SocketAddress::to_v4_mapped() const {
  if (!is_ipv4()) return *this;
  in6_addr m{};
  m.s6_addr[10] = 0xff;
  m.s6_addr[11] = 0xff;
  std::memcpy(&m.s6_addr[12], &u_.v4.sin_addr, 4);
  return ipv6(m, port());
}

SocketAddress SocketAddress::unmapped() const {
  if (!is_v4_mapped()) return *this;
  in_addr a;
  std::memcpy(&a, &u_.v6.sin6_addr.s6_addr[12], 4);
  return ipv4(a, port());
}

uint16_t SocketAddress::port() const {
  if (is_ipv4()) return ntohs(u_.v4.sin_port);
  if (is_ipv6()) return ntohs(u_.v6.sin6_port);
  return 0;
}

void SocketAddress::set_port(uint16_t port) {
  if (is_ipv4()) u_.v4.sin_port = htons(port);
  if (is_ipv6()) u_.v6.sin6_port = htons(port);
}

socklen_t SocketAddress::sockaddr_len() const {
  if (is_ipv4()) return sizeof(sockaddr_in);
  if (is_ipv6()) return sizeof(sockaddr_in6);
  return 0;
}

size_t SocketAddress::format(char* out, size_t size) const {
  char ip[INET6_ADDRSTRLEN];
  int n;
  if (is_ipv4()) {
    inet_ntop(AF_INET, &u_.v4.sin_addr, ip, sizeof ip);
    n = std::snprintf(out, size, "%s:%u", ip, port());
  } else if (is_ipv6()) {
    inet_ntop(AF_INET6, &u_.v6.sin6_addr, ip, sizeof ip);
    if (u_.v6.sin6_scope_id != 0)
      n = std::snprintf(out, size, "[%s%%%u]:%u", ip, u_.v6.sin6_scope_id, port());
    else
      n = std::snprintf(out, size, "[%s]:%u", ip, port());
  } else {
    n = std::snprintf(out, size, "(none)");
  }
  return n < 0 ? 0 : static_cast<size_t>(n);
}

std::string SocketAddress::to_string() const {
  char text[kMaxText];
  format(text, sizeof text);
  return text;
}

bool SocketAddress::operator==(const SocketAddress& o) const {
  if (family() != o.family()) return false;
  if (is_ipv4())
    return u_.v4.sin_port == o.u_.v4.sin_port && u_.v4.sin_addr.s_addr == o.u_.v4.sin_addr.s_addr;
  if (is_ipv6())
    return u_.v6.sin6_port == o.u_.v6.sin6_port && u_.v6.sin6_scope_id == o.u_.v6.sin6_scope_id &&
           std::memcmp(&u_.v6.sin6_addr, &o.u_.v6.sin6_addr, sizeof(in6_addr)) == 0;
  return true;
}

Result<HostPort> split_host_port(std::string_view text) {
  if (text.empty()) return Status(kBad, "address: empty (expected host:port or [v6]:port)");
  HostPort hp;
  std::string_view port;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Status(kBad, "address: '[' without a closing ']'");
    hp.host = text.substr(1, close - 1);
    hp.bracketed = true;
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return Status(kBad, "address: missing ':port' after ']'");
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Status(kBad, "address: missing ':port'");
    hp.host = text.substr(0, colon);
    if (hp.host.find(':') != std::string_view::npos)
      return Status(kBad, "address: an IPv6 address needs brackets, as [v6]:port");
    port = text.substr(colon + 1);
  }
  if (hp.host.empty()) return Status(kBad, "address: missing host before ':port'");
  if (!parse_port(port, &hp.port)) return Status(kBad, "address: port must be a number from 0 to 65535");
  return hp;
}

Result<SocketAddress> parse_address(std::string_view text) {
  QB_ASSIGN_OR_RETURN(HostPort hp, split_host_port(text));
  return hp.bracketed ? parse_ipv6(hp.host, hp.port) : parse_ipv4(hp.host, hp.port);
}

Result<SocketAddress> resolve_address(std::string_view text, AddressFamily family) {
  QB_ASSIGN_OR_RETURN(HostPort hp, split_host_port(text));
  // Literals never go to the resolver, so a typo in one is reported as such.
  bool v4_literal = hp.host.find_first_not_of("0123456789.") == std::string_view::npos;
  if (hp.bracketed || v4_literal) {
    QB_ASSIGN_OR_RETURN(SocketAddress a, hp.bracketed ? parse_ipv6(hp.host, hp.port)
                                                      : parse_ipv4(hp.host, hp.port));
    if (!family_matches(a, family)) return Status(kBad, "address: literal is not of the requested family");
    return a;
  }
  std::string host(hp.host);
  addrinfo hints{};
  hints.ai_family = family == AddressFamily::kIPv4 ? AF_INET : family == AddressFamily::kIPv6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  // Both messages are static strings ("Name or service not known").
  if (rc == EAI_SYSTEM) return Status(kBad, std::strerror(errno));
  if (rc != 0) return Status(kBad, gai_strerror(rc));
  SocketAddress a;
  for (addrinfo* ai = list; ai && a.empty(); ai = ai->ai_next)
    a = SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(list);
  if (a.empty()) return Status(kBad, "address: name has no IPv4 or IPv6 address");
  a.set_port(hp.port);
  return a;
}

}  // namespace quicbed
