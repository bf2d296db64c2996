// The glue's handle of a socket's connection (boundary.h, struct qb_conn):
// the core's Connection with the passthrough TLS session, the events the
// socket layer collects, and the stream data a client wrote before the
// handshake. Shared by kernel_conn.cpp (streams, datagrams, handshake
// hand-downs) and kernel_session.cpp (resumption, 0-RTT, tokens).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../boundary.h"
#include "base/bounded.h"
#include "conn.h"
#include "early_writes.h"
#include "kernel_allocator.h"
#include "kernel_random.h"
#include "passthrough_tls.h"
#include "record_queue.h"
#include "stream_events.h"
#include "token.h"

namespace quicbed::kmod {

// What the socket layer learns from the connection: the streams with
// something to read, in the order they became readable (each once), and
// the reason phrase of the close (the peer's lives only during the event).
class ConnEvents final : public ConnectionEvents {
 public:
  static constexpr size_t kMaxReadable = 256;
  static constexpr size_t kMaxReason = 256;
  // DATAGRAM payloads received and not read yet, at most this many bytes:
  // beyond it they are dropped, as RFC 9221 §5 lets a receiver do.
  static constexpr size_t kMaxDatagramBytes = 64 * 1024;
  explicit ConnEvents(bool server) : datagrams(kernel_allocator(), kMaxDatagramBytes), changes(server) {}
  void on_datagram(Bytes data) override { (void)datagrams.push(Bytes(), data); }
  RecordQueue datagrams;
  void on_connection_closed(const CloseInfo& info) override {
    reason_len = info.reason.size() < kMaxReason ? info.reason.size() : kMaxReason;
    copy_bytes(reason, info.reason.data(), reason_len);
  }
  uint8_t reason[kMaxReason] = {};
  size_t reason_len = 0;
  void on_stream_readable(uint64_t id) override {
    for (uint64_t r : readable) {
      if (r == id) return;
    }
    // Beyond the bound a stream is found again by its next event: the
    // peer's flow control keeps it from growing unread.
    if (readable.size() < kMaxReadable) (void)readable.push_back(id);
  }
  BoundedVec<uint64_t, kMaxReadable> readable;
  // Stream states, limits and key updates, for QUIC_SOCKOPT_EVENT.
  void on_stream_send_state(uint64_t id, SendState st, uint64_t code) override { changes.on_send_state(id, st, code); }
  void on_stream_recv_state(uint64_t id, RecvState st, uint64_t v) override { changes.on_recv_state(id, st, v); }
  void on_stream_max_data(uint64_t id, uint64_t limit) override { changes.on_max_data(id, limit); }
  void on_max_streams(StreamDir dir, uint64_t limit) override { changes.on_max_streams(dir, limit); }
  void on_key_update(bool phase) override { changes.on_key_update(phase); }
  StreamEventQueue changes;
  // The newest NEW_TOKEN token (RFC 9000 §8.1.3) not collected yet; a
  // token longer than a client keeps (kMaxTokenLen) is not kept, as the
  // core would not send it either.
  void on_new_token(Bytes token) override {
    if (token.size() > kMaxTokenLen) return;
    copy_bytes(new_token, token.data(), token.size());
    new_token_len = token.size();
  }
  uint8_t new_token[kMaxTokenLen] = {};
  size_t new_token_len = 0;  // 0: none waiting
};

}  // namespace quicbed::kmod

// Constructed in member order: the connection last, since it holds
// references to the others.
struct qb_conn {
  explicit qb_conn(const quicbed::ConnectionConfig& base)
      : tls(quicbed::kmod::kernel_allocator(), base.role == quicbed::Role::kServer),
        events(base.role == quicbed::Role::kServer),
        early(quicbed::kmod::kernel_allocator()),
        conn(configure(base, tls, events)) {}

  static quicbed::ConnectionConfig configure(quicbed::ConnectionConfig c, quicbed::kmod::PassthroughTls& t,
                                             quicbed::ConnectionEvents& e) {
    c.tls = &t;
    c.events = &e;
    return c;
  }

  quicbed::kmod::PassthroughTls tls;
  quicbed::kmod::ConnEvents events;
  quicbed::kmod::EarlyWrites early;
  quicbed::Connection conn;
};

namespace quicbed::kmod {
// The socket's options as a connection configuration (kernel_conn.cpp).
ConnectionConfig config_of(const qb_conn_params& p);
void params_of(const qb_conn_params& p, TransportParameters& tp);
// Hands the stream data a client wrote before the handshake to the
// connection once it can take it (kernel_session.cpp).
void flush_early_writes(qb_conn& c, uint64_t now);
}  // namespace quicbed::kmod
