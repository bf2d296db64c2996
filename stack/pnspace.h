// One packet number space of a connection (RFC 9000 §12.3): what was
// received and the acknowledgments it calls for (§13.2), the next packet
// number to send, the keys of the space's encryption level in both
// directions, and that level's CRYPTO data (§19.6) both ways: received
// bytes reassembled for TLS, sent bytes kept until acknowledged.
//
// 0-RTT and 1-RTT share the Application space; the 0-RTT keys live in the
// connection (conn_early.cpp), apart from the 1-RTT ones here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ack_ranges.h"
#include "base/allocator.h"
#include "base/bytes.h"
#include "base/status.h"
#include "ecn.h"
#include "frame.h"
#include "packet_type.h"
#include "protection.h"
#include "reassembly.h"
#include "send_buffer.h"

namespace quicbed {

// When to acknowledge (RFC 9000 §13.2.1, §13.2.2). Initial and Handshake
// packets are acknowledged at once; in the Application space an ACK waits
// for a second ack-eliciting packet or max_ack_delay, unless packets arrive
// out of order.
class AckState {
 public:
  // §13.2.2: "an ACK frame SHOULD be sent after receiving at least two
  // ack-eliciting packets".
  static constexpr uint32_t kAckElicitingThreshold = 2;

  explicit AckState(bool immediate) : immediate_(immediate) {}

  // Records `pn` (already decoded and authenticated) and the datagram's ECN
  // mark. False for a duplicate, which is dropped unprocessed (§12.3).
  [[nodiscard]] bool on_packet_received(uint64_t pn, Ecn ecn, uint64_t now);
  // The packet's frames were processed: schedule the ACK. max_ack_delay_us
  // is our own transport parameter (§18.2), the promise we keep.
  void on_packet_processed(bool ack_eliciting, uint64_t now, uint64_t max_ack_delay_us);

  // The largest packet number received (packet number decoding, §A.3);
  // kNoPacketNumber before the first.
  uint64_t largest() const;
  // Some received packet is not yet covered by an ACK we sent: an ACK
  // frame may ride on any packet sent in this space.
  bool has_ack() const { return pending_ && !ranges_.ranges().empty(); }
  // Some ack-eliciting packet is among them. RFC 9000 §13.2.1: packets
  // that elicit nothing (the peer's ACK-only packets) need no ACK of their
  // own; they are "eventually acknowledged" by the next ACK we send for
  // another reason, so ACKs need not ride on every packet for them.
  bool owes_ack() const { return has_ack() && eliciting_ > 0; }
  // Ranges the next ACK frame would carry: beyond one, they are state that
  // only an acknowledgment of one of our ACKs lets us drop (§13.2.4).
  size_t range_count() const { return ranges_.ranges().size(); }
  // An ACK-only packet is due at `now` (§13.2.1: only ack-eliciting packets
  // make one due).
  bool ack_due(uint64_t now) const { return has_ack() && now >= deadline_; }
  // When ack_due becomes true without more input; kNever if it will not.
  uint64_t deadline() const { return has_ack() ? deadline_ : ~uint64_t{0}; }

  // Writes the ACK frame (ACK_ECN once an ECN mark was seen, §13.4.1), its
  // ACK Delay scaled down by `ack_delay_exponent` (§19.3); returns the
  // Largest Acknowledged it carries. kBufferTooSmall if it does not fit.
  Result<uint64_t> write_ack(Writer& w, uint64_t now, uint64_t ack_delay_exponent);
  // A packet carrying our ACK with `largest` was acknowledged: those packet
  // numbers need no repeating (§13.2.4).
  void on_ack_acked(uint64_t largest) { ranges_.remove_below(largest + 1); }

 private:
  AckRanges ranges_;
  EcnCounts ecn_{0, 0, 0};
  bool immediate_;
  bool pending_ = false;      // packets received since the last ACK sent
  bool out_of_order_ = false;  // the last packet received left or filled a gap
  uint32_t eliciting_ = 0;    // ack-eliciting packets since the last ACK sent
  uint64_t deadline_ = ~uint64_t{0};
  uint64_t largest_time_ = 0;  // when the largest packet number arrived (§13.2.5)
};

struct CryptoLimits {
  // CRYPTO bytes buffered beyond what TLS has read (§7.5: at least 4096;
  // beyond it, CRYPTO_BUFFER_EXCEEDED) and the gaps they may leave.
  uint64_t recv_window = 16 * 1024;
  size_t recv_segments = 16;
  // CRYPTO bytes TLS may have us send before they are acknowledged.
  uint64_t send_buffer = 64 * 1024;
};

class PacketNumberSpace {
 public:
  PacketNumberSpace(Allocator& alloc, PnSpace id, const CryptoLimits& limits);
  PacketNumberSpace(const PacketNumberSpace&) = delete;
  PacketNumberSpace& operator=(const PacketNumberSpace&) = delete;

  PnSpace id() const { return id_; }
  // RFC 9001 §4.9: keys, CRYPTO data and acknowledgment state go away for
  // good; packets of the space are dropped from then on.
  void discard();
  bool discarded() const { return discarded_; }
  bool can_send() const { return !discarded_ && write.ready(); }
  bool can_receive() const { return !discarded_ && read.ready(); }

  // Makes sure the peer gets CRYPTO data sent but not yet acknowledged once
  // more: for a PTO probe (RFC 9002 §6.2.4), which carries it again. True
  // if there was such data.
  bool requeue_crypto();

  // RFC 9001 §6 (Application space): derives the keys of the peer's next
  // key phase ahead of time, so that a packet in the other phase costs a
  // decryption attempt and never a key derivation (§9.5: no timing signal
  // of whether the update was genuine).
  Status prepare_next_read() { return read.payload().next_generation(next_read); }
  // Packet `pn` in the other phase opened with next_read: it becomes the
  // read key, and the one it replaces stays as prev_read until
  // `discard_prev_at` (§6.5: delayed packets of the old phase still open).
  void rotate_read(uint64_t pn, uint64_t discard_prev_at);
  // §6.5: the previous phase's read key goes (its time ran out).
  void discard_prev_read() {
    prev_read.reset();
    prev_read_discard_at = ~uint64_t{0};
  }
  // Our write keys move to the next phase (initiating, or answering).
  Status rotate_write();

  AckState acks;
  PacketProtection read;   // opens the peer's packets
  PacketProtection write;  // seals ours
  ReassemblyBuffer crypto_in;
  SendBuffer crypto_out;
  uint64_t next_pn = 0;
  uint8_t probes = 0;  // PTO probe packets still to send (RFC 9002 §6.2.4)
  // RFC 9001 §6: the Key Phase bit of each direction, the first packet
  // number we sent in our current phase, and how many updates each
  // direction's keys went through.
  PayloadProtection next_read;
  // §6.5: the read key of the phase before the current one, for packets
  // that a reordering network delivers after the update, until
  // prev_read_discard_at. Which of prev_read and next_read opens a packet
  // of the other phase follows from its packet number: below
  // read_phase_first_pn (the lowest received in the current phase) it is
  // an old one.
  PayloadProtection prev_read;
  uint64_t prev_read_discard_at = ~uint64_t{0};
  uint64_t read_phase_first_pn = 0;
  // §6.2: we sent, under write keys of the current read generation, an ACK
  // of a packet of the current read phase; until then the peer may not
  // start another update.
  bool read_phase_acked = false;
  bool read_phase = false;
  bool write_phase = false;
  uint64_t first_pn_in_write_phase = 0;
  uint64_t read_generation = 0;
  uint64_t write_generation = 0;

 private:
  Allocator& alloc_;
  PnSpace id_;
  CryptoLimits limits_;
  bool discarded_ = false;
};

}  // namespace quicbed
