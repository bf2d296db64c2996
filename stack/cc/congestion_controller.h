// The one small interface every congestion controller implements (RFC 9002
// §7, Appendix B's hooks). Loss detection (recovery) calls it; the
// controller only decides how much may be in flight and how fast to pace.
// Integer-only: windows in bytes, times in microseconds, rates in bytes/s.
#pragma once

#include <cstdint>

#include "cc/delivery_rate.h"
#include "rtt.h"

namespace quicbed {

enum class CcAlgorithm : uint8_t { kNewReno, kCubic, kBbr };

// ns-3's TcpSocketState names, for the CongState trace (design: ns-3 idioms);
// BBR reports its own modes (draft-ietf-ccwg-bbr §5.3) instead.
enum class CcState : uint8_t {
  kSlowStart,
  kCongestionAvoidance,
  kRecovery,
  kBbrStartup,
  kBbrDrain,
  kBbrProbeBwDown,
  kBbrProbeBwCruise,
  kBbrProbeBwRefill,
  kBbrProbeBwUp,
  kBbrProbeRtt,
};

// The loss recovery a controller is in, whatever its algorithm's own state
// (BBR's modes included): what ns-3's TCP reports as its congestion state
// (the ns-3 module maps kNone to CA_OPEN, kLoss to CA_RECOVERY, kEcn to
// CA_CWR, kPersistentCongestion to CA_LOSS).
enum class CcRecovery : uint8_t {
  kNone,
  kLoss,  // a recovery period a loss started (RFC 9002 §7.3.2)
  kEcn,   // one an increase of the ECN-CE count started (§7.1)
  // The window collapsed to the minimum (§7.6.2), and no packet sent since
  // has been acknowledged.
  kPersistentCongestion,
};

struct CcAck {
  uint64_t now = 0;
  uint64_t bytes_acked = 0;              // in-flight bytes newly acknowledged
  uint64_t largest_acked_sent_time = 0;  // send time of the largest newly acked packet
  uint64_t bytes_in_flight = 0;          // after removing the acked packets
  bool app_limited = false;              // RFC 9002 §7.8: sender was not cwnd-limited
  // The delivery rate sample of this ACK (draft-ietf-ccwg-bbr §4.1.2), or
  // nullptr where no estimator runs. The loss-based controllers ignore it.
  const RateSample* rate = nullptr;
};

// One packet declared lost, with its delivery state (draft-ietf-ccwg-bbr
// §5.5.10.2 BBRHandleLostPacket).
struct CcLoss {
  uint64_t now = 0;
  uint64_t bytes = 0;
  uint64_t tx_in_flight = 0;     // bytes in flight just after it was sent
  uint64_t lost_since_sent = 0;  // C.lost - P.lost, this packet included
  bool is_app_limited = false;
  uint64_t bytes_in_flight = 0;  // after removing it
};

class CongestionController {
 public:
  virtual const char* name() const = 0;
  virtual void on_packet_sent(uint64_t now, uint64_t bytes, uint64_t bytes_in_flight) = 0;
  virtual void on_ack(const CcAck& ack, const RttEstimator& rtt) = 0;
  // RFC 9002 §7.3.2 / B.6: a loss, or an increase of the peer's ECN-CE count
  // (§7.1, `ecn`), for a packet sent at `sent_time`. Events for packets sent
  // before the current recovery period started do not reduce again.
  virtual void on_congestion_event(uint64_t now, uint64_t sent_time, bool ecn) = 0;
  // RFC 9002 §7.6.2: the window collapses to the minimum.
  virtual void on_persistent_congestion(uint64_t now) = 0;
  // Each lost packet, before the congestion event that covers them; only
  // model-based controllers need the detail.
  virtual void on_packet_lost(const CcLoss&) {}
  // The connection's maximum datagram size changed (DPLPMTUD, RFC 9000
  // §14.3): window growth and the minimum window (RFC 9002 §7.2) follow.
  // bytes: 1..kMaxCcDatagramSize.
  virtual void set_max_datagram_size(uint64_t bytes) = 0;
  virtual uint64_t max_datagram_size() const = 0;
  // After an ACK: the controller holds the flight below what the path
  // carries on purpose (BBR's ProbeRTT), so the delivery rate samples of
  // the current flight must count as app-limited (draft-ietf-ccwg-bbr
  // §5.3.4.4).
  virtual bool wants_app_limited_samples() const { return false; }

  virtual uint64_t cwnd() const = 0;
  virtual uint64_t ssthresh() const = 0;
  virtual CcState state() const = 0;
  virtual CcRecovery recovery() const = 0;
  // Bytes per second the pacer releases (RFC 9002 §7.7).
  virtual uint64_t pacing_rate(const RttEstimator& rtt) const = 0;
  // Bytes the pacer may release back to back (draft-ietf-ccwg-bbr §5.6.3
  // send quantum); 0 leaves the host's burst.
  virtual uint64_t send_quantum() const { return 0; }

 protected:
  ~CongestionController() = default;
};

}  // namespace quicbed
