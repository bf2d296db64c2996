// The server mode: the core's Endpoint (stack/endpoint.h) on one UDP socket,
// serving the files under a root directory over hq-interop (hq.h) until
// SIGINT or SIGTERM. Each connection has a Session: its TLS session, its
// requests and the responses being sent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "address.h"
#include "datagram_sender.h"
#include "endpoint.h"
#include "event_loop.h"
#include "gnutls_crypto.h"
#include "gnutls_tls.h"
#include "malloc_allocator.h"
#include "options.h"
#include "path_sockets.h"
#include "server_session.h"
#include "system_random.h"
#include "udp_socket.h"

namespace quicbed {

class Server final : private ConnectionFactory, private EndpointEvents {
 public:
  explicit Server(const Options& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until a signal; returns the exit status (0 after a signal, 1 if
  // the server could not start or its event loop failed).
  int run();

 private:
  // ---- ConnectionFactory
  Status create(const IncomingConnection& in, ConnectionServices& out) override;
  void destroy(const ConnectionServices& services) override;
  // ---- EndpointEvents
  void on_connection_accepted(EndpointConnection& c) override;
  void on_connection_removed(EndpointConnection& c) override;

  bool setup();
  void on_socket_readable(size_t socket);
  void on_timer();
  // After every event: responses waiting for send buffer room, then
  // datagrams out, then the timer.
  void after_event();
  void send();

  const Options& options_;
  std::string root_;  // the served directory, resolved (realpath)
  MallocAllocator alloc_;
  GnutlsCrypto crypto_;
  SystemRandom random_;
  EventLoop loop_;
  // The --listen socket first, then the --preferred-address one (RFC 9000
  // §9.6); datagrams leave on their path's.
  PathSockets sockets_;
  std::unique_ptr<GnutlsTlsContext> tls_context_;
  std::unique_ptr<Endpoint> endpoint_;
  // Sessions with responses in flight, pumped after every event: only
  // acknowledgements make room in send buffers, and no event says so.
  IntrusiveList<Session> sending_;
  std::vector<uint8_t> datagram_;  // a received datagram, decrypted in place
  std::vector<uint8_t> scratch_;   // file data on its way to a stream
};

}  // namespace quicbed
