// A quic.ko client completes a handshake with Debian's ngtcp2 server
// (gtlsserver, GnuTLS) over IPv4 and IPv6 loopback, its TLS run by libquic in this
// process: connect(), quic_client_handshake() with ALPN h3, then the
// server's transport parameters are readable from the socket. And one
// that refuses the server's certificate (another name): ngtcp2, logging
// the frames it receives, reads our close as CONNECTION_CLOSE of type
// 0x1c with CRYPTO_ERROR 0x12a (bad_certificate, RFC 9001 §4.8). Dynamic
// (GnuTLS); kmod/test/run.sh puts gtlsserver, its libraries and a
// certificate in the guest.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../verifying_client.h"

extern char **environ;

#define FRAME_LOG "/tmp/gtlsserver-frames.log"

/* gtlsserver on addr:port, started; with `log` its frame log (and the
 * rest of its output) goes there. */
static pid_t start_server(const char *addr, const char *port, const char *log)
{
	char *argv[] = { "gtlsserver", (char *)addr, (char *)port, "/certs/key.pem", "/certs/cert.pem", "--quiet",
			 NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	if (log)
		argv[5] = NULL;
	if (posix_spawn_file_actions_init(&fa))
		return -1;
	if (log && (posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644) ||
		    posix_spawn_file_actions_adddup2(&fa, 2, 1))) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	rc = posix_spawnp(&pid, "gtlsserver", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc ? -1 : pid;
}

/* Whether `file` has a line with `text`. */
static int logged(const char *file, const char *text)
{
	char line[1024];
	FILE *f = fopen(file, "r");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* Our client refuses the server's certificate: ngtcp2 receives the
 * alert as a transport CONNECTION_CLOSE with CRYPTO_ERROR. */
static void refused(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4437) };
	pid_t pid = start_server("127.0.0.1", "4437", FRAME_LOG);
	int fd, rc, i;

	printf("     certificate refused\n");
	CHECK(pid > 0);
	sleep(2);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	rc = verifying_client(fd, "/certs/cert.pem", "wrong.example", "h3");
	printf("     verifying_client: %d\n", rc);
	CHECK(rc == -EPROTO);
	close(fd);
	for (i = 0; i < 50 && !logged(FRAME_LOG, "CONNECTION_CLOSE(0x1c) error_code=CRYPTO_ERROR(0x12a)"); i++)
		usleep(100000);
	CHECK(logged(FRAME_LOG, "CONNECTION_CLOSE(0x1c) error_code=CRYPTO_ERROR(0x12a)"));
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* A handshake from a kernel socket of `family` to `server`. */
static void handshake_with(int family, const struct sockaddr *server, socklen_t len)
{
	struct quic_transport_param tp = { .remote = 1 };
	socklen_t tplen = sizeof(tp);
	char buf[4096];
	ssize_t n;
	int fd, rc;

	printf("     IPv%d\n", family == AF_INET ? 4 : 6);
	fd = socket(family, SOCK_DGRAM, IPPROTO_QUIC);
	CHECK(fd >= 0);
	CHECK(connect(fd, server, len) == 0);
	rc = quic_client_handshake(fd, NULL, NULL, "h3");
	printf("     quic_client_handshake: %d\n", rc);
	CHECK(rc == 0);
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &tplen) == 0);
	printf("     server: max_udp_payload_size %u max_idle_timeout %u us max_data %llu streams %u/%u\n",
	       tp.max_udp_payload_size, tp.max_idle_timeout, (unsigned long long)tp.max_data, tp.max_streams_bidi,
	       tp.max_streams_uni);
	CHECK(tp.remote == 1 && tp.max_udp_payload_size >= 1200 && tp.max_data > 0);
	/* The connection lives on through the server's post-handshake traffic
	 * (HANDSHAKE_DONE, its HTTP/3 control streams, a session ticket): no
	 * stream of ours has data, and the socket is not closed. */
	sleep(1);
	errno = 0;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	printf("     after 1 s: recv %zd (errno %d)\n", n, errno);
	CHECK(n > 0 || errno == EAGAIN);
	close(fd);
}

int main(void)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(4433) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(4435), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	pid_t p4 = start_server("127.0.0.1", "4433", NULL), p6 = start_server("::1", "4435", NULL);

	if (p4 < 0 || p6 < 0) {
		printf("FAIL cannot start gtlsserver\n");
		return 1;
	}
	sleep(2);	/* TCG is slow to start a GnuTLS process */
	v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	handshake_with(AF_INET, (struct sockaddr *)&v4, sizeof(v4));
	handshake_with(AF_INET6, (struct sockaddr *)&v6, sizeof(v6));
	kill(p4, SIGTERM);
	kill(p6, SIGTERM);
	waitpid(p4, NULL, 0);
	waitpid(p6, NULL, 0);
	refused();
	return check_summary();
}
