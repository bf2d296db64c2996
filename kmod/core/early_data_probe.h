// Whether a server's EncryptedExtensions (RFC 8446 §4.3.1) carry the
// early_data extension (§4.2.10), that is whether the server accepted the
// client's 0-RTT (RFC 9001 §4.6.2). The TLS stack that knows runs in the
// process; the kernel learns it from the bytes it carries: the client from
// the server's first Handshake-level CRYPTO bytes, the server from the
// first handshake message its process hands down at the Handshake level.
// A streaming scan, fed those bytes in order as they come, with no buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace quicbed::kmod {

class EarlyDataProbe {
 public:
  void feed(Bytes data);
  // The EncryptedExtensions were read to their end (or the first message
  // was something else, which TLS will refuse).
  bool done() const { return stage_ == kDone; }
  bool early_data() const { return early_data_; }

 private:
  enum Stage : uint8_t { kMsgHeader, kExtsLen, kExtHeader, kExtBody, kDone };
  // Bytes of the current field read so far, and their value.
  Stage stage_ = kMsgHeader;
  uint8_t got_ = 0;
  uint32_t field_ = 0;
  uint32_t exts_left_ = 0;  // extension bytes not read yet
  uint32_t skip_ = 0;       // of the current extension's body
  bool early_data_ = false;
};

}  // namespace quicbed::kmod
