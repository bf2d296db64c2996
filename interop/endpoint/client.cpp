#include "client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error_text.h"
#include "hq.h"
#include "http3.h"
#include "log.h"
#include "transport_settings.h"

namespace quicbed {
namespace {

constexpr size_t kReadBuffer = 256 << 10;

// Creates the directories above `file` (a path under an existing `base`).
bool make_parents(const std::string& base, const std::string& file, std::string* error) {
  for (size_t pos = file.find('/', base.size() + 1); pos != std::string::npos; pos = file.find('/', pos + 1)) {
    const std::string dir = file.substr(0, pos);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = "cannot create directory " + dir + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool write_all(int fd, const uint8_t* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

double seconds(uint64_t us) { return static_cast<double>(us) / 1e6; }

}  // namespace

Client::Client(const Options& options)
    : options_(options), h3_mode_(options.alpn == kAlpnH3), read_buffer_(kReadBuffer) {
  downloads_.resize(options.urls.size());
  for (size_t i = 0; i < downloads_.size(); ++i) {
    Download& d = downloads_[i];
    d.url = &options.urls[i];
    std::string relative;
    // options.cpp refused URLs whose path names no file.
    (void)hq_relative_path(d.url->path, &relative);
    d.file = options.download_dir + "/" + relative;
  }
}

Client::~Client() {
  for (Download& d : downloads_)
    if (d.fd >= 0) ::close(d.fd);
  // The HTTP/3 session goes before the connection it uses, which goes
  // before the TLS session and services it uses.
  h3_.reset();
  h3_transport_.reset();
  conn_.reset();
}

bool Client::setup() {
  const std::string& authority = options_.urls.front().authority;
  Result<SocketAddress> peer = resolve_address(authority);
  if (!peer.is_ok()) {
    log_error("cannot resolve %s: %s", authority.c_str(), peer.status().reason());
    return false;
  }
  peer_ = *peer;
  UdpSocketOptions so;
  so.gso = options_.gso;
  so.socket_buffer_bytes = 8 << 20;
  const AddressFamily family = peer_.is_ipv4() ? AddressFamily::kIPv4 : AddressFamily::kIPv6;
  SysStatus st = socket_.open(SocketAddress::wildcard(family, 0), so);
  if (st.is_ok()) st = socket_.connect(peer_);
  if (!st.is_ok()) {
    log_error("cannot open a UDP socket to %s: %s", peer_.to_string().c_str(), st.message().c_str());
    return false;
  }
  sender_ = std::make_unique<DatagramSender>(socket_, options_.max_datagram_size);
  datagram_.resize(65536);

  GnutlsTlsConfig tls_config = tls_settings(options_, Role::kClient);
  if (!options_.session_file.empty()) tls_config.on_session_ticket = [this](const SessionTicket& t) { store_ticket(t); };
  Result<std::unique_ptr<GnutlsTlsContext>> ctx = GnutlsTlsContext::create(tls_config);
  if (!ctx.is_ok()) {
    log_error("TLS setup failed: %s", ctx.status().reason());
    return false;
  }
  tls_context_ = std::move(ctx).value();
  Result<std::unique_ptr<GnutlsTls>> session = tls_context_->new_session();
  if (!session.is_ok()) {
    log_error("TLS session setup failed: %s", session.status().reason());
    return false;
  }
  tls_ = std::move(session).value();

  start_us_ = now_us();
  ConnectionConfig config = connection_settings(options_, Role::kClient);
  if (!options_.qlog_dir.empty()) {
    qlog_ = std::make_unique<ConnectionQlog>(options_.qlog_dir, Role::kClient, start_us_);
    config.tracer = qlog_.get();
  }
  config.alloc = &alloc_;
  config.crypto_backend = &crypto_;
  config.tls = tls_.get();
  config.events = this;
  config.random = &random_;
  if (!options_.session_file.empty()) load_session(config);
  conn_ = std::make_unique<Connection>(config);

  st = loop_.open_for_socket(socket_.fd(), [this] { on_socket_readable(); }, [this] { on_timer(); });
  if (!st.is_ok()) {
    log_error("event loop: %s", st.message().c_str());
    return false;
  }
  return true;
}

void Client::load_session(ConnectionConfig& config) {
  SessionTicket t;
  std::string error;
  if (::access(options_.session_file.c_str(), F_OK) != 0) {
    log_info("session file %s does not exist yet: full handshake", options_.session_file.c_str());
    return;
  }
  if (!load_session_file(options_.session_file, &t, &error)) {
    log_error("session file unusable, full handshake instead: %s", error.c_str());
    return;
  }
  Result<TransportParameters> tp =
      TransportParameters::parse(Bytes(t.transport_params.data(), t.transport_params.size()), Role::kServer);
  if (!tp.is_ok()) {
    log_error("session file %s: bad server transport parameters (%s), full handshake instead",
              options_.session_file.c_str(), tp.status().reason());
    return;
  }
  if (const Status s = tls_->set_session(t.session); !s.is_ok()) {
    log_error("session file %s: TLS cannot resume its session (%s), full handshake instead",
              options_.session_file.c_str(), s.reason());
    return;
  }
  resuming_ = true;
  // RFC 9001 §4.6.1: 0-RTT only under a ticket that allows it.
  const bool zero_rtt = options_.early_data && t.allows_zero_rtt();
  if (zero_rtt) {
    remembered_ = *tp;
    config.zero_rtt_params = &remembered_;
  }
  log_info("resuming the session stored in %s%s", options_.session_file.c_str(),
           zero_rtt                 ? ", requests in 0-RTT"
           : options_.early_data ? " (its ticket allows no 0-RTT: requests after the handshake)"
                                 : "");
}

void Client::store_ticket(const SessionTicket& t) {
  std::string error;
  if (!store_session_file(options_.session_file, t, &error)) {
    log_error("cannot store the session ticket: %s", error.c_str());
    return;
  }
  if (tickets_stored_++ == 0) log_info("session ticket stored in %s", options_.session_file.c_str());
}

int Client::run() {
  if (!setup()) return 1;
  Status s = conn_->init(now_us());
  if (!s.is_ok()) {
    log_error("connection setup failed: %s", s.reason());
    return 1;
  }
  log_info("connecting to %s (%s), %zu file(s)", options_.urls.front().authority.c_str(), peer_.to_string().c_str(),
           downloads_.size());
  after_event();
  SysStatus st = loop_.run();
  if (!st.is_ok()) {
    log_error("event loop: %s", st.message().c_str());
    return 1;
  }
  if (loop_.last_signal() != 0) {
    conn_->close(app_no_error(), "interrupted", now_us());
    send();
  }
  return report();
}

// ---- Events

void Client::on_socket_readable() {
  // A few batches, then send: ACKs should not wait for a drained socket.
  for (int round = 0; round < 4; ++round) {
    SysStatus st = socket_.receive();
    if (st.would_block()) break;
    if (!st.is_ok()) {
      // An ICMP error for an earlier datagram (connected socket): nobody
      // listens there, or not yet. The idle timeout decides.
      if (st.err() == ECONNREFUSED) icmp_refused_ = true;
      log_info("receive: %s", st.message().c_str());
      continue;
    }
    const uint64_t now = now_us();
    socket_.for_each_datagram([&](Bytes d, const ReceivedMessage& m) {
      if (m.truncated || conn_->is_terminated()) return;
      std::memcpy(datagram_.data(), d.data(), d.size());
      conn_->receive_datagram(MutBytes(datagram_.data(), d.size()), DatagramInfo{m.ecn}, now);
    });
  }
  after_event();
}

void Client::on_timer() {
  conn_->on_timeout(now_us());
  after_event();
}

void Client::after_event() {
  const bool established = conn_->state() == Connection::State::kEstablished;
  // Requests start once streams may be used: established, or at once when
  // resuming with 0-RTT (RFC 9001 §4.6.1).
  if (h3_mode_ && !h3_ && !h3_failed_ && conn_->streams_usable()) start_h3();
  if (h3_failed_ && established) {
    // RFC 9114 §6.2: without its control and QPACK streams there is no
    // HTTP/3 (start() logged why).
    conn_->close(kH3StreamCreationError, "cannot open the HTTP/3 streams", now_us());
  } else if (h3_) {
    queue_h3_requests();
    // What the connection's events left for the session to do, before the
    // datagrams go (h3_session.h).
    h3_->flush();
    collect_h3();
    // RFC 9114 §5.2: done; H3_NO_ERROR tells the server.
    if (all_finished() && !h3_->closed() && established) h3_->close();
  } else if (!h3_mode_ && conn_->streams_usable()) {
    start_requests();
    // RFC 9000 §10.2: done; CONNECTION_CLOSE with NO_ERROR tells the server.
    if (all_finished() && established) conn_->close(static_cast<uint64_t>(HqError::kNoError), "", now_us());
  }
  send();
  if (conn_->state() != Connection::State::kHandshake && conn_->state() != Connection::State::kEstablished) {
    // Closing or draining: our CONNECTION_CLOSE (if any) went out above,
    // and a client has nothing to wait for (§10.2.2 lets it leave).
    loop_.stop();
    return;
  }
  loop_.set_deadline(conn_->next_timeout());
}

void Client::on_handshake_complete() {
  handshake_us_ = now_us();
  log_info("handshake complete in %.1f ms (ALPN %.*s%s)", static_cast<double>(handshake_us_ - start_us_) / 1e3,
           static_cast<int>(tls_->alpn().size()), reinterpret_cast<const char*>(tls_->alpn().data()),
           conn_->resumed() ? ", session resumed" : "");
  if (resuming_ && !conn_->resumed()) {
    log_error("the server did not resume the session of %s (stale or unknown ticket): it was a full handshake",
              options_.session_file.c_str());
  }
}

void Client::on_early_data(bool accepted) {
  if (accepted) {
    log_info("0-RTT accepted by the server");
  } else {
    log_info("0-RTT rejected by the server: the requests go again in 1-RTT");
  }
}

void Client::on_connection_closed(const CloseInfo& info) {
  if (h3_) h3_->on_connection_closed(info);
  closed_ = true;
  close_info_ = info;
  close_reason_.assign(info.reason.begin(), info.reason.end());
}

void Client::on_stream_readable(uint64_t id) {
  if (h3_) {
    h3_->on_stream_readable(id);
    return;
  }
  auto it = by_stream_.find(id);
  if (it == by_stream_.end()) return;
  Download& d = downloads_[it->second];
  if (d.state == Download::State::kActive) read_stream(d);
}

// ---- Requests

void Client::start_requests() {
  while (next_ < downloads_.size()) {
    Download& d = downloads_[next_];
    if (d.state == Download::State::kQueued && !start(d)) return;
    ++next_;
  }
}

// False while the server's stream credit is used up (RFC 9000 §4.6).
bool Client::start(Download& d) {
  Result<uint64_t> id = conn_->open_stream(StreamDir::kBidi);
  if (!id.is_ok()) {
    if (id.status().code() == ErrorCode::kLimitExceeded) return false;
    finish(d, false, std::string("cannot open a stream: ") + id.status().reason());
    return true;
  }
  d.stream = *id;
  d.state = Download::State::kActive;
  d.started_us = now_us();
  by_stream_[d.stream] = static_cast<size_t>(&d - downloads_.data());
  std::string error;
  if (!make_parents(options_.download_dir, d.file, &error)) {
    (void)conn_->stream_reset(d.stream, static_cast<uint64_t>(HqError::kInternal));
    finish(d, false, error);
    return true;
  }
  d.fd = ::open(d.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (d.fd < 0) {
    (void)conn_->stream_reset(d.stream, static_cast<uint64_t>(HqError::kInternal));
    finish(d, false, "cannot create " + d.file + ": " + std::strerror(errno));
    return true;
  }
  const std::string request = hq_request(d.url->path);
  Result<size_t> n =
      conn_->stream_write(d.stream, Bytes(reinterpret_cast<const uint8_t*>(request.data()), request.size()), true);
  // A new stream's send buffer takes a request line whole.
  if (!n.is_ok() || *n != request.size()) {
    finish(d, false, std::string("cannot send the request: ") + (n.is_ok() ? "send buffer full" : n.status().reason()));
  }
  return true;
}

// ---- HTTP/3

void Client::start_h3() {
  h3_transport_ = std::make_unique<h3::ConnectionTransport>(*conn_, [] { return now_us(); });
  h3_ = std::make_unique<h3::H3Session>(*h3_transport_, Role::kClient);
  const Status s = h3_->start();
  if (!s.is_ok()) {
    log_error("HTTP/3 setup failed: %s", s.reason());
    h3_.reset();
    h3_failed_ = true;
  }
}

void Client::queue_h3_requests() {
  if (h3_queued_) return;
  h3_queued_ = true;
  // The session opens their streams as the server's credit allows.
  for (Download& d : downloads_) {
    d.state = Download::State::kActive;
    d.started_us = now_us();
    std::string error;
    if (!make_parents(options_.download_dir, d.file, &error)) {
      finish(d, false, error);
      continue;
    }
    std::unique_ptr<h3::FileSink> sink = h3::FileSink::create(d.file);
    if (!sink) {
      finish(d, false, "cannot create " + d.file + ": " + std::strerror(errno));
      continue;
    }
    d.exchange = h3_->get(d.url->authority, d.url->path, std::move(sink));
  }
}

void Client::collect_h3() {
  for (Download& d : downloads_) {
    if (d.state != Download::State::kActive) continue;
    const h3::Exchange& e = h3_->exchange(d.exchange);
    d.stream = e.stream_id;
    d.bytes = e.body_bytes;
    if (e.state == h3::Exchange::State::kComplete) {
      char text[96];
      if (e.status != 200) {
        std::snprintf(text, sizeof text, "the server answered with status %d", e.status);
        finish(d, false, text);
      } else if (e.content_length && *e.content_length != e.body_bytes) {
        // RFC 9114 §4.1.2: a malformed response.
        std::snprintf(text, sizeof text, "%llu body bytes, content-length %llu",
                      static_cast<unsigned long long>(e.body_bytes),
                      static_cast<unsigned long long>(*e.content_length));
        finish(d, false, text);
      } else {
        finish(d, true, "");
      }
    } else if (e.state == h3::Exchange::State::kFailed) {
      const char* name = h3_error_name(e.error_code);
      char text[128];
      std::snprintf(text, sizeof text, "HTTP/3 request failed with error 0x%llx (%s)",
                    static_cast<unsigned long long>(e.error_code), name ? name : "unknown");
      finish(d, false, text);
    }
  }
}

uint64_t Client::app_no_error() const {
  return h3_mode_ ? h3::kH3NoError : static_cast<uint64_t>(HqError::kNoError);
}

Client::ErrorName Client::app_error_name() const { return h3_mode_ ? h3_error_name : hq_error_name; }

// ---- HTTP/0.9

void Client::read_stream(Download& d) {
  if (Result<uint64_t> code = conn_->stream_reset_code(d.stream); code.is_ok()) {
    (void)conn_->stream_read(d.stream, MutBytes());  // takes note of the reset
    char text[96];
    std::snprintf(text, sizeof text, "the server reset the stream with error 0x%llx (%s)",
                  static_cast<unsigned long long>(*code), hq_error_name(*code));
    finish(d, false, text);
    return;
  }
  for (;;) {
    Result<Stream::ReadResult> r = conn_->stream_read(d.stream, MutBytes(read_buffer_.data(), read_buffer_.size()));
    if (!r.is_ok()) {
      finish(d, false, std::string("stream read failed: ") + r.status().reason());
      return;
    }
    if (r->bytes > 0 && !write_all(d.fd, read_buffer_.data(), r->bytes)) {
      const std::string error = "cannot write " + d.file + ": " + std::strerror(errno);
      (void)conn_->stream_stop_sending(d.stream, static_cast<uint64_t>(HqError::kInternal));
      finish(d, false, error);
      return;
    }
    d.bytes += r->bytes;
    if (r->fin) {
      finish(d, true, "");
      return;
    }
    if (r->bytes == 0) return;
  }
}

void Client::finish(Download& d, bool saved, const std::string& error) {
  const uint64_t now = now_us();
  if (d.fd >= 0) {
    if (::close(d.fd) != 0 && saved) {
      saved = false;
      log_error("GET %s: cannot write %s: %s", d.url->path.c_str(), d.file.c_str(), std::strerror(errno));
    }
    d.fd = -1;
  }
  d.state = saved ? Download::State::kSaved : Download::State::kFailed;
  ++finished_;
  last_finish_us_ = now;
  if (saved) {
    log_info("GET %s: %llu bytes in %.1f ms -> %s", d.url->path.c_str(), static_cast<unsigned long long>(d.bytes),
             static_cast<double>(now - d.started_us) / 1e3, d.file.c_str());
    return;
  }
  // A partial file must not pass for a download.
  if (!d.file.empty()) ::unlink(d.file.c_str());
  log_error("GET %s failed: %s", d.url->path.c_str(), error.c_str());
}

// ---- Output

void Client::send() {
  // The socket is connected: the default Destination is the server.
  SysStatus st = sender_->send([this](MutBytes room, DatagramSender::Destination& to) {
    const size_t n = conn_->write_datagram(room, now_us());
    to.ecn = conn_->datagram_ecn();
    return n;
  });
  if (st.would_block()) {
    // The socket buffer is full; what the connection wrote waits in the
    // sender until the socket takes it.
    SysStatus w = loop_.notify_writable(socket_.fd(), [this] { after_event(); });
    if (!w.is_ok()) log_error("event loop: %s", w.message().c_str());
  }
}

// ---- Outcome

int Client::report() {
  if (loop_.last_signal() != 0) {
    log_error("interrupted by signal %d after %zu of %zu file(s)", loop_.last_signal(), finished_, downloads_.size());
  }
  // The connection ended with these under way: partial files go.
  for (Download& d : downloads_) {
    if (d.state == Download::State::kActive) {
      finish(d, false, "incomplete (" + std::to_string(d.bytes) + " bytes) when the connection ended");
    }
  }
  if (loop_.last_signal() != 0) return 1;
  size_t saved = 0;
  uint64_t bytes = 0;
  for (const Download& d : downloads_) {
    if (d.state != Download::State::kSaved) continue;
    ++saved;
    bytes += d.bytes;
  }
  const bool we_closed = closed_ && close_info_.source == CloseInfo::Source::kLocal && close_info_.application &&
                         close_info_.error_code == app_no_error();
  if (closed_ && !(we_closed && all_finished())) {
    const std::string authority = options_.urls.front().authority;
    if (close_info_.source == CloseInfo::Source::kIdleTimeout && handshake_us_ == 0) {
      const std::string address = peer_.to_string();
      log_error("handshake with %s%s%s%s timed out after %.1f s: no answer from a QUIC server%s", authority.c_str(),
                address == authority ? "" : " (", address == authority ? "" : address.c_str(),
                address == authority ? "" : ")", seconds(now_us() - start_us_),
                icmp_refused_ ? " (ICMP: connection refused, nothing listens on that port)" : "");
    } else if (close_info_.source == CloseInfo::Source::kIdleTimeout) {
      log_error("connection to %s timed out: nothing heard for %.1f s", authority.c_str(),
                seconds(options_.timeout_us));
    } else {
      const bool tls = !close_info_.application &&
                       close_info_.error_code >= static_cast<uint64_t>(ErrorCode::kCryptoErrorBase) &&
                       close_info_.error_code <= static_cast<uint64_t>(ErrorCode::kCryptoErrorBase) + 0xff;
      log_error("%s with %s %s: %s", tls ? "TLS handshake" : "connection", authority.c_str(),
                tls ? "failed" : "ended", describe_close(close_info_, close_reason_, app_error_name()).c_str());
    }
  }
  if (saved != downloads_.size()) {
    log_error("%zu of %zu file(s) saved", saved, downloads_.size());
    return 1;
  }
  const uint64_t elapsed = last_finish_us_ - start_us_;
  const SocketAddress local = socket_.local_address();
  log_info("%zu file(s), %llu bytes in %.3f s: %.1f Mbit/s (from %s; %llu datagrams sent in %llu sends, GSO %s, GRO %s)",
           saved, static_cast<unsigned long long>(bytes), seconds(elapsed),
           elapsed ? static_cast<double>(bytes) * 8 / static_cast<double>(elapsed) : 0.0, local.to_string().c_str(),
           static_cast<unsigned long long>(sender_->stats().datagrams),
           static_cast<unsigned long long>(sender_->stats().sends), socket_.gso_enabled() ? "on" : "off",
           socket_.gro_enabled() ? "on" : "off");
  return 0;
}

}  // namespace quicbed
