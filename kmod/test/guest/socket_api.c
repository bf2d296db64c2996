// The IPPROTO_QUIC socket API without a connection: socket creation for
// both families and types, bind on a real UDP port, getsockname, and every
// socket option's answer to good and bad input (kmod/glue/sockopt.c lists
// the errno rules). Run in the guest by kmod/test/run.sh; prints one line
// per check, exits 1 if any failed.
//   socket_api        run the checks
//   socket_api hold   open and bind a socket, then sleep (unload test)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/quic.h>

#include "guest_check.h"



static int quic_socket(int family, int type)
{
	return socket(family, type, IPPROTO_QUIC);
}

static struct sockaddr_in loopback4(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void creation(void)
{
	int families[] = { AF_INET, AF_INET6 }, types[] = { SOCK_DGRAM, SOCK_STREAM };

	for (int f = 0; f < 2; f++) {
		for (int t = 0; t < 2; t++) {
			int fd = quic_socket(families[f], types[t]);

			CHECK(fd >= 0);
			if (fd >= 0)
				close(fd);
		}
	}
	FAILS_WITH(quic_socket(AF_INET, SOCK_SEQPACKET), ESOCKTNOSUPPORT);
}

static void binding(void)
{
	int a = quic_socket(AF_INET, SOCK_DGRAM), b = quic_socket(AF_INET, SOCK_DGRAM);
	int c = quic_socket(AF_INET6, SOCK_DGRAM), udp = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = loopback4(0), in;
	struct sockaddr_in6 six = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int one = 1;
	uint16_t port;

	FAILS_WITH(bind(a, (struct sockaddr *)&any, sizeof(any) - 4), EINVAL);
	FAILS_WITH(bind(a, (struct sockaddr *)&six, sizeof(six)), EAFNOSUPPORT);
	CHECK(bind(a, (struct sockaddr *)&any, sizeof(any)) == 0);
	port = bound_port(a);
	CHECK(port != 0);
	FAILS_WITH(bind(a, (struct sockaddr *)&any, sizeof(any)), EINVAL);

	/* The port is a real UDP port: plain UDP cannot take it. */
	in = loopback4(port);
	FAILS_WITH(bind(udp, (struct sockaddr *)&in, sizeof(in)), EADDRINUSE);
	/* Another QUIC socket shares it only with SO_REUSEADDR. */
	FAILS_WITH(bind(b, (struct sockaddr *)&in, sizeof(in)), EADDRINUSE);
	CHECK(setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	CHECK(bind(b, (struct sockaddr *)&in, sizeof(in)) == 0);
	CHECK(bound_port(b) == port);

	CHECK(bind(c, (struct sockaddr *)&six, sizeof(six)) == 0);
	CHECK(bound_port(c) != 0);

	/* Closing every sharer frees the port. */
	close(a);
	close(b);
	CHECK(bind(udp, (struct sockaddr *)&in, sizeof(in)) == 0);
	close(c);
	close(udp);
}

static void transport_params(int fd)
{
	struct quic_transport_param tp = {};
	socklen_t len = sizeof(tp);

	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len) == 0);
	CHECK(len == sizeof(tp) && tp.max_idle_timeout == 30000000 && tp.ack_delay_exponent == 3 &&
	      tp.max_streams_bidi == 100 && tp.active_connection_id_limit == 7);
	tp.max_idle_timeout = 5000000;
	tp.max_data = 1 << 20;
	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)) == 0);
	memset(&tp, 0, sizeof(tp));
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len) == 0);
	CHECK(tp.max_idle_timeout == 5000000 && tp.max_data == 1 << 20);

	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp) - 1), EINVAL);
	tp.ack_delay_exponent = 21;	/* RFC 9000 §18.2: at most 20 */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)), EINVAL);
	tp.ack_delay_exponent = 3;
	tp.max_udp_payload_size = 1199;	/* at least 1200 */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)), EINVAL);
	len = sizeof(tp) - 1;
	FAILS_WITH(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len), EINVAL);
	/* No peer parameters yet. */
	memset(&tp, 0, sizeof(tp));
	tp.remote = 1;
	len = sizeof(tp);
	FAILS_WITH(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len), ENOTCONN);
}

static void config(int fd)
{
	struct quic_config c = {};
	socklen_t len = sizeof(c);

	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, &len) == 0);
	CHECK(c.version == QUIC_VERSION_V1);
	c.version = QUIC_VERSION_V2;
	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, sizeof(c)) == 0);
	c.version = 5;
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, sizeof(c)), EINVAL);
	c.version = QUIC_VERSION_V1;
	c.certificate_request = 3;
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, sizeof(c)), EINVAL);
	c.certificate_request = 0;
	c.payload_cipher_type = 53;	/* AES-CCM: not offered */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, sizeof(c)), EINVAL);
	memset(&c, 0, sizeof(c));
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, &len) == 0);
	CHECK(c.version == QUIC_VERSION_V2);
}

static void events(int fd)
{
	struct quic_event_option ev = { .type = QUIC_EVENT_KEY_UPDATE, .on = 1 };
	socklen_t len = sizeof(ev);

	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, sizeof(ev)) == 0);
	ev.on = 0;
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, &len) == 0 && ev.on == 1);
	ev.type = QUIC_EVENT_NEW_TOKEN;
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, &len) == 0 && ev.on == 0);
	ev.type = QUIC_EVENT_NONE;
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, sizeof(ev)), EINVAL);
	ev.type = QUIC_EVENT_MAX;
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, sizeof(ev)), EINVAL);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &ev, 1), EINVAL);
}

static void alpn_and_buffers(int fd)
{
	char buf[600];
	socklen_t len = sizeof(buf);
	/* errcode, frame, then the phrase right after (offset 5). */
	union {
		struct quic_connection_close c;
		char bytes[64];
	} close_info = {};
	unsigned int phrase_at = offsetof(struct quic_connection_close, phrase);

	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, "h3,smb", 6) == 0);
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, buf, &len) == 0 && len == 6 && !memcmp(buf, "h3,smb", 6));
	len = 3;
	FAILS_WITH(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, buf, &len), EINVAL);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, "h3,,x", 5), EINVAL);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, "h3,", 3), EINVAL);
	memset(buf, 'a', sizeof(buf));
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, buf, 300), EINVAL);

	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, "tok", 3) == 0);
	len = sizeof(buf);
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, buf, &len) == 0 && len == 3);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_TOKEN, buf, 513), EINVAL);

	close_info.c.errcode = 42;
	memcpy(close_info.c.phrase, "bye", 3);
	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, &close_info, phrase_at + 3) == 0);
	memset(&close_info, 0, sizeof(close_info));
	len = sizeof(close_info);
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, &close_info, &len) == 0);
	CHECK(len == phrase_at + 3 && close_info.c.errcode == 42 && !memcmp(close_info.c.phrase, "bye", 3));
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, &close_info, 2), EINVAL);
}

static void without_connection(int fd)
{
	struct quic_errinfo err = { .stream_id = 0, .errcode = 1 };
	struct quic_stream_info si = { .stream_id = -1 };
	struct quic_crypto_secret secret = { .send = 1, .level = QUIC_CRYPTO_HANDSHAKE, .type = 51 };
	socklen_t len = sizeof(si);
	char c = 0;

	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_KEY_UPDATE, NULL, 0), ENOTCONN);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_RESET, &err, sizeof(err) - 1), EINVAL);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_RESET, &err, sizeof(err)), ENOTCONN);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_STOP_SENDING, &err, sizeof(err)), ENOTCONN);
	FAILS_WITH(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_OPEN, &si, &len), ENOTCONN);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CRYPTO_SECRET, &secret, sizeof(secret)), ENOTCONN);
	secret.level = QUIC_CRYPTO_MAX;
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CRYPTO_SECRET, &secret, sizeof(secret)), EINVAL);
	secret.level = QUIC_CRYPTO_APP;
	secret.type = 53;
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CRYPTO_SECRET, &secret, sizeof(secret)), EINVAL);

	/* Unknown options, set-only options got, get-only options set, other levels. */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, 99, &c, 1), ENOPROTOOPT);
	len = 1;
	FAILS_WITH(getsockopt(fd, SOL_QUIC, 99, &c, &len), ENOPROTOOPT);
	len = 1;
	FAILS_WITH(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_KEY_UPDATE, &c, &len), ENOPROTOOPT);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_OPEN, &si, sizeof(si)), ENOPROTOOPT);
	FAILS_WITH(setsockopt(fd, IPPROTO_UDP, 1, &c, 1), ENOPROTOOPT);

	FAILS_WITH(send(fd, "x", 1, 0), ENOTCONN);
	FAILS_WITH(recv(fd, &c, 1, MSG_DONTWAIT), ENOTCONN);
	FAILS_WITH(shutdown(fd, SHUT_WR), ENOTCONN);
}

static void listening(void)
{
	int fd = quic_socket(AF_INET, SOCK_STREAM);
	struct sockaddr_in a = loopback4(0);
	struct quic_config c = {};
	socklen_t len = sizeof(c);

	FAILS_WITH(listen(fd, 8), EINVAL);	/* unbound */
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	FAILS_WITH(accept(fd, NULL, NULL), EINVAL);	/* not listening */
	CHECK(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, "h3", 2) == 0);
	CHECK(listen(fd, 8) == 0);
	/* No client yet: a non-blocking accept() has nothing. */
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	FAILS_WITH(accept(fd, NULL, NULL), EAGAIN);
	/* Configuration belongs before listen(). */
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, "hq", 2), EINVAL);
	CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, &len) == 0);
	FAILS_WITH(setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONFIG, &c, sizeof(c)), EINVAL);
	close(fd);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc > 1 && !strcmp(argv[1], "hold")) {
		struct sockaddr_in a = loopback4(0);

		fd = quic_socket(AF_INET, SOCK_DGRAM);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
			return 1;
		printf("holding a bound QUIC socket\n");
		fflush(stdout);
		pause();
		return 0;
	}
	creation();
	binding();
	fd = quic_socket(AF_INET, SOCK_DGRAM);
	transport_params(fd);
	config(fd);
	events(fd);
	alpn_and_buffers(fd);
	without_connection(fd);
	close(fd);
	listening();
	return check_summary();
}
