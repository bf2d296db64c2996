#include "early_data_probe.h"

namespace quicbed::kmod {

namespace {
constexpr uint8_t kEncryptedExtensions = 8;  // RFC 8446 §4 HandshakeType
constexpr uint16_t kEarlyDataExtension = 42;  // RFC 8446 §4.2
}  // namespace

void EarlyDataProbe::feed(Bytes data) {
  for (size_t i = 0; i < data.size() && stage_ != kDone; ++i) {
    const uint8_t b = data[i];
    if (stage_ == kExtBody) {
      --skip_;
      --exts_left_;
    } else {
      field_ = field_ << 8 | b;
      ++got_;
      if (stage_ == kExtHeader) {
        // A header running past the list's end: malformed, TLS refuses it.
        if (!exts_left_) {
          stage_ = kDone;
          break;
        }
        --exts_left_;
      }
    }
    switch (stage_) {
      case kMsgHeader:  // msg_type (1), length (3)
        if (got_ == 1 && b != kEncryptedExtensions) stage_ = kDone;
        if (got_ < 4) continue;
        stage_ = kExtsLen;
        break;
      case kExtsLen:  // extensions<0..2^16-1>
        if (got_ < 2) continue;
        exts_left_ = field_ & 0xffff;
        stage_ = exts_left_ ? kExtHeader : kDone;
        break;
      case kExtHeader:  // extension_type (2), extension_data length (2)
        if (got_ < 4) continue;
        if ((field_ >> 16) == kEarlyDataExtension) early_data_ = true;
        skip_ = field_ & 0xffff;
        // A length past the list's end: malformed, TLS refuses it.
        if (skip_ > exts_left_) stage_ = kDone;
        else stage_ = skip_ ? kExtBody : (exts_left_ ? kExtHeader : kDone);
        break;
      case kExtBody:
        if (skip_) continue;
        stage_ = exts_left_ ? kExtHeader : kDone;
        break;
      case kDone:
        break;
    }
    got_ = 0;
    field_ = 0;
  }
}

}  // namespace quicbed::kmod
