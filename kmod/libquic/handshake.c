// SPDX-License-Identifier: LGPL-2.1-or-later
/* libquic's handshake: GnuTLS with its QUIC hooks in the process, the
 * packets in quic.ko.
 *
 * What GnuTLS produces during one gnutls_handshake() call is collected and
 * then handed down in this order: the peer's transport parameters, the
 * secrets below 1-RTT, once TLS completed the selected ALPN and the 1-RTT
 * secrets (read, then write), and last the handshake messages. A client's
 * final flight thus reaches the kernel after its 1-RTT keys: the server's
 * first 1-RTT packets (its session ticket, NEW_TOKEN, data), which only
 * our Finished can release, find them in place instead of overflowing the
 * few packets kept for later (RFC 9001 §5.7) and coming again a loss
 * timeout late. RFC 9001 §4.1.4 lets the client use the keys as soon as
 * TLS provides them; sending 1-RTT waits for its Finished (§4.1.4), which
 * the kernel sees to: it holds the write secret until our Finished is
 * queued and completes the handshake then, with both 1-RTT secrets down
 * (kmod/core/passthrough_tls.h; §4.1.1). Nothing 1-RTT the server sends
 * before our Finished can complete anything early: its HANDSHAKE_DONE
 * (RFC 9000 §19.20) needs that Finished. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "netinet/quic.h"
#include "alert.h"
#include "log.h"
#include "session.h"

#define QUIC_TP_EXT 0x39	/* RFC 9001 §8.2 */
#define MAX_PENDING 64
#define MAX_MSG 65536

struct pending {
	enum { P_SECRET, P_MSG } kind;
	uint8_t level;	/* enum quic_crypto_level */
	uint8_t send;
	uint32_t cipher;
	size_t len;
	uint8_t *data;
};

/* Where a handshake is between two steps. */
enum stage {
	S_RUN,		/* GnuTLS is to run on what came in */
	S_SEND,		/* its messages go down, one SENDMSG step each */
	S_RECV,		/* a RECVMSG step for the peer's next message */
	S_TICKET,	/* complete: a server's session ticket is next */
	S_DONE,
};

/* One handshake, from quic_handshake_init to quic_handshake_deinit; kept
 * as the private data of our transport parameters extension, so the
 * caller's gnutls_session_set_ptr stays the caller's. */
struct hs {
	int fd;
	gnutls_session_t s;
	enum stage stage;
	int complete;	/* gnutls_handshake() returned 0 */
	int app_down;	/* the 1-RTT secrets and the ALPN went down */
	int ticketed;	/* past S_TICKET */
	struct pending q[MAX_PENDING];
	int n;
	int sending;	/* the queue entry the SENDMSG step carries */
	uint8_t *peer_tp;
	size_t peer_tp_len;
	int alert;	/* a fatal alert GnuTLS raised, or -1 */
	struct quic_handshake_step step;
	char control[CMSG_SPACE(sizeof(struct quic_handshake_info))];
	struct iovec iov;
	struct msghdr msg;
	uint8_t buf[MAX_MSG];	/* the message a RECVMSG step reads */
};

static struct hs *hs_of(gnutls_session_t s)
{
	gnutls_ext_priv_data_t data = NULL;

	return gnutls_ext_get_data(s, QUIC_TP_EXT, &data) < 0 ? NULL : data;
}

static uint8_t level_of(gnutls_record_encryption_level_t l)
{
	switch (l) {
	case GNUTLS_ENCRYPTION_LEVEL_INITIAL: return QUIC_CRYPTO_INITIAL;
	case GNUTLS_ENCRYPTION_LEVEL_EARLY: return QUIC_CRYPTO_EARLY;
	case GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE: return QUIC_CRYPTO_HANDSHAKE;
	default: return QUIC_CRYPTO_APP;
	}
}

static gnutls_record_encryption_level_t gnutls_level_of(uint8_t l)
{
	switch (l) {
	case QUIC_CRYPTO_INITIAL: return GNUTLS_ENCRYPTION_LEVEL_INITIAL;
	case QUIC_CRYPTO_EARLY: return GNUTLS_ENCRYPTION_LEVEL_EARLY;
	case QUIC_CRYPTO_HANDSHAKE: return GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE;
	default: return GNUTLS_ENCRYPTION_LEVEL_APPLICATION;
	}
}

/* TLS_CIPHER_* of <linux/tls.h> for the negotiated cipher; 0 if QUIC has none. */
static uint32_t cipher_type(gnutls_cipher_algorithm_t c)
{
	switch (c) {
	case GNUTLS_CIPHER_AES_128_GCM: return 51;
	case GNUTLS_CIPHER_AES_256_GCM: return 52;
	case GNUTLS_CIPHER_CHACHA20_POLY1305: return 54;
	default: return 0;
	}
}

static int queue(struct hs *h, struct pending p, const void *data)
{
	if (h->n == MAX_PENDING || !(p.data = malloc(p.len ? p.len : 1)))
		return -1;
	memcpy(p.data, data, p.len);
	h->q[h->n++] = p;
	return 0;
}

static void drop(struct pending *p)
{
	explicit_bzero(p->data, p->len);
	free(p->data);
	p->data = NULL;
}

static int on_secret(gnutls_session_t s, gnutls_record_encryption_level_t level, const void *rx, const void *tx,
		     size_t len)
{
	struct hs *h = hs_of(s);
	gnutls_cipher_algorithm_t c = level == GNUTLS_ENCRYPTION_LEVEL_EARLY ? gnutls_early_cipher_get(s)
									    : gnutls_cipher_get(s);
	struct pending p = { .kind = P_SECRET, .level = level_of(level), .cipher = cipher_type(c), .len = len };

	if (!h || !p.cipher || len > QUIC_CRYPTO_SECRET_BUFFER_SIZE) {
		quic_log(LOG_ERR, "secret of level %u: cipher %s not usable", p.level, gnutls_cipher_get_name(c));
		return -1;
	}
	quic_log(LOG_DEBUG, "secrets of level %u (%s)", p.level, gnutls_cipher_get_name(c));
	if (rx && queue(h, p, rx))
		return -1;
	p.send = 1;
	if (tx && queue(h, p, tx))
		return -1;
	return 0;
}

static int on_message(gnutls_session_t s, gnutls_record_encryption_level_t level,
		      gnutls_handshake_description_t htype, const void *data, size_t len)
{
	struct hs *h = hs_of(s);
	struct pending p = { .kind = P_MSG, .level = level_of(level), .len = len };

	/* QUIC has no ChangeCipherSpec (RFC 9001 §8.4). */
	if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC)
		return 0;
	return h ? queue(h, p, data) : -1;
}

static int on_alert(gnutls_session_t s, gnutls_record_encryption_level_t level, gnutls_alert_level_t alevel,
		    gnutls_alert_description_t desc)
{
	struct hs *h = hs_of(s);

	(void)level;
	if (h && alevel == GNUTLS_AL_FATAL && h->alert < 0)
		h->alert = desc;
	return 0;
}

static int tp_send(gnutls_session_t s, gnutls_buffer_t out)
{
	struct hs *h = hs_of(s);
	uint8_t buf[1024];
	socklen_t len = sizeof(buf);

	if (!h || getsockopt(h->fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM_EXT, buf, &len))
		return -1;
	return gnutls_buffer_append_data(out, buf, len) < 0 ? -1 : (int)len;
}

static int tp_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	struct hs *h = hs_of(s);

	if (!h)
		return -1;
	free(h->peer_tp);
	h->peer_tp = malloc(len ? len : 1);
	if (!h->peer_tp)
		return -1;
	memcpy(h->peer_tp, data, len);
	h->peer_tp_len = len;
	return 0;
}

static int send_secret(int fd, const struct pending *p)
{
	struct quic_crypto_secret s = { .send = p->send, .level = p->level, .type = p->cipher };
	int err;

	memcpy(s.secret, p->data, p->len);
	err = setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CRYPTO_SECRET, &s, sizeof(s)) ? -errno : 0;
	explicit_bzero(&s, sizeof(s));
	return err;
}

/* What a gnutls_handshake() call produced goes down in this order (see the
 * top of this file): the peer's transport parameters, the secrets below
 * 1-RTT and, once TLS completed, the selected ALPN and the 1-RTT secrets,
 * read then write, here; then the messages, as SENDMSG steps. Before
 * completion 1-RTT secrets wait in the queue (a server's write secret
 * comes one flight before). */
static int before_messages(struct hs *h)
{
	int err = 0, i, send;

	if (h->peer_tp) {
		if (setsockopt(h->fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM_EXT, h->peer_tp, h->peer_tp_len))
			err = -errno;
		free(h->peer_tp);
		h->peer_tp = NULL;
	}
	for (i = 0; i < h->n && !err; i++) {
		struct pending *p = &h->q[i];

		if (p->data && p->kind == P_SECRET && p->level != QUIC_CRYPTO_APP) {
			err = send_secret(h->fd, p);
			drop(p);
		}
	}
	if (err || !h->complete || h->app_down)
		return err;
	h->app_down = 1;
	{
		gnutls_datum_t alpn;

		if (!gnutls_alpn_get_selected_protocol(h->s, &alpn) &&
		    setsockopt(h->fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, alpn.data, alpn.size))
			return -errno;
	}
	for (send = 0; send <= 1 && !err; send++)
		for (i = 0; i < h->n && !err; i++) {
			struct pending *p = &h->q[i];

			if (p->data && p->kind == P_SECRET && p->level == QUIC_CRYPTO_APP && p->send == send) {
				err = send_secret(h->fd, p);
				drop(p);
			}
		}
	return err;
}

/* The next message as a SENDMSG step; 0 when none is left. */
static int next_message(struct hs *h)
{
	struct cmsghdr *cmsg;
	struct quic_handshake_info info = { 0 };
	int i;

	for (i = 0; i < h->n && !(h->q[i].data && h->q[i].kind == P_MSG); i++)
		;
	if (i == h->n)
		return 0;
	h->sending = i;
	info.crypto_level = h->q[i].level;
	memset(h->control, 0, sizeof(h->control));
	h->iov = (struct iovec){ h->q[i].data, h->q[i].len };
	h->msg = (struct msghdr){ .msg_iov = &h->iov, .msg_iovlen = 1, .msg_control = h->control,
				  .msg_controllen = sizeof(h->control) };
	cmsg = CMSG_FIRSTHDR(&h->msg);
	cmsg->cmsg_level = SOL_QUIC;
	cmsg->cmsg_type = QUIC_HANDSHAKE_INFO;
	cmsg->cmsg_len = CMSG_LEN(sizeof(info));
	memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
	h->step = (struct quic_handshake_step){ .op = QUIC_HANDSHAKE_STEP_OP_SENDMSG,
						.s_sendmsg = { .msg = &h->msg } };
	quic_log(LOG_DEBUG, "message of %zu bytes at level %u", h->q[i].len, h->q[i].level);
	return 1;
}

/* Once the messages are down: the queue keeps what still waits (1-RTT
 * secrets before completion). */
static void compact(struct hs *h)
{
	int i, j;

	for (i = j = 0; i < h->n; i++)
		if (h->q[i].data)
			h->q[j++] = h->q[i];
	h->n = j;
}

/* GnuTLS failed the handshake with rc: the connection closes with its
 * alert as CRYPTO_ERROR (alert.c; RFC 9001 §4.8) when the socket does. */
static int failed(struct hs *h, int rc)
{
	int alert = quic_alert_for(h->s, rc, h->alert);
	char name[48];

	quic_log(LOG_ERR, "handshake failed: %s (TLS alert %s)", gnutls_strerror(rc),
		 quic_alert_name(alert, name, sizeof(name)));
	quic_alert_close(h->fd, alert);
	return -EPROTO;
}

/* One message from the kernel (a RECVMSG step's result) into GnuTLS. */
static int take_message(struct hs *h, ssize_t n)
{
	struct cmsghdr *cmsg;
	uint8_t level = QUIC_CRYPTO_INITIAL;
	int rc;

	if (n == -ECONNRESET || !n)
		quic_alert_log_peer(h->fd);
	if (n <= 0)
		return n < 0 ? (int)n : -ECONNRESET;
	for (cmsg = CMSG_FIRSTHDR(&h->msg); cmsg; cmsg = CMSG_NXTHDR(&h->msg, cmsg))
		if (cmsg->cmsg_level == SOL_QUIC && cmsg->cmsg_type == QUIC_HANDSHAKE_INFO)
			level = ((struct quic_handshake_info *)CMSG_DATA(cmsg))->crypto_level;
	quic_log(LOG_DEBUG, "peer's message of %zd bytes at level %u", n, level);
	rc = gnutls_handshake_write(h->s, gnutls_level_of(level), h->buf, n);
	return rc < 0 ? failed(h, rc) : 0;
}

static void recv_step(struct hs *h)
{
	h->iov = (struct iovec){ h->buf, sizeof(h->buf) };
	h->msg = (struct msghdr){ .msg_iov = &h->iov, .msg_iovlen = 1, .msg_control = h->control,
				  .msg_controllen = sizeof(h->control) };
	h->step = (struct quic_handshake_step){ .op = QUIC_HANDSHAKE_STEP_OP_RECVMSG,
						.s_recvmsg = { .msg = &h->msg } };
}

static ssize_t refuse_push(gnutls_transport_ptr_t p, const void *d, size_t n)
{
	(void)p, (void)d, (void)n;
	errno = EIO;
	return -1;
}

static ssize_t refuse_pull(gnutls_transport_ptr_t p, void *d, size_t n)
{
	(void)p, (void)d, (void)n;
	errno = EIO;
	return -1;
}

/* A server socket is the one without a token to read (as with the
 * existing libquic). */
static int is_server(int fd)
{
	uint8_t token[512];
	socklen_t len = sizeof(token);

	return getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, token, &len) != 0;
}

/* Runs the handshake on until it needs socket I/O (*pstep, 0) or is done
 * (*pstep NULL, 0), or fails (a negative errno). */
static int advance(struct hs *h, struct quic_handshake_step **pstep)
{
	int rc, err;

	*pstep = NULL;
	for (;;) {
		switch (h->stage) {
		case S_RUN:
			rc = gnutls_handshake(h->s);
			if (rc < 0 && rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED)
				return failed(h, rc);
			h->complete = rc == 0;
			err = before_messages(h);
			if (err)
				return err;
			h->stage = S_SEND;
			break;
		case S_SEND:
			if (next_message(h)) {
				*pstep = &h->step;
				return 0;
			}
			compact(h);
			h->stage = !h->complete ? S_RECV : h->ticketed ? S_DONE : S_TICKET;
			break;
		case S_RECV:
			recv_step(h);
			*pstep = &h->step;
			return 0;
		case S_TICKET:
			/* RFC 8446 §4.6.1: once the handshake is complete a
			 * server sends a session ticket, in a 1-RTT CRYPTO
			 * frame, when its session issues them (none is not an
			 * error). */
			h->ticketed = 1;
			h->stage = S_DONE;
			if (is_server(h->fd) && gnutls_session_ticket_send(h->s, 1, 0) >= 0)
				h->stage = S_SEND;
			break;
		case S_DONE:
			return 0;
		}
	}
}

int quic_handshake_init(gnutls_session_t s, struct quic_handshake_step **pstep)
{
	struct hs *h;

	*pstep = NULL;
	if (hs_of(s))
		return -EALREADY;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = gnutls_transport_get_int(s);
	h->s = s;
	h->alert = -1;
	if (gnutls_session_ext_register(s, "quic_transport_parameters", QUIC_TP_EXT, GNUTLS_EXT_TLS, tp_recv,
					tp_send, NULL, NULL, NULL,
					GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE | GNUTLS_EXT_FLAG_TLS) < 0) {
		free(h);
		quic_log(LOG_ERR, "the session already has a QUIC transport parameters extension");
		return -EINVAL;
	}
	gnutls_ext_set_data(s, QUIC_TP_EXT, h);
	gnutls_transport_set_push_function(s, refuse_push);
	gnutls_transport_set_pull_function(s, refuse_pull);
	gnutls_handshake_set_secret_function(s, on_secret);
	gnutls_handshake_set_read_function(s, on_message);
	gnutls_alert_set_read_function(s, on_alert);
	return advance(h, pstep);
}

int quic_handshake_step(gnutls_session_t s, struct quic_handshake_step **pstep)
{
	struct hs *h = hs_of(s);
	int err;

	if (!h || !*pstep || *pstep != &h->step)
		return -EINVAL;
	if (h->step.op == QUIC_HANDSHAKE_STEP_OP_SENDMSG) {
		ssize_t n = h->step.s_sendmsg.retval;

		if (n != (ssize_t)h->q[h->sending].len) {
			quic_log(LOG_ERR, "sending a handshake message: %s", n < 0 ? strerror((int)-n) : "short write");
			return n < 0 ? (int)n : -EIO;
		}
		drop(&h->q[h->sending]);
	} else {
		err = take_message(h, h->step.s_recvmsg.retval);
		if (err) {
			quic_log(LOG_ERR, "receiving a handshake message: %s", strerror(-err));
			return err;
		}
		h->stage = S_RUN;
	}
	return advance(h, pstep);
}

void quic_handshake_deinit(gnutls_session_t s)
{
	struct hs *h = hs_of(s);
	int i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++)
		if (h->q[i].data)
			drop(&h->q[i]);
	free(h->peer_tp);
	gnutls_ext_set_data(s, QUIC_TP_EXT, NULL);
	free(h);
}

/* One step's I/O, blocking: a non-blocking socket waits in poll(). */
static void do_step(int fd, struct quic_handshake_step *step)
{
	int out = step->op == QUIC_HANDSHAKE_STEP_OP_SENDMSG;
	ssize_t n;

	for (;;) {
		n = out ? sendmsg(fd, step->s_sendmsg.msg, step->s_sendmsg.flags)
			: recvmsg(fd, step->s_recvmsg.msg, step->s_recvmsg.flags);
		if (n >= 0 || (errno != EINTR && errno != EAGAIN))
			break;
		if (errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = out ? POLLOUT : POLLIN };

			poll(&p, 1, -1);
		}
	}
	if (n < 0)
		n = -errno;
	if (out)
		step->s_sendmsg.retval = n;
	else
		step->s_recvmsg.retval = n;
}

int quic_handshake(gnutls_session_t s)
{
	struct quic_handshake_step *step;
	struct quic_config config;
	socklen_t len = sizeof(config);
	int fd = gnutls_transport_get_int(s);
	int err;

	for (err = quic_handshake_init(s, &step); !err && step; err = quic_handshake_step(s, &step))
		do_step(fd, step);
	quic_handshake_deinit(s);
	/* A client that asked for a session ticket (quic_config.
	 * receive_session_ticket) waits for it; 1 (a ticket) and 0 (none
	 * came) both let the handshake succeed. */
	if (err || is_server(fd) || getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, &len) ||
	    !config.receive_session_ticket)
		return err;
	err = quic_session_wait_ticket(s, fd);
	return err < 0 ? err : 0;
}

/* Sets the comma-separated ALPN list on the session. */
int quic_set_alpns(gnutls_session_t s, const char *alpns, int server)
{
	gnutls_datum_t list[16];
	char *copy, *tok, *save = NULL;
	unsigned n = 0;
	int rc;

	if (!alpns || !*alpns)
		return 0;
	copy = strdup(alpns);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && n < 16; tok = strtok_r(NULL, ",", &save)) {
		list[n].data = (unsigned char *)tok;
		list[n++].size = strlen(tok);
	}
	rc = gnutls_alpn_set_protocols(s, list, n, GNUTLS_ALPN_MANDATORY | (server ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0));
	free(copy);
	return rc < 0 ? -EINVAL : 0;
}

/* A client that asked for a session ticket (quic_config.
 * receive_session_ticket) and got one leaves the session data to resume
 * with on the socket, for getsockopt(QUIC_SOCKOPT_SESSION_TICKET) (the
 * ticket message stays there when none came in time). */
static int keep_session(gnutls_session_t s, int sockfd)
{
	struct quic_config config;
	socklen_t len = sizeof(config);
	uint8_t probe[4096];
	socklen_t plen = sizeof(probe);
	gnutls_datum_t data;
	int err = 0;

	if (getsockopt(sockfd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, &len) || !config.receive_session_ticket)
		return 0;
	/* No ticket message on the socket: nothing to resume. */
	if (getsockopt(sockfd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, probe, &plen) || !plen)
		return 0;
	if (gnutls_session_get_data2(s, &data) < 0)
		return -EPROTO;
	if (setsockopt(sockfd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, data.data, data.size))
		err = -errno;
	gnutls_memset(data.data, 0, data.size);
	gnutls_free(data.data);
	return err;
}

/* The handshake with certificates (a server's key and chain; a client
 * verifying against the system's trust store when given a hostname) or,
 * with `psk` set, the pre-shared key file in pkey_file. */
static int run(int sockfd, int server, int psk, const char *pkey_file, const char *cert_file, const char *hostname,
	       const char *alpns)
{
	gnutls_certificate_credentials_t cred = NULL;
	void *psk_cred = NULL;
	gnutls_session_t s;
	int err;

	if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | quic_session_init_flags(server)) < 0)
		return -ENOMEM;
	err = -EINVAL;
	if (gnutls_priority_set_direct(s, QUIC_PRIORITY, NULL) < 0)
		goto out;
	if (psk) {
		err = quic_session_psk(s, pkey_file, server, &psk_cred);
		if (err)
			goto out;
		err = -EINVAL;
	} else {
		if (gnutls_certificate_allocate_credentials(&cred) < 0)
			goto out;
		if (server) {
			if (!pkey_file || !cert_file ||
			    gnutls_certificate_set_x509_key_file(cred, cert_file, pkey_file, GNUTLS_X509_FMT_PEM) < 0)
				goto out;
		} else if (hostname) {
			if (gnutls_certificate_set_x509_system_trust(cred) < 0)
				goto out;
			gnutls_session_set_verify_cert(s, hostname, 0);
		}
		if (gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
			goto out;
	}
	if (!server && hostname)
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, hostname, strlen(hostname));
	err = quic_set_alpns(s, alpns, server);
	if (!err)
		err = quic_session_prepare(s, sockfd, server);
	if (err)
		goto out;
	gnutls_transport_set_int(s, sockfd);
	err = quic_handshake(s);
	if (!err && !server)
		err = keep_session(s, sockfd);
out:
	gnutls_deinit(s);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	quic_session_psk_free(psk_cred, server);
	return err;
}

int quic_client_handshake(int sockfd, const char *pkey_file, const char *hostname, const char *alpns)
{
	return run(sockfd, 0, pkey_file != NULL, pkey_file, NULL, hostname, alpns);
}

/* A server with a certificate, or with cert_file NULL a PSK file. */
int quic_server_handshake(int sockfd, const char *pkey_file, const char *cert_file, const char *alpns)
{
	if (!pkey_file)
		return -EINVAL;
	return run(sockfd, 1, cert_file == NULL, pkey_file, cert_file, NULL, alpns);
}

ssize_t quic_sendmsg(int sockfd, const void *msg, size_t len, int64_t sid, uint32_t flags)
{
	char control[CMSG_SPACE(sizeof(struct quic_stream_info))] = { 0 };
	struct iovec iov = { (void *)msg, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			    .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&m);
	struct quic_stream_info info = { .stream_id = sid, .stream_flags = flags };

	cmsg->cmsg_level = SOL_QUIC;
	cmsg->cmsg_type = QUIC_STREAM_INFO;
	cmsg->cmsg_len = CMSG_LEN(sizeof(info));
	memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
	return sendmsg(sockfd, &m, 0);
}

ssize_t quic_recvmsg(int sockfd, void *msg, size_t len, int64_t *sid, uint32_t *flags)
{
	char control[CMSG_SPACE(sizeof(struct quic_stream_info))];
	struct iovec iov = { msg, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			    .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg;
	ssize_t n = recvmsg(sockfd, &m, flags ? (int)*flags : 0);

	if (n < 0)
		return n;
	for (cmsg = CMSG_FIRSTHDR(&m); cmsg; cmsg = CMSG_NXTHDR(&m, cmsg)) {
		if (cmsg->cmsg_level == SOL_QUIC && cmsg->cmsg_type == QUIC_STREAM_INFO) {
			struct quic_stream_info *info = (struct quic_stream_info *)CMSG_DATA(cmsg);

			if (sid)
				*sid = info->stream_id;
			if (flags)
				*flags = info->stream_flags;
		}
	}
	if (flags)
		*flags |= m.msg_flags;
	return n;
}
