// A tiny deterministic network for congestion-control tests: one sender
// that fills its window with max_datagram_size packets, a FIFO bottleneck
// of a fixed rate (0 = unlimited), a fixed propagation RTT, and one ACK per
// packet. Every ACK carries a delivery rate sample from a real
// DeliveryRateEstimator (the loss-based controllers ignore it).
//
// By default the bottleneck queue is unbounded and nothing is lost unless
// the test calls the controller's congestion hooks itself. Options:
// `queue_limit_bytes` drops packets arriving at a full queue (each drop is
// declared lost one RTT after it was sent, with a congestion event);
// `paced` makes the sender obey the controller's pacing rate through the
// core's Pacer; `app_window` caps what the application offers, and the
// sender marks itself app-limited when that, not the window, stops it.
#pragma once

#include <cstdint>
#include <deque>
#include <ostream>

#include "cc/congestion_controller.h"
#include "cc/delivery_rate.h"
#include "cc/window.h"
#include "pacer.h"
#include "rtt.h"
#include "sent_packet.h"

namespace quicbed::test {

class AckClock {
 public:
  AckClock(CongestionController& cc, uint64_t max_datagram_size, uint64_t base_rtt_us, uint64_t link_bytes_per_s = 0)
      : cc_(cc),
        mds_(max_datagram_size),
        base_rtt_(base_rtt_us),
        link_rate_(link_bytes_per_s),
        pacer_(kDefaultInitialWindowPackets * max_datagram_size) {}

  // Sends what the window (and pacer) allow, then delivers the next ACK or
  // loss. False when nothing is in flight.
  bool step() {
    fill();
    while (paced) {
      // The pacer may release a packet before the next ACK comes.
      const uint64_t t = next_paced_send();
      if (t == kU64Max || (!flight_.empty() && t >= flight_.front().acked_at)) break;
      now_ = t;
      fill();
    }
    if (flight_.empty()) return false;
    Packet p = flight_.front();
    flight_.pop_front();
    if (p.acked_at > now_) now_ = p.acked_at;
    in_flight_ -= p.record.bytes;
    if (p.dropped) {
      ++losses_;
      rate_.on_packet_lost(p.record);
      CcLoss l;
      l.now = now_;
      l.bytes = p.record.bytes;
      l.tx_in_flight = p.record.tx_in_flight;
      l.lost_since_sent = rate_.lost() - p.record.lost;
      l.is_app_limited = p.record.is_app_limited;
      l.bytes_in_flight = in_flight_;
      cc_.on_packet_lost(l);
      cc_.on_congestion_event(now_, p.record.time_sent, false);
      return true;
    }
    rtt_.on_sample(p.acked_at - p.record.time_sent, 0, 0, false);
    rate_.begin_ack();
    rate_.on_packet_acked(p.record, now_);
    CcAck ack;
    ack.now = now_;
    ack.bytes_acked = p.record.bytes;
    ack.largest_acked_sent_time = p.record.time_sent;
    ack.bytes_in_flight = in_flight_;
    ack.app_limited = app_limited;
    ack.rate = &rate_.finish_ack(rtt_.min_rtt());
    cc_.on_ack(ack, rtt_);
    if (cc_.wants_app_limited_samples()) rate_.mark_app_limited(in_flight_);
    ++acks_;
    return true;
  }
  // Steps until the next event would come after `t`.
  void run_until(uint64_t t) {
    while (true) {
      fill();
      uint64_t next = flight_.empty() ? kU64Max : flight_.front().acked_at;
      if (paced) next = next < next_paced_send() ? next : next_paced_send();
      if (next == kU64Max || next > t) break;
      step();
    }
    if (now_ < t) now_ = t;
  }

  uint64_t now() const { return now_; }
  uint64_t bytes_in_flight() const { return in_flight_; }
  uint64_t acks() const { return acks_; }
  uint64_t losses() const { return losses_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  const RttEstimator& rtt() const { return rtt_; }
  const DeliveryRateEstimator& delivery_rate() const { return rate_; }
  // Bytes waiting in the bottleneck queue at now().
  uint64_t queue_bytes() const {
    if (link_rate_ == 0 || link_free_ <= now_) return 0;
    return (link_free_ - now_) * link_rate_ / 1'000'000;
  }
  // The bottleneck changes rate for packets sent from now on.
  void set_link_rate(uint64_t bytes_per_s) { link_rate_ = bytes_per_s; }
  // Send time of the newest packet in flight (for congestion events).
  uint64_t last_sent() const { return flight_.empty() ? now_ : flight_.back().record.time_sent; }

  // Sender not window-limited (RFC 9002 §7.8); it still fills the window.
  bool app_limited = false;
  // See the file comment; 0 = unlimited / off.
  uint64_t queue_limit_bytes = 0;
  bool paced = false;
  uint64_t app_window = 0;

 private:
  struct Packet {
    SentPacket record;
    uint64_t acked_at;  // or, if dropped, when the loss is declared
    bool dropped;
  };

  uint64_t limit() const {
    const uint64_t cwnd = cc_.cwnd();
    return app_window != 0 && app_window < cwnd ? app_window : cwnd;
  }
  uint64_t next_paced_send() const {
    if (in_flight_ + mds_ > limit()) return kU64Max;
    return pacer_.next_send_time(now_, mds_, cc_.pacing_rate(rtt_));
  }

  void fill() {
    while (in_flight_ + mds_ <= limit()) {
      if (paced && pacer_.next_send_time(now_, mds_, cc_.pacing_rate(rtt_)) > now_) return;
      Packet p{};
      p.record.time_sent = now_;
      p.record.bytes = mds_;
      p.record.in_flight = true;
      p.record.ack_eliciting = true;
      rate_.on_packet_sent(p.record, in_flight_);
      uint64_t out = now_;
      if (link_rate_ != 0) {
        const uint64_t start = link_free_ > now_ ? link_free_ : now_;
        if (queue_limit_bytes != 0 && (start - now_) * link_rate_ / 1'000'000 + mds_ > queue_limit_bytes) {
          p.dropped = true;
        } else {
          // Serialisation in whole microseconds, rounded up.
          link_free_ = start + (mds_ * 1'000'000 + link_rate_ - 1) / link_rate_;
          out = link_free_;
        }
      }
      p.acked_at = p.dropped ? now_ + base_rtt_ : out + base_rtt_;
      flight_.push_back(p);
      in_flight_ += mds_;
      bytes_sent_ += mds_;
      if (paced) pacer_.on_packet_sent(now_, mds_, cc_.pacing_rate(rtt_));
      cc_.on_packet_sent(now_, mds_, in_flight_);
    }
    // The application, not the window, stopped the sender.
    if (app_window != 0 && app_window < cc_.cwnd()) rate_.mark_app_limited(in_flight_);
  }

  CongestionController& cc_;
  uint64_t mds_;
  uint64_t base_rtt_;
  uint64_t link_rate_;
  Pacer pacer_;
  RttEstimator rtt_;
  DeliveryRateEstimator rate_;
  std::deque<Packet> flight_;
  uint64_t now_ = 0;
  uint64_t link_free_ = 0;
  uint64_t in_flight_ = 0;
  uint64_t acks_ = 0;
  uint64_t losses_ = 0;
  uint64_t bytes_sent_ = 0;
};

// What a controller tells the sender at one moment: window, slow start
// threshold and pacing rate, compared at once in tests.
struct CcSnapshot {
  uint64_t cwnd = 0;
  uint64_t ssthresh = 0;
  uint64_t pacing_rate = 0;
  bool operator==(const CcSnapshot&) const = default;
};
inline CcSnapshot snapshot(const CongestionController& cc, const RttEstimator& rtt) {
  return CcSnapshot{cc.cwnd(), cc.ssthresh(), cc.pacing_rate(rtt)};
}
inline std::ostream& operator<<(std::ostream& o, const CcSnapshot& s) {
  return o << "{cwnd " << s.cwnd << ", ssthresh " << s.ssthresh << ", pacing " << s.pacing_rate << "}";
}

}  // namespace quicbed::test
