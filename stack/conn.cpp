// Connection life cycle: set-up, the TLS handshake's callbacks, key
// discarding, timers and closing. Receiving is in conn_recv.cpp, sending in
// conn_send.cpp.
#include "conn.h"

#include "base/fixed_point.h"
#include "cc/window.h"

namespace quicbed {
namespace {

template <typename T>
T& host(T* p) {
  QB_ASSERT(p != nullptr);
  return *p;
}

constexpr uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

constexpr uint64_t kMsToUs = 1000;

// A reason phrase for CONNECTION_CLOSE (§19.19): our reasons are short
// static strings; the bound keeps a runaway one out of the packet.
Bytes reason_bytes(const char* s) {
  constexpr size_t kMaxReason = 64;
  size_t n = 0;
  while (n < kMaxReason && s[n] != '\0') ++n;
  return Bytes(reinterpret_cast<const uint8_t*>(s), n);
}

// Our stream limits and windows come from our transport parameters
// (RFC 9000 §18.2); the bounds from the configuration.
StreamManagerConfig stream_config(const ConnectionConfig& c) {
  StreamManagerConfig s;
  s.stream.recv_window_bidi_local = c.params.initial_max_stream_data_bidi_local;
  s.stream.recv_window_bidi_remote = c.params.initial_max_stream_data_bidi_remote;
  s.stream.recv_window_uni = c.params.initial_max_stream_data_uni;
  s.stream.max_recv_window = c.max_stream_window;
  s.stream.max_send_buffer = c.stream_send_buffer;
  s.max_streams_bidi = c.params.initial_max_streams_bidi;
  s.max_streams_uni = c.params.initial_max_streams_uni;
  s.max_local_streams = c.max_local_streams;
  return s;
}

}  // namespace

Connection::Connection(const ConnectionConfig& c)
    : alloc_(host(c.alloc)),
      crypto_(host(c.crypto_backend)),
      tls_(host(c.tls)),
      events_(host(c.events)),
      random_(host(c.random)),
      tracer_(c.tracer),
      reset_key_(c.reset_key),
      role_(c.role),
      version_(c.version),
      local_params_(c.params),
      cid_len_(c.cid_len),
      // RFC 9000 §14.3: a path MTU search starts from the 1200 bytes every
      // QUIC path carries.
      max_datagram_size_(c.pmtud ? Pmtud::kBasePlpmtu : c.max_datagram_size),
      initial_window_packets_(c.initial_window_packets),
      pacing_(c.pacing),
      ecn_(c.ecn),
      pmtud_(c.pmtud, c.max_datagram_size, c.pmtu_raise_interval_us),
      // Out-of-range values are clamped here and refused by init().
      cc_(c.cc, clamp_u64(max_datagram_size_, kMinInitialDatagram, kMaxCcDatagramSize),
          clamp_u64(c.initial_window_packets, kMinInitialWindowPackets, kMaxInitialWindowPackets)),
      recovery_(alloc_, cc_.get(), *this,
                RecoveryConfig{c.role == Role::kServer, kDefaultMaxAckDelayUs, c.max_outstanding_packets}),
      // RFC 9002 §7.7: "Senders SHOULD limit bursts to the initial
      // congestion window".
      pacer_(clamp_u64(c.initial_window_packets, kMinInitialWindowPackets, kMaxInitialWindowPackets) *
             clamp_u64(c.max_datagram_size, kMinInitialDatagram, kMaxCcDatagramSize)),
      left_cc_(c.cc, clamp_u64(max_datagram_size_, kMinInitialDatagram, kMaxCcDatagramSize),
               clamp_u64(c.initial_window_packets, kMinInitialWindowPackets, kMaxInitialWindowPackets)),
      left_ecn_(c.ecn),
      left_pmtud_(c.pmtud, c.max_datagram_size, c.pmtu_raise_interval_us),
      spaces_{PacketNumberSpace(alloc_, PnSpace::kInitial, c.crypto),
              PacketNumberSpace(alloc_, PnSpace::kHandshake, c.crypto),
              PacketNumberSpace(alloc_, PnSpace::kApplication, c.crypto)},
      peer_cids_(clamp_u64(c.params.active_connection_id_limit, 2, kMaxActiveCids)),
      streams_(alloc_, c.role, stream_config(c)),
      conn_recv_(c.params.initial_max_data, c.max_connection_window),
      datagrams_(alloc_, c.datagram_queue_count, c.datagram_queue_bytes),
      original_version_(c.version),
      vn_original_version_(c.vn_original_version),
      // RFC 9000 §8.1: only servers validate addresses before sending,
      // unless a token did it already (§8.1.2, §8.1.3).
      address_validated_(c.role == Role::kClient || c.address_validated),
      retried_(c.role == Role::kServer && c.retried),
      retry_original_dcid_(c.retry_original_dcid),
      grease_tp_(c.grease_transport_parameter),
      traced_ecn_state_(ecn_.state()),
      traced_mtu_(max_datagram_size_),
      traced_pmtud_state_(pmtud_.state()) {
  local_params_.active_connection_id_limit = peer_cids_.limit();
  aead_limit_cap_ = c.aead_limit_cap;
  aead_limits_ = capped_aead_limits(kInitialSuite);
  const std::span<const uint32_t> versions = version_span(c.versions);
  versions_[0] = c.version;  // an empty list: the version alone
  bool listed = false;
  for (size_t i = 0; i < versions.size(); ++i) {
    versions_[i] = versions[i];
    listed |= versions[i] == c.version;
  }
  // RFC 9368 §3: the Chosen Version is among the Available Versions; one
  // left out of the list goes last (least preferred).
  if (!listed && versions.size() < kMaxVersions) versions_[versions.size()] = c.version;
  if (c.token.size() <= kMaxTokenLen && c.role == Role::kClient) {
    copy_bytes(token_, c.token.data(), c.token.size());
    token_len_ = c.token.size();
  }
  paths_.start(c.path);
  if (c.zero_rtt_params && c.role == Role::kClient) {
    zero_rtt_params_ = remembered_for_zero_rtt(*c.zero_rtt_params);
    has_zero_rtt_params_ = true;
  }
}

Connection::~Connection() { drop_buffered(); }

Status Connection::init(uint64_t now) {
  if (initialized_) return Status(ErrorCode::kInvalidArgument, "connection already initialized");
  vc_ = version_crypto(version_);
  if (!vc_) return Status(ErrorCode::kInvalidArgument, "unsupported QUIC version");
  if (cid_len_ > kMaxCidLen) return Status(ErrorCode::kInvalidArgument, "connection ID too long");
  // With DPLPMTUD the configured size is the search's upper bound.
  if (max_datagram_size_ < kMinInitialDatagram || max_datagram_size_ > kMaxCcDatagramSize ||
      pmtud_.upper_bound() < kMinInitialDatagram || pmtud_.upper_bound() > kMaxCcDatagramSize) {
    return Status(ErrorCode::kInvalidArgument, "max_datagram_size out of range");
  }
  if (initial_window_packets_ < kMinInitialWindowPackets || initial_window_packets_ > kMaxInitialWindowPackets) {
    return Status(ErrorCode::kInvalidArgument, "initial_window_packets out of range");
  }
  if (local_params_.max_idle_timeout > kVarintMax / kMsToUs) {
    return Status(ErrorCode::kInvalidArgument, "max_idle_timeout out of range");
  }
  if (local_params_.max_ack_delay >= (1u << 14)) return Status(ErrorCode::kInvalidArgument, "max_ack_delay too large");
  for (uint32_t v : version_span(versions_)) {
    if (!is_supported_version(v)) return Status(ErrorCode::kInvalidArgument, "unsupported QUIC version in the list");
  }
  QB_TRY(streams_.init());
  initialized_ = true;
  now_ = now;
  last_activity_ = now;
  idle_timeout_us_ = local_params_.max_idle_timeout * kMsToUs;
  if (is_server()) return Status::ok();  // waits for the client's first Initial

  // RFC 9000 §7.2: an unpredictable Destination Connection ID of at least
  // 8 bytes, until the server picks its own.
  original_dcid_.len = 8;
  random_.fill(MutBytes(original_dcid_.bytes, original_dcid_.len));
  local_scid_.len = static_cast<uint8_t>(cid_len_);
  random_.fill(MutBytes(local_scid_.bytes, local_scid_.len));
  local_cids_.start(local_scid_);
  peer_cids_.start(original_dcid_);
  initial_dcid_ = original_dcid_;
  QB_TRY(derive_initial_keys(original_dcid_.view()));
  QB_TRY(send_transport_params());
  trace_start();
  if (local_scid_.len) events_.on_cid_issued(local_scid_);
  return tls_.advance(*this);  // the ClientHello
}

Status Connection::derive_initial_keys(Bytes client_dcid) {
  QB_ASSIGN_OR_RETURN(InitialSecrets secrets, derive_initial_secrets(crypto_, *vc_, client_dcid));
  PacketNumberSpace& s = sp(PnSpace::kInitial);
  const Secret& ours = is_server() ? secrets.server : secrets.client;
  const Secret& theirs = is_server() ? secrets.client : secrets.server;
  QB_TRY(s.write.init(crypto_, kInitialSuite, *vc_, ours.bytes()));
  return s.read.init(crypto_, kInitialSuite, *vc_, theirs.bytes());
}

Status Connection::send_transport_params() {
  // local_params_ becomes what we send. RFC 9000 §7.3: the connection IDs
  // of the handshake, authenticated by TLS.
  TransportParameters& tp = local_params_;
  tp.has_initial_source_connection_id = true;
  tp.initial_source_connection_id = local_scid_;
  if (is_server()) {
    tp.has_original_destination_connection_id = true;
    tp.original_destination_connection_id = original_dcid_;
    // §7.3: after a Retry, also the CID the Retry told the client to use.
    tp.has_retry_source_connection_id = retried_;
    if (retried_) tp.retry_source_connection_id = retry_scid_;
    // §10.3: the token for the CID of sequence 0.
    tp.has_stateless_reset_token = true;
    QB_TRY(make_reset_token(local_scid_, tp.stateless_reset_token));
    // §9.6, §5.1.1: the preferred address's CID is sequence 1, with its
    // stateless reset token in the parameter.
    if (tp.has_preferred_address) {
      ConnectionId& cid = tp.preferred_address.connection_id;
      do {
        cid.len = static_cast<uint8_t>(cid_len_ ? cid_len_ : 8);
        random_.fill(MutBytes(cid.bytes, cid.len));
      } while (cid == local_scid_ || cid == original_dcid_);
      QB_TRY(make_reset_token(cid, tp.preferred_address.stateless_reset_token));
      QB_TRY(local_cids_.issue_preferred_address(cid, Bytes(tp.preferred_address.stateless_reset_token,
                                                            kStatelessResetTokenLen)).status());
    }
  }
  fill_version_information();
  // §18.1: a reserved parameter, its number and content unpredictable.
  uint8_t grease_bytes[9];
  random_.fill(MutBytes(grease_bytes));
  GreaseTransportParameter grease;
  grease.n = grease_bytes[0] % 64 + 1;
  grease.value = Bytes(grease_bytes + 1, grease_bytes[0] % 9);
  uint8_t buf[512];
  Writer w{MutBytes(buf)};
  QB_TRY(tp.serialize(w, role_, grease_tp_ ? &grease : nullptr));
  return tls_.set_local_transport_params(w.written());
}

Status Connection::make_reset_token(const ConnectionId& cid, uint8_t* token) {
  MutBytes out(token, kStatelessResetTokenLen);
  if (reset_key_) return derive_reset_token(crypto_, Bytes(reset_key_, kResetKeyLen), cid.view(), out);
  // §10.3.2: without a key, unpredictable; then only this connection knows it.
  random_.fill(out);
  return Status::ok();
}

Status Connection::issue_cids() {
  // A host Random that repeats itself must not loop forever: a collision
  // costs one try, and there are few.
  for (size_t tries = 0; local_cids_.issue_budget() > 0 && tries < 2 * kMaxActiveCids; ++tries) {
    ConnectionId cid;
    cid.len = static_cast<uint8_t>(cid_len_);
    random_.fill(MutBytes(cid.bytes, cid.len));
    if (local_cids_.find(cid.view()) || bytes_equal(cid.view(), original_dcid_.view())) continue;
    uint8_t token[kStatelessResetTokenLen];
    QB_TRY(make_reset_token(cid, token));
    QB_TRY(local_cids_.issue(cid, Bytes(token, sizeof token)).status());
    events_.on_cid_issued(cid);
  }
  return Status::ok();
}

// ---- TlsCallbacks ----------------------------------------------------------

Status Connection::on_tls_crypto_data(EncryptionLevel level, Bytes data) {
  PacketNumberSpace& s = sp(pn_space_of(level));
  if (!carries_crypto_data(level) || s.discarded()) {
    return Status(ErrorCode::kInternalError, "TLS data for a level without CRYPTO frames");
  }
  QB_ASSIGN_OR_RETURN(size_t n, s.crypto_out.write(data));
  if (n != data.size()) return Status(ErrorCode::kLimitExceeded, "CRYPTO send buffer full");
  return Status::ok();
}

Status Connection::on_tls_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret) {
  if (level == EncryptionLevel::kEarlyData) return on_zero_rtt_secret(dir, suite, secret);
  PacketNumberSpace& s = sp(pn_space_of(level));
  if (s.discarded()) return Status(ErrorCode::kInternalError, "secret for a discarded level");
  PacketProtection& keys = dir == KeyDirection::kRead ? s.read : s.write;
  QB_TRY(keys.init(crypto_, suite, *vc_, secret));
  trace_key(dir == KeyDirection::kWrite, level, 0, KeyTrigger::kTls, false);
  // RFC 9001 §6.6: the limits are those of the suite TLS negotiated.
  if (level != EncryptionLevel::kInitial) aead_limits_ = capped_aead_limits(suite);
  if (level == EncryptionLevel::kApplication && dir == KeyDirection::kRead) QB_TRY(s.prepare_next_read());
  // RFC 9001 §4.9.3: a client sends no 0-RTT once it has 1-RTT keys.
  if (level == EncryptionLevel::kApplication && dir == KeyDirection::kWrite && !is_server()) discard_zero_rtt_keys();
  // RFC 9002 §6.2.2.1: the client's anti-deadlock probe moves to Handshake.
  if (level == EncryptionLevel::kHandshake && dir == KeyDirection::kWrite) {
    recovery_.on_handshake_keys_available(now_);
  }
  return Status::ok();
}

Status Connection::on_tls_peer_transport_params(Bytes ext) {
  const Role peer = is_server() ? Role::kClient : Role::kServer;
  QB_ASSIGN_OR_RETURN(TransportParameters tp, TransportParameters::parse(ext, peer));
  QB_TRY(check_peer_cids(tp));
  QB_TRY(negotiate_version(tp));
  if (tp.has_stateless_reset_token) {
    QB_TRY(peer_cids_.set_initial_reset_token(Bytes(tp.stateless_reset_token, kStatelessResetTokenLen)));
  }
  // §9.6: the preferred address's CID is the server's sequence 1.
  if (tp.has_preferred_address) {
    QB_TRY(peer_cids_.add_preferred_address(tp.preferred_address.connection_id,
                                            Bytes(tp.preferred_address.stateless_reset_token, kStatelessResetTokenLen)));
  }
  local_cids_.set_peer_limit(tp.active_connection_id_limit);
  streams_.set_peer_params(tp);
  (void)conn_send_.on_max(tp.initial_max_data);
  recovery_.set_peer_max_ack_delay(tp.max_ack_delay * kMsToUs);
  peer_ack_delay_exponent_ = tp.ack_delay_exponent;
  // §14: never send more than the peer said it can receive.
  // (With DPLPMTUD we are at 1200, which every peer takes, §18.2.)
  if (tp.max_udp_payload_size < max_datagram_size_) {
    max_datagram_size_ = max_u64(tp.max_udp_payload_size, kMinInitialDatagram);
    cc_->set_max_datagram_size(max_datagram_size_);  // RFC 9002 §7.2
  }
  // §10.1: the smaller of the two non-zero max_idle_timeout values.
  const uint64_t peer_idle = min_u64(tp.max_idle_timeout, kVarintMax / kMsToUs) * kMsToUs;
  if (peer_idle && (!idle_timeout_us_ || peer_idle < idle_timeout_us_)) idle_timeout_us_ = peer_idle;
  peer_params_ = tp;
  has_peer_params_ = true;
  if (tracer_) tracer_->parameters_set(now_, TraceOwner::kRemote, tp);
  // The EncryptedExtensions carrying these also say whether the server
  // took our 0-RTT (RFC 9001 §4.6.2).
  return update_early_data(&peer_params_);
}

Status Connection::check_peer_cids(const TransportParameters& tp) const {
  // RFC 9000 §7.3: a mismatch with the connection IDs the Initial packets
  // carried is a TRANSPORT_PARAMETER_ERROR (or PROTOCOL_VIOLATION).
  if (!(tp.initial_source_connection_id == peer_initial_scid_)) {
    return Status(ErrorCode::kTransportParameterError, "initial_source_connection_id mismatch");
  }
  if (is_server()) return Status::ok();
  if (!(tp.original_destination_connection_id == original_dcid_)) {
    return Status(ErrorCode::kTransportParameterError, "original_destination_connection_id mismatch");
  }
  return check_retry_cids(tp);
}

Status Connection::on_tls_handshake_complete() {
  // Acted upon in after_packet(): TLS calls this from inside a CRYPTO frame
  // of a Handshake packet, whose space must not be discarded under it.
  tls_complete_ = true;
  return Status::ok();
}

void Connection::after_packet(uint64_t now) {
  if (closing_or_draining() || state_ == State::kClosed) return;
  // RFC 9001 §4.9.1: a server discards Initial keys once it has processed
  // a Handshake packet; the client's address is then validated too.
  if (is_server() && handshake_packet_received_) discard_space(PnSpace::kInitial, now);
  if (tls_complete_ && !handshake_complete_) {
    handshake_complete_ = true;
    state_ = State::kEstablished;
    trace_state(TraceConnectionState::kHandshakeComplete);
    // RFC 9001 §4.1.2: at the server, completion is confirmation, and the
    // client learns of it from HANDSHAKE_DONE (RFC 9000 §19.20).
    if (is_server()) {
      handshake_done_pending_ = true;
      confirm_handshake(now);
    }
    // RFC 9000 §5.1.1: the peer gets spare connection IDs in 1-RTT packets.
    Status s = issue_cids();
    if (s) s = update_early_data(nullptr);
    if (!s) {
      close_with_error(s, 0, now);
      return;
    }
    report_early_data();
    events_.on_handshake_complete();
  }
}

void Connection::confirm_handshake(uint64_t now) {
  if (handshake_confirmed_) return;
  handshake_confirmed_ = true;
  trace_state(TraceConnectionState::kHandshakeConfirmed);
  recovery_.on_handshake_confirmed(now);
  // RFC 9000 §14.3: probes are 1-RTT packets, within the peer's limit.
  if (has_peer_params_) pmtud_.start(peer_params_.max_udp_payload_size, now);
  // RFC 9001 §4.9.2: Handshake keys go once the handshake is confirmed
  // (a client that never sent a Handshake packet still holds Initial ones).
  discard_space(PnSpace::kInitial, now);
  discard_space(PnSpace::kHandshake, now);
}

void Connection::discard_space(PnSpace s, uint64_t now) {
  PacketNumberSpace& space = sp(s);
  if (space.discarded()) return;
  if (s == PnSpace::kInitial) {
    // The original version's Initial keys (RFC 9368 §2.3) go with the rest.
    original_initial_read_.header().reset();
    original_initial_read_.payload().reset();
  }
  recovery_.discard_space(s, now);
  if (space.read.ready()) trace_key(false, level_of(s), 0, KeyTrigger::kTls, true);
  if (space.write.ready()) trace_key(true, level_of(s), 0, KeyTrigger::kTls, true);
  space.discard();
}

void Connection::update_amplification(uint64_t now) {
  bool blocked = false;
  if (!address_validated_) {
    // §8.1: three times what was received, less what was sent. A budget
    // below one full datagram cannot carry a probe (§14.1 padding), so the
    // PTO waits for more bytes from the client (RFC 9002 §6.2.2.1).
    const uint64_t budget = sat_sub(mul_div(bytes_received_, kAmplificationFactor, 1), bytes_sent_);
    blocked = budget < kMinInitialDatagram;
  }
  if (blocked != amplification_blocked_) {
    amplification_blocked_ = blocked;
    recovery_.set_amplification_blocked(blocked, now);
  }
}

// ---- RecoveryEvents --------------------------------------------------------

void Connection::on_packet_acked(const SentPacket& p) {
  if (p.mtu_probe) {
    pmtud_.on_probe_acked(p.bytes, now_);
    return;
  }
  pmtud_.on_packet_acked(p.bytes, p.time_sent);
  PacketNumberSpace& s = sp(p.space);
  for (const SentItem& it : p.items) {
    switch (it.kind) {
      case kItemAck:
        if (!s.discarded()) s.acks.on_ack_acked(it.offset);
        break;
      case kItemCrypto:
        if (!s.discarded()) s.crypto_out.on_acked(it.offset, it.length, false);
        break;
      case kItemHandshakeDone:
        handshake_done_acked_ = true;
        break;
      case kItemStream:
        on_stream_fate(it, true);
        break;
      case kItemControl:
        on_control_fate(it, true);
        break;
      case kItemNewConnectionId:
      case kItemNewToken:
        break;
      case kItemRetireConnectionId:
        peer_cids_.on_retire_connection_id_acked(it.offset);
        break;
    }
  }
}

void Connection::on_packet_lost(const SentPacket& p) {
  trace_lost(p);
  ecn_.on_packet_lost(p.ecn);
  if (p.mtu_probe) {
    // RFC 9000 §14.4: a probe's PING and PADDING are not repeated.
    pmtud_.on_probe_lost(p.bytes, now_);
    return;
  }
  pmtud_.on_packet_lost(p.bytes, p.time_sent, now_);
  requeue_items(p);
}

void Connection::requeue_items(const SentPacket& p) {
  PacketNumberSpace& s = sp(p.space);
  for (const SentItem& it : p.items) {
    switch (it.kind) {
      case kItemAck:  // a later ACK covers it (§13.3)
        break;
      case kItemCrypto:
        if (!s.discarded()) s.crypto_out.on_lost(it.offset, it.length, false);
        break;
      case kItemHandshakeDone:  // §13.3: repeated until acknowledged
        handshake_done_pending_ = true;
        break;
      case kItemStream:
        on_stream_fate(it, false);
        break;
      case kItemControl:
        on_control_fate(it, false);
        break;
      case kItemNewConnectionId:  // §13.3: sent again, unless retired meanwhile
        local_cids_.on_new_connection_id_lost(it.offset);
        break;
      case kItemRetireConnectionId:
        peer_cids_.on_retire_connection_id_lost(it.offset);
        break;
      case kItemNewToken:  // §13.3: sent again until acknowledged
        new_token_pending_ = true;
        break;
    }
  }
}

void Connection::on_packet_discarded(const SentPacket& p) {
  // Its space is gone, and with it everything the packet carried.
  ecn_.on_packet_discarded(p.ecn);
  // Application: 0-RTT was rejected (RFC 9001 §4.6.2), so what the packet
  // carried goes again in 1-RTT.
  if (p.space == PnSpace::kApplication) requeue_items(p);
}

void Connection::on_stream_fate(const SentItem& it, bool acked) {
  Stream* s = streams_.find(it.id);
  if (!s) return;  // closed meanwhile: nothing left to do for it
  const bool fin = it.flags != 0;
  if (!acked) {
    s->on_stream_lost(it.offset, it.length, fin);
    return;
  }
  const SendState before = s->send_state();
  s->on_stream_acked(it.offset, it.length, fin);
  report_send_state(*s, before);
  streams_.release_if_closed(s);
}

Frame Connection::control_frame(const SentItem& it) {
  // The error codes of RESET_STREAM and STOP_SENDING are not kept: the
  // stream knows them, and a loss repeats the stream's current frame.
  Frame f;
  f.type = static_cast<FrameType>(it.flags);
  switch (f.type) {
    case FrameType::kMaxData:
      f.max_data.maximum = it.offset;
      break;
    case FrameType::kDataBlocked:
      f.data_blocked.limit = it.offset;
      break;
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
      f.max_streams.maximum = it.offset;
      break;
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      f.streams_blocked.limit = it.offset;
      break;
    case FrameType::kMaxStreamData:
      f.max_stream_data = {it.id, it.offset};
      break;
    case FrameType::kStreamDataBlocked:
      f.stream_data_blocked = {it.id, it.offset};
      break;
    case FrameType::kResetStream:
      f.reset_stream = {it.id, 0, it.offset};
      break;
    case FrameType::kStopSending:
      f.stop_sending = {it.id, 0};
      break;
    default:
      QB_ASSERT(false);
      break;
  }
  return f;
}

void Connection::on_control_fate(const SentItem& it, bool acked) {
  // §13.3 decides, per frame type, what a loss repeats; flow control's
  // objects know which value is still current.
  const Frame f = control_frame(it);
  switch (f.type) {
    case FrameType::kMaxData:
      if (!acked) conn_recv_.on_update_lost(it.offset);
      return;
    case FrameType::kDataBlocked:
      if (!acked) conn_send_.on_blocked_lost(it.offset);
      return;
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      if (!acked) streams_.on_control_lost(f);
      return;
    default:
      break;
  }
  Stream* s = streams_.find(it.id);
  if (!s) return;
  if (!acked) {
    s->on_control_lost(f);
    return;
  }
  const SendState before = s->send_state();
  s->on_control_acked(f);
  report_send_state(*s, before);
  streams_.release_if_closed(s);
}

// ---- Streams ---------------------------------------------------------------

bool Connection::streams_usable() const {
  if (state_ == State::kEstablished) return true;
  if (state_ != State::kHandshake) return false;
  // A client attempting 0-RTT may use its streams before the handshake
  // completes (RFC 9001 §4.6.1); data waits for keys if 0-RTT is refused.
  if (!is_server()) return early_state_ != EarlyDataState::kNone;
  // A server has its 1-RTT write keys once it sent its Finished, a round
  // trip before the client's Finished completes the handshake: what it
  // writes then goes at once in 1-RTT packets (RFC 9001 §4.1.1; the server's
  // first flight in RFC 9000 §7.1's examples carries 1-RTT STREAM frames),
  // e.g. the answer to a 0-RTT request.
  // Its 1-RTT read keys stay unused until completion (RFC 9001 §5.7), and
  // the client is not authenticated yet: that is the application's call.
  return spaces_[idx(PnSpace::kApplication)].can_send();
}

Result<uint64_t> Connection::open_stream(StreamDir dir) {
  if (!streams_usable()) return Status(ErrorCode::kInvalidArgument, "connection not established");
  QB_ASSIGN_OR_RETURN(Stream* s, streams_.open(dir));
  return s->id();
}

Result<size_t> Connection::stream_write(uint64_t id, Bytes data, bool fin) {
  if (!streams_usable()) return Status(ErrorCode::kInvalidArgument, "connection not established");
  Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  QB_ASSIGN_OR_RETURN(size_t n, s->write(data));
  if (fin && n == data.size()) QB_TRY(s->finish());
  return n;
}

Result<Stream::ReadResult> Connection::stream_read(uint64_t id, MutBytes out) {
  Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  if (s->recv_state() == RecvState::kResetRecvd || s->recv_state() == RecvState::kResetRead) {
    s->mark_reset_read();
    streams_.release_if_closed(s);
    return Status(ErrorCode::kStreamStateError, "stream reset by the peer");
  }
  QB_ASSIGN_OR_RETURN(Stream::ReadResult r, s->read(out, conn_recv_));
  streams_.release_if_closed(s);
  return r;
}

Result<MutBytes> Connection::stream_write_space(uint64_t id) {
  if (!streams_usable()) return Status(ErrorCode::kInvalidArgument, "connection not established");
  Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  return s->write_space();
}

Status Connection::stream_commit(uint64_t id, size_t n, bool fin) {
  Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  s->commit(n);
  return fin ? s->finish() : Status::ok();
}

Result<Bytes> Connection::stream_peek(uint64_t id) const {
  const Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  return s->peek();
}

Result<Stream::ReadResult> Connection::stream_consume(uint64_t id, size_t n) {
  Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  QB_ASSIGN_OR_RETURN(Stream::ReadResult r, s->consume(n, conn_recv_));
  streams_.release_if_closed(s);
  return r;
}

Status Connection::stream_reset(uint64_t id, uint64_t app_error) {
  Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  return s->reset(app_error);
}

Status Connection::stream_stop_sending(uint64_t id, uint64_t app_error) {
  Stream* s = streams_.find(id);
  if (!s) return Status(ErrorCode::kInvalidArgument, "no such stream");
  return s->stop_sending(app_error);
}

Status Connection::datagram_send(Bytes data) {
  if (state_ != State::kEstablished) return Status(ErrorCode::kInvalidArgument, "connection not established");
  // RFC 9221 §4: the type byte and the Length field count in the frame.
  if (1 + varint_size(data.size()) + data.size() > datagram_frame_limit()) {
    return Status(ErrorCode::kLimitExceeded, "datagram too large for the peer");
  }
  return datagrams_.push(data);
}

uint64_t Connection::datagram_frame_limit() const {
  if (!has_peer_params_) return 0;
  // One 1-RTT packet of its own: a short header with the longest packet
  // number (RFC 9000 §17.3.1) and the AEAD tag around the frame.
  const PeerCid* dst = peer_cids_.current();
  const uint64_t overhead = 1 + (dst ? dst->cid.len : kMaxCidLen) + 4 + kAeadTagLen;
  return min_u64(peer_params_.max_datagram_frame_size, sat_sub(max_datagram_size_, overhead));
}

size_t Connection::max_datagram_payload() const {
  const uint64_t limit = datagram_frame_limit();
  if (limit < 2) return 0;
  uint64_t payload = limit - 2;
  while (payload && 1 + varint_size(payload) + payload > limit) --payload;
  return static_cast<size_t>(payload);
}

Status Connection::change_peer_cid() {
  if (!handshake_confirmed_ || state_ != State::kEstablished) {
    return Status(ErrorCode::kInvalidArgument, "handshake not confirmed");
  }
  const PeerCid* current = peer_cids_.current();
  if (!current || peer_cids_.unused_count() == 0 ||
      peer_cids_.pending_retirements() >= PeerCids::kMaxPendingRetirements) {
    return Status(ErrorCode::kLimitExceeded, "no spare connection ID");
  }
  const uint64_t old = current->sequence;
  QB_TRY(peer_cids_.switch_to_unused());
  return peer_cids_.retire(old);
}

Status Connection::use_peer_cid(uint64_t sequence) {
  if (!handshake_confirmed_ || state_ != State::kEstablished) {
    return Status(ErrorCode::kInvalidArgument, "handshake not confirmed");
  }
  if (!peer_cids_.find(sequence)) return Status(ErrorCode::kInvalidArgument, "not an active CID of the peer");
  size_t below = 0;
  for (size_t j = 0; j < paths_.size(); ++j) {
    const PathInfo& p = paths_[j];
    if (j != paths_.active_index() && p.has_cid && p.cid_sequence == sequence) {
      return Status(ErrorCode::kInvalidArgument, "CID in use on another path");
    }
  }
  for (const PeerCid& c : peer_cids_.cids()) below += c.sequence < sequence;
  if (peer_cids_.pending_retirements() + below > PeerCids::kMaxPendingRetirements) {
    return Status(ErrorCode::kLimitExceeded, "RETIRE_CONNECTION_ID queue full");
  }
  // §9.5: a path whose CID goes is left (its CID is not moved elsewhere).
  for (size_t j = paths_.size(); j-- > 0;) {
    const PathInfo& p = paths_[j];
    if (j != paths_.active_index() && p.has_cid && p.cid_sequence < sequence) drop_path(j);
  }
  QB_TRY(peer_cids_.make_current(sequence));
  paths_.active().has_cid = false;
  uint64_t old[kMaxActiveCids];
  size_t n = 0;
  for (const PeerCid& c : peer_cids_.cids()) {
    if (c.sequence < sequence) old[n++] = c.sequence;
  }
  for (size_t i = 0; i < n; ++i) QB_TRY(peer_cids_.retire(old[i]));
  return Status::ok();
}

Status Connection::retire_local_cids(uint64_t prior_to) {
  if (!handshake_confirmed_ || state_ != State::kEstablished) {
    return Status(ErrorCode::kInvalidArgument, "handshake not confirmed");
  }
  QB_TRY(local_cids_.retire_prior_to(prior_to));
  return issue_cids();
}

Result<uint64_t> Connection::stream_reset_code(uint64_t id) const {
  const Stream* s = streams_.find(id);
  if (!s || (s->recv_state() != RecvState::kResetRecvd && s->recv_state() != RecvState::kResetRead)) {
    return Status(ErrorCode::kInvalidArgument, "stream not reset by the peer");
  }
  return s->peer_reset_code();
}

// ---- Timers ----------------------------------------------------------------

uint64_t Connection::idle_deadline() const {
  if (!idle_timeout_us_) return kNever;
  // §10.1: at least three PTOs, so that probes get their chance first.
  const uint64_t period = max_u64(idle_timeout_us_, mul_div(recovery_.pto_period(), 3, 1));
  return sat_add(last_activity_, period);
}

uint64_t Connection::next_timeout() const {
  if (!initialized_ || state_ == State::kClosed) return kNever;
  if (closing_or_draining()) return close_deadline_;
  uint64_t t = min_u64(min_u64(recovery_.loss_detection_timer(), idle_deadline()), pmtud_.next_timeout());
  for (const PacketNumberSpace& s : spaces_) {
    // An ACK already due is write_datagram()'s business, not a timer's.
    const uint64_t d = s.can_send() ? s.acks.deadline() : kNever;
    if (d > now_) t = min_u64(t, d);
  }
  // Data held back by the pacer only (RFC 9002 §7.7) goes when it says.
  const PacketNumberSpace& app = spaces_[idx(PnSpace::kApplication)];
  if ((app.can_send() || sending_zero_rtt()) && recovery_.can_send(false) && recovery_.bytes_in_flight() < cc_->cwnd() &&
      (handshake_done_pending_ || new_token_pending_ || app_data_pending() || pmtud_.probe_size() != 0)) {
    const uint64_t paced = pacer_.next_send_time(now_, max_datagram_size_, pacing_rate());
    if (paced > now_) t = min_u64(t, paced);
  }
  // RFC 9001 §6.5: the previous phase's read key goes at its time.
  if (app.prev_read.ready()) t = min_u64(t, app.prev_read_discard_at);
  return min_u64(t, paths_.next_timeout(now_));  // §8.2: challenges and their deadlines
}

void Connection::on_timeout(uint64_t now) {
  if (!initialized_ || state_ == State::kClosed) return;
  now_ = now;
  if (closing_or_draining()) {
    // §10.2: after three PTOs the connection state goes.
    if (now >= close_deadline_) {
      state_ = State::kClosed;
      trace_state(TraceConnectionState::kClosed);
    }
    return;
  }
  if (now >= idle_deadline()) {
    // §10.1: silently closed, no CONNECTION_CLOSE.
    CloseInfo info;
    info.source = CloseInfo::Source::kIdleTimeout;
    state_ = State::kClosed;
    close_info_ = info;
    drop_buffered();
    trace_closed(info);
    trace_state(TraceConnectionState::kClosed);
    events_.on_connection_closed(info);
    return;
  }
  expire_prev_read_key(now);  // RFC 9001 §6.5
  on_path_timeout(now);  // §8.2.4
  if (state_ == State::kClosed) return;
  // RFC 8899 §5.1.1: the PMTU_RAISE_TIMER starts another search.
  pmtud_.on_timeout(now);
  if (recovery_.loss_detection_timer() > now) {
    trace_path();
    return;
  }
  const LossTimerAction a = recovery_.on_loss_detection_timeout(now);
  // RFC 8899 §4.3: probe timeouts in a row may be a black hole for the
  // PLPMTU's packets.
  if (a.kind == LossTimerAction::Kind::kProbe && !one_rtt_key_usable()) {
    on_key_exhausted(now);  // RFC 9001 §6.6
    return;
  }
  if (a.kind == LossTimerAction::Kind::kProbe) {
    pmtud_.on_pto(recovery_.pto_count(), now);
    ecn_.on_pto();  // RFC 9000 §13.4.2: testing lasts three PTOs at most
  }
  apply_plpmtu();
  trace_recovery();
  if (a.kind != LossTimerAction::Kind::kProbe) return;
  PacketNumberSpace& s = sp(a.space);
  if (!s.can_send()) return;
  // RFC 9002 §6.2.4: probes carry data still unacknowledged when there is
  // some, else a PING. During the handshake that is the CRYPTO data of
  // both handshake levels: coalesced, one probe datagram repairs the loss
  // of a whole flight.
  // The other level's packet is part of the probe: like it, not blocked
  // by the congestion controller (§6.2.4). Else a server whose Initial
  // packets were declared lost while its Handshake packets, which the
  // client cannot open without the ServerHello, fill the window, probes
  // Handshake for ever and never sends the ServerHello again.
  s.probes = a.probes;
  // RFC 9000 §13.3: HANDSHAKE_DONE is repeated until acknowledged, and a
  // probe repeats it before its loss is declared: until the client has it,
  // the client arms no PTO for its own 1-RTT data (RFC 9002 §6.2.1), so
  // with its requests lost too, only this frame restarts the exchange.
  if (s.id() == PnSpace::kApplication && is_server() && handshake_confirmed_ && !handshake_done_acked_) {
    handshake_done_pending_ = true;
  }
  for (PacketNumberSpace& other : spaces_) {
    if (&other == &s) {
      (void)other.requeue_crypto();
    } else if (other.id() != PnSpace::kApplication && other.can_send() && other.requeue_crypto()) {
      other.probes = other.probes > 0 ? other.probes : 1;
    }
  }
}

// ---- Closing ---------------------------------------------------------------

void Connection::close(uint64_t app_error, const char* reason, uint64_t now) {
  if (!initialized_ || closing_or_draining() || state_ == State::kClosed) return;
  now_ = now;
  CloseInfo info;
  info.application = true;
  info.error_code = app_error;
  close_reason_ = reason ? reason : "";
  info.reason = reason_bytes(close_reason_);
  enter_closed_state(State::kClosing, info, now);
}

void Connection::close_with_error(Status s, uint64_t frame_type, uint64_t now, State st) {
  if (closing_or_draining() || state_ == State::kClosed) return;
  CloseInfo info;
  info.error_code = s.wire_code();
  info.frame_type = frame_type;
  close_reason_ = s.reason();
  info.reason = reason_bytes(close_reason_);
  enter_closed_state(st, info, now);
}

void Connection::enter_closed_state(State st, const CloseInfo& info, uint64_t now) {
  state_ = st;
  close_info_ = info;
  drop_buffered();
  trace_closed(info);
  trace_state(st == State::kClosing ? TraceConnectionState::kClosing : TraceConnectionState::kDraining);
  // §10.2.1: a closing endpoint sends CONNECTION_CLOSE (again, in answer to
  // further packets); a draining one sends nothing (§10.2.2).
  close_frame_pending_ = st == State::kClosing;
  // §10.2: the state lasts at least three times the current PTO.
  close_deadline_ = sat_add(now, mul_div(recovery_.pto_period(), 3, 1));
  events_.on_connection_closed(info);
  // The peer's reason phrase lives in its packet, gone after this call.
  if (info.source == CloseInfo::Source::kPeer) close_info_.reason = Bytes();
}

}  // namespace quicbed
