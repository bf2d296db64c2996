// The server's preferred address (RFC 9000 §9.6, §18.2) on quic.ko sockets:
// QUIC_SOCKOPT_CONNECTION_MIGRATION with a sockaddr on a server before its
// handshake (draft-lxin-quic-socket-apis: on the socket accept() returned,
// or here also on the listener, for every connection it makes).
//   - IPv4: a server at 127.0.0.1 offers 127.0.0.3 (set on the accepted
//     socket); the kernel client probes it once the handshake is confirmed
//     (§9.6.1) and moves there: echoes flow before and after, the client's
//     getpeername shows 127.0.0.3 and its QUIC_EVENT_CONNECTION_MIGRATION
//     says local_migration 0; the server's getsockname shows 127.0.0.3 and
//     its event says local_migration 1;
//   - the same with the address set on the listener;
//   - IPv6: ::1 offering fd00::3 (added on lo here);
//   - the errno of bad input: short optlen, the other family, the
//     unspecified address, the address in use, a second address, after the
//     handshake; a client before connect (ENOTCONN) and after it (EINVAL);
//   - with our userspace endpoint (`quicbed server --preferred-address`,
//     when run.sh put it in the guest): a kernel client moves to its IPv4
//     preferred address, and stays where it is when the server offers only
//     an IPv6 one (the IPv4 fields all-zero, §18.2).
// Each echo is a request on a new bidirectional stream ending with FIN,
// answered with the same bytes and FIN.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../echo_streams.h"
#include "../guest_check.h"

#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"
#define PORT 4490
#define ALPN "echo"

extern char **environ;

/* An IPv4 or IPv6 socket address of text `ip` and `port`. */
static socklen_t sockaddr_of(struct sockaddr_storage *a, const char *ip, int port)
{
	memset(a, 0, sizeof(*a));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *in = (struct sockaddr_in6 *)a;

		in->sin6_family = AF_INET6;
		in->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &in->sin6_addr);
		return sizeof(*in);
	}
	{
		struct sockaddr_in *in = (struct sockaddr_in *)a;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, ip, &in->sin_addr);
		return sizeof(*in);
	}
}

static int set_pref(int fd, const char *ip, int port)
{
	struct sockaddr_storage a;
	socklen_t len = sockaddr_of(&a, ip, port);

	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &a, len);
}

static const char *addr_of(int fd, int peer, char *text)
{
	return echo_addr_text(fd, peer, text);
}

static int migration_events_on(int fd)
{
	struct quic_event_option ev = { .type = QUIC_EVENT_CONNECTION_MIGRATION, .on = 1 };

	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, sizeof(ev));
}

/* QUIC_EVENT_CONNECTION_MIGRATION events a side read, by local_migration. */
static int migrations[2];

static void on_event(const char *who, const char *buf, ssize_t n)
{
	if (buf[0] == QUIC_EVENT_CONNECTION_MIGRATION && n >= 2) {
		printf("     %s event: connection migration local %u\n", who, (unsigned char)buf[1]);
		migrations[buf[1] ? 1 : 0]++;
	}
}

/* ---- The client (a child process; its exit status is the failed step) ---- */

static void client_event(int fd, const char *buf, ssize_t n)
{
	(void)fd;
	on_event("client", buf, n);
}

static int echo(int fd, int round)
{
	return echo_once(fd, round, client_event);
}

/* Requests (`one_round`) until getpeername shows `want` (the preferred
 * address), then three more: 0, or -1 when the move did not happen. */
static int until_peer(int fd, const char *want, int (*one_round)(int fd, int round))
{
	char text[INET6_ADDRSTRLEN];
	int k, round = 0;

	for (k = 0; k < 60 && strcmp(addr_of(fd, 1, text), want); k++) {
		if (one_round(fd, round++))
			return -1;
		usleep(50000);
	}
	printf("     client: peer %s after %d requests\n", addr_of(fd, 1, text), k);
	if (strcmp(addr_of(fd, 1, text), want))
		return -1;
	for (k = 0; k < 3; k++) {
		if (one_round(fd, round++))
			return -1;
	}
	return 0;
}

/* Connects to `ip`:`port`, checks the option's errnos around connect(),
 * completes the handshake, and follows the server to `pref`. */
static int client_at(const char *ip, int port, const char *pref)
{
	struct sockaddr_storage srv;
	socklen_t len = sockaddr_of(&srv, ip, port);
	struct timeval limit = { .tv_sec = 20 };
	int fd = socket(srv.ss_family, SOCK_DGRAM, IPPROTO_QUIC);

	memset(migrations, 0, sizeof(migrations));
	STEP(1, fd >= 0 && migration_events_on(fd) == 0);
	STEP(2, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) == 0);
	/* No connection yet; then a client before its handshake is confirmed
	 * (only a server sets a preferred address). */
	STEP(3, set_pref(fd, ip, port + 100) == -1 && errno == ENOTCONN);
	STEP(4, connect(fd, (struct sockaddr *)&srv, len) == 0);
	STEP(5, set_pref(fd, ip, port + 100) == -1 && errno == EINVAL);
	STEP(6, quic_client_handshake(fd, NULL, NULL, ALPN) == 0);
	STEP(7, echo(fd, 1000) == 0);
	STEP(8, until_peer(fd, pref, echo) == 0);
	/* The peer's address changed, not ours (the draft's local_migration). */
	STEP(9, migrations[0] == 1 && migrations[1] == 0);
	fflush(stdout);
	close(fd);
	return 0;
}

static const char *client_ip, *client_pref;
static int client_port;

static int client(void)
{
	return client_at(client_ip, client_port, client_pref);
}

/* ---- The server ---- */

/* getsockname when the server heard of the migration. */
static char local_at_migration[INET6_ADDRSTRLEN];

static void server_event(int fd, const char *buf, ssize_t n)
{
	on_event("server", buf, n);
	if (buf[0] == QUIC_EVENT_CONNECTION_MIGRATION)
		addr_of(fd, 0, local_at_migration);
}

static int listener(const char *ip, int port)
{
	struct sockaddr_storage a;
	socklen_t len = sockaddr_of(&a, ip, port);
	int fd = socket(a.ss_family, SOCK_STREAM, IPPROTO_QUIC);

	if (fd < 0 || migration_events_on(fd) || bind(fd, (struct sockaddr *)&a, len) ||
	    setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) || listen(fd, 4)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The errno of bad input on a server socket before its handshake (`ip` is
 * its own address, `port` its port, `other` an address of the other
 * family). */
static void bad_input(int fd, const char *ip, int port, const char *other, const char *any)
{
	struct sockaddr_storage a;
	socklen_t len = sockaddr_of(&a, ip, port + 50);

	/* Shorter than the family's sockaddr (sockaddr_in6 without its scope
	 * ID, RFC 2133's, is enough). */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &a, len - 5), EINVAL);
	FAILS_WITH(set_pref(fd, other, port + 50), EINVAL);
	FAILS_WITH(set_pref(fd, any, port + 50), EINVAL);
	/* The address and port in use already. */
	FAILS_WITH(set_pref(fd, ip, port), EINVAL);
}

/* A client at ip:port in a child; the server accepts, sets `pref` on the
 * accepted socket before the handshake unless the listener has it
 * (`on_listener`), and echoes. The client's exit status is checked, and
 * the server's side of the move. */
static void pair(const char *ip, int port, const char *pref, int on_listener, const char *other, const char *any)
{
	struct timeval limit = { .tv_sec = 20 };
	char text[INET6_ADDRSTRLEN];
	int lfd = listener(ip, port), fd, status = -1, echoes;
	pid_t pid;

	printf("     %s:%d, preferred address %s set on the %s\n", ip, port, pref,
	       on_listener ? "listener" : "accepted socket");
	CHECK(lfd >= 0);
	if (on_listener) {
		bad_input(lfd, ip, port, other, any);
		CHECK(set_pref(lfd, pref, port) == 0);
		FAILS_WITH(set_pref(lfd, pref, port + 1), EINVAL);	/* a second one */
	}
	client_ip = ip;
	client_port = port;
	client_pref = pref;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(client());
	memset(migrations, 0, sizeof(migrations));
	local_at_migration[0] = 0;
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (!on_listener) {
		bad_input(fd, ip, port, other, any);
		CHECK(set_pref(fd, pref, port) == 0);
		FAILS_WITH(set_pref(fd, pref, port + 1), EINVAL);
	}
	CHECK(quic_server_handshake(fd, KEY, CERT, ALPN) == 0);
	/* After the handshake: too late for a preferred address, and a server
	 * never migrates (RFC 9000 §9). */
	FAILS_WITH(set_pref(fd, pref, port + 2), EINVAL);
	echoes = echo_serve(fd, server_event);
	printf("     server: %d echoes, local %s at the migration event, now %s\n", echoes, local_at_migration,
	       addr_of(fd, 0, text));
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(echoes >= 4);	/* one before the move (or during it), three after */
	/* Our address changed (local_migration 1), to the preferred one. */
	CHECK(migrations[1] == 1 && migrations[0] == 0);
	CHECK(strcmp(local_at_migration, pref) == 0);
	close(fd);
	close(lfd);
}

/* ---- With our userspace endpoint ---- */

/* hq-interop: "GET /hello.txt" answered with the file's bytes. */
static int fetch_hello(int fd, int round)
{
	static const char want[] = "hello from quicbed\n";
	char got[256];
	ssize_t n = echo_request(fd, "GET /hello.txt\r\n", 16, got, sizeof(got), client_event);

	(void)round;
	return n == (ssize_t)strlen(want) && !memcmp(got, want, n) ? 0 : -1;
}

/* `quicbed server` at 127.0.0.1:port offering `pref_arg`; a kernel client
 * fetches files and ends at `want_peer`. */
static void with_quicbed(int port, const char *pref_arg, const char *want_peer)
{
	char listen_arg[32];
	char *argv[] = { "quicbed", "server", "--listen", listen_arg, "--preferred-address", (char *)pref_arg,
			 "--cert", CERT, "--key", KEY, "--root", "/www", "--alpn", "hq-interop", NULL };
	struct sockaddr_storage srv;
	socklen_t len = sockaddr_of(&srv, "127.0.0.1", port);
	char text[INET6_ADDRSTRLEN];
	pid_t pid;
	int fd, k;

	snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%d", port);
	printf("     quicbed server %s, preferred address %s\n", listen_arg, pref_arg);
	if (posix_spawnp(&pid, "quicbed", NULL, NULL, argv, environ)) {
		CHECK(!"cannot start quicbed");
		return;
	}
	sleep(2);
	memset(migrations, 0, sizeof(migrations));
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	CHECK(fd >= 0 && migration_events_on(fd) == 0);
	CHECK(connect(fd, (struct sockaddr *)&srv, len) == 0);
	CHECK(quic_client_handshake(fd, NULL, NULL, "hq-interop") == 0);
	if (strcmp(want_peer, "127.0.0.1")) {
		CHECK(until_peer(fd, want_peer, fetch_hello) == 0);
		CHECK(migrations[0] == 1);
	} else {
		/* Nothing of our family to move to: the requests go on where
		 * they started. */
		for (k = 0; k < 10; k++) {
			CHECK(fetch_hello(fd, k) == 0);
			usleep(50000);
		}
		CHECK(strcmp(addr_of(fd, 1, text), "127.0.0.1") == 0 && migrations[0] == 0);
	}
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	/* A second IPv6 loopback address (no DAD on lo). */
	CHECK(system("ip addr add fd00::3/128 dev lo 2>/dev/null || ip addr show dev lo | grep -q fd00::3") == 0);

	pair("127.0.0.1", PORT, "127.0.0.3", 0, "::1", "0.0.0.0");
	pair("127.0.0.1", PORT + 1, "127.0.0.3", 1, "::1", "0.0.0.0");
	pair("::1", PORT + 2, "fd00::3", 0, "127.0.0.1", "::");

	if (access("/bin/quicbed", X_OK) == 0) {
		with_quicbed(PORT + 3, "127.0.0.3:4493", "127.0.0.3");
		with_quicbed(PORT + 4, "[fd00::3]:4494", "127.0.0.1");
	} else {
		printf("SKIP quicbed: not in the guest (QUICBED_PROGRAM)\n");
	}
	return check_summary();
}
