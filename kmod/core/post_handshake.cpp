#include "post_handshake.h"

#include "keys.h"  // wipe
#include "tls.h"

namespace quicbed::kmod {

namespace {
// RFC 8446 §4: HandshakeType values.
constexpr uint8_t kNewSessionTicket = 4;
constexpr uint8_t kKeyUpdate = 24;
}  // namespace

PostHandshakeMessages::~PostHandshakeMessages() {
  if (!buf_) return;
  wipe(buf_, kMaxMessage);
  alloc_.deallocate(buf_, kMaxMessage);
}

Status PostHandshakeMessages::feed(Bytes data) {
  if (data.empty()) return Status::ok();
  if (!buf_) {
    buf_ = static_cast<uint8_t*>(alloc_.allocate(kMaxMessage, 1));
    if (!buf_) return ErrorCode::kNoMemory;
  }
  size_t at = 0;
  while (at < data.size()) {
    // A whole message waits: the next one starts over it (the newest
    // ticket is the one a client resumes with).
    if (whole()) {
      len_ = 0;
      ticket_ready_ = false;
    }
    const size_t want = len_ < 4 ? 4 - len_ : 4 + body_len() - len_;
    const size_t n = want < data.size() - at ? want : data.size() - at;
    copy_bytes(buf_ + len_, data.data() + at, n);
    len_ += n;
    at += n;
    if (len_ == 4) {
      // RFC 9001 §6: "Endpoints MUST NOT send a TLS KeyUpdate message";
      // receiving one is a connection error (unexpected_message).
      if (buf_[0] == kKeyUpdate) return tls_alert_status(TlsAlert::kUnexpectedMessage, "TLS KeyUpdate");
      // RFC 9000 §7.5: more than we buffer for a message.
      if (4 + body_len() > kMaxMessage) {
        return Status(ErrorCode::kCryptoBufferExceeded, "post-handshake message too large");
      }
    }
    if (whole()) ticket_ready_ = buf_[0] == kNewSessionTicket;
  }
  return Status::ok();
}

}  // namespace quicbed::kmod
