#include "sys_status.h"

#include <cstring>

namespace quicbed {

std::string SysStatus::message() const {
  if (is_ok()) return "ok";
  std::string out = call_;
  out += ": ";
  out += std::strerror(err_);
  // glibc >= 2.32 names the errno too, so a log line can be grepped for it.
  if (const char* name = strerrorname_np(err_)) {
    out += " (";
    out += name;
    out += ")";
  }
  return out;
}

}  // namespace quicbed
