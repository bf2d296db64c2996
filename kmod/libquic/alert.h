/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A failed handshake's TLS alert and the connection's CRYPTO_ERROR
 * (RFC 9001 §4.8): what the kernel sends for it, and what the peer's
 * CONNECTION_CLOSE said. */
#ifndef QUICBED_LIBQUIC_ALERT_H
#define QUICBED_LIBQUIC_ALERT_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#pragma GCC visibility push(hidden)

/* The alert (RFC 8446 §6) for GnuTLS's fatal error rc: the one it raised
 * (`raised`, the alert read function's, or -1), else the one it maps rc
 * to; a certificate that did not verify names why (RFC 8446 §6.2). */
int quic_alert_for(gnutls_session_t s, int rc, int raised);
/* RFC 8446's name of the alert (bad_certificate), in buf. */
const char *quic_alert_name(int alert, char *buf, size_t cap);
/* Sets the socket's CONNECTION_CLOSE to CRYPTO_ERROR 0x100 + alert and
 * the alert's name as the phrase, which close() sends: a transport
 * CONNECTION_CLOSE (type 0x1c) during the handshake (quic(7)). */
void quic_alert_close(int fd, int alert);
/* After the connection closed under the handshake: logs the peer's TLS
 * alert when its CONNECTION_CLOSE carried one. */
void quic_alert_log_peer(int fd);

#pragma GCC visibility pop

#endif
