#include "varint.h"

namespace quicbed {

Result<uint64_t> read_varint(Reader& r, ErrorCode err) {
  if (r.empty()) return Status(err, "truncated varint");
  size_t len = varint_len_from_first(r.peek());
  QB_ASSIGN_OR_RETURN(Bytes b, r.bytes(len, err));
  uint64_t v = b[0] & 0x3f;
  for (size_t i = 1; i < len; ++i) v = (v << 8) | b[i];
  return v;
}

Status write_varint(Writer& w, uint64_t v) {
  size_t len = varint_size(v);
  if (len == 0) return Status(ErrorCode::kInvalidArgument, "varint above 2^62-1");
  return write_varint_fixed(w, v, len);
}

Status write_varint_fixed(Writer& w, uint64_t v, size_t len) {
  uint8_t prefix;
  switch (len) {
    case 1: prefix = 0x00; break;
    case 2: prefix = 0x40; break;
    case 4: prefix = 0x80; break;
    case 8: prefix = 0xc0; break;
    default: return Status(ErrorCode::kInvalidArgument, "varint length");
  }
  if (varint_size(v) == 0 || varint_size(v) > len) return Status(ErrorCode::kInvalidArgument, "varint too large");
  if (w.remaining() < len) return ErrorCode::kBufferTooSmall;
  uint8_t* p = w.cursor();
  QB_TRY(w.be(v, len));
  p[0] |= prefix;
  return Status::ok();
}

}  // namespace quicbed
