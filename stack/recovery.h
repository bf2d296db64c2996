// Loss detection and probe timeouts, RFC 9002 §5-§7 and Appendix A, in
// integer microseconds. Recovery owns the sent-packet records of the three
// packet number spaces, the RTT estimator and bytes_in_flight; it tells the
// connection which packets were acknowledged, lost or discarded (so that it
// can release or requeue what they carried) and drives the congestion
// controller. It never reads a clock: every entry point takes `now`.
//
// Callbacks run synchronously inside the calls below; the connection must
// not call back into Recovery from them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/fixed_point.h"
#include "base/intrusive_list.h"
#include "base/status.h"
#include "cc/congestion_controller.h"
#include "cc/delivery_rate.h"
#include "ecn_validation.h"
#include "frame.h"
#include "packet_type.h"
#include "rtt.h"
#include "sent_packet.h"

namespace quicbed {

// RFC 9002 §6.1.1.
inline constexpr uint64_t kPacketThreshold = 3;
// RFC 9002 §6.1.2: kTimeThreshold = 9/8.
inline constexpr uint64_t kTimeThresholdNum = 9;
inline constexpr uint64_t kTimeThresholdDen = 8;
// RFC 9002 §7.6.1.
inline constexpr uint64_t kPersistentCongestionThreshold = 3;
// RFC 9000 §18.2: max_ack_delay when the peer's transport parameters do not
// say otherwise.
inline constexpr uint64_t kDefaultMaxAckDelayUs = 25'000;
// A time that never comes: a disarmed timer.
inline constexpr uint64_t kNever = kU64Max;

// The connection's side of the packet fates. The packet's memory is freed
// when the callback returns.
class RecoveryEvents {
 public:
  virtual void on_packet_acked(const SentPacket& p) = 0;
  // Declared lost (RFC 9002 §6.1): requeue what it carried.
  virtual void on_packet_lost(const SentPacket& p) = 0;
  // Its space's keys were discarded (§6.4): neither acked nor lost.
  virtual void on_packet_discarded(const SentPacket& p) = 0;
  // What an ACK frame that newly acknowledged something says about ECN,
  // after on_packet_acked for its packets. True when its counts may be
  // used (RFC 9000 §13.4.2.2: validated); a grown ECN-CE count is then a
  // congestion event (RFC 9002 §7.1). By default the counts are trusted.
  virtual bool on_ecn_feedback(const AckEcnFeedback& f) { return f.has_counts; }

 protected:
  ~RecoveryEvents() = default;
};

struct RecoveryConfig {
  bool is_server = false;
  uint64_t max_ack_delay_us = kDefaultMaxAckDelayUs;
  // Sent-packet records alive at once, all spaces together; must exceed
  // Recovery::kProbeReserve.
  size_t max_outstanding = 1024;
};

// What on_loss_detection_timeout asks the connection to do.
struct LossTimerAction {
  enum class Kind : uint8_t {
    kNone,          // the timer had not expired
    kLossDeclared,  // time-threshold losses were reported through on_packet_lost
    kProbe,         // send `probes` ack-eliciting packets in `space` (§6.2.4)
  };
  Kind kind = Kind::kNone;
  PnSpace space = PnSpace::kInitial;
  // §6.2.4: a PTO allows up to two probes; the client's anti-deadlock probe
  // (§6.2.2.1) is one padded Initial or one Handshake packet.
  uint8_t probes = 0;
};

class Recovery {
 public:
  // Records held back from ordinary sends so that a PTO can always send its
  // probes (§6.2.4) even when the record bound is reached.
  static constexpr size_t kProbeReserve = 2;

  Recovery(Allocator& alloc, CongestionController& cc, RecoveryEvents& events, const RecoveryConfig& config);
  // Frees every record without callbacks: the connection is going away.
  ~Recovery();
  Recovery(const Recovery&) = delete;
  Recovery& operator=(const Recovery&) = delete;

  // Back-pressure on the record bound: whether one more in-flight packet
  // may be sent now. A PTO probe (`probe`) may use the reserve. Packets not
  // in flight are never recorded, so the bound does not hold them back.
  bool can_send(bool probe) const;

  // RFC 9002 §A.5, for every packet number the connection uses.
  // p.time_sent is now; packet numbers increase per space. Only packets in
  // flight get a record: one that is not (ACK-only, RFC 9002 §2) is neither
  // lost nor counted, and leaves only its number, so that the peer may
  // acknowledge it (RFC 9000 §13.1), and its send time while it is the
  // newest such packet, for an RTT sample (§5.1); its items are not kept.
  // kLimitExceeded when the record bound is reached, kNoMemory when the
  // allocator refuses, kInvalidArgument for a packet number that does not
  // increase or an ack-eliciting packet not counted in flight.
  Status on_packet_sent(const SentPacket& p);

  // RFC 9002 §A.7 for an ACK frame received in `space`. ack_delay_us is the
  // ACK Delay field already scaled by the peer's ack_delay_exponent;
  // `has_ecn` says the frame was ACK_ECN (type 0x03). Acknowledging a packet
  // number never used is PROTOCOL_VIOLATION (RFC 9000 §13.1); nothing
  // changes then. An acknowledged packet without a record does not end a
  // persistent congestion period (§7.6.2): only records are in send order.
  Status on_ack_received(PnSpace space, const AckFrame& ack, bool has_ecn, uint64_t ack_delay_us, uint64_t now);

  // The loss detection timer (§6.1.2 loss time, or §6.2 PTO); kNever when
  // disarmed. Changes after every call that takes `now`.
  uint64_t loss_detection_timer() const { return timer_; }
  // RFC 9002 §A.9.
  LossTimerAction on_loss_detection_timeout(uint64_t now);

  // RFC 9002 §6.4 / §A.11: Initial or Handshake keys were discarded, or
  // (Application) a client's 0-RTT was rejected: every record of the space
  // leaves flight through on_packet_discarded, without congestion signal.
  // Packet numbers continue where they were.
  void discard_space(PnSpace space, uint64_t now);

  // Inputs from the handshake that change the timer (§6.2.1, §6.2.2.1).
  void on_handshake_keys_available(uint64_t now);
  void on_handshake_confirmed(uint64_t now);
  // Server: the anti-amplification limit (RFC 9000 §8.1) blocks sending,
  // so no timer is armed (§6.2.2.1).
  void set_amplification_blocked(bool blocked, uint64_t now);
  // From the peer's transport parameters; the Application space PTO is
  // armed only after confirmation, so no timer depends on it before.
  void set_peer_max_ack_delay(uint64_t us) { max_ack_delay_ = us; }
  // RFC 9000 §9.4: the RTT estimate starts over on a new path (the
  // congestion controller is the caller's to reset).
  void on_path_changed() {
    rtt_.reset();
    first_rtt_sample_time_ = 0;
    pto_count_ = 0;
  }
  // Back on a path whose estimate was kept (an abandoned migration).
  void restore_rtt(const RttEstimator& rtt) {
    rtt_ = rtt;
    pto_count_ = 0;
  }
  // RFC 9002 §7.8: passed on to the controller with each ACK.
  void set_app_limited(bool app_limited) { app_limited_ = app_limited; }
  // The connection had nothing to send while the window and the pacer
  // allowed more: delivery rate samples of the current flight are
  // app-limited (draft-ietf-ccwg-bbr §4.1.2.4).
  void mark_app_limited() { rate_.mark_app_limited(bytes_in_flight_); }
  const DeliveryRateEstimator& delivery_rate() const { return rate_; }

  const RttEstimator& rtt() const { return rtt_; }
  uint64_t bytes_in_flight() const { return bytes_in_flight_; }
  // Ack-eliciting packets of `space` in flight: an ACK of them is coming.
  size_t ack_eliciting_in_flight(PnSpace space) const {
    return spaces_[idx(space)].ack_eliciting_in_flight;
  }
  uint32_t pto_count() const { return pto_count_; }
  size_t outstanding() const { return send_order_.size(); }
  // kNever until an ACK was received in the space.
  uint64_t largest_acked(PnSpace space) const { return spaces_[idx(space)].largest_acked; }
  // The PTO period without backoff, max_ack_delay included (§6.2.1): the
  // unit of RFC 9000's idle (§10.1) and closing (§10.2) timers, and of §7.6.1.
  uint64_t pto_period() const { return sat_add(rtt_.pto_base(), max_ack_delay_); }

 private:
  struct SpaceTag {};
  struct SendOrderTag {};
  // A record is in its space's list (packet number order) and in the list
  // of all spaces in send order, which persistent congestion (§7.6.2)
  // needs to see acknowledgments across spaces.
  struct Record : ListHook<SpaceTag>, ListHook<SendOrderTag> {
    SentPacket packet;
    // A packet sent between the previous record in send order and this one
    // was acknowledged.
    bool ack_before = false;
  };
  using SpaceList = IntrusiveList<Record, SpaceTag>;

  struct Space {
    SpaceList sent;
    uint64_t largest_sent = kNever;  // recorded or not
    // The newest packet sent without a record, for an RTT sample when it is
    // the largest acknowledged (§5.1).
    uint64_t unrecorded_pn = kNever;
    uint64_t unrecorded_time = 0;
    uint64_t largest_acked = kNever;
    uint64_t loss_time = kNever;
    uint64_t time_of_last_ack_eliciting = 0;
    size_t ack_eliciting_in_flight = 0;
    uint64_t ecn_ce = 0;
  };

  static constexpr size_t idx(PnSpace s) { return static_cast<size_t>(s); }

  void take_acked(Space& s, const AckFrame& ack, SpaceList& acked);
  void detect_lost(Space& s, uint64_t now, SpaceList& lost);
  void on_packets_lost(SpaceList& lost, uint64_t now);
  bool in_persistent_congestion(const SpaceList& lost) const;
  bool acked_between(const Record* a, const Record* b) const;
  void unlink(Record* r, bool acked);
  void set_loss_detection_timer(uint64_t now);
  uint64_t earliest_loss_time(PnSpace* space) const;
  uint64_t pto_time_and_space(uint64_t now, PnSpace* space) const;
  uint64_t backoff(uint64_t duration) const;
  size_t ack_eliciting_in_flight() const;
  bool peer_completed_address_validation() const;

  Allocator& alloc_;
  CongestionController& cc_;
  RecoveryEvents& events_;
  const bool is_server_;
  const size_t max_outstanding_;
  uint64_t max_ack_delay_;

  RttEstimator rtt_;
  Space spaces_[kNumPnSpaces];
  IntrusiveList<Record, SendOrderTag> send_order_;
  // An acknowledged packet was the newest record: the next one sent
  // inherits its ack_before.
  bool ack_after_last_ = false;
  uint64_t first_rtt_sample_time_ = 0;
  uint64_t bytes_in_flight_ = 0;
  uint64_t timer_ = kNever;
  uint32_t pto_count_ = 0;
  bool handshake_keys_ = false;
  bool handshake_confirmed_ = false;
  bool handshake_ack_received_ = false;
  bool amplification_blocked_ = false;
  bool app_limited_ = false;
  DeliveryRateEstimator rate_;
};

}  // namespace quicbed
