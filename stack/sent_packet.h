// What loss detection remembers about one sent packet (RFC 9002 §A.1.1),
// and what the connection attaches to it so that it can requeue or release
// the packet's content when the packet is acknowledged, lost or discarded.
#pragma once

#include <cstdint>

#include "base/bounded.h"
#include "ecn.h"
#include "packet_type.h"

namespace quicbed {

// One thing a packet carried, in the connection's own encoding (e.g. kind =
// STREAM, id = stream ID, offset and length = the data range, flags = FIN).
// Recovery stores these and hands them back; it never reads them, so frame
// semantics stay in the connection.
struct SentItem {
  uint8_t kind = 0;
  uint8_t flags = 0;
  uint32_t length = 0;
  uint64_t id = 0;
  uint64_t offset = 0;
  constexpr bool operator==(const SentItem&) const = default;
};

// A packet builder stops adding retransmittable frames when a packet's item
// list is full: a bound per packet, not per connection.
inline constexpr size_t kMaxSentItems = 8;

struct SentPacket {
  uint64_t pn = 0;
  uint64_t time_sent = 0;  // microseconds
  uint64_t bytes = 0;      // UDP payload bytes the packet occupied
  PnSpace space = PnSpace::kInitial;
  // RFC 9002 §2: ack-eliciting packets are a subset of in-flight ones
  // (in flight = ack-eliciting or PADDING); ACK-only packets are neither.
  bool ack_eliciting = false;
  bool in_flight = false;
  // Delivery rate estimation state at send time (draft-ietf-ccwg-bbr
  // §4.1.2.2 P.*), stamped by Recovery's DeliveryRateEstimator.
  bool is_app_limited = false;
  uint64_t delivered = 0;        // bytes delivered before it was sent
  uint64_t delivered_time = 0;   // when that count last grew
  uint64_t first_sent_time = 0;  // send time of the flight's first packet
  uint64_t tx_in_flight = 0;     // bytes in flight just after it was sent
  uint64_t lost = 0;             // bytes declared lost before it was sent
  // The ECN codepoint of its datagram (RFC 9000 §13.4.2: validation
  // compares the peer's counts with the marks of acknowledged packets).
  Ecn ecn = Ecn::kNotEct;
  // A DPLPMTUD probe (RFC 9000 §14.4): its loss is no congestion signal.
  bool mtu_probe = false;
  BoundedVec<SentItem, kMaxSentItems> items;
};

}  // namespace quicbed
