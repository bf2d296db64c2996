#include "error_text.h"

#include <cstdio>

namespace quicbed {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

const char* tls_alert_name(uint64_t alert) {
  switch (alert) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return nullptr;
  }
}

std::string transport_error_text(uint64_t code) {
  static constexpr const char* kNames[] = {
      "NO_ERROR",           "INTERNAL_ERROR",         "CONNECTION_REFUSED",        "FLOW_CONTROL_ERROR",
      "STREAM_LIMIT_ERROR", "STREAM_STATE_ERROR",     "FINAL_SIZE_ERROR",          "FRAME_ENCODING_ERROR",
      "TRANSPORT_PARAMETER_ERROR", "CONNECTION_ID_LIMIT_ERROR", "PROTOCOL_VIOLATION", "INVALID_TOKEN",
      "APPLICATION_ERROR",  "CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR",          "AEAD_LIMIT_REACHED",
      "NO_VIABLE_PATH",     "VERSION_NEGOTIATION_ERROR",
  };
  const uint64_t base = static_cast<uint64_t>(ErrorCode::kCryptoErrorBase);
  if (code >= base && code <= base + 0xff) {
    const uint64_t alert = code - base;
    const char* name = tls_alert_name(alert);
    return "TLS alert " + std::string(name ? name : "unknown") + " (" + std::to_string(alert) + ")";
  }
  if (code < sizeof kNames / sizeof kNames[0]) return std::string(kNames[code]) + " (" + hex(code) + ")";
  return "transport error " + hex(code);
}

std::string describe_close(const CloseInfo& info, std::string_view reason,
                           const char* (*application_error_name)(uint64_t)) {
  std::string code_text;
  if (info.application) {
    const char* name = application_error_name ? application_error_name(info.error_code) : nullptr;
    code_text = "application error " + hex(info.error_code) + (name ? std::string(" (") + name + ")" : "");
  } else {
    code_text = transport_error_text(info.error_code);
    if (info.frame_type) code_text += " in frame type " + hex(info.frame_type);
  }
  std::string s;
  switch (info.source) {
    case CloseInfo::Source::kLocal:
      s = "closed by us: " + code_text;
      break;
    case CloseInfo::Source::kPeer:
      s = "closed by the peer: " + code_text;
      break;
    case CloseInfo::Source::kIdleTimeout:
      return "idle timeout: nothing heard from the peer";
    case CloseInfo::Source::kStatelessReset:
      return "the peer reset the connection (stateless reset: it lost its state)";
  }
  if (!reason.empty()) s += ": " + std::string(reason);
  return s;
}

}  // namespace quicbed
