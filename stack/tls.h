// The TLS 1.3 handshake as the connection sees it (RFC 9001 §4): handshake
// bytes in and out per encryption level, traffic secrets and the peer's
// transport parameters out. TLS never touches the network or the packet
// protection: the connection carries its bytes in CRYPTO frames and derives
// packet keys from its secrets (keys.h).
//
// Each host backs TlsSession with what it has: GnuTLS's QUIC hooks in
// userspace and ns-3, a userspace handshake daemon for quic.ko. Events reach
// the connection only from inside provide_data() and advance(), through the
// TlsCallbacks passed to that call, so the connection is never re-entered
// from outside; a host whose TLS runs asynchronously queues its events until
// the next advance().
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto.h"
#include "packet_type.h"

namespace quicbed {

// RFC 9001 §2.1 / §4: the levels at which TLS hands over data and keys.
// Values follow TLS's own order of installation.
enum class EncryptionLevel : uint8_t {
  kInitial = 0,
  kEarlyData = 1,  // 0-RTT: keys only, never CRYPTO data (RFC 9001 §4.1.4)
  kHandshake = 2,
  kApplication = 3,  // 1-RTT
};
inline constexpr int kNumEncryptionLevels = 4;

// RFC 9000 §12.3: 0-RTT and 1-RTT share the application data space.
constexpr PnSpace pn_space_of(EncryptionLevel l) {
  return l == EncryptionLevel::kInitial     ? PnSpace::kInitial
         : l == EncryptionLevel::kHandshake ? PnSpace::kHandshake
                                            : PnSpace::kApplication;
}

// RFC 9000 §12.4 Table 3: CRYPTO frames are allowed in Initial, Handshake
// and 1-RTT packets, not in 0-RTT.
constexpr bool carries_crypto_data(EncryptionLevel l) { return l != EncryptionLevel::kEarlyData; }

// RFC 9001 §4.6: what became of 0-RTT in this handshake.
enum class EarlyDataState : uint8_t {
  kNone,       // not attempted (client) or not offered by the client (server)
  kAttempted,  // client: offered in the ClientHello, the server's answer not yet known
  kAccepted,   // the server's EncryptedExtensions carry early_data (§4.6.2)
  kRejected,   // offered, and the server refused it (or the client learnt so)
};

// Which side of the connection a traffic secret protects: kRead opens the
// peer's packets, kWrite seals ours (RFC 9001 §5.1).
enum class KeyDirection : uint8_t { kRead, kWrite };

// TLS alert descriptions (RFC 8446 §6) this stack names. A failed handshake
// closes with CRYPTO_ERROR 0x0100 + alert (RFC 9001 §4.8), made by
// Status::crypto_alert.
enum class TlsAlert : uint8_t {
  kUnexpectedMessage = 10,
  kHandshakeFailure = 40,
  kBadCertificate = 42,
  kCertificateRevoked = 44,
  kCertificateExpired = 45,
  kUnknownCa = 48,
  kDecodeError = 50,
  kInternalError = 80,
  kMissingExtension = 109,       // RFC 9001 §8.2: no quic_transport_parameters
  kNoApplicationProtocol = 120,  // RFC 9001 §8.1: ALPN not negotiated
};
constexpr Status tls_alert_status(TlsAlert a, const char* reason = "") {
  return Status::crypto_alert(static_cast<uint8_t>(a), reason);
}

// RFC 9001 §8.2: the extension carrying the transport parameters.
inline constexpr uint16_t kQuicTransportParametersExtension = 0x39;

// Implemented by the connection. A non-ok Status returned from any callback
// aborts the handshake and comes back, unchanged, out of the provide_data()
// or advance() call that raised the event.
class TlsCallbacks {
 public:
  // Handshake bytes to send in CRYPTO frames at `level`, in stream order
  // (RFC 9001 §4.1.3). Data at a level other than Initial only comes after
  // the write secret of that level.
  virtual Status on_tls_crypto_data(EncryptionLevel level, Bytes data) = 0;
  // A traffic secret (RFC 9001 §4.1.4, §5.1) of the negotiated `suite`
  // (Initial secrets are not TLS's: keys.h derives them). The two directions
  // of one level may come in separate calls, in either order.
  virtual Status on_tls_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret) = 0;
  // The body of the peer's quic_transport_parameters extension, once per
  // handshake, as soon as the hello carrying it (ClientHello, or the
  // EncryptedExtensions) is accepted and before TLS answers it; the
  // connection parses it (TransportParameters::parse) and returns its error.
  virtual Status on_tls_peer_transport_params(Bytes ext) = 0;
  // RFC 9001 §4.1.1: TLS has sent its Finished and verified the peer's;
  // every secret has been reported.
  virtual Status on_tls_handshake_complete() = 0;

 protected:
  ~TlsCallbacks() = default;
};

// One endpoint's TLS handshake. Errors are Status values: a TLS failure is
// Status::crypto_alert(alert), the RFC 9001 §4.8 CRYPTO_ERROR to close with;
// after any failure provide_data() and advance() return the same Status.
class TlsSession {
 public:
  // The body of our quic_transport_parameters extension (RFC 9001 §8.2),
  // serialized by the connection; copied. Required before the first
  // advance(), refused (kInvalidArgument) once the handshake has started.
  virtual Status set_local_transport_params(Bytes ext) = 0;
  // Handshake bytes the peer sent at `level`, contiguous and in order (the
  // connection reassembles CRYPTO frames). During the handshake they are
  // processed by the next advance(); after it, post-handshake messages at
  // kApplication are processed here.
  virtual Status provide_data(EncryptionLevel level, Bytes data, TlsCallbacks& cb) = 0;
  // Runs the handshake as far as the data provided allows (the client's
  // first call produces its ClientHello); ok also when waiting for more.
  virtual Status advance(TlsCallbacks& cb) = 0;

  virtual bool handshake_complete() const = 0;
  // The negotiated ALPN protocol (RFC 7301); empty until the peer's hello
  // is processed. A handshake cannot complete without one (RFC 9001 §8.1).
  virtual Bytes alpn() const = 0;

  // RFC 9001 §4.6. A client knows it is kAttempted once its ClientHello is
  // written, and the outcome once the server's EncryptedExtensions are
  // processed (at the latest when the handshake completes); a server knows
  // it once the ClientHello is processed. Hosts without 0-RTT keep kNone.
  virtual EarlyDataState early_data_state() const { return EarlyDataState::kNone; }
  // The handshake resumed a session (a PSK from a ticket, RFC 8446 §2.2):
  // no Certificate was exchanged. Meaningful once the handshake completes.
  virtual bool resumed() const { return false; }

 protected:
  ~TlsSession() = default;
};

}  // namespace quicbed
