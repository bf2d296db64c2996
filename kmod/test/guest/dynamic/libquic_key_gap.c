// The server's first 1-RTT packets find the client's 1-RTT keys in place:
// a quic.ko server (libquic) sends its session ticket and 32 KB on a
// stream as soon as its handshake completes, and the client, whose
// process is held up for 300 ms just as it hands down its first 1-RTT
// secret (this program's setsockopt() sleeps there, as a preempted
// process would), must drop none of them for want of keys. Were its
// Finished already gone then (libquic's order before), the server's
// ticket, NEW_TOKEN and data would arrive during the pause; the client
// keeps only 4 packets for later (RFC 9001 §5.7) and the rest came again
// only after the server's loss timeout. Counted by /proc/net/quic
// OneRttPacketsDroppedWithoutKeys (PacketsDroppedWithoutKeys, all levels,
// printed: a client process slower than the server's Handshake flight
// can drop some of it, another matter); the times are printed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../proc_quic.h"

#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"
#define ALPN "hq-interop"
#define PORT 4475
#define DATA_LEN (32 * 1024)
#define PAUSE_MS 300

static int pause_ms;
static long long pause_end;	/* when the pause ended, ms */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Every setsockopt of this program, libquic's included: the first 1-RTT
 * secret waits pause_ms first. */
int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (pause_ms && level == SOL_QUIC && name == QUIC_SOCKOPT_CRYPTO_SECRET &&
	    len >= sizeof(struct quic_crypto_secret) && ((const struct quic_crypto_secret *)val)->level == QUIC_CRYPTO_APP) {
		usleep(pause_ms * 1000);
		pause_ms = 0;
		pause_end = now_ms();
	}
	return syscall(SYS_setsockopt, fd, level, name, val, len);
}

static void loopback(struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(PORT);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* The server: one connection, a ticket (libquic issues it after the
 * handshake) and DATA_LEN bytes on a unidirectional stream at once, then
 * waits for the client to close. */
static int serve(int lfd)
{
	struct timeval limit = { .tv_sec = 20 };
	static char data[DATA_LEN];
	char buf[256];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (quic_server_handshake(fd, KEY, CERT, ALPN))
		return 2;
	memset(data, 'k', sizeof(data));
	if (quic_sendmsg(fd, data, sizeof(data), -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_UNI | MSG_QUIC_STREAM_FIN) !=
	    DATA_LEN)
		return 3;
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	close(fd);
	return 0;
}

int main(void)
{
	struct sockaddr_in a;
	struct quic_config config;
	socklen_t clen = sizeof(config);
	static char buf[65536];
	long long drops, all_drops, t0, t_handshake, t_ticket, t_data = -1;
	size_t got = 0;
	int lfd, fd, status = -1, hs;
	pid_t server;
	unsigned char ticket[4096];
	socklen_t tlen = sizeof(ticket);

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	loopback(&a);
	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC);
	CHECK(lfd >= 0 && !bind(lfd, (struct sockaddr *)&a, sizeof(a)) &&
	      !setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) && !listen(lfd, 4));
	server = fork();
	if (server == 0)
		_exit(serve(lfd));
	close(lfd);

	drops = quic_stat("OneRttPacketsDroppedWithoutKeys");
	all_drops = quic_stat("PacketsDroppedWithoutKeys");
	CHECK(drops >= 0 && all_drops >= 0);
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	CHECK(fd >= 0 && !getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, &clen));
	config.receive_session_ticket = 1;
	CHECK(!setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &config, sizeof(config)) &&
	      !connect(fd, (struct sockaddr *)&a, sizeof(a)));
	t0 = now_ms();
	pause_ms = PAUSE_MS;
	/* With receive_session_ticket it returns once the ticket came. */
	hs = quic_client_handshake(fd, NULL, NULL, ALPN);
	t_ticket = now_ms() - pause_end;
	t_handshake = now_ms() - t0;
	CHECK(hs == 0);
	CHECK(pause_ms == 0);	/* the pause happened */
	CHECK(!getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_SESSION_TICKET, ticket, &tlen) && tlen > 0);
	while (!hs && got < DATA_LEN) {
		uint32_t flags = 0;
		int64_t sid = 0;
		ssize_t n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);

		if (n <= 0)
			break;
		if (flags & MSG_QUIC_NOTIFICATION)
			continue;
		got += n;
		if (flags & MSG_QUIC_STREAM_FIN)
			break;
	}
	if (got == DATA_LEN)
		t_data = now_ms() - t0;
	CHECK(got == DATA_LEN);
	drops = quic_stat("OneRttPacketsDroppedWithoutKeys") - drops;
	all_drops = quic_stat("PacketsDroppedWithoutKeys") - all_drops;
	printf("     %d ms pause: handshake with ticket after %lld ms (the ticket %lld ms after the pause), %d bytes "
	       "after %lld ms, %lld 1-RTT packets (%lld in all) dropped without keys\n",
	       PAUSE_MS, t_handshake, t_ticket, DATA_LEN, t_data, drops, all_drops);
	CHECK(drops == 0);
	close(fd);
	waitpid(server, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return check_summary();
}
