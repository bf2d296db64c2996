// Connection IDs and connection migration on quic.ko sockets (draft-lxin-
// quic-socket-apis QUIC_SOCKOPT_CONNECTION_ID, QUIC_SOCKOPT_CONNECTION_
// MIGRATION, their events), a quic.ko client and server over IPv4 loopback:
//   - the client switches to the server's next CID and retires the old one
//     (dest 1), then asks the server to retire its first two CIDs (dest 0,
//     Retire Prior To); the getsockopt values follow on both sides and the
//     server hears of the peer's changes (QUIC_EVENT_CONNECTION_ID);
//   - the client moves to a new local address, 127.0.0.2 (RFC 9000 §9.2:
//     path validation, a new CID on the new path); echoes flow before
//     and after (and while the path is validated, when that takes longer
//     than one), getsockname shows the new address, the client sees
//     QUIC_EVENT_CONNECTION_MIGRATION with local_migration 1, the server
//     with 0 and getpeername shows the client's new address;
//   - the same move over IPv6, from ::1 to a second loopback address
//     (fd00::2, added with ip(8));
//   - a server that sent disable_active_migration: the client may not move;
//   - the errno of bad input: without a connection, short optlen, numbers
//     out of range, another family, a server migrating, an address that is
//     not local.
// Each echo is a request on a new bidirectional stream ending with FIN,
// answered with the same bytes and FIN.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
#define PORT 4470
#define ALPN "echo"

/* Events a side read: CONNECTION_ID per dest (the last one), migrations
 * (local_migration values, 0/1 counts). */
struct seen {
	int cid_events[2];
	struct quic_connection_id_info last_cid[2];
	int migrations[2];
};

static void on_event(struct seen *s, const char *who, const char *buf, ssize_t n)
{
	if (buf[0] == QUIC_EVENT_CONNECTION_ID && n >= 1 + (ssize_t)sizeof(struct quic_connection_id_info)) {
		struct quic_connection_id_info i;

		memcpy(&i, buf + 1, sizeof(i));
		printf("     %s event: connection id dest %u active %u prior_to %u\n", who, i.dest, i.active,
		       i.prior_to);
		if (i.dest < 2) {
			s->cid_events[i.dest]++;
			s->last_cid[i.dest] = i;
		}
	} else if (buf[0] == QUIC_EVENT_CONNECTION_MIGRATION && n >= 2) {
		printf("     %s event: connection migration local %u\n", who, (unsigned char)buf[1]);
		s->migrations[buf[1] ? 1 : 0]++;
	} else {
		printf("     %s event: type %d, %zd bytes\n", who, buf[0], n);
	}
}

static int events_on(int fd)
{
	struct quic_event_option a = { .type = QUIC_EVENT_CONNECTION_ID, .on = 1 };
	struct quic_event_option b = { .type = QUIC_EVENT_CONNECTION_MIGRATION, .on = 1 };

	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &a, sizeof(a)) ||
	       setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &b, sizeof(b));
}

static int cid_get(int fd, int dest, struct quic_connection_id_info *i)
{
	socklen_t len = sizeof(*i);

	memset(i, 0, sizeof(*i));
	i->dest = dest;
	return getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_ID, i, &len);
}

static int cid_set(int fd, int dest, unsigned active, unsigned prior_to)
{
	struct quic_connection_id_info i = { .dest = dest, .active = active, .prior_to = prior_to };

	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_ID, &i, sizeof(i));
}

static int migrate_to(int fd, const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &a, sizeof(a));
}

/* The address of getsockname / getpeername (IPv4 or IPv6), as text. */
static const char *addr_of(int fd, int peer)
{
	static char text[INET6_ADDRSTRLEN];

	return echo_addr_text(fd, peer, text);
}

/* ---- The client (a child process; its exit status is the failed step) ---- */

static struct seen client_seen;
static void client_event(int fd, const char *buf, ssize_t n)
{
	(void)fd;
	on_event(&client_seen, "client", buf, n);
}

static int echo(int fd, int round)
{
	return echo_once(fd, round, client_event);
}

static int client(void)
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
	struct quic_connection_id_info i, j;
	struct timeval limit = { .tv_sec = 20 };
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC), round = 0, k;

	srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	STEP(1, fd >= 0 && events_on(fd) == 0);
	STEP(2, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) == 0);
	/* Without a connection. */
	STEP(3, cid_get(fd, 1, &i) == -1 && errno == ENOTCONN);
	STEP(4, cid_set(fd, 1, 1, 0) == -1 && errno == ENOTCONN);
	STEP(5, migrate_to(fd, "127.0.0.2", 0) == -1 && errno == ENOTCONN);
	STEP(6, connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == 0);
	STEP(7, quic_client_handshake(fd, NULL, NULL, ALPN) == 0);
	STEP(8, echo(fd, round++) == 0 && echo(fd, round++) == 0);

	/* The server's CIDs (dest 1): sequence 0 in use, then 1 (§5.1.2). */
	STEP(10, cid_get(fd, 1, &i) == 0 && i.active == 0 && i.prior_to == 0);
	printf("     client: dest active %u prior_to %u\n", i.active, i.prior_to);
	STEP(11, cid_set(fd, 1, 1, 0) == 0);
	STEP(12, cid_get(fd, 1, &i) == 0 && i.active == 1 && i.prior_to == 1);
	STEP(13, echo(fd, round++) == 0);
	/* Bad numbers: not above the lowest, never issued, dest 2, short. */
	STEP(14, cid_set(fd, 1, 1, 0) == -1 && errno == EINVAL);
	STEP(15, cid_set(fd, 1, 1000, 0) == -1 && errno == EINVAL);
	STEP(16, cid_set(fd, 1, 0, 0) == -1 && errno == EINVAL);
	STEP(17, cid_set(fd, 2, 5, 0) == -1 && errno == EINVAL);
	i.dest = 1;
	STEP(18, setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_ID, &i, sizeof(i) - 1) == -1 && errno == EINVAL);
	{
		socklen_t short_len = sizeof(i) - 1;

		STEP(19, getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_ID, &i, &short_len) == -1 &&
				 errno == EINVAL);
	}

	/* Ours (dest 0): the server retires 0 and 1 on our Retire Prior To
	 * and moves to one at or above 2. */
	STEP(20, cid_get(fd, 0, &i) == 0 && i.prior_to == 0);
	printf("     client: source active %u prior_to %u\n", i.active, i.prior_to);
	STEP(21, cid_set(fd, 0, 0, 1000) == -1 && errno == EINVAL);
	STEP(22, cid_set(fd, 0, 0, 2) == 0);
	STEP(23, cid_get(fd, 0, &i) == 0 && i.prior_to == 2);
	for (k = 0; k < 20; k++) {
		STEP(24, echo(fd, round++) == 0);
		STEP(25, cid_get(fd, 0, &i) == 0);
		if (i.active >= 2)
			break;
	}
	printf("     client: source active %u prior_to %u\n", i.active, i.prior_to);
	STEP(26, i.active >= 2 && i.prior_to == 2);

	/* Migration: bad input first. */
	STEP(30, setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &srv, sizeof(srv) - 1) == -1 &&
			 errno == EINVAL);
	STEP(31, setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &v6, sizeof(v6)) == -1 &&
			 errno == EINVAL);
	STEP(32, migrate_to(fd, "192.0.2.1", 0) == -1 && errno == EADDRNOTAVAIL);
	{
		socklen_t len = sizeof(srv);

		STEP(33, getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &srv, &len) == -1 &&
				 errno == ENOPROTOOPT);
	}
	STEP(34, strcmp(addr_of(fd, 0), "127.0.0.1") == 0 || strcmp(addr_of(fd, 0), "0.0.0.0") == 0);
	/* Our own switch of the server's CID was no event. */
	STEP(35, cid_get(fd, 1, &j) == 0 && client_seen.cid_events[1] == 0);
	STEP(36, migrate_to(fd, "127.0.0.2", 0) == 0);
	for (k = 0; k < 40 && strcmp(addr_of(fd, 0), "127.0.0.2"); k++) {
		STEP(38, echo(fd, round++) == 0);
		usleep(50000);
	}
	printf("     client: local address %s after %d echoes\n", addr_of(fd, 0), k);
	STEP(39, strcmp(addr_of(fd, 0), "127.0.0.2") == 0);
	/* §9.5: a new CID of the server's on the new path. */
	STEP(40, cid_get(fd, 1, &i) == 0 && i.active != j.active);
	printf("     client: dest active %u prior_to %u after migration\n", i.active, i.prior_to);
	for (k = 0; k < 3; k++)
		STEP(41, echo(fd, round++) == 0);
	/* The migration's switch of the server's CID was one. */
	STEP(42, client_seen.migrations[1] == 1 && client_seen.migrations[0] == 0 && client_seen.cid_events[1] >= 1);
	printf("     client: %d echoes\n", round);
	fflush(stdout);
	close(fd);
	return 0;
}

/* IPv6: from ::1 to a second loopback address, fd00::2 (main adds it). */
static int client6(void)
{
	struct sockaddr_in6 srv = { .sin6_family = AF_INET6, .sin6_port = htons(PORT + 2),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	int fd = socket(AF_INET6, SOCK_DGRAM, IPPROTO_QUIC), k;

	memset(&client_seen, 0, sizeof(client_seen));
	inet_pton(AF_INET6, "fd00::2", &to.sin6_addr);
	STEP(60, fd >= 0 && events_on(fd) == 0 && connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == 0);
	STEP(61, quic_client_handshake(fd, NULL, NULL, ALPN) == 0 && echo(fd, 0) == 0 && echo(fd, 1) == 0);
	/* An IPv4 address on an IPv6 socket. */
	STEP(62, setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &v4, sizeof(v4)) == -1 &&
			 errno == EINVAL);
	STEP(63, setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_MIGRATION, &to, sizeof(to)) == 0);
	for (k = 0; k < 40 && strcmp(addr_of(fd, 0), "fd00::2"); k++) {
		STEP(64, echo(fd, 2 + k) == 0);
		usleep(50000);
	}
	STEP(65, strcmp(addr_of(fd, 0), "fd00::2") == 0);
	STEP(66, echo(fd, 100) == 0 && echo(fd, 101) == 0);
	STEP(67, client_seen.migrations[1] == 1);
	fflush(stdout);
	close(fd);
	return 0;
}

/* A server that sent disable_active_migration (RFC 9000 §18.2): the
 * client may not move; the connection carries on. */
static int client_unmovable(void)
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(PORT + 1) };
	struct quic_transport_param tp = { .remote = 1 };
	socklen_t len = sizeof(tp);
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);

	srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	STEP(50, fd >= 0 && connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == 0);
	STEP(51, quic_client_handshake(fd, NULL, NULL, ALPN) == 0 && echo(fd, 0) == 0);
	STEP(52, getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len) == 0 &&
			 tp.disable_active_migration == 1);
	STEP(53, migrate_to(fd, "127.0.0.2", 0) == -1 && errno == EINVAL);
	STEP(54, echo(fd, 1) == 0 && strcmp(addr_of(fd, 0), "0.0.0.0") == 0);
	fflush(stdout);
	close(fd);
	return 0;
}

/* ---- The server ---- */

static struct seen server_seen;
/* The peer's address when the server heard of its migration. */
static char peer_at_migration[INET6_ADDRSTRLEN];

static void server_event(int fd, const char *buf, ssize_t n)
{
	on_event(&server_seen, "server", buf, n);
	if (buf[0] == QUIC_EVENT_CONNECTION_MIGRATION)
		snprintf(peer_at_migration, sizeof(peer_at_migration), "%s", addr_of(fd, 1));
}

/* A listener on `addr` with events on, the server sending
 * disable_active_migration when `unmovable`. */
static int listener(const struct sockaddr *addr, socklen_t len, int unmovable)
{
	struct quic_transport_param tp = {};
	socklen_t tplen = sizeof(tp);
	int fd = socket(addr->sa_family, SOCK_STREAM, IPPROTO_QUIC);

	if (fd < 0 || events_on(fd) || getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &tplen))
		return -1;
	tp.disable_active_migration = unmovable;
	if (setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)) || bind(fd, addr, len) ||
	    setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) || listen(fd, 4)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* `client_main` in a child against listener `lfd`: the server's side
 * (accept, handshake, echoes, after `server_checks` on the connection)
 * and the child's exit status checked. The number of echoes. */
static int pair(int lfd, int (*client_main)(void), void (*server_checks)(int fd))
{
	struct timeval limit = { .tv_sec = 20 };
	int fd, status = -1, echoes;
	pid_t pid;

	memset(&server_seen, 0, sizeof(server_seen));
	peer_at_migration[0] = 0;
	CHECK(lfd >= 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(client_main());
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	CHECK(quic_server_handshake(fd, KEY, CERT, ALPN) == 0);
	if (server_checks)
		server_checks(fd);
	echoes = echo_serve(fd, server_event);
	printf("     server: %d echoes, peer %s at the migration event\n", echoes, peer_at_migration);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	close(lfd);
	return echoes;
}

static void server_cannot_migrate(int fd)
{
	struct quic_connection_id_info i;

	/* Only clients migrate (RFC 9000 §9). */
	FAILS_WITH(migrate_to(fd, "127.0.0.1", 0), EINVAL);
	FAILS_WITH(cid_get(fd, 2, &i), EINVAL);
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(PORT + 2),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct quic_connection_id_info i;
	int lfd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = listener((struct sockaddr *)&a, sizeof(a), 0);
	FAILS_WITH(cid_get(lfd, 0, &i), ENOTCONN);
	CHECK(pair(lfd, client, server_cannot_migrate) >= 7);
	/* The client moved to our CID 1 (dest 0 here), retired our first
	 * two of its own (dest 1 here: Retire Prior To 2). */
	CHECK(server_seen.cid_events[0] >= 1 && server_seen.cid_events[1] >= 1);
	CHECK(server_seen.last_cid[1].prior_to >= 2);
	CHECK(server_seen.migrations[0] == 1 && server_seen.migrations[1] == 0);
	CHECK(strcmp(peer_at_migration, "127.0.0.2") == 0);

	/* IPv6, to a second loopback address. */
	CHECK(system("ip addr add fd00::2/128 dev lo") == 0);
	CHECK(pair(listener((struct sockaddr *)&a6, sizeof(a6), 0), client6, NULL) >= 4);
	CHECK(server_seen.migrations[0] == 1 && strcmp(peer_at_migration, "fd00::2") == 0);

	/* disable_active_migration. */
	a.sin_port = htons(PORT + 1);
	CHECK(pair(listener((struct sockaddr *)&a, sizeof(a), 1), client_unmovable, NULL) == 2);
	CHECK(server_seen.migrations[0] == 0);
	return check_summary();
}
