#include "reset_token.h"

namespace quicbed {

Status derive_reset_token(CryptoBackend& crypto, Bytes key, Bytes cid, MutBytes token) {
  if (key.size() != kResetKeyLen || cid.size() > kMaxCidLen || token.size() != kStatelessResetTokenLen) {
    return Status(ErrorCode::kInvalidArgument, "reset token derivation arguments");
  }
  uint8_t prk[hash_len(HashAlg::kSha256)];
  QB_TRY(crypto.hkdf_extract(HashAlg::kSha256, key, cid, MutBytes(prk)));
  copy_bytes(token.data(), prk, kStatelessResetTokenLen);
  return Status::ok();
}

}  // namespace quicbed
