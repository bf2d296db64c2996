// A client connection's first flight through quic.ko, with a plain UDP
// socket as the "server": connect() returns at once and sends nothing until
// the handshake process hands down its ClientHello (sendmsg with
// QUIC_HANDSHAKE_INFO); then a real QUIC v1 Initial (RFC 9000 §17.2.2, in
// a datagram of at least 1200 bytes, §14.1) leaves the kernel, and the loss
// timer (RFC 9002 §6.2) sends it again when nothing answers. Garbage from
// the peer is dropped. After close() the closing state answers late
// datagrams with CONNECTION_CLOSE; a connection that closed by itself
// before close() with SO_LINGER and no time waits for its closing state's
// end without spinning. Prints one line per check; exit 1 on a failure.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/quic.h>

#include "guest_check.h"


static ssize_t send_handshake(int fd, const void *data, size_t len, uint8_t level)
{
	char control[CMSG_SPACE(sizeof(struct quic_handshake_info))] = {};
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	struct quic_handshake_info info = { .crypto_level = level };

	cmsg->cmsg_level = SOL_QUIC;
	cmsg->cmsg_type = QUIC_HANDSHAKE_INFO;
	cmsg->cmsg_len = CMSG_LEN(sizeof(info));
	memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
	return sendmsg(fd, &msg, 0);
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* RFC 9000 §17.2.2: a long header (0x80), fixed bit (0x40), type Initial
 * (0) in version 1, a Destination Connection ID of at least 8 bytes
 * (§7.2). */
static int is_v1_initial(const unsigned char *d, ssize_t n)
{
	return n >= 1200 && (d[0] & 0xf0) == 0xc0 && d[1] == 0 && d[2] == 0 && d[3] == 0 && d[4] == 1 && d[5] >= 8;
}

/* Local timer interrupts so far, over all CPUs: /proc/interrupts' LOC
 * line (x86). */
static unsigned long long timer_interrupts(void)
{
	unsigned long long sum = 0, v;
	char line[1024], *p, *end;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "LOC:", 4))
			continue;
		for (p += 4;; p = end) {
			v = strtoull(p, &end, 10);
			if (end == p)
				break;
			sum += v;
		}
	}
	fclose(f);
	return sum;
}

/* A connection that closed by itself (the peer's transport parameters are
 * malformed: TRANSPORT_PARAMETER_ERROR, RFC 9000 §7.4) before close() with
 * SO_LINGER and no time: the orphan's closing state (§10.2) waits for its
 * own end, idle, rather than waking at once, again and again, for a
 * deadline already past. */
static void closed_before_close(void)
{
	struct sockaddr_in server = { .sin_family = AF_INET };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	static const unsigned char bad_tp[] = { 0x01, 0x08 };	/* max_idle_timeout, 8 bytes promised, none */
	int udp = socket(AF_INET, SOCK_DGRAM, 0), q = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	socklen_t alen = sizeof(server);
	unsigned long long irqs;
	unsigned char buf[2048];

	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(udp, (struct sockaddr *)&server, sizeof(server)) == 0);
	CHECK(getsockname(udp, (struct sockaddr *)&server, &alen) == 0);
	CHECK(connect(q, (struct sockaddr *)&server, sizeof(server)) == 0);
	setsockopt(q, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM_EXT, bad_tp, sizeof(bad_tp));
	/* Its CONNECTION_CLOSE, in an Initial. */
	set_timeout(udp, 2000);
	CHECK(is_v1_initial(buf, recv(udp, buf, sizeof(buf), 0)));
	CHECK(setsockopt(q, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	close(q);
	/* The closing state lasts three PTOs (about 3 s here): a timer armed
	 * as already due would fire thousands of times in this second. */
	irqs = timer_interrupts();
	sleep(1);
	irqs = timer_interrupts() - irqs;
	printf("     timer interrupts in the second after close(): %llu\n", irqs);
	CHECK(irqs > 0 && irqs < 2000);
	close(udp);
}

int main(void)
{
	struct sockaddr_in server = { .sin_family = AF_INET }, client;
	socklen_t alen = sizeof(server);
	unsigned char buf[2048], hello[300];
	struct quic_crypto_secret secret = { .send = 0, .level = QUIC_CRYPTO_HANDSHAKE, .type = 51 };
	int udp = socket(AF_INET, SOCK_DGRAM, 0), q = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	socklen_t len;
	ssize_t n;

	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(udp, (struct sockaddr *)&server, sizeof(server)) == 0);
	CHECK(getsockname(udp, (struct sockaddr *)&server, &alen) == 0);

	/* Before connect() there is no connection to hand anything to. */
	FAILS_WITH(send_handshake(q, hello, sizeof(hello), QUIC_CRYPTO_INITIAL), ENOTCONN);
	len = sizeof(buf);
	FAILS_WITH(getsockopt(q, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM_EXT, buf, &len), ENOTCONN);

	CHECK(connect(q, (struct sockaddr *)&server, sizeof(server)) == 0);
	FAILS_WITH(connect(q, (struct sockaddr *)&server, sizeof(server)), EISCONN);
	alen = sizeof(client);
	CHECK(getsockname(q, (struct sockaddr *)&client, &alen) == 0 && client.sin_port != 0);

	/* Our transport parameters for the process's ClientHello. */
	len = sizeof(buf);
	CHECK(getsockopt(q, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM_EXT, buf, &len) == 0 && len > 10);
	len = 4;
	FAILS_WITH(getsockopt(q, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM_EXT, buf, &len), EINVAL);

	/* Nothing leaves before the ClientHello. */
	set_timeout(udp, 300);
	FAILS_WITH(recv(udp, buf, sizeof(buf), 0), EAGAIN);
	FAILS_WITH(recv(q, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	memset(hello, 0x16, sizeof(hello));
	hello[0] = 1;	/* a ClientHello's handshake type; the kernel does not parse it */
	FAILS_WITH(send_handshake(q, hello, sizeof(hello), 9), EINVAL);
	FAILS_WITH(send_handshake(q, hello, sizeof(hello), QUIC_CRYPTO_EARLY), EINVAL);
	CHECK(send_handshake(q, hello, sizeof(hello), QUIC_CRYPTO_INITIAL) == sizeof(hello));

	set_timeout(udp, 2000);
	n = recv(udp, buf, sizeof(buf), 0);
	CHECK(is_v1_initial(buf, n));
	printf("     first datagram: %zd bytes, first byte 0x%02x\n", n, buf[0]);

	/* Garbage from the peer's address is dropped without harm. */
	memset(buf, 0xab, 1200);
	alen = sizeof(client);
	CHECK(sendto(udp, buf, 1200, 0, (struct sockaddr *)&client, sizeof(client)) == 1200);
	usleep(100000);
	FAILS_WITH(recv(q, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* No answer: the probe timeout sends the Initial again. */
	set_timeout(udp, 3000);
	n = recv(udp, buf, sizeof(buf), 0);
	CHECK(is_v1_initial(buf, n));

	/* Secrets: Initial ones are not TLS's; a Handshake one is taken. */
	memset(secret.secret, 7, sizeof(secret.secret));
	CHECK(setsockopt(q, SOL_QUIC, QUIC_SOCKOPT_CRYPTO_SECRET, &secret, sizeof(secret)) == 0);
	secret.level = QUIC_CRYPTO_INITIAL;
	FAILS_WITH(setsockopt(q, SOL_QUIC, QUIC_SOCKOPT_CRYPTO_SECRET, &secret, sizeof(secret)), EINVAL);

	/* close() during the handshake (RFC 9000 §10.2): CONNECTION_CLOSE in
	 * an Initial, then the closing state sends nothing more of itself
	 * but answers each late datagram with CONNECTION_CLOSE again
	 * (§10.2.1), the socket gone meanwhile. Earlier Initials go first. */
	set_timeout(udp, 200);
	while (recv(udp, buf, sizeof(buf), 0) > 0)
		;
	close(q);
	set_timeout(udp, 2000);
	n = recv(udp, buf, sizeof(buf), 0);
	CHECK(is_v1_initial(buf, n));
	set_timeout(udp, 500);
	FAILS_WITH(recv(udp, buf, sizeof(buf), 0), EAGAIN);
	memset(buf, 0xab, 1200);
	CHECK(sendto(udp, buf, 1200, 0, (struct sockaddr *)&client, sizeof(client)) == 1200);
	set_timeout(udp, 2000);
	n = recv(udp, buf, sizeof(buf), 0);
	printf("     late datagram answered: %zd bytes, first byte 0x%02x\n", n, buf[0]);
	CHECK(is_v1_initial(buf, n));
	close(udp);
	closed_before_close();
	return check_summary();
}
