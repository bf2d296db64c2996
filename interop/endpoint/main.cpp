// quicbed: the interop endpoint, client and server in one program (see
// options.cpp for the command line, client.h and server.h for the modes).
#include <cstdio>

#include "client.h"
#include "log.h"
#include "options.h"
#include "server.h"

int main(int argc, char** argv) {
  using namespace quicbed;
  ParsedOptions parsed = parse_options(argc, argv);
  switch (parsed.outcome) {
    case ParsedOptions::Outcome::kHelp:
      std::fputs(usage_text(), stdout);
      return 0;
    case ParsedOptions::Outcome::kError:
      log_error("%s", parsed.error.c_str());
      std::fputs(short_usage_text(), stderr);
      return 2;
    case ParsedOptions::Outcome::kRun:
      break;
  }
  set_verbosity(parsed.options.verbose);
  if (parsed.options.mode == Mode::kClient) return Client(parsed.options).run();
  return Server(parsed.options).run();
}
