// Events lost to net.quic.max_events are counted, not silent: a quic.ko
// client turns QUIC_EVENT_STREAM_MAX_DATA on and sends 64 KB into a server
// (libquic, a child) whose stream window is 4 KB, so that every window
// update it gets is an event, and reads none of them until the server
// has read it all and answered (it says so through a pipe). With
// max_events at 1 the client then finds one queued (more only if an
// update came after it began to read), and /proc/net/quic EventsDropped
// grew by the rest: the window moved about 6 times for 64 KB (the
// server's window doubles as it goes, RecvFlow).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"
#include "../proc_quic.h"

#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"
#define ALPN "qb-drops"
#define PORT 4480
#define DATA_LEN (64 * 1024)
#define WINDOW 4096
#define MAX_EVENTS "1"
#define MAX_EVENTS_DEFAULT "64"

static int sysctl_max_events(const char *value)
{
	FILE *f = fopen("/proc/sys/net/quic/max_events", "w");
	int ok = f && fputs(value, f) >= 0;

	return f && !fclose(f) && ok ? 0 : -1;
}

/* The server tells the client through this pipe that it answered. */
static int answered[2];

/* The server: reads the client's stream to its end, answers one byte. */
static int serve(int lfd)
{
	struct timeval limit = { .tv_sec = 20 };
	static char buf[8192];
	size_t got = 0;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) ||
	    quic_server_handshake(fd, KEY, CERT, ALPN))
		return 1;
	for (;;) {
		uint32_t flags = 0;
		int64_t sid = 0;
		ssize_t n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);

		if (n < 0)
			return 2;
		got += n;
		if (flags & MSG_QUIC_STREAM_FIN)
			break;
	}
	if (got != DATA_LEN || quic_sendmsg(fd, "k", 1, 0, MSG_QUIC_STREAM_FIN) != 1 || write(answered[1], "a", 1) != 1)
		return 3;
	/* Until the client is done. */
	while (quic_recvmsg(fd, buf, sizeof(buf), &(int64_t){ 0 }, &(uint32_t){ 0 }) > 0)
		;
	close(fd);
	return 0;
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct quic_event_option on = { .type = QUIC_EVENT_STREAM_MAX_DATA, .on = 1 };
	struct quic_transport_param tp = {};
	socklen_t tplen = sizeof(tp);
	static char data[DATA_LEN];
	unsigned char buf[256];
	long long dropped;
	int lfd, fd, kept = 0, answer = 0, status = -1, tries;
	char c;
	uint32_t flags = 0;
	int64_t sid = -1;
	pid_t server;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_QUIC);
	CHECK(lfd >= 0 && !getsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &tplen));
	tp.max_stream_data_bidi_remote = WINDOW;
	CHECK(!setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)) &&
	      !bind(lfd, (struct sockaddr *)&a, sizeof(a)) &&
	      !setsockopt(lfd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) && !listen(lfd, 1));
	CHECK(pipe(answered) == 0);
	server = fork();
	if (server == 0)
		_exit(serve(lfd));
	close(lfd);

	CHECK(sysctl_max_events(MAX_EVENTS) == 0);
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);
	CHECK(fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a)) && !quic_client_handshake(fd, NULL, NULL, ALPN));
	CHECK(!setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_EVENT, &on, sizeof(on)));
	dropped = quic_stat("EventsDropped");
	CHECK(dropped >= 0);
	memset(data, 'd', sizeof(data));
	CHECK(quic_sendmsg(fd, data, sizeof(data), -1, MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN) == DATA_LEN);
	/* The answer went after every window update the server sent; once it
	 * is here, so are they. */
	CHECK(read(answered[0], &c, 1) == 1);
	for (tries = 0; !answer && tries < 100; tries++) {
		usleep(100 * 1000);
		for (;;) {
			ssize_t n;

			flags = MSG_DONTWAIT;
			n = quic_recvmsg(fd, buf, sizeof(buf), &sid, &flags);
			if (n <= 0)
				break;
			if (flags & MSG_QUIC_NOTIFICATION)
				kept += buf[0] == QUIC_EVENT_STREAM_MAX_DATA;
			else
				answer = n == 1 && buf[0] == 'k';
		}
	}
	CHECK(answer);
	dropped = quic_stat("EventsDropped") - dropped;
	printf("     MAX_STREAM_DATA events kept %d, dropped %lld\n", kept, dropped);
	CHECK(kept >= 1);
	CHECK(dropped >= 1);
	close(fd);
	CHECK(waitpid(server, &status, 0) == server && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(sysctl_max_events(MAX_EVENTS_DEFAULT) == 0);
	return check_summary();
}
