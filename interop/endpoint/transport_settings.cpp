#include "transport_settings.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "hq.h"
#include "http3.h"

namespace quicbed {

std::vector<std::string> offered_alpns(const Options& o) {
  if (!o.alpn.empty()) return {o.alpn};
  if (o.mode == Mode::kServer) return {kAlpnH3, kAlpnHq};
  return {kAlpnHq};
}

void set_preferred_address(const SocketAddress& a, TransportParameters& tp) {
  TransportParameters::PreferredAddress& pa = tp.preferred_address;
  tp.has_preferred_address = true;
  const SocketAddress u = a.unmapped();
  if (u.is_ipv4()) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(u.sockaddr_ptr());
    std::memcpy(pa.ipv4_address, &in->sin_addr, sizeof pa.ipv4_address);
    pa.ipv4_port = u.port();
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(u.sockaddr_ptr());
    std::memcpy(pa.ipv6_address, &in6->sin6_addr, sizeof pa.ipv6_address);
    pa.ipv6_port = u.port();
  }
}

SocketAddress preferred_address_for(const TransportParameters::PreferredAddress& pa, bool ipv4) {
  // §18.2: an all-zero address or port means that family is not offered.
  if (ipv4) {
    in_addr in{};
    std::memcpy(&in, pa.ipv4_address, sizeof in);
    if (pa.ipv4_port == 0 || in.s_addr == 0) return SocketAddress();
    return SocketAddress::ipv4(in, pa.ipv4_port);
  }
  in6_addr in6{};
  std::memcpy(&in6, pa.ipv6_address, sizeof in6);
  static const in6_addr kZero{};
  if (pa.ipv6_port == 0 || std::memcmp(&in6, &kZero, sizeof in6) == 0) return SocketAddress();
  return SocketAddress::ipv6(in6, pa.ipv6_port);
}

ConnectionConfig connection_settings(const Options& o, Role role) {
  ConnectionConfig c;
  c.role = role;
  c.max_datagram_size = o.max_datagram_size;
  c.pmtud = o.pmtud;
  c.ecn = o.ecn;
  c.cc = o.cc;
  c.initial_window_packets = o.initial_window;
  c.pacing = o.pacing;
  TransportParameters& tp = c.params;
  // RFC 9000 §10.1: milliseconds; at least 1 so that it never means "none".
  tp.max_idle_timeout = o.timeout_us / 1000 ? o.timeout_us / 1000 : 1;
  // Initial windows; RecvFlow auto-tuning grows them up to the
  // ConnectionConfig maxima as the transfer shows it needs more.
  tp.initial_max_data = 4 << 20;
  tp.initial_max_stream_data_bidi_local = 2 << 20;
  tp.initial_max_stream_data_bidi_remote = 2 << 20;
  tp.initial_max_stream_data_uni = 1 << 20;
  // The client opens every request stream, one per request (hq-interop
  // and HTTP/3 alike). HTTP/3 adds three unidirectional streams each way,
  // control and QPACK encoder and decoder (RFC 9114 §6.2: at least 3);
  // a few more let a peer open streams of reserved types (§6.2.3).
  tp.initial_max_streams_bidi = role == Role::kServer ? kMaxPeerStreams : 0;
  const std::vector<std::string> alpns = offered_alpns(o);
  const bool h3 = std::find(alpns.begin(), alpns.end(), kAlpnH3) != alpns.end();
  tp.initial_max_streams_uni = h3 ? kMaxPeerH3UniStreams : 0;
  tp.active_connection_id_limit = 4;
  // RFC 9287: our packets may have a zero Fixed Bit, and so may the peer's.
  tp.grease_quic_bit = true;
  c.max_local_streams = kMaxPeerStreams;
  // RFC 9368: the client's first version and the versions either side
  // lists (the Endpoint gives a server connection its own).
  c.version = o.version;
  const std::vector<uint32_t> versions = o.versions.empty() ? std::vector<uint32_t>{kVersion1, kVersion2} : o.versions;
  for (size_t i = 0; i < versions.size() && i < kMaxVersions; ++i) c.versions[i] = versions[i];
  if (role == Role::kServer) {
    tp.disable_active_migration = o.disable_active_migration;
    // RFC 9000 §9.6, §18.2: the connection adds the CID and its token.
    for (const std::string& p : o.preferred_addresses) set_preferred_address(*parse_address(p), tp);
  }
  return c;
}

GnutlsTlsConfig tls_settings(const Options& o, Role role) {
  GnutlsTlsConfig t;
  t.role = role;
  t.alpn = offered_alpns(o);
  t.cipher_suites = o.ciphers;
  t.keylog_file = o.keylog_file;
  t.early_data = o.early_data;
  if (role == Role::kClient) {
    t.server_name = o.urls.empty() ? std::string() : o.urls.front().host;
    t.verify_peer = !o.insecure;
    t.ca_file = o.ca_file;
  } else {
    t.cert_file = o.cert_file;
    t.key_file = o.key_file;
  }
  return t;
}

}  // namespace quicbed
