// Connection::advance_tls: the entry point of a TLS that answers later than
// the call that gave it data (tls.h: "a host whose TLS runs asynchronously
// queues its events until the next advance()"). The connection calls
// advance() itself only after CRYPTO data arrives, so such a host needs to
// trigger the call once its TLS has something to report.
#include "conn.h"

namespace quicbed {

void Connection::advance_tls(uint64_t now) {
  if (!initialized_ || closing_or_draining() || state_ == State::kClosed) return;
  now_ = now;
  Status s = tls_.advance(*this);
  if (!s.is_ok()) {
    close_with_error(s, 0, now);
    return;
  }
  // Keys TLS just reported may open packets that arrived before them
  // (RFC 9001 §5.7).
  if (!buffered_.empty()) replay_buffered(now);
  after_packet(now);
}

}  // namespace quicbed
