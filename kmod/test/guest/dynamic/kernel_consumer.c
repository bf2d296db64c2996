// A kernel user of quic.ko's in-kernel API (include/net/quic.h):
// quic_sample.ko (kmod/sample/), driven through /proc/quic_sample, against
// a libquic server in a child process (ALPN "quic-sample"; it answers
// "answer: " and the request, with FIN, on the request's stream):
//   - "api": the option errno rules through quic_kernel_{set,get}sockopt,
//     and a kernel client's ClientHello read by a kernel listener's
//     accepted socket with kernel_recvmsg (no TLS peer needed);
//   - "fd N": a socket this process connected and completed with
//     quic_client_handshake, handed to the kernel, which sends the request
//     and reads the answer with quic_kernel_sendmsg / quic_kernel_recvmsg;
//   - "connect": on kernels with net/handshake (6.12; the module's
//     `handshake` parameter says), a kernel client whose handshake the
//     agent quic-handshaked runs (tls_client_hello_anon upcall), the server
//     certificate checked against the peer name the kernel passed: the
//     right name completes and exchanges, a wrong one fails with EACCES,
//     and with no agent listening the request fails. On 6.1 the command
//     fails with EOPNOTSUPP and the upcall checks are skipped (said so);
//   - "listen" + "accept" (net/handshake kernels): a kernel server whose
//     handshake the agent runs (tls_server_hello_x509), answering this
//     process's libquic client: with the agent's certificate file, with
//     the certificate and key from the keyring ("user" keys, add_key), and
//     with a keyring key that is no certificate (EKEYREJECTED). On 6.1 only
//     "listen" (EBUSY the second time), the listener left to module unload;
//   - PSK through the agent (net/handshake kernels): "accept psk SERIAL"
//     (tls_server_hello_psk) answering a libquic PSK client, and
//     "connect-psk" (tls_client_hello_psk) to a libquic PSK server, the key
//     a "user" key whose description is the identity: the right key
//     completes and the module's `peerid` names it (the agent's DONE
//     reported it); a key with the same identity and another secret fails
//     the kernel server's accept with EACCES (its agent's TLS refuses the
//     client, whose libquic client then has the agent's alert as a
//     CRYPTO_ERROR, RFC 9001 §4.8), and the kernel client's connect with
//     EACCES too (the libquic server refuses it and closes with a
//     CRYPTO_ERROR, which the agent takes for the keys not matching).
// The module is loaded here and unloaded before quic.ko (init.sh).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/quic.h>

#include "../guest_check.h"

#define KEY "/certs/key.pem"
#define CERT "/certs/cert.pem"
#define ALPN "quic-sample"
#define PORT 4455
/* The PSK cases' ports (PORT + 4 on would meet libquic_resume's). */
#define PSK_PORT 4480
#define PROC "/proc/quic_sample"
#define ANSWER "answer: hello from the kernel"
#define PSK_IDENTITY "quic-sample-psk"
#define PSK_FILE "/tmp/sample-psk.txt"
#define PSK_SECRET "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* One command to the module: 0, or -1 with its errno. */
static int command(const char *cmd)
{
	int fd = open(PROC, O_WRONLY), saved;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, cmd, strlen(cmd));
	saved = errno;
	close(fd);
	errno = saved;
	if (n < 0)
		printf("     %s: errno %d\n", cmd, errno);
	return n == (ssize_t)strlen(cmd) ? 0 : -1;
}

/* Whether the module's last answer is ANSWER. */
static int answered(void)
{
	char buf[256];
	int fd = open(PROC, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return 0;
	buf[n] = 0;
	printf("     answer: \"%s\"\n", buf);
	return !strcmp(buf, ANSWER);
}

/* One stream's bytes up to its FIN (or the buffer's end, or the
 * connection's) into buf, NUL-terminated; whether the FIN came. */
static int read_to_fin(int fd, char *buf, size_t size, int64_t *sid)
{
	uint32_t flags = 0;
	size_t got = 0;

	while (!(flags & MSG_QUIC_STREAM_FIN) && got < size - 1) {
		ssize_t n;

		flags = 0;
		n = quic_recvmsg(fd, buf + got, size - 1 - got, sid, &flags);
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = 0;
	return !!(flags & MSG_QUIC_STREAM_FIN);
}

/* A client socket to loopback:port, its handshake by libquic (with the
 * PSK file psk, else certificates) expected to succeed or not (`ok`); -1
 * if the socket could not be made. */
static int client(int port, int ok, const char *psk)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval limit = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK((quic_client_handshake(fd, psk, NULL, ALPN) == 0) == ok);
	return fd;
}

/* Answers requests on lfd's connections, with certificates or, given
 * psk, that PSK file. */
static void serve(int lfd, const char *psk)
{
	struct timeval limit = { .tv_sec = 20 };

	for (;;) {
		char req[128], out[160];
		int64_t sid = -1;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
		if (psk ? quic_server_handshake(fd, psk, NULL, ALPN) : quic_server_handshake(fd, KEY, CERT, ALPN)) {
			close(fd);
			continue;
		}
		if (read_to_fin(fd, req, sizeof(req), &sid)) {
			snprintf(out, sizeof(out), "answer: %s", req);
			quic_sendmsg(fd, out, strlen(out), sid, MSG_QUIC_STREAM_FIN);
		}
		/* Until the kernel closes (CONNECTION_CLOSE: recvmsg says 0). */
		while (recv(fd, req, sizeof(req), 0) > 0)
			;
		close(fd);
	}
}

static int listener(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_QUIC);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_ALPN, ALPN, strlen(ALPN)) || listen(fd, 4))
		return -1;
	return fd;
}

/* A client socket this process completes, handed to the kernel. */
static void handoff(void)
{
	int fd = client(PORT, 1, NULL);
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "fd %d", fd);
	CHECK(command(cmd) == 0);
	CHECK(answered());
	close(fd);
	/* Not a QUIC socket. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(cmd, sizeof(cmd), "fd %d", fd);
	FAILS_WITH(command(cmd), EPROTONOSUPPORT);
	close(fd);
	FAILS_WITH(command("fd 999"), EBADF);
}

/* Starts the agent; its pid once it said "ready", or -1. */
static pid_t agent(void)
{
	int p[2];
	char line[16] = "";
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/quic-handshaked", "quic-handshaked", "--cafile", CERT, "--cert", CERT, "--key", KEY,
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pid > 0 && (read(p[0], line, sizeof(line) - 1) < 5 || strncmp(line, "ready", 5))) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* A "user" key in the user keyring holding `len` bytes, readable by
 * every process of this user (the agent among them); its serial or -1. */
static int32_t add_user_key(const char *desc, const void *data, size_t len)
{
	long serial = syscall(SYS_add_key, "user", desc, data, len, KEY_SPEC_USER_KEYRING);

	if (serial < 0 || syscall(SYS_keyctl, KEYCTL_SETPERM, serial, 0x3f3f0000) < 0)
		return -1;
	return serial;
}

static int32_t add_file_key(const char *desc, const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	if (fd >= 0)
		close(fd);
	return n > 0 ? add_user_key(desc, buf, n) : -1;
}

/* The kernel server: "listen PORT", then "accept KEYS" in a child while
 * this process is the client (libquic; with the PSK file psk, else
 * certificates). With `fails_with` 0 the kernel answers the request; else
 * "accept" fails with that errno and so does the client's handshake. */
static void kernel_server(int port, const char *keys, int fails_with, const char *psk)
{
	static const char request[] = "hello from user space";
	struct quic_stream_info si = { .stream_id = -1 };
	socklen_t silen = sizeof(si);
	char cmd[64], buf[128];
	int64_t sid = -1;
	int fd, status = -1;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "listen %d", port);
	CHECK(command(cmd) == 0);
	pid = fork();
	if (pid == 0) {
		snprintf(cmd, sizeof(cmd), "accept %s", keys);
		_exit(command(cmd) == 0 ? 0 : errno);
	}
	fd = client(port, !fails_with, psk);
	/* The agent's TLS refused us: its libquic set the alert as the
	 * kernel socket's CRYPTO_ERROR close (0x100-0x1ff), which came when
	 * the module closed that socket. */
	if (fails_with == EACCES) {
		char cbuf[sizeof(struct quic_connection_close) + 256] = { 0 };
		struct quic_connection_close *cc = (struct quic_connection_close *)cbuf;
		socklen_t cclen = sizeof(cbuf);

		CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_CONNECTION_CLOSE, cbuf, &cclen) == 0);
		printf("     the client's handshake ended with CONNECTION_CLOSE 0x%x\n", cc->errcode);
		CHECK(cc->errcode >= QUIC_TRANSPORT_ERROR_CRYPTO && cc->errcode <= QUIC_TRANSPORT_ERROR_CRYPTO + 0xff);
	}
	if (!fails_with) {
		CHECK(getsockopt(fd, SOL_QUIC, QUIC_SOCKOPT_STREAM_OPEN, &si, &silen) == 0);
		CHECK(quic_sendmsg(fd, request, strlen(request), si.stream_id, MSG_QUIC_STREAM_FIN) ==
		      (ssize_t)strlen(request));
		CHECK(read_to_fin(fd, buf, sizeof(buf), &sid) && sid == si.stream_id);
		printf("     the kernel server answered \"%s\"\n", buf);
		CHECK(!strcmp(buf, "answer: hello from user space"));
	}
	close(fd);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == fails_with);
}

/* The kernel server with the agent's certificate, with the one from
 * keys (the same PEM files) and with a key that holds no certificate:
 * the agent used the keys (EKEYREJECTED, though its files are good). */
static void kernel_servers(void)
{
	int32_t cert = add_file_key("quic-sample:cert", CERT), key = add_file_key("quic-sample:key", KEY);
	int32_t junk = add_user_key("quic-sample:junk", "not a certificate", 17);
	char keys[32];

	kernel_server(PORT + 1, "", 0, NULL);
	CHECK(cert > 0 && key > 0 && junk > 0);
	snprintf(keys, sizeof(keys), "%d %d", cert, key);
	kernel_server(PORT + 2, keys, 0, NULL);
	snprintf(keys, sizeof(keys), "%d %d", junk, key);
	kernel_server(PORT + 3, keys, EKEYREJECTED, NULL);
}

/* The module's `peerid`: the identity the agent reported last. */
static long module_peerid(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/quic_sample/parameters/peerid", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* PSK handshakes through the agent, both ways: the key is a "user" key
 * named PSK_IDENTITY holding PSK_SECRET's bytes, the libquic peer's the
 * file PSK_FILE; a second key of that name (in a keyring of its own: in
 * one keyring add_key would update the first) holds another secret. */
static void psk_upcalls(void)
{
	unsigned char secret[32], other[32];
	int32_t ring = (int32_t)syscall(SYS_add_key, "keyring", "quic-sample-ring", NULL, 0, KEY_SPEC_USER_KEYRING);
	int32_t good, bad = -1;
	char cmd[64];
	FILE *f = fopen(PSK_FILE, "w");
	pid_t server;
	int lfd;

	for (int i = 0; i < 32; i++) {
		sscanf(PSK_SECRET + 2 * i, "%2hhx", &secret[i]);
		other[i] = secret[i] ^ 0x5a;
	}
	CHECK(f && fprintf(f, "%s:%s\n", PSK_IDENTITY, PSK_SECRET) > 0 && fclose(f) == 0);
	good = add_user_key(PSK_IDENTITY, secret, sizeof(secret));
	if (ring > 0 && syscall(SYS_keyctl, KEYCTL_SETPERM, ring, 0x3f3f0000) == 0) {
		bad = (int32_t)syscall(SYS_add_key, "user", PSK_IDENTITY, other, sizeof(other), ring);
		if (bad < 0 || syscall(SYS_keyctl, KEYCTL_SETPERM, bad, 0x3f3f0000) < 0)
			bad = -1;
	}
	CHECK(good > 0 && bad > 0 && good != bad);

	/* The kernel as the server. */
	snprintf(cmd, sizeof(cmd), "psk %d", good);
	kernel_server(PSK_PORT, cmd, 0, PSK_FILE);
	CHECK(module_peerid() == good);
	snprintf(cmd, sizeof(cmd), "psk %d", bad);
	kernel_server(PSK_PORT + 1, cmd, EACCES, PSK_FILE);

	/* The kernel as the client, of a libquic PSK server. */
	lfd = listener(PSK_PORT + 2);
	CHECK(lfd >= 0);
	server = fork();
	if (server == 0)
		serve(lfd, PSK_FILE);
	close(lfd);
	snprintf(cmd, sizeof(cmd), "connect-psk 127.0.0.1 %d %d", PSK_PORT + 2, good);
	CHECK(command(cmd) == 0);
	CHECK(answered());
	CHECK(module_peerid() == good);
	/* The libquic server's TLS refuses the binder, and its close carries
	 * the alert (CRYPTO_ERROR, RFC 9001 §4.8): the agent reports an
	 * authentication failure, not just that the peer hung up. */
	snprintf(cmd, sizeof(cmd), "connect-psk 127.0.0.1 %d %d", PSK_PORT + 2, bad);
	FAILS_WITH(command(cmd), EACCES);
	FAILS_WITH(command("connect-psk 127.0.0.1 4000 x"), EINVAL);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
}

static void upcall(void)
{
	char cmd[64], have = 'N';
	int fd = open("/sys/module/quic_sample/parameters/handshake", O_RDONLY);
	pid_t pid;

	CHECK(fd >= 0 && read(fd, &have, 1) == 1);
	close(fd);
	snprintf(cmd, sizeof(cmd), "connect 127.0.0.1 %d localhost", PORT);
	if (have != 'Y') {
		printf("SKIP net/handshake upcall: this kernel has no net/handshake (CONFIG_NET_HANDSHAKE, 6.4+)\n");
		FAILS_WITH(command(cmd), EOPNOTSUPP);
		/* A listener the module holds until it is unloaded. */
		snprintf(cmd, sizeof(cmd), "listen %d", PORT + 1);
		CHECK(command(cmd) == 0);
		FAILS_WITH(command(cmd), EBUSY);
		return;
	}
	pid = agent();
	CHECK(pid > 0);
	CHECK(command(cmd) == 0);
	CHECK(answered());
	/* The server's certificate names localhost, not this. */
	snprintf(cmd, sizeof(cmd), "connect 127.0.0.1 %d wrong.example", PORT);
	FAILS_WITH(command(cmd), EACCES);
	kernel_servers();
	psk_upcalls();
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	/* No agent listens: the request is refused (no listener, ESRCH). */
	snprintf(cmd, sizeof(cmd), "connect 127.0.0.1 %d localhost", PORT);
	FAILS_WITH(command(cmd), ESRCH);
}

int main(void)
{
	pid_t server;
	int lfd;

	CHECK(system("modprobe quic_sample") == 0);
	CHECK(command("api") == 0);
	FAILS_WITH(command("nonsense"), EINVAL);
	FAILS_WITH(command("connect 127.0.0.1"), EINVAL);
	lfd = listener(PORT);
	CHECK(lfd >= 0);
	server = fork();
	if (server == 0)
		serve(lfd, NULL);
	close(lfd);
	handoff();
	upcall();
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	CHECK(system("rmmod quic_sample") == 0);
	return check_summary();
}
