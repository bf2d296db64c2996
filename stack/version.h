// Which QUIC version a connection speaks (RFC 9368, RFC 9369): the
// versions an endpoint lists in preference order, how a client picks one
// from a Version Negotiation packet (§6.2 of RFC 9000, §2.1 of RFC 9368),
// how a server picks one compatible with the client's first flight
// (RFC 9368 §2.3), and the reserved versions sent to exercise negotiation
// (RFC 9000 §15). The connection applies them (conn_version.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "packet.h"

namespace quicbed {

// Versions an endpoint lists at most (a version_information or Version
// Negotiation packet of ours has that many, plus one reserved version).
inline constexpr size_t kMaxVersions = 4;

// RFC 9369 §4: version 1 and version 2 first flights convert into each
// other (same TLS ClientHello, same Initial packet layout), so a server can
// move a client between them without a round trip.
constexpr bool versions_compatible(uint32_t from, uint32_t to) {
  return is_supported_version(from) && is_supported_version(to);
}

// A reserved version 0x?a?a?a?a (RFC 9000 §15) from four random bytes' high
// nibbles.
constexpr uint32_t greased_version(uint32_t random) { return (random & 0xf0f0f0f0u) | 0x0a0a0a0au; }

// The versions of a zero-terminated list of at most kMaxVersions (the form
// ConnectionConfig and EndpointConfig keep them in).
std::span<const uint32_t> version_span(const uint32_t (&list)[kMaxVersions]);

// The first of `preference` (most preferred first) that `offered` lists
// and this stack speaks; 0 if none. Reserved versions never match (they
// are never selected, RFC 9368 §3). `List` iterates uint32_t versions:
// VersionList (a Version Negotiation packet) or a span.
template <typename List>
uint32_t first_common_version(std::span<const uint32_t> preference, const List& offered) {
  for (uint32_t want : preference) {
    if (!is_supported_version(want)) continue;
    for (uint32_t v : offered) {
      if (v == want) return want;
    }
  }
  return 0;
}

// RFC 9368 §2.3: the version a server answers a client's first flight of
// `original` in: its most preferred (`server_preference`) that the client
// lists in its Available Versions and that `original` converts into; else
// `original` itself.
uint32_t compatible_version_choice(uint32_t original, std::span<const uint32_t> server_preference,
                                   std::span<const uint32_t> client_available);

}  // namespace quicbed
