// Connection::PacketDraft: a packet being written, shared by the files that
// write packets (conn_send.cpp, conn_migration.cpp). Internal to the connection.
#pragma once

#include "conn.h"

namespace quicbed {

// The largest control frame: a type byte and up to three 8-byte varints
// (RESET_STREAM, §19.4). Stream::take_control wants the room checked first.
inline constexpr size_t kMaxControlFrameLen = 25;

// A packet being written: the header is in place, frames go through `w`,
// and sealing happens once the datagram's last packet is known (only that
// one gets the datagram's padding). The next packet of the datagram is
// written right after this one's end, so its length is settled (minimum
// padding included) before that one opens.
struct Connection::PacketDraft {
  PacketType type = PacketType::kInitial;
  size_t start = 0;          // offset of the packet in the datagram
  MutBytes bytes;            // from the packet's start to the datagram's end
  Writer w{MutBytes()};      // the packet less its AEAD tag
  size_t header_len = 0;
  size_t pn_offset = 0;
  size_t pn_len = 0;
  size_t length_offset = 0;  // long headers: the Length field
  SentPacket record;

  bool empty() const { return w.position() == header_len; }
  void add(const SentItem& item) { (void)record.items.push_back(item); }
  void mark_eliciting() {
    record.ack_eliciting = true;
    record.in_flight = true;
  }
  // PADDING frames (zero bytes, §19.1) until the packet, less its tag, is
  // `len` bytes long; they count in flight (RFC 9002 §2).
  Status pad_to(size_t len) {
    if (w.position() >= len) return Status::ok();
    QB_TRY(w.fill(0, len - w.position()));
    record.in_flight = true;
    return Status::ok();
  }
  // Room for one more recorded control frame.
  bool has_control_room() const { return !record.items.full() && w.remaining() >= kMaxControlFrameLen; }
};

}  // namespace quicbed
