#include "hq.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace quicbed {

const char* hq_error_name(uint64_t code) {
  switch (static_cast<HqError>(code)) {
    case HqError::kNoError:
      return "no error";
    case HqError::kBadRequest:
      return "bad request";
    case HqError::kNotFound:
      return "not found";
    case HqError::kForbidden:
      return "forbidden";
    case HqError::kInternal:
      return "internal error";
  }
  return "unknown error";
}

std::string hq_request(std::string_view path) {
  std::string r = "GET ";
  r += path;
  r += "\r\n";
  return r;
}

HqRequestParser::State HqRequestParser::feed(std::string_view data, bool fin) {
  if (state_ != State::kIncomplete) return state_;
  const size_t nl = data.find('\n');
  line_.append(data.substr(0, nl));
  if (line_.size() > kMaxRequest) return state_ = State::kBad;
  // Bytes after the line end are ignored: HTTP/0.9 has nothing there.
  if (nl == std::string_view::npos && !fin) return state_;
  return state_ = parse_line();
}

HqRequestParser::State HqRequestParser::parse_line() {
  std::string_view line = line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  constexpr std::string_view kGet = "GET ";
  if (line.substr(0, kGet.size()) != kGet) return State::kBad;
  std::string_view target = line.substr(kGet.size());
  // Tolerate "GET /path HTTP/1.0"-style trailers some clients send.
  target = target.substr(0, target.find(' '));
  if (target.empty() || target.front() != '/') return State::kBad;
  path_ = std::string(target);
  return State::kDone;
}

bool hq_relative_path(std::string_view path, std::string* out) {
  if (path.empty() || path.front() != '/' || path.back() == '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  out->clear();
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part == "." || part == "..") return false;
    if (!part.empty()) {
      if (!out->empty()) *out += '/';
      *out += part;
    }
    start = end + 1;
  }
  return !out->empty();
}

HqError hq_resolve_file(const std::string& root, std::string_view path, std::string* resolved) {
  std::string relative;
  if (!hq_relative_path(path, &relative)) return HqError::kForbidden;
  const std::string joined = root + "/" + relative;
  // Symbolic links may point anywhere: what counts is where the path ends.
  char real[PATH_MAX];
  if (!realpath(joined.c_str(), real)) {
    return errno == ENOENT || errno == ENOTDIR ? HqError::kNotFound : HqError::kForbidden;
  }
  const std::string_view r(real);
  if (r.size() <= root.size() || r.substr(0, root.size()) != root || r[root.size()] != '/') {
    return HqError::kForbidden;
  }
  *resolved = real;
  return HqError::kNoError;
}

}  // namespace quicbed
