// The kernel host's TlsSession: TLS runs in a userspace process (libquic,
// on GnuTLS) that owns the socket, and this session only carries what
// crosses (design.md, "The kernel host"):
//   - handshake messages the peer sent go up to the process (recvmsg with a
//     QUIC_HANDSHAKE_INFO cmsg), in order, per encryption level;
//   - the process hands down, in the order its TLS produced them, the
//     handshake messages to send (sendmsg with QUIC_HANDSHAKE_INFO), the
//     traffic secrets (QUIC_SOCKOPT_CRYPTO_SECRET) and the peer's
//     quic_transport_parameters extension (QUIC_SOCKOPT_TRANSPORT_PARAM_EXT
//     set); it reads ours with the same option's get;
//   - the 1-RTT read secret goes to the connection when handed down, so
//     the peer's 1-RTT packets open from then on (RFC 9001 §4.1.4, §5.7);
//     the 1-RTT write secret waits here until the process's own Finished
//     has been delivered (finished_probe.h: no 1-RTT packet before it,
//     RFC 9001 §4.1.4), and the handshake is complete once both 1-RTT
//     secrets and that Finished are delivered (RFC 9001 §4.1.1: Finished
//     sent, the peer's verified, which the process's TLS attests by
//     handing down the read secret). libquic hands down a client's 1-RTT
//     secrets before its Finished, so that the server's first 1-RTT
//     packets (ticket, NEW_TOKEN, data), which the Finished releases, find
//     the keys in place; a server's come once its TLS verified the
//     client's Finished (its own went a flight before). The older order,
//     Finished then the secrets, completes the same way.
// What the process hands down waits here until the connection's next
// advance() (Connection::advance_tls, called by the socket layer after each
// hand-down), so the connection is never re-entered.
//
// Both directions are bounded queues: a peer that sends more handshake data
// than the process reads, or a process that hands down more than the
// connection takes, gets back-pressure (kLimitExceeded), never unbounded
// kernel memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "early_data_probe.h"
#include "finished_probe.h"
#include "post_handshake.h"
#include "record_queue.h"
#include "tls.h"

namespace quicbed::kmod {

class PassthroughTls final : public TlsSession {
 public:
  static constexpr size_t kMaxToProcess = 64 * 1024;
  static constexpr size_t kMaxFromProcess = 64 * 1024;
  // RFC 9000 §18: a transport parameters extension of a sane size.
  static constexpr size_t kMaxTransportParams = 2048;
  static constexpr size_t kMaxAlpn = 255;

  PassthroughTls(Allocator& alloc, bool server);
  ~PassthroughTls();
  PassthroughTls(const PassthroughTls&) = delete;
  PassthroughTls& operator=(const PassthroughTls&) = delete;

  // ---- TlsSession (the connection's side)
  Status set_local_transport_params(Bytes ext) override;
  Status provide_data(EncryptionLevel level, Bytes data, TlsCallbacks& cb) override;
  Status advance(TlsCallbacks& cb) override;
  bool handshake_complete() const override { return complete_; }
  Bytes alpn() const override { return Bytes(alpn_, alpn_len_); }
  // RFC 9001 §4.6: a client attempted 0-RTT once its process handed down
  // the 0-RTT write secret, and the server's EncryptedExtensions say what
  // became of it; a server accepted it when the EncryptedExtensions its
  // process handed down carry early_data (early_data_probe.h).
  EarlyDataState early_data_state() const override;

  // ---- The handshake process's side (socket calls)
  // Our extension body; empty until the connection has set it.
  Bytes local_transport_params() const { return Bytes(local_tp_, local_tp_len_); }
  // kInvalidArgument for a malformed hand-down (a secret of the wrong
  // size, CRYPTO data at 0-RTT, a second extension), kLimitExceeded when
  // the queue is full (the process retries after the connection ran).
  Status push_peer_transport_params(Bytes ext);
  Status push_secret(EncryptionLevel level, KeyDirection dir, CipherSuite suite, Bytes secret);
  Status push_crypto_data(EncryptionLevel level, Bytes data);
  // The protocol the process's TLS negotiated (RFC 7301).
  Status set_alpn(Bytes alpn);
  // The process's TLS failed with `alert` (RFC 8446 §6): the session fails
  // with CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8), which the
  // connection's next advance() turns into its CONNECTION_CLOSE of type
  // 0x1c, with `reason` (up to kMaxFailReason bytes of it, copied: the
  // close is repeated after the caller's buffer may be gone). No effect
  // once the session failed or completed (the process's TLS is done).
  static constexpr size_t kMaxFailReason = 128;
  void fail(uint8_t alert, Bytes reason);
  // Something waits for the connection's advance().
  bool has_pending() const { return !from_process_.empty(); }

  // The next handshake bytes the peer sent, for the process: up to
  // out.size() bytes of one level (a larger message comes in parts). 0
  // bytes when there is none.
  struct Chunk {
    EncryptionLevel level = EncryptionLevel::kInitial;
    size_t len = 0;
  };
  Chunk read_for_process(MutBytes out);
  // The handshake bytes of the front level waiting for the process, copied
  // but left there (a server reads the ClientHello's ALPN from them).
  size_t peek_for_process(MutBytes out) const { return to_process_.peek_run(out); }
  bool has_data_for_process() const { return !to_process_.empty(); }

  // ---- After the handshake (post_handshake.h)
  // The newest NewSessionTicket the peer sent, not taken yet; empty when
  // none.
  Bytes ticket() const { return post_.ticket(); }
  void take_ticket() { post_.take_ticket(); }
  // A client's ClientHello has gone to the connection: stream data written
  // before the handshake may follow it in 0-RTT packets.
  bool hello_delivered() const { return hello_delivered_; }

 private:
  enum Kind : uint8_t { kSecret, kCryptoData, kPeerParams };
  Status deliver(const RecordQueue::Record& r, TlsCallbacks& cb);
  // The 1-RTT write secret held back until our Finished is delivered.
  Status deliver_app_write(TlsCallbacks& cb);

  RecordQueue to_process_;
  RecordQueue from_process_;
  uint8_t local_tp_[kMaxTransportParams] = {};
  size_t local_tp_len_ = 0;
  uint8_t alpn_[kMaxAlpn] = {};
  size_t alpn_len_ = 0;
  bool peer_params_pushed_ = false;
  bool peer_params_delivered_ = false;
  bool app_secret_[2] = {};  // 1-RTT read and write secrets delivered
  FinishedProbe own_finished_;  // our Handshake-level messages
  uint8_t held_write_[kMaxHashLen] = {};
  size_t held_write_len_ = 0;  // 0: none held
  CipherSuite held_suite_ = CipherSuite::kAes128GcmSha256;
  bool complete_ = false;
  const bool server_;
  bool early_secret_ = false;  // a 0-RTT secret was delivered
  bool hello_delivered_ = false;
  EarlyDataProbe ee_;
  PostHandshakeMessages post_;
  Status failed_;
  char fail_reason_[kMaxFailReason + 1] = {};
};

}  // namespace quicbed::kmod
