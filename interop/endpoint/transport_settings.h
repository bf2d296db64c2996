// What the command line means for a connection: its transport parameters
// and limits (ConnectionConfig without the host pointers) and its TLS
// configuration, for the client and the server alike.
#pragma once

#include <string>
#include <vector>

#include "address.h"
#include "conn.h"
#include "gnutls_tls.h"
#include "options.h"

namespace quicbed {

// Streams each side lets the other have open at once (RFC 9000 §4.6); the
// interop runner's multiplexing test wants at most 1000 from a server.
inline constexpr uint64_t kMaxPeerStreams = 100;
// Unidirectional streams an HTTP/3 peer may open (RFC 9114 §6.2).
inline constexpr uint64_t kMaxPeerH3UniStreams = 8;

// The ALPNs offered (RFC 7301): --alpn's, else hq-interop for a client and
// both for a server, which then speaks what each client chose.
std::vector<std::string> offered_alpns(const Options& o);

// The host pointers (alloc, crypto_backend, tls, events, random) are left
// for the caller.
ConnectionConfig connection_settings(const Options& o, Role role);
GnutlsTlsConfig tls_settings(const Options& o, Role role);

// RFC 9000 §18.2 preferred_address: `a` as the parameter's IPv4 or IPv6
// half (the connection fills in the CID and token).
void set_preferred_address(const SocketAddress& a, TransportParameters& tp);
// The parameter's address of one family; empty if it offers none.
SocketAddress preferred_address_for(const TransportParameters::PreferredAddress& pa, bool ipv4);

}  // namespace quicbed
