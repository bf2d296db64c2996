// SPDX-License-Identifier: GPL-2.0
/* quic-handshaked: the user-space agent of net/handshake (Linux 6.4 and
 * later; Debian 12's 6.12, not its 6.1) for IPPROTO_QUIC sockets, in the
 * role of ktls-utils' tlshd (which Debian 12 does not package).
 *
 * A kernel user of a QUIC socket asks for a TLS handshake with
 * tls_client_hello_*() / tls_server_hello_*() (<net/handshake.h>); the
 * kernel announces it with HANDSHAKE_CMD_READY on the "tlshd" multicast
 * group of the generic netlink family "handshake". The agent then sends
 * HANDSHAKE_CMD_ACCEPT (handler class TLSHD); the reply carries a
 * descriptor of the socket, installed in the agent, and the request's
 * arguments (message type, authentication mode, peer name, timeout, key
 * serials). A child process runs the QUIC handshake on the descriptor with
 * libquic (quic_handshake() on a GnuTLS session set up here: the ALPN list
 * is the socket's QUIC_SOCKOPT_ALPN) and answers HANDSHAKE_CMD_DONE with
 * the status (0 or a positive errno) and the descriptor.
 *
 * Our certificate and private key: the keys whose serials the request
 * carries (HANDSHAKE_A_ACCEPT_CERTIFICATE), read with keyctl(KEYCTL_READ)
 * (so keys the agent may read: e.g. "user" keys in its session keyring;
 * PEM or DER), else the files --cert/--key. A server always presents one;
 * a client when the request asks for X.509 authentication. A client
 * verifies the server's certificate against --cafile (else the system's
 * trust store) and the request's peer name when it has one.
 *
 * PSK (tls_client_hello_psk / tls_server_hello_psk): the request's
 * HANDSHAKE_A_ACCEPT_PEER_IDENTITY attributes carry the key serials of
 * the pre-shared keys; a key's payload is the secret (raw bytes, read with
 * keyctl(KEYCTL_READ)) and its description the PSK identity (RFC 8446
 * §4.2.11), as with tlshd. A client offers its first key; a server accepts
 * a client whose identity is one of its keys' descriptions. The DONE
 * command reports the key the handshake used as the peer's identity
 * (HANDSHAKE_A_DONE_REMOTE_AUTH); a handshake the keys did not
 * authenticate (a wrong secret, an unknown identity) fails with EACCES, a
 * key the agent cannot read with ENOKEY. X.509 handshakes report no
 * remote identity, and 6.12's ACCEPT carries no keyring (no
 * HANDSHAKE_A_ACCEPT_KEYRING in its uapi header).
 *
 *   quic-handshaked [--cafile FILE] [--cert FILE --key FILE]
 * prints "ready" on stdout once it listens, and runs until killed.
 *
 * Attribute and command numbers: include/uapi/linux/handshake.h (generated
 * from Documentation/netlink/specs/handshake.yaml). */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <netinet/quic.h>

#define HS_FAMILY_NAME "handshake"
#define HS_MCGRP_TLSHD "tlshd"
enum { HS_CLASS_TLSHD = 1 };
enum { HS_MSG_CLIENTHELLO = 1, HS_MSG_SERVERHELLO = 2 };
enum { HS_AUTH_UNAUTH = 1, HS_AUTH_PSK = 2, HS_AUTH_X509 = 3 };
enum { HS_CMD_READY = 1, HS_CMD_ACCEPT = 2, HS_CMD_DONE = 3 };
enum {
	HS_A_ACCEPT_SOCKFD = 1,
	HS_A_ACCEPT_HANDLER_CLASS,
	HS_A_ACCEPT_MESSAGE_TYPE,
	HS_A_ACCEPT_TIMEOUT,
	HS_A_ACCEPT_AUTH_MODE,
	HS_A_ACCEPT_PEER_IDENTITY,
	HS_A_ACCEPT_CERTIFICATE,
	HS_A_ACCEPT_PEERNAME,
	HS_A_ACCEPT_MAX = HS_A_ACCEPT_PEERNAME
};
enum { HS_A_X509_CERT = 1, HS_A_X509_PRIVKEY, HS_A_X509_MAX = HS_A_X509_PRIVKEY };
enum { HS_A_DONE_STATUS = 1, HS_A_DONE_SOCKFD, HS_A_DONE_REMOTE_AUTH };
/* The peer identities a request can carry (struct tls_handshake_args). */
#define MAX_PEERIDS 5

static const char *cafile, *certfile, *keyfile;
/* The socket in the tlshd group: the parent's alone (see serve_one). */
static int mc = -1;

/* ---- Generic netlink ------------------------------------------------------- */

struct msg {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[512];
};

static void put_attr(struct msg *m, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void start(struct msg *m, uint16_t family, uint8_t cmd, uint8_t version)
{
	memset(m, 0, sizeof(*m));
	m->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nh.nlmsg_type = family;
	m->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m->gh.cmd = cmd;
	m->gh.version = version;
}

/* Sends m and receives the answer into buf: the length of a reply of the
 * family, 0 for a bare acknowledgement, or -errno. */
static int transact(int fd, struct msg *m, char *buf, size_t size)
{
	struct nlmsghdr *nh;
	ssize_t n;

	if (send(fd, m, m->nh.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, size, 0);
	if (n < 0)
		return -errno;
	nh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(nh, (size_t)n))
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	/* A reply: the acknowledgement that follows it is read and dropped. */
	if (recv(fd, buf + n, size - n, MSG_DONTWAIT) < 0 && errno != EAGAIN)
		return -errno;
	return n;
}

/* What an attribute takes of `left` bytes, its padding included. */
static size_t step(const struct nlattr *a, size_t left)
{
	size_t n = NLA_ALIGN((size_t)a->nla_len);

	return n < left ? n : left;
}

/* The attributes of a generic netlink message (or nested attribute) by
 * type, up to max. */
static void parse(const void *start, size_t len, const struct nlattr **tb, int max)
{
	const struct nlattr *a = start;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max && !tb[type])
			tb[type] = a;
		len -= step(a, len);
		a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static const void *payload(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static uint32_t u32_of(const struct nlattr *a)
{
	uint32_t v = 0;

	if (a && a->nla_len >= NLA_HDRLEN + 4)
		memcpy(&v, payload(a), 4);
	return v;
}

/* The family's ID and the multicast group's, from the controller. */
static int resolve(int fd, uint16_t *family, uint32_t *group)
{
	char buf[8192];
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *grp;
	struct msg m;
	int n;

	start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	put_attr(&m, CTRL_ATTR_FAMILY_NAME, HS_FAMILY_NAME, sizeof(HS_FAMILY_NAME));
	n = transact(fd, &m, buf, sizeof(buf));
	if (n <= 0)
		return n ? n : -EPROTO;
	parse(buf + NLMSG_LENGTH(GENL_HDRLEN), ((struct nlmsghdr *)buf)->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), tb,
	      CTRL_ATTR_MAX);
	if (!tb[CTRL_ATTR_FAMILY_ID] || !tb[CTRL_ATTR_MCAST_GROUPS])
		return -ENOENT;
	memcpy(family, payload(tb[CTRL_ATTR_FAMILY_ID]), 2);
	grp = payload(tb[CTRL_ATTR_MCAST_GROUPS]);
	for (size_t left = tb[CTRL_ATTR_MCAST_GROUPS]->nla_len - NLA_HDRLEN; left >= NLA_HDRLEN && grp->nla_len >= NLA_HDRLEN;
	     grp = (const struct nlattr *)((const char *)grp + NLA_ALIGN(grp->nla_len))) {
		const struct nlattr *g[CTRL_ATTR_MCAST_GRP_MAX + 1];

		if (grp->nla_len > left)
			break;
		parse(payload(grp), grp->nla_len - NLA_HDRLEN, g, CTRL_ATTR_MCAST_GRP_MAX);
		if (g[CTRL_ATTR_MCAST_GRP_NAME] && g[CTRL_ATTR_MCAST_GRP_ID] &&
		    !strcmp(payload(g[CTRL_ATTR_MCAST_GRP_NAME]), HS_MCGRP_TLSHD)) {
			*group = u32_of(g[CTRL_ATTR_MCAST_GRP_ID]);
			return 0;
		}
		left -= step(grp, left);
	}
	return -ENOENT;
}

/* ---- The handshake ---------------------------------------------------------- */

struct request {
	int sockfd;
	uint32_t type, auth, timeout_ms;
	int32_t cert, privkey;	/* key serials, 0: none */
	int32_t peerids[MAX_PEERIDS];	/* PSK key serials */
	int npeerids;
	char peername[256];
};

/* What a PSK handshake uses: the keys of the request (a child process
 * runs one request, so GnuTLS's server callback finds them here), and the
 * serial of the one the handshake used. */
static struct {
	const struct request *r;
	int32_t used;
} psk;

/* A key's payload, malloc'ed (its length in *len), or NULL. */
static void *read_key(int32_t serial, size_t *len)
{
	long n = syscall(SYS_keyctl, KEYCTL_READ, serial, NULL, 0);
	void *buf = n > 0 ? malloc(n) : NULL;

	if (buf && syscall(SYS_keyctl, KEYCTL_READ, serial, buf, n) != n) {
		free(buf);
		buf = NULL;
	}
	*len = n > 0 ? (size_t)n : 0;
	return buf;
}

/* Our certificate and key from the keyring: 0, or a positive errno. */
static int keyring_credentials(gnutls_certificate_credentials_t cred, const struct request *r)
{
	size_t clen, klen;
	void *c = read_key(r->cert, &clen), *k = read_key(r->privkey, &klen);
	gnutls_datum_t cd = { c, clen }, kd = { k, klen };
	int err = ENOKEY;

	if (c && k) {
		gnutls_x509_crt_fmt_t fmt = clen > 10 && !memcmp(c, "-----BEGIN", 10) ? GNUTLS_X509_FMT_PEM
										     : GNUTLS_X509_FMT_DER;

		err = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd, fmt) < 0 ? EKEYREJECTED : 0;
	}
	free(c);
	free(k);
	return err;
}

/* A key's description (the last field of KEYCTL_DESCRIBE's
 * "type;uid;gid;perm;description") into out; 0 or ENOKEY. */
static int key_description(int32_t serial, char *out, size_t size)
{
	char buf[512], *d = buf;
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, buf, sizeof(buf));

	if (n <= 0 || n > (long)sizeof(buf))
		return ENOKEY;
	buf[n - 1] = 0;
	for (int i = 0; i < 4 && d; i++)
		d = strchr(d, ';') ? strchr(d, ';') + 1 : NULL;
	if (!d || !*d || strlen(d) >= size)
		return ENOKEY;
	strcpy(out, d);
	return 0;
}

/* GnuTLS's question to a server: the secret of the client's identity. */
static int psk_lookup(gnutls_session_t s, const char *identity, gnutls_datum_t *key)
{
	(void)s;
	for (int i = 0; i < psk.r->npeerids; i++) {
		char desc[256];
		size_t len;
		void *secret;

		if (key_description(psk.r->peerids[i], desc, sizeof(desc)) || strcmp(desc, identity))
			continue;
		secret = read_key(psk.r->peerids[i], &len);
		if (!secret)
			return -1;
		key->data = gnutls_malloc(len);
		if (!key->data) {
			free(secret);
			return -1;
		}
		memcpy(key->data, secret, len);
		key->size = len;
		explicit_bzero(secret, len);
		free(secret);
		psk.used = psk.r->peerids[i];
		return 0;
	}
	return -1;	/* an identity we have no key for */
}

/* The PSK credentials of the request on s: 0 or a positive errno. */
static int psk_credentials(gnutls_session_t s, int server, const struct request *r, void **cred)
{
	psk.r = r;
	if (!r->npeerids)
		return ENOKEY;
	if (server) {
		gnutls_psk_server_credentials_t c;

		if (gnutls_psk_allocate_server_credentials(&c) < 0)
			return ENOMEM;
		*cred = c;
		gnutls_psk_set_server_credentials_function(c, psk_lookup);
		return gnutls_credentials_set(s, GNUTLS_CRD_PSK, c) < 0 ? EINVAL : 0;
	} else {
		gnutls_psk_client_credentials_t c;
		char identity[256];
		size_t len;
		void *secret;
		gnutls_datum_t key;
		int err = key_description(r->peerids[0], identity, sizeof(identity));

		if (err)
			return err;
		secret = read_key(r->peerids[0], &len);
		if (!secret)
			return ENOKEY;
		key = (gnutls_datum_t){ secret, len };
		err = gnutls_psk_allocate_client_credentials(&c) < 0 ? ENOMEM : 0;
		if (!err) {
			*cred = c;
			if (gnutls_psk_set_client_credentials(c, identity, &key, GNUTLS_PSK_KEY_RAW) < 0 ||
			    gnutls_credentials_set(s, GNUTLS_CRD_PSK, c) < 0)
				err = EKEYREJECTED;
		}
		explicit_bzero(secret, len);
		free(secret);
		psk.used = r->peerids[0];
		return err;
	}
}

/* The socket's ALPN list (comma-separated) as the session's protocols. */
static int set_alpns(gnutls_session_t s, int fd, int server)
{
	char list[257], *tok, *save = NULL;
	gnutls_datum_t d[16];
	socklen_t len = sizeof(list) - 1;
	unsigned n = 0;

	if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, list, &len))
		return -errno;
	list[len] = 0;
	for (tok = strtok_r(list, ",", &save); tok && n < 16; tok = strtok_r(NULL, ",", &save)) {
		d[n].data = (unsigned char *)tok;
		d[n++].size = strlen(tok);
	}
	if (n && gnutls_alpn_set_protocols(s, d, n, GNUTLS_ALPN_MANDATORY | (server ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0)))
		return -EINVAL;
	return 0;
}

/* The connection closed with a TLS alert (CRYPTO_ERROR, 0x100-0x1ff:
 * RFC 9001 §4.8). */
static int peer_tls_refused(int fd)
{
	unsigned char buf[sizeof(struct quic_connection_close) + 256];
	struct quic_connection_close *c = (struct quic_connection_close *)buf;
	socklen_t len = sizeof(buf);

	if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, buf, &len) || len < sizeof(*c))
		return 0;
	return c->errcode >= 0x100 && c->errcode <= 0x1ff;
}

/* The handshake on the socket: 0 or a positive errno for DONE. */
static int handshake(const struct request *r)
{
	int server = r->type == HS_MSG_SERVERHELLO;
	int usepsk = r->auth == HS_AUTH_PSK;
	gnutls_certificate_credentials_t cred = NULL;
	void *psk_cred = NULL;
	gnutls_session_t s;
	int err;

	if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA) < 0)
		return ENOMEM;
	err = EINVAL;
	if (gnutls_priority_set_direct(s, QUIC_PRIORITY, NULL) < 0 ||
	    gnutls_certificate_allocate_credentials(&cred) < 0)
		goto out;
	if (usepsk) {
		err = psk_credentials(s, server, r, &psk_cred);
		if (err)
			goto out;
		err = EINVAL;
	} else if (server || r->auth == HS_AUTH_X509) {
		if (r->cert && r->privkey) {
			err = keyring_credentials(cred, r);
			if (err)
				goto out;
			err = EINVAL;
		} else if (!certfile || !keyfile ||
			   gnutls_certificate_set_x509_key_file(cred, certfile, keyfile, GNUTLS_X509_FMT_PEM) < 0) {
			goto out;
		}
	}
	if (!server && !usepsk) {
		if ((cafile ? gnutls_certificate_set_x509_trust_file(cred, cafile, GNUTLS_X509_FMT_PEM)
			    : gnutls_certificate_set_x509_system_trust(cred)) <= 0)
			goto out;
		if (r->peername[0]) {
			gnutls_server_name_set(s, GNUTLS_NAME_DNS, r->peername, strlen(r->peername));
			gnutls_session_set_verify_cert(s, r->peername, 0);
		} else {
			gnutls_session_set_verify_cert(s, NULL, 0);
		}
	}
	if (!usepsk && gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		goto out;
	err = -set_alpns(s, r->sockfd, server);
	if (err)
		goto out;
	if (r->timeout_ms) {
		struct timeval tv = { .tv_sec = r->timeout_ms / 1000, .tv_usec = r->timeout_ms % 1000 * 1000 };

		setsockopt(r->sockfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	gnutls_transport_set_int(s, r->sockfd);
	err = quic_handshake(s);
	/* A certificate that does not verify is an access failure; other
	 * failures keep libquic's errno. */
	if (err && !server && !usepsk && gnutls_session_get_verify_cert_status(s))
		err = -EACCES;
	/* With PSK, TLS fails when the keys do not match (RFC 8446 §4.2.11:
	 * the binder does not verify, or the identity is unknown): ours
	 * (EPROTO) or the peer's, which closed with a CRYPTO_ERROR (RFC 9001
	 * §4.8): the peer did not authenticate, or we did not to it. */
	if (usepsk && (err == -EPROTO || (err == -ECONNRESET && peer_tls_refused(r->sockfd))))
		err = -EACCES;
	err = -err;
out:
	gnutls_deinit(s);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (psk_cred && server)
		gnutls_psk_free_server_credentials(psk_cred);
	else if (psk_cred)
		gnutls_psk_free_client_credentials(psk_cred);
	return err;
}

/* The request's PEER_IDENTITY attributes (one per key serial: parse()
 * keeps only the first of a type). */
static void peer_identities(const char *buf, struct request *r)
{
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
	const struct nlattr *a = (const struct nlattr *)(buf + NLMSG_LENGTH(GENL_HDRLEN));
	size_t left = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		if ((a->nla_type & NLA_TYPE_MASK) == HS_A_ACCEPT_PEER_IDENTITY && r->npeerids < MAX_PEERIDS)
			r->peerids[r->npeerids++] = (int32_t)u32_of(a);
		left -= step(a, left);
		a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

/* ACCEPT the next pending request, run it in a child, answer DONE there. */
static int serve_one(int fd, uint16_t family)
{
	const struct nlattr *tb[HS_A_ACCEPT_MAX + 1];
	char buf[8192];
	struct request r = { .sockfd = -1 };
	uint32_t class = HS_CLASS_TLSHD, status;
	struct msg m;
	int n;

	start(&m, family, HS_CMD_ACCEPT, 1);
	put_attr(&m, HS_A_ACCEPT_HANDLER_CLASS, &class, 4);
	n = transact(fd, &m, buf, sizeof(buf));
	if (n <= 0)
		return n ? n : -ENOENT;
	parse(buf + NLMSG_LENGTH(GENL_HDRLEN), ((struct nlmsghdr *)buf)->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), tb,
	      HS_A_ACCEPT_MAX);
	if (!tb[HS_A_ACCEPT_SOCKFD])
		return -EPROTO;
	r.sockfd = (int)u32_of(tb[HS_A_ACCEPT_SOCKFD]);
	r.type = u32_of(tb[HS_A_ACCEPT_MESSAGE_TYPE]);
	r.auth = u32_of(tb[HS_A_ACCEPT_AUTH_MODE]);
	r.timeout_ms = u32_of(tb[HS_A_ACCEPT_TIMEOUT]);
	if (tb[HS_A_ACCEPT_CERTIFICATE]) {
		const struct nlattr *x[HS_A_X509_MAX + 1];

		parse(payload(tb[HS_A_ACCEPT_CERTIFICATE]), tb[HS_A_ACCEPT_CERTIFICATE]->nla_len - NLA_HDRLEN, x,
		      HS_A_X509_MAX);
		r.cert = (int32_t)u32_of(x[HS_A_X509_CERT]);
		r.privkey = (int32_t)u32_of(x[HS_A_X509_PRIVKEY]);
	}
	peer_identities(buf, &r);
	if (tb[HS_A_ACCEPT_PEERNAME]) {
		size_t len = tb[HS_A_ACCEPT_PEERNAME]->nla_len - NLA_HDRLEN;

		if (len >= sizeof(r.peername))
			len = sizeof(r.peername) - 1;
		memcpy(r.peername, payload(tb[HS_A_ACCEPT_PEERNAME]), len);
		r.peername[len] = 0;
	}
	if (fork() == 0) {
		/* Its own netlink socket: the parent's may be mid-ACCEPT. And
		 * out of the tlshd group: while a child held that membership,
		 * the kernel saw a listener though the agent was gone (a request
		 * then timed out instead of failing with ESRCH). */
		int done = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

		close(mc);
		close(fd);

		status = handshake(&r);
		fprintf(stderr, "quic-handshaked: %s handshake on fd %d (%s): status %u\n",
			r.type == HS_MSG_SERVERHELLO ? "server" : "client", r.sockfd,
			r.auth == HS_AUTH_PSK		? "PSK from the keyring"
			: r.cert && r.privkey ? "keys from the keyring"
					      : "no keys from the keyring",
			status);
		start(&m, family, HS_CMD_DONE, 1);
		put_attr(&m, HS_A_DONE_STATUS, &status, 4);
		put_attr(&m, HS_A_DONE_SOCKFD, &r.sockfd, 4);
		if (!status && r.auth == HS_AUTH_PSK && psk.used)
			put_attr(&m, HS_A_DONE_REMOTE_AUTH, &psk.used, 4);
		n = done < 0 ? -errno : transact(done, &m, buf, sizeof(buf));
		if (n < 0)
			fprintf(stderr, "quic-handshaked: DONE: %s\n", strerror(-n));
		_exit(n < 0);
	}
	close(r.sockfd);	/* the child has it */
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	uint32_t group;
	uint16_t family;
	int req, err;

	for (int i = 1; i < argc; i += 2) {
		const char **opt = !strcmp(argv[i], "--cafile") ? &cafile
				   : !strcmp(argv[i], "--cert") ? &certfile
				   : !strcmp(argv[i], "--key")	? &keyfile
								: NULL;

		if (!opt || i + 1 == argc) {
			fprintf(stderr, "usage: %s [--cafile FILE] [--cert FILE --key FILE]\n", argv[0]);
			return 2;
		}
		*opt = argv[i + 1];
	}
	sigaction(SIGCHLD, &sa, NULL);	/* children reap themselves */
	mc = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	req = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (mc < 0 || req < 0) {
		perror("quic-handshaked: netlink socket");
		return 1;
	}
	err = resolve(req, &family, &group);
	if (err) {
		fprintf(stderr, "quic-handshaked: no generic netlink family \"handshake\" (%s): the kernel has no net/handshake\n",
			strerror(-err));
		return 1;
	}
	/* Bound first: measured on 6.12, a membership added to an unbound
	 * socket left the kernel seeing no listener (the request failed with
	 * ESRCH). */
	if (bind(mc, (struct sockaddr *)&local, sizeof(local)) ||
	    setsockopt(mc, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group))) {
		perror("quic-handshaked: joining the tlshd group");
		return 1;
	}
	fprintf(stderr, "quic-handshaked: family %u, group \"%s\" %u\n", family, HS_MCGRP_TLSHD, group);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		char buf[4096];
		ssize_t n = recv(mc, buf, sizeof(buf), 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("quic-handshaked: recv");
			return 1;
		}
		for (; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct genlmsghdr *gh = NLMSG_DATA(nh);

			if (nh->nlmsg_type != family || gh->cmd != HS_CMD_READY)
				continue;
			/* One READY per request; take every request waiting. */
			while (serve_one(req, family) == 0)
				;
		}
	}
}
