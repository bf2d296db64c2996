// Randomized IPPROTO_QUIC socket calls for a bounded time: random socket
// options (names, levels, lengths and contents, often near-valid), in
// random socket states (fresh, bound, connected to a UDP or QUIC peer,
// listening, shut down, after a close option), with random message flags
// and control messages, while another thread closes and reopens sockets
// under the callers. Every call must return success or an errno the kernel
// may give userspace (1..133: no ERESTARTSYS or other internal codes); the
// harness (kmod/test/init.sh) then checks the kernel log for oopses and
// warnings. Run in the guest by kmod/test/run.sh.
//   socket_fuzz [SECONDS [SEED]]   default 20 seconds, seed from the clock
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/quic.h>

#define SLOTS 8
#define CALLERS 2
#define LAST_ERRNO 133 /* EHWPOISON: the largest errno userspace can see */
#define BUF 65536

static _Atomic int slots[SLOTS];
static atomic_int stop;
static atomic_long calls, successes, bad;
static uint16_t udp_port;      /* a plain UDP socket on loopback */
static uint16_t listener_port; /* a QUIC socket listening on loopback, 0 if none */

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(next_rand(s) % n);
}

static void fill(uint64_t *s, void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)next_rand(s);
}

/* Counts the call and checks its outcome. */
static void outcome(const char *what, long rc, int err, int a, int b)
{
	atomic_fetch_add(&calls, 1);
	if (rc >= 0) {
		atomic_fetch_add(&successes, 1);
		return;
	}
	if (rc != -1 || err < 1 || err > LAST_ERRNO) {
		atomic_fetch_add(&bad, 1);
		printf("FAIL %s(%d, %d) returned %ld errno %d\n", what, a, b, rc, err);
	}
}

#define CALL(what, a, b, expr)                                \
	do {                                                  \
		long rc_;                                     \
		errno = 0;                                    \
		rc_ = (long)(expr);                           \
		outcome(what, rc_, errno, (int)(a), (int)(b)); \
	} while (0)

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int new_socket(uint64_t *s)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	int fd = socket(families[below(s, 2)], types[below(s, 2)] | SOCK_NONBLOCK, IPPROTO_QUIC);

	outcome("socket", fd, errno, 0, 0);
	return fd;
}

/* An option value: random bytes, or one of the uapi structs with fields
 * mostly in range, at a random length around its size. */
static socklen_t option_value(uint64_t *s, int name, uint8_t *buf)
{
	static const socklen_t lens[] = { 0, 1, 2, 3, 4, 7, 8, 12, 16, 20, 24, 48, 56, 64, 255, 256, 1024, 4096, BUF };
	socklen_t len = lens[below(s, sizeof(lens) / sizeof(lens[0]))];

	fill(s, buf, 512);
	if (below(s, 2) == 0)
		return len;
	switch (name) {
	case QUIC_SOCKOPT_CRYPTO_SECRET: {
		struct quic_crypto_secret *c = (void *)buf;
		static const uint32_t types[] = { 51, 52, 54, 0, 53 };

		c->send = below(s, 3);
		c->level = below(s, QUIC_CRYPTO_MAX + 1);
		c->type = types[below(s, 5)];
		len = sizeof(*c);
		break;
	}
	case QUIC_SOCKOPT_CONFIG: {
		struct quic_config *c = (void *)buf;

		c->version = below(s, 2) ? QUIC_VERSION_V1 : QUIC_VERSION_V2;
		c->congestion_control_algo = below(s, 3);
		c->certificate_request = below(s, 4);
		len = sizeof(*c);
		break;
	}
	case QUIC_SOCKOPT_TRANSPORT_PARAM:
		buf[0] = below(s, 2); /* remote */
		len = sizeof(struct quic_transport_param);
		break;
	case QUIC_SOCKOPT_ALPN:
		memcpy(buf, "hq-interop,h3", 14);
		len = below(s, 15);
		break;
	case QUIC_SOCKOPT_EVENT:
		buf[0] = below(s, QUIC_EVENT_MAX + 2);
		len = sizeof(struct quic_event_option);
		break;
	default:
		break;
	}
	return len + (below(s, 4) == 0 ? below(s, 9) : 0) - (below(s, 4) == 0 && len ? 1 : 0);
}

static void random_call(uint64_t *s, uint8_t *buf)
{
	int fd = slots[below(s, SLOTS)];
	static const int levels[] = { SOL_QUIC, SOL_QUIC, SOL_QUIC, SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP, 0x7fff };
	int level = levels[below(s, 8)], name = below(s, 4) ? (int)below(s, 17) : (int)next_rand(s);
	struct sockaddr_in peer;
	struct sockaddr_storage ss;
	socklen_t len;

	switch (below(s, 14)) {
	case 0:
	case 1:
	case 2:
		len = option_value(s, name, buf);
		CALL("setsockopt", level, name, setsockopt(fd, level, name, below(s, 50) ? buf : NULL, len));
		break;
	case 3:
	case 4: {
		static const socklen_t lens[] = { 0, 1, 4, 8, 16, 24, 48, 56, 64, 128, 1024, BUF };

		len = lens[below(s, sizeof(lens) / sizeof(lens[0]))];
		fill(s, buf, 64); /* get of STREAM_OPEN and others read the input too */
		CALL("getsockopt", level, name, getsockopt(fd, level, name, below(s, 50) ? buf : NULL, &len));
		break;
	}
	case 5:
		peer = loopback(below(s, 4) ? 0 : (uint16_t)next_rand(s));
		CALL("bind", fd, 0, bind(fd, (struct sockaddr *)&peer, below(s, 8) ? sizeof(peer) : below(s, 32)));
		break;
	case 6: {
		uint16_t port = below(s, 2) && listener_port ? listener_port : below(s, 2) ? udp_port : (uint16_t)next_rand(s);

		peer = loopback(port);
		if (below(s, 8) == 0)
			peer.sin_family = (sa_family_t)next_rand(s);
		CALL("connect", fd, port, connect(fd, (struct sockaddr *)&peer, sizeof(peer)));
		break;
	}
	case 7:
		CALL("listen", fd, 0, listen(fd, (int)below(s, 8) - 1));
		break;
	case 8: {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK);

		outcome("accept", c, errno, fd, 0);
		if (c >= 0)
			close(c);
		break;
	}
	case 9:
	case 10: {
		/* A message with random flags and maybe a stream or handshake
		 * control message; never blocking. */
		union {
			char buf[CMSG_SPACE(sizeof(struct quic_stream_info)) + CMSG_SPACE(64)];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = below(s, 4) ? below(s, 1500) : below(s, BUF) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		int flags = (int)(next_rand(s) & (below(s, 2) ? 0x1fe00 : 0x7fffffff)) | MSG_DONTWAIT;

		flags &= ~MSG_WAITALL;
		fill(s, buf, 64);
		if (below(s, 2)) {
			struct cmsghdr *c;

			fill(s, &control, sizeof(control));
			m.msg_control = &control;
			m.msg_controllen = below(s, 4) ? CMSG_SPACE(sizeof(struct quic_stream_info)) : below(s, sizeof(control) + 1);
			c = CMSG_FIRSTHDR(&m);
			if (c && below(s, 4)) {
				c->cmsg_level = below(s, 8) ? SOL_QUIC : (int)next_rand(s);
				c->cmsg_type = below(s, 3);
				c->cmsg_len = below(s, 4) ? CMSG_LEN(sizeof(struct quic_stream_info)) : below(s, 128);
				if (c->cmsg_type == QUIC_STREAM_INFO && below(s, 2)) {
					struct quic_stream_info *si = (void *)CMSG_DATA(c);

					si->stream_id = below(s, 2) ? -1 : (int64_t)below(s, 16);
					si->stream_flags = (uint32_t)next_rand(s) & 0x1fe00;
				}
			}
		}
		if (below(s, 2))
			CALL("sendmsg", fd, flags, sendmsg(fd, &m, flags));
		else
			CALL("recvmsg", fd, flags, recvmsg(fd, &m, flags));
		break;
	}
	case 11:
		CALL("shutdown", fd, 0, shutdown(fd, (int)below(s, 4)));
		break;
	case 12:
		len = below(s, 8) ? sizeof(ss) : below(s, 8);
		if (below(s, 2))
			CALL("getsockname", fd, 0, getsockname(fd, (struct sockaddr *)&ss, &len));
		else
			CALL("getpeername", fd, 0, getpeername(fd, (struct sockaddr *)&ss, &len));
		break;
	default: {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLERR };
		int n = 0;

		CALL("poll", fd, 0, poll(&p, 1, 0));
		CALL("ioctl", fd, FIONREAD, ioctl(fd, FIONREAD, &n));
		break;
	}
	}
}

static void *caller(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;
	uint8_t *buf = malloc(BUF);

	if (!buf)
		return NULL;
	while (!atomic_load(&stop))
		random_call(&s, buf);
	free(buf);
	return NULL;
}

/* Closes and reopens sockets while the callers use them: the closed fd
 * may be reused at once, by one of ours or not. */
static void *closer(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;

	while (!atomic_load(&stop)) {
		int i = below(&s, SLOTS), fd = new_socket(&s);

		if (fd >= 0)
			close(atomic_exchange(&slots[i], fd));
		usleep(below(&s, 2000));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 20;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL | 1;
	uint64_t s = seed;
	pthread_t threads[CALLERS + 1];
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int udp = socket(AF_INET, SOCK_DGRAM, 0), listener = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_QUIC);

	/* A hang is a failure too: the alarm ends the program. */
	alarm((unsigned)seconds + 60);
	signal(SIGPIPE, SIG_IGN);
	printf("seed 0x%llx, %d seconds\n", (unsigned long long)seed, seconds);
	if (udp < 0 || bind(udp, (struct sockaddr *)&a, sizeof(a)) || getsockname(udp, (struct sockaddr *)&a, &len)) {
		perror("udp peer");
		return 1;
	}
	udp_port = ntohs(a.sin_port);
	a = loopback(0);
	len = sizeof(a);
	if (listener >= 0 && !bind(listener, (struct sockaddr *)&a, sizeof(a)) && !listen(listener, 4) &&
	    !getsockname(listener, (struct sockaddr *)&a, &len))
		listener_port = ntohs(a.sin_port);
	printf("quic listener: %s\n", listener_port ? "yes" : "no (listen refused)");
	for (int i = 0; i < SLOTS; i++)
		slots[i] = new_socket(&s);
	for (int i = 0; i < CALLERS; i++)
		pthread_create(&threads[i], NULL, caller, (void *)(uintptr_t)(next_rand(&s) | 1));
	pthread_create(&threads[CALLERS], NULL, closer, (void *)(uintptr_t)(next_rand(&s) | 1));
	sleep((unsigned)seconds);
	atomic_store(&stop, 1);
	for (int i = 0; i <= CALLERS; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < SLOTS; i++)
		close(slots[i]);
	close(listener);
	close(udp);
	printf("%ld calls, %ld succeeded, %ld with an invalid result\n", atomic_load(&calls), atomic_load(&successes),
	       atomic_load(&bad));
	return atomic_load(&bad) ? 1 : 0;
}
