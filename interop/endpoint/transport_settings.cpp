#include "transport_settings.h"

namespace quicbed {

ConnectionConfig connection_settings(const Options& o, Role role) {
  ConnectionConfig c;
  c.role = role;
  c.max_datagram_size = o.max_datagram_size;
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
  // hq-interop: the client opens every stream, one per request.
  tp.initial_max_streams_bidi = role == Role::kServer ? kMaxPeerStreams : 0;
  tp.initial_max_streams_uni = 0;
  tp.active_connection_id_limit = 4;
  c.max_local_streams = kMaxPeerStreams;
  return c;
}

GnutlsTlsConfig tls_settings(const Options& o, Role role) {
  GnutlsTlsConfig t;
  t.role = role;
  t.alpn = {o.alpn};
  t.cipher_suites = o.ciphers;
  t.keylog_file = o.keylog_file;
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
