#include "pnspace.h"

#include <new>
#include <utility>

#include "base/fixed_point.h"
#include "packet.h"

namespace quicbed {

bool AckState::on_packet_received(uint64_t pn, Ecn ecn, uint64_t now) {
  const bool any = ranges_.received_any();
  const uint64_t prev_largest = any ? ranges_.largest() : 0;
  if (ranges_.add(pn) == AckRanges::Received::kDuplicate) return false;
  // §13.2.1: a packet below the largest, or one past a gap, is out of order.
  out_of_order_ = any && (pn < prev_largest || pn > prev_largest + 1);
  if (!any || pn > prev_largest) largest_time_ = now;
  switch (ecn) {
    case Ecn::kEct0: ++ecn_.ect0; break;
    case Ecn::kEct1: ++ecn_.ect1; break;
    case Ecn::kCe: ++ecn_.ce; break;
    case Ecn::kNotEct: break;
  }
  return true;
}

void AckState::on_packet_processed(bool ack_eliciting, uint64_t now, uint64_t max_ack_delay_us) {
  pending_ = true;
  if (!ack_eliciting) return;
  ++eliciting_;
  // §13.2.1: Initial and Handshake packets, packets out of order and (§13.4.1
  // leaves CE to the same rule in practice) every second ack-eliciting packet
  // are acknowledged without delay; otherwise within max_ack_delay.
  if (immediate_ || out_of_order_ || eliciting_ >= kAckElicitingThreshold) {
    deadline_ = now;
  } else if (deadline_ == ~uint64_t{0}) {
    deadline_ = sat_add(now, max_ack_delay_us);
  }
}

uint64_t AckState::largest() const { return ranges_.received_any() ? ranges_.largest() : kNoPacketNumber; }

Result<uint64_t> AckState::write_ack(Writer& w, uint64_t now, uint64_t ack_delay_exponent) {
  const auto ranges = ranges_.ranges();
  if (ranges.empty()) return Status(ErrorCode::kInvalidArgument, "nothing to acknowledge");
  // §19.3: ACK Delay is in units of 2^ack_delay_exponent microseconds.
  const uint64_t delay = sat_sub(now, largest_time_) >> ack_delay_exponent;
  const bool ecn = ecn_.ect0 || ecn_.ect1 || ecn_.ce;
  QB_ASSIGN_OR_RETURN(size_t written, quicbed::write_ack(w, ranges, delay, ecn ? &ecn_ : nullptr));
  (void)written;
  pending_ = false;
  eliciting_ = 0;
  deadline_ = ~uint64_t{0};
  return ranges[0].hi;
}

PacketNumberSpace::PacketNumberSpace(Allocator& alloc, PnSpace id, const CryptoLimits& limits)
    : acks(id != PnSpace::kApplication),
      crypto_in(alloc, ReassemblyBuffer::Limits{limits.recv_window, limits.recv_segments,
                                                ErrorCode::kCryptoBufferExceeded}),
      crypto_out(alloc, limits.send_buffer),
      alloc_(alloc),
      id_(id),
      limits_(limits) {}

void PacketNumberSpace::discard() {
  discarded_ = true;
  read.header().reset();
  read.payload().reset();
  write.header().reset();
  write.payload().reset();
  next_read.reset();
  discard_prev_read();
  crypto_out.discard();
  // ReassemblyBuffer frees what it holds only when destroyed: rebuild it
  // empty so that unread CRYPTO data of a dead level costs no memory.
  crypto_in.~ReassemblyBuffer();
  new (&crypto_in) ReassemblyBuffer(alloc_, ReassemblyBuffer::Limits{limits_.recv_window, limits_.recv_segments,
                                                                      ErrorCode::kCryptoBufferExceeded});
  probes = 0;
}

void PacketNumberSpace::rotate_read(uint64_t pn, uint64_t discard_prev_at) {
  prev_read = std::move(read.payload());
  prev_read_discard_at = discard_prev_at;
  read.payload() = std::move(next_read);
  read_phase_first_pn = pn;
  read_phase_acked = false;
  read_phase = !read_phase;
  ++read_generation;
}

Status PacketNumberSpace::rotate_write() {
  QB_TRY(write.update_keys());
  write_phase = !write_phase;
  first_pn_in_write_phase = next_pn;
  ++write_generation;
  return Status::ok();
}

bool PacketNumberSpace::requeue_crypto() {
  const uint64_t from = crypto_out.acked_end();
  const uint64_t to = crypto_out.sent_end();
  if (to <= from) return false;
  crypto_out.on_lost(from, to - from, false);
  return true;
}

}  // namespace quicbed
