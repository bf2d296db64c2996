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

// The client's IP address, without the port, from the sockaddr bytes of a
// path (RFC 9000 §8.1.3: a client's next connection comes from another
// port). IPv4-mapped IPv6 addresses count as their IPv4 address.
size_t token_address(Bytes peer, uint8_t* out) {
  sockaddr_storage ss{};
  std::memcpy(&ss, peer.data(), std::min(peer.size(), sizeof ss));
  const SocketAddress a = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss),
                                                       static_cast<socklen_t>(peer.size()))
                              .unmapped();
  const std::string ip = a.to_string();
  const std::string host = ip.substr(0, ip.rfind(':'));
  const size_t n = std::min(host.size(), kMaxTokenAddressLen);
  std::memcpy(out, host.data(), n);
  return n;
}

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

  // The --listen address, then the preferred ones (RFC 9000 §9.6);
  // options.cpp checked them.
  std::vector<const std::string*> addresses{&options_.listen};
  for (const std::string& p : options_.preferred_addresses) addresses.push_back(&p);
  for (const std::string* text : addresses) {
    const SocketAddress a = *parse_address(*text);
    UdpSocketOptions so;
    so.gso = options_.gso;
    so.dual_stack = a.is_ipv6();  // [::]:443 serves IPv4 clients too
    so.socket_buffer_bytes = 8 << 20;
    UdpSocket udp;
    SysStatus st = udp.open(a, so);
    if (!st.is_ok()) {
      log_error("cannot listen on %s: %s", text->c_str(), st.message().c_str());
      return false;
    }
    sockets_.add(std::move(udp), options_.max_datagram_size, false);
  }
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
  // RFC 9000 §8.1: Retry on request; NEW_TOKEN tokens (bound to the
  // client's IP address, not its port) always.
  config.validation.retry = options_.retry;
  config.max_connections = options_.max_connections;
  random_.fill(MutBytes(config.validation.token_key, sizeof config.validation.token_key));
  config.validation.token_address = token_address;
  for (size_t i = 0; i < EndpointConfig::kMaxVersions; ++i) config.versions[i] = config.connection.versions[i];
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

  SysStatus st = loop_.open_for_socket(sockets_[0].udp.fd(), [this] { on_socket_readable(0); }, [this] { on_timer(); });
  for (size_t i = 1; i < sockets_.size() && st.is_ok(); ++i) {
    st = loop_.add_reader(sockets_[i].udp.fd(), [this, i] { on_socket_readable(i); });
  }
  if (!st.is_ok()) {
    log_error("event loop: %s", st.message().c_str());
    return false;
  }
  return true;
}

int Server::run() {
  if (!setup()) return 1;
  const UdpSocket& main = sockets_[0].udp;
  std::string preferred;
  for (const std::string& p : options_.preferred_addresses) preferred += ", preferred address " + p;
  log_info("serving %s on %s%s (GSO %s, GRO %s)", root_.empty() ? "/" : root_.c_str(),
           main.local_address().to_string().c_str(), preferred.c_str(), main.gso_enabled() ? "on" : "off",
           main.gro_enabled() ? "on" : "off");
  SysStatus st = loop_.run();
  if (!st.is_ok()) {
    log_error("event loop: %s", st.message().c_str());
    return 1;
  }
  // A signal: tell every client (RFC 9000 §10.2), once.
  endpoint_->close_all(static_cast<uint64_t>(HqError::kNoError), "server shutting down", now_us());
  send();
  const EndpointStats& es = endpoint_->stats();
  const DatagramSender::Stats& ss = sockets_[0].sender->stats();
  log_info("stopped by signal %d: %llu connection(s) accepted, %llu refused; %llu Retry, %llu Version Negotiation, "
           "%llu invalid token(s); %llu datagrams received, %llu sent in %llu sends",
           loop_.last_signal(), static_cast<unsigned long long>(es.connections_accepted),
           static_cast<unsigned long long>(es.connections_refused), static_cast<unsigned long long>(es.retries_sent),
           static_cast<unsigned long long>(es.version_negotiations_sent),
           static_cast<unsigned long long>(es.invalid_tokens),
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
                              socket_address(in.path.peer).unmapped().to_string());
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

void Server::on_socket_readable(size_t socket) {
  UdpSocket& udp = sockets_[socket].udp;
  // A few batches, then send: ACKs should not wait for a drained socket.
  for (int round = 0; round < 4; ++round) {
    SysStatus st = udp.receive();
    if (st.would_block()) break;
    if (!st.is_ok()) {
      log_info("receive: %s", st.message().c_str());
      continue;
    }
    const uint64_t now = now_us();
    udp.for_each_datagram([&](Bytes d, const ReceivedMessage& m) {
      if (m.truncated) return;
      std::memcpy(datagram_.data(), d.data(), d.size());
      endpoint_->receive_datagram(MutBytes(datagram_.data(), d.size()), make_path(m.local, m.peer),
                                  DatagramInfo{m.ecn}, now);
    });
    // The endpoint's stateless replies (Retries, under an Initial flood)
    // leave after each batch: its queue holds two batches' worth, not four.
    if (endpoint_->pending_replies() > 0) send();
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
  int blocked = -1;
  SysStatus st = sockets_.send(
      [this](MutBytes room, Path* path, Ecn* ecn) {
        const Transmit t = endpoint_->write_datagram(room, now_us());
        *path = t.path;
        *ecn = t.ecn;
        return t.size;
      },
      &blocked);
  if (st.would_block()) {
    // The socket buffer is full; what the endpoint wrote waits in the
    // sender until the socket takes it.
    SysStatus w = loop_.notify_writable(blocked, [this] { after_event(); });
    if (!w.is_ok()) log_error("event loop: %s", w.message().c_str());
  }
}

}  // namespace quicbed
