// Whether the handshake messages a process handed down at the Handshake
// level include its own Finished (RFC 8446 §4.4.4), the last message of
// either side's handshake flight. A TLS handshake is complete once the
// endpoint has sent its Finished and verified the peer's (RFC 9001
// §4.1.1), and no 1-RTT packet may go before the Finished (§4.1.4: "after
// sending its Finished message ... an endpoint can send STREAM data (in
// 1-RTT encryption)"), so the kernel holds its 1-RTT write secret and its
// completion until this says the Finished is queued.
// A streaming scan of the message framing (msg_type (1), length (3), body;
// RFC 8446 §4), fed the bytes in order as they come, with no buffer: a
// process may hand down several messages at once or one in parts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace quicbed::kmod {

class FinishedProbe {
 public:
  void feed(Bytes data);
  // A whole Finished message was fed.
  bool finished() const { return finished_; }

 private:
  uint8_t got_ = 0;      // header bytes of the current message read
  uint8_t type_ = 0;     // its msg_type
  uint32_t left_ = 0;    // body bytes not read yet (the length while got_ < 4)
  bool finished_ = false;
};

}  // namespace quicbed::kmod
