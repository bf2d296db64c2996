#include "server_session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "error_text.h"
#include "event_loop.h"
#include "http3.h"
#include "log.h"

namespace quicbed {

Session::Session(std::unique_ptr<GnutlsTls> tls, std::unique_ptr<ConnectionQlog> qlog, const std::string& root,
                 std::vector<uint8_t>& scratch, IntrusiveList<Session>& sending, std::string peer)
    : tls_(std::move(tls)),
      qlog_(std::move(qlog)),
      root_(root),
      peer_(std::move(peer)),
      scratch_(scratch),
      sending_list_(sending) {}

Session::~Session() {
  // The HTTP/3 session uses the connection (gone after this) only through
  // calls; it goes first all the same.
  h3_.reset();
  for (auto& [id, r] : responses_)
    if (r.fd >= 0) ::close(r.fd);
  if (sending_list_.linked(this)) sending_list_.remove(this);
}

ConnectionServices Session::services() {
  ConnectionServices s;
  s.tls = tls_.get();
  s.events = this;
  s.tracer = qlog_.get();
  s.context = this;
  return s;
}

// ---- Events

void Session::on_handshake_complete() {
  const Bytes alpn = tls_->alpn();
  log_info("%s: handshake complete (ALPN %.*s%s)", peer_.c_str(), static_cast<int>(alpn.size()),
           reinterpret_cast<const char*>(alpn.data()), tls_->resumed() ? ", session resumed" : "");
  if (is_h3()) {
    h3::H3Session* h = h3();
    if (!h) return;
    if (const Status st = h->start(); !st.is_ok()) {
      log_error("%s: HTTP/3 setup failed: %s", peer_.c_str(), st.reason());
      h3_failed_ = true;
    }
    // Flushed after every event from now on.
    if (!sending_list_.linked(this)) sending_list_.push_back(this);
  }
  // The 0-RTT requests, now that responses can go.
  std::vector<uint64_t> early;
  early.swap(early_readable_);
  for (uint64_t id : early) on_stream_readable(id);
}

void Session::on_early_data(bool accepted) {
  log_info("%s: 0-RTT %s", peer_.c_str(), accepted ? "accepted" : "rejected");
}

bool Session::is_h3() const {
  const Bytes alpn = tls_->alpn();
  return std::string_view(reinterpret_cast<const char*>(alpn.data()), alpn.size()) == kAlpnH3;
}

h3::H3Session* Session::h3() {
  if (!h3_ && conn_) {
    h3_transport_ = std::make_unique<h3::ConnectionTransport>(conn(), [] { return now_us(); });
    h3_ = std::make_unique<h3::H3Session>(
        *h3_transport_, Role::kServer, [this, files = h3_file_handler(root_)](const h3::Request& req) {
          h3::Response resp = files(req);
          log_info("%s: %s %s: status %d (%zu bytes) on stream %llu", peer_.c_str(), req.method.c_str(),
                   req.path.c_str(), resp.status, resp.body.size(), static_cast<unsigned long long>(req.stream_id));
          return resp;
        });
  }
  return h3_.get();
}

uint64_t Session::app_no_error() const {
  return is_h3() ? h3::kH3NoError : static_cast<uint64_t>(HqError::kNoError);
}

void Session::on_connection_closed(const CloseInfo& info) {
  const std::string reason(info.reason.begin(), info.reason.end());
  if (h3_) h3_->on_connection_closed(info);
  const bool clean = info.application && info.error_code == app_no_error();
  const auto names = is_h3() ? h3_error_name : hq_error_name;
  if (clean) {
    log_info("%s: %s", peer_.c_str(), describe_close(info, reason, names).c_str());
  } else {
    log_error("connection from %s %s", peer_.c_str(), describe_close(info, reason, names).c_str());
  }
}

void Session::on_stream_opened(uint64_t id) {
  if (is_h3()) return;  // the H3Session learns of streams as they are readable
  // Streams the client opens only (RFC 9000 §2.1); hq-interop uses the
  // bidirectional ones. Unidirectional ones (allowed when h3 is offered too)
  // are read and dropped.
  if (stream_dir(id) == StreamDir::kBidi) responses_.try_emplace(id);
}

void Session::on_stream_readable(uint64_t id) {
  // 0-RTT data (RFC 9001 §4.6) can come before the handshake completes, or
  // even before the endpoint handed us the connection: answered then.
  if (!conn_ || conn().state() == Connection::State::kHandshake) {
    if (std::find(early_readable_.begin(), early_readable_.end(), id) == early_readable_.end()) {
      early_readable_.push_back(id);
    }
    return;
  }
  if (is_h3()) {
    if (h3::H3Session* h = h3()) h->on_stream_readable(id);
    return;
  }
  auto it = responses_.find(id);
  if (it == responses_.end()) {
    // Answered already: read what is left (the FIN, say), so that the core
    // can free the stream and give the client its credit back (§4.6).
    for (;;) {
      Result<Stream::ReadResult> rd = conn().stream_read(id, MutBytes(scratch_.data(), scratch_.size()));
      if (!rd.is_ok() || rd->fin || rd->bytes == 0) return;
    }
  }
  if (conn().stream_reset_code(id).is_ok()) {
    // The client gave up on its request.
    (void)conn().stream_read(id, MutBytes());
    (void)conn().stream_reset(id, static_cast<uint64_t>(HqError::kNoError));
    forget(it);
    return;
  }
  Response& r = it->second;
  for (;;) {
    Result<Stream::ReadResult> rd = conn().stream_read(id, MutBytes(scratch_.data(), scratch_.size()));
    if (!rd.is_ok()) {
      forget(it);
      return;
    }
    // Bytes after the request line, or while answering, are ignored.
    if (r.state == Response::State::kRequest) {
      const std::string_view data(reinterpret_cast<const char*>(scratch_.data()), rd->bytes);
      const HqRequestParser::State st = r.request.feed(data, rd->fin);
      if (st == HqRequestParser::State::kBad) {
        fail(it, HqError::kBadRequest, "not an HTTP/0.9 GET request");
        return;
      }
      if (st == HqRequestParser::State::kDone) {
        respond(it);
        return;  // `it` may be gone; later bytes come with the next event
      }
    }
    if (rd->fin || rd->bytes == 0) return;
  }
}

// ---- Responses

HqError Session::open_file(const std::string& path, int* fd, uint64_t* size) const {
  std::string resolved;
  if (const HqError e = hq_resolve_file(root_, path, &resolved); e != HqError::kNoError) return e;
  *fd = ::open(resolved.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return errno == ENOENT ? HqError::kNotFound : HqError::kForbidden;
  struct stat st;
  if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(*fd);
    *fd = -1;
    return HqError::kNotFound;
  }
  *size = static_cast<uint64_t>(st.st_size);
  return HqError::kNoError;
}

void Session::respond(Responses::iterator it) {
  Response& r = it->second;
  r.path = r.request.path();
  const HqError e = open_file(r.path, &r.fd, &r.size);
  if (e != HqError::kNoError) {
    fail(it, e, hq_error_name(static_cast<uint64_t>(e)));
    return;
  }
  log_info("%s: GET %s (%llu bytes) on stream %llu", peer_.c_str(), r.path.c_str(),
           static_cast<unsigned long long>(r.size), static_cast<unsigned long long>(it->first));
  r.state = Response::State::kSending;
  if (sending_++ == 0) sending_list_.push_back(this);
  pump_one(it);
}

void Session::pump() {
  if (h3_failed_) {
    h3_failed_ = false;
    // RFC 9114 §6.2: without its control and QPACK streams there is no
    // HTTP/3.
    conn().close(kH3StreamCreationError, "cannot open the HTTP/3 streams", now_us());
    return;
  }
  if (h3_) {
    h3_->flush();
    return;
  }
  for (auto it = responses_.begin(); it != responses_.end();) {
    it = it->second.state == Response::State::kSending ? pump_one(it) : std::next(it);
  }
}

Session::Responses::iterator Session::pump_one(Responses::iterator it) {
  Response& r = it->second;
  const Stream* s = conn().streams().find(it->first);
  if (!s) return forget(it);
  for (;;) {
    const uint64_t room = s->writable();
    const uint64_t left = r.size - r.offset;
    if (room == 0 && left > 0) return std::next(it);
    const size_t want = static_cast<size_t>(std::min<uint64_t>({room, left, scratch_.size()}));
    ssize_t n = 0;
    if (want > 0) {
      n = pread(r.fd, scratch_.data(), want, static_cast<off_t>(r.offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(it, HqError::kInternal, std::strerror(errno));
    }
    // A file that shrank while being sent ends early (n == 0).
    const bool fin = n == 0 || r.offset + static_cast<uint64_t>(n) == r.size;
    Result<size_t> w = conn().stream_write(it->first, Bytes(scratch_.data(), static_cast<size_t>(n)), fin);
    // The client stopped the stream (STOP_SENDING resets it, RFC 9000 §3.5).
    if (!w.is_ok()) return forget(it);
    r.offset += *w;
    if (fin && *w == static_cast<size_t>(n)) return forget(it);
    if (*w < static_cast<size_t>(n)) return std::next(it);
  }
}

Session::Responses::iterator Session::fail(Responses::iterator it, HqError error, const char* why) {
  log_info("%s: stream %llu: %s%s%s, resetting it", peer_.c_str(), static_cast<unsigned long long>(it->first),
           it->second.path.empty() ? "" : it->second.path.c_str(), it->second.path.empty() ? "" : ": ", why);
  (void)conn().stream_reset(it->first, static_cast<uint64_t>(error));
  // Whatever else the client sends on it is of no interest (§3.5).
  (void)conn().stream_stop_sending(it->first, static_cast<uint64_t>(error));
  return forget(it);
}

Session::Responses::iterator Session::forget(Responses::iterator it) {
  if (it->second.fd >= 0) ::close(it->second.fd);
  if (it->second.state == Response::State::kSending && --sending_ == 0) sending_list_.remove(this);
  return responses_.erase(it);
}

}  // namespace quicbed
