#include "h3_session.h"

#include <nghttp3/nghttp3.h>

#include <algorithm>
#include <charconv>
#include <string_view>

namespace quicbed::h3 {

namespace {

static_assert(kH3NoError == NGHTTP3_H3_NO_ERROR && kH3RequestCancelled == NGHTTP3_H3_REQUEST_CANCELLED);

// What one read from the transport takes at most.
constexpr size_t kReadChunk = 64 << 10;
// The most body bytes one DATA frame carries.
constexpr size_t kDataChunk = 64 << 10;
// nghttp3_conn_writev_stream gathers at most this many pieces at a time.
constexpr size_t kMaxVecs = 16;

bool is_bidi(uint64_t id) { return stream_dir(id) == StreamDir::kBidi; }

std::string_view view(nghttp3_rcbuf* b) {
  const nghttp3_vec v = nghttp3_rcbuf_get_buf(b);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

nghttp3_nv make_nv(std::string_view name, std::string_view value) {
  // nghttp3 copies both (no NO_COPY flag); it never writes through them.
  return nghttp3_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP3_NV_FLAG_NONE};
}

}  // namespace

// The nghttp3 callbacks; conn_user_data is the session.
struct Callbacks {
  static H3Session& of(void* user) { return *static_cast<H3Session*>(user); }

  static int recv_header(nghttp3_conn*, int64_t stream_id, int32_t, nghttp3_rcbuf* name, nghttp3_rcbuf* value,
                         uint8_t, void* user, void*) {
    H3Session& s = of(user);
    const std::string_view n = view(name), v = view(value);
    if (s.role_ == Role::kServer) {
      Request& r = s.serving_[stream_id].request;
      r.stream_id = static_cast<uint64_t>(stream_id);
      if (n == ":method") r.method = v;
      else if (n == ":scheme") r.scheme = v;
      else if (n == ":authority") r.authority = v;
      else if (n == ":path") r.path = v;
      return 0;
    }
    Exchange* e = s.exchange_on(stream_id);
    if (!e) return 0;
    if (n == ":status") {
      int status = 0;
      std::from_chars(v.data(), v.data() + v.size(), status);
      // RFC 9114 §4.1: interim (1xx) responses precede the final one.
      if (status >= 200) e->status = status;
    } else if (n == "content-length") {
      uint64_t len = 0;
      if (std::from_chars(v.data(), v.data() + v.size(), len).ec == std::errc()) e->content_length = len;
    }
    return 0;
  }

  static int recv_data(nghttp3_conn*, int64_t stream_id, const uint8_t* data, size_t len, void* user, void*) {
    H3Session& s = of(user);
    Exchange* e = s.exchange_on(stream_id);
    if (!e || e->state != Exchange::State::kOpen) return 0;
    e->body_bytes += len;
    if (e->sink && !e->sink->write(Bytes(data, len))) {
      s.finish_exchange(*e, Exchange::State::kFailed, kH3RequestCancelled);
      s.to_cancel_.push_back(stream_id);
    }
    return 0;
  }

  static int end_stream(nghttp3_conn*, int64_t stream_id, void* user, void*) {
    H3Session& s = of(user);
    if (s.role_ == Role::kServer) {
      s.respond(stream_id);
      return 0;
    }
    Exchange* e = s.exchange_on(stream_id);
    if (!e || e->state != Exchange::State::kOpen) return 0;
    if (e->sink && !e->sink->finish()) {
      s.finish_exchange(*e, Exchange::State::kFailed, kH3RequestCancelled);
    } else {
      s.finish_exchange(*e, Exchange::State::kComplete, 0);
    }
    return 0;
  }

  static int stream_close(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code, void* user, void*) {
    H3Session& s = of(user);
    if (s.role_ == Role::kServer) {
      s.serving_.erase(stream_id);
      return 0;
    }
    if (Exchange* e = s.exchange_on(stream_id); e && e->state == Exchange::State::kOpen) {
      // Closed before the response was complete.
      s.finish_exchange(*e, Exchange::State::kFailed,
                        app_error_code == NGHTTP3_H3_NO_ERROR ? NGHTTP3_H3_REQUEST_INCOMPLETE : app_error_code);
    }
    s.by_stream_.erase(stream_id);
    return 0;
  }

  // nghttp3 asks for STOP_SENDING (e.g. a unidirectional stream of an
  // unknown type, RFC 9114 §6.2) or RESET_STREAM.
  static int stop_sending(nghttp3_conn*, int64_t stream_id, uint64_t code, void* user, void*) {
    (void)of(user).t_.stream_stop_sending(static_cast<uint64_t>(stream_id), code);
    return 0;
  }
  static int reset_stream(nghttp3_conn*, int64_t stream_id, uint64_t code, void* user, void*) {
    H3Session& s = of(user);
    (void)s.t_.stream_reset(static_cast<uint64_t>(stream_id), code);
    if (is_bidi(static_cast<uint64_t>(stream_id))) {
      H3Session::StreamIo& io = s.io_of(static_cast<uint64_t>(stream_id));
      io.write_done = true;
      io.close_code = code;
    }
    return 0;
  }

  // The response body, straight from the Body's bytes (they live until the
  // stream closes).
  static nghttp3_ssize read_data(nghttp3_conn*, int64_t stream_id, nghttp3_vec* vec, size_t veccnt,
                                 uint32_t* pflags, void* user, void*) {
    H3Session& s = of(user);
    auto it = s.serving_.find(stream_id);
    if (it == s.serving_.end()) return NGHTTP3_ERR_CALLBACK_FAILURE;
    H3Session::ServerStream& st = it->second;
    const Bytes rest = st.body.bytes().subspan(st.offset);
    const size_t n = veccnt == 0 ? 0 : std::min(rest.size(), kDataChunk);
    if (n > 0) {
      vec[0].base = const_cast<uint8_t*>(rest.data());
      vec[0].len = n;
      st.offset += n;
    }
    if (st.offset == st.body.size()) *pflags |= NGHTTP3_DATA_FLAG_EOF;
    return n > 0 ? 1 : 0;
  }
};

H3Session::H3Session(Transport& transport, Role role, RequestHandler handler)
    : t_(transport), role_(role), handler_(std::move(handler)), buf_(kReadChunk) {}

H3Session::~H3Session() { nghttp3_conn_del(conn_); }

Status H3Session::start() {
  if (conn_) return Status(ErrorCode::kInvalidArgument, "HTTP/3 session already started");
  // RFC 9114 §6.2: the peer must allow the three streams; without them
  // there is no HTTP/3 to speak.
  QB_ASSIGN_OR_RETURN(const uint64_t ctrl, t_.open_stream(StreamDir::kUni));
  QB_ASSIGN_OR_RETURN(const uint64_t qenc, t_.open_stream(StreamDir::kUni));
  QB_ASSIGN_OR_RETURN(const uint64_t qdec, t_.open_stream(StreamDir::kUni));

  nghttp3_callbacks cb{};
  cb.stream_close = Callbacks::stream_close;
  cb.recv_data = Callbacks::recv_data;
  cb.recv_header = Callbacks::recv_header;
  cb.end_stream = Callbacks::end_stream;
  cb.stop_sending = Callbacks::stop_sending;
  cb.reset_stream = Callbacks::reset_stream;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  const int rv = role_ == Role::kClient ? nghttp3_conn_client_new(&conn_, &cb, &settings, nullptr, this)
                                        : nghttp3_conn_server_new(&conn_, &cb, &settings, nullptr, this);
  if (rv != 0) {
    conn_ = nullptr;
    return Status(ErrorCode::kNoMemory, "nghttp3_conn_new failed");
  }
  ctrl_id_ = static_cast<int64_t>(ctrl);
  qenc_id_ = static_cast<int64_t>(qenc);
  qdec_id_ = static_cast<int64_t>(qdec);
  if (nghttp3_conn_bind_control_stream(conn_, ctrl_id_) != 0 ||
      nghttp3_conn_bind_qpack_streams(conn_, qenc_id_, qdec_id_) != 0) {
    return Status(ErrorCode::kInternalError, "nghttp3 refused its unidirectional streams");
  }
  // Streams that had data before we were ready.
  std::vector<uint64_t> early;
  early.swap(readable_before_start_);
  for (uint64_t id : early) on_stream_readable(id);
  return Status::ok();
}

void H3Session::on_stream_readable(uint64_t id) {
  if (closed_ || close_pending_) return;
  if (!conn_) {
    readable_before_start_.push_back(id);
    return;
  }
  StreamIo& io = io_of(id);
  if (io.read_done) return;
  // RESET_STREAM (RFC 9000 §19.4): its code must be asked for before the
  // read that reports the reset.
  if (Result<uint64_t> code = t_.stream_reset_code(id); code.is_ok()) {
    (void)t_.stream_read(id, MutBytes());
    io.read_done = true;
    if (!io.discard && !io.closed) on_peer_reset(id, io, *code);
    return;
  }
  read_stream(id, io);
}

void H3Session::read_stream(uint64_t id, StreamIo& io) {
  while (!io.read_done && !close_pending_) {
    Result<Stream::ReadResult> r = t_.stream_read(id, MutBytes(buf_.data(), buf_.size()));
    if (!r.is_ok()) {  // the transport no longer has the stream
      io.read_done = true;
      return;
    }
    if (r->bytes == 0 && !r->fin) return;
    if (r->fin) io.read_done = true;
    if (io.discard || io.closed) continue;
    const nghttp3_ssize rv = nghttp3_conn_read_stream(conn_, static_cast<int64_t>(id), buf_.data(), r->bytes, r->fin);
    if (rv < 0) fail(static_cast<int>(rv));
  }
}

void H3Session::on_peer_reset(uint64_t id, StreamIo& io, uint64_t code) {
  const auto sid = static_cast<int64_t>(id);
  if (!is_bidi(id)) {
    // RFC 9114 §6.2.1: closing a critical stream is a connection error;
    // nghttp3 knows which ones are.
    const int rv = nghttp3_conn_close_stream(conn_, sid, code);
    if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) fail(rv);
    return;
  }
  (void)nghttp3_conn_shutdown_stream_read(conn_, sid);
  if (!io.write_done) {  // nobody waits for the rest of our side
    (void)t_.stream_reset(id, kH3RequestCancelled);
    nghttp3_conn_shutdown_stream_write(conn_, sid);
    io.write_done = true;
  }
  io.close_code = code;
}

void H3Session::on_connection_closed(const CloseInfo& info) {
  closed_ = true;
  close_pending_ = false;
  for (auto& e : exchanges_) {
    if (e->state == Exchange::State::kQueued || e->state == Exchange::State::kOpen) {
      finish_exchange(*e, Exchange::State::kFailed, info.error_code);
    }
  }
}

void H3Session::flush() {
  if (!conn_ || closed_) return;
  if (!close_pending_) cancel_requests();
  if (!close_pending_) open_queued_requests();
  if (!close_pending_) write_streams();
  if (!close_pending_) close_finished_streams();
  if (close_pending_) apply_close();
}

size_t H3Session::get(std::string authority, std::string path, std::unique_ptr<ResponseSink> sink) {
  auto e = std::make_unique<Exchange>();
  e->authority = std::move(authority);
  e->path = std::move(path);
  e->sink = std::move(sink);
  if (closed_) e->state = Exchange::State::kFailed;
  exchanges_.push_back(std::move(e));
  if (!closed_) queued_.push_back(exchanges_.size() - 1);
  return exchanges_.size() - 1;
}

bool H3Session::all_done() const {
  return std::all_of(exchanges_.begin(), exchanges_.end(), [](const std::unique_ptr<Exchange>& e) {
    return e->state == Exchange::State::kComplete || e->state == Exchange::State::kFailed;
  });
}

void H3Session::close() {
  if (closed_) return;
  close_pending_ = false;
  closed_ = true;
  t_.close(kH3NoError, "done");
}

void H3Session::open_queued_requests() {
  while (!queued_.empty()) {
    // Waits while the peer's MAX_STREAMS (or our own bound) allows no more.
    Result<uint64_t> id = t_.open_stream(StreamDir::kBidi);
    if (!id.is_ok()) return;
    Exchange& e = *exchanges_[queued_.front()];
    const auto sid = static_cast<int64_t>(*id);
    // RFC 9114 §4.3.1: the request pseudo-header fields.
    const nghttp3_nv nva[] = {make_nv(":method", "GET"), make_nv(":scheme", "https"),
                              make_nv(":authority", e.authority), make_nv(":path", e.path),
                              make_nv("user-agent", "quicbed")};
    e.stream_id = *id;
    e.state = Exchange::State::kOpen;
    by_stream_[sid] = queued_.front();
    queued_.pop_front();
    io_of(*id);
    // No data reader: the HEADERS frame ends the request (RFC 9114 §4.1).
    const int rv = nghttp3_conn_submit_request(conn_, sid, nva, sizeof(nva) / sizeof(nva[0]), nullptr, nullptr);
    if (rv != 0) {
      finish_exchange(e, Exchange::State::kFailed, NGHTTP3_H3_INTERNAL_ERROR);
      if (nghttp3_err_is_fatal(rv)) return fail(rv);
      to_cancel_.push_back(sid);
    }
  }
}

void H3Session::write_streams() {
  // Streams the transport refused data last time may take some now.
  for (int64_t sid : blocked_) (void)nghttp3_conn_unblock_stream(conn_, sid);
  blocked_.clear();
  for (;;) {
    int64_t sid = -1;
    int fin = 0;
    nghttp3_vec vec[kMaxVecs];
    const nghttp3_ssize n = nghttp3_conn_writev_stream(conn_, &sid, &fin, vec, kMaxVecs);
    if (n < 0) return fail(static_cast<int>(n));
    if (sid < 0) return;
    if (n == 0 && !fin) return;  // nothing to hand over (nghttp3 promises this does not happen)
    const auto id = static_cast<uint64_t>(sid);
    const size_t count = static_cast<size_t>(n);
    const uint64_t total = nghttp3_vec_len(vec, count);
    uint64_t taken = 0;
    bool refused = false;
    // The stream's end goes with the last piece, or alone when there is none.
    for (size_t i = 0; i < count || (i == 0 && fin); ++i) {
      const Bytes piece = i < count ? Bytes(vec[i].base, vec[i].len) : Bytes();
      Result<size_t> w = t_.stream_write(id, piece, fin && i + 1 >= count);
      if (!w.is_ok()) {
        refused = true;
        break;
      }
      taken += *w;
      if (*w < piece.size()) break;
    }
    if (int rv = nghttp3_conn_add_write_offset(conn_, sid, static_cast<size_t>(taken)); rv != 0) return fail(rv);
    // The transport keeps what it took until acknowledged (see the header).
    if (int rv = nghttp3_conn_add_ack_offset(conn_, sid, taken); rv != 0) return fail(rv);
    if (refused) {
      // The stream cannot send (the peer's STOP_SENDING, RFC 9000 §3.5).
      if (sid == ctrl_id_ || sid == qenc_id_ || sid == qdec_id_) {
        return fail_code(NGHTTP3_H3_CLOSED_CRITICAL_STREAM, "critical stream refused data");
      }
      nghttp3_conn_shutdown_stream_write(conn_, sid);
      if (is_bidi(id)) io_of(id).write_done = true;
    } else if (taken < total) {
      nghttp3_conn_block_stream(conn_, sid);
      blocked_.push_back(sid);
    } else if (fin) {
      if (is_bidi(id)) io_of(id).write_done = true;
      if (role_ == Role::kServer && is_bidi(id)) ++responses_sent_;
    }
  }
}

H3Session::StreamIo& H3Session::io_of(uint64_t id) {
  auto [it, fresh] = io_.try_emplace(id);
  if (fresh && is_bidi(id)) live_.insert(id);
  return it->second;
}

void H3Session::close_finished_streams() {
  for (auto it = live_.begin(); it != live_.end();) {
    const uint64_t id = *it;
    StreamIo& io = io_[id];
    if (!(io.read_done || io.discard) || !io.write_done) {
      ++it;
      continue;
    }
    it = live_.erase(it);
    io.closed = true;
    const int rv = nghttp3_conn_close_stream(conn_, static_cast<int64_t>(id), io.close_code);
    if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) return fail(rv);
  }
}

void H3Session::cancel_requests() {
  std::vector<int64_t> ids;
  ids.swap(to_cancel_);
  for (int64_t sid : ids) {
    const auto id = static_cast<uint64_t>(sid);
    StreamIo& io = io_of(id);
    // RFC 9114 §4.1.1: the client aborts its request with STOP_SENDING and
    // RESET_STREAM, H3_REQUEST_CANCELLED.
    if (!io.read_done) {
      // What arrives from now on is read and dropped, so that the
      // transport can free the stream.
      (void)t_.stream_stop_sending(id, kH3RequestCancelled);
      (void)nghttp3_conn_shutdown_stream_read(conn_, sid);
      io.discard = true;
      read_stream(id, io);
    }
    if (!io.write_done) {
      (void)t_.stream_reset(id, kH3RequestCancelled);
      nghttp3_conn_shutdown_stream_write(conn_, sid);
      io.write_done = true;
    }
    io.close_code = kH3RequestCancelled;
  }
}

void H3Session::fail(int liberr) { fail_code(nghttp3_err_infer_quic_app_error_code(liberr), nghttp3_strerror(liberr)); }

void H3Session::fail_code(uint64_t code, const char* reason) {
  if (close_pending_ || closed_) return;
  close_pending_ = true;
  error_code_ = code;
  close_reason_ = reason;
}

void H3Session::apply_close() {
  if (!close_pending_ || closed_) return;
  close_pending_ = false;
  // The transport reports the close through on_connection_closed().
  closed_ = true;
  t_.close(error_code_, close_reason_);
}

Exchange* H3Session::exchange_on(int64_t stream_id) {
  auto it = by_stream_.find(stream_id);
  return it == by_stream_.end() ? nullptr : exchanges_[it->second].get();
}

void H3Session::finish_exchange(Exchange& e, Exchange::State st, uint64_t code) {
  e.state = st;
  e.error_code = code;
}

void H3Session::respond(int64_t stream_id) {
  ServerStream& st = serving_[stream_id];
  const Request& req = st.request;
  Response resp;
  if (handler_) {
    resp = handler_(req);
  } else {
    resp.status = 404;
  }
  const bool head = req.method == "HEAD";
  st.body = head ? Body() : resp.body;
  const std::string status = std::to_string(resp.status);
  const std::string length = std::to_string(resp.body.size());
  std::vector<nghttp3_nv> nva{make_nv(":status", status), make_nv("content-length", length),
                              make_nv("server", "quicbed")};
  for (const auto& [name, value] : resp.headers) nva.push_back(make_nv(name, value));
  nghttp3_data_reader reader{Callbacks::read_data};
  // Without a body the HEADERS frame ends the stream.
  const int rv =
      nghttp3_conn_submit_response(conn_, stream_id, nva.data(), nva.size(), st.body.size() ? &reader : nullptr);
  if (rv != 0) fail(rv);
}

// ---- serve_directory

namespace {

// The file a request path names under root, or nullopt when it would leave
// root: RFC 9110 §4.2.4 paths are '/'-separated; no segment may be "..".
std::optional<std::string> file_under(const std::string& root, std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  if (path.empty() || path.front() != '/') return std::nullopt;
  for (size_t pos = 0; pos < path.size();) {
    size_t end = path.find('/', pos + 1);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(pos + 1, end - pos - 1) == "..") return std::nullopt;
    pos = end;
  }
  return root + std::string(path);
}

}  // namespace

RequestHandler serve_directory(std::string root) {
  return [root = std::move(root)](const Request& req) {
    Response resp;
    if (req.method != "GET" && req.method != "HEAD") {
      resp.status = 405;
      resp.headers.emplace_back("allow", "GET, HEAD");
      return resp;
    }
    std::optional<std::string> file = file_under(root, req.path);
    std::optional<Body> body = file ? Body::from_file(*file) : std::nullopt;
    if (!body) {
      resp.status = 404;
      return resp;
    }
    resp.body = std::move(*body);
    return resp;
  };
}

}  // namespace quicbed::h3
