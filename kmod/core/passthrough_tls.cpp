#include "passthrough_tls.h"

#include "keys.h"  // wipe

namespace quicbed::kmod {

PassthroughTls::PassthroughTls(Allocator& alloc, bool server)
    : to_process_(alloc, kMaxToProcess), from_process_(alloc, kMaxFromProcess), server_(server), post_(alloc) {}

PassthroughTls::~PassthroughTls() { wipe(held_write_, sizeof(held_write_)); }

Status PassthroughTls::set_local_transport_params(Bytes ext) {
  if (ext.size() > kMaxTransportParams) return Status(ErrorCode::kInvalidArgument, "transport parameters too long");
  copy_bytes(local_tp_, ext.data(), ext.size());
  local_tp_len_ = ext.size();
  return Status::ok();
}

Status PassthroughTls::provide_data(EncryptionLevel level, Bytes data, TlsCallbacks&) {
  if (!failed_.is_ok()) return failed_;
  if (!carries_crypto_data(level)) return Status(ErrorCode::kInvalidArgument, "no CRYPTO data at 0-RTT");
  if (data.empty()) return Status::ok();
  // After the handshake the process reads no more handshake messages: the
  // kernel keeps the session tickets (RFC 9001 §4.1.3).
  if (complete_ && level == EncryptionLevel::kApplication) {
    Status s = post_.feed(data);
    if (!s.is_ok()) failed_ = s;
    return s;
  }
  if (!server_ && level == EncryptionLevel::kHandshake) ee_.feed(data);
  const uint8_t head[1] = {static_cast<uint8_t>(level)};
  Status s = to_process_.push(Bytes(head), data);
  // RFC 9000 §7.5: handshake data the endpoint cannot buffer.
  if (s.code() == ErrorCode::kLimitExceeded) return Status(ErrorCode::kCryptoBufferExceeded, "handshake process too slow");
  return s;
}

PassthroughTls::Chunk PassthroughTls::read_for_process(MutBytes out) {
  Chunk c;
  if (to_process_.empty()) return c;
  RecordQueue::Record r = to_process_.front();
  c.level = static_cast<EncryptionLevel>(r.head[0]);
  c.len = r.body.size() < out.size() ? r.body.size() : out.size();
  copy_bytes(out.data(), r.body.data(), c.len);
  to_process_.take(c.len);
  return c;
}

Status PassthroughTls::push_peer_transport_params(Bytes ext) {
  if (peer_params_pushed_) return Status(ErrorCode::kInvalidArgument, "peer transport parameters already set");
  if (ext.size() > kMaxTransportParams) return Status(ErrorCode::kInvalidArgument, "transport parameters too long");
  const uint8_t head[1] = {kPeerParams};
  QB_TRY(from_process_.push(Bytes(head), ext));
  peer_params_pushed_ = true;
  return Status::ok();
}

Status PassthroughTls::push_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret) {
  if (level == EncryptionLevel::kInitial) return Status(ErrorCode::kInvalidArgument, "Initial secrets are not TLS's");
  if (secret.size() != hash_len(suite_hash(suite))) return Status(ErrorCode::kInvalidArgument, "secret size");
  const uint16_t s = static_cast<uint16_t>(suite);
  const uint8_t head[5] = {kSecret, static_cast<uint8_t>(level), static_cast<uint8_t>(dir),
                           static_cast<uint8_t>(s >> 8), static_cast<uint8_t>(s)};
  return from_process_.push(Bytes(head), secret);
}

Status PassthroughTls::push_crypto_data(EncryptionLevel level, Bytes data) {
  if (!carries_crypto_data(level)) return Status(ErrorCode::kInvalidArgument, "no CRYPTO data at 0-RTT");
  if (data.empty()) return Status::ok();
  if (server_ && level == EncryptionLevel::kHandshake) ee_.feed(data);
  const uint8_t head[2] = {kCryptoData, static_cast<uint8_t>(level)};
  return from_process_.push(Bytes(head), data);
}

Status PassthroughTls::set_alpn(Bytes alpn) {
  if (alpn.empty() || alpn.size() > kMaxAlpn) return Status(ErrorCode::kInvalidArgument, "ALPN length");
  copy_bytes(alpn_, alpn.data(), alpn.size());
  alpn_len_ = alpn.size();
  return Status::ok();
}

Status PassthroughTls::deliver(const RecordQueue::Record& r, TlsCallbacks& cb) {
  switch (r.head[0]) {
    case kPeerParams:
      peer_params_delivered_ = true;
      return cb.on_tls_peer_transport_params(r.body);
    case kCryptoData: {
      const auto level = static_cast<EncryptionLevel>(r.head[1]);
      if (level == EncryptionLevel::kInitial) hello_delivered_ = true;
      QB_TRY(cb.on_tls_crypto_data(level, r.body));
      if (level != EncryptionLevel::kHandshake) return Status::ok();
      own_finished_.feed(r.body);
      return own_finished_.finished() ? deliver_app_write(cb) : Status::ok();
    }
    case kSecret: {
      const auto level = static_cast<EncryptionLevel>(r.head[1]);
      const auto dir = static_cast<KeyDirection>(r.head[2]);
      const auto suite = static_cast<CipherSuite>(uint16_t{r.head[3]} << 8 | r.head[4]);
      if (level == EncryptionLevel::kApplication && dir == KeyDirection::kWrite) {
        if (app_secret_[1] || held_write_len_) {
          return tls_alert_status(TlsAlert::kInternalError, "second 1-RTT write secret");
        }
        copy_bytes(held_write_, r.body.data(), r.body.size());
        held_write_len_ = r.body.size();
        held_suite_ = suite;
        return own_finished_.finished() ? deliver_app_write(cb) : Status::ok();
      }
      if (level == EncryptionLevel::kApplication) app_secret_[0] = true;
      if (level == EncryptionLevel::kEarlyData) early_secret_ = true;
      return cb.on_tls_secret(level, dir, suite, r.body);
    }
  }
  return tls_alert_status(TlsAlert::kInternalError, "unknown hand-down");
}

Status PassthroughTls::deliver_app_write(TlsCallbacks& cb) {
  if (!held_write_len_) return Status::ok();
  app_secret_[1] = true;
  Status s = cb.on_tls_secret(EncryptionLevel::kApplication, KeyDirection::kWrite, held_suite_,
                              Bytes(held_write_, held_write_len_));
  wipe(held_write_, held_write_len_);
  held_write_len_ = 0;
  return s;
}

EarlyDataState PassthroughTls::early_data_state() const {
  if (server_) return ee_.done() && ee_.early_data() ? EarlyDataState::kAccepted : EarlyDataState::kNone;
  if (!early_secret_) return EarlyDataState::kNone;
  if (!ee_.done()) return EarlyDataState::kAttempted;
  return ee_.early_data() ? EarlyDataState::kAccepted : EarlyDataState::kRejected;
}

void PassthroughTls::fail(uint8_t alert, Bytes reason) {
  if (!failed_.is_ok() || complete_) return;
  const size_t n = reason.size() < kMaxFailReason ? reason.size() : kMaxFailReason;
  copy_bytes(reinterpret_cast<uint8_t*>(fail_reason_), reason.data(), n);
  fail_reason_[n] = 0;
  failed_ = Status::crypto_alert(alert, fail_reason_);
}

Status PassthroughTls::advance(TlsCallbacks& cb) {
  if (!failed_.is_ok()) return failed_;
  while (!from_process_.empty()) {
    RecordQueue::Record r = from_process_.front();
    Status s = deliver(r, cb);
    // A secret's bytes are not kept once handed over.
    if (r.head[0] == kSecret) wipe(const_cast<uint8_t*>(r.body.data()), r.body.size());
    from_process_.take(r.body.size());
    if (!s.is_ok()) {
      failed_ = s;
      return s;
    }
  }
  if (!complete_ && app_secret_[0] && app_secret_[1]) {
    // RFC 9001 §8.2: no handshake completes without the peer's parameters.
    if (!peer_params_delivered_) {
      failed_ = tls_alert_status(TlsAlert::kMissingExtension, "no quic_transport_parameters");
      return failed_;
    }
    complete_ = true;
    Status s = cb.on_tls_handshake_complete();
    if (!s.is_ok()) failed_ = s;
    return s;
  }
  return Status::ok();
}

}  // namespace quicbed::kmod
