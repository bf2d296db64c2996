#include "url.h"

#include "address.h"

namespace quicbed {

bool parse_url(std::string_view text, Url* out, std::string* error) {
  constexpr std::string_view kScheme = "https://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    *error = "URL must start with https://: " + std::string(text);
    return false;
  }
  std::string_view rest = text.substr(kScheme.size());
  // RFC 3986 §3.5: the fragment is the client's own business, never sent.
  rest = rest.substr(0, rest.find('#'));
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    *error = "URL with user information is not supported: " + std::string(text);
    return false;
  }
  if (authority.empty()) {
    *error = "URL without a host: " + std::string(text);
    return false;
  }
  // split_host_port() wants a port; RFC 3986 §3.2.3 makes it optional. In
  // "[v6]" the colons before ']' are the address's.
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  const bool has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  std::string with_port(authority);
  if (!has_port) with_port += ":443";
  Result<HostPort> hp = split_host_port(with_port);
  if (!hp.is_ok() || hp->host.empty() || hp->port == 0) {
    *error = "bad host or port in URL " + std::string(text) + (hp.is_ok() ? "" : std::string(": ") + hp.status().reason());
    return false;
  }
  out->text = std::string(text);
  out->host = std::string(hp->host);
  out->port = hp->port;
  out->authority = with_port;
  out->path = std::string(path);
  return true;
}

}  // namespace quicbed
