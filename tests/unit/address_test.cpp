#include "address.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace quicbed {
namespace {

TEST(Address, ParsesAndPrintsIpv4) {
  auto a = parse_address("192.0.2.1:443");
  ASSERT_TRUE(a.is_ok()) << a.status().reason();
  EXPECT_TRUE(a->is_ipv4());
  EXPECT_EQ(a->port(), 443);
  EXPECT_EQ(ntohl(a->v4().sin_addr.s_addr), 0xc0000201u);
  EXPECT_EQ(a->to_string(), "192.0.2.1:443");
  EXPECT_EQ(parse_address("0.0.0.0:0")->to_string(), "0.0.0.0:0");
  EXPECT_EQ(parse_address("255.255.255.255:65535")->port(), 65535);
}

TEST(Address, ParsesAndPrintsIpv6) {
  auto a = parse_address("[2001:db8::1]:4433");
  ASSERT_TRUE(a.is_ok()) << a.status().reason();
  EXPECT_TRUE(a->is_ipv6());
  EXPECT_EQ(a->port(), 4433);
  EXPECT_EQ(a->v6().sin6_addr.s6_addr[0], 0x20);
  EXPECT_EQ(a->v6().sin6_addr.s6_addr[15], 0x01);
  EXPECT_EQ(a->to_string(), "[2001:db8::1]:4433");
  EXPECT_EQ(parse_address("[::]:0")->to_string(), "[::]:0");
  EXPECT_EQ(parse_address("[::ffff:192.0.2.1]:1")->to_string(), "[::ffff:192.0.2.1]:1");
}

TEST(Address, ScopeByNameOrNumber) {
  const unsigned lo = if_nametoindex("lo");
  ASSERT_NE(lo, 0u);
  auto by_name = parse_address("[fe80::1%lo]:443");
  ASSERT_TRUE(by_name.is_ok()) << by_name.status().reason();
  EXPECT_EQ(by_name->v6().sin6_scope_id, lo);
  EXPECT_EQ(by_name->to_string(), "[fe80::1%" + std::to_string(lo) + "]:443");
  auto by_number = parse_address("[fe80::1%7]:443");
  ASSERT_TRUE(by_number.is_ok());
  EXPECT_EQ(by_number->v6().sin6_scope_id, 7u);
  EXPECT_FALSE(*by_name == *by_number);
}

TEST(Address, FormatTruncatesAndReportsFullLength) {
  auto a = *parse_address("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535");
  char full[SocketAddress::kMaxText];
  size_t n = a.format(full, sizeof full);
  EXPECT_EQ(std::string(full), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
  EXPECT_EQ(n, std::strlen(full));
  char small[8];
  EXPECT_EQ(a.format(small, sizeof small), n);
  EXPECT_EQ(std::string(small), "[ffff:f");
  EXPECT_EQ(SocketAddress().to_string(), "(none)");
}

TEST(Address, BadStringsGiveClearErrors) {
  struct {
    const char* text;
    const char* reason;
  } cases[] = {
      {"", "address: empty (expected host:port or [v6]:port)"},
      {"192.0.2.1", "address: missing ':port'"},
      {"192.0.2.1:", "address: port must be a number from 0 to 65535"},
      {"192.0.2.1:65536", "address: port must be a number from 0 to 65535"},
      {"192.0.2.1:-1", "address: port must be a number from 0 to 65535"},
      {"192.0.2.1:+1", "address: port must be a number from 0 to 65535"},
      {"192.0.2.1:0x10", "address: port must be a number from 0 to 65535"},
      {"192.0.2.1:443 ", "address: port must be a number from 0 to 65535"},
      {"192.0.2.1:000443", "address: port must be a number from 0 to 65535"},
      {":443", "address: missing host before ':port'"},
      {"[]:443", "address: missing host before ':port'"},
      {"::1:443", "address: an IPv6 address needs brackets, as [v6]:port"},
      {"[::1", "address: '[' without a closing ']'"},
      {"[::1]", "address: missing ':port' after ']'"},
      {"[::1]443", "address: missing ':port' after ']'"},
      {"[::1]:", "address: port must be a number from 0 to 65535"},
      {"192.0.2:443", "address: not a numeric IPv4 address (write IPv6 as [v6]:port)"},
      {"127.1:443", "address: not a numeric IPv4 address (write IPv6 as [v6]:port)"},
      {"192.0.2.256:443", "address: not a numeric IPv4 address (write IPv6 as [v6]:port)"},
      {"example.com:443", "address: not a numeric IPv4 address (write IPv6 as [v6]:port)"},
      {"[192.0.2.1]:443", "address: not a numeric IPv6 address inside [ ]"},
      {"[2001:db8::g]:443", "address: not a numeric IPv6 address inside [ ]"},
      {"[fe80::1%]:443", "address: unknown interface after '%' in the IPv6 address"},
      {"[fe80::1%no-such-if0]:443", "address: unknown interface after '%' in the IPv6 address"},
      {"[fe80::1%99999999999]:443", "address: unknown interface after '%' in the IPv6 address"},
  };
  for (const auto& c : cases) {
    auto a = parse_address(c.text);
    ASSERT_FALSE(a.is_ok()) << c.text;
    EXPECT_EQ(a.status().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_STREQ(a.status().reason(), c.reason) << c.text;
  }
}

TEST(Address, SplitHostPortKeepsNames) {
  auto hp = split_host_port("server4:443");
  ASSERT_TRUE(hp.is_ok());
  EXPECT_EQ(hp->host, "server4");
  EXPECT_EQ(hp->port, 443);
  EXPECT_FALSE(hp->bracketed);
  auto v6 = split_host_port("[fd00:cafe:cafe:100::100]:443");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6->host, "fd00:cafe:cafe:100::100");
  EXPECT_TRUE(v6->bracketed);
}

TEST(Address, ResolvesLiteralsWithoutTheResolver) {
  auto a = resolve_address("127.0.0.1:8443");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->to_string(), "127.0.0.1:8443");
  auto b = resolve_address("[::1]:8443", AddressFamily::kIPv6);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->to_string(), "[::1]:8443");
  auto wrong = resolve_address("[::1]:8443", AddressFamily::kIPv4);
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_STREQ(wrong.status().reason(), "address: literal is not of the requested family");
  auto typo = resolve_address("127.0.0.300:1");
  ASSERT_FALSE(typo.is_ok());
  EXPECT_STREQ(typo.status().reason(), "address: not a numeric IPv4 address (write IPv6 as [v6]:port)");
  EXPECT_FALSE(resolve_address("localhost").is_ok());
}

// /etc/hosts maps localhost to 127.0.0.1; files come before DNS, so no
// query leaves the machine.
TEST(Address, ResolvesLocalhostFromHostsFile) {
  auto a = resolve_address("localhost:4433", AddressFamily::kIPv4);
  ASSERT_TRUE(a.is_ok()) << a.status().reason();
  EXPECT_EQ(a->to_string(), "127.0.0.1:4433");
}

TEST(Address, V4MappedConversions) {
  auto v4 = *parse_address("192.0.2.1:443");
  auto mapped = v4.to_v4_mapped();
  EXPECT_TRUE(mapped.is_v4_mapped());
  EXPECT_TRUE(mapped.on_ipv4_wire());
  EXPECT_EQ(mapped.to_string(), "[::ffff:192.0.2.1]:443");
  EXPECT_EQ(mapped.unmapped(), v4);
  EXPECT_EQ(v4.unmapped(), v4);
  auto v6 = *parse_address("[2001:db8::1]:443");
  EXPECT_FALSE(v6.is_v4_mapped());
  EXPECT_FALSE(v6.on_ipv4_wire());
  EXPECT_EQ(v6.to_v4_mapped(), v6);
  EXPECT_EQ(v6.unmapped(), v6);
}

TEST(Address, EqualityAndPorts) {
  auto a = *parse_address("127.0.0.1:1");
  auto b = *parse_address("127.0.0.1:2");
  EXPECT_FALSE(a == b);
  b.set_port(1);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == a.to_v4_mapped());
  EXPECT_EQ(SocketAddress(), SocketAddress());
  EXPECT_EQ(SocketAddress::loopback(AddressFamily::kIPv6, 9).to_string(), "[::1]:9");
  EXPECT_EQ(SocketAddress::loopback(AddressFamily::kIPv4, 9).to_string(), "127.0.0.1:9");
  EXPECT_EQ(SocketAddress::wildcard(AddressFamily::kIPv4, 9).to_string(), "0.0.0.0:9");
  EXPECT_EQ(SocketAddress::wildcard(AddressFamily::kAny, 9).to_string(), "[::]:9");
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  EXPECT_TRUE(SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&sa), sizeof(sockaddr_in)).empty());
}

}  // namespace
}  // namespace quicbed
