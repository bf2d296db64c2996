// Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation, as
// draft-ietf-ccwg-bbr §4.1.2 uses it): each sent packet is stamped with the
// connection's delivery state, and each ACK turns the newest acknowledged
// packet's stamp into a rate sample, delivered bytes over the longer of the
// send and ACK intervals. Integer-only: bytes, microseconds, bytes/s.
//
// Recovery owns one estimator per connection: it sees every in-flight
// packet sent, acknowledged and lost, and bytes_in_flight.
#pragma once

#include <cstdint>

#include "base/fixed_point.h"
#include "sent_packet.h"

namespace quicbed {

// The per-ACK sample (draft-ietf-ccwg-bbr §2.2 "RS").
struct RateSample {
  uint64_t delivery_rate = 0;    // bytes/s; 0 when the interval was too short
  bool is_app_limited = false;   // the newest acked packet was sent app-limited
  uint64_t interval = 0;         // us, max(send_elapsed, ack_elapsed)
  uint64_t delivered = 0;        // bytes delivered over the interval
  uint64_t prior_delivered = 0;  // P.delivered of the newest acked packet
  uint64_t prior_time = 0;       // P.delivered_time of the newest acked packet
  uint64_t send_elapsed = 0;
  uint64_t ack_elapsed = 0;
  uint64_t rtt = 0;              // us, of the newest acked packet
  uint64_t tx_in_flight = 0;     // bytes in flight when it was sent
  uint64_t lost = 0;             // bytes lost between its send and this ACK
  uint64_t newly_acked = 0;      // bytes this ACK acknowledged
  uint64_t newly_lost = 0;       // bytes this ACK processing declared lost
  uint64_t conn_delivered = 0;   // C.delivered after this ACK
  bool valid = false;            // some acked packet carried delivery state
};

class DeliveryRateEstimator {
 public:
  // Stamps `p` (time_sent, bytes set) before it joins the flight;
  // bytes_in_flight is the count before it.
  void on_packet_sent(SentPacket& p, uint64_t bytes_in_flight);
  // A new ACK is being processed: resets the per-ACK sample.
  void begin_ack();
  // Each newly acknowledged in-flight packet, in any order.
  void on_packet_acked(const SentPacket& p, uint64_t now);
  // Each packet declared lost.
  void on_packet_lost(const SentPacket& p);
  // The sample for this ACK (draft §4.1.2.3 GenerateRateSample). A sample
  // whose interval is shorter than min_rtt (kU64Max: unknown) has rate 0:
  // ACK compression would otherwise overestimate the rate.
  const RateSample& finish_ack(uint64_t min_rtt);
  // The sender has nothing to send while the window allows more (draft
  // §4.1.2.4): samples until the current flight is delivered are
  // app-limited.
  void mark_app_limited(uint64_t bytes_in_flight);

  uint64_t delivered() const { return delivered_; }
  uint64_t lost() const { return lost_; }
  bool app_limited() const { return app_limited_ != 0; }
  const RateSample& sample() const { return rs_; }

 private:
  uint64_t delivered_ = 0;       // C.delivered
  uint64_t delivered_time_ = 0;  // C.delivered_time
  uint64_t first_sent_time_ = 0; // C.first_send_time
  uint64_t app_limited_ = 0;     // C.app_limited: delivered mark ending the bubble, 0 = none
  uint64_t lost_ = 0;            // C.lost
  uint64_t newest_sent_ = 0;     // send time of the sample's packet
  RateSample rs_;
};

}  // namespace quicbed
