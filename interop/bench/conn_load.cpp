// Load: many concurrent QUIC connections to one server over loopback. The
// clients are the connection engine itself, driven here directly (no
// program per client): a few UDP sockets shared by all connections (the
// Destination Connection ID of each datagram routes it), at most
// --concurrency handshakes in flight, every connection then held idle.
// Reports handshakes per second (and per second of the server's CPU time),
// and memory per idle connection: the
// server's resident set growth (--server-pid, from /proc) divided by the
// connections, and the engine's own accounting on this (client) side: the
// Connection object and every byte its allocator holds for it. Progress every second on
// stderr; the summary on stdout (and --json FILE).
//
//   conn_load --server 127.0.0.1:4433 --ca ca.pem [--connections 10000]
//             [--sockets 16] [--concurrency 256] [--hold SECONDS]
//             [--timeout SECONDS] [--server-pid PID] [--json FILE]
//
// Exit status 0 when every connection completed its handshake and none
// closed while held, 1 otherwise, 2 on a usage error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "conn.h"
#include "event_loop.h"  // now_us
#include "gnutls_crypto.h"
#include "gnutls_tls.h"
#include "malloc_allocator.h"
#include "system_random.h"

namespace quicbed {
namespace {

constexpr size_t kCidLen = 8;  // our Source Connection IDs: the routing key
constexpr size_t kMaxDatagram = 1500;

struct Options {
  std::string server = "127.0.0.1:4433";
  std::string ca_file;
  std::string json_file;
  size_t connections = 10000;
  size_t sockets = 16;
  size_t concurrency = 256;
  uint64_t hold_us = 2'000'000;
  uint64_t timeout_us = 300'000'000;
  long server_pid = 0;
};

uint64_t cid_key(const uint8_t* p) {
  uint64_t k = 0;
  std::memcpy(&k, p, sizeof k);
  return k;
}

class Bench;

// One client connection and what happened to it.
class Client final : public ConnectionEvents {
 public:
  Client(Bench& bench, size_t index) : bench_(bench), index_(index) {}
  void on_handshake_complete() override;
  void on_connection_closed(const CloseInfo& info) override;
  void on_cid_issued(const ConnectionId& cid) override;
  void on_cid_retired(const ConnectionId& cid) override;

  std::unique_ptr<GnutlsTls> tls;
  std::unique_ptr<Connection> conn;
  size_t socket = 0;
  bool completed = false;
  bool closed = false;
  uint64_t close_code = 0;

 private:
  Bench& bench_;
  size_t index_;
};

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o) {}

  int run();

  void completed() { ++completed_; }
  void closed(bool after_handshake) { ++(after_handshake ? closed_while_held_ : failed_); }
  void route(const ConnectionId& cid, size_t index) {
    if (cid.len == kCidLen) routes_[cid_key(cid.bytes)] = index;
  }
  void unroute(const ConnectionId& cid) {
    if (cid.len == kCidLen) routes_.erase(cid_key(cid.bytes));
  }

 private:
  bool setup();
  bool open_client(uint64_t now);
  void flush(Client& c, uint64_t now);
  void receive(uint64_t now);
  void run_timers(uint64_t now);
  void pump(uint64_t until, bool open_more);
  void progress(uint64_t now, bool handshaking);
  long server_rss_kb() const;
  double server_cpu_seconds() const;
  static long own_rss_kb();

  Options o_;
  sockaddr_in server_{};
  std::vector<int> fds_;
  MallocAllocator alloc_;
  GnutlsCrypto crypto_;
  SystemRandom random_;
  std::unique_ptr<GnutlsTlsContext> tls_ctx_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::unordered_map<uint64_t, size_t> routes_;
  size_t completed_ = 0, failed_ = 0, closed_while_held_ = 0;
  size_t send_drops_ = 0, unrouted_ = 0;
  uint64_t start_ = 0, last_progress_ = 0;
};

void Client::on_handshake_complete() {
  completed = true;
  bench_.completed();
}
void Client::on_connection_closed(const CloseInfo& info) {
  closed = true;
  close_code = info.error_code;
  bench_.closed(completed);
}
void Client::on_cid_issued(const ConnectionId& cid) { bench_.route(cid, index_); }
void Client::on_cid_retired(const ConnectionId& cid) { bench_.unroute(cid); }

long read_rss_kb(const std::string& status_file) {
  std::ifstream in(status_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

long Bench::server_rss_kb() const {
  return o_.server_pid > 0 ? read_rss_kb("/proc/" + std::to_string(o_.server_pid) + "/status") : -1;
}
long Bench::own_rss_kb() { return read_rss_kb("/proc/self/status"); }

// The server's user + system CPU time (/proc/PID/stat fields 14 and 15, in
// clock ticks): handshakes per CPU second hold still on a shared machine
// where handshakes per wall-clock second do not. -1 without --server-pid.
double Bench::server_cpu_seconds() const {
  if (o_.server_pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(o_.server_pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return -1;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(stat.c_str() + paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

bool Bench::setup() {
  const size_t colon = o_.server.rfind(':');
  server_.sin_family = AF_INET;
  if (colon == std::string::npos || inet_pton(AF_INET, o_.server.substr(0, colon).c_str(), &server_.sin_addr) != 1) {
    std::fprintf(stderr, "conn_load: --server %s: expected IPV4:PORT\n", o_.server.c_str());
    return false;
  }
  server_.sin_port = htons(static_cast<uint16_t>(std::atoi(o_.server.c_str() + colon + 1)));
  for (size_t i = 0; i < o_.sockets; ++i) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    const int buf = 8 << 20;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf) != 0 ||
        connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0) {
      std::fprintf(stderr, "conn_load: socket: %s\n", std::strerror(errno));
      if (fd >= 0) close(fd);
      return false;
    }
    fds_.push_back(fd);
  }
  GnutlsTlsConfig tls;
  tls.role = Role::kClient;
  tls.alpn = {"hq-interop"};
  tls.server_name = "localhost";
  tls.ca_file = o_.ca_file;
  tls.session_tickets = false;
  auto ctx = GnutlsTlsContext::create(tls);
  if (!ctx.is_ok()) {
    std::fprintf(stderr, "conn_load: TLS setup: %s\n", ctx.status().reason());
    return false;
  }
  tls_ctx_ = std::move(ctx).value();
  clients_.reserve(o_.connections);
  return true;
}

bool Bench::open_client(uint64_t now) {
  const size_t index = clients_.size();
  auto c = std::make_unique<Client>(*this, index);
  auto session = tls_ctx_->new_session();
  if (!session.is_ok()) {
    std::fprintf(stderr, "conn_load: TLS session: %s\n", session.status().reason());
    return false;
  }
  c->tls = std::move(session).value();
  c->socket = index % fds_.size();
  ConnectionConfig cfg;
  cfg.role = Role::kClient;
  cfg.cid_len = kCidLen;
  // Held idle for the whole run: an idle timeout beyond it (RFC 9000
  // §10.1, milliseconds; the server's may be shorter and wins).
  cfg.params.max_idle_timeout = (o_.timeout_us + o_.hold_us) / 1000;
  cfg.params.initial_max_data = 64 << 10;
  cfg.params.initial_max_stream_data_bidi_local = 16 << 10;
  cfg.params.initial_max_stream_data_bidi_remote = 16 << 10;
  cfg.params.initial_max_stream_data_uni = 16 << 10;
  cfg.params.active_connection_id_limit = 2;
  cfg.alloc = &alloc_;
  cfg.crypto_backend = &crypto_;
  cfg.tls = c->tls.get();
  cfg.events = c.get();
  cfg.random = &random_;
  c->conn = std::make_unique<Connection>(cfg);
  clients_.push_back(std::move(c));
  Client& added = *clients_.back();
  Status s = added.conn->init(now);
  if (!s.is_ok()) {
    std::fprintf(stderr, "conn_load: connection %zu: %s\n", index, s.reason());
    return false;
  }
  flush(added, now);
  return true;
}

void Bench::flush(Client& c, uint64_t now) {
  uint8_t buf[kMaxDatagram];
  for (int i = 0; i < 64; ++i) {
    const size_t n = c.conn->write_datagram(MutBytes(buf, sizeof buf), now);
    if (n == 0) return;
    // A full socket buffer loses the datagram, as a network would.
    if (send(fds_[c.socket], buf, n, 0) < 0) ++send_drops_;
  }
}

// Every datagram waiting on every socket, each to the connection its
// Destination Connection ID names (RFC 9000 §5.2: ours are kCidLen bytes).
void Bench::receive(uint64_t now) {
  uint8_t buf[65536];
  for (size_t s = 0; s < fds_.size(); ++s) {
    for (;;) {
      const ssize_t n = recv(fds_[s], buf, sizeof buf, 0);
      if (n <= 0) break;
      const size_t len = static_cast<size_t>(n);
      // Long header: the DCID length at byte 5, the DCID after it; short
      // header: the DCID right after the first byte (§17).
      const bool long_header = (buf[0] & 0x80) != 0;
      const size_t at = long_header ? 6 : 1;
      if (len < at + kCidLen || (long_header && buf[5] != kCidLen)) {
        ++unrouted_;
        continue;
      }
      auto it = routes_.find(cid_key(buf + at));
      if (it == routes_.end()) {
        ++unrouted_;
        continue;
      }
      Client& c = *clients_[it->second];
      c.conn->receive_datagram(MutBytes(buf, len), DatagramInfo{}, now);
      flush(c, now);
    }
  }
}

void Bench::run_timers(uint64_t now) {
  for (auto& c : clients_) {
    if (c->conn->next_timeout() <= now) {
      c->conn->on_timeout(now);
      flush(*c, now);
    }
  }
}

void Bench::progress(uint64_t now, bool handshaking) {
  const char* phase = handshaking ? "handshakes" : "holding";
  if (now - last_progress_ < 1'000'000) return;
  last_progress_ = now;
  const double secs = static_cast<double>(now - start_) / 1e6;
  std::fprintf(stderr, "[%6.1f s] %s: %zu/%zu connected, %zu in handshake, %zu failed, %zu closed while held",
               secs, phase, completed_, o_.connections, clients_.size() - completed_ - failed_, failed_,
               closed_while_held_);
  if (handshaking) std::fprintf(stderr, ", %.0f handshakes/s", secs > 0 ? static_cast<double>(completed_) / secs : 0.0);
  std::fprintf(stderr, "\n");
}

// Runs the connections until `until`, opening new ones while fewer than
// --concurrency are in their handshake (if `open_more`) and until every
// one has finished its handshake, one way or the other.
void Bench::pump(uint64_t until, bool open_more) {
  std::vector<pollfd> pfds;
  for (int fd : fds_) pfds.push_back(pollfd{fd, POLLIN, 0});
  uint64_t next_timer_scan = 0;
  for (;;) {
    uint64_t now = now_us();
    if (now >= until) return;
    if (open_more) {
      while (clients_.size() < o_.connections && clients_.size() - completed_ - failed_ < o_.concurrency) {
        if (!open_client(now)) return;
      }
      if (completed_ + failed_ == o_.connections) return;
    }
    // Timers are scanned every millisecond at most: with thousands of
    // connections a scan per datagram would cost more than the datagrams.
    if (now >= next_timer_scan) {
      run_timers(now);
      next_timer_scan = now + 1000;
    }
    progress(now, open_more);
    (void)poll(pfds.data(), pfds.size(), 1);
    receive(now_us());
  }
}

int Bench::run() {
  if (!setup()) return 2;
  const long rss_before = server_rss_kb();
  const double cpu_before = server_cpu_seconds();
  start_ = now_us();
  pump(start_ + o_.timeout_us, true);
  const uint64_t handshakes_end = now_us();
  const double hs_secs = static_cast<double>(handshakes_end - start_) / 1e6;
  const size_t connected = completed_;
  const double server_cpu = cpu_before >= 0 ? server_cpu_seconds() - cpu_before : -1;
  // Settle (the last ACKs, HANDSHAKE_DONE), then hold idle.
  pump(now_us() + o_.hold_us, false);
  const long rss_held = server_rss_kb();
  const size_t live = connected - closed_while_held_;
  // The engine's accounting: the Connection object (made here, not with
  // the engine's allocator) and everything it allocated.
  const double engine_per_conn =
      live ? static_cast<double>(alloc_.bytes_in_use()) / static_cast<double>(live) + sizeof(Connection) : 0;
  const double server_per_conn =
      rss_before >= 0 && rss_held >= 0 && live ? static_cast<double>(rss_held - rss_before) * 1024.0 / live : -1;
  const double hs_rate = hs_secs > 0 ? static_cast<double>(connected) / hs_secs : 0;

  std::printf("connections: %zu of %zu connected, %zu failed, %zu closed while held\n", connected, o_.connections,
              failed_, closed_while_held_);
  std::printf("handshakes: %.2f s, %.0f handshakes/s (concurrency %zu, %zu sockets)\n", hs_secs, hs_rate,
              o_.concurrency, o_.sockets);
  if (server_cpu > 0) {
    std::printf("server CPU: %.2f s for the handshakes: %.0f handshakes per CPU second\n", server_cpu,
                static_cast<double>(connected) / server_cpu);
  }
  if (server_per_conn >= 0) {
    std::printf("server RSS: %ld kB idle, %ld kB holding %zu connections: %.0f bytes per connection\n", rss_before,
                rss_held, live, server_per_conn);
  }
  std::printf("client engine: %zu bytes allocated for %zu connections, plus %zu per Connection object: %.0f bytes "
              "per connection (client RSS %ld kB)\n",
              alloc_.bytes_in_use(), live, sizeof(Connection), engine_per_conn, own_rss_kb());
  std::printf("datagrams: %zu lost to full socket buffers, %zu unrouted\n", send_drops_, unrouted_);
  if (!o_.json_file.empty()) {
    FILE* f = std::fopen(o_.json_file.c_str(), "w");
    if (f) {
      std::fprintf(f,
                   "{\"connections\": %zu, \"connected\": %zu, \"failed\": %zu, \"closed_while_held\": %zu, "
                   "\"handshake_seconds\": %.3f, \"handshakes_per_second\": %.1f, \"server_rss_kb_idle\": %ld, "
                   "\"server_rss_kb_held\": %ld, \"server_bytes_per_connection\": %.1f, "
                   "\"engine_bytes_per_connection\": %.1f, \"server_cpu_seconds\": %.2f, \"send_drops\": %zu}\n",
                   o_.connections, connected, failed_, closed_while_held_, hs_secs, hs_rate, rss_before, rss_held,
                   server_per_conn, engine_per_conn, server_cpu, send_drops_);
      std::fclose(f);
    }
  }
  const int status = connected == o_.connections && closed_while_held_ == 0 ? 0 : 1;
  // Goodbye: each connection closes (CONNECTION_CLOSE, RFC 9000 §10.2), so
  // that the server frees them now rather than at their idle timeout.
  const uint64_t now = now_us();
  for (auto& c : clients_) {
    c->conn->close(0, "done", now);
    flush(*c, now);
  }
  for (int fd : fds_) close(fd);
  return status;
}

bool parse_count(const char* v, size_t max, size_t* out) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (!end || *end || n == 0 || n > max) return false;
  *out = static_cast<size_t>(n);
  return true;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "conn_load: %s\n"
               "usage: conn_load --server IPV4:PORT --ca FILE [--connections N] [--sockets N]\n"
               "                 [--concurrency N] [--hold SECONDS] [--timeout SECONDS]\n"
               "                 [--server-pid PID] [--json FILE]\n",
               why);
  return 2;
}

}  // namespace
}  // namespace quicbed

int main(int argc, char** argv) {
  using namespace quicbed;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    size_t n = 0;
    if (a == "--server") {
      o.server = v;
    } else if (a == "--ca") {
      o.ca_file = v;
    } else if (a == "--json") {
      o.json_file = v;
    } else if (a == "--server-pid" && parse_count(v, 1u << 30, &n)) {
      o.server_pid = static_cast<long>(n);
    } else if (a == "--connections" && parse_count(v, 1'000'000, &n)) {
      o.connections = n;
    } else if (a == "--sockets" && parse_count(v, 1024, &n)) {
      o.sockets = n;
    } else if (a == "--concurrency" && parse_count(v, 100'000, &n)) {
      o.concurrency = n;
    } else if (a == "--hold" && parse_count(v, 86400, &n)) {
      o.hold_us = n * 1'000'000;
    } else if (a == "--timeout" && parse_count(v, 86400, &n)) {
      o.timeout_us = n * 1'000'000;
    } else {
      return usage((a + " " + v + ": unknown option or bad value").c_str());
    }
  }
  if (o.ca_file.empty()) return usage("--ca is required");
  return Bench(o).run();
}
