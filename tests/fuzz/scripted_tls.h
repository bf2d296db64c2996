// Test-only pieces that let fuzz inputs reach a server Connection's state
// machines without real TLS: a scripted server TlsSession that "completes"
// a handshake from any client bytes, with fixed traffic secrets, and a
// client-side packet builder that seals packets with those secrets under
// the null cipher (userspace/null_cipher.h), so every packet the fuzzer
// describes passes packet protection.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "keys.h"
#include "packet.h"
#include "protection.h"
#include "tls.h"
#include "transport_params.h"

namespace quicbed::fuzz {

using Buf = std::vector<uint8_t>;

// The traffic secrets both sides use at Handshake and 1-RTT level.
inline Bytes fixed_secret(EncryptionLevel level, KeyDirection client_dir) {
  static const uint8_t secrets[2][2][32] = {{{0x11}, {0x12}}, {{0x21}, {0x22}}};
  return Bytes(secrets[level == EncryptionLevel::kApplication][client_dir == KeyDirection::kWrite], 32);
}

// A server TLS session that follows the shape of a TLS 1.3 handshake
// (RFC 9001 §4.1): the first Initial CRYPTO bytes act as the ClientHello,
// whose transport parameters are the bytes after a 0x01 type byte, or
// valid ones for `client_scid` otherwise; the server's flight and all
// secrets follow; any Handshake CRYPTO byte acts as the client's Finished.
class ScriptedTls final : public TlsSession {
 public:
  explicit ScriptedTls(Bytes client_scid) {
    TransportParameters tp;
    tp.initial_max_data = 1 << 16;
    tp.initial_max_stream_data_bidi_local = 1 << 14;
    tp.initial_max_stream_data_bidi_remote = 1 << 14;
    tp.initial_max_stream_data_uni = 1 << 14;
    tp.initial_max_streams_bidi = 8;
    tp.initial_max_streams_uni = 8;
    tp.max_datagram_frame_size = 1200;
    tp.has_initial_source_connection_id = tp.initial_source_connection_id.assign(client_scid);
    uint8_t b[512];
    Writer w{MutBytes(b, sizeof b)};
    if (tp.serialize(w, Role::kClient).is_ok()) default_params_.assign(w.written().begin(), w.written().end());
  }

  Status set_local_transport_params(Bytes) override { return Status::ok(); }
  Status provide_data(EncryptionLevel level, Bytes data, TlsCallbacks&) override {
    if (data.empty()) return Status::ok();
    if (level == EncryptionLevel::kInitial && !hello_) hello_.emplace(data.begin(), data.end());
    if (level == EncryptionLevel::kHandshake) finished_ = true;
    return Status::ok();
  }
  Status advance(TlsCallbacks& cb) override {
    if (hello_ && !flight_sent_) {
      flight_sent_ = true;
      const Buf& h = *hello_;
      const bool own = h[0] == 0x01;
      QB_TRY(cb.on_tls_peer_transport_params(own ? Bytes(h.data() + 1, h.size() - 1)
                                                 : Bytes(default_params_.data(), default_params_.size())));
      static const uint8_t server_hello[] = {0x02, 0, 0, 4, 1, 2, 3, 4};
      static const uint8_t server_flight[] = {0x08, 0, 0, 2, 0, 0, 0x14, 0, 0, 4, 9, 9, 9, 9};
      QB_TRY(cb.on_tls_crypto_data(EncryptionLevel::kInitial, Bytes(server_hello, sizeof server_hello)));
      for (EncryptionLevel l : {EncryptionLevel::kHandshake, EncryptionLevel::kApplication}) {
        QB_TRY(cb.on_tls_secret(l, KeyDirection::kRead, kSuite, fixed_secret(l, KeyDirection::kWrite)));
        QB_TRY(cb.on_tls_secret(l, KeyDirection::kWrite, kSuite, fixed_secret(l, KeyDirection::kRead)));
        if (l == EncryptionLevel::kHandshake)
          QB_TRY(cb.on_tls_crypto_data(l, Bytes(server_flight, sizeof server_flight)));
      }
    }
    if (flight_sent_ && finished_ && !complete_) {
      complete_ = true;
      QB_TRY(cb.on_tls_handshake_complete());
    }
    return Status::ok();
  }
  bool handshake_complete() const override { return complete_; }
  Bytes alpn() const override { return flight_sent_ ? Bytes(kAlpn, sizeof kAlpn) : Bytes(); }

  static constexpr CipherSuite kSuite = CipherSuite::kAes128GcmSha256;

 private:
  static constexpr uint8_t kAlpn[2] = {'f', 'z'};
  Buf default_params_;
  std::optional<Buf> hello_;
  bool flight_sent_ = false;
  bool finished_ = false;
  bool complete_ = false;
};

// Builds and seals the client's packets: Initial (keys from the client's
// first Destination Connection ID, RFC 9001 §5.2), 0-RTT, Handshake and
// 1-RTT (the scripted secrets; 0-RTT is never accepted by ScriptedTls and
// uses the 1-RTT secret so that it is dropped after decryption is tried).
class PacketBuilder {
 public:
  enum Space { kInitialSpace, kZeroRttSpace, kHandshakeSpace, kOneRttSpace };

  Status init(CryptoBackend& crypto, uint32_t version, Bytes odcid) {
    version_ = version;
    const VersionCrypto* v = version_crypto(version);
    if (!v) return ErrorCode::kInvalidArgument;
    auto initial = derive_initial_secrets(crypto, *v, odcid);
    if (!initial) return initial.status();
    QB_TRY(keys_[kInitialSpace].init(crypto, kInitialSuite, *v, initial->client.bytes()));
    const Bytes app = fixed_secret(EncryptionLevel::kApplication, KeyDirection::kWrite);
    QB_TRY(keys_[kZeroRttSpace].init(crypto, ScriptedTls::kSuite, *v, app));
    QB_TRY(keys_[kHandshakeSpace].init(
        crypto, ScriptedTls::kSuite, *v, fixed_secret(EncryptionLevel::kHandshake, KeyDirection::kWrite)));
    return keys_[kOneRttSpace].init(crypto, ScriptedTls::kSuite, *v, app);
  }

  // Appends one packet of `space` carrying `frames` to `datagram`; pads
  // the frames so that the sample for header protection exists and, for an
  // Initial with `fill`, so that the datagram reaches 1200 bytes (§14.1).
  void append(Buf& datagram, Space space, Bytes dcid, Bytes scid, Bytes token, Bytes frames, uint64_t pn_skip,
              bool fill) {
    uint64_t& next = next_pn_[space == kZeroRttSpace ? kOneRttSpace : space];
    const uint64_t pn = next + pn_skip;
    next = pn + 1;
    const size_t start = datagram.size();
    datagram.resize(start + 64 + frames.size() + kAeadTagLen + 1200);
    Writer w{MutBytes(datagram.data() + start, datagram.size() - start)};
    size_t pn_offset = 0;
    size_t length_offset = 0;
    bool is_long = space != kOneRttSpace;
    if (is_long) {
      static const PacketType types[] = {PacketType::kInitial, PacketType::kZeroRtt, PacketType::kHandshake};
      LongHeader h{types[space], version_, dcid, scid, space == kInitialSpace ? token : Bytes(), pn, 4};
      auto layout = write_long_header(w, h);
      if (!layout) return datagram.resize(start);
      pn_offset = layout->pn_offset;
      length_offset = layout->length_offset;
    } else {
      auto off = write_short_header(w, ShortHeader{dcid, pn, 4, false, false});
      if (!off) return datagram.resize(start);
      pn_offset = *off;
    }
    size_t payload = frames.size() < 16 ? 16 : frames.size();  // room for the 16-byte HP sample
    if (fill && space == kInitialSpace) {
      const size_t used = start + pn_offset + 4 + kAeadTagLen;
      if (used + payload < 1200) payload = 1200 - used;
    }
    if (!w.bytes(frames).is_ok() || !w.fill(0, payload - frames.size()).is_ok()) return datagram.resize(start);
    const size_t packet_len = w.position() + kAeadTagLen;
    MutBytes packet(datagram.data() + start, packet_len);
    if (is_long && !write_length_field(packet, length_offset, packet_len - pn_offset).is_ok())
      return datagram.resize(start);
    if (!keys_[space].protect(packet, pn_offset, 4, pn).is_ok()) return datagram.resize(start);
    datagram.resize(start + packet_len);
  }

 private:
  uint32_t version_ = kVersion1;
  PacketProtection keys_[4];
  uint64_t next_pn_[4] = {};
};

}  // namespace quicbed::fuzz
