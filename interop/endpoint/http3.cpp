#include "http3.h"

#include <string_view>
#include <utility>

#include "hq.h"

namespace quicbed {

const char* h3_error_name(uint64_t code) {
  switch (code) {
    case 0x100: return "H3_NO_ERROR";
    case 0x101: return "H3_GENERAL_PROTOCOL_ERROR";
    case 0x102: return "H3_INTERNAL_ERROR";
    case 0x103: return "H3_STREAM_CREATION_ERROR";
    case 0x104: return "H3_CLOSED_CRITICAL_STREAM";
    case 0x105: return "H3_FRAME_UNEXPECTED";
    case 0x106: return "H3_FRAME_ERROR";
    case 0x107: return "H3_EXCESSIVE_LOAD";
    case 0x108: return "H3_ID_ERROR";
    case 0x109: return "H3_SETTINGS_ERROR";
    case 0x10a: return "H3_MISSING_SETTINGS";
    case 0x10b: return "H3_REQUEST_REJECTED";
    case 0x10c: return "H3_REQUEST_CANCELLED";
    case 0x10d: return "H3_REQUEST_INCOMPLETE";
    case 0x10e: return "H3_MESSAGE_ERROR";
    case 0x10f: return "H3_CONNECT_ERROR";
    case 0x110: return "H3_VERSION_FALLBACK";
    case 0x200: return "QPACK_DECOMPRESSION_FAILED";
    case 0x201: return "QPACK_ENCODER_STREAM_ERROR";
    case 0x202: return "QPACK_DECODER_STREAM_ERROR";
    default: return nullptr;
  }
}

h3::RequestHandler h3_file_handler(std::string root) {
  return [root = std::move(root)](const h3::Request& req) {
    h3::Response resp;
    if (req.method != "GET" && req.method != "HEAD") {
      resp.status = 405;
      resp.headers.emplace_back("allow", "GET, HEAD");
      return resp;
    }
    // RFC 3986 §3.4: the query is not part of the file's path.
    const std::string_view path = std::string_view(req.path).substr(0, req.path.find_first_of("?#"));
    std::string file;
    switch (hq_resolve_file(root, path, &file)) {
      case HqError::kNoError:
        break;
      case HqError::kForbidden:
        resp.status = 403;
        return resp;
      default:
        resp.status = 404;
        return resp;
    }
    // nullopt for what is not a regular file.
    std::optional<h3::Body> body = h3::Body::from_file(file);
    if (!body) {
      resp.status = 404;
      return resp;
    }
    resp.body = std::move(*body);
    return resp;
  };
}

}  // namespace quicbed
