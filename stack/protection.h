// QUIC packet protection (RFC 9001 §5.3-§5.5, §5.8, §6.1): AEAD sealing of
// the payload, header protection, and the Retry integrity tag.
//
// For one direction at one encryption level there is one HeaderProtection
// and, per key phase, one PayloadProtection: a key update replaces the AEAD
// key and IV but never the header protection key (RFC 9001 §6.1), and a
// receiver removes header protection before it knows which key phase to try.
// PacketProtection bundles the two for the common case.
//
// Each object owns what it obtained from the CryptoBackend and returns it
// in its destructor (RAII without allocation of its own). Objects move but
// do not copy; the backend must outlive them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bytes.h"
#include "base/status.h"
#include "crypto.h"
#include "keys.h"

namespace quicbed {

// The Packet Number field once header protection is removed (RFC 9000
// §17.1); the caller decodes the full packet number (RFC 9000 §A.3).
struct PacketNumberField {
  size_t len;          // 1..4 bytes
  uint32_t truncated;  // the encoded low bits of the packet number
};

// RFC 9001 §5.4. Packets are given as exactly their own bytes (one packet of
// a coalesced datagram), with the header form in the first byte's high bit.
class HeaderProtection {
 public:
  HeaderProtection() = default;
  HeaderProtection(const HeaderProtection&) = delete;
  HeaderProtection& operator=(const HeaderProtection&) = delete;
  HeaderProtection(HeaderProtection&& o);
  HeaderProtection& operator=(HeaderProtection&& o);
  ~HeaderProtection() { reset(); }

  // hp = HKDF-Expand-Label(secret, "quic hp", "", key length).
  Status init(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret);
  bool ready() const { return cipher_ != nullptr; }
  void reset();

  // §5.4.1: masks the low 4 (long header) or 5 (short header) bits of the
  // first byte and the pn_len bytes at pn_offset, with a mask computed from
  // the 16 bytes at pn_offset + 4 (§5.4.2). The first byte's Packet Number
  // Length bits must say pn_len. kInvalidArgument if the packet is too short
  // to sample: the sender must pad (§5.4.2).
  Status apply(MutBytes packet, size_t pn_offset, size_t pn_len);
  // The inverse, for a received packet. kDropPacket if the packet does not
  // contain a complete sample (§5.4.2: "MUST discard").
  Result<PacketNumberField> remove(MutBytes packet, size_t pn_offset);

 private:
  Result<size_t> toggle(MutBytes packet, size_t pn_offset, bool protecting);

  CryptoBackend* backend_ = nullptr;
  HeaderCipher* cipher_ = nullptr;
};

// RFC 9001 §5.3: the AEAD key and IV of one key phase, and the secret they
// come from so that the next key phase can be derived (§6.1).
class PayloadProtection {
 public:
  PayloadProtection() = default;
  PayloadProtection(const PayloadProtection&) = delete;
  PayloadProtection& operator=(const PayloadProtection&) = delete;
  PayloadProtection(PayloadProtection&& o);
  PayloadProtection& operator=(PayloadProtection&& o);
  ~PayloadProtection() { reset(); }

  Status init(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret);
  bool ready() const { return aead_ != nullptr; }
  void reset();
  CipherSuite suite() const { return suite_; }
  // Packets sealed with this key so far (RFC 9001 §6.6: its
  // confidentiality limit counts them).
  uint64_t sealed() const { return sealed_; }

  // RFC 9001 §6.1: `next` gets the keys of the following key phase, derived
  // from secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", ...).
  Status next_generation(PayloadProtection& next) const;

  // `packet` is header (header_len bytes, the associated data) || plaintext
  // payload || kAeadTagLen bytes of room. Encrypts the payload in place and
  // writes the tag; the nonce is the IV XOR the packet number.
  Status seal(MutBytes packet, size_t header_len, uint64_t pn);
  // `packet` is header || ciphertext || tag, with header protection
  // removed. Decrypts in place and returns the plaintext payload.
  // kDecryptFailed when authentication fails: the packet is dropped, which
  // is not a connection error (RFC 9001 §5.5); its payload bytes are then
  // unspecified. kDropPacket if the packet cannot hold a tag.
  Result<MutBytes> open(MutBytes packet, size_t header_len, uint64_t pn);

 private:
  void make_nonce(uint64_t pn, uint8_t nonce[kAeadIvLen]) const;

  CryptoBackend* backend_ = nullptr;
  Aead* aead_ = nullptr;
  const VersionCrypto* version_ = nullptr;
  CipherSuite suite_ = CipherSuite::kAes128GcmSha256;
  uint8_t iv_[kAeadIvLen] = {};
  Secret secret_;
  uint64_t sealed_ = 0;
};

// Header and payload protection of one direction at one encryption level.
class PacketProtection {
 public:
  Status init(CryptoBackend& backend, CipherSuite suite, const VersionCrypto& v, Bytes secret);
  bool ready() const { return header_.ready() && payload_.ready(); }

  // Seals the payload, then applies header protection (RFC 9001 §5.3,
  // §5.4.1). `packet` is exactly this packet: header up to the Packet Number
  // field at pn_offset, pn_len bytes of the truncated `pn`, the plaintext
  // payload, then kAeadTagLen bytes of room for the tag. The packet is left
  // untouched on an error.
  Status protect(MutBytes packet, size_t pn_offset, size_t pn_len, uint64_t pn);
  // Receiving is two steps, since the full packet number needed by the
  // second comes from the first and the packet number space's state.
  Result<PacketNumberField> unprotect_header(MutBytes packet, size_t pn_offset) {
    return header_.remove(packet, pn_offset);
  }
  Result<MutBytes> open(MutBytes packet, size_t header_len, uint64_t pn) {
    return payload_.open(packet, header_len, pn);
  }

  // RFC 9001 §6.1: moves to the next key phase's AEAD key and IV; the header
  // protection key stays.
  Status update_keys();

  HeaderProtection& header() { return header_; }
  PayloadProtection& payload() { return payload_; }

 private:
  HeaderProtection header_;
  PayloadProtection payload_;
};

// RFC 9001 §5.8 (RFC 9369 §3.3.3 for version 2): the Retry Integrity Tag is
// AEAD_AES_128_GCM with the version's fixed key and nonce, an empty
// plaintext, and as associated data the Retry pseudo-packet: ODCID Length,
// the Original Destination Connection ID, then the Retry packet without its
// tag. The pseudo-packet is assembled in memory from `alloc`.
// kInvalidArgument if the ODCID is longer than 20 bytes (RFC 9000 §17.2).
Status compute_retry_tag(CryptoBackend& backend, Allocator& alloc, const VersionCrypto& v, Bytes odcid,
                         Bytes retry_without_tag, MutBytes tag);
// Checks the tag ending `retry` (a whole Retry packet). kDropPacket if the
// packet is shorter than a tag or the tag is wrong: the client discards it
// (RFC 9000 §17.2.5.2).
Status verify_retry_tag(CryptoBackend& backend, Allocator& alloc, const VersionCrypto& v, Bytes odcid,
                        Bytes retry);

}  // namespace quicbed
