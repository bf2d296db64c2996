#include "session_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace quicbed {
namespace {

constexpr const char* kMagic = "quicbed-session 1";
// A session ticket and transport parameters are a few hundred bytes; a
// larger file is not one of ours.
constexpr size_t kMaxFileBytes = 64 * 1024;

std::string to_hex(const std::vector<uint8_t>& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * b.size());
  for (uint8_t x : b) {
    s += kDigits[x >> 4];
    s += kDigits[x & 0xf];
  }
  return s;
}

bool from_hex(const std::string& s, std::vector<uint8_t>* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      const char c = s[j];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v << 4 | static_cast<unsigned>(d);
    }
    out->push_back(static_cast<uint8_t>(v));
  }
  return true;
}

}  // namespace

bool load_session_file(const std::string& path, SessionTicket* out, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  if (text.size() > kMaxFileBytes) {
    *error = path + " is too large for a session file";
    return false;
  }
  std::istringstream lines(text);
  std::string magic, key, tls, tp;
  std::getline(lines, magic);
  if (magic != kMagic) {
    *error = path + " is not a quicbed session file";
    return false;
  }
  bool have_tls = false, have_tp = false;
  while (lines >> key) {
    std::string value;
    lines >> value;
    if (key == "tls") {
      have_tls = from_hex(value, &out->session) && !out->session.empty();
    } else if (key == "tp") {
      have_tp = from_hex(value, &out->transport_params);
    } else if (key == "early") {
      out->max_early_data = static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
    }
  }
  if (!have_tls || !have_tp) {
    *error = path + " is damaged (no session data or transport parameters)";
    return false;
  }
  return true;
}

bool store_session_file(const std::string& path, const SessionTicket& t, std::string* error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << kMagic << "\ntls " << to_hex(t.session) << "\ntp " << to_hex(t.transport_params) << "\nearly "
      << t.max_early_data << "\n";
    f.close();
    if (!f) {
      *error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::unlink(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot replace " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace quicbed
