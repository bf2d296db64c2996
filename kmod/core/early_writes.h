// Stream data a client writes before its connection can take it (sendmsg
// between connect() and the end of the handshake): kept here, in order,
// and handed to the connection as soon as streams are usable, that is when
// TLS offered 0-RTT with the server's remembered transport parameters
// (RFC 9001 §4.6.1, RFC 9000 §7.4.1; the data then goes in 0-RTT packets),
// or else once the handshake is complete (1-RTT). Bounded: beyond
// kMaxBytes a write is refused (EAGAIN to the process).
//
// Stream IDs are given at write time: no stream of ours exists before the
// handshake, so the n-th stream opened here is the n-th of its type
// (RFC 9000 §2.1), and the connection must open it with that ID.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/status.h"
#include "conn.h"
#include "record_queue.h"

namespace quicbed::kmod {

class EarlyWrites {
 public:
  static constexpr size_t kMaxBytes = 64 * 1024;
  explicit EarlyWrites(Allocator& alloc) : q_(alloc, kMaxBytes) {}

  // Queues `data` for stream `sid`: with `open` a new stream of ours (`sid`
  // -1 or the ID it gets), else `sid` (-1: the last one opened here). The
  // stream's ID; kInvalidArgument for a stream not opened here,
  // kLimitExceeded when the queue is full.
  Result<uint64_t> push(int64_t sid, bool open, bool uni, bool fin, Bytes data);
  // Hands what the connection takes now to it; what its flow control does
  // not take yet stays. kInternalError if the connection gave a stream
  // another ID than the one promised.
  Status flush(Connection& c);
  bool empty() const { return q_.empty(); }

 private:
  RecordQueue q_;
  uint64_t opened_[2] = {};   // streams opened here, bidi and uni
  uint64_t flushed_[2] = {};  // of them, opened on the connection
  int64_t last_ = -1;
};

}  // namespace quicbed::kmod
