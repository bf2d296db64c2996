#include "log.h"

#include <cstdarg>
#include <cstdio>

namespace quicbed {
namespace {

int verbosity = 0;

void write_line(const char* format, va_list args) {
  // One fprintf per line, so that lines of two processes sharing the
  // terminal do not interleave mid-line.
  char line[2048];
  std::vsnprintf(line, sizeof line, format, args);
  std::fprintf(stderr, "quicbed: %s\n", line);
}

}  // namespace

void set_verbosity(int level) { verbosity = level; }
bool verbose() { return verbosity > 0; }

void log_error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  write_line(format, args);
  va_end(args);
}

void log_info(const char* format, ...) {
  if (!verbose()) return;
  va_list args;
  va_start(args, format);
  write_line(format, args);
  va_end(args);
}

}  // namespace quicbed
