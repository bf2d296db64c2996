// The stream and key events of quic.ko (draft-lxin-quic-socket-apis,
// "QUIC Notification Structure"), sendfile(2) into a stream and splice(2)
// out of one, on one connection between a quic.ko server (this process)
// and a quic.ko client (a child), both through libquic's handshake:
//   - the client sendfile()s /1mb.bin into the stream it opened with
//     QUIC_SOCKOPT_STREAM_OPEN, then ends it with send(MSG_QUIC_STREAM_FIN)
//     (no cmsg: the stream opened last); the server's stream window is 4 KB,
//     so the client sees QUIC_EVENT_STREAM_MAX_DATA, then
//     STREAM_UPDATE SEND_STATE_RECVD once all is acknowledged; the server
//     sees RECV_STATE_RECV (its first data, the end to come) once, then
//     RECV_STATE_RECVD with the final size, and checks the bytes; the
//     client's answer "ok" comes with its FIN at once: RECVD alone;
//   - the server allows one bidirectional stream at a time: once stream 0
//     is over both ways the client sees QUIC_EVENT_STREAM_MAX_STREAM
//     naming stream 4;
//   - the client's key update: QUIC_EVENT_KEY_UPDATE (phase 1) on both ends;
//   - the server's STOP_SENDING on the client's unidirectional stream
//     (RECV_STATE_RECV on the server: "ping" without its end):
//     SEND_STATE_RESET_SENT, then SEND_STATE_RESET_RECVD, with its code;
//   - with events off, the server's 256 KB answer on stream 4 is spliced
//     from the client's socket into a pipe and checked byte for byte.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../www_file.h"

#define PORT 4460
#define ALPN "qb-events"
#define FILE_PATH "/www/1mb.bin"
#define ANSWER_LEN (256 * 1024)
#define STOP_CODE 5

/* The server tells the client it turned its events on (before the
 * client's first stream data, whose arrival is an event). */
static int events_on[2];

/* The byte at `off` of the server's answer on stream 4. */
static unsigned char answer_byte(size_t off)
{
	return (unsigned char)(off * 7 + (off >> 9));
}

/* Every event a side saw, by kind. */
struct seen {
	int max_data;		/* MAX_STREAM_DATA events for stream 0 above the first window */
	int send_recvd;		/* stream 0: all our data acknowledged */
	int recv_recvd;		/* stream 0: all the peer's data received, final size as expected */
	int recv_recv;		/* stream 0: its first data pending, before RECV_STATE_RECVD */
	int recv_recv_late;	/* stream 0: RECV_STATE_RECV after RECV_STATE_RECVD */
	int recv_recv_uni;	/* stream 2: its first data pending */
	int64_t max_stream;	/* the last MAX_STREAM event's value, -1: none */
	int key_phase;		/* the last KEY_UPDATE event's phase, -1: none */
	int reset_sent;		/* stream 2: reset on STOP_SENDING, with its code */
	int reset_recvd;	/* stream 2: our reset acknowledged, with its code */
	uint64_t final_size;	/* the size RECV_STATE_RECVD must name */
	const char *who;
};

static void on_event(struct seen *s, const unsigned char *buf, ssize_t n)
{
	union quic_event ev;

	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, buf + 1, (size_t)n - 1 < sizeof(ev) ? (size_t)n - 1 : sizeof(ev));
	switch (buf[0]) {
	case QUIC_EVENT_STREAM_UPDATE:
		printf("     %s: stream %lld state %u errcode %u final size %llu\n", s->who, (long long)ev.update.id,
		       ev.update.state, ev.update.errcode, (unsigned long long)ev.update.finalsz);
		if (n != 1 + (ssize_t)sizeof(ev.update))
			break;
		s->send_recvd += ev.update.id == 0 && ev.update.state == QUIC_STREAM_SEND_STATE_RECVD;
		s->recv_recvd += ev.update.id == 0 && ev.update.state == QUIC_STREAM_RECV_STATE_RECVD &&
				 ev.update.finalsz == s->final_size;
		if (ev.update.state == QUIC_STREAM_RECV_STATE_RECV && ev.update.finalsz == 0) {
			s->recv_recv += ev.update.id == 0 && !s->recv_recvd;
			s->recv_recv_late += ev.update.id == 0 && s->recv_recvd;
			s->recv_recv_uni += ev.update.id == 2;
		}
		s->reset_sent += ev.update.id == 2 && ev.update.state == QUIC_STREAM_SEND_STATE_RESET_SENT &&
				 ev.update.errcode == STOP_CODE;
		s->reset_recvd += ev.update.id == 2 && ev.update.state == QUIC_STREAM_SEND_STATE_RESET_RECVD &&
				  ev.update.errcode == STOP_CODE;
		break;
	case QUIC_EVENT_STREAM_MAX_DATA:
		if (n == 1 + (ssize_t)sizeof(ev.max_data) && ev.max_data.id == 0 && ev.max_data.max_data > 4096)
			s->max_data++;
		break;
	case QUIC_EVENT_STREAM_MAX_STREAM:
		printf("     %s: max stream %llu\n", s->who, (unsigned long long)ev.max_stream);
		if (n == 1 + (ssize_t)sizeof(ev.max_stream) && !(ev.max_stream & QUIC_STREAM_TYPE_UNI_MASK))
			s->max_stream = ev.max_stream;
		break;
	case QUIC_EVENT_KEY_UPDATE:
		printf("     %s: key update, phase %u\n", s->who, ev.key_update_phase);
		if (n == 2)
			s->key_phase = ev.key_update_phase;
		break;
	default:
		printf("     %s: event type %u, %zd bytes\n", s->who, buf[0], n);
	}
}

static int events(int fd, int on)
{
	static const int types[] = { QUIC_EVENT_STREAM_UPDATE, QUIC_EVENT_STREAM_MAX_DATA, QUIC_EVENT_STREAM_MAX_STREAM,
				     QUIC_EVENT_KEY_UPDATE };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct quic_event_option o = { .type = types[i], .on = on };

		if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &o, sizeof(o)))
			return -1;
	}
	return 0;
}

/* One recvmsg into buf: an event goes to `s` (*ev set), stream data stays
 * (its stream in *sid, -1 when the connection is over). The byte count,
 * or -1. */
static ssize_t recv_one(int fd, struct seen *s, unsigned char *buf, size_t len, int64_t *sid, uint32_t *flags,
			int dontwait, int *ev)
{
	ssize_t n;

	*sid = -1;
	*ev = 0;
	*flags = dontwait ? MSG_DONTWAIT : 0;
	n = quic_recvmsg(fd, buf, len, sid, flags);
	if (n > 0 && (*flags & MSG_QUIC_NOTIFICATION)) {
		on_event(s, buf, n);
		*ev = 1;
	}
	return n;
}

/* Reads until `cond` holds (events and nothing else expected), at most
 * 10 s. 0 or -1. */
#define WAIT_FOR(fd, s, cond)                                                                     \
	({                                                                                         \
		unsigned char b_[256];                                                             \
		int64_t sid_;                                                                      \
		uint32_t fl_;                                                                      \
		int r_ = 0, ev_;                                                                   \
		while (!(cond) && r_ == 0) {                                                       \
			if (recv_one(fd, s, b_, sizeof(b_), &sid_, &fl_, 0, &ev_) < 0 || !ev_)    \
				r_ = -1;                                                           \
		}                                                                                  \
		r_;                                                                                \
	})

static int64_t stream_open(int fd, uint32_t flags)
{
	struct quic_stream_info si = { .stream_id = -1, .stream_flags = flags };
	socklen_t len = sizeof(si);

	return getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_OPEN, &si, &len) ? -1 : si.stream_id;
}

/* sendfile() of the whole file into the stream opened last. */
static int send_file(int fd)
{
	int in = open(FILE_PATH, O_RDONLY);
	struct stat st;
	off_t off = 0;

	if (in < 0 || fstat(in, &st))
		return -1;
	while (off < st.st_size) {
		if (sendfile(fd, in, &off, st.st_size - off) <= 0) {
			close(in);
			return -1;
		}
	}
	close(in);
	return 0;
}

/* splice() of the stream data waiting on `fd` into a pipe, ANSWER_LEN
 * bytes, each checked. 0 or -1. */
static int splice_answer(int fd)
{
	static unsigned char buf[65536];
	size_t got = 0;
	int p[2];

	if (pipe(p))
		return -1;
	while (got < ANSWER_LEN) {
		ssize_t n = splice(fd, NULL, p[1], NULL, sizeof(buf), 0), m;

		if (n <= 0) {
			printf("     client: splice returned %zd (errno %d) after %zu bytes\n", n, errno, got);
			return -1;
		}
		for (m = 0; m < n;) {
			ssize_t r = read(p[0], buf, n - m);

			if (r <= 0)
				return -1;
			for (ssize_t i = 0; i < r; i++) {
				if (buf[i] != answer_byte(got + m + i)) {
					printf("     client: spliced byte %zu differs\n", got + m + i);
					return -1;
				}
			}
			m += r;
		}
		got += n;
	}
	close(p[0]);
	close(p[1]);
	printf("     client: %zu bytes spliced into a pipe\n", got);
	return 0;
}

static int client(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct seen s = { .max_stream = -1, .key_phase = -1, .final_size = 2, .who = "client" };
	struct timeval limit = { .tv_sec = 20 };
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC), tries = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(quic_client_handshake(fd, NULL, NULL, ALPN) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	CHECK(events(fd, 1) == 0);
	{
		char c;

		CHECK(read(events_on[0], &c, 1) == 1);
	}

	/* sendfile into stream 0, then its end without a cmsg. */
	CHECK(stream_open(fd, 0) == 0);
	CHECK(send_file(fd) == 0);
	CHECK(send(fd, NULL, 0, MSG_QUIC_STREAM_FIN) == 0);
	{
		unsigned char b[256], ok[16];
		int64_t sid = -1;
		uint32_t fl = 0;
		ssize_t n = 0, total = 0;
		int ev;

		while (n >= 0 && !(sid == 0 && (fl & MSG_QUIC_STREAM_FIN))) {
			n = recv_one(fd, &s, b, sizeof(b), &sid, &fl, 0, &ev);
			if (n > 0 && !ev && sid == 0 && total + n <= (ssize_t)sizeof(ok)) {
				memcpy(ok + total, b, n);
				total += n;
			}
			if (!ev && sid == -1)
				break;	/* closed */
		}
		CHECK(total == 2 && !memcmp(ok, "ok", 2));
	}
	CHECK(WAIT_FOR(fd, &s, s.send_recvd && s.recv_recvd && s.max_stream >= 0) == 0);
	CHECK(s.max_data > 0 && s.send_recvd == 1 && s.recv_recvd == 1);
	CHECK(s.recv_recv == 0 && s.recv_recv_late == 0);	/* "ok" and its FIN came at once */
	CHECK(s.max_stream == 4);

	/* RFC 9001 §6: once our current phase is acknowledged. */
	while (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_KEY_UPDATE, NULL, 0) && errno == EINVAL && ++tries < 50)
		usleep(100000);
	CHECK(tries < 50);
	/* A unidirectional stream (2) the server stops. */
	CHECK(quic_sendmsg(fd, "ping", 4, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_UNI) == 4);
	CHECK(WAIT_FOR(fd, &s, s.key_phase == 1 && s.reset_recvd) == 0);
	CHECK(s.key_phase == 1 && s.reset_sent == 1 && s.reset_recvd == 1);

	/* Events off, what was queued read: then splice sees stream data only. */
	CHECK(events(fd, 0) == 0);
	{
		unsigned char b[256];
		int64_t sid;
		uint32_t fl;
		int ev;

		while (recv_one(fd, &s, b, sizeof(b), &sid, &fl, 1, &ev) > 0 && ev)
			;
	}
	CHECK(quic_sendmsg(fd, "ready", 5, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) == 5);
	CHECK(splice_answer(fd) == 0);
	close(fd);
	return failures;
}

/* The server: a listener allowing one bidirectional stream at a time,
 * 4 KB of credit per stream; serves the client above. */
static void server(int lfd)
{
	static unsigned char got[1 << 21], buf[65536];
	struct seen s = { .max_stream = -1, .key_phase = -1, .final_size = 0, .who = "server" };
	struct timeval limit = { .tv_sec = 20 };
	size_t want_len = 0, got_len = 0;
	char *want = www_file("/1mb.bin", &want_len);
	int fd = accept(lfd, NULL, NULL), stopped = 0, answered = 0;

	CHECK(fd >= 0 && quic_server_handshake(fd, "/certs/key.pem", "/certs/cert.pem", ALPN) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	s.final_size = want_len;
	CHECK(events(fd, 1) == 0);
	CHECK(write(events_on[1], "e", 1) == 1);
	for (;;) {
		int64_t sid;
		uint32_t fl;
		int ev;
		ssize_t n = recv_one(fd, &s, buf, sizeof(buf), &sid, &fl, 0, &ev);

		if (n < 0) {
			printf("     server: recvmsg errno %d\n", errno);
			break;
		}
		if (ev)
			continue;
		if (sid == -1)
			break;		/* the client closed */
		if (sid == 0) {
			if (got_len + n <= sizeof(got))
				memcpy(got + got_len, buf, n);
			got_len += n;
			if (fl & MSG_QUIC_STREAM_FIN) {
				CHECK(want && got_len == want_len && !memcmp(got, want, want_len));
				CHECK(quic_sendmsg(fd, "ok", 2, 0, MSG_QUIC_STREAM_FIN) == 2);
			}
		} else if (sid == 2 && !stopped) {
			struct quic_errinfo e = { .stream_id = 2, .errcode = STOP_CODE };

			CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_STOP_SENDING, &e, sizeof(e)) == 0);
			stopped = 1;
		} else if (sid == 4 && (fl & MSG_QUIC_STREAM_FIN) && !answered) {
			static unsigned char out[ANSWER_LEN];

			for (size_t i = 0; i < ANSWER_LEN; i++)
				out[i] = answer_byte(i);
			CHECK(quic_sendmsg(fd, out, ANSWER_LEN, 4, MSG_QUIC_STREAM_FIN) == ANSWER_LEN);
			answered = 1;
		}
	}
	CHECK(s.recv_recvd == 1 && s.key_phase == 1 && stopped && answered);
	CHECK(s.recv_recv == 1 && s.recv_recv_late == 0 && s.recv_recv_uni == 1);
	free(want);
	close(fd);
}

static int sysctl_set(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct quic_transport_param tp = {};
	socklen_t tplen = sizeof(tp);
	int lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC), status = -1;
	pid_t pid;

	/* The client reads its events only after its sendfile: room for all
	 * of its MAX_STREAM_DATA events. */
	CHECK(sysctl_set("/proc/sys/net/quic/max_events", "4096") == 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(lfd >= 0 && getsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &tplen) == 0);
	tp.max_streams_bidi = 1;
	tp.max_stream_data_bidi_remote = 4096;
	CHECK(setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)) == 0);
	CHECK(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) == 0 && listen(lfd, 1) == 0);
	CHECK(pipe(events_on) == 0);
	fflush(stdout);	/* else the child prints the parent's buffer again */
	pid = fork();
	if (pid == 0) {
		int rc = client();

		fflush(stdout);
		_exit(rc ? 1 : 0);
	}
	server(lfd);
	waitpid(pid, &status, 0);
	printf("     client exit status %d\n", WEXITSTATUS(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lfd);
	CHECK(sysctl_set("/proc/sys/net/quic/max_events", "64") == 0);
	return check_summary();
}
