#include "pmtud.h"

#include "base/assert.h"

namespace quicbed {

Pmtud::Pmtud(bool enabled, uint64_t max, uint64_t raise_interval_us)
    : state_(enabled ? State::kBase : State::kDisabled),
      host_max_(max),
      raise_interval_us_(raise_interval_us),
      bound_(host_max_),
      plpmtu_(enabled ? kBasePlpmtu : host_max_) {}

void Pmtud::start(uint64_t peer_max_udp_payload, uint64_t now) {
  if (state_ != State::kBase) return;
  // RFC 9000 §14.3: the peer's max_udp_payload_size bounds the search
  // (§18.2 guarantees it is at least 1200).
  bound_ = max_u64(min_u64(host_max_, peer_max_udp_payload), kBasePlpmtu);
  state_ = State::kSearching;
  lo_ = plpmtu_;
  hi_ = bound_ + 1;
  plpmtu_since_ = now;
  next_candidate(now);
}

// RFC 8899 §5.3 leaves the search to the implementation. The bound first:
// a path that carries it ends the search in one round trip. Then halving
// the interval between the confirmed size and the smallest failed one,
// down to the byte.
void Pmtud::next_candidate(uint64_t now) {
  candidate_losses_ = 0;
  if (hi_ > bound_ && lo_ < bound_) {
    candidate_ = bound_;
    return;
  }
  if (hi_ - lo_ >= 2) {
    candidate_ = lo_ + (hi_ - lo_) / 2;
    return;
  }
  // RFC 8899 §5.2 SEARCH_COMPLETE, until the raise timer.
  state_ = State::kSearchComplete;
  candidate_ = 0;
  raise_at_ = lo_ < bound_ ? sat_add(now, raise_interval_us_) : kU64Max;
}

uint64_t Pmtud::probe_size() const {
  return state_ == State::kSearching && in_flight_ == 0 ? candidate_ : 0;
}

void Pmtud::on_probe_sent(uint64_t size) {
  in_flight_ = size;
  ++probes_sent_;
}

void Pmtud::on_probe_acked(uint64_t size, uint64_t now) {
  if (size == in_flight_) in_flight_ = 0;
  // Any acknowledged probe proves its size, even one from an earlier round.
  if (state_ == State::kDisabled || size <= plpmtu_) return;
  plpmtu_ = size;
  plpmtu_since_ = now;
  large_losses_ = 0;
  if (size > lo_) lo_ = size;
  if (hi_ <= lo_) hi_ = lo_ + 1;
  if (state_ == State::kSearching) next_candidate(now);
}

void Pmtud::on_probe_lost(uint64_t size, uint64_t now) {
  if (size == in_flight_) in_flight_ = 0;
  ++probes_lost_;
  if (state_ != State::kSearching || size != candidate_) return;
  // RFC 8899 §5.1.2: MAX_PROBES losses and the size is given up; RFC 9000
  // §14.4: the loss says nothing about congestion.
  if (++candidate_losses_ < kMaxProbes) return;
  hi_ = size;
  next_candidate(now);
}

void Pmtud::on_packet_acked(uint64_t size, uint64_t time_sent) {
  if (size <= kBasePlpmtu) return;
  if (time_sent > large_acked_sent_) large_acked_sent_ = time_sent;
  large_losses_ = 0;
}

void Pmtud::on_packet_lost(uint64_t size, uint64_t time_sent, uint64_t now) {
  if (plpmtu_ <= kBasePlpmtu || state_ == State::kDisabled) return;
  // Only packets of the current PLPMTU's era count, and only those sent
  // after the newest large packet that got through.
  if (size <= kBasePlpmtu || time_sent < plpmtu_since_ || time_sent < large_acked_sent_) return;
  if (++large_losses_ >= kBlackHoleLosses) black_hole(now);
}

void Pmtud::on_pto(uint32_t pto_count, uint64_t now) {
  if (state_ == State::kDisabled || state_ == State::kBase || plpmtu_ <= kBasePlpmtu) return;
  if (pto_count >= kBlackHolePtos) black_hole(now);
}

// RFC 8899 §5.2: a black hole sends the PLPMTU back to BASE_PLPMTU, which
// QUIC's handshake confirmed, and the search starts over.
void Pmtud::black_hole(uint64_t now) {
  ++black_holes_;
  restart(now);
}

void Pmtud::restart(uint64_t now) {
  if (state_ == State::kDisabled || state_ == State::kBase) return;
  plpmtu_ = kBasePlpmtu;
  plpmtu_since_ = now;
  large_losses_ = 0;
  in_flight_ = 0;
  state_ = State::kSearching;
  raise_at_ = kU64Max;
  lo_ = kBasePlpmtu;
  hi_ = bound_ + 1;
  next_candidate(now);
}

void Pmtud::on_timeout(uint64_t now) {
  if (state_ != State::kSearchComplete || now < raise_at_) return;
  // RFC 8899 §5.2: the raise timer sends SEARCH_COMPLETE back to SEARCHING.
  raise_at_ = kU64Max;
  state_ = State::kSearching;
  hi_ = bound_ + 1;
  next_candidate(now);
}

}  // namespace quicbed
