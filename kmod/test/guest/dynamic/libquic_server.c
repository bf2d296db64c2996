// Server sockets of quic.ko: listen(), accept() and libquic's
// quic_server_handshake (X.509 certificate), serving files to three
// clients:
//   - a quic.ko client (quic_client_handshake) in a child process, over
//     IPv4 and IPv6, with hq-interop ("GET /path" on a bidirectional
//     stream, the file and FIN back), a key update between two files,
//     streams reset and stopped (QUIC_SOCKOPT_STREAM_RESET / _STOP_SENDING)
//     with the server's events (STREAM_UPDATE, CONNECTION_CLOSE), DATAGRAM
//     frames both ways,
//     and with two listeners on one port, each connection dispatched by its
//     ClientHello's ALPN, one allowing a single stream (STREAM_OPEN, then
//     EAGAIN); and a bulk transfer (QUICBED_BULK_MB, 100 MB from run.sh)
//     checked byte for byte; then /proc/net/quic and the net.quic sysctls;
//   - our userspace endpoint (`quicbed client`), hq-interop, two files;
//     and a file from a listener with a preferred address (127.0.0.3,
//     RFC 9000 §9.6), which the client follows: the server's socket ends
//     there (getsockname);
//   - Debian's ngtcp2 client (gtlsclient) over HTTP/3: a minimal response
//     (HEADERS :status 200, DATA) on its request stream.
// The files arrive byte for byte; the clients' close() reaches the server as
// CONNECTION_CLOSE (recvmsg then returns 0, and the peer's error code is
// readable with QUIC_SOCKOPT_CONNECTION_CLOSE). Dynamic (GnuTLS); run.sh
// puts quicbed, gtlsclient, their libraries, /www and /certs in the guest.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../proc_quic.h"
#include "../www_file.h"

extern char **environ;

#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"

static int same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = www_file(a, &la), *y;
	int fd = open(b, O_RDONLY);
	struct stat st;

	if (!x || fd < 0 || fstat(fd, &st))
		return 0;
	lb = st.st_size;
	y = malloc(lb + 1);
	if (!y || read(fd, y, lb) != (ssize_t)lb)
		return 0;
	close(fd);
	return la == lb && !memcmp(x, y, la);
}

/* Our transport parameters on `fd`: `max_bidi` streams (0: the default),
 * DATAGRAM frames up to `max_dgram` bytes (RFC 9221 §3). 0 or -1. */
static int set_limits(int fd, int max_bidi, int max_dgram)
{
	struct quic_transport_param tp = {};
	socklen_t tplen = sizeof(tp);

	if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &tplen))
		return -1;
	if (max_bidi)
		tp.max_streams_bidi = max_bidi;
	tp.max_datagram_frame_size = max_dgram;
	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp));
}

/* A listening socket of `family` on loopback:port offering `alpn`,
 * sharing the port with others when `share`, with set_limits(). */
static int listener_on(int family, int port, const char *alpn, int share, int max_bidi, int max_dgram)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(family, SOCK_STREAM, IPPROTO_QUIC);

	v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || (share && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &share, sizeof(share))))
		return -1;
	if ((max_bidi || max_dgram) && set_limits(fd, max_bidi, max_dgram))
		return -1;
	if ((family == AF_INET ? bind(fd, (struct sockaddr *)&v4, sizeof(v4))
			       : bind(fd, (struct sockaddr *)&v6, sizeof(v6))) ||
	    setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, alpn, strlen(alpn)) || listen(fd, 4)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int listener(int family, int port, const char *alpn)
{
	return listener_on(family, port, alpn, 0, 0, 1200);
}

/* accept() and the server handshake; the connection's socket or -1. */
static int accept_handshake(int lfd, const char *alpn)
{
	/* A client that ends without CONNECTION_CLOSE leaves the server's
	 * recvmsg to this, not to the idle timeout. */
	struct timeval limit = { .tv_sec = 20 };
	int fd = accept(lfd, NULL, NULL), rc;

	if (fd < 0) {
		printf("     accept: errno %d\n", errno);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	rc = quic_server_handshake(fd, KEY, CERT, alpn);
	printf("     quic_server_handshake: %d\n", rc);
	if (rc) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Events serve() read (MSG_QUIC_NOTIFICATION): streams the peer reset
 * with error code 9 after 7 bytes, and the error code of the peer's
 * CONNECTION_CLOSE (-1: none). */
static int resets_seen, datagrams_seen;
static long close_event = -1;

static void on_event(const char *buf, ssize_t n)
{
	if (buf[0] == QUIC_EVENT_STREAM_UPDATE && n >= 1 + (ssize_t)sizeof(struct quic_stream_update)) {
		struct quic_stream_update u;

		memcpy(&u, buf + 1, sizeof(u));
		printf("     event: stream %lld state %u errcode %u final size %llu\n", (long long)u.id, u.state,
		       u.errcode, (unsigned long long)u.finalsz);
		resets_seen += u.state == QUIC_STREAM_RECV_STATE_RESET_RECVD && u.errcode == 9 && u.finalsz == 7;
	} else if (buf[0] == QUIC_EVENT_CONNECTION_CLOSE && n >= 1 + (ssize_t)offsetof(struct quic_connection_close, phrase)) {
		struct quic_connection_close c;

		memcpy(&c, buf + 1, offsetof(struct quic_connection_close, phrase));
		printf("     event: connection close errcode %u phrase '%.*s'\n", c.errcode,
		       (int)(n - 1 - offsetof(struct quic_connection_close, phrase)),
		       buf + 1 + offsetof(struct quic_connection_close, phrase));
		close_event = c.errcode;
	} else {
		printf("     event: type %d, %zd bytes\n", buf[0], n);
	}
}

/* Turns delivery of event `type` on. */
static int event_on(int fd, int type)
{
	struct quic_event_option ev = { .type = type, .on = 1 };

	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, sizeof(ev));
}

/* The bytes of "GET /bulk": a pseudo-random stream (xorshift64, 8 bytes
 * per step) both ends compute, so that no file holds them. */
struct bulk_gen {
	uint64_t x;
	unsigned char pending[8];
	int left;
};

static void bulk_fill(struct bulk_gen *g, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!g->left) {
			g->x ^= g->x << 13;
			g->x ^= g->x >> 7;
			g->x ^= g->x << 17;
			memcpy(g->pending, &g->x, 8);
			g->left = 8;
		}
		out[i] = g->pending[8 - g->left--];
	}
}

/* The size of the bulk transfer: QUICBED_BULK_MB from the kernel command
 * line (run.sh; 8 MB when run without it). */
static size_t bulk_bytes(void)
{
	const char *mb = getenv("QUICBED_BULK_MB");

	return (size_t)(mb ? atoi(mb) : 8) << 20;
}

/* Sends the bulk stream on `sid`, in 64 KB writes, FIN with the last. */
static int serve_bulk(int fd, int64_t sid)
{
	static unsigned char chunk[65536];
	struct bulk_gen g = { .x = 0x9e3779b97f4a7c15ull };
	size_t total = bulk_bytes(), sent = 0;

	while (sent < total) {
		size_t n = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);

		bulk_fill(&g, chunk, n);
		if (quic_sendmsg(fd, chunk, n, sid, sent + n == total ? MSG_QUIC_STREAM_FIN : 0) != (ssize_t)n)
			return -1;
		sent += n;
	}
	return 0;
}

/* Per stream, the request bytes until its FIN. */
struct request {
	int64_t sid;
	char buf[512];
	size_t len;
};

/* Answers requests until the client closes the connection (recvmsg 0):
 * hq-interop serves the file the request names, h3 (`h3` set) the file
 * `h3_path` in a minimal HTTP/3 response. The number of answers. */
static int serve(int fd, int h3, const char *h3_path)
{
	static char buf[65536];
	struct request req[8] = {};
	int answered = 0;

	for (;;) {
		int64_t sid = 0;
		uint32_t flags = 0;
		ssize_t n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);
		struct request *r = NULL;
		char *body, path[256];
		size_t len;

		if (n <= 0) {
			printf("     serve: recvmsg %zd (errno %d) after %d answers\n", n, n ? errno : 0, answered);
			return answered;
		}
		if (flags & MSG_QUIC_NOTIFICATION) {
			on_event(buf, n);
			continue;
		}
		if (flags & MSG_QUIC_DATAGRAM) {
			/* RFC 9221: echoed as "pong". */
			datagrams_seen += n == 4 && !memcmp(buf, "ping", 4);
			if (quic_sendmsg(fd, "pong", 4, 0, MSG_QUIC_DATAGRAM) != 4)
				printf("     serve: datagram send errno %d\n", errno);
			continue;
		}
		if (sid & QUIC_STREAM_TYPE_UNI_MASK)
			continue;	/* HTTP/3 control and QPACK streams */
		for (int i = 0; i < 8 && !r; i++)
			if (req[i].sid == sid + 1)
				r = &req[i];
		for (int i = 0; i < 8 && !r; i++)
			if (!req[i].sid)
				r = &req[i];
		if (!r)
			return answered;
		r->sid = sid + 1;
		if (r->len + n < sizeof(r->buf)) {
			memcpy(r->buf + r->len, buf, n);
			r->len += n;
		}
		if (!(flags & MSG_QUIC_STREAM_FIN))
			continue;
		r->buf[r->len] = 0;
		if (h3)
			snprintf(path, sizeof(path), "%s", h3_path);
		else if (sscanf(r->buf, "GET %255s", path) != 1)
			return answered;
		if (!h3 && !strcmp(path, "/bulk")) {
			if (serve_bulk(fd, sid))
				return answered;
			answered++;
			memset(r, 0, sizeof(*r));
			continue;
		}
		body = www_file(path, &len);
		if (!body)
			return answered;
		if (h3) {
			/* RFC 9114 §7.2: HEADERS with the QPACK field section
			 * {0, 0, static index 25 ":status: 200"} (RFC 9204
			 * §4.5.2, Appendix A), then DATA with the body. */
			static const char headers[] = { 0x01, 0x03, 0x00, 0x00, (char)0xd9 };
			/* DATA: type 0, the length a 4-byte varint. */
			const char data_head[] = { 0x00, (char)(0x80 | ((len >> 24) & 0x3f)), (char)(len >> 16),
						   (char)(len >> 8), (char)len };

			if (quic_sendmsg(fd, headers, sizeof(headers), sid, 0) != sizeof(headers) ||
			    quic_sendmsg(fd, data_head, sizeof(data_head), sid, 0) != sizeof(data_head))
				return answered;
		}
		if (quic_sendmsg(fd, body, len, sid, MSG_QUIC_STREAM_FIN) != (ssize_t)len) {
			printf("     serve: sendmsg errno %d\n", errno);
			return answered;
		}
		free(body);
		answered++;
		memset(r, 0, sizeof(*r));
	}
}

/* The peer's CONNECTION_CLOSE as the socket reports it: its error code,
 * negated unless the phrase is "bye" (-1 if unreadable). */
static long print_close(int fd)
{
	const size_t head = offsetof(struct quic_connection_close, phrase);
	char buf[head + 256];
	struct quic_connection_close *c = (struct quic_connection_close *)buf;
	socklen_t len = sizeof(buf);

	if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, buf, &len) || len < head)
		return -1;
	printf("     close info: errcode %u frame %u phrase '%.*s'\n", c->errcode, c->frame, (int)(len - head),
	       buf + head);
	return len - head == 3 && !memcmp(buf + head, "bye", 3) ? (long)c->errcode : -(long)c->errcode;
}

/* A failed step of kernel_client(): its exit status. */
static int client_failed(int step)
{
	printf("     client: step %d failed, errno %d\n", step, errno);
	fflush(stdout);
	return step;
}

/* What kernel_client() also does: */
#define OPT_KEY_UPDATE 1	/* a key update between the two fetches */
#define OPT_RESET 2		/* streams reset and stopped after the fetches */
#define OPT_STREAM_LIMIT 4	/* the server allows one stream: STREAM_OPEN, then EAGAIN */
#define OPT_DATAGRAM 8		/* a DATAGRAM "ping", the server's "pong" back */

/* RFC 9221 through the socket: a datagram too large for the peer, then
 * "ping", answered by "pong". 0 or the failed step. */
static int datagram_ping(int fd)
{
	static char big[2000];
	char buf[64];
	uint32_t flags = 0;
	int64_t sid = 0;
	ssize_t n;

	errno = 0;
	if (quic_sendmsg(fd, big, sizeof(big), 0, MSG_QUIC_DATAGRAM) != -1 || errno != EMSGSIZE)
		return client_failed(30);
	if (quic_sendmsg(fd, "ping", 4, 0, MSG_QUIC_DATAGRAM) != 4)
		return client_failed(31);
	do {
		flags = 0;
		n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);
	} while (n > 0 && !(flags & MSG_QUIC_DATAGRAM));
	if (n != 4 || memcmp(buf, "pong", 4))
		return client_failed(32);
	printf("     client: datagram answered\n");
	fflush(stdout);
	return 0;
}

/* One stream of ours opened with QUIC_SOCKOPT_STREAM_OPEN: its ID, or -1. */
static int64_t stream_open(int fd)
{
	struct quic_stream_info si = { .stream_id = -1 };
	socklen_t len = sizeof(si);

	return getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_OPEN, &si, &len) ? -1 : si.stream_id;
}

/* RFC 9000 §3.5 through the socket options: a stream reset after some
 * data, STOP_SENDING on another, and the refusals. 0 or the failed step. */
static int reset_streams(int fd)
{
	int64_t a = stream_open(fd), b = stream_open(fd);
	struct quic_errinfo e = { .stream_id = a, .errcode = 9 };

	if (a < 0 || b < 0 || quic_sendmsg(fd, "partial", 7, a, 0) != 7)
		return client_failed(20);
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_RESET, &e, sizeof(e)))
		return client_failed(21);
	e.stream_id = b;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_STOP_SENDING, &e, sizeof(e)))
		return client_failed(22);
	e.stream_id = 1000;	/* never opened */
	errno = 0;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_RESET, &e, sizeof(e)) != -1 || errno != EINVAL)
		return client_failed(23);
	errno = 0;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_RESET, &e, sizeof(e) - 1) != -1 || errno != EINVAL)
		return client_failed(24);
	printf("     client: streams %lld reset, %lld stopped\n", (long long)a, (long long)b);
	fflush(stdout);
	return 0;
}

/* The quic.ko client of kernel_pair(): offering `alpn`, fetches
 * /hello.txt and /1mb.bin (the first `files` of them), with the OPT_
 * extras in `opts`, then closes with application error 7, "bye". */
static int kernel_client(int family, int port, const char *alpn, int files, int opts)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	const char *paths[] = { "/hello.txt", "/1mb.bin" };
	static char got[2 << 20];
	int fd = socket(family, SOCK_DGRAM, IPPROTO_QUIC);

	v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || ((opts & OPT_DATAGRAM) && set_limits(fd, 0, 1200)) ||
	    (family == AF_INET ? connect(fd, (struct sockaddr *)&v4, sizeof(v4))
			       : connect(fd, (struct sockaddr *)&v6, sizeof(v6))))
		return client_failed(10);
	if (quic_client_handshake(fd, NULL, NULL, alpn))
		return client_failed(11);
	if (opts & OPT_STREAM_LIMIT) {
		/* RFC 9000 §4.6: the second stream waits for MAX_STREAMS. */
		if (stream_open(fd) != 0)
			return client_failed(16);
		errno = 0;
		if (stream_open(fd) != -1 || errno != EAGAIN)
			return client_failed(17);
		printf("     client: stream 0 opened, the next one EAGAIN\n");
		fflush(stdout);
	}
	for (int i = 0; i < files; i++) {
		char req[64], *want;
		size_t want_len, got_len = 0;
		uint32_t flags = 0;
		int64_t sid;
		int tries = 0;

		if (i == 1 && (opts & OPT_KEY_UPDATE)) {
			/* RFC 9001 §6.1: once our current phase is acknowledged. */
			while (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_KEY_UPDATE, NULL, 0) && errno == EINVAL && ++tries < 50)
				usleep(100000);
			if (tries == 50)
				return client_failed(18);
			printf("     client: key update after %d tries\n", tries + 1);
			fflush(stdout);
		}
		want = www_file(paths[i], &want_len);
		snprintf(req, sizeof(req), "GET %s\r\n", paths[i]);
		if (!want || quic_sendmsg(fd, req, strlen(req), (opts & OPT_STREAM_LIMIT) ? 0 : -1,
					  ((opts & OPT_STREAM_LIMIT) ? 0 : MSG_QUIC_STREAM_NEW) | MSG_QUIC_STREAM_FIN) < 0)
			return client_failed(12);
		while (!(flags & MSG_QUIC_STREAM_FIN)) {
			ssize_t n;

			flags = 0;
			n = quic_recvmsg(fd, got + got_len, sizeof(got) - got_len, &sid, &flags);

			if (n < 0)
				return client_failed(13);
			got_len += n;
		}
		if (got_len != want_len || memcmp(got, want, want_len))
			return client_failed(14);
		free(want);
	}
	if ((opts & OPT_RESET) && reset_streams(fd))
		return 20;
	if ((opts & OPT_DATAGRAM) && datagram_ping(fd))
		return 30;
	/* An application error code the server reads back. */
	{
		const size_t head = offsetof(struct quic_connection_close, phrase);
		char bye[head + 3];

		memset(bye, 0, head);
		((struct quic_connection_close *)bye)->errcode = 7;
		memcpy(bye + head, "bye", 3);
		if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, bye, sizeof(bye)))
			return client_failed(15);
	}
	close(fd);
	return 0;
}

/* A quic.ko server on listener `lfd` and a quic.ko client (a child
 * process) offering `alpn`, fetching `files` files. */
static void kernel_pair_on(int lfd, int family, int port, const char *alpn, int files, int opts)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int fd, status = -1;
	pid_t pid;

	fflush(stdout);	/* else the child prints the parent's buffer again */
	pid = fork();
	if (pid == 0)
		_exit(kernel_client(family, port, alpn, files, opts));
	fd = accept_handshake(lfd, alpn);
	CHECK(fd >= 0);
	CHECK(getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 && peer.ss_family == family);
	if (opts & OPT_RESET) {
		CHECK(event_on(fd, QUIC_EVENT_STREAM_UPDATE) == 0 && event_on(fd, QUIC_EVENT_CONNECTION_CLOSE) == 0);
	}
	resets_seen = 0;
	datagrams_seen = 0;
	close_event = -1;
	CHECK(serve(fd, 0, NULL) == files);
	CHECK(print_close(fd) == 7);
	if (opts & OPT_RESET)
		CHECK(resets_seen == 1 && close_event == 7);
	if (opts & OPT_DATAGRAM)
		CHECK(datagrams_seen == 1);
	waitpid(pid, &status, 0);
	printf("     client exit status %d\n", WEXITSTATUS(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

static void kernel_pair(int family, int port, int opts)
{
	int lfd = listener(family, port, "hq-interop");

	printf("     quic.ko client -> quic.ko server, IPv%d\n", family == AF_INET ? 4 : 6);
	CHECK(lfd >= 0);
	kernel_pair_on(lfd, family, port, "hq-interop", 2, opts);
	close(lfd);
}

/* Two listeners on one port, each with its own ALPN: a client's
 * connection reaches the one whose protocol its ClientHello offers, and
 * the other has nothing to accept. */
static void alpn_dispatch(int port)
{
	int la = listener_on(AF_INET, port, "alpn-a", 1, 1, 0), lb = listener_on(AF_INET, port, "alpn-b", 1, 0, 0);

	printf("     ALPN dispatch: listeners alpn-a and alpn-b on one port\n");
	CHECK(la >= 0 && lb >= 0);
	CHECK(fcntl(la, F_SETFL, O_NONBLOCK) == 0 && fcntl(lb, F_SETFL, O_NONBLOCK) == 0);
	FAILS_WITH(accept(la, NULL, NULL), EAGAIN);
	CHECK(fcntl(lb, F_SETFL, 0) == 0);
	kernel_pair_on(lb, AF_INET, port, "alpn-b", 1, 0);
	FAILS_WITH(accept(la, NULL, NULL), EAGAIN);
	CHECK(fcntl(la, F_SETFL, 0) == 0 && fcntl(lb, F_SETFL, O_NONBLOCK) == 0);
	kernel_pair_on(la, AF_INET, port, "alpn-a", 1, OPT_STREAM_LIMIT);
	FAILS_WITH(accept(lb, NULL, NULL), EAGAIN);
	close(la);
	close(lb);
}

/* The bulk client: "GET /bulk" on a new stream, every byte checked against
 * the generator. 0 or the failed step. */
static int bulk_client(int port)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	static unsigned char got[65536], want[65536];
	struct bulk_gen g = { .x = 0x9e3779b97f4a7c15ull };
	size_t total = bulk_bytes(), done = 0;
	uint32_t flags = 0;
	struct timespec t0, t1;
	int64_t sid;
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);

	v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&v4, sizeof(v4)) ||
	    quic_client_handshake(fd, NULL, NULL, "hq-interop"))
		return client_failed(40);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (quic_sendmsg(fd, "GET /bulk\r\n", 11, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != 11)
		return client_failed(41);
	while (!(flags & MSG_QUIC_STREAM_FIN)) {
		ssize_t n;

		flags = 0;
		n = quic_recvmsg(fd, got, sizeof(got), &sid, &flags);
		if (n < 0 || done + n > total)
			return client_failed(42);
		bulk_fill(&g, want, n);
		if (memcmp(got, want, n))
			return client_failed(43);
		done += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (done != total)
		return client_failed(44);
	printf("     client: %zu MB checked byte for byte in %.1f s (under emulation)\n", total >> 20,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	close(fd);
	return 0;
}

/* A bulk transfer between a quic.ko server and a quic.ko client. */
static void bulk_pair(int port)
{
	int lfd = listener(AF_INET, port, "hq-interop"), fd, status = -1;
	pid_t pid;

	printf("     bulk transfer, quic.ko to quic.ko\n");
	CHECK(lfd >= 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(bulk_client(port));
	fd = accept_handshake(lfd, "hq-interop");
	CHECK(fd >= 0);
	CHECK(serve(fd, 0, NULL) == 1);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	close(lfd);
}

/* `argv` run as a client of a quic.ko server on `port` with `alpn`; h3
 * selects the HTTP/3 answer of `h3_path`. The client's exit status. */
static int with_client(char *const argv[], int port, const char *alpn, int h3, const char *h3_path, int answers,
		       const char *pref)
{
	int lfd = listener(AF_INET, port, alpn), fd, status = -1;
	struct sockaddr_in pa = { .sin_family = AF_INET, .sin_port = htons(port) }, local;
	socklen_t len = sizeof(local);
	pid_t pid;

	CHECK(lfd >= 0);
	/* The listener's preferred address (RFC 9000 §9.6) for its
	 * connections: a client that follows it moves there. */
	if (pref) {
		inet_pton(AF_INET, pref, &pa.sin_addr);
		CHECK(setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &pa, sizeof(pa)) == 0);
	}
	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ)) {
		printf("FAIL cannot start %s\n", argv[0]);
		failures++;
		return -1;
	}
	fd = accept_handshake(lfd, alpn);
	CHECK(fd >= 0);
	/* RFC 9114 §6.2.1: the server's control stream, SETTINGS first. */
	if (fd >= 0 && h3)
		CHECK(quic_sendmsg(fd, "\x00\x04\x00", 3, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_UNI) == 3);
	if (fd >= 0) {
		CHECK(serve(fd, h3, h3_path) == answers);
		print_close(fd);
		if (pref)
			CHECK(getsockname(fd, (struct sockaddr *)&local, &len) == 0 &&
			      local.sin_addr.s_addr == pa.sin_addr.s_addr && local.sin_port == pa.sin_port);
	}
	waitpid(pid, &status, 0);
	printf("     %s exit status %d\n", argv[0], WEXITSTATUS(status));
	close(fd);
	close(lfd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A counter of /proc/net/quic (-1 if absent). */
/* Writes `value` to a sysctl file: 0, or the errno of the write. */
static int sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, value, strlen(value)) < 0)
		err = errno;
	close(fd);
	return err;
}

static long sysctl_read(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? atol(buf) : -1;
}

/* /proc/net/quic counted what ran above; net.quic sysctls keep their
 * range. */
static void stats_and_sysctls(void)
{
	const char *backlog = "/proc/sys/net/quic/initial_backlog";

	printf("     /proc/net/quic: ConnectionsAccepted %lld HandshakesCompleted %lld ConnectionsClosed %lld "
	       "DatagramsSent %lld Sockets %lld\n", quic_stat("ConnectionsAccepted"), quic_stat("HandshakesCompleted"),
	       quic_stat("ConnectionsClosed"), quic_stat("DatagramsSent"), quic_stat("Sockets"));
	/* Seven connections accepted here, five of them from quic.ko clients
	 * (a handshake on both ends). */
	CHECK(quic_stat("ConnectionsAccepted") >= 7);
	CHECK(quic_stat("HandshakesCompleted") >= 7 + 5);
	CHECK(quic_stat("DatagramsSent") > 0 && quic_stat("DatagramsReceived") > 0);
	CHECK(sysctl_read(backlog) == 64);
	CHECK(sysctl_write(backlog, "5000") == EINVAL);
	CHECK(sysctl_write(backlog, "32") == 0 && sysctl_read(backlog) == 32);
	CHECK(sysctl_write(backlog, "64") == 0);
	CHECK(sysctl_read("/proc/sys/net/quic/max_events") == 64);
}

int main(void)
{
	char *quicbed[] = { "quicbed", "client", "--insecure", "--alpn", "hq-interop", "--download-dir", "/tmp/dl",
			    "https://127.0.0.1:4452/hello.txt", "https://127.0.0.1:4452/1mb.bin", NULL };
	char *quicbed_pref[] = { "quicbed", "client", "--insecure", "--alpn", "hq-interop", "--download-dir",
				 "/tmp/dl2", "https://127.0.0.1:4456/1mb.bin", NULL };
	char *ngtcp2[] = { "gtlsclient", "--quiet", "--exit-on-all-streams-close", "--download", "/tmp/h3",
			   "127.0.0.1", "4453", "https://127.0.0.1:4453/hello.txt", NULL };

	kernel_pair(AF_INET, 4450, OPT_KEY_UPDATE | OPT_DATAGRAM);
	kernel_pair(AF_INET6, 4451, OPT_RESET);
	alpn_dispatch(4454);
	bulk_pair(4455);

	printf("     quicbed client -> quic.ko server\n");
	CHECK(with_client(quicbed, 4452, "hq-interop", 0, NULL, 2, NULL) == 0);
	CHECK(same_file("/hello.txt", "/tmp/dl/hello.txt") && same_file("/1mb.bin", "/tmp/dl/1mb.bin"));
	/* The server's preferred address (set on the listener), followed by
	 * our userspace client (RFC 9000 §9.6.1) while it downloads. */
	printf("     quicbed client -> quic.ko server with a preferred address\n");
	CHECK(with_client(quicbed_pref, 4456, "hq-interop", 0, NULL, 1, "127.0.0.3") == 0);
	CHECK(same_file("/1mb.bin", "/tmp/dl2/1mb.bin"));

	printf("     ngtcp2 gtlsclient (HTTP/3) -> quic.ko server\n");
	mkdir("/tmp/h3", 0755);
	CHECK(with_client(ngtcp2, 4453, "h3", 1, "/hello.txt", 1, NULL) == 0);
	CHECK(same_file("/hello.txt", "/tmp/h3/hello.txt"));
	stats_and_sysctls();
	return check_summary();
}
