#include "cid_manager.h"

#include "varint.h"

namespace quicbed {

namespace {

template <typename Vec>
auto* find_sequence(Vec& v, uint64_t sequence) {
  for (auto& e : v) {
    if (e.sequence == sequence) return &e;
  }
  return static_cast<decltype(&*v.begin())>(nullptr);
}

template <typename Vec>
size_t index_of_sequence(const Vec& v, uint64_t sequence) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].sequence == sequence) return i;
  }
  return v.size();
}

}  // namespace

// --- LocalCids ----------------------------------------------------------------

void LocalCids::start(const ConnectionId& initial) {
  *this = LocalCids();
  LocalCid c;
  c.cid = initial;  // sequence 0, already in the peer's hands: nothing to announce
  bool added = cids_.push_back(c);
  QB_ASSERT(added);
  next_sequence_ = 1;
  sent_below_ = 1;
  zero_length_ = initial.len == 0;
}

void LocalCids::set_peer_limit(uint64_t limit) { peer_limit_ = limit; }

size_t LocalCids::issue_budget() const {
  if (zero_length_ || next_sequence_ > kVarintMax) return 0;
  size_t active = 0;
  for (const LocalCid& c : cids_) active += c.sequence >= retire_prior_to_;
  size_t limit = peer_limit_ < kMaxActiveCids ? static_cast<size_t>(peer_limit_) : kMaxActiveCids;
  if (limit <= active) return 0;
  size_t by_limit = limit - active;
  size_t by_room = kCapacity - cids_.size();
  return by_limit < by_room ? by_limit : by_room;
}

Result<uint64_t> LocalCids::issue(const ConnectionId& cid, Bytes token) {
  if (issue_budget() == 0) return Status(ErrorCode::kLimitExceeded, "no connection ID may be issued now");
  return add(cid, token, true);
}

Result<uint64_t> LocalCids::issue_preferred_address(const ConnectionId& cid, Bytes token) {
  // §18.2: a server using zero-length CIDs must not send a preferred address.
  if (zero_length_ || next_sequence_ != 1) return Status(ErrorCode::kInvalidArgument, "preferred_address CID");
  QB_ASSIGN_OR_RETURN(uint64_t sequence, add(cid, token, false));
  sent_below_ = sequence + 1;  // it travels in our transport parameters
  return sequence;
}

Result<uint64_t> LocalCids::add(const ConnectionId& cid, Bytes token, bool announce) {
  if (cid.len == 0 || token.size() != kStatelessResetTokenLen || find(cid.view()))
    return Status(ErrorCode::kInvalidArgument, "connection ID to issue");
  LocalCid c;
  c.sequence = next_sequence_;
  c.cid = cid;
  copy_bytes(c.reset_token, token.data(), kStatelessResetTokenLen);
  c.announce = announce;
  if (!cids_.push_back(c)) return Status(ErrorCode::kLimitExceeded, "connection ID set full");
  return next_sequence_++;
}

Result<ConnectionId> LocalCids::on_retire_connection_id(uint64_t sequence, Bytes packet_dcid) {
  if (zero_length_) return Status(ErrorCode::kProtocolViolation, "RETIRE_CONNECTION_ID with zero-length CIDs");
  if (sequence >= sent_below_)
    return Status(ErrorCode::kProtocolViolation, "RETIRE_CONNECTION_ID for a sequence number never sent");
  size_t i = index_of_sequence(cids_, sequence);
  if (i == cids_.size()) return ConnectionId{};  // retired before: a repeated frame
  if (bytes_equal(cids_[i].cid.view(), packet_dcid))
    return Status(ErrorCode::kProtocolViolation, "RETIRE_CONNECTION_ID for the CID it was sent to");
  ConnectionId retired = cids_[i].cid;
  cids_.erase(i);
  return retired;
}

Status LocalCids::retire_prior_to(uint64_t sequence) {
  if (sequence <= retire_prior_to_ || sequence > next_sequence_)
    return Status(ErrorCode::kInvalidArgument, "Retire Prior To must increase up to the next sequence number");
  LocalCid* newest = nullptr;
  for (LocalCid& c : cids_) {
    if (c.sequence < retire_prior_to_)
      return Status(ErrorCode::kInvalidArgument, "the previous Retire Prior To is not honoured yet");
    if (c.sequence >= sequence) newest = &c;
  }
  retire_prior_to_ = sequence;
  // The new value needs a NEW_CONNECTION_ID frame to carry it; repeating
  // one the peer has is harmless (§19.15), and issue() adds more.
  if (newest) newest->announce = true;
  return Status::ok();
}

const LocalCid* LocalCids::find(Bytes dcid) const {
  for (const LocalCid& c : cids_) {
    if (bytes_equal(c.cid.view(), dcid)) return &c;
  }
  return nullptr;
}

bool LocalCids::next_new_connection_id(NewConnectionIdFrame& out) const {
  for (const LocalCid& c : cids_) {
    if (!c.announce) continue;
    // A CID issued before the latest rotation is still announced (if it was
    // lost) so that the peer retires it; §19.15 forbids Retire Prior To
    // above the frame's own sequence number.
    uint64_t rpt = retire_prior_to_ < c.sequence ? retire_prior_to_ : c.sequence;
    out = NewConnectionIdFrame{c.sequence, rpt, c.cid.view(), c.token()};
    return true;
  }
  return false;
}

void LocalCids::on_new_connection_id_sent(uint64_t sequence) {
  if (LocalCid* c = find_sequence(cids_, sequence)) c->announce = false;
  if (sequence >= sent_below_) sent_below_ = sequence + 1;
}

void LocalCids::on_new_connection_id_lost(uint64_t sequence) {
  if (LocalCid* c = find_sequence(cids_, sequence)) c->announce = true;
}

// --- PeerCids -----------------------------------------------------------------

bool PeerCids::SeenSequences::contains(uint64_t sequence) const {
  if (sequence < floor) return true;
  uint64_t offset = sequence - floor;
  return offset < 64 && (bits >> offset) & 1;
}

void PeerCids::SeenSequences::add(uint64_t sequence) {
  if (sequence < floor) return;
  uint64_t offset = sequence - floor;
  if (offset >= 64) {
    uint64_t shift = offset - 63;
    bits = shift >= 64 ? 0 : bits >> shift;
    floor += shift;
    offset = 63;
  }
  bits |= uint64_t{1} << offset;
  while (bits & 1) {
    bits >>= 1;
    ++floor;
  }
}

PeerCids::PeerCids(uint64_t limit) : limit_(limit) { QB_ASSERT(limit >= 2 && limit <= kMaxActiveCids); }

void PeerCids::start(const ConnectionId& cid) {
  *this = PeerCids(limit_);
  PeerCid c;
  c.cid = cid;
  c.used = true;
  bool added = cids_.push_back(c);
  QB_ASSERT(added);
  seen_.floor = 1;
  has_current_ = true;
  zero_length_ = cid.len == 0;
}

Status PeerCids::set_initial_reset_token(Bytes token) {
  PeerCid* c = find_sequence(cids_, 0);
  if (!c || token.size() != kStatelessResetTokenLen)
    return Status(ErrorCode::kInvalidArgument, "stateless_reset_token for sequence 0");
  copy_bytes(c->reset_token, token.data(), kStatelessResetTokenLen);
  c->has_token = true;
  return Status::ok();
}

Status PeerCids::add_preferred_address(const ConnectionId& cid, Bytes token) {
  if (zero_length_ || cid.len == 0)
    return Status(ErrorCode::kTransportParameterError, "preferred_address with a zero-length CID");
  return on_new_connection_id(NewConnectionIdFrame{1, 0, cid.view(), token});
}

Status PeerCids::on_new_connection_id(const NewConnectionIdFrame& f) {
  if (zero_length_)  // §19.15
    return Status(ErrorCode::kProtocolViolation, "NEW_CONNECTION_ID to an endpoint using zero-length CIDs");
  // parse_frame enforces these (§19.15); checked again for frames built
  // elsewhere (the preferred address), as the copies below rely on them.
  ConnectionId cid;
  if (f.cid.empty() || !cid.assign(f.cid) || f.stateless_reset_token.size() != kStatelessResetTokenLen)
    return Status(ErrorCode::kFrameEncodingError, "NEW_CONNECTION_ID fields");

  // §19.15: a repeat must match; a sequence number or CID reused otherwise
  // is a PROTOCOL_VIOLATION (the RFC's MAY, taken).
  for (const PeerCid& c : cids_) {
    bool same_sequence = c.sequence == f.sequence;
    if (same_sequence != (c.cid == cid))
      return Status(ErrorCode::kProtocolViolation, "NEW_CONNECTION_ID reuses a sequence number or CID");
    if (same_sequence && !(c.has_token && bytes_equal(c.token(), f.stateless_reset_token)))
      return Status(ErrorCode::kProtocolViolation, "NEW_CONNECTION_ID repeats a CID with another token");
  }

  // §5.1.2: an increased Retire Prior To retires the CIDs below it before
  // the new one is added; §19.15: a value that does not increase is ignored,
  // and a new CID already below it (frames reordered) is retired at once. A
  // repeat (not fresh) is either active and identical, or one we retired.
  bool fresh = !seen_.contains(f.sequence);
  uint64_t rpt = f.retire_prior_to > largest_retire_prior_to_ ? f.retire_prior_to : largest_retire_prior_to_;
  bool retire_new = fresh && f.sequence < rpt;
  bool add_new = fresh && f.sequence >= rpt;
  size_t retiring = retire_new, staying = add_new;
  for (const PeerCid& c : cids_) (c.sequence < rpt ? retiring : staying)++;
  // Everything is checked before anything changes, so an error leaves the
  // set as it was.
  if (staying > limit_)  // §5.1.1
    return Status(ErrorCode::kConnectionIdLimitError, "more active CIDs than active_connection_id_limit");
  // §5.1.2: a CID cannot be forgotten unretired, and the RFC allows
  // treating too many owed retirements as CONNECTION_ID_LIMIT_ERROR.
  if (retirements_.size() + retiring > kMaxPendingRetirements)
    return Status(ErrorCode::kConnectionIdLimitError, "too many RETIRE_CONNECTION_ID frames pending");

  seen_.add(f.sequence);
  largest_retire_prior_to_ = rpt;
  for (size_t i = cids_.size(); i-- > 0;) {
    if (cids_[i].sequence >= rpt) continue;
    queue_retirement(cids_[i].sequence);
    if (has_current_ && cids_[i].sequence == current_sequence_) has_current_ = false;
    cids_.erase(i);
  }
  if (retire_new) queue_retirement(f.sequence);
  if (add_new) {
    PeerCid c;
    c.sequence = f.sequence;
    c.cid = cid;
    copy_bytes(c.reset_token, f.stateless_reset_token.data(), kStatelessResetTokenLen);
    c.has_token = true;
    bool added = cids_.push_back(c);
    QB_ASSERT(added);  // staying <= limit_ <= kMaxActiveCids
  }
  select_current();
  return Status::ok();
}

// Callers check for room first. Sequence numbers in the queue were seen and
// are no longer active, so none is queued twice.
void PeerCids::queue_retirement(uint64_t sequence) {
  bool queued = retirements_.push_back(Retirement{sequence, false});
  QB_ASSERT(queued);
}

void PeerCids::select_current() {
  if (has_current_) return;
  PeerCid* best = nullptr;
  for (PeerCid& c : cids_) {
    if (!best || c.sequence < best->sequence) best = &c;
  }
  if (!best) return;
  best->used = true;
  current_sequence_ = best->sequence;
  has_current_ = true;
}

const PeerCid* PeerCids::current() const {
  return has_current_ ? find_sequence(cids_, current_sequence_) : nullptr;
}

size_t PeerCids::unused_count() const {
  size_t n = 0;
  for (const PeerCid& c : cids_) n += !c.used;
  return n;
}

Status PeerCids::switch_to_unused() {
  PeerCid* next = nullptr;
  for (PeerCid& c : cids_) {
    if (!c.used && (!next || c.sequence < next->sequence)) next = &c;
  }
  if (!next) return Status(ErrorCode::kLimitExceeded, "no unused connection ID");
  next->used = true;
  current_sequence_ = next->sequence;
  has_current_ = true;
  return Status::ok();
}

Result<uint64_t> PeerCids::take_unused(uint64_t sequence) {
  PeerCid* next = nullptr;
  for (PeerCid& c : cids_) {
    if (c.used || (sequence != kAnySequence && c.sequence != sequence)) continue;
    if (!next || c.sequence < next->sequence) next = &c;
  }
  if (!next) return Status(ErrorCode::kLimitExceeded, "no unused connection ID");
  next->used = true;
  return next->sequence;
}

Status PeerCids::make_current(uint64_t sequence) {
  size_t i = index_of_sequence(cids_, sequence);
  if (i == cids_.size()) return Status(ErrorCode::kInvalidArgument, "not an active CID");
  cids_[i].used = true;
  current_sequence_ = sequence;
  has_current_ = true;
  return Status::ok();
}

const PeerCid* PeerCids::find(uint64_t sequence) const { return find_sequence(cids_, sequence); }

Status PeerCids::retire(uint64_t sequence) {
  size_t i = index_of_sequence(cids_, sequence);
  if (i == cids_.size() || (has_current_ && sequence == current_sequence_))
    return Status(ErrorCode::kInvalidArgument, "not an active, non-current CID");
  if (retirements_.full()) return Status(ErrorCode::kLimitExceeded, "RETIRE_CONNECTION_ID queue full");
  queue_retirement(sequence);
  cids_.erase(i);
  return Status::ok();
}

bool PeerCids::is_stateless_reset(Bytes datagram) const {
  if (datagram.size() < kMinStatelessResetLen) return false;
  const uint8_t* tail = datagram.data() + datagram.size() - kStatelessResetTokenLen;
  // No early exit, neither inside a token nor across tokens: the time taken
  // reveals nothing about their values (§10.3.1).
  unsigned match = 0;
  for (const PeerCid& c : cids_) {
    if (!c.used || !c.has_token) continue;  // §10.3.1: never for unused CIDs
    unsigned diff = 0;
    for (size_t i = 0; i < kStatelessResetTokenLen; ++i) diff |= static_cast<unsigned>(tail[i] ^ c.reset_token[i]);
    match |= static_cast<unsigned>(diff == 0);
  }
  return match != 0;
}

bool PeerCids::next_retire_connection_id(uint64_t& sequence) const {
  for (const Retirement& r : retirements_) {
    if (r.in_flight) continue;
    sequence = r.sequence;
    return true;
  }
  return false;
}

void PeerCids::on_retire_connection_id_sent(uint64_t sequence) {
  if (Retirement* r = find_sequence(retirements_, sequence)) r->in_flight = true;
}

void PeerCids::on_retire_connection_id_acked(uint64_t sequence) {
  size_t i = index_of_sequence(retirements_, sequence);
  if (i < retirements_.size()) retirements_.erase(i);
}

void PeerCids::on_retire_connection_id_lost(uint64_t sequence) {
  if (Retirement* r = find_sequence(retirements_, sequence)) r->in_flight = false;
}

// --- Stateless Reset ----------------------------------------------------------

Result<size_t> write_stateless_reset(Writer& w, size_t trigger_len, Bytes unpredictable, Bytes token) {
  if (token.size() != kStatelessResetTokenLen || unpredictable.size() + kStatelessResetTokenLen < kMinStatelessResetLen)
    return Status(ErrorCode::kInvalidArgument, "stateless reset inputs");
  // §10.3.3: smaller than the trigger, so a reset never answers a reset of
  // its own size and an exchange between two endpoints dies out.
  if (trigger_len <= kMinStatelessResetLen) return Status(ErrorCode::kDropPacket, "too small to answer");
  size_t size = unpredictable.size() + kStatelessResetTokenLen;
  if (size > trigger_len - 1) size = trigger_len - 1;
  if (w.remaining() < size) return Status(ErrorCode::kBufferTooSmall);
  // §10.3: a short header's first two bits (form 0, fixed bit 1), then
  // unpredictable bits.
  QB_TRY(w.u8(static_cast<uint8_t>(0x40 | (unpredictable[0] & 0x3f))));
  QB_TRY(w.bytes(unpredictable.subspan(1, size - kStatelessResetTokenLen - 1)));
  QB_TRY(w.bytes(token));
  return size;
}

}  // namespace quicbed
