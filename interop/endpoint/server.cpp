#include "server.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "log.h"
#include "transport_settings.h"

namespace quicbed {
namespace {

constexpr size_t kScratch = 256 << 10;

}  // namespace

Server::Server(const Options& options) : options_(options), scratch_(kScratch) {}

Server::~Server() {
  // Every connection, and with it every Session, goes before the TLS
  // context and the services they use.
  endpoint_.reset();
}

bool Server::setup() {
  char resolved[PATH_MAX];
  if (!realpath(options_.root.c_str(), resolved)) {
    log_error("--root %s: %s", options_.root.c_str(), std::strerror(errno));
    return false;
  }
  root_ = resolved;
  if (root_ == "/") root_.clear();  // so that root_ + "/" + path is a path

  // options.cpp checked the address.
  const SocketAddress local = *parse_address(options_.listen);
  UdpSocketOptions so;
  so.gso = options_.gso;
  so.dual_stack = local.is_ipv6();  // [::]:443 serves IPv4 clients too
  so.socket_buffer_bytes = 8 << 20;
  SysStatus st = socket_.open(local, so);
  if (!st.is_ok()) {
    log_error("cannot listen on %s: %s", options_.listen.c_str(), st.message().c_str());
    return false;
  }
  sender_ = std::make_unique<DatagramSender>(socket_, options_.max_datagram_size);
  datagram_.resize(65536);

  Result<std::unique_ptr<GnutlsTlsContext>> ctx = GnutlsTlsContext::create(tls_settings(options_, Role::kServer));
  if (!ctx.is_ok()) {
    log_error("TLS setup failed (--cert %s, --key %s): %s", options_.cert_file.c_str(), options_.key_file.c_str(),
              ctx.status().reason());
    return false;
  }
  tls_context_ = std::move(ctx).value();

  EndpointConfig config;
  config.connection = connection_settings(options_, Role::kServer);
  random_.fill(MutBytes(config.hash_key, sizeof config.hash_key));
  random_.fill(MutBytes(config.reset_key, sizeof config.reset_key));
  config.alloc = &alloc_;
  config.crypto_backend = &crypto_;
  config.random = &random_;
  config.factory = this;
  config.events = this;
  endpoint_ = std::make_unique<Endpoint>(config);
  Status s = endpoint_->init();
  if (!s.is_ok()) {
    log_error("endpoint setup failed: %s", s.reason());
    return false;
  }

  st = loop_.open_for_socket(socket_.fd(), [this] { on_socket_readable(); }, [this] { on_timer(); });
  if (!st.is_ok()) {
    log_error("event loop: %s", st.message().c_str());
    return false;
  }
  return true;
}

int Server::run() {
  if (!setup()) return 1;
  log_info("serving %s on %s (GSO %s, GRO %s)", root_.empty() ? "/" : root_.c_str(),
           socket_.local_address().to_string().c_str(), socket_.gso_enabled() ? "on" : "off",
           socket_.gro_enabled() ? "on" : "off");
  SysStatus st = loop_.run();
  if (!st.is_ok()) {
    log_error("event loop: %s", st.message().c_str());
    return 1;
  }
  // A signal: tell every client (RFC 9000 §10.2), once.
  endpoint_->close_all(static_cast<uint64_t>(HqError::kNoError), "server shutting down", now_us());
  send();
  const EndpointStats& es = endpoint_->stats();
  const DatagramSender::Stats& ss = sender_->stats();
  log_info("stopped by signal %d: %llu connection(s) accepted, %llu refused; %llu datagrams received, %llu sent "
           "in %llu sends",
           loop_.last_signal(), static_cast<unsigned long long>(es.connections_accepted),
           static_cast<unsigned long long>(es.connections_refused),
           static_cast<unsigned long long>(es.datagrams_received), static_cast<unsigned long long>(ss.datagrams),
           static_cast<unsigned long long>(ss.sends));
  return 0;
}

// ---- Connections

Status Server::create(const IncomingConnection& in, ConnectionServices& out) {
  Result<std::unique_ptr<GnutlsTls>> tls = tls_context_->new_session();
  if (!tls.is_ok()) {
    log_error("TLS session for a new connection: %s", tls.status().reason());
    return tls.status();
  }
  std::unique_ptr<ConnectionQlog> qlog;
  if (!options_.qlog_dir.empty()) {
    qlog = std::make_unique<ConnectionQlog>(options_.qlog_dir, Role::kServer, now_us());
    ConnectionId odcid;
    // Without its file the connection goes untraced (open() logged why).
    if (!odcid.assign(in.original_dcid) || !qlog->open(odcid)) qlog.reset();
  }
  auto* session = new Session(std::move(tls).value(), std::move(qlog), root_, scratch_, sending_,
                              address_of(in.path.peer).unmapped().to_string());
  out = session->services();
  return Status::ok();
}

void Server::destroy(const ConnectionServices& services) { delete static_cast<Session*>(services.context); }

void Server::on_connection_accepted(EndpointConnection& c) {
  auto* session = static_cast<Session*>(c.context());
  session->attach(c);
  log_info("%s: new connection", session->peer().c_str());
}

void Server::on_connection_removed(EndpointConnection& c) {
  const Connection& conn = c.connection();
  log_info("%s: connection gone (%llu bytes received, %llu sent)", static_cast<Session*>(c.context())->peer().c_str(),
           static_cast<unsigned long long>(conn.bytes_received()), static_cast<unsigned long long>(conn.bytes_sent()));
}

// ---- Events

Path Server::path_of(const SocketAddress& local, const SocketAddress& peer) {
  Path p;
  // A sockaddr_in6 (28 bytes) fits kMaxPathAddressLen.
  (void)p.local.assign(Bytes(reinterpret_cast<const uint8_t*>(local.sockaddr_ptr()), local.sockaddr_len()));
  (void)p.peer.assign(Bytes(reinterpret_cast<const uint8_t*>(peer.sockaddr_ptr()), peer.sockaddr_len()));
  return p;
}

SocketAddress Server::address_of(const PathAddress& a) {
  // PathAddress keeps plain bytes, without a sockaddr's alignment.
  sockaddr_storage ss{};
  std::memcpy(&ss, a.bytes, std::min<size_t>(a.len, sizeof ss));
  return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), a.len);
}

void Server::on_socket_readable() {
  // A few batches, then send: ACKs should not wait for a drained socket.
  for (int round = 0; round < 4; ++round) {
    SysStatus st = socket_.receive();
    if (st.would_block()) break;
    if (!st.is_ok()) {
      log_info("receive: %s", st.message().c_str());
      continue;
    }
    const uint64_t now = now_us();
    socket_.for_each_datagram([&](Bytes d, const ReceivedMessage& m) {
      if (m.truncated) return;
      std::memcpy(datagram_.data(), d.data(), d.size());
      endpoint_->receive_datagram(MutBytes(datagram_.data(), d.size()), path_of(m.local, m.peer),
                                  DatagramInfo{m.ecn}, now);
    });
  }
  after_event();
}

void Server::on_timer() {
  endpoint_->on_timeout(now_us());
  after_event();
}

void Server::after_event() {
  for (Session* s = sending_.front(); s;) {
    Session* next = sending_.next(s);  // pump() may unlink s
    s->pump();
    endpoint_->wake(*s->endpoint_connection());
    s = next;
  }
  send();
  loop_.set_deadline(endpoint_->next_timeout());
}

void Server::send() {
  SysStatus st = sender_->send([this](MutBytes room, DatagramSender::Destination& to) {
    const Transmit t = endpoint_->write_datagram(room, now_us());
    if (t.size > 0) {
      to.peer = address_of(t.path.peer);
      to.source = address_of(t.path.local);
      to.ecn = t.ecn;
    }
    return t.size;
  });
  if (st.would_block()) {
    // The socket buffer is full; what the endpoint wrote waits in the
    // sender until the socket takes it.
    SysStatus w = loop_.notify_writable(socket_.fd(), [this] { after_event(); });
    if (!w.is_ok()) log_error("event loop: %s", w.message().c_str());
  }
}

}  // namespace quicbed
