// /proc/net/quic and the net.quic sysctls per network namespace:
//   - a child unshare()s a new network namespace (CLONE_NEWNET) and brings
//     its loopback up: there every counter starts at 0 and the sysctls at
//     their defaults, whatever the initial namespace holds (this test sets
//     its initial_backlog to 33 first);
//   - net.quic.initial_backlog 0 in the new namespace drops a datagram for
//     a listener there (DatagramsDropped, no Version Negotiation); set back
//     to 64 the same datagram gets its Version Negotiation;
//   - a connection there (libquic handshake, a request and its answer)
//     counts there: ConnectionsOpened 1, ConnectionsAccepted 1,
//     HandshakesCompleted 2, datagrams both ways;
//   - the initial namespace's counters did not move meanwhile and its
//     initial_backlog is still 33;
//   - once the child is gone (a descriptor of its namespace kept here), that
//     namespace's sockets and closing connections reach 0; then the
//     namespace goes (the descriptor closed): quic.ko's module references
//     are back where they were and the kernel log has no warning.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../lo_up.h"
#include "../proc_quic.h"

#define PORT 4472
#define VN_PORT 4473
#define ALPN "qb-netns"

/* The counters a connection or a datagram moves. */
static const char *const moving[] = { "ConnectionsOpened", "ConnectionsAccepted", "HandshakesCompleted",
				      "DatagramsReceived", "DatagramsSent", "DatagramsDropped",
				      "VersionNegotiationsSent", "ConnectionsClosed" };
#define NMOVING (sizeof(moving) / sizeof(moving[0]))

static int sysctl_set(const char *name, const char *value)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), "/proc/sys/net/quic/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

static long sysctl_get(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/quic/%s", name);
	f = fopen(path, "r");
	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* Every counter of /proc/net/quic is 0; how many there are in *n. */
static int all_zero(int *n)
{
	char key[64];
	long long v;
	int nonzero = 0;
	FILE *f = fopen("/proc/net/quic", "r");

	*n = 0;
	while (f && fscanf(f, "%63s %lld", key, &v) == 2) {
		(*n)++;
		if (v) {
			printf("     %s %lld in the new namespace\n", key, v);
			nonzero++;
		}
	}
	if (f)
		fclose(f);
	return f && !nonzero;
}

static long module_refs(void)
{
	FILE *f = fopen("/sys/module/quic/refcnt", "r");
	long v = -1;

	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* Waits up to `secs` for counter `name` to read `want`. */
static int wait_stat(const char *name, long long want, int secs)
{
	for (int i = 0; i < secs * 10; i++) {
		if (quic_stat(name) == want)
			return 0;
		usleep(100000);
	}
	return -1;
}

/* A 1200-byte long header of a reserved version (RFC 9000 §15) to a
 * listener on VN_PORT: whether a Version Negotiation packet came back. */
static int vn_answered(int udp)
{
	unsigned char out[1200] = { 0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9 }, in[1500];
	ssize_t n;

	if (send(udp, out, sizeof(out), 0) != sizeof(out))
		return -1;
	n = recv(udp, in, sizeof(in), 0);
	return n > 5 && (in[0] & 0x80) && !in[1] && !in[2] && !in[3] && !in[4];
}

static void backlog_checks(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(VN_PORT) };
	struct timeval tv = { .tv_usec = 300000 };
	int l = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC), udp = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(l >= 0 && udp >= 0 && bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(setsockopt(l, SOL_QUIC, QUIC_SOCKOPT_ALPN, "vn", 2) == 0 && listen(l, 1) == 0);
	CHECK(setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	CHECK(connect(udp, (struct sockaddr *)&a, sizeof(a)) == 0);
	/* No room for datagrams from unknown peers in this namespace. */
	CHECK(sysctl_set("initial_backlog", "0") == 0 && sysctl_get("initial_backlog") == 0);
	CHECK(vn_answered(udp) == 0);
	CHECK(quic_stat("DatagramsDropped") == 1 && quic_stat("VersionNegotiationsSent") == 0);
	CHECK(sysctl_set("initial_backlog", "64") == 0);
	CHECK(vn_answered(udp) == 1);
	CHECK(quic_stat("DatagramsDropped") == 1 && quic_stat("VersionNegotiationsSent") == 1);
	close(udp);
	close(l);
}

static int client(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	char buf[64];
	int64_t sid = -1;
	uint32_t flags = 0;
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(quic_client_handshake(fd, NULL, NULL, ALPN) == 0);
	CHECK(quic_sendmsg(fd, "ping", 4, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) == 4);
	n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);
	CHECK(n == 4 && !memcmp(buf, "pong", 4) && (flags & MSG_QUIC_STREAM_FIN));
	close(fd);
	return failures;
}

/* The server's side of client(): its handshake, "ping" answered with
 * "pong". Whether all went well. */
static int serve_ping(int lfd)
{
	struct timeval limit = { .tv_sec = 20 };
	char buf[64];
	int64_t sid = -1;
	uint32_t flags = 0;
	int fd = accept(lfd, NULL, NULL), ok;

	ok = fd >= 0 && quic_server_handshake(fd, "/certs/key.pem", "/certs/cert.pem", ALPN) == 0 &&
	     !setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) &&
	     quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags) == 4 && !memcmp(buf, "ping", 4) &&
	     quic_sendmsg(fd, "pong", 4, sid, MSG_QUIC_STREAM_FIN) == 4;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* In the new namespace: the counters and sysctls there, and a connection. */
static int child(int ready)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int nstats = 0, lfd, status = -1;
	pid_t pid;

	CHECK(unshare(CLONE_NEWNET) == 0);
	CHECK(write(ready, "n", 1) == 1);	/* the parent keeps a descriptor of it */
	close(ready);
	CHECK(lo_up() == 0);
	CHECK(all_zero(&nstats) && nstats >= 15);
	CHECK(sysctl_get("initial_backlog") == 64 && sysctl_get("max_events") == 64);
	backlog_checks();

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) == 0 && listen(lfd, 1) == 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int rc = client();

		fflush(stdout);
		_exit(rc ? 1 : 0);
	}
	CHECK(serve_ping(lfd));
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(quic_stat("ConnectionsOpened") == 1 && quic_stat("ConnectionsAccepted") == 1);
	CHECK(quic_stat("HandshakesCompleted") == 2);
	CHECK(quic_stat("DatagramsReceived") > 2 && quic_stat("DatagramsSent") > 2);
	printf("     new namespace: %lld datagrams received, %lld sent\n", quic_stat("DatagramsReceived"),
	       quic_stat("DatagramsSent"));
	close(lfd);
	return failures;
}

/* In the namespace `nsfd` names (a process of its own): its sockets and
 * closing connections end. */
static int ended_in(int nsfd)
{
	pid_t pid;
	int status = -1;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		CHECK(setns(nsfd, CLONE_NEWNET) == 0);
		CHECK(wait_stat("ConnectionsClosing", 0, 20) == 0);
		CHECK(wait_stat("Sockets", 0, 5) == 0);
		CHECK(quic_stat("ConnectionsClosed") == 2);
		fflush(stdout);
		_exit(failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The kernel log: a warning, a bug, or quic.ko's word on a namespace. */
static int log_clean(void)
{
	static char log[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);

	if (n < 0)
		return 0;
	log[n] = 0;
	return !strstr(log, "WARNING:") && !strstr(log, "BUG:") && !strstr(log, "quic: a namespace");
}

int main(void)
{
	long long before[NMOVING];
	long refs;
	int p[2], status = -1, nsfd = -1;
	char path[64], c;
	pid_t pid;

	/* Connections of earlier tests end first: this namespace is quiet. */
	CHECK(wait_stat("ConnectionsClosing", 0, 20) == 0);
	CHECK(sysctl_set("initial_backlog", "33") == 0);
	for (size_t i = 0; i < NMOVING; i++)
		before[i] = quic_stat(moving[i]);
	refs = module_refs();
	CHECK(refs >= 0 && pipe(p) == 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int rc;

		close(p[0]);
		rc = child(p[1]);
		fflush(stdout);
		_exit(rc ? 1 : 0);
	}
	close(p[1]);
	/* The child's namespace, held past the child's end. */
	CHECK(read(p[0], &c, 1) == 1);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	nsfd = open(path, O_RDONLY);
	CHECK(nsfd >= 0);
	close(p[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Nothing of it counted here; this namespace's limit unchanged. */
	for (size_t i = 0; i < NMOVING; i++) {
		long long now = quic_stat(moving[i]);

		if (now != before[i])
			printf("     %s moved here: %lld -> %lld\n", moving[i], before[i], now);
		CHECK(now == before[i]);
	}
	CHECK(sysctl_get("initial_backlog") == 33);
	CHECK(sysctl_set("initial_backlog", "64") == 0);

	CHECK(nsfd >= 0 && ended_in(nsfd) == 0);
	close(nsfd);
	/* The namespace goes (its cleanup runs in a work item): the module's
	 * references are back (every socket of it gone). */
	for (int i = 0; i < 100 && module_refs() != refs; i++)
		usleep(100000);
	CHECK(module_refs() == refs);
	sleep(1);
	CHECK(log_clean());
	return check_summary();
}
