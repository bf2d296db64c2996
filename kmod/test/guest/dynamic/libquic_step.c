// libquic's handshake in steps (quic_handshake_init / _step / _deinit),
// written as a program for the existing libquic is: it includes only
// <netinet/quic.h> for GnuTLS and QUIC, configures its own GnuTLS sessions
// with QUIC_PRIORITY, and drives both handshakes from a poll() loop on
// non-blocking sockets, doing every sendmsg/recvmsg itself:
//   - the handshake completes on both sides (the client verifies the
//     server's certificate and name), the ALPN is the one offered, and a
//     request and its answer cross;
//   - the steps waited on EAGAIN (the loop really was non-blocking);
//   - quic_set_log_func / quic_set_log_level: a program's function gets
//     libquic's debug messages, and the previous settings come back;
//   - bad input: a step without init gives -EINVAL, a second init
//     -EALREADY, and an I/O error stored in a step comes back from
//     quic_handshake_step.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"

#define PORT 4473
#define ALPN "qb-step"

struct tally {
	int sends, recvs, waits;
};

/* The caller's event loop: one step's I/O without blocking, waiting in
 * poll() on EAGAIN. 0, or -1 when the 10 s limit passed. */
static int run_step(int fd, struct quic_handshake_step *step, struct tally *t)
{
	int out = step->op == QUIC_HANDSHAKE_STEP_OP_SENDMSG;

	for (;;) {
		ssize_t n = out ? sendmsg(fd, step->s_sendmsg.msg, step->s_sendmsg.flags | MSG_DONTWAIT)
				: recvmsg(fd, step->s_recvmsg.msg, step->s_recvmsg.flags | MSG_DONTWAIT);
		struct pollfd p = { .fd = fd, .events = out ? POLLOUT : POLLIN };

		if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
			if (n < 0)
				n = -errno;
			if (out) {
				step->s_sendmsg.retval = n;
				t->sends++;
			} else {
				step->s_recvmsg.retval = n;
				t->recvs++;
			}
			return 0;
		}
		if (errno == EAGAIN) {
			t->waits++;
			if (poll(&p, 1, 10000) != 1)
				return -1;
		}
	}
}

/* The handshake in steps; 0 or a negative errno. */
static int stepped_handshake(gnutls_session_t s, int fd, struct tally *t)
{
	struct quic_handshake_step *step;
	int err;

	for (err = quic_handshake_init(s, &step); !err && step; err = quic_handshake_step(s, &step))
		if (run_step(fd, step, t))
			err = -ETIMEDOUT;
	quic_handshake_deinit(s);
	return err;
}

static gnutls_session_t session(int server, gnutls_certificate_credentials_t *cred)
{
	gnutls_session_t s;

	if (gnutls_init(&s, server ? GNUTLS_SERVER : GNUTLS_CLIENT) ||
	    gnutls_priority_set_direct(s, QUIC_PRIORITY, NULL) || gnutls_certificate_allocate_credentials(cred))
		return NULL;
	if (server ? gnutls_certificate_set_x509_key_file(*cred, "/certs/cert.pem", "/certs/key.pem",
							  GNUTLS_X509_FMT_PEM)
		   : gnutls_certificate_set_x509_trust_file(*cred, "/certs/cert.pem", GNUTLS_X509_FMT_PEM) != 1)
		return NULL;
	if (!server) {
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
		gnutls_session_set_verify_cert(s, "localhost", 0);
	}
	if (gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, *cred) || quic_session_set_alpn(s, ALPN, strlen(ALPN)))
		return NULL;
	return s;
}

static int client(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s = session(0, &cred);
	struct tally t = { 0 };
	char buf[16];
	int64_t sid = -1;
	uint32_t flags = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!s || fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) || fcntl(fd, F_SETFL, O_NONBLOCK))
		return 1;
	gnutls_transport_set_int(s, fd);
	if (stepped_handshake(s, fd, &t))
		return 2;
	if (fcntl(fd, F_SETFL, 0) || quic_sendmsg(fd, "hi", 2, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) != 2)
		return 3;
	if (quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags) != 5 || memcmp(buf, "hello", 5))
		return 4;
	/* ClientHello and Finished went out; ServerHello .. Finished came in. */
	if (t.sends < 2 || t.recvs < 1)
		return 5;
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
	return 0;
}

static int debug_lines;

static void count_debug(int level, const char *msg)
{
	if (level == LOG_DEBUG && strstr(msg, "message of"))
		debug_lines++;
}

static void handshake_pair(int lfd)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s = session(1, &cred);
	struct tally t = { 0 };
	quic_set_log_func_t old_func;
	int old_level, fd, status = -1, err;
	char buf[16], alpn[32];
	size_t alen = sizeof(alpn);
	int64_t sid = -1;
	uint32_t flags = 0;
	pid_t pid;

	CHECK(s != NULL);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(client());
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	gnutls_transport_set_int(s, fd);
	old_func = quic_set_log_func(count_debug);
	old_level = quic_set_log_level(LOG_DEBUG);
	err = stepped_handshake(s, fd, &t);
	printf("     server: %d, %d sendmsg and %d recvmsg steps, %d EAGAIN waits, %d debug lines\n", err, t.sends,
	       t.recvs, t.waits, debug_lines);
	CHECK(err == 0);
	CHECK(t.sends >= 1 && t.recvs >= 2 && t.waits >= 1);
	CHECK(debug_lines >= 3);
	CHECK(quic_set_log_func(old_func) == count_debug && quic_set_log_level(old_level) == LOG_DEBUG);
	CHECK(quic_session_get_alpn(s, alpn, &alen) == 0 && alen == strlen(ALPN) && !memcmp(alpn, ALPN, alen));
	CHECK(fcntl(fd, F_SETFL, 0) == 0);
	CHECK(quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags) == 2 && !memcmp(buf, "hi", 2));
	CHECK(quic_sendmsg(fd, "hello", 5, sid, MSG_QUIC_STREAM_FIN) == 5);
	waitpid(pid, &status, 0);
	printf("     client exit status %d\n", WEXITSTATUS(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
}

/* The API's misuse and a failed step, on a client socket. */
static void bad_input(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT + 1) };
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s = session(0, &cred);
	struct quic_handshake_step *step = NULL, *again = NULL;
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(s != NULL && fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	gnutls_transport_set_int(s, fd);
	CHECK(quic_handshake_step(s, &step) == -EINVAL);
	CHECK(quic_handshake_init(s, &step) == 0 && step && step->op == QUIC_HANDSHAKE_STEP_OP_SENDMSG);
	CHECK(quic_handshake_init(s, &again) == -EALREADY && again == NULL);
	step->s_sendmsg.retval = -ECONNRESET;
	CHECK(quic_handshake_step(s, &step) == -ECONNRESET);
	quic_handshake_deinit(s);
	quic_handshake_deinit(s);	/* a second one does nothing */
	CHECK(quic_handshake_step(s, &step) == -EINVAL);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) == 0 && listen(lfd, 1) == 0);
	handshake_pair(lfd);
	close(lfd);
	bad_input();
	return check_summary();
}
