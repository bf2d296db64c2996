// The TlsSession of the userspace and ns-3 hosts, on GnuTLS (>= 3.7.9) and
// its QUIC hooks: handshake messages go in with gnutls_handshake_write and
// come out through the handshake read function, secrets through the secret
// function, and the transport parameters ride in extension 0x39 (RFC 9001
// §8.2). GnuTLS never does record-layer I/O here.
//
// A GnutlsTlsContext holds what sessions share (credentials, priorities,
// ALPN list) and must outlive every session it makes.
#pragma once

#include <gnutls/gnutls.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto.h"
#include "tls.h"
#include "transport_params.h"  // Role

namespace quicbed {

// What a client keeps from a NewSessionTicket (RFC 8446 §4.6.1) to resume
// later: GnuTLS's session data, and the server's transport parameters of
// the connection the ticket came in (the extension body), which 0-RTT must
// honour (RFC 9000 §7.4.1).
struct SessionTicket {
  std::vector<uint8_t> session;
  std::vector<uint8_t> transport_params;
  // The ticket's early_data extension (RFC 8446 §4.6.1), 0 without one.
  // RFC 9001 §4.6.1: only 0xffffffff allows 0-RTT in QUIC.
  uint32_t max_early_data = 0;
  bool allows_zero_rtt() const { return max_early_data == 0xffffffff; }
};

struct GnutlsTlsConfig {
  Role role = Role::kClient;
  // ALPN protocols (RFC 7301) in preference order; at least one. A
  // handshake fails with no_application_protocol without a match (RFC 9001
  // §8.1); the server's order wins.
  std::vector<std::string> alpn;
  // TLS 1.3 suites offered (client) or accepted (server), in preference
  // order; empty: all of CipherSuite (RFC 9001 §5.3 without AES-CCM).
  std::vector<CipherSuite> cipher_suites;

  // Client: the SNI (RFC 6066 §3, not sent for an IP literal) and the name
  // the server's certificate must carry. Empty: no name check.
  std::string server_name;
  // Client: verify the server's certificate chain and name. Only tests turn
  // this off.
  bool verify_peer = true;
  // Client: PEM file of trusted CAs; empty: the system trust store.
  std::string ca_file;

  // Server: PEM certificate chain (leaf first) and its private key.
  std::string cert_file;
  std::string key_file;

  // NSS key log file (CLIENT_HANDSHAKE_TRAFFIC_SECRET ... lines, appended);
  // empty: $SSLKEYLOGFILE when set, else no key log.
  std::string keylog_file;

  // Server: session tickets (RFC 8446 §4.6.1), one NewSessionTicket sent at
  // the 1-RTT level once the handshake completes, under a ticket key that
  // lives as long as the context.
  bool session_tickets = true;
  // 0-RTT (RFC 9001 §4.6). Server: accept early data in resumed handshakes
  // (tickets then carry max_early_data_size 0xffffffff, §4.6.1), guarded by
  // an anti-replay record of ClientHellos (RFC 8446 §8) and refused when the
  // connection's transport parameters are below those under which tickets
  // were issued (RFC 9000 §7.4.1). Client: attempt 0-RTT when resuming.
  bool early_data = false;
  // Server: ClientHellos the anti-replay record holds at most; beyond it
  // early data is refused (never accepted unchecked).
  size_t anti_replay_entries = 1 << 16;
  // Client: called with every NewSessionTicket received.
  std::function<void(const SessionTicket&)> on_session_ticket;
};

class GnutlsTls;

class GnutlsTlsContext {
 public:
  // kInvalidArgument for an unusable configuration (no ALPN, a server
  // without certificate, unreadable files), kCryptoBackend if GnuTLS fails.
  static Result<std::unique_ptr<GnutlsTlsContext>> create(const GnutlsTlsConfig& config);
  ~GnutlsTlsContext();
  GnutlsTlsContext(const GnutlsTlsContext&) = delete;
  GnutlsTlsContext& operator=(const GnutlsTlsContext&) = delete;

  Result<std::unique_ptr<GnutlsTls>> new_session() const;
  const GnutlsTlsConfig& config() const { return config_; }

 private:
  friend class GnutlsTls;
  explicit GnutlsTlsContext(const GnutlsTlsConfig& config) : config_(config) {}

  GnutlsTlsConfig config_;
  gnutls_certificate_credentials_t cred_ = nullptr;
  gnutls_priority_t priority_ = nullptr;
  std::string keylog_path_;

  // ---- Server resumption and 0-RTT
  static int anti_replay_add(void* ptr, time_t expires, const gnutls_datum_t* key, const gnutls_datum_t* data);
  // The transport parameters of this context's server sessions: the first
  // session's are recorded as what tickets promise; a later session whose
  // parameters fall below them takes no 0-RTT (RFC 9000 §7.4.1).
  bool zero_rtt_compatible(const std::vector<uint8_t>& local_tp) const;

  gnutls_datum_t ticket_key_{nullptr, 0};
  gnutls_anti_replay_t anti_replay_ = nullptr;
  // Sessions are made from a const context; these records are its memory.
  mutable std::map<std::string, time_t> replay_seen_;  // ClientHello binder -> expiry
  mutable std::vector<uint8_t> ticket_tp_;             // the parameters tickets were issued under
  mutable bool has_ticket_tp_ = false;
};

class GnutlsTls final : public TlsSession {
 public:
  ~GnutlsTls();
  GnutlsTls(const GnutlsTls&) = delete;
  GnutlsTls& operator=(const GnutlsTls&) = delete;

  Status set_local_transport_params(Bytes ext) override;
  Status provide_data(EncryptionLevel level, Bytes data, TlsCallbacks& cb) override;
  Status advance(TlsCallbacks& cb) override;
  bool handshake_complete() const override { return complete_; }
  EarlyDataState early_data_state() const override;
  bool resumed() const override;

  // Client: resume the session of a ticket (SessionTicket::session), before
  // the first advance(). kInvalidArgument if GnuTLS cannot use the data
  // (the handshake is then a full one).
  Status set_session(const std::vector<uint8_t>& session);
  Bytes alpn() const override {
    return Bytes(reinterpret_cast<const uint8_t*>(alpn_.data()), alpn_.size());
  }

 private:
  friend class GnutlsTlsContext;
  GnutlsTls(const GnutlsTlsContext& ctx, gnutls_session_t s) : ctx_(ctx), s_(s) {}
  Status setup();
  // Server: the ClientHello's extensions, for an early_data offer.
  void note_client_hello(const gnutls_datum_t* msg);
  // Client: a NewSessionTicket arrived.
  int on_ticket();

  // GnuTLS's callbacks; `session`'s pointer is the GnutlsTls.
  static int on_handshake_message(gnutls_session_t session, gnutls_record_encryption_level_t level,
                                  gnutls_handshake_description_t htype, const void* data, size_t size);
  static int on_secret(gnutls_session_t session, gnutls_record_encryption_level_t level, const void* read,
                       const void* write, size_t size);
  static int on_alert(gnutls_session_t session, gnutls_record_encryption_level_t level,
                      gnutls_alert_level_t alert_level, gnutls_alert_description_t desc);
  static int on_hook(gnutls_session_t session, unsigned htype, unsigned when, unsigned incoming,
                     const gnutls_datum_t* msg);
  static int send_transport_params(gnutls_session_t session, gnutls_buffer_t out);
  static int recv_transport_params(gnutls_session_t session, const unsigned char* data, size_t size);
  static int write_keylog(gnutls_session_t session, const char* label, const gnutls_datum_t* secret);

  // Records `s` as the handshake's outcome; returns a GnuTLS error to abort.
  int abort_with(Status s);
  // RFC 9001 §8.1, §8.2: once the peer's hello extensions are parsed.
  int check_peer_extensions();
  // The Status a failed GnuTLS call `rc` stands for.
  Status failure(int rc);

  const GnutlsTlsContext& ctx_;
  gnutls_session_t s_;
  TlsCallbacks* cb_ = nullptr;  // set during provide_data() and advance()
  std::vector<uint8_t> local_tp_;
  std::vector<uint8_t> peer_tp_;
  std::vector<uint8_t> ticket_msg_;  // client: the NewSessionTicket being processed
  bool peer_tp_received_ = false;
  bool peer_checked_ = false;
  bool started_ = false;
  bool complete_ = false;
  bool early_offered_ = false;  // client: the ClientHello offered early data; server: it was offered to us
  bool early_keys_ = false;     // TLS reported a 0-RTT secret
  bool zero_rtt_allowed_ = true;  // server: the transport parameters allow 0-RTT
  int sent_alert_ = -1;    // the fatal alert GnuTLS raised, if any
  Status abort_status_;    // set by our callbacks when they abort the handshake
  Status failed_;          // sticky once the handshake failed
  std::string alpn_;
};

}  // namespace quicbed
