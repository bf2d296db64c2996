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
#include <sys/types.h>

#include <linux/quic.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Client handshake. pkey_file: a PSK file ("identity:hexkey" lines) or
 * NULL for certificates; hostname: the server name (SNI) the certificate is
 * verified against (system trust store), or NULL for no verification;
 * alpns: comma-separated ALPN list or NULL. 0, or a negative errno. */
int quic_client_handshake(int sockfd, const char *pkey_file, const char *hostname, const char *alpns);

/* Server handshake with a private key and certificate chain (PEM), or a
 * PSK file as pkey_file and NULL cert_file. 0, or a negative errno. */
int quic_server_handshake(int sockfd, const char *pkey_file, const char *cert_file, const char *alpns);

/* The handshake on a GnuTLS session the caller configured (credentials,
 * priorities, ALPN); its transport is the socket
 * (gnutls_transport_set_int). 0, or a negative errno. */
int quic_handshake(void *session);

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
int quic_session_get_data(void *session, void *data, size_t *size);
int quic_session_set_data(void *session, const void *data, size_t size);
int quic_session_get_alpn(void *session, void *alpn, size_t *size);
int quic_session_set_alpn(void *session, const void *alpns, size_t size);

/* Stream data: send len bytes on stream sid with MSG_QUIC_STREAM_* flags;
 * receive into msg, the stream and flags written back. The byte count, or
 * -1 with errno. */
ssize_t quic_sendmsg(int sockfd, const void *msg, size_t len, int64_t sid, uint32_t flags);
ssize_t quic_recvmsg(int sockfd, void *msg, size_t len, int64_t *sid, uint32_t *flags);

#ifdef __cplusplus
}
#endif

#endif /* _NETINET_QUIC_H */
