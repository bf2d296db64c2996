/* Echoes over quic.ko streams, for the guest tests of connection migration
 * (dynamic/libquic_migration.c, dynamic/libquic_preferred.c): each echo is
 * a request on a new bidirectional stream ending with FIN, answered with
 * the same bytes and FIN. Events (MSG_QUIC_NOTIFICATION) met on the way go
 * to the test's callback. Needs libquic's netinet/quic.h. */
#ifndef QUICBED_GUEST_ECHO_STREAMS_H
#define QUICBED_GUEST_ECHO_STREAMS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/quic.h>

typedef void (*echo_event_fn)(int fd, const char *buf, ssize_t n);

/* getsockname (peer 0) or getpeername (1) as text, into `text`
 * (INET6_ADDRSTRLEN bytes); "?" when unknown. */
static const char *echo_addr_text(int fd, int peer, char *text)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);
	const void *ip;

	if (peer ? getpeername(fd, (struct sockaddr *)&a, &len) : getsockname(fd, (struct sockaddr *)&a, &len))
		return "?";
	ip = a.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&a)->sin_addr
				    : (const void *)&((struct sockaddr_in6 *)&a)->sin6_addr;
	return inet_ntop(a.ss_family, ip, text, INET6_ADDRSTRLEN) ? text : "?";
}

/* `req` on a new stream with FIN, and the answer read to its FIN into got
 * (cap bytes): its length, or -1. */
static ssize_t echo_request(int fd, const char *req, size_t len, char *got, size_t cap, echo_event_fn on_event)
{
	size_t have = 0;
	uint32_t flags = 0;

	if (quic_sendmsg(fd, req, len, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != (ssize_t)len)
		return -1;
	while (!(flags & MSG_QUIC_STREAM_FIN)) {
		int64_t sid = 0;
		ssize_t n;

		flags = 0;
		n = quic_recvmsg(fd, got + have, cap - have, &sid, &flags);
		if (n < 0 || (n == 0 && !(flags & MSG_QUIC_STREAM_FIN)))
			return -1;
		if (flags & MSG_QUIC_NOTIFICATION) {
			on_event(fd, got + have, n);
			flags = 0;
			continue;
		}
		have += n;
	}
	return have;
}

/* One echo round trip ("echo <round> from the client"): 0 or -1. */
static int echo_once(int fd, int round, echo_event_fn on_event)
{
	char req[64], got[64];
	size_t len = snprintf(req, sizeof(req), "echo %d from the client", round);

	return echo_request(fd, req, len, got, sizeof(got), on_event) == (ssize_t)len && !memcmp(got, req, len) ? 0
														   : -1;
}

/* The server's side: echoes every stream until the peer closes; the
 * number of echoes. */
static int echo_serve(int fd, echo_event_fn on_event)
{
	static char buf[4096];
	char req[256];
	size_t have = 0;
	int echoes = 0;

	for (;;) {
		int64_t sid = 0;
		uint32_t flags = 0;
		ssize_t n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);

		if (n <= 0)
			return echoes;
		if (flags & MSG_QUIC_NOTIFICATION) {
			on_event(fd, buf, n);
			continue;
		}
		if (have + n <= sizeof(req)) {
			memcpy(req + have, buf, n);
			have += n;
		}
		if (!(flags & MSG_QUIC_STREAM_FIN))
			continue;
		if (quic_sendmsg(fd, req, have, sid, MSG_QUIC_STREAM_FIN) != (ssize_t)have)
			return echoes;
		have = 0;
		echoes++;
	}
}

/* A client's checks, in a child process whose exit status is the number of
 * the step that failed. */
#define STEP(n, cond)                                                                       \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printf("     client: step %d failed: %s (errno %d)\n", n, #cond, errno); \
			fflush(stdout);                                                     \
			return n;                                                           \
		}                                                                           \
	} while (0)

#endif
