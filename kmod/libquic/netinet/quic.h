/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libquic: the userspace half of quic.ko's handshake, and helpers for the
 * IPPROTO_QUIC socket API (draft-lxin-quic-socket-apis). The functions have
 * the names and signatures of the existing libquic, so programs written for
 * it build against this header.
 *
 * The handshake runs GnuTLS in the calling process on a connected (or
 * accepted) IPPROTO_QUIC socket: TLS messages travel through recvmsg/
 * sendmsg with a QUIC_HANDSHAKE_INFO cmsg, the traffic secrets go down with
 * QUIC_SOCKOPT_CRYPTO_SECRET and the transport parameters with
 * QUIC_SOCKOPT_TRANSPORT_PARAM_EXT.
 */
#ifndef _NETINET_QUIC_H
#define _NETINET_QUIC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The sessions of this API are GnuTLS's; programs written for the existing
 * libquic get GnuTLS's declarations from this header, as they did there. */
#include <gnutls/abstract.h>
#include <linux/quic.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The GnuTLS priority string for QUIC sessions: TLS 1.3 only, without
 * the middlebox compatibility mode (RFC 9001 §4.2, §8.4), with the AEADs
 * quic.ko has (RFC 9001 §5.3), certificates or a pre-shared key with or
 * without (EC)DHE (RFC 8446 §2.2). */
#define QUIC_PRIORITY                                                                                \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+PSK:+ECDHE-PSK:+DHE-PSK:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:" \
	"+CHACHA20-POLY1305:%DISABLE_TLS13_COMPAT_MODE"

/* Client handshake. pkey_file: a PSK file ("identity:hexkey" lines) or
 * NULL for certificates; hostname: the server name (SNI) the certificate is
 * verified against (system trust store), or NULL for no verification;
 * alpns: comma-separated ALPN list or NULL. 0, or a negative errno. */
int quic_client_handshake(int sockfd, const char *pkey_file, const char *hostname, const char *alpns);

/* Server handshake with a private key and certificate chain (PEM), or a
 * PSK file as pkey_file and NULL cert_file. 0, or a negative errno. */
int quic_server_handshake(int sockfd, const char *pkey_file, const char *cert_file, const char *alpns);

/* The handshake in steps, for callers that do the socket I/O themselves
 * (an event loop on a non-blocking socket). quic_handshake_init takes a
 * GnuTLS session the caller configured (credentials, QUIC_PRIORITY, ALPN)
 * whose transport is the socket (gnutls_transport_set_int) and gives the
 * first step. For each step the caller calls sendmsg or recvmsg on the
 * socket with the step's msghdr and flags (adding MSG_DONTWAIT and the
 * like as it wishes), stores the result in retval (the byte count, or a
 * negative errno; retry EAGAIN/EINTR itself), and calls
 * quic_handshake_step for the next one. *pstep NULL means the handshake
 * is complete. Both return 0, or a negative errno (the handshake failed).
 * The secrets and transport parameters go down with setsockopt on the
 * session's socket from within these calls; quic_handshake_deinit frees
 * what init allocated, in every case. */
enum quic_handshake_step_op {
	QUIC_HANDSHAKE_STEP_OP_SENDMSG = 1,
	QUIC_HANDSHAKE_STEP_OP_RECVMSG,
};

struct quic_handshake_step_sendmsg {
	const struct msghdr *msg;
	int flags;
	ssize_t retval;
};

struct quic_handshake_step_recvmsg {
	struct msghdr *msg;
	int flags;
	ssize_t retval;
};

struct quic_handshake_step {
	enum quic_handshake_step_op op;
	union {
		struct quic_handshake_step_sendmsg s_sendmsg;
		struct quic_handshake_step_recvmsg s_recvmsg;
	};
};

int quic_handshake_init(gnutls_session_t session, struct quic_handshake_step **pstep);
int quic_handshake_step(gnutls_session_t session, struct quic_handshake_step **pstep);
void quic_handshake_deinit(gnutls_session_t session);

/* The whole handshake on such a session, blocking (it waits with poll()
 * on a non-blocking socket). A client whose quic_config asks for a
 * session ticket (receive_session_ticket) then waits for the server's.
 * 0, or a negative errno.
 *
 * When TLS fails (all the handshake calls: -EPROTO), the socket's
 * QUIC_SOCKOPT_CONNECTION_CLOSE is set to CRYPTO_ERROR 0x100 + the TLS
 * alert, with the alert's name as the phrase: close() sends it (RFC 9001
 * §4.8). When the peer's TLS refused ours, the handshake fails with
 * -ECONNRESET, and that option's get says the peer's alert the same way. */
int quic_handshake(gnutls_session_t session);

/* Sessions (the existing libquic's session API; `session` is a
 * gnutls_session_t whose transport is the socket). get_data: the session
 * data to resume with, from the NewSessionTicket the kernel kept on the
 * socket (QUIC_SOCKOPT_SESSION_TICKET), processed by TLS; *size 0 when no
 * ticket came yet. set_data: resume that session (before quic_handshake).
 * get_alpn / set_alpn: the selected protocol, the comma-separated list to
 * offer. 0, or a negative errno.
 *
 * quic_client_handshake and quic_server_handshake resume on their own: a
 * client resumes the session data set on the socket before connect()
 * (setsockopt QUIC_SOCKOPT_SESSION_TICKET), and with
 * quic_config.receive_session_ticket waits for the server's ticket and
 * leaves the session data on the socket for getsockopt; a server issues a
 * ticket after every handshake, under the 64-byte key set on its listener
 * with QUIC_SOCKOPT_SESSION_TICKET (else a key of the process), and
 * accepts 0-RTT (RFC 9001 §4.6) with replay protection. */
int quic_session_get_data(gnutls_session_t session, void *data, size_t *size);
int quic_session_set_data(gnutls_session_t session, const void *data, size_t size);
int quic_session_get_alpn(gnutls_session_t session, void *alpn, size_t *size);
int quic_session_set_alpn(gnutls_session_t session, const void *alpns, size_t size);

/* Stream data: send len bytes on stream sid with MSG_QUIC_STREAM_* flags;
 * receive into msg, the stream and flags written back. The byte count, or
 * -1 with errno. */
ssize_t quic_sendmsg(int sockfd, const void *msg, size_t len, int64_t sid, uint32_t flags);
ssize_t quic_recvmsg(int sockfd, void *msg, size_t len, int64_t *sid, uint32_t *flags);

/* Logging: libquic reports what went wrong (and, at higher levels, each
 * step of a handshake) with syslog's levels (LOG_ERR .. LOG_DEBUG of
 * <syslog.h>). By default messages up to LOG_ERR go to stderr; a function
 * set here gets them instead (NULL: stderr again). Both return the
 * previous setting. */
typedef void (*quic_set_log_func_t)(int level, const char *msg);
quic_set_log_func_t quic_set_log_func(quic_set_log_func_t func);
int quic_set_log_level(int level);

#ifdef __cplusplus
}
#endif

#endif /* _NETINET_QUIC_H */
