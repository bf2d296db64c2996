#include "refusal.h"

#include "frame.h"
#include "keys.h"
#include "protection.h"

namespace quicbed {
namespace {

// The reason phrases (RFC 9000 §19.19).
constexpr char kRefusalReason[] = "server at capacity";
constexpr char kInvalidTokenReason[] = "invalid Retry token";

}  // namespace

Result<size_t> write_initial_refusal(MutBytes out, const PacketHeader& h, ErrorCode code, size_t scid_len,
                                     CryptoBackend& crypto, Random& random) {
  // §5.2.2: "If the server refuses to accept a new connection, it SHOULD
  // send an Initial packet containing a CONNECTION_CLOSE frame with error
  // code CONNECTION_REFUSED", protected with the Initial keys of the
  // client's Destination Connection ID (RFC 9001 §5.2), packet number 0.
  const VersionCrypto* vc = version_crypto(h.version);
  if (vc == nullptr || scid_len > kMaxCidLen) return Status(ErrorCode::kInvalidArgument, "refusal version or CID");
  QB_ASSIGN_OR_RETURN(InitialSecrets secrets, derive_initial_secrets(crypto, *vc, h.dcid));
  PacketProtection keys;
  QB_TRY(keys.init(crypto, kInitialSuite, *vc, secrets.server.bytes()));
  uint8_t scid[kMaxCidLen];
  random.fill(MutBytes(scid, scid_len));

  Writer w(out);
  LongHeader lh;
  lh.type = PacketType::kInitial;
  lh.version = h.version;
  lh.dcid = h.scid;
  lh.scid = Bytes(scid, scid_len);
  lh.packet_number = 0;
  lh.pn_len = 1;
  QB_ASSIGN_OR_RETURN(LongHeaderLayout layout, write_long_header(w, lh));
  Frame f;
  f.type = FrameType::kConnectionClose;
  const char* reason = code == ErrorCode::kInvalidToken ? kInvalidTokenReason : kRefusalReason;
  const size_t reason_len =
      code == ErrorCode::kInvalidToken ? sizeof(kInvalidTokenReason) - 1 : sizeof(kRefusalReason) - 1;
  f.connection_close = ConnectionCloseFrame{static_cast<uint64_t>(code), 0,
                                            Bytes(reinterpret_cast<const uint8_t*>(reason), reason_len)};
  // The frame is longer than the 3 bytes the header protection sample
  // needs after a 1-byte packet number (RFC 9001 §5.4.2); a CONNECTION_CLOSE
  // is not ack-eliciting, so no padding to 1200 bytes (RFC 9000 §14.1).
  QB_TRY(write_frame(w, f));
  QB_TRY(w.advance(kAeadTagLen));
  MutBytes packet = w.written();
  QB_TRY(write_length_field(packet, layout.length_offset, packet.size() - layout.pn_offset));
  QB_TRY(keys.protect(packet, layout.pn_offset, lh.pn_len, lh.packet_number));
  return packet.size();
}

}  // namespace quicbed
