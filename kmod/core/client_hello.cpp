#include "client_hello.h"

namespace quicbed::kmod {

namespace {

constexpr uint8_t kClientHello = 1;          // RFC 8446 §4: HandshakeType client_hello
constexpr uint16_t kAlpnExtension = 16;      // RFC 7301 §3.1
constexpr ErrorCode kBad = ErrorCode::kInvalidArgument;

// RFC 7301 §3.1: ProtocolNameList, each name 1..255 bytes, the list not
// empty.
Result<size_t> write_names(Bytes list, MutBytes out) {
  Reader r(list);
  Writer w(out);
  if (r.empty()) return Status(kBad, "empty ALPN list");
  while (!r.empty()) {
    QB_ASSIGN_OR_RETURN(uint8_t len, r.u8(kBad));
    if (len == 0) return Status(kBad, "empty protocol name");
    QB_ASSIGN_OR_RETURN(Bytes name, r.bytes(len, kBad));
    if (w.position() > 0) QB_TRY(w.u8(','));
    QB_TRY(w.bytes(name));
  }
  return w.position();
}

}  // namespace

Result<size_t> client_hello_alpns(Bytes hello, MutBytes out) {
  Reader msg(hello);
  QB_ASSIGN_OR_RETURN(uint8_t type, msg.u8(kBad));
  if (type != kClientHello) return Status(kBad, "not a ClientHello");
  QB_ASSIGN_OR_RETURN(uint8_t l0, msg.u8(kBad));
  QB_ASSIGN_OR_RETURN(uint16_t l1, msg.u16(kBad));
  QB_ASSIGN_OR_RETURN(Bytes body, msg.bytes(uint64_t{l0} << 16 | l1, kBad));
  Reader r(body);
  QB_TRY(r.skip(2 + 32, kBad));  // legacy_version, random
  QB_ASSIGN_OR_RETURN(uint8_t session_id_len, r.u8(kBad));
  QB_TRY(r.skip(session_id_len, kBad));
  QB_ASSIGN_OR_RETURN(uint16_t suites_len, r.u16(kBad));
  QB_TRY(r.skip(suites_len, kBad));
  QB_ASSIGN_OR_RETURN(uint8_t compression_len, r.u8(kBad));
  QB_TRY(r.skip(compression_len, kBad));
  if (r.empty()) return size_t{0};  // no extensions at all
  QB_ASSIGN_OR_RETURN(uint16_t ext_len, r.u16(kBad));
  QB_ASSIGN_OR_RETURN(Bytes exts, r.bytes(ext_len, kBad));
  Reader e(exts);
  while (!e.empty()) {
    QB_ASSIGN_OR_RETURN(uint16_t ext_type, e.u16(kBad));
    QB_ASSIGN_OR_RETURN(uint16_t len, e.u16(kBad));
    QB_ASSIGN_OR_RETURN(Bytes data, e.bytes(len, kBad));
    if (ext_type != kAlpnExtension) continue;
    Reader a(data);
    QB_ASSIGN_OR_RETURN(uint16_t list_len, a.u16(kBad));
    QB_ASSIGN_OR_RETURN(Bytes list, a.bytes(list_len, kBad));
    if (!a.empty()) return Status(kBad, "ALPN extension too long");
    return write_names(list, out);
  }
  return size_t{0};
}

}  // namespace quicbed::kmod
