// HTTP/3 (RFC 9114) on one QUIC connection, through Debian's libnghttp3
// 0.8.0: the control stream and the QPACK encoder and decoder streams
// (§6.2, RFC 9204 §4.2), GET requests from a client, responses from a
// server, and every HTTP/3 error closing the connection with its code as
// an application close (§8).
//
// The host drives it from its ConnectionEvents:
//   on_handshake_complete  -> start() (opens the three unidirectional streams)
//   on_stream_readable(id) -> on_stream_readable(id)
//   on_connection_closed   -> on_connection_closed(info)
// and calls flush() after every Connection entry point (receive_datagram,
// on_timeout), before write_datagram(): flush() opens queued requests,
// hands what nghttp3 has to send to the transport, closes finished streams
// and applies an error close found while reading (never from inside a
// Connection event).
//
// Flow control and acknowledgements, as nghttp3 0.8.0 leaves them to the
// application: the Connection returns flow control credit itself as the
// session reads a stream, so nghttp3's consumed counts (the return of
// nghttp3_conn_read_stream, recv_data, deferred_consume) need no answer;
// and the Connection keeps a copy of every byte stream_write() takes until
// the peer acknowledges it, so the session tells nghttp3 those bytes are
// acknowledged (nghttp3_conn_add_ack_offset) as soon as they are taken,
// which lets nghttp3 free its buffers at once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "h3_body.h"
#include "h3_transport.h"

struct nghttp3_conn;

namespace quicbed::h3 {

// RFC 9114 §8.1 error codes the session uses by name.
constexpr uint64_t kH3NoError = 0x0100;
constexpr uint64_t kH3RequestCancelled = 0x010c;

// A request as the server received it.
struct Request {
  uint64_t stream_id = 0;
  std::string method, scheme, authority, path;
};

// What the server answers. The session adds content-length (the body's
// size); a HEAD response leaves the body out.
struct Response {
  int status = 200;
  Body body;
  std::vector<std::pair<std::string, std::string>> headers;  // more fields
};

using RequestHandler = std::function<Response(const Request&)>;

// GET and HEAD of the regular files under `root` (the path's query, if any,
// ignored): 200 with the file, 404 when there is no such file or the path
// leaves `root` ("..", or not starting with '/'), 405 for other methods.
RequestHandler serve_directory(std::string root);

// A client's request and what came of it.
struct Exchange {
  enum class State : uint8_t {
    kQueued,    // waiting for a stream (the peer's stream limit)
    kOpen,      // sent, response not complete
    kComplete,  // the whole response arrived (any status)
    kFailed,    // reset, cancelled, or the connection closed first
  };
  State state = State::kQueued;
  std::string authority, path;
  uint64_t stream_id = 0;  // from kOpen on
  int status = 0;          // :status; 0 before the response header arrives
  std::optional<uint64_t> content_length;
  uint64_t body_bytes = 0;
  uint64_t error_code = 0;  // kFailed: the HTTP/3 (or connection) error code
  std::unique_ptr<ResponseSink> sink;  // stays here, finished or not
};

class H3Session {
 public:
  // `handler` answers requests (server); without one, every request gets 404.
  H3Session(Transport& transport, Role role, RequestHandler handler = {});
  ~H3Session();
  H3Session(const H3Session&) = delete;
  H3Session& operator=(const H3Session&) = delete;

  // Once the handshake is complete: sets up nghttp3 and opens the control
  // and QPACK streams (their first bytes go out on the next flush()). Fails
  // when the peer does not allow three unidirectional streams yet, or
  // nghttp3 fails.
  Status start();
  bool started() const { return conn_ != nullptr; }

  void on_stream_readable(uint64_t id);
  void on_connection_closed(const CloseInfo& info);
  void flush();

  // Client: queues GET https://authority/path, its body to `sink`; returns
  // the exchange's handle for exchange(). The request goes out on flush().
  size_t get(std::string authority, std::string path, std::unique_ptr<ResponseSink> sink);
  const Exchange& exchange(size_t handle) const { return *exchanges_[handle]; }
  size_t exchange_count() const { return exchanges_.size(); }
  // Every exchange is complete or failed.
  bool all_done() const;

  // Closes the connection with H3_NO_ERROR (RFC 9114 §5.2), e.g. once a
  // client has all its responses.
  void close();

  // Our unidirectional streams; -1 before start().
  int64_t control_stream_id() const { return ctrl_id_; }
  int64_t qpack_encoder_stream_id() const { return qenc_id_; }
  int64_t qpack_decoder_stream_id() const { return qdec_id_; }
  // The connection is closed (by us or the peer); error_code() is the
  // HTTP/3 error we closed it with, 0 if we did not close it over an error.
  bool closed() const { return closed_; }
  uint64_t error_code() const { return error_code_; }
  // Server: responses fully handed to the transport.
  uint64_t responses_sent() const { return responses_sent_; }

 private:
  // A request stream's two directions as the transport sees them.
  struct StreamIo {
    bool read_done = false;   // fin (or a reset) read from the transport
    bool write_done = false;  // fin (or a reset) handed to the transport
    bool discard = false;     // read and drop: the request was cancelled
    bool closed = false;      // closed in nghttp3
    uint64_t close_code = kH3NoError;
  };
  // A request the server is answering.
  struct ServerStream {
    Request request;
    Body body;
    size_t offset = 0;  // of the body, handed to nghttp3
  };

  friend struct Callbacks;

  // The state of stream `id`, made on first use.
  StreamIo& io_of(uint64_t id);
  // Feeds what the transport has for stream `id` to nghttp3.
  void read_stream(uint64_t id, StreamIo& io);
  void on_peer_reset(uint64_t id, StreamIo& io, uint64_t code);
  void open_queued_requests();
  void write_streams();
  void close_finished_streams();
  void cancel_requests();
  // A fatal nghttp3 error (or an H3 error code): closes the connection on
  // the next flush().
  void fail(int liberr);
  void fail_code(uint64_t code, const char* reason);
  void apply_close();
  Exchange* exchange_on(int64_t stream_id);
  void finish_exchange(Exchange& e, Exchange::State st, uint64_t code);
  void respond(int64_t stream_id);

  Transport& t_;
  const Role role_;
  RequestHandler handler_;
  nghttp3_conn* conn_ = nullptr;
  int64_t ctrl_id_ = -1, qenc_id_ = -1, qdec_id_ = -1;
  std::vector<uint8_t> buf_;
  // Every stream read or written, kept after closing so that late events
  // for it are recognized; live_ holds the request streams not yet closed.
  std::map<uint64_t, StreamIo> io_;
  std::set<uint64_t> live_;
  std::vector<uint64_t> readable_before_start_;
  std::vector<int64_t> blocked_;               // told nghttp3 they are blocked
  // Client.
  std::vector<std::unique_ptr<Exchange>> exchanges_;
  std::deque<size_t> queued_;
  std::map<int64_t, size_t> by_stream_;
  std::vector<int64_t> to_cancel_;
  // Server.
  std::map<int64_t, ServerStream> serving_;
  uint64_t responses_sent_ = 0;
  // Closing.
  bool closed_ = false;
  bool close_pending_ = false;
  uint64_t error_code_ = 0;
  const char* close_reason_ = "";
};

}  // namespace quicbed::h3
