#include "hex.h"

#include <cstdio>
#include <cstdlib>

namespace quicbed::test {

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == '\t') continue;
    int n = nibble(c);
    if (n < 0) {
      std::fprintf(stderr, "from_hex: bad character '%c'\n", c);
      std::abort();
    }
    if (hi < 0) {
      hi = n;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | n));
      hi = -1;
    }
  }
  if (hi >= 0) {
    std::fprintf(stderr, "from_hex: odd number of digits\n");
    std::abort();
  }
  return out;
}

std::string to_hex(Bytes b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

}  // namespace quicbed::test
