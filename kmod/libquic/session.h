/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libquic's internal interface between the handshake (handshake.c) and
 * what carries over between connections (session.c): session tickets,
 * 0-RTT, PSK credentials. */
#ifndef QUICBED_LIBQUIC_SESSION_H
#define QUICBED_LIBQUIC_SESSION_H

#include <gnutls/gnutls.h>

/* Not part of libquic's API: kept out of the shared library's symbols. */
#pragma GCC visibility push(hidden)

/* gnutls_init flags of a session that may resume or accept 0-RTT
 * (RFC 9001 §4.6, §8.3: no EndOfEarlyData; a server sends its tickets
 * itself once the handshake is complete). */
unsigned quic_session_init_flags(int server);
/* Before the handshake. A server: tickets under the key of the socket
 * (QUIC_SOCKOPT_SESSION_TICKET, 64 bytes) or else the process's own, and
 * 0-RTT with anti-replay (RFC 8446 §8). A client: the session data set on
 * the socket before connect() to resume. 0 or a negative errno. */
int quic_session_prepare(gnutls_session_t s, int sockfd, int server);
/* A client after the handshake, when QUIC_SOCKOPT_CONFIG asks for a
 * ticket (receive_session_ticket): waits (5 s at most) for the server's
 * NewSessionTicket and has TLS process it. 1 when it did, 0 when none
 * came, or a negative errno. */
int quic_session_wait_ticket(gnutls_session_t s, int sockfd);
/* PSK credentials from a file of "identity:hexkey" lines: a client uses
 * the first line, a server looks identities up in the file. */
int quic_session_psk(gnutls_session_t s, const char *file, int server, void **cred);
void quic_session_psk_free(void *cred, int server);
/* The comma-separated ALPN list on the session (handshake.c). */
int quic_set_alpns(gnutls_session_t s, const char *alpns, int server);

#pragma GCC visibility pop

#endif
