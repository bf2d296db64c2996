// A handshake that TLS refuses closes the connection with CRYPTO_ERROR,
// 0x100 + the TLS alert (RFC 9001 §4.8), in a CONNECTION_CLOSE of type
// 0x1c during the handshake (RFC 9000 §10.2.3), both ends quic.ko sockets
// with libquic; the client a child process:
//   - the client refuses the server's certificate: trusted but for
//     another name (bad_certificate, 42), or from a CA it does not trust
//     (unknown_ca, 48). libquic sets the client socket's
//     QUIC_SOCKOPT_CONNECTION_CLOSE to that code, its close() sends it,
//     and the server's handshake fails with ECONNRESET, its socket's
//     CONNECTION_CLOSE saying the code and phrase;
//   - the same, the client then setting an application code of its own
//     (a transport code outside the CRYPTO_ERROR range, here 0x0a, is
//     one): the server gets APPLICATION_ERROR (0x0c) as before;
//   - the server refuses the client's PSK (same identity, another
//     secret): the client's handshake fails with ECONNRESET and its
//     socket says the code the server's libquic set.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../verifying_client.h"

#define PORT 4500
#define ALPN "qb-alert"
#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"
#define SERVER_PSK "/tmp/alert-server.psk"
#define CLIENT_PSK "/tmp/alert-client.psk"
#define CRYPTO_ERROR(alert) (QUIC_TRANSPORT_ERROR_CRYPTO + (alert))

enum kind { WRONG_NAME, UNTRUSTED, WRONG_NAME_APP_CODE, WRONG_PSK };

/* What a socket's QUIC_SOCKOPT_CONNECTION_CLOSE holds. */
struct close_info {
	uint32_t code;
	char phrase[128];
};

static struct close_info close_of(int fd)
{
	char buf[offsetof(struct quic_connection_close, phrase) + 256] = { 0 };
	struct quic_connection_close *c = (struct quic_connection_close *)buf;
	const size_t head = offsetof(struct quic_connection_close, phrase);
	socklen_t len = sizeof(buf);
	struct close_info ci = { .code = UINT32_MAX };

	if (getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, buf, &len) || len < head)
		return ci;
	ci.code = c->errcode;
	snprintf(ci.phrase, sizeof(ci.phrase), "%.*s", (int)(len - head), (char *)c->phrase);
	return ci;
}

/* The client (a child): its handshake, then what its socket's
 * CONNECTION_CLOSE holds goes to wfd, and close(). 0 or the failed step. */
static int client(enum kind k, int wfd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval limit = { .tv_sec = 20 };
	const size_t head = offsetof(struct quic_connection_close, phrase);
	struct close_info ci;
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC), rc;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	if (k == WRONG_PSK)
		rc = quic_client_handshake(fd, CLIENT_PSK, NULL, ALPN);
	else
		rc = verifying_client(fd, k == UNTRUSTED ? NULL : CERT, k == UNTRUSTED ? "localhost" : "wrong.example",
				      ALPN);
	printf("     client: handshake %d (%s)\n", rc, strerror(-rc));
	if (rc != (k == WRONG_PSK ? -ECONNRESET : -EPROTO))
		return 2;
	if (k == WRONG_NAME_APP_CODE) {
		struct quic_connection_close bye = { .errcode = QUIC_TRANSPORT_ERROR_PROTOCOL_VIOLATION };

		if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, &bye, head))
			return 3;
	}
	ci = close_of(fd);
	printf("     client: CONNECTION_CLOSE 0x%x \"%s\"\n", ci.code, ci.phrase);
	fflush(stdout);
	if (write(wfd, &ci, sizeof(ci)) != sizeof(ci))
		return 4;
	close(fd);
	return 0;
}

/* One handshake of kind k, refused: what the client's and the server's
 * sockets hold after it. */
static void pair(int lfd, enum kind k, struct close_info *c, struct close_info *s)
{
	struct timeval limit = { .tv_sec = 20 };
	int p[2], fd, rc, status = -1;
	pid_t pid;

	c->code = s->code = UINT32_MAX;
	if (pipe(p)) {
		CHECK(!"pipe");
		return;
	}
	fflush(stdout);	/* else the child prints the parent's buffer again */
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(client(k, p[1]));
	}
	close(p[1]);
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	rc = k == WRONG_PSK ? quic_server_handshake(fd, SERVER_PSK, NULL, ALPN)
			    : quic_server_handshake(fd, KEY, CERT, ALPN);
	printf("     server: handshake %d (%s)\n", rc, strerror(-rc));
	CHECK(rc == (k == WRONG_PSK ? -EPROTO : -ECONNRESET));
	*s = close_of(fd);
	printf("     server: CONNECTION_CLOSE 0x%x \"%s\"\n", s->code, s->phrase);
	/* With the PSK refused this sends the server's CRYPTO_ERROR. */
	close(fd);
	CHECK(read(p[0], c, sizeof(*c)) == sizeof(*c));
	close(p[0]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	return f && fputs(text, f) >= 0 && fclose(f) == 0 ? 0 : -1;
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC);
	struct close_info c, s;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) == 0 && listen(lfd, 1) == 0);
	CHECK(write_file(SERVER_PSK, "alert:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n") == 0);
	CHECK(write_file(CLIENT_PSK, "alert:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n") == 0);

	printf("     the client refuses the certificate: another name\n");
	pair(lfd, WRONG_NAME, &c, &s);
	CHECK(c.code == CRYPTO_ERROR(GNUTLS_A_BAD_CERTIFICATE));
	CHECK(s.code == CRYPTO_ERROR(GNUTLS_A_BAD_CERTIFICATE) && !strcmp(s.phrase, "TLS alert bad_certificate"));

	printf("     the client refuses the certificate: an unknown CA\n");
	pair(lfd, UNTRUSTED, &c, &s);
	CHECK(c.code == CRYPTO_ERROR(GNUTLS_A_UNKNOWN_CA) && s.code == c.code && !strcmp(s.phrase, "TLS alert unknown_ca"));

	printf("     the client refuses the certificate, then closes with a code of its own\n");
	pair(lfd, WRONG_NAME_APP_CODE, &c, &s);
	CHECK(c.code == QUIC_TRANSPORT_ERROR_PROTOCOL_VIOLATION && s.code == QUIC_TRANSPORT_ERROR_APPLICATION);

	printf("     the server refuses the client's PSK\n");
	pair(lfd, WRONG_PSK, &c, &s);
	CHECK(s.code >= CRYPTO_ERROR(0) && s.code <= CRYPTO_ERROR(255) && strstr(s.phrase, "TLS alert"));
	CHECK(c.code == s.code && !strcmp(c.phrase, s.phrase));

	close(lfd);
	return check_summary();
}
