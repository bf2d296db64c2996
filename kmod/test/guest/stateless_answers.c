/* A quic.ko listener's stateless answers, to a plain UDP socket:
 *   - Version Negotiation (RFC 9000 §6.1, §17.2.1) to long headers of
 *     version 0x1a2a3a4a (reserved, §15): a 1200-byte datagram is answered
 *     with version 0, the connection IDs swapped, a list naming versions
 *     1 and 2 (RFC 9369) and one reserved version (0x?a?a?a?a); a shorter
 *     one, and a Version Negotiation packet itself, get no answer;
 *   - a version 1 Initial carrying a Retry token that is none of the
 *     listener's (§8.1.2): an Initial back to our Source Connection ID
 *     (its CONNECTION_CLOSE with INVALID_TOKEN is protected with the
 *     Initial keys), counted as InitialsRefused.
 * Static: no TLS is involved. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/quic.h>

#include "guest_check.h"
#include "proc_quic.h"

#define PORT 4464
#define UNKNOWN_VERSION 0x1a2a3a4a

static const unsigned char dcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const unsigned char scid[5] = { 0xa, 0xb, 0xc, 0xd, 0xe };

/* A long header (§17.2) of `version` with our connection IDs, padded to
 * `len` bytes. */
static size_t long_header(unsigned char *out, uint32_t version, size_t len)
{
	size_t n = 0;

	memset(out, 0, len);
	out[n++] = 0xc0;	/* long header, fixed bit */
	out[n++] = version >> 24;
	out[n++] = version >> 16;
	out[n++] = version >> 8;
	out[n++] = version;
	out[n++] = sizeof(dcid);
	memcpy(out + n, dcid, sizeof(dcid));
	n += sizeof(dcid);
	out[n++] = sizeof(scid);
	memcpy(out + n, scid, sizeof(scid));
	return len;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks a Version Negotiation packet answering long_header(). */
static int is_vn_reply(const unsigned char *p, ssize_t n)
{
	int v1 = 0, v2 = 0, grease = 0;
	ssize_t off;

	if (n < 7 || !(p[0] & 0x80) || be32(p + 1) != 0)
		return 0;
	/* §17.2.1: its Destination Connection ID is our Source one, and back. */
	if (p[5] != sizeof(scid) || memcmp(p + 6, scid, sizeof(scid)))
		return 0;
	off = 6 + sizeof(scid);
	if (p[off] != sizeof(dcid) || memcmp(p + off + 1, dcid, sizeof(dcid)))
		return 0;
	off += 1 + sizeof(dcid);
	if ((n - off) % 4)
		return 0;
	for (; off < n; off += 4) {
		uint32_t v = be32(p + off);

		printf("     offered version 0x%08x\n", v);
		v1 += v == QUIC_VERSION_V1;
		v2 += v == QUIC_VERSION_V2;
		grease += (v & 0x0f0f0f0f) == 0x0a0a0a0a;
		if (v == UNKNOWN_VERSION)
			return 0;
	}
	return v1 == 1 && v2 == 1 && grease == 1;
}

/* A version 1 Initial (§17.2.2) of `len` bytes whose token claims to be a
 * Retry token (its first byte 'R', the kind our tokens carry) but is
 * random. */
static size_t initial_with_bad_token(unsigned char *out, size_t len)
{
	size_t n = 6 + sizeof(dcid) + 1 + sizeof(scid), rest;

	long_header(out, QUIC_VERSION_V1, len);
	out[n++] = 41;	/* Token Length */
	out[n] = 'R';
	memset(out + n + 1, 0x11, 40);
	n += 41;
	rest = len - n - 2;	/* the Length field: 2 bytes */
	out[n++] = 0x40 | rest >> 8;
	out[n++] = rest & 0xff;
	return len;
}

/* An answer, which comes from a work item: up to 5 s under emulation on a
 * loaded host (once more than the 0.5 s the silences are given). */
static ssize_t answer(int udp, unsigned char *in, size_t cap)
{
	struct timeval wait = { .tv_sec = 5 }, silence = { .tv_usec = 500000 };
	ssize_t n;

	setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	n = recv(udp, in, cap, 0);
	setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &silence, sizeof(silence));
	return n;
}

int main(void)
{
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval tv = { .tv_usec = 500000 };
	unsigned char out[1200], in[1500];
	int l = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC), udp = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t n;

	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(l >= 0 && udp >= 0);
	CHECK(bind(l, (struct sockaddr *)&server, sizeof(server)) == 0);
	CHECK(setsockopt(l, SOL_QUIC, QUIC_SOCKOPT_ALPN, "vn", 2) == 0 && listen(l, 1) == 0);
	CHECK(setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	CHECK(connect(udp, (struct sockaddr *)&server, sizeof(server)) == 0);

	CHECK(send(udp, out, long_header(out, UNKNOWN_VERSION, 1200), 0) == 1200);
	n = answer(udp, in, sizeof(in));
	printf("     answer: %zd bytes\n", n);
	CHECK(is_vn_reply(in, n));

	/* §6.1: no answer that could amplify, none to Version Negotiation. */
	CHECK(send(udp, out, long_header(out, UNKNOWN_VERSION, 1199), 0) == 1199);
	FAILS_WITH(recv(udp, in, sizeof(in), 0), EAGAIN);
	CHECK(send(udp, out, long_header(out, 0, 1200), 0) == 1200);
	FAILS_WITH(recv(udp, in, sizeof(in), 0), EAGAIN);

	{
		long long refused = quic_stat("InitialsRefused");

		CHECK(send(udp, out, initial_with_bad_token(out, 1200), 0) == 1200);
		n = answer(udp, in, sizeof(in));
		printf("     answer to a bad Retry token: %zd bytes, first byte 0x%02x\n", n, in[0]);
		CHECK(n > 7 && (in[0] & 0xf0) == 0xc0 && be32(in + 1) == QUIC_VERSION_V1 && in[5] == sizeof(scid) &&
		      !memcmp(in + 6, scid, sizeof(scid)));
		CHECK(quic_stat("InitialsRefused") == refused + 1);
	}

	close(udp);
	close(l);
	return check_summary();
}
