#include "cc/newreno.h"

#include "base/assert.h"

namespace quicbed {

NewReno::NewReno(uint64_t max_datagram_size, uint64_t initial_window_packets)
    : max_datagram_size_(max_datagram_size), cwnd_(initial_window(max_datagram_size, initial_window_packets)) {
  QB_ASSERT(max_datagram_size > 0 && max_datagram_size <= kMaxCcDatagramSize);
  QB_ASSERT(initial_window_packets >= kMinInitialWindowPackets && initial_window_packets <= kMaxInitialWindowPackets);
}

// B.4: the window itself does not change when a packet is sent; recovery
// keeps bytes_in_flight.
void NewReno::on_packet_sent(uint64_t, uint64_t, uint64_t) {}

void NewReno::on_ack(const CcAck& ack, const RttEstimator&) {
  recovery_.on_ack(ack.largest_acked_sent_time);
  // §7.8: an underused window is not a measure of capacity.
  if (ack.app_limited) return;
  // B.5: no growth for packets sent before the recovery period began. The
  // ACK is judged by its newest packet: if that one predates the period,
  // every packet it acknowledges does.
  if (recovery_.covers(ack.largest_acked_sent_time)) return;
  if (cwnd_ < ssthresh_) {
    // §7.3.1: slow start grows by the bytes acknowledged.
    cwnd_ = sat_add(cwnd_, ack.bytes_acked);
  } else {
    // §7.3.3: one max_datagram_size per window acknowledged.
    cwnd_ = sat_add(cwnd_, avoidance_.step(max_datagram_size_, ack.bytes_acked, cwnd_));
  }
}

// B.6. Loss and ECN-CE (§7.1) get the same response.
void NewReno::on_congestion_event(uint64_t now, uint64_t sent_time, bool ecn) {
  if (recovery_.covers(sent_time)) return;
  recovery_.start(now, ecn);
  // kLossReductionFactor = 1/2.
  ssthresh_ = cwnd_ / 2;
  cwnd_ = max_u64(ssthresh_, minimum_window(max_datagram_size_));
  avoidance_.reset();
}

// B.8: called after on_congestion_event for the same losses.
void NewReno::on_persistent_congestion(uint64_t now) {
  cwnd_ = minimum_window(max_datagram_size_);
  recovery_.clear(now);
  avoidance_.reset();
}

void NewReno::set_max_datagram_size(uint64_t bytes) {
  QB_ASSERT(bytes > 0 && bytes <= kMaxCcDatagramSize);
  max_datagram_size_ = bytes;
  cwnd_ = window_for_datagram_size(cwnd_, bytes);
}

CcState NewReno::state() const {
  if (recovery_.active()) return CcState::kRecovery;
  return cwnd_ < ssthresh_ ? CcState::kSlowStart : CcState::kCongestionAvoidance;
}

}  // namespace quicbed
