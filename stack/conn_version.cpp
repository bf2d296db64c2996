// Versions at the connection: compatible version negotiation (RFC 9368
// §2.3) between version 1 and version 2 (RFC 9369), a client's answer to
// Version Negotiation (RFC 9000 §6.2, RFC 9368 §2.1), and the
// version_information checks that keep an attacker from downgrading
// either (RFC 9368 §4).
#include "conn.h"

namespace quicbed {

Status Connection::set_version(uint32_t v) {
  const VersionCrypto* vc = version_crypto(v);
  if (!vc) return Status(ErrorCode::kInternalError, "unsupported version");
  version_ = v;
  vc_ = vc;
  return derive_initial_keys(initial_dcid_.view());
}

PacketProtection& Connection::initial_read_keys(uint32_t version) {
  // A server that moved the client keeps opening the client's Initials of
  // the original version until the Initial keys go.
  if (is_server() && version != version_ && original_initial_read_.ready()) return original_initial_read_;
  return sp(PnSpace::kInitial).read;
}

Status Connection::accept_other_version(const PacketHeader& h) {
  if (h.type != PacketType::kInitial) return drop(DropReason::kUnexpectedVersion);
  if (is_server()) {
    // RFC 9368 §2.3: the client's Initials sent before it heard our choice.
    if (h.version == original_version_ && original_initial_read_.ready()) return Status::ok();
    return drop(DropReason::kUnexpectedVersion);
  }
  // RFC 9368 §2.3: the server answered our first flight in another version
  // it converts into; we follow if we listed it. handle_packet undoes the
  // switch if the packet does not authenticate under its keys.
  bool listed = false;
  for (uint32_t v : version_span(versions_)) listed |= v == h.version;
  if (peer_seen_ || !listed || !versions_compatible(version_, h.version)) {
    return drop(DropReason::kUnexpectedVersion);
  }
  return set_version(h.version);
}

void Connection::fill_version_information() {
  // RFC 9368 §3: the Chosen Version is the one in use; a client lists the
  // versions its first flight converts into, a server the versions it
  // speaks; both add a reserved one (§3: "MAY include versions following
  // the pattern 0x?a?a?a?a"), which peers must skip.
  TransportParameters::VersionInformation& vi = local_params_.version_information;
  local_params_.has_version_information = true;
  vi.chosen_version = version_;
  vi.available_versions.clear();
  vi.available_truncated = false;
  for (uint32_t v : version_span(versions_)) {
    if (is_server() || versions_compatible(version_, v)) (void)vi.available_versions.push_back(v);
  }
  uint32_t r = 0;
  random_.fill(MutBytes(reinterpret_cast<uint8_t*>(&r), sizeof r));
  (void)vi.available_versions.push_back(greased_version(r));
}

Status Connection::negotiate_version(const TransportParameters& tp) {
  const TransportParameters::VersionInformation& peer = tp.version_information;
  auto peer_available = std::span<const uint32_t>(peer.available_versions.begin(), peer.available_versions.size());
  if (tracer_) {
    const auto ours = version_span(versions_);
    const auto theirs = tp.has_version_information ? peer_available : std::span<const uint32_t>();
    tracer_->version_information(now_, is_server() ? ours : theirs, is_server() ? theirs : ours,
                                 tp.has_version_information ? peer.chosen_version : 0);
  }
  if (is_server()) {
    // RFC 9368 §4: "If the Version Information was missing, the endpoints
    // MAY complete the handshake": no negotiation then.
    if (!tp.has_version_information) return Status::ok();
    // RFC 9368 §4: the client's Chosen Version is the version of its
    // first flight; anything else was tampered with.
    if (peer.chosen_version != original_version_) {
      return Status(ErrorCode::kVersionNegotiationError, "client's chosen version is not its first flight's");
    }
    const uint32_t choice = compatible_version_choice(original_version_, version_span(versions_), peer_available);
    if (choice == version_) return Status::ok();
    // 0-RTT keys of the original version are in place already: the
    // client's 0-RTT packets stay in that version, which this stack does
    // not mix with another (RFC 9369 leaves 0-RTT across versions to the
    // versions' documents). Such a connection stays where it started.
    if (zero_rtt_keys_.ready()) return Status::ok();
    // RFC 9368 §2.3: we answer in `choice`. The client's Initials in the
    // original version stay readable; our Initials, Handshake and 1-RTT
    // packets (and their keys, RFC 9369 §3.3) are all `choice`'s. TLS has
    // not written its answer yet (this runs as the ClientHello is read),
    // so our transport parameters can still say so.
    original_initial_read_ = static_cast<PacketProtection&&>(sp(PnSpace::kInitial).read);
    QB_TRY(set_version(choice));
    return send_transport_params();
  }

  // Client. RFC 9368 §4: "if a client has reacted to a Version Negotiation
  // packet and the Version Information was missing, the client MUST close
  // the connection with a version negotiation error".
  if (!tp.has_version_information) {
    if (vn_original_version_ != 0) {
      return Status(ErrorCode::kVersionNegotiationError, "no version_information after Version Negotiation");
    }
    return Status::ok();
  }
  // The version in use is the server's Chosen Version; a long header
  // saying otherwise was forged (RFC 9368 §4).
  if (peer.chosen_version != version_) {
    return Status(ErrorCode::kVersionNegotiationError, "server's chosen version is not the one in use");
  }
  if (vn_original_version_ == 0) return Status::ok();
  // RFC 9368 §4: we acted on Version Negotiation, so the server's list
  // must lead us to the version we restarted in: had the Version
  // Negotiation packet listed its Available Versions plus the chosen one,
  // we would have picked the same. Otherwise a forged one steered us down.
  // The version we first attempted must not be among them either (it
  // was, per the packet, not supported).
  if (peer.available_truncated) {
    return Status(ErrorCode::kVersionNegotiationError, "server's available versions too many to check");
  }
  uint32_t listed[TransportParameters::VersionInformation::kMaxAvailable + 1];
  size_t n = 0;
  for (uint32_t v : peer_available) listed[n++] = v;
  listed[n++] = peer.chosen_version;
  const uint32_t would_pick = first_common_version(version_span(versions_), std::span<const uint32_t>(listed, n));
  if (would_pick != version_) {
    return Status(ErrorCode::kVersionNegotiationError, "version downgrade: the server supports a preferred version");
  }
  return Status::ok();
}

Status Connection::on_version_negotiation(const PacketHeader& h, uint64_t now) {
  // RFC 9000 §6.2: a client acts on Version Negotiation only before it
  // processed any other packet of the server, and (RFC 9368 §4) not in an
  // attempt that itself followed one. A server never receives one.
  if (is_server() || peer_seen_ || retry_received_ || vn_original_version_ != 0) {
    return drop(DropReason::kUnexpectedPacket);
  }
  // RFC 8999 §6: the packet echoes our connection IDs, swapped.
  if (!bytes_equal(h.dcid, local_scid_.view()) || !bytes_equal(h.scid, original_dcid_.view())) {
    return drop(DropReason::kUnknownConnectionId);
  }
  // RFC 9000 §6.2: one that lists the version we attempted is discarded
  // (RFC 9368 §4: the defence against a forged downgrade).
  if (h.versions.contains(version_)) return drop(DropReason::kUnexpectedVersion);
  if (tracer_) {
    TracedPacketHeader th = trace_header(h);
    trace_packet(false, th, h.packet_length, Bytes(), peer_ack_delay_exponent_);
  }
  // RFC 9368 §2.1: a version both speak, else the attempt is over.
  restart_version_ = first_common_version(version_span(versions_), h.versions);
  static constexpr char kRestart[] = "version negotiation: starting again in another version";
  static constexpr char kNoCommon[] = "version negotiation: no version in common";
  CloseInfo info;
  info.source = CloseInfo::Source::kLocal;
  info.error_code = static_cast<uint64_t>(ErrorCode::kVersionNegotiationError);
  close_reason_ = restart_version_ ? kRestart : kNoCommon;
  info.reason = Bytes(reinterpret_cast<const uint8_t*>(close_reason_),
                      restart_version_ ? sizeof kRestart - 1 : sizeof kNoCommon - 1);
  // Nothing is sent: the server keeps no state for this attempt.
  now_ = now;
  close_info_ = info;
  drop_buffered();
  state_ = State::kClosed;
  trace_closed(info);
  trace_state(TraceConnectionState::kClosed);
  events_.on_connection_closed(info);
  return Status::ok();
}

}  // namespace quicbed
