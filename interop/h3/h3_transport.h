// What an HTTP/3 session needs from QUIC (RFC 9114 §6: streams, and the
// connection's application close), as an interface the host implements;
// ConnectionTransport is the implementation over a quicbed Connection.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "conn.h"

namespace quicbed::h3 {

class Transport {
 public:
  // The stream API of Connection (stack/conn.h), with the same meanings.
  virtual Result<uint64_t> open_stream(StreamDir dir) = 0;
  virtual Result<size_t> stream_write(uint64_t id, Bytes data, bool fin) = 0;
  virtual Result<Stream::ReadResult> stream_read(uint64_t id, MutBytes out) = 0;
  virtual Result<uint64_t> stream_reset_code(uint64_t id) const = 0;
  virtual Status stream_reset(uint64_t id, uint64_t app_error) = 0;
  virtual Status stream_stop_sending(uint64_t id, uint64_t app_error) = 0;
  // Immediate close with an HTTP/3 error code (RFC 9114 §8.1) as the
  // application error code of CONNECTION_CLOSE (RFC 9000 §19.19, type
  // 0x1d). `reason` is a static string.
  virtual void close(uint64_t app_error, const char* reason) = 0;

 protected:
  ~Transport() = default;
};

// A Transport over a Connection; `clock` gives the time close() needs.
class ConnectionTransport final : public Transport {
 public:
  ConnectionTransport(Connection& conn, std::function<uint64_t()> clock) : conn_(conn), clock_(std::move(clock)) {}

  Result<uint64_t> open_stream(StreamDir dir) override { return conn_.open_stream(dir); }
  Result<size_t> stream_write(uint64_t id, Bytes data, bool fin) override { return conn_.stream_write(id, data, fin); }
  Result<Stream::ReadResult> stream_read(uint64_t id, MutBytes out) override { return conn_.stream_read(id, out); }
  Result<uint64_t> stream_reset_code(uint64_t id) const override { return conn_.stream_reset_code(id); }
  Status stream_reset(uint64_t id, uint64_t app_error) override { return conn_.stream_reset(id, app_error); }
  Status stream_stop_sending(uint64_t id, uint64_t app_error) override {
    return conn_.stream_stop_sending(id, app_error);
  }
  void close(uint64_t app_error, const char* reason) override { conn_.close(app_error, reason, clock_()); }

 private:
  Connection& conn_;
  std::function<uint64_t()> clock_;
};

}  // namespace quicbed::h3
