// SPDX-License-Identifier: LGPL-2.1-or-later
/* What carries over from one connection to the next, in the process's TLS:
 * session tickets and resumption (RFC 8446 §2.2, §4.6.1), 0-RTT (RFC 9001
 * §4.6) and pre-shared keys, plus the session helpers of the existing
 * libquic API (quic_session_get_data / set_data / get_alpn / set_alpn).
 *
 * The kernel keeps, on a client socket, the NewSessionTicket message the
 * server sent after the handshake (QUIC_SOCKOPT_SESSION_TICKET get);
 * quic_session_get_data has TLS process it and returns the GnuTLS session
 * data to resume with. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netinet/quic.h"
#include "session.h"

/* RFC 9001 §4.6.1: a ticket that allows 0-RTT has max_early_data_size
 * 0xffffffff; the limits are the transport parameters'. */
#define QUIC_MAX_EARLY_DATA 0xffffffffu
/* GnuTLS's session ticket key size. */
#define TICKET_KEY_LEN 64
/* RFC 8446 §4: HandshakeType new_session_ticket. */
#define NEW_SESSION_TICKET 4
/* How long a client waits for the server's ticket at most, in ms. */
#define TICKET_WAIT_MS 5000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static gnutls_datum_t process_key;	/* when the socket gives none */
static gnutls_anti_replay_t anti_replay;

/* RFC 8446 §8.1-§8.2: a ClientHello's early data is accepted once within
 * the window GnuTLS checks ticket ages against: the keys seen, until they
 * expire. Full of live entries, early data is refused (the safe answer). */
#define REPLAY_SLOTS 256
static struct {
	uint8_t key[64];
	unsigned len;
	time_t expires;
} seen[REPLAY_SLOTS];

static int replay_add(void *ptr, time_t expires, const gnutls_datum_t *key, const gnutls_datum_t *data)
{
	time_t now = time(NULL);
	int i, free_slot = -1, rc = 0;

	(void)ptr, (void)data;
	pthread_mutex_lock(&lock);
	for (i = 0; i < REPLAY_SLOTS; i++) {
		if (seen[i].expires < now) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (seen[i].len == key->size && key->size <= sizeof(seen[i].key) &&
		    !memcmp(seen[i].key, key->data, key->size)) {
			rc = GNUTLS_E_DB_ENTRY_EXISTS;
			goto out;
		}
	}
	if (free_slot < 0 || key->size > sizeof(seen[0].key)) {
		rc = GNUTLS_E_DB_ERROR;
		goto out;
	}
	memcpy(seen[free_slot].key, key->data, key->size);
	seen[free_slot].len = key->size;
	seen[free_slot].expires = expires;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

unsigned quic_session_init_flags(int server)
{
	return GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA | (server ? GNUTLS_NO_AUTO_SEND_TICKET : 0);
}

static int server_prepare(gnutls_session_t s, int sockfd)
{
	uint8_t key[TICKET_KEY_LEN];
	socklen_t len = sizeof(key);
	gnutls_datum_t k = { key, 0 };
	int rc = 0;

	if (!getsockopt(sockfd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, key, &len) && len == TICKET_KEY_LEN)
		k.size = len;
	pthread_mutex_lock(&lock);
	if (!k.size && !process_key.data && gnutls_session_ticket_key_generate(&process_key) < 0)
		rc = -ENOMEM;
	if (!rc && !anti_replay) {
		if (gnutls_anti_replay_init(&anti_replay) < 0)
			rc = -ENOMEM;
		else
			gnutls_anti_replay_set_add_function(anti_replay, replay_add);
	}
	pthread_mutex_unlock(&lock);
	if (!rc && gnutls_session_ticket_enable_server(s, k.size ? &k : &process_key) < 0)
		rc = -EINVAL;
	if (!rc) {
		gnutls_anti_replay_enable(s, anti_replay);
		if (gnutls_record_set_max_early_data_size(s, QUIC_MAX_EARLY_DATA) < 0)
			rc = -EINVAL;
	}
	explicit_bzero(key, sizeof(key));
	return rc;
}

int quic_session_prepare(gnutls_session_t s, int sockfd, int server)
{
	uint8_t *data;
	socklen_t len = 4096;
	int rc = 0;

	if (server)
		return server_prepare(s, sockfd);
	data = malloc(len);
	if (!data)
		return -ENOMEM;
	if (getsockopt(sockfd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, data, &len))
		rc = -errno;
	else if (len && gnutls_session_set_data(s, data, len) < 0)
		rc = -EINVAL;	/* not session data GnuTLS made */
	explicit_bzero(data, 4096);
	free(data);
	return rc;
}

/* Has TLS process the NewSessionTicket message `msg` (len bytes). */
static int process_ticket(gnutls_session_t s, const uint8_t *msg, size_t len)
{
	if (len < 4 || msg[0] != NEW_SESSION_TICKET)
		return -EINVAL;
	return gnutls_handshake_write(s, GNUTLS_ENCRYPTION_LEVEL_APPLICATION, msg, len) < 0 ? -EPROTO : 0;
}

int quic_session_wait_ticket(gnutls_session_t s, int sockfd)
{
	uint8_t *msg = malloc(4096);
	/* A server that issues no ticket leaves nothing to resume: not an
	 * error of this connection. */
	int waited, rc = 0;

	if (!msg)
		return -ENOMEM;
	for (waited = 0; waited <= TICKET_WAIT_MS; waited += 10) {
		socklen_t len = 4096;

		if (getsockopt(sockfd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, msg, &len)) {
			rc = -errno;
			break;
		}
		if (len) {
			rc = process_ticket(s, msg, len);
			if (!rc)
				rc = 1;
			break;
		}
		poll(NULL, 0, 10);
	}
	free(msg);
	return rc;
}

int quic_session_get_data(gnutls_session_t s, void *data, size_t *size)
{
	int sockfd = gnutls_transport_get_int(s);
	socklen_t len = 4096;
	uint8_t *msg = malloc(len);
	int rc = 0;

	if (!msg)
		return -ENOMEM;
	if (getsockopt(sockfd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, msg, &len))
		rc = -errno;
	else if (!len)
		*size = 0;	/* no ticket (yet) */
	else if (!(rc = process_ticket(s, msg, len)))
		rc = gnutls_session_get_data(s, data, size) < 0 ? -ENOSPC : 0;
	free(msg);
	return rc;
}

int quic_session_set_data(gnutls_session_t session, const void *data, size_t size)
{
	return gnutls_session_set_data(session, data, size) < 0 ? -EINVAL : 0;
}

int quic_session_get_alpn(gnutls_session_t session, void *alpn, size_t *size)
{
	gnutls_datum_t p;

	if (gnutls_alpn_get_selected_protocol(session, &p) < 0)
		return -ENOENT;
	if (*size < p.size)
		return -ENOSPC;
	memcpy(alpn, p.data, p.size);
	*size = p.size;
	return 0;
}

int quic_session_set_alpn(gnutls_session_t session, const void *alpns, size_t size)
{
	char *copy = malloc(size + 1);
	int rc;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, alpns, size);
	copy[size] = 0;
	rc = quic_set_alpns(session, copy, 0);
	free(copy);
	return rc;
}

/* The first "identity:hexkey" line of `file`. */
static int read_psk_line(const char *file, char *identity, size_t id_cap, char *hex, size_t hex_cap)
{
	char line[1024], *colon, *end;
	FILE *f = fopen(file, "r");
	int rc = -EINVAL;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		end = line + strcspn(line, "\r\n");
		*end = 0;
		colon = strchr(line, ':');
		if (!colon || colon == line || !colon[1] || (size_t)(colon - line) >= id_cap ||
		    strlen(colon + 1) >= hex_cap)
			continue;
		memcpy(identity, line, colon - line);
		identity[colon - line] = 0;
		strcpy(hex, colon + 1);
		rc = 0;
		break;
	}
	fclose(f);
	explicit_bzero(line, sizeof(line));
	return rc;
}

int quic_session_psk(gnutls_session_t s, const char *file, int server, void **cred)
{
	if (server) {
		gnutls_psk_server_credentials_t c;

		if (gnutls_psk_allocate_server_credentials(&c) < 0)
			return -ENOMEM;
		*cred = c;
		if (gnutls_psk_set_server_credentials_file(c, file) < 0)
			return -EINVAL;
		return gnutls_credentials_set(s, GNUTLS_CRD_PSK, c) < 0 ? -EINVAL : 0;
	} else {
		gnutls_psk_client_credentials_t c;
		char identity[256], hex[256];
		gnutls_datum_t key = { (unsigned char *)hex, 0 };
		int rc = read_psk_line(file, identity, sizeof(identity), hex, sizeof(hex));

		if (rc)
			return rc;
		key.size = strlen(hex);
		if (gnutls_psk_allocate_client_credentials(&c) < 0) {
			rc = -ENOMEM;
		} else {
			*cred = c;
			if (gnutls_psk_set_client_credentials(c, identity, &key, GNUTLS_PSK_KEY_HEX) < 0 ||
			    gnutls_credentials_set(s, GNUTLS_CRD_PSK, c) < 0)
				rc = -EINVAL;
		}
		explicit_bzero(hex, sizeof(hex));
		return rc;
	}
}

void quic_session_psk_free(void *cred, int server)
{
	if (!cred)
		return;
	if (server)
		gnutls_psk_free_server_credentials(cred);
	else
		gnutls_psk_free_client_credentials(cred);
}
