// A quic.ko client completes a handshake with Debian's ngtcp2 server
// (gtlsserver, GnuTLS) over IPv4 loopback, its TLS run by libquic in this
// process: connect(), quic_client_handshake() with ALPN h3, then the
// server's transport parameters are readable from the socket. Dynamic
// (GnuTLS); kmod/test/run.sh puts gtlsserver, its libraries and a
// certificate in the guest.
#include <arpa/inet.h>
#include <errno.h>
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

extern char **environ;

int main(void)
{
	char *argv[] = { "gtlsserver", "--quiet", "127.0.0.1", "4433", "/certs/key.pem", "/certs/cert.pem", NULL };
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(4433) };
	struct quic_transport_param tp = { .remote = 1 };
	socklen_t len = sizeof(tp);
	pid_t pid;
	int fd, rc;

	if (posix_spawnp(&pid, "gtlsserver", NULL, NULL, argv, environ)) {
		printf("FAIL cannot start gtlsserver\n");
		return 1;
	}
	sleep(2);	/* TCG is slow to start a GnuTLS process */
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	CHECK(fd >= 0);
	CHECK(connect(fd, (struct sockaddr *)&server, sizeof(server)) == 0);
	rc = quic_client_handshake(fd, NULL, NULL, "h3");
	printf("     quic_client_handshake: %d\n", rc);
	CHECK(rc == 0);
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len) == 0);
	printf("     server: max_udp_payload_size %u max_idle_timeout %u us max_data %llu streams %u/%u\n",
	       tp.max_udp_payload_size, tp.max_idle_timeout, (unsigned long long)tp.max_data, tp.max_streams_bidi,
	       tp.max_streams_uni);
	CHECK(tp.remote == 1 && tp.max_udp_payload_size >= 1200 && tp.max_data > 0);
	/* The connection lives on through the server's post-handshake traffic
	 * (HANDSHAKE_DONE, its HTTP/3 control streams, a session ticket, which
	 * comes up as handshake data at the application level). */
	sleep(1);
	{
		char buf[4096];
		ssize_t n;

		errno = 0;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		printf("     after 1 s: recv %zd (errno %d)\n", n, errno);
		CHECK(n > 0 || errno == EAGAIN);
	}
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return check_summary();
}
