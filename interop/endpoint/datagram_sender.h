// Sends what connections write, in batches: the datagrams of one
// write_datagram() run are queued back to back, and each run of equal-sized
// ones to one destination (optionally ended by one shorter, the layout UDP
// GSO takes) leaves in one UdpSocket::send, which is one GSO sendmsg when
// the kernel has it.
// When the socket buffer is full the unsent rest stays queued until the
// next send; no datagram the connection wrote is lost to EAGAIN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "address.h"
#include "base/bytes.h"
#include "sys_status.h"
#include "udp_socket.h"

namespace quicbed {

class DatagramSender {
 public:
  struct Stats {
    uint64_t datagrams = 0;  // handed to the kernel
    uint64_t bytes = 0;
    uint64_t sends = 0;      // UdpSocket::send calls that sent something
    uint64_t dropped = 0;    // refused by the kernel (not EAGAIN): lost, QUIC recovers
  };

  // `max_datagram_size`: the most a write may produce; `max_queue`: datagrams
  // gathered before they are sent.
  DatagramSender(UdpSocket& socket, size_t max_datagram_size, size_t max_queue = 64);

  // Where a datagram goes: SendBatch's peer and source (empty peer: the
  // connected one; empty source: the kernel's choice), and the ECN
  // codepoint of its IP header (one per batch, so it splits runs).
  struct Destination {
    SocketAddress peer;
    SocketAddress source;
    Ecn ecn = Ecn::kNotEct;
    bool operator==(const Destination&) const = default;
  };

  // Sends what an earlier call left queued, then calls
  // write(MutBytes room, Destination& to) -> size_t until it returns 0,
  // sending as the queue fills and at the end; consecutive datagrams to one
  // destination share batches. ok, or would_block() when the socket buffer
  // is full (the rest stays queued: call again once it is writable).
  template <typename Write>
  SysStatus send(Write&& write) {
    QB_SYS_TRY(send_pending());
    for (bool more = true; more;) {
      while (count_ < queue_.size()) {
        Queued& q = queue_[count_];
        q.to = Destination();
        q.size = write(MutBytes(buffer_.data() + bytes_, max_datagram_size_), q.to);
        if (q.size == 0) {
          more = false;
          break;
        }
        ++count_;
        bytes_ += q.size;
      }
      QB_SYS_TRY(send_pending());
    }
    return SysStatus::ok();
  }

  // Sends the queue. ok once it is empty; would_block() if the socket is
  // still full. A datagram the kernel refuses otherwise is dropped, counted
  // and logged (-v).
  SysStatus send_pending();

  const Stats& stats() const { return stats_; }

 private:
  UdpSocket& socket_;
  size_t max_datagram_size_;
  struct Queued {
    size_t size = 0;
    Destination to;
  };
  std::vector<uint8_t> buffer_;  // the queued datagrams, back to back
  std::vector<Queued> queue_;
  size_t count_ = 0;           // queued
  size_t bytes_ = 0;           // queued bytes
  size_t first_ = 0;           // first not yet sent
  size_t first_offset_ = 0;    // its offset in buffer_
  Stats stats_;
};

}  // namespace quicbed
