// The https URLs the client is given (RFC 3986 §3, the subset interop
// tests use): https://host[:port][/path], host a name, an IPv4 address or
// a bracketed IPv6 literal; port 443 when absent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace quicbed {

struct Url {
  std::string text;       // as given
  std::string host;       // without the brackets of an IPv6 literal
  uint16_t port = 443;
  std::string authority;  // "host:port" / "[v6]:port", for resolve_address()
  std::string path;       // from the first '/' (at least "/"), fragment removed
};

// False, with a one-line reason in *error, for anything else.
bool parse_url(std::string_view text, Url* out, std::string* error);

}  // namespace quicbed
