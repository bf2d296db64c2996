// SPDX-License-Identifier: LGPL-2.1-or-later
/* A TLS failure becomes a QUIC connection error: "A TLS alert is
 * converted into a QUIC connection error. The AlertDescription value is
 * added to 0x0100 to produce a QUIC error code from the range reserved
 * for CRYPTO_ERROR" (RFC 9001 §4.8; RFC 9000 §20.1), sent in a
 * CONNECTION_CLOSE of type 0x1c. GnuTLS "sends" its alerts through the
 * alert read function (nothing goes on the wire in QUIC: handshake.c
 * records the fatal one); libquic hands the code to the kernel with
 * QUIC_SOCKOPT_CONNECTION_CLOSE, which close() sends as a transport error
 * while the handshake is not complete. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netinet/quic.h"
#include "alert.h"
#include "log.h"

#define MAX_PHRASE 96

/* RFC 8446 §6.2: what a refused certificate chain is called. */
static int verification_alert(unsigned status)
{
	if (status & GNUTLS_CERT_REVOKED)
		return GNUTLS_A_CERTIFICATE_REVOKED;
	if (status & GNUTLS_CERT_EXPIRED)
		return GNUTLS_A_CERTIFICATE_EXPIRED;
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return GNUTLS_A_UNKNOWN_CA;
	return GNUTLS_A_BAD_CERTIFICATE;
}

const char *quic_alert_name(int alert, char *buf, size_t cap)
{
	const char *name = gnutls_alert_get_strname((gnutls_alert_description_t)alert);
	size_t i = 0;

	/* GNUTLS_A_BAD_CERTIFICATE is RFC 8446's bad_certificate. */
	if (!name || strncmp(name, "GNUTLS_A_", 9)) {
		snprintf(buf, cap, "%d", alert);
		return buf;
	}
	for (name += 9; name[i] && i + 1 < cap; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[i] = 0;
	return buf;
}

int quic_alert_for(gnutls_session_t s, int rc, int raised)
{
	int level;

	/* GnuTLS raises bad_certificate for every chain it refuses; the
	 * verification status says which refusal it was. */
	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
		return verification_alert(gnutls_session_get_verify_cert_status(s));
	if (raised >= 0)
		return raised;
	/* gnutls_error_to_alert gives internal_error for an error with no
	 * alert of its own (RFC 8446 §6.2: "an unrelated internal error"). */
	return (int)gnutls_error_to_alert(rc, &level);
}

void quic_alert_close(int fd, int alert)
{
	char buf[sizeof(struct quic_connection_close) + MAX_PHRASE];
	struct quic_connection_close *c = (struct quic_connection_close *)buf;
	char name[48];
	int n;

	memset(buf, 0, sizeof(buf));
	c->errcode = QUIC_TRANSPORT_ERROR_CRYPTO + (alert & 0xff);
	/* The phrase with its NUL, as the option takes it. */
	n = snprintf((char *)c->phrase, MAX_PHRASE, "TLS alert %s", quic_alert_name(alert, name, sizeof(name)));
	if (n < 0 || n >= MAX_PHRASE)
		n = MAX_PHRASE - 1;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, buf, sizeof(*c) + n + 1))
		quic_log(LOG_ERR, "setting the CRYPTO_ERROR close: %s", strerror(errno));
}

void quic_alert_log_peer(int fd)
{
	char buf[sizeof(struct quic_connection_close) + 256];
	struct quic_connection_close *c = (struct quic_connection_close *)buf;
	socklen_t len = sizeof(buf);
	char name[48];

	if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, buf, &len) || len < sizeof(*c) ||
	    c->errcode < QUIC_TRANSPORT_ERROR_CRYPTO || c->errcode > QUIC_TRANSPORT_ERROR_CRYPTO + 0xff)
		return;
	quic_log(LOG_ERR, "the peer's TLS refused the handshake: alert %s (CRYPTO_ERROR 0x%x)",
		 quic_alert_name((int)(c->errcode - QUIC_TRANSPORT_ERROR_CRYPTO), name, sizeof(name)),
		 (unsigned)c->errcode);
}
