// Words for the codes a failed connection ends with, so that the endpoint's
// messages say "TLS alert bad_certificate (42)" rather than "error 0x12a".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "conn.h"

namespace quicbed {

// RFC 8446 §6 alert description names; nullptr for an unknown value.
const char* tls_alert_name(uint64_t alert);

// RFC 9000 §20.1 names ("FLOW_CONTROL_ERROR"); CRYPTO_ERROR codes
// (0x0100-0x01ff, RFC 9001 §4.8) as "TLS alert NAME (N)".
std::string transport_error_text(uint64_t code);

// One line: who closed, with what, and the reason phrase if any.
// `application_error_name` names application codes (may return nullptr).
std::string describe_close(const CloseInfo& info, std::string_view reason,
                           const char* (*application_error_name)(uint64_t));

}  // namespace quicbed
