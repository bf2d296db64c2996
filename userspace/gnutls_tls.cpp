#include "gnutls_tls.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <new>

#include "early_data.h"

namespace quicbed {

namespace {

// RFC 9001 §8.4: QUIC has no ChangeCipherSpec, so the client must not use
// TLS 1.3's middlebox compatibility mode; only TLS 1.3 exists for QUIC
// (RFC 9001 §4.2). Suites are those of RFC 9001 §5.3 this stack implements.
constexpr const char* kPriorityBase = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:%DISABLE_TLS13_COMPAT_MODE";
constexpr CipherSuite kAllSuites[] = {CipherSuite::kAes128GcmSha256, CipherSuite::kAes256GcmSha384,
                                      CipherSuite::kChaCha20Poly1305Sha256};

const char* priority_name(CipherSuite s) {
  switch (s) {
    case CipherSuite::kAes128GcmSha256: return "+AES-128-GCM";
    case CipherSuite::kAes256GcmSha384: return "+AES-256-GCM";
    case CipherSuite::kChaCha20Poly1305Sha256: return "+CHACHA20-POLY1305";
  }
  return nullptr;
}

bool suite_of(gnutls_cipher_algorithm_t c, CipherSuite* out) {
  switch (c) {
    case GNUTLS_CIPHER_AES_128_GCM: *out = CipherSuite::kAes128GcmSha256; return true;
    case GNUTLS_CIPHER_AES_256_GCM: *out = CipherSuite::kAes256GcmSha384; return true;
    case GNUTLS_CIPHER_CHACHA20_POLY1305: *out = CipherSuite::kChaCha20Poly1305Sha256; return true;
    default: return false;
  }
}

EncryptionLevel level_of(gnutls_record_encryption_level_t l) {
  switch (l) {
    case GNUTLS_ENCRYPTION_LEVEL_INITIAL: return EncryptionLevel::kInitial;
    case GNUTLS_ENCRYPTION_LEVEL_EARLY: return EncryptionLevel::kEarlyData;
    case GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE: return EncryptionLevel::kHandshake;
    case GNUTLS_ENCRYPTION_LEVEL_APPLICATION: return EncryptionLevel::kApplication;
  }
  return EncryptionLevel::kApplication;
}

gnutls_record_encryption_level_t gnutls_level_of(EncryptionLevel l) {
  switch (l) {
    case EncryptionLevel::kInitial: return GNUTLS_ENCRYPTION_LEVEL_INITIAL;
    case EncryptionLevel::kEarlyData: return GNUTLS_ENCRYPTION_LEVEL_EARLY;
    case EncryptionLevel::kHandshake: return GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE;
    case EncryptionLevel::kApplication: return GNUTLS_ENCRYPTION_LEVEL_APPLICATION;
  }
  return GNUTLS_ENCRYPTION_LEVEL_APPLICATION;
}

bool is_ip_literal(const std::string& name) {
  unsigned char addr[16];
  return inet_pton(AF_INET, name.c_str(), addr) == 1 || inet_pton(AF_INET6, name.c_str(), addr) == 1;
}

// Record-layer I/O would mean GnuTLS bypassed the QUIC hooks: refuse it.
ssize_t refuse_push(gnutls_transport_ptr_t, const void*, size_t) {
  errno = EIO;
  return -1;
}
ssize_t refuse_pull(gnutls_transport_ptr_t, void*, size_t) {
  errno = EIO;
  return -1;
}

// RFC 8446 §6.2: why the server's certificate was refused.
TlsAlert verification_alert(unsigned status) {
  if (status & GNUTLS_CERT_REVOKED) return TlsAlert::kCertificateRevoked;
  if (status & GNUTLS_CERT_EXPIRED) return TlsAlert::kCertificateExpired;
  if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) return TlsAlert::kUnknownCa;
  return TlsAlert::kBadCertificate;
}

Status backend_error(const char* what) { return Status(ErrorCode::kCryptoBackend, what); }

// RFC 9001 §4.6.1: a server allowing 0-RTT in QUIC says so with this
// max_early_data_size, and no other.
constexpr size_t kQuicMaxEarlyData = 0xffffffff;
// RFC 8446 §4.2.10: the early_data extension.
constexpr unsigned kEarlyDataExtension = 42;

}  // namespace

// ---------------------------------------------------------------- context

Result<std::unique_ptr<GnutlsTlsContext>> GnutlsTlsContext::create(const GnutlsTlsConfig& config) {
  if (config.alpn.empty()) return Status(ErrorCode::kInvalidArgument, "no ALPN protocol");
  for (const std::string& p : config.alpn) {
    // RFC 7301 §3.1: protocol names are 1..255 bytes.
    if (p.empty() || p.size() > 255) return Status(ErrorCode::kInvalidArgument, "bad ALPN protocol");
  }
  bool server = config.role == Role::kServer;
  if (server && (config.cert_file.empty() || config.key_file.empty())) {
    return Status(ErrorCode::kInvalidArgument, "server without certificate");
  }

  std::unique_ptr<GnutlsTlsContext> ctx(new (std::nothrow) GnutlsTlsContext(config));
  if (!ctx) return ErrorCode::kNoMemory;

  std::string priority = kPriorityBase;
  const std::vector<CipherSuite> all(std::begin(kAllSuites), std::end(kAllSuites));
  for (CipherSuite s : config.cipher_suites.empty() ? all : config.cipher_suites) {
    const char* name = priority_name(s);
    if (!name) return Status(ErrorCode::kInvalidArgument, "unknown cipher suite");
    priority += ':';
    priority += name;
  }
  if (gnutls_priority_init2(&ctx->priority_, priority.c_str(), nullptr, 0) < 0) {
    return backend_error("priority string");
  }

  if (gnutls_certificate_allocate_credentials(&ctx->cred_) < 0) return ErrorCode::kNoMemory;
  if (server) {
    if (gnutls_certificate_set_x509_key_file(ctx->cred_, config.cert_file.c_str(), config.key_file.c_str(),
                                             GNUTLS_X509_FMT_PEM) < 0) {
      return Status(ErrorCode::kInvalidArgument, "server certificate or key");
    }
  } else if (config.verify_peer) {
    int n = config.ca_file.empty()
                ? gnutls_certificate_set_x509_system_trust(ctx->cred_)
                : gnutls_certificate_set_x509_trust_file(ctx->cred_, config.ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (n <= 0) return Status(ErrorCode::kInvalidArgument, "no trusted CA certificate");
  }

  if (server && config.session_tickets) {
    if (gnutls_session_ticket_key_generate(&ctx->ticket_key_) < 0) return backend_error("session ticket key");
  }
  if (server && config.early_data) {
    // RFC 8446 §8: early data is only accepted from a ClientHello not seen
    // before within the ticket age window (GnuTLS's default window).
    if (gnutls_anti_replay_init(&ctx->anti_replay_) < 0) return ErrorCode::kNoMemory;
    gnutls_anti_replay_set_add_function(ctx->anti_replay_, anti_replay_add);
    gnutls_anti_replay_set_ptr(ctx->anti_replay_, ctx.get());
  }

  if (!config.keylog_file.empty()) {
    ctx->keylog_path_ = config.keylog_file;
  } else if (const char* env = std::getenv("SSLKEYLOGFILE"); env && *env) {
    ctx->keylog_path_ = env;
  }
  return ctx;
}

GnutlsTlsContext::~GnutlsTlsContext() {
  if (anti_replay_) gnutls_anti_replay_deinit(anti_replay_);
  if (ticket_key_.data) {
    gnutls_memset(ticket_key_.data, 0, ticket_key_.size);
    gnutls_free(ticket_key_.data);
  }
  if (cred_) gnutls_certificate_free_credentials(cred_);
  if (priority_) gnutls_priority_deinit(priority_);
}

int GnutlsTlsContext::anti_replay_add(void* ptr, time_t expires, const gnutls_datum_t* key, const gnutls_datum_t*) {
  auto* self = static_cast<GnutlsTlsContext*>(ptr);
  const time_t now = time(nullptr);
  std::string k(reinterpret_cast<const char*>(key->data), key->size);
  auto it = self->replay_seen_.find(k);
  if (it != self->replay_seen_.end() && it->second >= now) return GNUTLS_E_DB_ENTRY_EXISTS;
  if (self->replay_seen_.size() >= self->config_.anti_replay_entries) {
    for (auto e = self->replay_seen_.begin(); e != self->replay_seen_.end();) {
      e = e->second < now ? self->replay_seen_.erase(e) : std::next(e);
    }
    // Full of live entries: refusing early data is the safe answer.
    if (self->replay_seen_.size() >= self->config_.anti_replay_entries) return GNUTLS_E_DB_ERROR;
  }
  self->replay_seen_[std::move(k)] = expires;
  return 0;
}

bool GnutlsTlsContext::zero_rtt_compatible(const std::vector<uint8_t>& local_tp) const {
  if (!has_ticket_tp_) {
    ticket_tp_ = local_tp;
    has_ticket_tp_ = true;
    return true;
  }
  if (ticket_tp_ == local_tp) return true;
  Result<TransportParameters> issued = TransportParameters::parse(Bytes(ticket_tp_.data(), ticket_tp_.size()), Role::kServer);
  Result<TransportParameters> now = TransportParameters::parse(Bytes(local_tp.data(), local_tp.size()), Role::kServer);
  return issued.is_ok() && now.is_ok() && check_zero_rtt_limits(*issued, *now).is_ok();
}

Result<std::unique_ptr<GnutlsTls>> GnutlsTlsContext::new_session() const {
  const bool server = config_.role == Role::kServer;
  unsigned flags = server ? GNUTLS_SERVER : GNUTLS_CLIENT;
  // RFC 9001 §8.3: QUIC has no EndOfEarlyData message.
  flags |= GNUTLS_NO_END_OF_EARLY_DATA;
  // The server's ticket goes out once the handshake is complete (advance()),
  // at the 1-RTT level, not in the middle of the server's flight.
  if (server) flags |= GNUTLS_NO_AUTO_SEND_TICKET;
  if (config_.early_data) flags |= GNUTLS_ENABLE_EARLY_DATA;
  gnutls_session_t s;
  if (gnutls_init(&s, flags) < 0) return ErrorCode::kNoMemory;
  std::unique_ptr<GnutlsTls> tls(new (std::nothrow) GnutlsTls(*this, s));
  if (!tls) {
    gnutls_deinit(s);
    return ErrorCode::kNoMemory;
  }
  QB_TRY(tls->setup());
  return tls;
}

// ---------------------------------------------------------------- session

GnutlsTls::~GnutlsTls() { gnutls_deinit(s_); }

Status GnutlsTls::setup() {
  const GnutlsTlsConfig& cfg = ctx_.config_;
  bool server = cfg.role == Role::kServer;
  gnutls_session_set_ptr(s_, this);
  if (gnutls_priority_set(s_, ctx_.priority_) < 0) return backend_error("priority");
  if (gnutls_credentials_set(s_, GNUTLS_CRD_CERTIFICATE, ctx_.cred_) < 0) return backend_error("credentials");

  gnutls_transport_set_push_function(s_, refuse_push);
  gnutls_transport_set_pull_function(s_, refuse_pull);
  gnutls_handshake_set_read_function(s_, on_handshake_message);
  gnutls_handshake_set_secret_function(s_, on_secret);
  gnutls_alert_set_read_function(s_, on_alert);
  gnutls_handshake_set_hook_function(s_, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH, on_hook);
  gnutls_session_set_keylog_function(s_, write_keylog);

  // RFC 9001 §8.2: in the ClientHello and the EncryptedExtensions only.
  if (gnutls_session_ext_register(s_, "quic_transport_parameters", kQuicTransportParametersExtension,
                                  GNUTLS_EXT_TLS, recv_transport_params, send_transport_params, nullptr,
                                  nullptr, nullptr,
                                  GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE | GNUTLS_EXT_FLAG_TLS) < 0) {
    return backend_error("transport parameters extension");
  }

  std::vector<gnutls_datum_t> protocols;
  for (const std::string& p : cfg.alpn) {
    protocols.push_back({reinterpret_cast<unsigned char*>(const_cast<char*>(p.data())),
                         static_cast<unsigned>(p.size())});
  }
  unsigned alpn_flags = GNUTLS_ALPN_MANDATORY | (server ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0);
  if (gnutls_alpn_set_protocols(s_, protocols.data(), static_cast<unsigned>(protocols.size()), alpn_flags) < 0) {
    return backend_error("ALPN");
  }

  if (server && ctx_.ticket_key_.data &&
      gnutls_session_ticket_enable_server(s_, &ctx_.ticket_key_) < 0) {
    return backend_error("session tickets");
  }
  if (server && cfg.early_data && gnutls_record_set_max_early_data_size(s_, kQuicMaxEarlyData) < 0) {
    return backend_error("max_early_data_size");
  }
  if (!server) {
    const std::string& name = cfg.server_name;
    if (!name.empty() && !is_ip_literal(name) &&
        gnutls_server_name_set(s_, GNUTLS_NAME_DNS, name.data(), name.size()) < 0) {
      return backend_error("server name");
    }
    if (cfg.verify_peer) gnutls_session_set_verify_cert(s_, name.empty() ? nullptr : name.c_str(), 0);
  }
  return Status::ok();
}

Status GnutlsTls::set_local_transport_params(Bytes ext) {
  if (started_) return Status(ErrorCode::kInvalidArgument, "handshake already started");
  local_tp_.assign(ext.begin(), ext.end());
  if (ctx_.config_.role == Role::kServer && ctx_.anti_replay_) {
    // GnuTLS refuses early data in a session without anti-replay: that is
    // how a session whose parameters fall below the tickets' promise
    // (RFC 9000 §7.4.1) turns 0-RTT down.
    zero_rtt_allowed_ = ctx_.zero_rtt_compatible(local_tp_);
    if (zero_rtt_allowed_) gnutls_anti_replay_enable(s_, ctx_.anti_replay_);
  }
  return Status::ok();
}

Status GnutlsTls::set_session(const std::vector<uint8_t>& session) {
  if (ctx_.config_.role != Role::kClient) return Status(ErrorCode::kInvalidArgument, "only clients resume");
  if (started_) return Status(ErrorCode::kInvalidArgument, "handshake already started");
  if (session.empty() || gnutls_session_set_data(s_, session.data(), session.size()) < 0) {
    return Status(ErrorCode::kInvalidArgument, "unusable session data");
  }
  return Status::ok();
}

bool GnutlsTls::resumed() const { return gnutls_session_is_resumed(s_) != 0; }

EarlyDataState GnutlsTls::early_data_state() const {
  const bool accepted = (gnutls_session_get_flags(s_) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
  if (ctx_.config_.role == Role::kServer) {
    if (!early_offered_) return EarlyDataState::kNone;
    // Accepted once the ClientHello is processed: its 0-RTT secret is out.
    return accepted && early_keys_ ? EarlyDataState::kAccepted
           : peer_checked_        ? EarlyDataState::kRejected
                                  : EarlyDataState::kAttempted;
  }
  // RFC 9001 §4.6.1: the 0-RTT write secret comes with an early_data offer.
  if (!early_keys_) return EarlyDataState::kNone;
  if (accepted) return EarlyDataState::kAccepted;
  // The EncryptedExtensions (parsed by the time the peer is checked) say no.
  return peer_checked_ || complete_ ? EarlyDataState::kRejected : EarlyDataState::kAttempted;
}

Status GnutlsTls::provide_data(EncryptionLevel level, Bytes data, TlsCallbacks& cb) {
  if (!failed_.is_ok()) return failed_;
  if (!carries_crypto_data(level)) return Status(ErrorCode::kInvalidArgument, "no CRYPTO data at 0-RTT");
  if (data.empty()) return Status::ok();
  cb_ = &cb;
  int rc = gnutls_handshake_write(s_, gnutls_level_of(level), data.data(), data.size());
  cb_ = nullptr;
  return rc < 0 ? failure(rc) : Status::ok();
}

Status GnutlsTls::advance(TlsCallbacks& cb) {
  if (!failed_.is_ok()) return failed_;
  if (complete_) return Status::ok();
  // RFC 9001 §8.2: both endpoints must send the extension.
  if (local_tp_.empty()) return Status(ErrorCode::kInvalidArgument, "local transport parameters not set");
  started_ = true;
  cb_ = &cb;
  int rc = gnutls_handshake(s_);
  // RFC 8446 §4.6.1: the server's ticket, after its handshake is complete,
  // travels in CRYPTO frames of 1-RTT packets (RFC 9001 §4.1.3).
  if (rc == 0 && ctx_.config_.role == Role::kServer && ctx_.ticket_key_.data) rc = gnutls_session_ticket_send(s_, 1, 0);
  cb_ = nullptr;
  if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) return Status::ok();
  if (rc < 0) return failure(rc);

  if (!peer_checked_) {
    // Every handshake passes the hook that checks the peer's hello.
    failed_ = tls_alert_status(TlsAlert::kInternalError, "peer extensions unchecked");
    return failed_;
  }
  complete_ = true;
  Status s = cb.on_tls_handshake_complete();
  if (!s.is_ok()) failed_ = s;
  return s;
}

Status GnutlsTls::failure(int rc) {
  if (!abort_status_.is_ok()) {
    failed_ = abort_status_;
  } else if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    // GnuTLS says bad_certificate for every refusal; the status says why.
    failed_ = tls_alert_status(verification_alert(gnutls_session_get_verify_cert_status(s_)),
                               "server certificate verification");
  } else {
    // GnuTLS picks the alert for its error and "sends" it through on_alert.
    if (sent_alert_ < 0) (void)gnutls_alert_send_appropriate(s_, rc);
    failed_ = sent_alert_ >= 0 ? Status::crypto_alert(static_cast<uint8_t>(sent_alert_), gnutls_strerror(rc))
                               : tls_alert_status(TlsAlert::kInternalError, gnutls_strerror(rc));
  }
  return failed_;
}

int GnutlsTls::abort_with(Status s) {
  if (abort_status_.is_ok()) abort_status_ = s;
  return GNUTLS_E_USER_ERROR;
}

int GnutlsTls::check_peer_extensions() {
  peer_checked_ = true;
  if (!peer_tp_received_) {
    return abort_with(tls_alert_status(TlsAlert::kMissingExtension, "no quic_transport_parameters"));
  }
  gnutls_datum_t selected;
  if (gnutls_alpn_get_selected_protocol(s_, &selected) < 0) {
    return abort_with(tls_alert_status(TlsAlert::kNoApplicationProtocol, "no ALPN"));
  }
  alpn_.assign(reinterpret_cast<const char*>(selected.data), selected.size);
  Status s = cb_->on_tls_peer_transport_params(Bytes(peer_tp_.data(), peer_tp_.size()));
  return s.is_ok() ? 0 : abort_with(s);
}

// ---------------------------------------------------------------- GnuTLS callbacks

int GnutlsTls::on_handshake_message(gnutls_session_t session, gnutls_record_encryption_level_t level,
                                    gnutls_handshake_description_t htype, const void* data, size_t size) {
  auto* self = static_cast<GnutlsTls*>(gnutls_session_get_ptr(session));
  // With compatibility mode off GnuTLS should not make one; QUIC has none.
  if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC) return 0;
  Status s = self->cb_->on_tls_crypto_data(level_of(level), Bytes(static_cast<const uint8_t*>(data), size));
  return s.is_ok() ? 0 : self->abort_with(s);
}

int GnutlsTls::on_secret(gnutls_session_t session, gnutls_record_encryption_level_t level, const void* read,
                         const void* write, size_t size) {
  auto* self = static_cast<GnutlsTls*>(gnutls_session_get_ptr(session));
  EncryptionLevel l = level_of(level);
  CipherSuite suite;
  gnutls_cipher_algorithm_t cipher =
      l == EncryptionLevel::kEarlyData ? gnutls_early_cipher_get(session) : gnutls_cipher_get(session);
  if (!suite_of(cipher, &suite)) {
    return self->abort_with(tls_alert_status(TlsAlert::kHandshakeFailure, "cipher suite not for QUIC"));
  }
  if (size != hash_len(suite_hash(suite))) {
    return self->abort_with(tls_alert_status(TlsAlert::kInternalError, "secret size"));
  }
  const struct {
    KeyDirection dir;
    const void* secret;
  } halves[] = {{KeyDirection::kRead, read}, {KeyDirection::kWrite, write}};
  for (const auto& h : halves) {
    if (!h.secret) continue;
    if (l == EncryptionLevel::kEarlyData) self->early_keys_ = true;
    Status s = self->cb_->on_tls_secret(l, h.dir, suite, Bytes(static_cast<const uint8_t*>(h.secret), size));
    if (!s.is_ok()) return self->abort_with(s);
  }
  return 0;
}

// GnuTLS hands the alerts it would send here instead of to the record layer;
// QUIC carries the first fatal one in CONNECTION_CLOSE (RFC 9001 §4.8).
int GnutlsTls::on_alert(gnutls_session_t session, gnutls_record_encryption_level_t, gnutls_alert_level_t alert_level,
                        gnutls_alert_description_t desc) {
  auto* self = static_cast<GnutlsTls*>(gnutls_session_get_ptr(session));
  if (alert_level == GNUTLS_AL_FATAL && self->sent_alert_ < 0) self->sent_alert_ = desc;
  return 0;
}

int GnutlsTls::on_hook(gnutls_session_t session, unsigned htype, unsigned when, unsigned incoming,
                       const gnutls_datum_t* msg) {
  auto* self = static_cast<GnutlsTls*>(gnutls_session_get_ptr(session));
  if (!incoming) return 0;
  // GnuTLS hands the POST hook what its parser left of the message: the
  // whole body is kept from the PRE hook.
  if (htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET && when == GNUTLS_HOOK_PRE && msg) {
    self->ticket_msg_.assign(msg->data, msg->data + msg->size);
  }
  if (htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET && when == GNUTLS_HOOK_POST) return self->on_ticket();
  if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && when == GNUTLS_HOOK_PRE) self->note_client_hello(msg);
  // RFC 9001 §6: a TLS KeyUpdate is an unexpected_message error.
  if (htype == GNUTLS_HANDSHAKE_KEY_UPDATE) {
    return self->abort_with(tls_alert_status(TlsAlert::kUnexpectedMessage, "TLS KeyUpdate"));
  }
  if (self->peer_checked_) return 0;
  if (self->ctx_.config_.role == Role::kServer) {
    // The ClientHello's extensions are parsed when its POST hook runs.
    if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && when == GNUTLS_HOOK_POST) return self->check_peer_extensions();
    return 0;
  }
  // The client parses the EncryptedExtensions after its hooks have run, so
  // it checks before the next server message (Certificate, CertificateRequest
  // or, resuming, Finished) is processed.
  bool before_ee_parsed = htype == GNUTLS_HANDSHAKE_SERVER_HELLO || htype == GNUTLS_HANDSHAKE_HELLO_RETRY_REQUEST ||
                          htype == GNUTLS_HANDSHAKE_ENCRYPTED_EXTENSIONS ||
                          htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC;
  if (!before_ee_parsed && when == GNUTLS_HOOK_PRE) return self->check_peer_extensions();
  return 0;
}

void GnutlsTls::note_client_hello(const gnutls_datum_t* msg) {
  if (ctx_.config_.role != Role::kServer || !msg) return;
  auto find = [](void* ctx, unsigned tls_id, const unsigned char*, unsigned) -> int {
    if (tls_id == kEarlyDataExtension) *static_cast<bool*>(ctx) = true;
    return 0;
  };
  bool offered = false;
  if (gnutls_ext_raw_parse(&offered, find, msg, GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO) >= 0) early_offered_ = offered;
}

namespace {

// RFC 8446 §4.6.1: the max_early_data_size of a NewSessionTicket body's
// early_data extension; 0 without one (or for a body that does not parse,
// which TLS has accepted, so does not happen).
uint32_t ticket_max_early_data(const std::vector<uint8_t>& msg) {
  const uint8_t* p = msg.data();
  size_t n = msg.size();
  auto skip = [&](size_t k) {
    if (k > n) return false;
    p += k;
    n -= k;
    return true;
  };
  auto u16 = [&](size_t* v) {
    if (n < 2) return false;
    *v = size_t{p[0]} << 8 | p[1];
    return skip(2);
  };
  size_t len = 0;
  // ticket_lifetime, ticket_age_add, ticket_nonce<0..255>, ticket<1..2^16-1>
  if (!skip(8) || n < 1) return 0;
  len = p[0];
  if (!skip(1 + len) || !u16(&len) || !skip(len) || !u16(&len) || len > n) return 0;
  n = len;
  while (n >= 4) {
    size_t type = 0, ext_len = 0;
    (void)u16(&type);
    (void)u16(&ext_len);
    if (ext_len > n) return 0;
    if (type == kEarlyDataExtension && ext_len == 4) {
      return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
    }
    (void)skip(ext_len);
  }
  return 0;
}

}  // namespace

int GnutlsTls::on_ticket() {
  const GnutlsTlsConfig& cfg = ctx_.config_;
  if (cfg.role != Role::kClient || !cfg.on_session_ticket) return 0;
  gnutls_datum_t data{nullptr, 0};
  // A ticket GnuTLS cannot export is not worth failing the connection for.
  if (gnutls_session_get_data2(s_, &data) < 0) return 0;
  SessionTicket t;
  t.session.assign(data.data, data.data + data.size);
  gnutls_free(data.data);
  t.transport_params = peer_tp_;
  t.max_early_data = ticket_max_early_data(ticket_msg_);
  cfg.on_session_ticket(t);
  return 0;
}

int GnutlsTls::send_transport_params(gnutls_session_t session, gnutls_buffer_t out) {
  auto* self = static_cast<GnutlsTls*>(gnutls_session_get_ptr(session));
  int rc = gnutls_buffer_append_data(out, self->local_tp_.data(), self->local_tp_.size());
  return rc < 0 ? rc : static_cast<int>(self->local_tp_.size());
}

int GnutlsTls::recv_transport_params(gnutls_session_t session, const unsigned char* data, size_t size) {
  auto* self = static_cast<GnutlsTls*>(gnutls_session_get_ptr(session));
  self->peer_tp_.assign(data, data + size);
  self->peer_tp_received_ = true;
  return 0;
}

// NSS key log format: "<label> <client_random hex> <secret hex>\n", the
// format tshark/Wireshark read to decrypt QUIC.
int GnutlsTls::write_keylog(gnutls_session_t session, const char* label, const gnutls_datum_t* secret) {
  auto* self = static_cast<GnutlsTls*>(gnutls_session_get_ptr(session));
  const std::string& path = self->ctx_.keylog_path_;
  if (path.empty()) return 0;
  gnutls_datum_t client_random, server_random;
  gnutls_session_get_random(session, &client_random, &server_random);
  std::string line = label;
  auto append_hex = [&line](const gnutls_datum_t& d) {
    static constexpr char kDigits[] = "0123456789abcdef";
    line += ' ';
    for (unsigned i = 0; i < d.size; ++i) {
      line += kDigits[d.data[i] >> 4];
      line += kDigits[d.data[i] & 0xf];
    }
  };
  append_hex(client_random);
  append_hex(*secret);
  line += '\n';
  // One append per line, so concurrent connections' lines stay whole.
  FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return 0;  // a key log is a debugging aid, never a reason to fail
  std::fwrite(line.data(), 1, line.size(), f);
  std::fclose(f);
  return 0;
}

}  // namespace quicbed
