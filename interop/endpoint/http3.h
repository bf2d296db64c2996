// HTTP/3 (ALPN "h3", RFC 9114) in the endpoint program: the names of its
// error codes for messages, and the server's request handler. The protocol
// itself is interop/h3/'s H3Session.
#pragma once

#include <cstdint>
#include <string>

#include "h3_session.h"

namespace quicbed {

inline constexpr const char* kAlpnH3 = "h3";
// RFC 9114 §8.1: what closes a connection whose HTTP/3 streams cannot open.
inline constexpr uint64_t kH3StreamCreationError = 0x103;

// RFC 9114 §8.1 and RFC 9204 §6 names ("H3_REQUEST_CANCELLED"); nullptr
// for other codes.
const char* h3_error_name(uint64_t code);

// GET and HEAD of the regular files under `root` (resolved, without a
// trailing '/'; the query ignored) with the rules of hq_resolve_file():
// 200 with the file, 404 when there is none (or it is not a regular file),
// 403 when the path is unsafe or resolves outside `root` through a symbolic
// link, 405 for other methods.
h3::RequestHandler h3_file_handler(std::string root);

}  // namespace quicbed
