// HTTP/0.9 over QUIC, the "hq-interop" ALPN of the QUIC interop runner: the
// client opens a bidirectional stream per file and sends "GET /path\r\n"
// with FIN; the server answers with the file's bytes and FIN, nothing else
// (no status, no headers). hq-interop defines no error codes, so the
// stream resets below are this program's own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace quicbed {

inline constexpr const char* kAlpnHq = "hq-interop";

// Application error codes of RESET_STREAM / STOP_SENDING (RFC 9000 §20.2).
enum class HqError : uint64_t {
  kNoError = 0x0,
  kBadRequest = 0x10,  // not "GET /path", or longer than kMaxRequest
  kNotFound = 0x11,    // no such file under the root
  kForbidden = 0x12,   // resolves outside the root, or unreadable
  kInternal = 0x13,    // the server failed to read the file
};
const char* hq_error_name(uint64_t code);

// The request line a client sends for `path` (which starts with '/').
std::string hq_request(std::string_view path);

// The server's side: request bytes as they arrive, up to the line end.
class HqRequestParser {
 public:
  static constexpr size_t kMaxRequest = 8192;
  enum class State : uint8_t { kIncomplete, kDone, kBad };

  // Takes stream bytes; `fin` marks the end of the stream.
  State feed(std::string_view data, bool fin);
  State state() const { return state_; }
  // kDone: the request target, from its '/'.
  const std::string& path() const { return path_; }

 private:
  State parse_line();

  std::string line_;
  std::string path_;
  State state_ = State::kIncomplete;
};

// A URL path as a relative file path ("a/b.bin" for "/a/b.bin"; empty
// components dropped): false for one with "." or ".." components, one that
// ends in '/' or names nothing, or holds a NUL.
bool hq_relative_path(std::string_view path, std::string* out);

// The file URL path `path` names under `root` (resolved, without a trailing
// '/'), symbolic links followed: kNoError with its real path in *resolved;
// kNotFound when there is none, kForbidden when the path is unsafe
// (hq_relative_path) or resolves outside `root`. The file's type is not
// checked.
HqError hq_resolve_file(const std::string& root, std::string_view path, std::string* resolved);

}  // namespace quicbed
