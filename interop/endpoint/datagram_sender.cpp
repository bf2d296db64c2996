#include "datagram_sender.h"

#include "log.h"

namespace quicbed {

DatagramSender::DatagramSender(UdpSocket& socket, size_t max_datagram_size, size_t max_queue)
    : socket_(socket),
      max_datagram_size_(max_datagram_size),
      buffer_(max_datagram_size * max_queue),
      queue_(max_queue) {}

SysStatus DatagramSender::send_pending() {
  while (first_ < count_) {
    // The run starting at first_: one destination, equal sizes, then at
    // most one shorter.
    const Queued& head = queue_[first_];
    const size_t segment = head.size;
    size_t end = first_ + 1;
    size_t len = segment;
    while (end < count_ && queue_[end].size == segment && queue_[end].to == head.to) len += queue_[end++].size;
    if (end < count_ && queue_[end].size < segment && queue_[end].to == head.to) len += queue_[end++].size;

    SendBatch batch;
    batch.peer = head.to.peer;
    batch.source = head.to.source;
    batch.ecn = head.to.ecn;
    batch.data = Bytes(buffer_.data() + first_offset_, len);
    batch.segment_size = end - first_ > 1 ? segment : 0;
    size_t sent = 0;
    SysStatus st = socket_.send(batch, &sent);
    if (sent > 0) ++stats_.sends;
    stats_.datagrams += sent;
    for (size_t i = 0; i < sent; ++i) {
      stats_.bytes += queue_[first_].size;
      first_offset_ += queue_[first_++].size;
    }
    if (st.would_block()) return st;
    if (!st.is_ok()) {
      // Not "later" but "never" for this datagram (EMSGSIZE, an ICMP error
      // reported on a connected socket): it counts as lost.
      log_info("send to %s: %s (datagram dropped)", queue_[first_].to.peer.to_string().c_str(), st.message().c_str());
      ++stats_.dropped;
      first_offset_ += queue_[first_++].size;
    }
  }
  count_ = bytes_ = first_ = first_offset_ = 0;
  return SysStatus::ok();
}

}  // namespace quicbed
