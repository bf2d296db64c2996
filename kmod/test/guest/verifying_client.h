/* A libquic client handshake that checks the server's certificate (the
 * GnuTLS session API: quic_client_handshake verifies against the system's
 * trust store only, which the guest has none of). */
#ifndef QUICBED_GUEST_VERIFYING_CLIENT_H
#define QUICBED_GUEST_VERIFYING_CLIENT_H

#include <errno.h>
#include <string.h>

#include <netinet/quic.h>

/* The handshake on the connected socket fd, the certificate checked
 * against the CA file `trust` (NULL: no CA at all) for `name`, offering
 * `alpn`: quic_handshake's result. */
static inline int verifying_client(int fd, const char *trust, const char *name, const char *alpn)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	int rc = -EINVAL;

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return -ENOMEM;
	if (gnutls_init(&s, GNUTLS_CLIENT) < 0) {
		gnutls_certificate_free_credentials(cred);
		return -ENOMEM;
	}
	if ((!trust || gnutls_certificate_set_x509_trust_file(cred, trust, GNUTLS_X509_FMT_PEM) > 0) &&
	    gnutls_priority_set_direct(s, QUIC_PRIORITY, NULL) >= 0 &&
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) >= 0 &&
	    quic_session_set_alpn(s, alpn, strlen(alpn)) == 0) {
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
		gnutls_session_set_verify_cert(s, name, 0);
		gnutls_transport_set_int(s, fd);
		rc = quic_handshake(s);
	}
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	return rc;
}

#endif
