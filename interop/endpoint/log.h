// The endpoint's messages on stderr, each line prefixed with "quicbed: ":
// errors always, progress only with -v.
#pragma once

namespace quicbed {

void set_verbosity(int level);
bool verbose();

void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace quicbed
