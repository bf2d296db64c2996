// Stream data through quic.ko: a kernel client (libquic handshake, ALPN
// hq-interop) asks our userspace endpoint program (`quicbed server`, the
// same core in userspace) for files with "GET /path" on new bidirectional
// streams, each request ending the stream (MSG_QUIC_STREAM_FIN), and reads
// the answers to their FIN, comparing them byte for byte with the files.
// kmod/test/run.sh puts quicbed, its libraries and /www in the guest.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../www_file.h"

extern char **environ;

/* One request on a new stream; the answer's bytes against the file. */
static int fetch(int fd, const char *path)
{
	char req[256], *want, *got;
	size_t want_len, got_len = 0;
	int64_t sid = -1, first_sid = -1;
	uint32_t flags;
	ssize_t n;

	want = www_file(path, &want_len);
	if (!want)
		return -1;
	got = malloc(want_len + 65536);
	snprintf(req, sizeof(req), "GET %s\r\n", path);
	n = quic_sendmsg(fd, req, strlen(req), -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN);
	if (n != (ssize_t)strlen(req)) {
		printf("     send: %zd errno %d\n", n, errno);
		return -1;
	}
	for (;;) {
		flags = 0;
		n = quic_recvmsg(fd, got + got_len, want_len + 65536 - got_len, &sid, &flags);
		if (n < 0) {
			printf("     recv: errno %d after %zu bytes\n", errno, got_len);
			return -1;
		}
		if (first_sid < 0)
			first_sid = sid;
		if (sid != first_sid) {
			printf("     data on stream %lld, asked on %lld\n", (long long)sid, (long long)first_sid);
			return -1;
		}
		got_len += n;
		if (flags & MSG_QUIC_STREAM_FIN)
			break;
		if (got_len > want_len) {
			printf("     more bytes than the file\n");
			return -1;
		}
	}
	printf("     %s: %zu bytes on stream %lld (file %zu)\n", path, got_len, (long long)sid, want_len);
	return got_len == want_len && !memcmp(got, want, want_len) ? 0 : -1;
}

int main(void)
{
	char *argv[] = { "quicbed", "server", "--listen", "127.0.0.1:4434", "--cert", "/certs/cert.pem", "--key",
			 "/certs/key.pem", "--root", "/www", "--alpn", "hq-interop", NULL };
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(4434) };
	pid_t pid;
	int fd;

	if (posix_spawnp(&pid, "quicbed", NULL, NULL, argv, environ)) {
		printf("FAIL cannot start quicbed\n");
		return 1;
	}
	sleep(2);
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	CHECK(connect(fd, (struct sockaddr *)&server, sizeof(server)) == 0);
	CHECK(quic_client_handshake(fd, NULL, NULL, "hq-interop") == 0);
	CHECK(fetch(fd, "/hello.txt") == 0);
	CHECK(fetch(fd, "/1mb.bin") == 0);
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return check_summary();
}
