// The client mode: one connection to the server of the URLs, one
// bidirectional stream per URL carrying an HTTP/0.9 request (hq.h) or, with
// --alpn h3, an HTTP/3 GET (an H3Session, http3.h), as many at once as the
// server's stream credit allows, each response saved under the download
// directory by its URL path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "address.h"
#include "conn.h"
#include "connection_qlog.h"
#include "datagram_sender.h"
#include "event_loop.h"
#include "gnutls_crypto.h"
#include "gnutls_tls.h"
#include "h3_session.h"
#include "malloc_allocator.h"
#include "options.h"
#include "path_sockets.h"
#include "session_file.h"
#include "system_random.h"
#include "udp_socket.h"

namespace quicbed {

class Client final : private ConnectionEvents {
 public:
  explicit Client(const Options& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Fetches every URL; returns the exit status: 0 once every file is saved,
  // 1 otherwise (each reason logged).
  int run();

 private:
  struct Download {
    enum class State : uint8_t { kQueued, kActive, kSaved, kFailed };
    const Url* url = nullptr;
    std::string file;  // where it is saved
    int fd = -1;
    uint64_t stream = 0;
    uint64_t bytes = 0;
    uint64_t started_us = 0;
    State state = State::kQueued;
    size_t exchange = 0;  // HTTP/3: its handle in the H3Session
  };

  // ---- ConnectionEvents
  void on_handshake_complete() override;
  void on_connection_closed(const CloseInfo& info) override;
  void on_stream_readable(uint64_t id) override;
  void on_early_data(bool accepted) override;
  // --token-file: kept for the next run (RFC 9000 §8.1.3).
  void on_new_token(Bytes token) override;

  // Socket, TLS and connection; false (logged) if any cannot be had.
  bool setup();
  void on_socket_readable(size_t socket);
  // RFC 9000 §9: --rebind-after, --migrate-after and the server's
  // preferred address (§9.6), each once, when its time has come.
  void maybe_migrate();
  // A new UDP socket connected to `peer`, listed and read; its index, or
  // sockets_.size() (logged) on failure.
  size_t open_socket(const SocketAddress& peer, bool add);
  Result<UdpSocket> new_socket(const SocketAddress& peer);
  size_t active_socket() const;
  // --session-file: the stored session for TLS and its remembered server
  // parameters for the connection (RFC 9000 §7.4.1); a missing, stale or
  // damaged file only costs a full handshake (logged).
  void load_session(ConnectionConfig& config);
  void store_ticket(const SessionTicket& t);
  // A TLS session and a connection in `version`; `vn_original` is the
  // version of the attempt a Version Negotiation packet ended (RFC 9368
  // §4), 0 for the first. False (logged) if TLS cannot be set up.
  bool make_connection(uint32_t version, uint32_t vn_original);
  // RFC 9000 §6.2: the connection ended on Version Negotiation naming a
  // version both speak; a new one starts in it. False if it cannot.
  bool restart_after_version_negotiation();
  void on_timer();
  // After every event: start requests the stream credit allows, send, then
  // rearm the timer or stop the loop.
  void after_event();
  void start_requests();
  // HTTP/3: the session once the handshake is complete, every request
  // queued in it, and downloads finished as their exchanges do.
  void start_h3();
  void queue_h3_requests();
  void collect_h3();
  // The application's "no error" code, and names for its codes.
  uint64_t app_no_error() const;
  using ErrorName = const char* (*)(uint64_t);
  ErrorName app_error_name() const;
  bool start(Download& d);
  void read_stream(Download& d);
  void finish(Download& d, bool saved, const std::string& error);
  void send();
  bool all_finished() const { return finished_ == downloads_.size(); }
  // The exit status, with the reason logged for a failure.
  int report();

  const Options& options_;
  MallocAllocator alloc_;
  GnutlsCrypto crypto_;
  SystemRandom random_;
  EventLoop loop_;
  SocketAddress peer_;
  // The sockets and, per socket, the path the connection knows it by.
  PathSockets sockets_;
  std::vector<Path> socket_paths_;
  Path last_path_;
  bool rebound_ = false;
  bool migrated_ = false;
  bool preferred_tried_ = false;
  std::unique_ptr<GnutlsTlsContext> tls_context_;
  std::unique_ptr<GnutlsTls> tls_;
  std::unique_ptr<ConnectionQlog> qlog_;  // with --qlog-dir
  std::unique_ptr<Connection> conn_;
  const bool h3_mode_;  // --alpn h3
  std::unique_ptr<h3::ConnectionTransport> h3_transport_;
  std::unique_ptr<h3::H3Session> h3_;  // from the handshake on
  bool h3_failed_ = false;             // start() failed: close the connection
  bool h3_queued_ = false;             // every request handed to h3_

  std::vector<Download> downloads_;
  std::unordered_map<uint64_t, size_t> by_stream_;  // stream ID -> downloads_ index
  size_t next_ = 0;                                 // first queued download
  size_t finished_ = 0;                             // saved or failed
  std::vector<uint8_t> datagram_;                   // a received datagram, decrypted in place
  std::vector<uint8_t> read_buffer_;
  std::vector<uint8_t> token_;  // from --token-file, sent in our Initials

  // --session-file: resuming the stored session, and its server parameters.
  bool resuming_ = false;
  bool key_updated_ = false;           // --key-update done
  TransportParameters remembered_;
  size_t tickets_stored_ = 0;

  // How the connection ended, if it did before we closed it.
  bool closed_ = false;
  CloseInfo close_info_;
  std::string close_reason_;
  bool icmp_refused_ = false;  // an ICMP error said nobody listens there
  uint64_t start_us_ = 0;
  uint64_t handshake_us_ = 0;
  uint64_t last_finish_us_ = 0;
};

}  // namespace quicbed
