// What carries over between connections, quic.ko client to quic.ko server
// (libquic, GnuTLS):
//   - session resumption with 0-RTT, over IPv4 with quic_client_handshake
//     (the session data left on the socket, quic_config.
//     receive_session_ticket) and over IPv6 with a GnuTLS session of the
//     test's own (quic_handshake, quic_session_get_data / set_data): the
//     first connection gets a ticket (QUIC_EVENT_NEW_SESSION_TICKET) and a
//     NEW_TOKEN token (QUIC_EVENT_NEW_TOKEN, QUIC_SOCKOPT_TOKEN); the
//     second sets the session, the server's remembered transport
//     parameters and the token before connect(), sends its request with
//     sendmsg before the handshake, and gets the answer. Over IPv4 the
//     listener validates addresses: the first connection goes through a
//     Retry, the second, with its token, does not. That the request
//     went as 0-RTT and was taken as such: the server counts the 0-RTT
//     packets it processed (/proc/net/quic ZeroRttPacketsReceived), and
//     TLS reports the session resumed with early data accepted; the token
//     validated the client's address (TokensValidated);
//   - the same when the server lost its ticket key: a full handshake, the
//     0-RTT request refused and answered all the same (sent again in 1-RTT);
//   - a token is for the namespace whose server issued it: a NEW_TOKEN
//     token from a server in this network namespace, shown to a
//     validating server at the same address in a new one (the client and
//     that server unshare() it), proves nothing there: a Retry first
//     (RetriesSent 1, TokensValidated 0 there), then the resumed
//     connection as before;
//   - a PSK handshake (quic_client_handshake / quic_server_handshake with
//     a key file), and one with the wrong key failing on both ends;
//   - the errno of the new options' bad inputs.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../lo_up.h"
#include "../proc_quic.h"
#include "../www_file.h"

#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"
#define ALPN "hq-interop"
#define PSK_FILE "/tmp/psk.txt"
#define BAD_PSK_FILE "/tmp/psk-bad.txt"

static socklen_t addr_of(int family, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	a6->sin6_addr = in6addr_loopback;
	return sizeof(*a6);
}

/* A listener on loopback:port; with `validate`, it sends a Retry to a
 * client without a valid token (RFC 9000 §8.1.2). */
static int listener(int family, int port, int validate)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_of(family, port, &ss), clen = sizeof(struct quic_config);
	struct quic_config config;
	int fd = socket(family, SOCK_STREAM, IPPROTO_QUIC);
	/* The ticket key of the listener's connections (64 bytes, GnuTLS's). */
	unsigned char key[64];

	for (int i = 0; i < 64; i++)
		key[i] = (unsigned char)(i * 37 + port);
	if (fd < 0 || getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, &clen))
		return -1;
	config.validate_peer_address = validate;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, sizeof(config)) ||
	    bind(fd, (struct sockaddr *)&ss, len) ||
	    setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) ||
	    setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, key, sizeof(key)) || listen(fd, 4)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request's bytes, until its FIN (events and datagrams skipped): its
 * length and stream, or -1 once the client closed. */
static ssize_t read_request(int fd, char *req, size_t cap, int64_t *sid)
{
	static char buf[65536];
	size_t have = 0;
	uint32_t flags;

	do {
		ssize_t n;

		flags = 0;
		n = quic_recvmsg(fd, buf, sizeof(buf), sid, &flags);
		if (n <= 0)
			return -1;
		if (flags & (MSG_QUIC_NOTIFICATION | MSG_QUIC_DATAGRAM)) {
			flags = 0;
			continue;
		}
		if (have + n < cap) {
			memcpy(req + have, buf, n);
			have += n;
		}
	} while (!(flags & MSG_QUIC_STREAM_FIN));
	req[have] = 0;
	return have;
}

/* Answers "GET /path" requests with the file until the client closes:
 * the number of answers. */
static int serve(int fd)
{
	char req[256], path[200], *body;
	int64_t sid = 0;
	int answered = 0;
	size_t len;

	while (read_request(fd, req, sizeof(req), &sid) >= 0) {
		if (sscanf(req, "GET %199s", path) != 1 || !(body = www_file(path, &len)))
			break;
		if (quic_sendmsg(fd, body, len, sid, MSG_QUIC_STREAM_FIN) != (ssize_t)len) {
			free(body);
			break;
		}
		free(body);
		answered++;
	}
	return answered;
}

/* accept(), the server handshake (a certificate, or the PSK file when
 * cert is NULL) and serve(): the answers, or -1 if the handshake failed. */
static int server_once(int lfd, const char *key, const char *cert)
{
	struct timeval limit = { .tv_sec = 20 };
	int fd = accept(lfd, NULL, NULL), rc, answers;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	rc = quic_server_handshake(fd, key, cert, ALPN);
	printf("     quic_server_handshake: %d\n", rc);
	answers = rc ? -1 : serve(fd);
	close(fd);
	return answers;
}

static int client_failed(int step)
{
	printf("     client: step %d failed, errno %d\n", step, errno);
	fflush(stdout);
	return step;
}

/* Reads the answer on the stream of the request (events counted into
 * *tickets and *tokens) and compares it with /www/hello.txt. */
static int read_hello(int fd, int *tickets, int *tokens)
{
	static char got[4096];
	size_t got_len = 0, want_len;
	char *want = www_file("/hello.txt", &want_len);
	uint32_t flags = 0;

	while (!(flags & MSG_QUIC_STREAM_FIN)) {
		int64_t sid = 0;
		ssize_t n;

		flags = 0;
		n = quic_recvmsg(fd, got + got_len, sizeof(got) - got_len, &sid, &flags);
		if (n <= 0)
			return -1;
		if (flags & MSG_QUIC_NOTIFICATION) {
			*tickets += got[got_len] == QUIC_EVENT_NEW_SESSION_TICKET && n > 5;
			*tokens += got[got_len] == QUIC_EVENT_NEW_TOKEN && n > 1;
			flags = 0;
			continue;
		}
		got_len += n;
	}
	return want && got_len == want_len && !memcmp(got, want, want_len) ? 0 : -1;
}

/* Events that come after the answer. libquic hands the 1-RTT keys down
 * before the client's Finished, so the server's ticket and token never
 * wait for a loss timeout (libquic_key_gap.c): up to 1 s until both were
 * seen. */
static void wait_events(int fd, int *tickets, int *tokens)
{
	char buf[4096];

	for (int i = 0; i < 10 && (!*tickets || !*tokens); i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint32_t flags = MSG_DONTWAIT;
		int64_t sid = 0;
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);
		if (n > 0 && (flags & MSG_QUIC_NOTIFICATION)) {
			*tickets += buf[0] == QUIC_EVENT_NEW_SESSION_TICKET && n > 5;
			*tokens += buf[0] == QUIC_EVENT_NEW_TOKEN && n > 1;
		}
	}
}

static int event_on(int fd, int type)
{
	struct quic_event_option ev = { .type = type, .on = 1 };

	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, sizeof(ev));
}

/* What the first connection leaves for the second. */
struct saved {
	unsigned char session[4096];
	socklen_t session_len;
	struct quic_transport_param tp;
	unsigned char token[512];
	socklen_t token_len;
};

/* The GnuTLS client session of the IPv6 run (no certificate check: a
 * throwaway certificate). */
static gnutls_session_t tls_client(int fd, gnutls_certificate_credentials_t cred)
{
	gnutls_session_t s;

	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA) < 0)
		return NULL;
	if (gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE", NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    quic_session_set_alpn(s, ALPN, strlen(ALPN))) {
		gnutls_deinit(s);
		return NULL;
	}
	gnutls_transport_set_int(s, fd);
	return s;
}

/* The first connection: a full handshake, a ticket, a token. `own_tls`:
 * the test's GnuTLS session, else quic_client_handshake. 0 or the step. */
static int first_connection(int family, int port, int own_tls, struct saved *sv)
{
	struct sockaddr_storage ss;
	socklen_t alen = addr_of(family, port, &ss), len;
	struct quic_config config;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	int fd = socket(family, SOCK_DGRAM, IPPROTO_QUIC), tickets = 0, tokens = 0;

	len = sizeof(config);
	if (fd < 0 || getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, &len))
		return client_failed(1);
	config.receive_session_ticket = !own_tls;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, sizeof(config)) ||
	    event_on(fd, QUIC_EVENT_NEW_SESSION_TICKET) || event_on(fd, QUIC_EVENT_NEW_TOKEN) ||
	    connect(fd, (struct sockaddr *)&ss, alen))
		return client_failed(2);
	if (own_tls) {
		/* A full handshake first: nothing to resume yet. */
		if (gnutls_certificate_allocate_credentials(&cred) < 0 || !(s = tls_client(fd, cred)) ||
		    quic_handshake(s) || gnutls_session_is_resumed(s))
			return client_failed(3);
	} else if (quic_client_handshake(fd, NULL, NULL, ALPN)) {
		return client_failed(3);
	}
	if (quic_sendmsg(fd, "GET /hello.txt\r\n", 16, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != 16 ||
	    read_hello(fd, &tickets, &tokens))
		return client_failed(4);
	wait_events(fd, &tickets, &tokens);
	printf("     client: first connection, %d ticket and %d token events\n", tickets, tokens);
	fflush(stdout);
	if (tickets < 1 || tokens < 1)
		return client_failed(5);
	if (own_tls) {
		size_t n = sizeof(sv->session);

		if (quic_session_get_data(s, sv->session, &n) || !n)
			return client_failed(6);
		sv->session_len = n;
		gnutls_deinit(s);
		gnutls_certificate_free_credentials(cred);
	} else {
		/* libquic left the session data to resume with. */
		sv->session_len = sizeof(sv->session);
		if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, sv->session, &sv->session_len) ||
		    !sv->session_len)
			return client_failed(6);
	}
	len = sizeof(sv->tp);
	sv->tp.remote = 1;
	sv->token_len = sizeof(sv->token);
	if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &sv->tp, &len) || !sv->tp.remote ||
	    getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, sv->token, &sv->token_len) || !sv->token_len)
		return client_failed(7);
	printf("     client: session %u bytes, token %u bytes\n", sv->session_len, sv->token_len);
	fflush(stdout);
	close(fd);
	return 0;
}

/* The second connection: resumed, its request sent before the handshake
 * (0-RTT), the token in its Initials. 0 or the step. */
static int second_connection(int family, int port, int own_tls, int forgotten, const struct saved *sv)
{
	struct sockaddr_storage ss;
	socklen_t alen = addr_of(family, port, &ss);
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	int fd = socket(family, SOCK_DGRAM, IPPROTO_QUIC), tickets = 0, tokens = 0;

	if (fd < 0 || setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &sv->tp, sizeof(sv->tp)) ||
	    setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, sv->token, sv->token_len))
		return client_failed(11);
	if (!own_tls && setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, sv->session, sv->session_len))
		return client_failed(12);
	if (connect(fd, (struct sockaddr *)&ss, alen))
		return client_failed(13);
	/* RFC 9001 §4.6.1: the request before the handshake, for 0-RTT. */
	if (quic_sendmsg(fd, "GET /hello.txt\r\n", 16, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != 16)
		return client_failed(14);
	if (own_tls) {
		int resumed, early;

		if (gnutls_certificate_allocate_credentials(&cred) < 0 || !(s = tls_client(fd, cred)) ||
		    quic_session_set_data(s, sv->session, sv->session_len) || quic_handshake(s))
			return client_failed(15);
		resumed = gnutls_session_is_resumed(s) != 0;
		early = (gnutls_session_get_flags(s) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
		printf("     client: resumed %d, early data accepted %d\n", resumed, early);
		fflush(stdout);
		/* A server that forgot its ticket key: a full handshake, and the
		 * early request is refused (RFC 9001 §4.6.2), to come again in
		 * 1-RTT. */
		if (resumed == forgotten || early == forgotten)
			return client_failed(16);
	} else if (quic_client_handshake(fd, NULL, NULL, ALPN)) {
		return client_failed(15);
	}
	if (read_hello(fd, &tickets, &tokens))
		return client_failed(17);
	if (s) {
		gnutls_deinit(s);
		gnutls_certificate_free_credentials(cred);
	}
	close(fd);
	return 0;
}

/* `go`: the server says when the second connection may start (once it
 * changed its ticket key, when it forgets). */
static int resume_client(int family, int port, int own_tls, int forgotten, int go)
{
	static struct saved sv;
	int rc = first_connection(family, port, own_tls, &sv);
	char c;

	if (!rc && read(go, &c, 1) != 1)
		rc = client_failed(10);
	return rc ? rc : second_connection(family, port, own_tls, forgotten, &sv);
}

/* `retry`: the listener validates addresses: the first connection goes
 * through a Retry, the second, with its NEW_TOKEN token, does not.
 * `forget`: the listener takes another ticket key between the two: no
 * resumption, the 0-RTT request refused and sent again in 1-RTT. */
static void resumption(int family, int port, int own_tls, int retry, int forget)
{
	long long zero_rtt = quic_stat("ZeroRttPacketsReceived"), validated = quic_stat("TokensValidated");
	long long retries = quic_stat("RetriesSent");
	int lfd = listener(family, port, retry), status = -1, go[2];
	pid_t pid;

	printf("     resumption and 0-RTT, IPv%d, %s%s\n", family == AF_INET ? 4 : 6,
	       own_tls ? "quic_handshake with a GnuTLS session" : "quic_client_handshake",
	       forget ? ", the server forgets its ticket key" : "");
	CHECK(lfd >= 0 && pipe(go) == 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(120);
		_exit(resume_client(family, port, own_tls, forget, go[0]));
	}
	CHECK(server_once(lfd, KEY, CERT) == 1);
	if (forget) {
		unsigned char other[64];

		memset(other, 0x5a, sizeof(other));
		CHECK(setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, other, sizeof(other)) == 0);
	}
	CHECK(write(go[1], "g", 1) == 1);
	CHECK(server_once(lfd, KEY, CERT) == 1);
	close(go[0]);
	close(go[1]);
	waitpid(pid, &status, 0);
	printf("     client exit status %d; 0-RTT packets received %lld, tokens validated %lld\n",
	       WEXITSTATUS(status), quic_stat("ZeroRttPacketsReceived") - zero_rtt,
	       quic_stat("TokensValidated") - validated);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The request came in 0-RTT packets the server processed (or, the
	 * ticket forgotten, in none), and the token proved the address. */
	if (forget)
		CHECK(quic_stat("ZeroRttPacketsReceived") == zero_rtt);
	else
		CHECK(quic_stat("ZeroRttPacketsReceived") > zero_rtt);
	CHECK(quic_stat("TokensValidated") == validated + 1);
	printf("     Retry packets sent %lld\n", quic_stat("RetriesSent") - retries);
	CHECK(quic_stat("RetriesSent") == retries + !!retry);
	close(lfd);
}

/* The client of foreign_token(): its first connection here, then in a
 * namespace of its own, with a validating server it starts there, the
 * second. 0 or the step (20 and up: in the new namespace). */
static int foreign_token_client(int port)
{
	static struct saved sv;
	int rc = first_connection(AF_INET, port, 0, &sv), lfd, status = -1, served;
	pid_t server;

	if (rc)
		return rc;
	if (unshare(CLONE_NEWNET) || lo_up())
		return client_failed(20);
	lfd = listener(AF_INET, port, 1);
	if (lfd < 0)
		return client_failed(21);
	fflush(stdout);
	server = fork();
	if (server == 0)
		_exit(server_once(lfd, KEY, CERT) == 1 ? 0 : 1);
	close(lfd);
	rc = second_connection(AF_INET, port, 0, 0, &sv);
	served = waitpid(server, &status, 0) == server && WIFEXITED(status) && !WEXITSTATUS(status);
	printf("     new namespace: Retry packets sent %lld, tokens validated %lld\n", quic_stat("RetriesSent"),
	       quic_stat("TokensValidated"));
	fflush(stdout);
	if (rc)
		return rc;
	if (!served)
		return client_failed(22);
	return quic_stat("RetriesSent") == 1 && quic_stat("TokensValidated") == 0 ? 0 : client_failed(23);
}

/* A NEW_TOKEN token of this namespace's server, in another namespace. */
static void foreign_token(int port)
{
	int lfd = listener(AF_INET, port, 0), status = -1;
	pid_t pid;

	printf("     a token in another network namespace\n");
	CHECK(lfd >= 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(120);
		_exit(foreign_token_client(port));
	}
	CHECK(server_once(lfd, KEY, CERT) == 1);
	waitpid(pid, &status, 0);
	printf("     client exit status %d\n", WEXITSTATUS(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lfd);
}

/* A client of a PSK server with `file`: 0, or the step that failed. */
static int psk_client(int port, const char *file)
{
	struct sockaddr_storage ss;
	socklen_t alen = addr_of(AF_INET, port, &ss);
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC), tickets = 0, tokens = 0;

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, alen))
		return client_failed(21);
	if (quic_client_handshake(fd, file, NULL, ALPN))
		return client_failed(22);
	if (quic_sendmsg(fd, "GET /hello.txt\r\n", 16, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != 16 ||
	    read_hello(fd, &tickets, &tokens))
		return client_failed(23);
	close(fd);
	return 0;
}

static void psk(int port)
{
	int lfd = listener(AF_INET, port, 0), status = -1;
	FILE *f = fopen(PSK_FILE, "w"), *g = fopen(BAD_PSK_FILE, "w");
	pid_t pid;

	printf("     PSK handshakes\n");
	CHECK(lfd >= 0 && f && g);
	fprintf(f, "client1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	fprintf(g, "client1:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n");
	fclose(f);
	fclose(g);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(psk_client(port, PSK_FILE));
	CHECK(server_once(lfd, PSK_FILE, NULL) == 1);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The wrong key: the binder does not verify (RFC 8446 §4.2.11), both
	 * ends fail. */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(psk_client(port, BAD_PSK_FILE));
	CHECK(server_once(lfd, PSK_FILE, NULL) == -1);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 22);
	/* No key file at all. */
	CHECK(quic_client_handshake(lfd, "/nonexistent", NULL, ALPN) < 0);
	close(lfd);
}

/* The new options' refusals, on sockets needing no peer. */
static void bad_inputs(void)
{
	static char big[40000];
	struct sockaddr_storage ss;
	socklen_t alen = addr_of(AF_INET, 4469, &ss), len;
	struct quic_transport_param tp = { .remote = 1, .active_connection_id_limit = 2, .max_udp_payload_size = 1200 };
	char buf[16];
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC), lfd = listener(AF_INET, 4468, 0);

	printf("     bad inputs\n");
	CHECK(fd >= 0 && lfd >= 0);
	/* Above the bounds (4096 ticket bytes, 512 token bytes). */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, big, 4097), EINVAL);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, big, 513), EINVAL);
	/* A server's NEW_TOKEN needs an established server connection. */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, NULL, 0), ENOTCONN);
	/* A listener has no token to give. */
	len = sizeof(buf);
	FAILS_WITH(getsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, buf, &len), EINVAL);
	/* A buffer shorter than what is stored. */
	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, "0123456789", 10) == 0);
	len = 5;
	FAILS_WITH(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, buf, &len), EINVAL);
	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, "0123456789", 10) == 0);
	len = 5;
	FAILS_WITH(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, buf, &len), EINVAL);
	len = sizeof(buf);
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, buf, &len) == 0 && len == 10);
	/* Remembered parameters: the whole structure, within RFC 9000 §18.2. */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp) - 1), EINVAL);
	tp.max_udp_payload_size = 1000;
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)), EINVAL);
	tp.max_udp_payload_size = 1200;
	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)) == 0);
	/* Stream data before connect(): no connection. */
	errno = 0;
	CHECK(quic_sendmsg(fd, "x", 1, -1, MSG_QUIC_STREAM_NEW) == -1 && errno == ENOTCONN);
	/* connect() to a port without a server: the handshake waits, the
	 * connection options are fixed. */
	CHECK(connect(fd, (struct sockaddr *)&ss, alen) == 0);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, "abc", 3), EINVAL);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)), EINVAL);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, NULL, 0), ENOTCONN);
	/* Early stream data: the first stream of ours is 0 (RFC 9000 §2.1);
	 * no other can be named before it is opened; one write at most 32 KB. */
	errno = 0;
	CHECK(quic_sendmsg(fd, "x", 1, 4, MSG_QUIC_STREAM_NEW) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(quic_sendmsg(fd, "x", 1, 8, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(quic_sendmsg(fd, "x", 1, -1, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(quic_sendmsg(fd, big, sizeof(big), -1, MSG_QUIC_STREAM_NEW) == -1 && errno == EMSGSIZE);
	CHECK(quic_sendmsg(fd, "GET /", 5, 0, MSG_QUIC_STREAM_NEW) == 5);
	CHECK(quic_sendmsg(fd, "x\r\n", 3, -1, MSG_QUIC_STREAM_FIN) == 3);
	CHECK(quic_sendmsg(fd, "y", 1, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_UNI) == 1);
	/* The queue's bound (64 KB): EAGAIN, not unbounded kernel memory. */
	{
		int i, sent = 0;

		errno = 0;
		for (i = 0; i < 3; i++)
			sent += quic_sendmsg(fd, big, 30000, 2, 0) == 30000;
		CHECK(sent == 2 && errno == EAGAIN);
	}
	close(fd);
	close(lfd);
}

int main(void)
{
	/* Lines as they happen (the clients are forked); a hang fails the test
	 * instead of the whole guest run. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(240);
	resumption(AF_INET, 4460, 0, 1, 0);
	resumption(AF_INET6, 4461, 1, 0, 0);
	resumption(AF_INET6, 4463, 1, 0, 1);
	foreign_token(4465);
	psk(4462);
	bad_inputs();
	return check_summary();
}
