// ECN on the sending side (RFC 9000 §13.4.2, Appendix A.4; RFC 9002 §7.1,
// B.7): which codepoint our packets carry, and whether the path and the
// peer can be trusted with it. The receiving side (counting the marks of
// received packets and reporting them in ACK_ECN frames, §13.4.1) lives in
// AckState (pnspace.h).
//
// The state machine is Appendix A.4's:
//   testing  -> the first kTestingPackets packets go out marked ECT(0), or
//               fewer if kTestingPtos probe timeouts pass first (§13.4.2:
//               "or for a period of three PTOs"), or one PTO while no
//               marked packet was ever acknowledged: a path that drops
//               marked packets then costs the handshake one PTO, not
//               three growing ones (a merely lost packet is acknowledged
//               later and validates as usual);
//   unknown  -> testing is over, no validation yet: packets go unmarked;
//   capable  -> an ACK_ECN frame accounted for newly acknowledged marked
//               packets: every packet is marked from then on;
//   failed   -> validation failed (or every marked packet was lost): no
//               more marks for the rest of the connection.
// Validation runs on every ACK frame that increases the largest
// acknowledged packet number (§13.4.2.1: reordered ACKs cannot fail it),
// in every state but failed, so a path that starts bleaching or a peer
// that starts misreporting is caught later too.
//
// Only ECT(0) is ever sent (§13.4.2: ECT(1) is for L4S-style experiments).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ecn.h"
#include "frame.h"
#include "packet_type.h"

namespace quicbed {

// RFC 9000 Appendix A.4 names; kDisabled: the host cannot mark (or does not
// want to), nothing is marked and nothing validated.
enum class EcnState : uint8_t { kTesting, kUnknown, kFailed, kCapable, kDisabled };

// Why validation failed, for traces and tests.
enum class EcnFailure : uint8_t {
  kNone,
  kMissingCounts,    // an ACK newly acknowledged marked packets without ECN counts
  kCountsDecreased,  // a count went down
  kEct1Reported,     // ECT(1) counted, though we only send ECT(0)
  kTooManyMarks,     // more marked packets counted than we ever sent marked
  kMarksMissing,     // ECT(0) + CE grew by less than the newly acked ECT(0) packets (bleaching)
  kAllMarkedLost,    // every marked packet was lost (or discarded) unacknowledged
};

// What one ACK frame says about ECN (Recovery gathers it).
struct AckEcnFeedback {
  PnSpace space = PnSpace::kInitial;
  bool has_counts = false;          // ACK_ECN (type 0x03)
  EcnCounts counts{0, 0, 0};        // only with has_counts
  bool largest_newly_acked = false;  // the frame raised the largest acknowledged
  uint64_t newly_acked_ect0 = 0;    // newly acknowledged packets sent with ECT(0)
  uint64_t newly_acked_marked = 0;  // ... with any ECT codepoint
};

class EcnValidator {
 public:
  // §13.4.2: "the first ten outgoing packets on a path".
  static constexpr uint64_t kTestingPackets = 10;
  static constexpr uint32_t kTestingPtos = 3;

  explicit EcnValidator(bool enabled) : state_(enabled ? EcnState::kTesting : EcnState::kDisabled) {}

  EcnState state() const { return state_; }
  EcnFailure failure() const { return failure_; }
  // The codepoint of the next datagram's packets.
  Ecn codepoint() const {
    return state_ == EcnState::kTesting || state_ == EcnState::kCapable ? Ecn::kEct0 : Ecn::kNotEct;
  }

  // Every packet number we use, with the codepoint of its datagram;
  // `in_flight`: the packet has a loss detection record (RFC 9002 §2).
  void on_packet_sent(PnSpace space, Ecn ecn, bool in_flight);
  // A packet with a record was declared lost, or its space's keys went
  // first (RFC 9002 §6.4).
  void on_packet_lost(Ecn ecn);
  void on_packet_discarded(Ecn ecn);
  // The probe timeout expired (RFC 9002 §6.2).
  void on_pto();
  // The connection moved to another path: §13.4.2, "Endpoints validate ECN
  // for packets sent on each network path independently", so testing
  // starts again there (unless ECN is off). The peer's counts stay: they
  // are totals per packet number space, whatever the path.
  void restart();
  // Validates the counts of one ACK frame (§13.4.2.1). Returns true when
  // they are trustworthy and the ECN-CE count grew: a congestion signal
  // (RFC 9002 §7.1), which the caller hands to the congestion controller.
  bool on_ack(const AckEcnFeedback& f);

  // The counts the peer reported last in a space (validated ones).
  const EcnCounts& peer_counts(PnSpace space) const { return spaces_[static_cast<size_t>(space)].reported; }

 private:
  struct Space {
    uint64_t marked_sent = 0;  // every packet sent with ECT(0), records or not
    EcnCounts reported{0, 0, 0};
  };
  void fail(EcnFailure why);
  // §13.4.2: every marked packet resolved, all of them lost.
  void check_all_lost();

  EcnState state_;
  EcnFailure failure_ = EcnFailure::kNone;
  uint64_t testing_sent_ = 0;
  uint32_t testing_ptos_ = 0;
  // Marked packets with a record not yet acknowledged, lost or discarded,
  // how many were lost or discarded, and how many acknowledged: once
  // testing is over, all of them gone and none acknowledged means the
  // marks may be why (§13.4.2).
  uint64_t marked_outstanding_ = 0;
  uint64_t marked_unacked_ = 0;
  uint64_t marked_acked_ = 0;
  Space spaces_[kNumPnSpaces];
};

}  // namespace quicbed
