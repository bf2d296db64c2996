// Post-handshake TLS messages a client receives in 1-RTT CRYPTO frames
// (RFC 9001 §4.1.3, RFC 8446 §4.6): once the handshake is complete the
// process no longer reads handshake messages, so the kernel assembles them
// here. A NewSessionTicket (RFC 8446 §4.6.1) is kept, the newest one
// replacing an older one not collected yet, for QUIC_SOCKOPT_SESSION_TICKET
// and QUIC_EVENT_NEW_SESSION_TICKET; a KeyUpdate is refused (RFC 9001 §6);
// other messages are dropped.
//
// The assembly buffer is allocated for the first message only, and one
// message is at most kMaxMessage bytes (the socket API's ticket bound).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/status.h"

namespace quicbed::kmod {

class PostHandshakeMessages {
 public:
  static constexpr size_t kMaxMessage = 4096;

  explicit PostHandshakeMessages(Allocator& alloc) : alloc_(alloc) {}
  ~PostHandshakeMessages();
  PostHandshakeMessages(const PostHandshakeMessages&) = delete;
  PostHandshakeMessages& operator=(const PostHandshakeMessages&) = delete;

  // The next bytes of the 1-RTT CRYPTO stream, in order. A TLS alert status
  // for a KeyUpdate, CRYPTO_BUFFER_EXCEEDED for a message too large,
  // kNoMemory.
  Status feed(Bytes data);
  // The whole NewSessionTicket message (type and length included) received
  // last and not taken yet; empty when none.
  Bytes ticket() const { return ticket_ready_ ? Bytes(buf_, len_) : Bytes(); }
  void take_ticket() { ticket_ready_ = false; }

 private:
  size_t body_len() const { return size_t{buf_[1]} << 16 | size_t{buf_[2]} << 8 | buf_[3]; }
  bool whole() const { return len_ >= 4 && len_ == 4 + body_len(); }

  Allocator& alloc_;
  uint8_t* buf_ = nullptr;  // kMaxMessage bytes once needed
  size_t len_ = 0;
  bool ticket_ready_ = false;
};

}  // namespace quicbed::kmod
