/* The one boundary between quic.ko's C glue and its C++ side.
 *
 * Kernel headers are C and the core is freestanding C++: the two never see
 * each other's headers. This file is valid C and valid freestanding C++ and
 * declares everything that crosses: what the glue provides to the C++ side
 * (memory, randomness, the kernel crypto API, logging), prefixed qbk_, and
 * what the C++ side provides to the glue, prefixed qb_. Only fixed-width
 * integers, size_t and opaque pointers cross; error returns are negative
 * errnos on the C side and are turned into Status values on the C++ side.
 */
#ifndef QUICBED_KMOD_BOUNDARY_H
#define QUICBED_KMOD_BOUNDARY_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
extern "C" {
#else
#include <linux/types.h>
#endif

/* ---- Provided by the C glue ------------------------------------------- */

/* Memory (glue/mem.c). Process context only: the module runs the core from
 * process context (socket calls and its work items), never from softirq.
 * Blocks come from kmalloc, or from vmalloc when large; qbk_free needs the
 * size qbk_alloc was given. */
void *qbk_alloc(size_t size, size_t align);
void qbk_free(void *p, size_t size);

/* Unpredictable bytes (get_random_bytes). */
void qbk_random(void *out, size_t len);

/* Logging to the kernel log: a broken invariant of the core (WARN, the
 * caller traps after it) and informational lines (pr_info). */
void qbk_bug(const char *file, int line, const char *expr);
void qbk_log(const char *msg);

/* The kernel crypto API (glue/crypto.c). Values of the enums below are
 * those of the core's CipherSuite and HashAlg. All calls may sleep. */
enum qbk_hash { QBK_SHA256 = 0, QBK_SHA384 = 1 };
enum qbk_suite {
  QBK_AES_128_GCM_SHA256 = 0x1301,
  QBK_AES_256_GCM_SHA384 = 0x1302,
  QBK_CHACHA20_POLY1305_SHA256 = 0x1303,
};

/* RFC 5869 HKDF over hmac(sha256)/hmac(sha384). 0 or a negative errno. */
int qbk_hkdf_extract(int hash, const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                     uint8_t *prk, size_t prk_len);
int qbk_hkdf_expand(int hash, const uint8_t *prk, size_t prk_len, const uint8_t *info, size_t info_len,
                    uint8_t *out, size_t out_len);

/* An AEAD transform with its key: gcm(aes) or rfc7539(chacha20,poly1305).
 * NULL for an unknown suite, a bad key length or no memory. */
struct qbk_aead;
struct qbk_aead *qbk_aead_new(int suite, const uint8_t *key, size_t key_len);
void qbk_aead_free(struct qbk_aead *a);
/* out = ciphertext || 16-byte tag (seal) or plaintext (open); in and out
 * may be the same memory. The nonce is 12 bytes. open fails with -EBADMSG
 * when the tag does not authenticate. */
int qbk_aead_seal(struct qbk_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t in_len, uint8_t *out);
int qbk_aead_open(struct qbk_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t in_len, uint8_t *out);

/* A header protection cipher (RFC 9001 §5.4): ecb(aes) or chacha20. */
struct qbk_hp;
struct qbk_hp *qbk_hp_new(int suite, const uint8_t *key, size_t key_len);
void qbk_hp_free(struct qbk_hp *h);
/* mask = the first 5 bytes of the cipher applied to the 16-byte sample. */
int qbk_hp_mask(struct qbk_hp *h, const uint8_t *sample, uint8_t *mask);

/* ---- Provided by the C++ side ----------------------------------------- */

/* Known-answer tests of the kernel crypto backend through the core's key
 * schedule and packet protection (RFC 9001 Appendix A, RFC 4231). Logs one
 * line per test; returns the number of failed tests (0: all passed) and
 * the number run in *run. */
int qb_crypto_selftest(int *run);

/* One QUIC connection of a socket (core/kernel_conn.cpp): the core's
 * Connection with the passthrough TLS session (the handshake runs in the
 * process that owns the socket). Every call is made under the socket's
 * lock, in process context; time is in microseconds. Errors are negative
 * errnos: -EINVAL (bad input), -EAGAIN (a queue is full: retry once the
 * connection ran), -ENOMEM, -ENOTCONN (not in a state for it). */
struct qb_conn;

#define QB_MAX_CID_LEN 20

/* The socket's options, as the core needs them. */
struct qb_conn_params {
  int server;
  uint32_t version;
  uint64_t max_idle_timeout_us;
  uint64_t max_ack_delay_us;
  uint64_t ack_delay_exponent;
  uint64_t max_udp_payload_size;
  uint64_t active_connection_id_limit;
  uint64_t max_datagram_frame_size;
  uint64_t max_data;
  uint64_t max_stream_data_bidi_local;
  uint64_t max_stream_data_bidi_remote;
  uint64_t max_stream_data_uni;
  uint64_t max_streams_bidi;
  uint64_t max_streams_uni;
  int disable_active_migration;
  int grease_quic_bit;
  /* The largest UDP payload the host sends toward the peer unfragmented
   * (its route's MTU less the IP and UDP headers): above 1200, the upper
   * bound of the path MTU search (RFC 8899, RFC 9000 §14.3); else
   * datagrams stay at 1200 bytes. */
  uint64_t max_datagram_size;
  /* Server, from the admission of the client's first Initial (struct
   * qb_first): its address validated (RFC 9000 §8.1), and after a Retry
   * the client's first Destination Connection ID (§7.3). */
  int address_validated;
  int retried;
  uint8_t odcid[QB_MAX_CID_LEN];
  size_t odcid_len;
};

enum qb_conn_state { QB_CONN_HANDSHAKE, QB_CONN_ESTABLISHED, QB_CONN_CLOSING, QB_CONN_DRAINING, QB_CONN_CLOSED };

void qb_conn_free(struct qb_conn *c);
/* Client: chooses its connection IDs and derives the Initial keys; its
 * first packet waits for the process's ClientHello. */
int qb_conn_start(struct qb_conn *c, uint64_t now);
/* A UDP payload from the peer (decrypted in place). */
void qb_conn_receive(struct qb_conn *c, uint8_t *data, size_t len, uint64_t now);
/* When qb_conn_on_timeout is due; UINT64_MAX for never. */
uint64_t qb_conn_next_timeout(const struct qb_conn *c);
void qb_conn_on_timeout(struct qb_conn *c, uint64_t now);
int qb_conn_state(const struct qb_conn *c);
/* Why it closed: the error code, whether it is the application's, who
 * ended it, the frame type a transport error names (RFC 9000 §19.19), and
 * the reason phrase (reason_len bytes, valid while c lives). */
enum qb_close_source { QB_CLOSE_LOCAL, QB_CLOSE_PEER, QB_CLOSE_IDLE, QB_CLOSE_RESET };
struct qb_close_info {
  uint64_t code;
  uint64_t frame_type;
  int app;
  int source;
  const uint8_t *reason;
  size_t reason_len;
};
void qb_conn_close_info(const struct qb_conn *c, struct qb_close_info *out);

/* The handshake process's side (QUIC_HANDSHAKE_INFO, CRYPTO_SECRET,
 * TRANSPORT_PARAM_EXT). Levels are enum quic_crypto_level; cipher types
 * TLS_CIPHER_* (51, 52, 54). After any push, call qb_conn_advance_tls. */
int qb_conn_local_tp(const struct qb_conn *c, uint8_t *out, size_t cap);
int qb_conn_push_peer_tp(struct qb_conn *c, const uint8_t *ext, size_t len);
int qb_conn_push_secret(struct qb_conn *c, int level, int send, uint32_t cipher, const uint8_t *secret, size_t len);
int qb_conn_push_crypto(struct qb_conn *c, int level, const uint8_t *data, size_t len);
int qb_conn_set_alpn(struct qb_conn *c, const uint8_t *alpn, size_t len);
void qb_conn_advance_tls(struct qb_conn *c, uint64_t now);
/* Handshake bytes from the peer for the process: length (0: none) and the
 * level in *level. */
size_t qb_conn_read_handshake(struct qb_conn *c, uint8_t *out, size_t cap, uint8_t *level);
int qb_conn_has_handshake_data(const struct qb_conn *c);
/* Server: the protocols the client's ClientHello offers (RFC 7301), from
 * the handshake bytes not yet read by the process, comma-separated into
 * out: the length, 0 for none, -EINVAL when no whole ClientHello is there
 * (it spans Initial packets not received yet) or it does not fit. */
int qb_conn_client_alpn(const struct qb_conn *c, uint8_t *out, size_t cap);
/* close() of the socket: CONNECTION_CLOSE with an application error code
 * and reason phrase (RFC 9000 §10.2, §19.19), sent by the next
 * qb_conn_write_on_path. `reason` is NUL-terminated and must outlive c. */
void qb_conn_close(struct qb_conn *c, uint64_t app_error, const char *reason, uint64_t now);
/* close() of a socket whose process's TLS failed during the handshake with
 * TLS alert `alert`: CONNECTION_CLOSE of type 0x1c with CRYPTO_ERROR
 * 0x100 + alert (RFC 9001 §4.8) and the reason phrase (reason_len bytes,
 * copied), at the levels the peer can read (RFC 9000 §10.2.3), sent by the
 * next qb_conn_write_on_path. A connection past its handshake closes as
 * qb_conn_close with no error code and no phrase would. */
void qb_conn_close_tls_alert(struct qb_conn *c, uint8_t alert, const char *reason, size_t reason_len, uint64_t now);
/* Streams (RFC 9000 §2-§3), once the handshake is complete. open: the
 * next stream of ours (uni or bidi), its ID or -EAGAIN at the peer's
 * limit. Stream data is copied by the glue straight between the process
 * and the connection's buffers (no copy of ours in between):
 * write_space: where the next bytes of stream `id` go, *room of them (up
 * to the end of a page of its send buffer; 0 when the buffer is full);
 * commit: the first n of them were filled (n may be 0), and with `fin`
 * the stream ends after them. Nothing else may run on the connection in
 * between. peek: with id -1, the first stream with data or its end: its
 * ID in r->id (-1 when no stream has anything), the length of its next
 * bytes in place at *data (up to a page; 0 for the end alone, then r->fin
 * is set and the stream read out), or 0 with r->reset set for a stream
 * the peer reset (RESET_STREAM, RFC 9000 §19.4: its error code and final
 * size), reported once; with a stream's ID, that stream's next bytes now
 * (0: none). *data stays valid until the next call on the connection.
 * consume: n of the bytes peeked were read; 1 when that was the end of
 * the stream (FIN), 0 when not, or a negative errno. */
struct qb_stream_read {
  int64_t id;
  int fin;
  int reset;
  uint64_t reset_code;
  uint64_t final_size;
};
int64_t qb_conn_stream_open(struct qb_conn *c, int uni);
int qb_conn_stream_write_space(struct qb_conn *c, int64_t id, uint8_t **data, size_t *room);
int qb_conn_stream_commit(struct qb_conn *c, int64_t id, size_t n, int fin);
int64_t qb_conn_stream_peek(struct qb_conn *c, int64_t id, const uint8_t **data, struct qb_stream_read *r);
int qb_conn_stream_consume(struct qb_conn *c, int64_t id, size_t n);
int qb_conn_has_stream_data(const struct qb_conn *c);
/* Whether some stream still has data or a FIN not acknowledged by the peer
 * (what close() waits for, closing.c). */
int qb_conn_send_pending(const struct qb_conn *c);
/* RESET_STREAM / STOP_SENDING with an application error code (RFC 9000
 * §3.5, §19.4, §19.5); -EINVAL for a stream that is not open. */
int qb_conn_stream_reset(struct qb_conn *c, int64_t id, uint64_t app_error);
int qb_conn_stream_stop_sending(struct qb_conn *c, int64_t id, uint64_t app_error);
/* RFC 9001 §6: our 1-RTT keys move to the next key phase; -EINVAL before
 * the handshake is confirmed or while the current phase is unacknowledged. */
int qb_conn_update_keys(struct qb_conn *c);

/* DATAGRAM frames (RFC 9221). send: queues one; -EMSGSIZE beyond what
 * the peer takes in one frame (none before its transport parameters or
 * when it takes none, §3), -EAGAIN while the queue is full, -ENOTCONN
 * before the handshake completes. read: the next one received into out
 * (truncated to cap, *full its length), its length copied; -EAGAIN when
 * none waits. */
int qb_conn_datagram_send(struct qb_conn *c, const uint8_t *data, size_t len);
int64_t qb_conn_datagram_read(struct qb_conn *c, uint8_t *out, size_t cap, size_t *full);
int qb_conn_has_datagram(const struct qb_conn *c);

/* The peer's transport parameters once its extension was taken; -ENOTCONN
 * before. */
int qb_conn_peer_params(const struct qb_conn *c, struct qb_conn_params *out);

/* ---- Connection IDs and paths (core/kernel_conn_cid.cpp,
 * core/kernel_conn_path.cpp) ----------------------------------------------- */

/* A network path as the glue writes it down: our socket address and the
 * peer's, each a struct sockaddr_in or sockaddr_in6 (its port at byte 2),
 * len bytes. */
#define QB_PATH_ADDR_MAX 28
struct qb_path_addr {
  uint8_t len;
  uint8_t bytes[QB_PATH_ADDR_MAX];
};
struct qb_path {
  struct qb_path_addr local;
  struct qb_path_addr peer;
};

/* A connection that starts on `path` (the client's socket and server
 * address; the server's listening address and the client's). */
struct qb_conn *qb_conn_new_on_path(const struct qb_conn_params *p, const struct qb_path *path);
/* qb_conn_receive of a datagram that came on `path`. */
void qb_conn_receive_on_path(struct qb_conn *c, uint8_t *data, size_t len, const struct qb_path *path, uint64_t now);
/* The next datagram to send into out (cap >= 1200), 0 when none now, and
 * the path it goes on into *path; *active
 * says whether that is the active path (RFC 9000 §9: probes go on the path
 * they probe). */
size_t qb_conn_write_on_path(struct qb_conn *c, uint8_t *out, size_t cap, uint64_t now, struct qb_path *path,
                             int *active);
/* The path datagrams go on now. */
void qb_conn_active_path(const struct qb_conn *c, struct qb_path *out);
/* Whether the connection still knows `path` (active, validating, or kept
 * to fall back to, RFC 9000 §9.3.2). */
int qb_conn_path_known(const struct qb_conn *c, const struct qb_path *path);
/* Client (RFC 9000 §9.2): probes `path` (a new local address) and moves
 * there once it is validated. -EINVAL for a server, before the handshake
 * is confirmed, for the active path or when the server sent
 * disable_active_migration; -EAGAIN without a spare CID of the server's. */
int qb_conn_migrate(struct qb_conn *c, const struct qb_path *path, uint64_t now);

/* The server's preferred address (RFC 9000 §9.6, §18.2 preferred_address):
 * one address and port per family, ports in host order; an all-zero
 * family is none. */
struct qb_preferred_address {
  uint8_t ipv4[4];
  uint16_t ipv4_port;
  uint8_t ipv6[16];
  uint16_t ipv6_port;
};
/* Server: offers `pa` in its transport parameters, with a CID of sequence
 * 1 and its stateless reset token (§5.1.1). -EINVAL for a client, once set,
 * or after the server's first flight (its Handshake keys are in). */
int qb_conn_set_preferred_address(struct qb_conn *c, const struct qb_preferred_address *pa);
/* Client: the preferred address the server sent, once its parameters are
 * in and the handshake is confirmed (§9.6.1: the client moves only then);
 * -ENOENT when the server sent none, -EAGAIN before confirmation. */
int qb_conn_peer_preferred_address(const struct qb_conn *c, struct qb_preferred_address *out);
/* Client (§9.6.1): probes `path` (the server's preferred address) under the
 * CID of sequence 1 and moves there once it is validated; errors as
 * qb_conn_migrate, except that disable_active_migration does not stop it. */
int qb_conn_migrate_preferred(struct qb_conn *c, const struct qb_path *path, uint64_t now);

/* Connection IDs (RFC 9000 §5.1): `dest` 1 for the peer's (those we
 * address packets to), 0 for ours. get: the sequence number in use now
 * (ours: the one the peer addressed last on the active path) and the
 * lowest still usable. */
int qb_conn_cid_get(const struct qb_conn *c, int dest, uint64_t *active, uint64_t *prior_to);
/* The peer's: addresses it with CID `active` from now on and retires the
 * ones below (§5.1.2). Ours: asks the peer to retire those below
 * `prior_to` (Retire Prior To) and issues new ones. -EINVAL for a number
 * out of range or before the handshake is confirmed, -EAGAIN while
 * retirements are backed up. */
int qb_conn_cid_set(struct qb_conn *c, int dest, uint64_t active, uint64_t prior_to);
/* Our CIDs, for routing datagrams from a new address (a migrating peer):
 * each *cid_len bytes, at most cap of them into out (QB_CID_MAX bytes
 * each); the count. gen changes whenever the set does. */
#define QB_CID_MAX 20
#define QB_MAX_LOCAL_CIDS 16
size_t qb_conn_local_cids(const struct qb_conn *c, uint8_t (*out)[QB_CID_MAX], size_t cap, uint8_t *cid_len);
uint64_t qb_conn_local_cids_gen(const struct qb_conn *c);

/* What changed on the connection's streams and keys, for the events of
 * QUIC_SOCKOPT_EVENT (core/stream_events.h): queued in the order the
 * connection reported them (at most QB_MAX_EVENTS; beyond, the newest are
 * lost and counted), taken one at a time: 1 with *out filled, 0 when none
 * waits. `state` is a QUIC_STREAM_SEND_STATE_* / QUIC_STREAM_RECV_STATE_*
 * value of linux/quic.h; `value` the final size (RECV_STATE_RECVD), the
 * new limit (MAX_DATA), the highest stream ID the new limit lets us open,
 * type bits included (MAX_STREAMS), or the new key phase (KEY_UPDATE). */
/* A server's answers to a datagram from a peer with no connection, before
 * any state is kept (core/stateless.cpp): Version Negotiation (RFC 9000
 * §6.1, §17.2.1), Retry (§8.1.2, §17.2.5, RFC 9001 §5.8), and
 * CONNECTION_CLOSE with INVALID_TOKEN for a Retry token that fails. One per
 * module, its token key random; calls are serialised by the caller.
 * first: QB_FIRST_DROP (nothing to do), QB_FIRST_REPLY (send the reply_len
 * bytes written to `reply`, at least QB_STATELESS_REPLY_MAX of room, back
 * and keep nothing) or QB_FIRST_ACCEPT (a client's first Initial that may
 * make a connection: validated, retried and odcid go to its
 * qb_conn_params). `peer` is the bytes of the client's address that a
 * Retry token is bound to; `retry` whether the listener asks for one. */
#define QB_STATELESS_REPLY_MAX 1400
enum qb_first_action { QB_FIRST_DROP, QB_FIRST_REPLY, QB_FIRST_ACCEPT };
struct qb_first {
  int action;
  int validated;
  int retried;
  uint8_t odcid[QB_MAX_CID_LEN];
  size_t odcid_len;
  size_t reply_len;
  int reply_kind;	/* enum qb_reply_kind */
};
enum qb_reply_kind { QB_REPLY_VERSION_NEGOTIATION, QB_REPLY_RETRY, QB_REPLY_INVALID_TOKEN };
struct qb_stateless;
struct qb_stateless *qb_stateless_new(void);
void qb_stateless_free(struct qb_stateless *s);
void qb_stateless_first(struct qb_stateless *s, const uint8_t *pkt, size_t len, const uint8_t *peer, size_t peer_len,
                        int retry, uint64_t now, uint8_t *reply, struct qb_first *out);
/* A token for a NEW_TOKEN frame to the client at `peer` (RFC 9000 §8.1.3;
 * bound to its IP address, the first peer_len - 2 bytes: its next
 * connection comes from another port) into out (cap bytes): its length, or
 * a negative errno. Under the same key as the Retry tokens, so the
 * client's next first Initial validates through qb_stateless_first. */
int qb_stateless_new_token(struct qb_stateless *s, const uint8_t *peer, size_t peer_len, uint64_t now, uint8_t *out,
                           size_t cap);

#define QB_MAX_EVENTS 128
enum qb_event_kind { QB_EV_STREAM_STATE, QB_EV_MAX_DATA, QB_EV_MAX_STREAMS, QB_EV_KEY_UPDATE };
struct qb_event {
  int kind;
  int state;
  int64_t id;
  uint64_t code;
  uint64_t value;
};
int qb_conn_next_event(struct qb_conn *c, struct qb_event *out);
/* Events lost to the bound since the connection began. */
uint64_t qb_conn_events_lost(const struct qb_conn *c);

/* ---- Sessions (core/kernel_session.cpp): resumption, 0-RTT and address
 * validation tokens. */

/* What a client connection starts with beyond the socket's options: the
 * server's transport parameters remembered from the connection whose
 * session ticket the process resumes (RFC 9000 §7.4.1; without them no
 * 0-RTT is sent), a NEW_TOKEN token from that server for its Initials
 * (RFC 9000 §8.1.3), and the path it starts on (as qb_conn_new_on_path;
 * NULL: none). */
struct qb_session_params {
  const struct qb_conn_params *remembered;
  const uint8_t *token;
  size_t token_len;
  const struct qb_path *path;
};
struct qb_conn *qb_conn_new_session(const struct qb_conn_params *p, const struct qb_session_params *s);
int qb_conn_is_server(const struct qb_conn *c);
/* A client's stream data written before the handshake completes: queued
 * and sent as soon as streams are usable (0-RTT keys, else completion).
 * open: a new stream (sid -1 or its ID); else sid, -1 for the last opened.
 * The stream's ID; -EINVAL (bad stream), -EAGAIN (queue full), -ENOTCONN
 * (a server, or not in the handshake). */
int64_t qb_conn_early_write(struct qb_conn *c, int64_t sid, int open, int uni, int fin, const uint8_t *data,
                            size_t len);
/* The newest NewSessionTicket message (RFC 8446 §4.6.1) / NEW_TOKEN token
 * received and not taken yet, copied into out: its length, 0 for none (or
 * one larger than cap, dropped). pending: either waits. */
int qb_conn_session_pending(const struct qb_conn *c);
size_t qb_conn_take_ticket(struct qb_conn *c, uint8_t *out, size_t cap);
size_t qb_conn_take_new_token(struct qb_conn *c, uint8_t *out, size_t cap);
/* 0-RTT packets a server processed (RFC 9001 §4.6). */
uint64_t qb_conn_zero_rtt_packets(const struct qb_conn *c);
/* Packets dropped because their keys were still to come and the few kept
 * for later (RFC 9001 §5.7) filled the room: a running count, of all of
 * them or (one_rtt) of the 1-RTT ones. */
uint64_t qb_conn_keyless_drops(const struct qb_conn *c, int one_rtt);

/* Queues a NEW_TOKEN frame (RFC 9000 §19.7) with `token` on an
 * established server connection; -EINVAL otherwise. */
int qb_conn_send_token(struct qb_conn *c, const uint8_t *token, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* QUICBED_KMOD_BOUNDARY_H */
