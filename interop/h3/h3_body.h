// Message bodies on both ends of an HTTP/3 exchange: a Body the server
// sends (bytes that stay in place until the response stream closes, so
// nghttp3 can point at them without copying) and a ResponseSink the client
// hands the response body to, piece by piece.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"

namespace quicbed::h3 {

class Body {
 public:
  Body() = default;  // empty
  static Body from_buffer(std::vector<uint8_t> data);
  static Body from_string(const std::string& s);
  // A regular file, mapped read-only; nullopt when it cannot be opened or
  // is not a regular file.
  static std::optional<Body> from_file(const std::string& path);

  Bytes bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  std::shared_ptr<const void> owner_;  // keeps bytes_ alive
  Bytes bytes_;
};

// Receives one response body. Returning false fails the request (the
// stream is then cancelled with H3_REQUEST_CANCELLED).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual bool write(Bytes data) = 0;
  // The body is complete.
  virtual bool finish() { return true; }
};

// Keeps the body in memory.
class MemorySink final : public ResponseSink {
 public:
  bool write(Bytes data) override {
    data_.insert(data_.end(), data.begin(), data.end());
    return true;
  }
  const std::vector<uint8_t>& data() const { return data_; }

 private:
  std::vector<uint8_t> data_;
};

// Writes the body to a file, created (or truncated) when the sink is made.
class FileSink final : public ResponseSink {
 public:
  // nullptr when the file cannot be created.
  static std::unique_ptr<FileSink> create(const std::string& path);
  ~FileSink() override;
  bool write(Bytes data) override;
  bool finish() override;

 private:
  explicit FileSink(std::FILE* f) : f_(f) {}
  std::FILE* f_;
};

}  // namespace quicbed::h3
