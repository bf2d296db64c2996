// Retry from a quic.ko listener (RFC 9000 §8.1.2, §17.2.5; RFC 9001 §5.8)
// asked for with QUIC_SOCKOPT_CONFIG validate_peer_address: every new
// client gets a Retry first (RetriesSent in /proc/net/quic counts them),
// and its second Initial, carrying the token, makes the connection. The
// clients check the Retry's integrity tag and the server's
// original_destination_connection_id / retry_source_connection_id
// transport parameters (§7.3), else their handshake fails:
//   - a quic.ko client (libquic, a child process), a request and its answer;
//   - Debian's ngtcp2 client (gtlsclient), over HTTP/3's first bytes: its
//     handshake completes and it sends its request.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../proc_quic.h"

#define PORT 4463
#define ALPN "qb-retry"

extern char **environ;

static int listener(int port, const char *alpn)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct quic_config c = {};
	socklen_t clen = sizeof(c);
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, &clen))
		return -1;
	c.validate_peer_address = 1;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, sizeof(c)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, alpn, strlen(alpn)) ||
	    listen(fd, 1)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int client(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	char buf[16];
	int64_t sid = -1;
	uint32_t flags = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	if (quic_client_handshake(fd, NULL, NULL, ALPN))
		return 2;
	if (quic_sendmsg(fd, "hi", 2, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != 2)
		return 3;
	n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);
	if (n != 5 || memcmp(buf, "hello", 5))
		return 4;
	close(fd);
	return 0;
}

static void kernel_client(int lfd)
{
	struct timeval limit = { .tv_sec = 20 };
	long long before = quic_stat("RetriesSent");
	char buf[16];
	int64_t sid = -1;
	uint32_t flags = 0;
	int fd, status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(client());
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0 && quic_server_handshake(fd, "/certs/key.pem", "/certs/cert.pem", ALPN) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	CHECK(quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags) == 2 && !memcmp(buf, "hi", 2));
	CHECK(quic_sendmsg(fd, "hello", 5, sid, MSG_QUIC_STREAM_FIN) == 5);
	waitpid(pid, &status, 0);
	printf("     quic.ko client exit status %d, RetriesSent %lld -> %lld\n", WEXITSTATUS(status), before,
	       quic_stat("RetriesSent"));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(quic_stat("RetriesSent") == before + 1);
	close(fd);
}

/* gtlsclient's connection: after the Retry, the handshake completes on our
 * side and its HTTP/3 request stream arrives. */
static void ngtcp2_client(int port)
{
	char portstr[8], url[64];
	char *argv[] = { "gtlsclient", "--quiet", "--exit-on-all-streams-close", "127.0.0.1", portstr, url, NULL };
	struct timeval limit = { .tv_sec = 20 };
	long long before = quic_stat("RetriesSent");
	int lfd = listener(port, "h3"), fd, got_stream = 0;
	pid_t pid;

	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	CHECK(lfd >= 0);
	if (access("/bin/gtlsclient", X_OK)) {
		printf("     no gtlsclient in the guest\n");
		close(lfd);
		return;
	}
	CHECK(posix_spawn(&pid, "/bin/gtlsclient", NULL, NULL, argv, environ) == 0);
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0 && quic_server_handshake(fd, "/certs/key.pem", "/certs/cert.pem", "h3") == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	for (int i = 0; i < 50 && !got_stream; i++) {
		char buf[1024];
		int64_t sid = -1;
		uint32_t flags = 0;
		ssize_t n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);

		if (n < 0)
			break;
		/* Its request stream: client-initiated bidirectional. */
		got_stream = n > 0 && !(flags & MSG_QUIC_NOTIFICATION) && sid >= 0 && (sid & 3) == 0;
	}
	printf("     gtlsclient: RetriesSent %lld -> %lld\n", before, quic_stat("RetriesSent"));
	CHECK(got_stream);
	CHECK(quic_stat("RetriesSent") == before + 1);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	close(fd);
	close(lfd);
}

int main(void)
{
	int lfd = listener(PORT, ALPN);

	CHECK(lfd >= 0);
	kernel_client(lfd);
	close(lfd);
	ngtcp2_client(PORT + 10);
	return check_summary();
}
