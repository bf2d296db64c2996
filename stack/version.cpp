#include "version.h"

namespace quicbed {

std::span<const uint32_t> version_span(const uint32_t (&list)[kMaxVersions]) {
  size_t n = 0;
  while (n < kMaxVersions && list[n] != 0) ++n;
  return std::span<const uint32_t>(list, n);
}

uint32_t compatible_version_choice(uint32_t original, std::span<const uint32_t> server_preference,
                                   std::span<const uint32_t> client_available) {
  for (uint32_t v : server_preference) {
    if (v == original) return original;  // preferred over every other one
    if (!versions_compatible(original, v)) continue;
    for (uint32_t c : client_available) {
      // The server "MUST NOT reply with a version that is not present in
      // the client's compatible versions, unless it is the original".
      if (c == v) return v;
    }
  }
  return original;
}

}  // namespace quicbed
