// One connection of the server: its TLS session, its qlog, and its requests:
// hq-interop ones (hq.h) from the request line to the last byte of the file
// sent, or, when the client chose ALPN h3, an H3Session (http3.h) serving
// the same files. A response is written as the stream's send buffer makes
// room, which only acknowledgements do, so the Server pumps sessions with
// responses in flight, and every HTTP/3 session, after every event (pump()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/intrusive_list.h"
#include "connection_qlog.h"
#include "endpoint.h"
#include "gnutls_tls.h"
#include "h3_session.h"
#include "hq.h"

namespace quicbed {

class Session final : public ListHook<>, private ConnectionEvents {
 public:
  // `root`: the served directory, resolved, without a trailing '/';
  // `scratch`: a buffer file data passes through, shared by the sessions;
  // `sending`: where the session is listed while it has responses in
  // flight, for the server to pump().
  // `qlog` may be null.
  Session(std::unique_ptr<GnutlsTls> tls, std::unique_ptr<ConnectionQlog> qlog, const std::string& root,
          std::vector<uint8_t>& scratch, IntrusiveList<Session>& sending, std::string peer);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ConnectionServices services();
  // The endpoint accepted the connection: stream events may come.
  void attach(EndpointConnection& c) { conn_ = &c; }
  EndpointConnection* endpoint_connection() const { return conn_; }
  const std::string& peer() const { return peer_; }

  // Writes what the send buffers take of the responses in flight (HTTP/3:
  // flushes the session, h3_session.h).
  void pump();

 private:
  struct Response {
    enum class State : uint8_t { kRequest, kSending };
    State state = State::kRequest;
    HqRequestParser request;
    std::string path;
    int fd = -1;
    uint64_t offset = 0;  // next byte of the file to send
    uint64_t size = 0;
  };
  using Responses = std::unordered_map<uint64_t, Response>;

  // ---- ConnectionEvents (forwarded by the endpoint)
  void on_handshake_complete() override;
  void on_connection_closed(const CloseInfo& info) override;
  void on_stream_opened(uint64_t id) override;
  void on_stream_readable(uint64_t id) override;
  void on_early_data(bool accepted) override;

  // The request is complete: open its file (or reset the stream).
  void respond(Responses::iterator it);
  // Sends what fits of one response; the iterator past it (erased when done).
  Responses::iterator pump_one(Responses::iterator it);
  Responses::iterator fail(Responses::iterator it, HqError error, const char* why);
  Responses::iterator forget(Responses::iterator it);
  // HqError::kNoError and the file, or why not.
  HqError open_file(const std::string& path, int* fd, uint64_t* size) const;
  Connection& conn() { return conn_->connection(); }
  // The client chose h3.
  bool is_h3() const;
  // HTTP/3: the session, made on first use (streams may open before the
  // handshake completes); nullptr before the endpoint accepted the
  // connection.
  h3::H3Session* h3();
  uint64_t app_no_error() const;

  std::unique_ptr<GnutlsTls> tls_;
  std::unique_ptr<ConnectionQlog> qlog_;
  const std::string& root_;
  std::string peer_;
  EndpointConnection* conn_ = nullptr;
  std::unique_ptr<h3::ConnectionTransport> h3_transport_;
  std::unique_ptr<h3::H3Session> h3_;
  bool h3_failed_ = false;  // start() failed: close the connection on pump()
  Responses responses_;
  // Streams readable before the handshake completed (0-RTT requests,
  // RFC 9001 §4.6): answered once it has, in 1-RTT. Both protocols here
  // serve GET only, a safe method (RFC 9110 §9.2.1), so every 0-RTT request
  // may be served; replayed ClientHellos are refused 0-RTT by TLS's
  // anti-replay (RFC 8446 §8).
  std::vector<uint64_t> early_readable_;
  std::vector<uint8_t>& scratch_;
  IntrusiveList<Session>& sending_list_;
  size_t sending_ = 0;  // responses in kSending; listed in sending_list_ while > 0
};

}  // namespace quicbed
