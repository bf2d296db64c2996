// Bulk throughput over loopback in the guest, the same boot for all three:
// quic.ko (one stream, libquic handshake, AES-128-GCM), plain TCP, and TCP
// with kTLS (tls.ko, TLS 1.3 AES-128-GCM keys set with TLS_TX / TLS_RX),
// for 1 KB, 4 KB, 16 KB and 64 KB writes. A forked receiver reads and
// discards until the end of the data; the time is from the first write
// until the receiver has read the last byte. Under TCG the absolute rates
// mean nothing: the lines print the ratios QUIC/kTLS and QUIC/TCP, of the
// best of three runs each.
// QUICBED_BENCH_MB (kernel command line) sets the bytes per run (default 8);
// QUICBED_BENCH_MTU, when set, the loopback MTU first (loopback's 64 KB
// lets QUIC's path MTU search and TCP's segments grow alike; 1500 shows
// an Ethernet-sized path); QUICBED_BENCH_SIZE, when set, the one write size
// to measure; QUICBED_BENCH_MODE (quic, tcp or ktls) the one kind to run,
// for a profile of it alone (no ratios then).
// Not a CI test: `QUICBED_KMOD_BENCH=1 bash kmod/test/run.sh KVER OUT`.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tls.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest/proc_quic.h"

#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"
#define ALPN "bench"
#define PORT 4500
#define ROUNDS 3

enum mode { QUIC, TCP, KTLS };
static const char *const mode_name[] = { "quic", "tcp", "ktls" };

static size_t total_bytes(void)
{
	const char *mb = getenv("QUICBED_BENCH_MB");

	return (size_t)(mb && atoi(mb) > 0 ? atoi(mb) : 8) << 20;
}

/* QUICBED_BENCH_MTU: the loopback MTU for every run; 0 when unchanged. */
static int set_mtu(void)
{
	const char *v = getenv("QUICBED_BENCH_MTU");
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err;

	if (!v || atoi(v) <= 0)
		return 0;
	ifr.ifr_mtu = atoi(v);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	err = fd < 0 || ioctl(fd, SIOCSIFMTU, &ifr) ? -1 : ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	return err;
}

/* The same TLS 1.3 AES-128-GCM keys on both ends (one direction is used):
 * the numbers are arbitrary, only the record processing is measured. */
static int ktls_setup(int fd, int dir)
{
	struct tls12_crypto_info_aes_gcm_128 ci = {
		.info = { .version = TLS_1_3_VERSION, .cipher_type = TLS_CIPHER_AES_GCM_128 },
	};

	memset(ci.key, 0x11, sizeof(ci.key));
	memset(ci.iv, 0x22, sizeof(ci.iv));
	memset(ci.salt, 0x33, sizeof(ci.salt));
	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -1;
	return setsockopt(fd, SOL_TLS, dir, &ci, sizeof(ci));
}

/* A stuck run fails instead of hanging the guest. */
static int limit_time(int fd)
{
	struct timeval limit = { .tv_sec = 60 };

	return fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) ||
	       setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
}

/* The receiver: one connection, every byte read and dropped; exits 0 when
 * exactly `total` bytes came. Says it listens through `ready`. */
static int receiver(enum mode m, size_t total, int ready)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	static char buf[65536];
	size_t got = 0;
	int one = 1, lfd, fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = m == QUIC ? socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC) : socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    (m == QUIC && setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN))) || listen(lfd, 1))
		return 2;
	if (write(ready, "r", 1) != 1)
		return 2;
	fd = accept(lfd, NULL, NULL);
	if (limit_time(fd) || (m == QUIC && quic_server_handshake(fd, KEY, CERT, ALPN)) ||
	    (m == KTLS && ktls_setup(fd, TLS_RX)))
		return 3;
	for (;;) {
		ssize_t n;

		if (m == QUIC) {
			uint32_t flags = 0;
			int64_t sid;

			n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);
			if (n > 0)
				got += n;
			if (n < 0) {
				printf("QBBENCH receiver: recvmsg errno %d after %zu bytes\n", errno, got);
				break;
			}
			if (flags & MSG_QUIC_STREAM_FIN)
				break;
		} else {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			got += n;
		}
	}
	/* The sender's close waits for this byte: the data all arrived. */
	if ((m == QUIC ? quic_sendmsg(fd, "k", 1, -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN)
		       : write(fd, "k", 1)) != 1)
		return 4;
	close(fd);
	close(lfd);
	return got == total ? 0 : 5;
}

/* One run: MB/s from the sender's first write to the receiver's
 * acknowledgement of the last byte, or a negative step on failure. */
static double run(enum mode m, size_t wsize, size_t total)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	static char buf[65536];
	struct timespec t0, t1;
	int ready[2], fd, status;
	size_t sent = 0;
	char c;
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0)
		_exit(receiver(m, total, ready[1]));
	if (read(ready[0], &c, 1) != 1)
		return -2;
	close(ready[0]);
	close(ready[1]);
	fd = m == QUIC ? socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC) : socket(AF_INET, SOCK_STREAM, 0);
	if (limit_time(fd) || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (m == QUIC && quic_client_handshake(fd, NULL, NULL, ALPN)) || (m == KTLS && ktls_setup(fd, TLS_TX)))
		return -3;
	memset(buf, 0x5a, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < total) {
		size_t n = total - sent < wsize ? total - sent : wsize;
		ssize_t w;

		if (m == QUIC)
			w = quic_sendmsg(fd, buf, n, -1,
					 (sent ? 0 : MSG_QUIC_STREAM_NEW) | (sent + n == total ? MSG_QUIC_STREAM_FIN : 0));
		else
			w = write(fd, buf, n);
		if (w <= 0) {
			printf("QBBENCH sender: errno %d after %zu bytes\n", errno, sent);
			return -4;
		}
		sent += w;
	}
	/* TCP: the end of the data is the FIN. */
	if (m != QUIC && shutdown(fd, SHUT_WR))
		return -6;
	if (m == QUIC) {
		uint32_t flags = 0;
		int64_t sid;

		if (quic_recvmsg(fd, &c, 1, &sid, &flags) != 1)
			return -5;
	} else if (read(fd, &c, 1) != 1) {
		return -5;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -10 - (WIFEXITED(status) ? WEXITSTATUS(status) : 99);
	return (double)total / (1 << 20) / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

int main(void)
{
	static const size_t sizes[] = { 1024, 4096, 16384, 65536 };
	const char *only = getenv("QUICBED_BENCH_SIZE"), *kind = getenv("QUICBED_BENCH_MODE");
	size_t total = total_bytes();
	int failed = 0;

	int mtu = set_mtu();

	signal(SIGPIPE, SIG_IGN);
	if (mtu < 0) {
		printf("QBBENCH cannot set the loopback MTU (errno %d)\n", errno);
		return 1;
	}
	printf("QBBENCH %zu MB per run, loopback%s%.0d, MB/s under emulation (ratios are the result)\n", total >> 20,
	       mtu ? " MTU " : "", mtu);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double r[3];

		if (only && atoi(only) > 0 && (size_t)atoi(only) != sizes[i])
			continue;

		/* The best of ROUNDS, the three kinds taking turns, so that the
		 * host's load reaches each alike. */
		r[QUIC] = r[TCP] = r[KTLS] = 0;
		long long sent = quic_stat("DatagramsSent");
		for (int round = 0; round < ROUNDS; round++) {
			for (int m = QUIC; m <= KTLS; m++) {
				if (kind && *kind && strcmp(kind, mode_name[m]))
					continue;
				double v = run(m, sizes[i], total);

				if (v < 0) {
					printf("QBBENCH %s %zu-byte writes failed at step %d (errno %d)\n",
					       mode_name[m], sizes[i], (int)-v, errno);
					failed = 1;
				}
				if (v > r[m])
					r[m] = v;
			}
		}
		/* Both ends' datagrams (data and acknowledgements), per MB moved:
		 * the per-packet costs are behind the ratio at small sizes. */
		sent = quic_stat("DatagramsSent") - sent;
		printf("QBBENCH write %5zu: quic %7.1f tcp %7.1f ktls %7.1f  quic/ktls %.2f  quic/tcp %.2f  "
		       "quic datagrams/MB %.0f\n",
		       sizes[i], r[QUIC], r[TCP], r[KTLS], r[QUIC] / r[KTLS], r[QUIC] / r[TCP],
		       (double)sent / ROUNDS / (total >> 20));
		fflush(stdout);
	}
	return failed;
}
