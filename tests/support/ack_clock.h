// A tiny deterministic network for congestion-control tests: one sender
// that fills its window with max_datagram_size packets, a FIFO bottleneck
// of a fixed rate (0 = unlimited) with an unbounded queue, a fixed
// propagation RTT, and one ACK per packet. Nothing is lost unless the test
// calls the controller's congestion hooks itself.
#pragma once

#include <cstdint>
#include <deque>

#include "cc/congestion_controller.h"
#include "rtt.h"

namespace quicbed::test {

class AckClock {
 public:
  AckClock(CongestionController& cc, uint64_t max_datagram_size, uint64_t base_rtt_us, uint64_t link_bytes_per_s = 0)
      : cc_(cc), mds_(max_datagram_size), base_rtt_(base_rtt_us), link_rate_(link_bytes_per_s) {}

  // Sends what the window allows, then delivers the next ACK. False when
  // nothing is in flight.
  bool step() {
    fill();
    if (flight_.empty()) return false;
    Packet p = flight_.front();
    flight_.pop_front();
    now_ = p.acked_at;
    in_flight_ -= p.bytes;
    rtt_.on_sample(p.acked_at - p.sent_at, 0, 0, false);
    CcAck ack;
    ack.now = now_;
    ack.bytes_acked = p.bytes;
    ack.largest_acked_sent_time = p.sent_at;
    ack.bytes_in_flight = in_flight_;
    ack.app_limited = app_limited;
    cc_.on_ack(ack, rtt_);
    ++acks_;
    return true;
  }
  // Steps until the next ACK would come after `t`.
  void run_until(uint64_t t) {
    while (true) {
      fill();
      if (flight_.empty() || flight_.front().acked_at > t) break;
      step();
    }
    if (now_ < t) now_ = t;
  }

  uint64_t now() const { return now_; }
  uint64_t bytes_in_flight() const { return in_flight_; }
  uint64_t acks() const { return acks_; }
  const RttEstimator& rtt() const { return rtt_; }
  // Send time of the newest packet in flight (for congestion events).
  uint64_t last_sent() const { return flight_.empty() ? now_ : flight_.back().sent_at; }

  // Sender not window-limited (RFC 9002 §7.8); it still fills the window.
  bool app_limited = false;

 private:
  struct Packet {
    uint64_t sent_at;
    uint64_t acked_at;
    uint64_t bytes;
  };

  void fill() {
    while (in_flight_ + mds_ <= cc_.cwnd()) {
      uint64_t out = now_;
      if (link_rate_ != 0) {
        // Serialisation in whole microseconds, rounded up.
        link_free_ = (link_free_ > now_ ? link_free_ : now_) + (mds_ * 1'000'000 + link_rate_ - 1) / link_rate_;
        out = link_free_;
      }
      flight_.push_back({now_, out + base_rtt_, mds_});
      in_flight_ += mds_;
      cc_.on_packet_sent(now_, mds_, in_flight_);
    }
  }

  CongestionController& cc_;
  uint64_t mds_;
  uint64_t base_rtt_;
  uint64_t link_rate_;
  RttEstimator rtt_;
  std::deque<Packet> flight_;
  uint64_t now_ = 0;
  uint64_t link_free_ = 0;
  uint64_t in_flight_ = 0;
  uint64_t acks_ = 0;
};

}  // namespace quicbed::test
