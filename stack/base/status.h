// Errors as values (design: "Errors are values"). A Status carries either
// success, a QUIC transport error code to put in CONNECTION_CLOSE
// (RFC 9000 §20.1), or a local condition that never reaches the wire.
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "base/assert.h"

namespace quicbed {

// Wire codes are < 2^62 (they travel as varints); local codes live above.
enum class ErrorCode : uint64_t {
  // RFC 9000 §20.1 transport error codes.
  kNoError = 0x00,
  kInternalError = 0x01,
  kConnectionRefused = 0x02,
  kFlowControlError = 0x03,
  kStreamLimitError = 0x04,
  kStreamStateError = 0x05,
  kFinalSizeError = 0x06,
  kFrameEncodingError = 0x07,
  kTransportParameterError = 0x08,
  kConnectionIdLimitError = 0x09,
  kProtocolViolation = 0x0a,
  kInvalidToken = 0x0b,
  kApplicationError = 0x0c,
  kCryptoBufferExceeded = 0x0d,
  kKeyUpdateError = 0x0e,
  kAeadLimitReached = 0x0f,
  kNoViablePath = 0x10,
  kVersionNegotiationError = 0x11,  // RFC 9368 §10.2
  kCryptoErrorBase = 0x0100,        // 0x0100-0x01ff: TLS alert (RFC 9001 §4.8)

  // Local conditions (never sent): values above any varint.
  kLocalBase = uint64_t{1} << 62,
  kBufferTooSmall,    // output does not fit; caller may retry with more room
  kNoMemory,          // host allocator refused
  kDecryptFailed,     // AEAD open failed: drop the packet (RFC 9001 §5.5)
  kDropPacket,        // not a connection error; discard the datagram
  kInvalidArgument,   // API misuse by the host or application
  kLimitExceeded,     // a local bound was hit (back-pressure)
  kCryptoBackend,     // the host's crypto backend failed
};

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr Status(ErrorCode code, const char* reason = "")  // NOLINT: implicit by design
      : code_(code), reason_(reason) {}

  static constexpr Status ok() { return Status(); }
  static constexpr Status crypto_alert(uint8_t alert, const char* reason = "") {
    return Status(static_cast<ErrorCode>(static_cast<uint64_t>(ErrorCode::kCryptoErrorBase) + alert),
                  reason);
  }

  constexpr bool is_ok() const { return code_ == ErrorCode::kNoError; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr ErrorCode code() const { return code_; }
  // The value for a CONNECTION_CLOSE frame of type 0x1c.
  constexpr uint64_t wire_code() const {
    return is_local() ? static_cast<uint64_t>(ErrorCode::kInternalError)
                      : static_cast<uint64_t>(code_);
  }
  constexpr bool is_local() const { return static_cast<uint64_t>(code_) >= static_cast<uint64_t>(ErrorCode::kLocalBase); }
  constexpr const char* reason() const { return reason_; }

  constexpr bool operator==(ErrorCode c) const { return code_ == c; }

 private:
  ErrorCode code_ = ErrorCode::kNoError;
  const char* reason_ = "";  // static string: phrase for CONNECTION_CLOSE and logs
};

// A value or an error. T must not be a reference. No exceptions: reading
// the value of an error is a bug caught by QB_ASSERT.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : ok_(true) { new (&storage_) T(v); }  // NOLINT
  Result(T&& v) : ok_(true) { new (&storage_) T(std::move(v)); }  // NOLINT
  Result(Status s) : ok_(false), status_(s) { QB_ASSERT(!s.is_ok()); }  // NOLINT
  Result(ErrorCode c, const char* reason = "") : Result(Status(c, reason)) {}  // NOLINT

  Result(const Result& o) : ok_(o.ok_), status_(o.status_) {
    if (ok_) new (&storage_) T(*o.ptr());
  }
  Result(Result&& o) : ok_(o.ok_), status_(o.status_) {
    if (ok_) new (&storage_) T(std::move(*o.ptr()));
  }
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  ~Result() {
    if (ok_) ptr()->~T();
  }

  bool is_ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  Status status() const { return status_; }

  T& value() & {
    QB_ASSERT(ok_);
    return *ptr();
  }
  const T& value() const& {
    QB_ASSERT(ok_);
    return *ptr();
  }
  T&& value() && {
    QB_ASSERT(ok_);
    return std::move(*ptr());
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  T* ptr() { return std::launder(reinterpret_cast<T*>(&storage_)); }
  const T* ptr() const { return std::launder(reinterpret_cast<const T*>(&storage_)); }

  bool ok_;
  Status status_;
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace quicbed

// Propagate a non-ok Status from an expression returning Status.
#define QB_TRY(expr)                       \
  do {                                     \
    ::quicbed::Status qb_s_ = (expr);      \
    if (!qb_s_.is_ok()) return qb_s_;      \
  } while (0)

// Evaluate an expression returning Result<T>; on error return its Status,
// else bind the value to `var`.
#define QB_CONCAT_(a, b) a##b
#define QB_CONCAT(a, b) QB_CONCAT_(a, b)
#define QB_ASSIGN_OR_RETURN(var, expr) QB_ASSIGN_OR_RETURN_(QB_CONCAT(qb_r_, __LINE__), var, expr)
#define QB_ASSIGN_OR_RETURN_(tmp, var, expr) \
  auto tmp = (expr);                         \
  if (!tmp.is_ok()) return tmp.status();     \
  var = std::move(tmp).value()
