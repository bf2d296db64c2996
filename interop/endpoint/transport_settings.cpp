#include "transport_settings.h"

#include <algorithm>

#include "hq.h"
#include "http3.h"

namespace quicbed {

std::vector<std::string> offered_alpns(const Options& o) {
  if (!o.alpn.empty()) return {o.alpn};
  if (o.mode == Mode::kServer) return {kAlpnH3, kAlpnHq};
  return {kAlpnHq};
}

ConnectionConfig connection_settings(const Options& o, Role role) {
  ConnectionConfig c;
  c.role = role;
  c.max_datagram_size = o.max_datagram_size;
  c.pmtud = o.pmtud;
  c.ecn = o.ecn;
  c.cc = o.cc;
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
  c.max_local_streams = kMaxPeerStreams;
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
