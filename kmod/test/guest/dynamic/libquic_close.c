// close() of a quic.ko socket with stream data still in flight (RFC 9000
// §10.2, SO_LINGER): a quic.ko client (a child process) writes 2 MB and
// the stream's end, and closes at once, three ways:
//   - by default the connection outlives the socket and delivers it all,
//     then its CONNECTION_CLOSE (error 7) reaches the server;
//   - with SO_LINGER {1, 10} close() returns once the server acknowledged
//     it all, and the same arrives;
//   - with SO_LINGER {1, 0} (abortive) CONNECTION_CLOSE goes at once:
//     the server sees the close before the end of the data. So that data
//     is surely still unsent at close() (a send can put it all on the wire
//     before returning: 64 KB loopback datagrams), the server reads nothing
//     for a while, and the client writes without blocking until the
//     stream's flow control stops it.
// Closed connections stay in the closing or draining state for three PTOs
// (ConnectionsClosing in /proc/net/quic), then their sockets go.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../proc_quic.h"

#define PORT 4462
#define ALPN "qb-close"
#define DATA_LEN (2 << 20)
#define CLOSE_CODE 7

enum close_kind { CLOSE_DEFAULT, CLOSE_LINGER, CLOSE_ABORT };

static unsigned char data_byte(size_t off)
{
	return (unsigned char)(off * 13 + (off >> 11));
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The server's byte on its stream 1, sent once its handshake completed.
 * Before that the server still has Handshake keys, and a close() of ours
 * reaching it first would be read from our Handshake packet, as the
 * transport's APPLICATION_ERROR without our code (RFC 9000 §10.2.3), as
 * seen once under load. 0 when it came. */
static int wait_go(int fd)
{
	struct timeval limit = { .tv_sec = 20 };
	char go;
	int64_t sid = -1;
	uint32_t flags = 0;

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) ||
	       quic_recvmsg(fd, &go, 1, &sid, &flags) != 1 || sid != 1;
}

/* The client: DATA_LEN bytes and FIN on stream 0, then close() as `kind`
 * says. 0 or the failed step. */
static int client(enum close_kind kind)
{
	static unsigned char out[DATA_LEN];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct linger lg = { .l_onoff = 1, .l_linger = kind == CLOSE_LINGER ? 10 : 0 };
	const size_t head = offsetof(struct quic_connection_close, phrase);
	char bye[head + 3];
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	double t0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (size_t i = 0; i < DATA_LEN; i++)
		out[i] = data_byte(i);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) || quic_client_handshake(fd, NULL, NULL, ALPN))
		return 1;
	if (wait_go(fd))
		return 7;
	memset(bye, 0, head);
	((struct quic_connection_close *)bye)->errcode = CLOSE_CODE;
	memcpy(bye + head, "bye", 3);
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, bye, sizeof(bye)))
		return 2;
	if (kind != CLOSE_DEFAULT && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return 3;
	if (kind == CLOSE_ABORT) {
		ssize_t n;

		if (fcntl(fd, F_SETFL, O_NONBLOCK))
			return 6;
		n = quic_sendmsg(fd, out, DATA_LEN, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN);
		if (n <= 0 || n >= DATA_LEN)
			return 4;
		printf("     client: %zd bytes taken before the stream's flow control\n", n);
	} else if (quic_sendmsg(fd, out, DATA_LEN, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != DATA_LEN) {
		return 4;
	}
	t0 = now_s();
	if (close(fd))
		return 5;
	printf("     client: close() returned after %.3f s, ConnectionsClosing %lld\n", now_s() - t0,
	       quic_stat("ConnectionsClosing"));
	fflush(stdout);
	return 0;
}

/* Serves one client closing as `kind`: the bytes of stream 0 received
 * before the connection closed, -1 on an error. *code: the client's close
 * error code. */
static long serve(int lfd, enum close_kind kind, uint32_t *code)
{
	static unsigned char buf[65536];
	struct timeval limit = { .tv_sec = 20 };
	struct quic_connection_close cc;
	socklen_t cclen = sizeof(cc);
	int fd = accept(lfd, NULL, NULL);
	long got = 0;

	if (fd < 0 || quic_server_handshake(fd, "/certs/key.pem", "/certs/cert.pem", ALPN) ||
	    quic_sendmsg(fd, "g", 1, 1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != 1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (kind == CLOSE_ABORT)
		sleep(1);	/* no window opened before the client's close() */
	for (;;) {
		int64_t sid = -1;
		uint32_t flags = 0;
		ssize_t n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);

		if (n < 0 || (n == 0 && !(flags & MSG_QUIC_STREAM_FIN)))
			break;	/* the connection closed */
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != data_byte(got + i)) {
				printf("     server: byte %ld differs\n", got + i);
				close(fd);
				return -1;
			}
		}
		got += n;
		if (flags & MSG_QUIC_STREAM_FIN)
			printf("     server: the stream's end after %ld bytes\n", got);
	}
	memset(&cc, 0, sizeof(cc));
	*code = getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, &cc, &cclen) ? 0 : cc.errcode;
	printf("     server: %ld bytes, then the close (error %u)\n", got, *code);
	close(fd);
	return got;
}

static long pair(int lfd, enum close_kind kind, uint32_t *code)
{
	int status = -1;
	long got;
	pid_t pid;

	fflush(stdout);	/* else the child prints the parent's buffer again */
	pid = fork();
	if (pid == 0)
		_exit(client(kind));
	got = serve(lfd, kind, code);
	waitpid(pid, &status, 0);
	printf("     client exit status %d\n", WEXITSTATUS(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return got;
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC), i;
	uint32_t code = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) == 0 && listen(lfd, 1) == 0);

	printf("     close() at once, the data in flight\n");
	CHECK(pair(lfd, CLOSE_DEFAULT, &code) == DATA_LEN && code == CLOSE_CODE);
	printf("     SO_LINGER 10 s\n");
	CHECK(pair(lfd, CLOSE_LINGER, &code) == DATA_LEN && code == CLOSE_CODE);
	printf("     SO_LINGER 0: abortive\n");
	{
		long got = pair(lfd, CLOSE_ABORT, &code);

		CHECK(got >= 0 && got < DATA_LEN && code == CLOSE_CODE);
	}
	close(lfd);
	/* Three PTOs of a loopback connection: well within 10 s. */
	for (i = 0; i < 100 && quic_stat("ConnectionsClosing") != 0; i++)
		usleep(100000);
	printf("     ConnectionsClosing 0 after %.1f s\n", i / 10.0);
	CHECK(quic_stat("ConnectionsClosing") == 0);
	return check_summary();
}
