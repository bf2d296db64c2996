// Paths: path validation (RFC 9000 §8.2), the server's side of NAT
// rebinding and peer migration (§9.3), the client's active migration and
// preferred address (§9.2, §9.6), connection IDs per path (§9.5) and the
// congestion state of a new path (§9.4). The books of each path are in
// path.h; this file decides what the connection does with them.
#include "base/fixed_point.h"
#include "conn.h"
#include "conn_packet_draft.h"

namespace quicbed {
namespace {

// §8.2.4: at least six times kInitialRtt.
constexpr uint64_t kMinValidationTimeout = 6 * kInitialRttUs;
// The smallest budget worth a probe datagram: a short header, a path
// frame, the header protection minimum and the AEAD tag.
constexpr size_t kMinProbeDatagram = 64;
// Challenges back off like PTOs, up to this factor.
constexpr uint32_t kMaxChallengeBackoffShift = 3;

}  // namespace

uint64_t Connection::path_validation_timeout() const {
  // §8.2.4: three times the larger of the current PTO and the new path's
  // (which starts from kInitialRtt, RFC 9002 §6.2.2), and at least
  // 6 * kInitialRtt.
  return max_u64(mul_div(recovery_.pto_period(), 3, 1), kMinValidationTimeout);
}

// ---- Receiving -------------------------------------------------------------

Status Connection::check_packet_path(const PacketHeader& h) {
  const bool decided = rx_path_ != Paths::kNone && !rx_long_on_active_;
  if (decided || !rx_addr_ || h.form != HeaderForm::kShort) return Status::ok();
  // §9: "If a client receives packets from an unknown server address, the
  // client MUST discard these packets."
  if (!is_server()) return drop(DropReason::kUnexpectedPacket);
  // §9: an endpoint that sent disable_active_migration drops packets on a
  // new path, without a Stateless Reset, when the peer migrates on purpose
  // (a fresh connection ID, §9.5); a NAT rebinding keeps the CID and is
  // not the peer's doing.
  const PathInfo& a = paths_.active();
  if (local_params_.disable_active_migration && a.peer_dcid.len && !bytes_equal(h.dcid, a.peer_dcid.view())) {
    return drop(DropReason::kUnexpectedPacket);
  }
  return Status::ok();
}

void Connection::on_packet_path(const PacketHeader& h) {
  // A datagram from an unknown address whose long header packets counted
  // on the active path may end with a 1-RTT packet sent once they
  // confirmed the handshake (a client's Finished and its first request
  // after a NAT rebinding mid-handshake): that packet decides the
  // datagram's path (§9.3), or the server keeps answering an address the
  // NAT has forgotten while the client, unconfirmed, only repeats its
  // Handshake packets.
  if (rx_long_on_active_ && h.form == HeaderForm::kShort && handshake_confirmed_) {
    paths_.active().bytes_received -= rx_datagram_len_;
    rx_path_ = Paths::kNone;
    rx_long_on_active_ = false;
  }
  if (rx_path_ == Paths::kNone) {
    // Only short headers move a connection (§9: no migration before the
    // handshake is confirmed); others count on the active path.
    if (!rx_addr_ || h.form != HeaderForm::kShort || !handshake_confirmed_) {
      rx_path_ = paths_.active_index();
      paths_.active().bytes_received += rx_datagram_len_;
      rx_long_on_active_ = rx_addr_ != nullptr;
    } else {
      const ConnectionId active_dcid = paths_.active().peer_dcid;
      rx_path_ = add_path(*rx_addr_);
      PathInfo& p = paths_[rx_path_];
      p.bytes_received = rx_datagram_len_;
      p.peer_changed_cid = active_dcid.len && !bytes_equal(h.dcid, active_dcid.view());
      // §9.5: "an endpoint MUST NOT reuse a connection ID when sending to
      // more than one destination address": answers on a path the peer
      // opened with a new CID go under a new one of its CIDs too (after a
      // NAT rebinding, which keeps the CID, it MAY keep the current one).
      if (p.peer_changed_cid) {
        if (Result<uint64_t> seq = peer_cids_.take_unused()) {
          p.has_cid = true;
          p.cid_sequence = *seq;
        }
      }
    }
  }
  if (h.form == HeaderForm::kShort) (void)paths_[rx_path_].peer_dcid.assign(h.dcid);
}

size_t Connection::add_path(const Path& p) {
  if (paths_.size() == Paths::kMaxPaths) {
    // A full table forgets its oldest path other than the active one and
    // the one kept to go back to (§9.3.2), retiring its CID (§9.5).
    const size_t keep = fallback_index();
    for (size_t j = 0; j < paths_.size(); ++j) {
      if (j != paths_.active_index() && j != keep) {
        drop_path(j);
        break;
      }
    }
  }
  return paths_.add(p);
}

size_t Connection::fallback_index() const {
  for (size_t j = 0; j < paths_.size(); ++j) {
    if (j != paths_.active_index() && paths_[j].validated) return j;
  }
  return Paths::kNone;
}

void Connection::after_packet_path(uint64_t pn, uint64_t now) {
  if (rx_path_ == Paths::kNone || rx_path_ == paths_.active_index() || !handshake_confirmed_) return;
  if (closing_or_draining() || state_ == State::kClosed) return;
  // §9.3: "An endpoint only changes the address to which it sends packets
  // in response to the highest-numbered non-probing packet."
  const bool largest = sp(PnSpace::kApplication).acks.largest() == pn;
  if (is_server() && rx_non_probing_ && largest) {
    on_peer_migrated(rx_path_, now);
    return;
  }
  // A probe from a new path (§9.1): the server validates it too, so that
  // it can move there at once when the client does (and the quic-interop-
  // runner sees each new path probed).
  PathInfo& p = paths_[rx_path_];
  if (is_server() && !p.validated && !p.validating) start_path_validation(rx_path_, now);
}

void Connection::on_path_challenge(const PathFrame& f, uint64_t now) {
  (void)now;
  // §8.2.2: each echoed on the path it came on (§13.3: never repeated).
  PathInfo& p = rx_path_ == Paths::kNone ? paths_.active() : paths_[rx_path_];
  p.owe_response(f.data.data());
}

bool Connection::write_path_responses(PacketDraft& d, PathInfo& p) {
  size_t written = 0;
  Frame f;
  f.type = FrameType::kPathResponse;
  while (written < p.response_count) {
    f.path.data = Bytes(p.responses[written], kPathDataLen);
    if (!write_frame(d.w, f)) break;
    ++written;
  }
  // The ones not written (no room) stay owed, oldest first.
  for (size_t i = written; i < p.response_count; ++i) copy_bytes(p.responses[i - written], p.responses[i], kPathDataLen);
  p.response_count -= written;
  return written != 0;
}

void Connection::on_path_response(const PathFrame& f, uint64_t now) {
  // §8.2.3: a PATH_RESPONSE matching a challenge validates the path it was
  // sent on, whichever path the response came on; one matching nothing is
  // ignored (§8.2.2: it may be a late answer or an attack).
  const size_t i = paths_.on_response(f.data.data());
  if (i == Paths::kNone) return;
  trace_migration(TracePathEvent::kProbingSuccessful, paths_[i].path);
  if (i == paths_.active_index()) {
    // The migration the peer started is complete: the path kept to fall
    // back to (§9.3.2) is no longer needed.
    trace_migration(TracePathEvent::kMigrationComplete, paths_[i].path);
    left_valid_ = false;
    for (size_t j = paths_.size(); j-- > 0;) {
      if (j != paths_.active_index() && paths_[j].validated) drop_path(j);
    }
    return;
  }
  if (!is_server()) {
    // §9.2: the client moves to the path it probed, then retires the CID
    // of the old one (§9.5).
    const size_t old = paths_.active_index();
    switch_path(i, now);
    drop_path(old);
    trace_migration(TracePathEvent::kMigrationComplete, paths_.active().path);
  }
}

// ---- Migration ---------------------------------------------------------------

void Connection::start_path_validation(size_t i, uint64_t now) {
  paths_.start_validation(i, now, sat_add(now, path_validation_timeout()));
  trace_migration(TracePathEvent::kProbingStarted, paths_[i].path);
}

void Connection::on_peer_migrated(size_t i, uint64_t now) {
  PathInfo& p = paths_[i];
  // §9.3: validate the new address unless already done or under way; the
  // last validated path stays in the table to go back to (§9.3.2).
  if (!p.validated && !p.validating) start_path_validation(i, now);
  switch_path(i, now);
  trace_migration(TracePathEvent::kMigrationStarted, paths_.active().path);
}

void Connection::switch_path(size_t i, uint64_t now, bool returning) {
  const PathInfo& old = paths_.active();
  PathInfo& p = paths_[i];
  const bool same_hosts = old.path.local.same_host(p.path.local) && old.path.peer.same_host(p.path.peer);
  if (returning && left_valid_ && left_path_ == p.path) {
    // §9.3.2: the migration is abandoned and we are back where we were:
    // that path's state is still what we learned of it (§9.4: "MUST NOT
    // return to the send rate used for the previous path unless it is
    // reasonably sure that the previous send rate is valid", which it is
    // for that very path).
    cc_.copy_from(left_cc_);
    recovery_.restore_rtt(left_rtt_);
    ecn_ = left_ecn_;
    pmtud_ = left_pmtud_;
    max_datagram_size_ = left_max_datagram_size_;
    left_valid_ = false;
  } else {
    left_cc_.copy_from(cc_);
    left_rtt_ = recovery_.rtt();
    left_ecn_ = ecn_;
    left_pmtud_ = pmtud_;
    left_max_datagram_size_ = max_datagram_size_;
    left_path_ = old.path;
    left_valid_ = true;
    // §13.4.2: "Endpoints validate ECN for packets sent on each network
    // path independently", a new port making a new path too.
    ecn_.restart();
    if (!same_hosts) {
      // §14.2: the PMTU is estimated per pair of IP addresses.
      pmtud_.restart(now);
      apply_plpmtu();
      // §9.4: "the endpoint MUST reset the congestion controller and
      // round-trip time estimator for the new path to initial values ...
      // unless the only change in the peer's address is its port number"
      // (or ours), which is likely the same path.
      cc_.reset(max_datagram_size_ < kMinInitialDatagram ? kMinInitialDatagram
                : max_datagram_size_ > kMaxCcDatagramSize ? kMaxCcDatagramSize
                                                          : max_datagram_size_);
      recovery_.on_path_changed();
    }
  }
  // The old path keeps its CID, which the current one was.
  PathInfo& o = paths_.active();
  if (const PeerCid* c = peer_cids_.current(); c && !o.has_cid) {
    o.has_cid = true;
    o.cid_sequence = c->sequence;
  }
  if (p.has_cid && peer_cids_.make_current(p.cid_sequence)) p.has_cid = false;
  paths_.set_active(i);
}

void Connection::drop_path(size_t i) {
  if (i == paths_.active_index() || i >= paths_.size()) return;
  const PathInfo& p = paths_[i];
  // §9.5: a CID used on a path we leave is retired, so that the paths
  // cannot be linked; unless another path still uses it.
  if (p.has_cid) {
    bool shared = false;
    for (size_t j = 0; j < paths_.size(); ++j) {
      shared |= j != i && paths_[j].has_cid && paths_[j].cid_sequence == p.cid_sequence;
    }
    const PeerCid* current = peer_cids_.current();
    if (!shared && (!current || current->sequence != p.cid_sequence) && peer_cids_.find(p.cid_sequence)) {
      (void)peer_cids_.retire(p.cid_sequence);  // a full queue leaves it active, unused
    }
  }
  paths_.remove(i);
  // Entries above `i` moved down one: so does the received datagram's.
  if (rx_path_ == i) {
    rx_path_ = Paths::kNone;
    rx_addr_ = nullptr;
  } else if (rx_path_ != Paths::kNone && rx_path_ > i) {
    --rx_path_;
  }
  tx_path_ = paths_.active_index();
}

void Connection::on_path_validation_failed(size_t i, uint64_t now) {
  trace_migration(TracePathEvent::kProbingAbandoned, paths_[i].path);
  if (i != paths_.active_index()) {
    drop_path(i);
    return;
  }
  // §9.3.2: back to the last validated path, if any.
  const size_t back = fallback_index();
  if (back != Paths::kNone) {
    switch_path(back, now, true);
    trace_migration(TracePathEvent::kMigrationAbandoned, paths_.active().path);
    drop_path(i);
    return;
  }
  // "If an endpoint has no state about the last validated peer address, it
  // MUST close the connection silently by discarding all connection state."
  CloseInfo info;
  info.error_code = static_cast<uint64_t>(ErrorCode::kNoViablePath);
  close_info_ = info;
  state_ = State::kClosed;
  drop_buffered();
  trace_closed(info);
  trace_state(TraceConnectionState::kClosed);
  events_.on_connection_closed(info);
}

void Connection::on_path_timeout(uint64_t now) {
  for (size_t i = paths_.take_expired(now); i != Paths::kNone; i = paths_.take_expired(now)) {
    on_path_validation_failed(i, now);
    if (state_ == State::kClosed) return;
  }
}

Status Connection::migrate(const Path& path, bool preferred, uint64_t now) {
  if (is_server()) return Status(ErrorCode::kInvalidArgument, "only clients migrate (RFC 9000 §9)");
  if (!handshake_confirmed_ || state_ != State::kEstablished) {
    return Status(ErrorCode::kInvalidArgument, "handshake not confirmed");
  }
  // §18.2: disable_active_migration does not forbid the preferred address.
  if (peer_params_.disable_active_migration && !preferred) {
    return Status(ErrorCode::kInvalidArgument, "the server disabled active migration");
  }
  if (preferred && !peer_params_.has_preferred_address) {
    return Status(ErrorCode::kInvalidArgument, "the server has no preferred address");
  }
  size_t i = paths_.find(path);
  if (i == paths_.active_index()) return Status(ErrorCode::kInvalidArgument, "already on that path");
  now_ = now;
  if (i == Paths::kNone) {
    // §9.5: a CID not used on any other path; §9.6: the preferred
    // address's own (sequence 1).
    QB_ASSIGN_OR_RETURN(uint64_t seq, peer_cids_.take_unused(preferred ? 1 : PeerCids::kAnySequence));
    i = add_path(path);
    PathInfo& p = paths_[i];
    p.has_cid = true;
    p.cid_sequence = seq;
    // §8: what the client sends is not limited before validation; the
    // server's answers are.
    p.validated = false;
  }
  start_path_validation(i, now);
  return Status::ok();
}

Status Connection::set_preferred_address(const TransportParameters::PreferredAddress& pa) {
  if (!is_server() || state_ != State::kHandshake || local_params_.has_preferred_address ||
      spaces_[idx(PnSpace::kHandshake)].write.ready()) {
    return Status(ErrorCode::kInvalidArgument, "preferred_address: only a server, before its first flight");
  }
  TransportParameters::PreferredAddress& to = local_params_.preferred_address;
  copy_bytes(to.ipv4_address, pa.ipv4_address, sizeof to.ipv4_address);
  to.ipv4_port = pa.ipv4_port;
  copy_bytes(to.ipv6_address, pa.ipv6_address, sizeof to.ipv6_address);
  to.ipv6_port = pa.ipv6_port;
  local_params_.has_preferred_address = true;
  // Not yet started: the first Initial makes the parameters (and the CID).
  if (!peer_seen_) return Status::ok();
  const Status s = send_transport_params();
  if (!s.is_ok()) {
    local_params_.has_preferred_address = false;
    return s;
  }
  events_.on_cid_issued(to.connection_id);
  return Status::ok();
}

// ---- Sending -----------------------------------------------------------------

const PeerCid* Connection::send_cid() const {
  const PathInfo& p = paths_[tx_path_ < paths_.size() ? tx_path_ : paths_.active_index()];
  if (p.has_cid) {
    if (const PeerCid* c = peer_cids_.find(p.cid_sequence)) return c;
  }
  return peer_cids_.current();
}

bool Connection::path_frames_pending(uint64_t now) const {
  if (!handshake_confirmed_) return paths_.active().response_pending();
  const PathInfo& a = paths_.active();
  return a.response_pending() || a.challenge_due(now);
}

void Connection::fill_path_frames(PacketDraft& d, uint64_t now) {
  PathInfo& a = paths_.active();
  Frame f;
  if (a.response_pending()) {
    if (!write_path_responses(d, a)) return;
    d.mark_eliciting();
    pad_path_ = true;
  }
  if (handshake_confirmed_ && a.challenge_due(now)) {
    uint8_t data[kPathDataLen];
    // Room is checked first: the data is remembered once taken.
    if (d.w.remaining() < 1 + kPathDataLen) return;
    const uint64_t retry = recovery_.pto_period() << min_u64(a.challenges_sent, kMaxChallengeBackoffShift);
    paths_.take_challenge(paths_.active_index(), random_, now, retry, data);
    f.type = FrameType::kPathChallenge;
    f.path.data = Bytes(data, kPathDataLen);
    (void)write_frame(d.w, f);
    d.mark_eliciting();
    pad_path_ = true;
  }
}

size_t Connection::write_path_probe(MutBytes out, uint64_t now, Path* path) {
  if (state_ != State::kEstablished || !handshake_confirmed_) return 0;
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (i == paths_.active_index()) continue;
    PathInfo& p = paths_[i];
    const bool challenge = p.challenge_due(now);
    if (!p.response_pending() && !challenge) continue;
    // §8.2.1, §8.2.2: datagrams with path frames are expanded to 1200
    // bytes, unless the anti-amplification limit forbids (§9.3, §8).
    // With the client's own addresses the budget is not ours to mind.
    const uint64_t budget = is_server() ? p.send_budget(kAmplificationFactor) : kU64Max;
    const size_t limit = static_cast<size_t>(min_u64(min_u64(out.size(), max_datagram_size_), budget));
    if (limit < kMinProbeDatagram) continue;  // waits for bytes from the path
    tx_path_ = i;
    PacketNumberSpace& s = sp(PnSpace::kApplication);
    PacketDraft d;
    if (!open_packet(d, s, out.first(limit), 0)) {
      tx_path_ = paths_.active_index();
      return 0;
    }
    Frame f;
    (void)write_path_responses(d, p);
    if (challenge) {
      uint8_t data[kPathDataLen];
      const uint64_t retry = recovery_.pto_period() << min_u64(p.challenges_sent, kMaxChallengeBackoffShift);
      paths_.take_challenge(i, random_, now, retry, data);
      f.type = FrameType::kPathChallenge;
      f.path.data = Bytes(data, kPathDataLen);
      (void)write_frame(d.w, f);
    }
    ++s.next_pn;
    Result<size_t> sealed = seal_packet(d, limit < kMinInitialDatagram ? limit : kMinInitialDatagram);
    tx_path_ = paths_.active_index();
    if (!sealed) {
      close_with_error(sealed.status(), 0, now);
      return 0;
    }
    // The probe is numbered but not tracked as in flight: its loss is the
    // path's business (a new challenge, or the validation timeout), not
    // the active path's congestion controller's (§9.4).
    d.record.time_sent = now;
    d.record.ack_eliciting = false;
    d.record.in_flight = false;
    d.record.items.clear();
    (void)recovery_.on_packet_sent(d.record);
    bytes_sent_ += *sealed;
    p.bytes_sent += *sealed;
    // §13.4.2: ECN is validated per path; probes go unmarked.
    datagram_ecn_ = Ecn::kNotEct;
    if (tracer_) tracer_->datagram_sent(now, *sealed);
    if (path) *path = p.path;
    return *sealed;
  }
  return 0;
}

void Connection::trace_migration(TracePathEvent e, const Path& p) {
  if (tracer_) tracer_->path_updated(now_, e, p);
}

}  // namespace quicbed
