// SPDX-License-Identifier: GPL-2.0
/* quic_sample.ko: a kernel user of IPPROTO_QUIC sockets through quic.ko's
 * in-kernel API (include/net/quic.h), driven from /proc/quic_sample for
 * the guest tests (test/guest/dynamic/kernel_consumer.c).
 *
 * Commands written to /proc/quic_sample (the write fails with the errno of
 * what went wrong; a read then returns the server's answer):
 *   api            checks of the API without a TLS peer: option errno rules
 *                  through quic_kernel_{set,get}sockopt, then a kernel
 *                  client's connect() to a kernel listener, kernel_accept,
 *                  and the ClientHello read with kernel_recvmsg and its
 *                  QUIC_HANDSHAKE_INFO cmsg (Initial level);
 *   fd N           the established client socket the writing process made
 *                  and completed (its descriptor N): the request/answer
 *                  exchange below on it;
 *   connect IP PORT [PEERNAME]
 *                  (net/handshake kernels only, else EOPNOTSUPP) a kernel
 *                  client socket offering ALPN "quic-sample", connected to
 *                  IP:PORT, its handshake asked of the user-space agent
 *                  with tls_client_hello_anon() (PEERNAME: the name the
 *                  agent checks the server's certificate against), then
 *                  the exchange;
 *   connect-psk IP PORT SERIAL
 *                  the same with tls_client_hello_psk(): the pre-shared
 *                  key the key with that serial (identity: its
 *                  description);
 *   listen PORT    a kernel listener on 127.0.0.1:PORT offering "quic-sample"
 *                  (EBUSY while one waits);
 *   accept [CERT KEY | psk SERIAL]
 *                  (net/handshake kernels; on 6.1 the accepted socket gets
 *                  EOPNOTSUPP) the listener's first connection, its
 *                  handshake asked of the agent with tls_server_hello_x509()
 *                  (the certificate and private key: the keys with those
 *                  serials, else the agent's own; with "psk",
 *                  tls_server_hello_psk() and that key), then the request read up to
 *                  its FIN (a read returns it), "answer: " and the request
 *                  sent back with FIN, and the client's close awaited; the
 *                  listener closes.
 * The exchange: "hello from the kernel" on a new bidirectional stream with
 * FIN, then the server's answer up to its FIN. The peer identity the agent
 * reported for the last handshake that completed (a key serial, for PSK
 * the key used; 0: none) is the read-only parameter `peerid`. */
#include <linux/completion.h>
#include <linux/file.h>
#include <linux/inet.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#if IS_ENABLED(CONFIG_NET_HANDSHAKE)
#include <net/handshake.h>
#endif

#include <net/quic.h>

#define SAMPLE_ALPN "quic-sample"
#define SAMPLE_REQUEST "hello from the kernel"
#define SAMPLE_TIMEOUT (10 * HZ)

static bool handshake = IS_ENABLED(CONFIG_NET_HANDSHAKE);
module_param(handshake, bool, 0444);
MODULE_PARM_DESC(handshake, "Whether this kernel has net/handshake (the connect command); read only");

static int peerid;
module_param(peerid, int, 0444);
MODULE_PARM_DESC(peerid, "The peer identity (key serial) of the last agent handshake, 0 for none; read only");

static DEFINE_MUTEX(sample_lock);	/* one command at a time; guards answer */
static char answer[256];
static size_t answer_len;

/* One stream's bytes up to its FIN into `answer`: the stream in *sid
 * (-1: whichever comes first). */
static int sample_read_stream(struct socket *sock, s64 *sid)
{
	u32 flags = 0;
	s64 got;
	int n;

	while (!(flags & MSG_QUIC_STREAM_FIN)) {
		if (answer_len == sizeof(answer))
			return -EMSGSIZE;
		n = quic_kernel_recvmsg(sock, answer + answer_len, sizeof(answer) - answer_len, &got, &flags, 0);
		if (n < 0)
			return n;
		if (got < 0)
			return -ECONNRESET;	/* the connection ended first */
		if (*sid >= 0 && got != *sid)
			return -EPROTO;
		*sid = got;
		answer_len += n;
	}
	return 0;
}

/* The request on a new bidirectional stream, the answer up to its FIN. */
static int sample_exchange(struct socket *sock)
{
	struct quic_stream_info si = { .stream_id = -1 };
	unsigned int len = sizeof(si);
	int n;

	n = quic_kernel_getsockopt(sock->sk, QUIC_SOCKOPT_STREAM_OPEN, &si, &len);
	if (n)
		return n;
	n = quic_kernel_sendmsg(sock, SAMPLE_REQUEST, strlen(SAMPLE_REQUEST), si.stream_id, MSG_QUIC_STREAM_FIN, 0);
	if (n != strlen(SAMPLE_REQUEST))
		return n < 0 ? n : -EIO;
	return sample_read_stream(sock, &si.stream_id);
}

/* "fd N": a socket the process handed over, its handshake done. */
static int sample_fd(int fd)
{
	struct socket *sock;
	long rcvtimeo, sndtimeo;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock)
		return err;
	if (sock->sk->sk_protocol != IPPROTO_QUIC) {
		sockfd_put(sock);
		return -EPROTONOSUPPORT;
	}
	/* The kernel waits a bounded time, whatever the process set. */
	rcvtimeo = sock->sk->sk_rcvtimeo;
	sndtimeo = sock->sk->sk_sndtimeo;
	sock->sk->sk_rcvtimeo = SAMPLE_TIMEOUT;
	sock->sk->sk_sndtimeo = SAMPLE_TIMEOUT;
	err = sample_exchange(sock);
	sock->sk->sk_rcvtimeo = rcvtimeo;
	sock->sk->sk_sndtimeo = sndtimeo;
	sockfd_put(sock);
	return err;
}

/* ---- "api" ----------------------------------------------------------------- */

static int api_failures;

static void api_expect(bool ok, const char *what)
{
	if (!ok) {
		pr_err("quic_sample: api check failed: %s\n", what);
		api_failures++;
	}
}
#define EXPECT(cond) api_expect(cond, #cond)

static int sample_socket(struct socket **sock)
{
	int err = sock_create_kern(&init_net, AF_INET, SOCK_DGRAM, IPPROTO_QUIC, sock);

	if (err)
		return err;
	(*sock)->sk->sk_rcvtimeo = SAMPLE_TIMEOUT;
	(*sock)->sk->sk_sndtimeo = SAMPLE_TIMEOUT;
	err = quic_kernel_setsockopt((*sock)->sk, QUIC_SOCKOPT_ALPN, SAMPLE_ALPN, strlen(SAMPLE_ALPN));
	if (err)
		sock_release(*sock);
	return err;
}

/* The options through the kernel entry points, on a fresh socket: the
 * same values and errno rules as setsockopt(2)/getsockopt(2) (quic(7)). */
static void api_options(struct socket *sock)
{
	struct quic_transport_param tp = {};
	struct quic_stream_info si = { .stream_id = -1 };
	char alpn[32];
	unsigned int len;

	EXPECT(quic_kernel_setsockopt(sock->sk, 0x7fff, alpn, sizeof(alpn)) == -ENOPROTOOPT);
	len = sizeof(alpn);
	EXPECT(quic_kernel_getsockopt(sock->sk, QUIC_SOCKOPT_ALPN, alpn, &len) == 0 && len == strlen(SAMPLE_ALPN) &&
	       !memcmp(alpn, SAMPLE_ALPN, len));
	len = 1;	/* shorter than the value */
	EXPECT(quic_kernel_getsockopt(sock->sk, QUIC_SOCKOPT_ALPN, alpn, &len) == -EINVAL);
	len = sizeof(tp);
	EXPECT(quic_kernel_getsockopt(sock->sk, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len) == 0 && len == sizeof(tp) &&
	       tp.max_idle_timeout == 30000000 && tp.active_connection_id_limit == 7);
	tp.max_streams_bidi = 5;
	EXPECT(quic_kernel_setsockopt(sock->sk, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp)) == 0);
	EXPECT(quic_kernel_setsockopt(sock->sk, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, sizeof(tp) - 1) == -EINVAL);
	memset(&tp, 0, sizeof(tp));
	len = sizeof(tp);
	EXPECT(quic_kernel_getsockopt(sock->sk, QUIC_SOCKOPT_TRANSPORT_PARAM, &tp, &len) == 0 &&
	       tp.max_streams_bidi == 5);
	len = sizeof(si);
	EXPECT(quic_kernel_getsockopt(sock->sk, QUIC_SOCKOPT_STREAM_OPEN, &si, &len) == -ENOTCONN);
	EXPECT(quic_kernel_sendmsg(sock, "x", 1, -1, 0, MSG_DONTWAIT) == -ENOTCONN);
}

/* A ClientHello (RFC 8446 §4.1.2) whose one extension is ALPN (RFC 7301
 * §3.1, type 16) offering SAMPLE_ALPN: what the listener's dispatch reads
 * (no TLS runs here). Its length. */
static size_t sample_client_hello(u8 *p)
{
	size_t alpn = strlen(SAMPLE_ALPN), ext = 2 + 1 + alpn;
	/* version, random, session ID, cipher suites, compression methods,
	 * the extensions' length, the extension's header and body */
	size_t body = 2 + 32 + 1 + 4 + 2 + 2 + 4 + ext;
	u8 *q = p;

	*q++ = 1;	/* client_hello */
	*q++ = 0;
	*q++ = body >> 8;
	*q++ = body;
	*q++ = 3;	/* legacy_version 0x0303 */
	*q++ = 3;
	memset(q, 0x5a, 32);
	q += 32;
	*q++ = 0;	/* legacy_session_id: empty */
	*q++ = 0;	/* one cipher suite: TLS_AES_128_GCM_SHA256 */
	*q++ = 2;
	*q++ = 0x13;
	*q++ = 0x01;
	*q++ = 1;	/* legacy_compression_methods: null */
	*q++ = 0;
	*q++ = 0;
	*q++ = 4 + ext;
	*q++ = 0;
	*q++ = 16;
	*q++ = 0;
	*q++ = ext;
	*q++ = 0;
	*q++ = 1 + alpn;
	*q++ = alpn;
	memcpy(q, SAMPLE_ALPN, alpn);
	return q + alpn - p;
}

/* Handshake data at the Initial level, with the QUIC_HANDSHAKE_INFO cmsg. */
static int sample_send_initial(struct socket *sock, const u8 *data, size_t len)
{
	u8 control[CMSG_SPACE(sizeof(struct quic_handshake_info))] = {};
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg = (struct cmsghdr *)control;
	struct kvec iov = { .iov_base = (void *)data, .iov_len = len };

	cmsg->cmsg_level = SOL_QUIC;
	cmsg->cmsg_type = QUIC_HANDSHAKE_INFO;
	cmsg->cmsg_len = CMSG_LEN(sizeof(struct quic_handshake_info));
	((struct quic_handshake_info *)CMSG_DATA(cmsg))->crypto_level = QUIC_CRYPTO_INITIAL;
	return kernel_sendmsg(sock, &msg, &iov, 1, len);
}

/* A kernel client's ClientHello reaches a kernel listener offering the
 * same ALPN: kernel_accept returns the connection, and kernel_recvmsg on
 * it the same ClientHello at the Initial level (QUIC_HANDSHAKE_INFO). */
static void api_loopback(struct socket *lsock)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	u8 control[CMSG_SPACE(sizeof(struct quic_handshake_info))] = {};
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg = (struct cmsghdr *)control;
	struct socket *csock, *asock;
	u8 hello[96], *buf;
	size_t hello_len = sample_client_hello(hello);
	struct kvec iov;
	int n;

	EXPECT(kernel_bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	addr.sin_port = inet_sk(lsock->sk)->inet_sport;
	EXPECT(addr.sin_port != 0);
	EXPECT(kernel_listen(lsock, 4) == 0);
	if (sample_socket(&csock)) {
		EXPECT(!"client socket");
		return;
	}
	EXPECT(sample_send_initial(csock, hello, hello_len) == -ENOTCONN);
	EXPECT(kernel_connect(csock, (struct sockaddr *)&addr, sizeof(addr), 0) == 0);
	EXPECT(kernel_connect(csock, (struct sockaddr *)&addr, sizeof(addr), 0) == -EISCONN);
	EXPECT(sample_send_initial(csock, hello, hello_len) == hello_len);
	n = kernel_accept(lsock, &asock, 0);
	EXPECT(n == 0);
	buf = kmalloc(4096, GFP_KERNEL);
	if (!n && buf) {
		iov.iov_base = buf;
		iov.iov_len = 4096;
		n = kernel_recvmsg(asock, &msg, &iov, 1, 4096, 0);
		EXPECT(n == hello_len && !memcmp(buf, hello, hello_len));
		EXPECT(msg.msg_controllen == sizeof(control) - CMSG_SPACE(sizeof(struct quic_handshake_info)));
		EXPECT(cmsg->cmsg_level == SOL_QUIC && cmsg->cmsg_type == QUIC_HANDSHAKE_INFO &&
		       ((struct quic_handshake_info *)CMSG_DATA(cmsg))->crypto_level == QUIC_CRYPTO_INITIAL);
		sock_release(asock);
	}
	kfree(buf);
	sock_release(csock);
}

static int sample_api(void)
{
	struct socket *sock;
	int err = sample_socket(&sock);

	if (err)
		return err;
	api_failures = 0;
	api_options(sock);
	api_loopback(sock);
	sock_release(sock);
	return api_failures ? -EIO : 0;
}

/* ---- The handshake through net/handshake ---------------------------------- */

#if IS_ENABLED(CONFIG_NET_HANDSHAKE)
struct sample_handshake {
	struct completion done;
	int status;
	key_serial_t peerid;
};

static void sample_handshake_done(void *data, int status, key_serial_t peerid)
{
	struct sample_handshake *hs = data;

	hs->status = status;
	hs->peerid = peerid;
	complete(&hs->done);
}

/* Asks the agent for the handshake on `sock` (which has a file: the agent
 * gets a descriptor of it) and waits for its status: a client's
 * ClientHello (no certificate of ours; the agent checks the server's
 * against `peername`), or a server's ServerHello with X.509, the
 * certificate and private key the keys with serials `keys` (0, 0: the
 * agent's own); with `psk` a key serial, either side's hello with that
 * pre-shared key instead. */
static int sample_handshake(struct socket *sock, bool server, const char *peername, const s32 *keys, s32 psk)
{
	struct tls_handshake_args args = {
		.ta_sock = sock,
		.ta_done = sample_handshake_done,
		.ta_peername = peername,
		.ta_timeout_ms = jiffies_to_msecs(SAMPLE_TIMEOUT),
	};
	struct sample_handshake hs;
	int err;

	init_completion(&hs.done);
	args.ta_data = &hs;
	args.ta_my_cert = keys ? keys[0] : TLS_NO_CERT;
	args.ta_my_privkey = keys ? keys[1] : TLS_NO_PRIVKEY;
	if (psk) {
		args.ta_num_peerids = 1;
		args.ta_my_peerids[0] = psk;
		err = server ? tls_server_hello_psk(&args, GFP_KERNEL) : tls_client_hello_psk(&args, GFP_KERNEL);
	} else {
		err = server ? tls_server_hello_x509(&args, GFP_KERNEL) : tls_client_hello_anon(&args, GFP_KERNEL);
	}
	if (err)
		return err;
	hs.peerid = TLS_NO_PEERID;
	if (!wait_for_completion_timeout(&hs.done, SAMPLE_TIMEOUT + HZ)) {
		/* Cancelled: the done callback will not run; otherwise it is
		 * running now. */
		if (tls_handshake_cancel(sock->sk))
			return -ETIMEDOUT;
		wait_for_completion(&hs.done);
	}
	if (!hs.status)
		peerid = hs.peerid == TLS_NO_PEERID ? 0 : hs.peerid;
	return hs.status;
}
#else
static int sample_handshake(struct socket *sock, bool server, const char *peername, const s32 *keys, s32 psk)
{
	return -EOPNOTSUPP;	/* no net/handshake in this kernel (6.1) */
}
#endif

/* "connect": a kernel client. */
static int sample_connect(const struct sockaddr_in *addr, const char *peername, s32 psk)
{
	struct socket *sock;
	struct file *file;
	int err;

	if (!handshake)
		return -EOPNOTSUPP;
	err = sample_socket(&sock);
	if (err)
		return err;
	/* The file owns the socket from here on (sock_alloc_file releases it
	 * on failure). */
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file))
		return PTR_ERR(file);
	err = kernel_connect(sock, (struct sockaddr *)addr, sizeof(*addr), 0);
	if (!err)
		err = sample_handshake(sock, false, peername, NULL, psk);
	if (!err)
		err = sample_exchange(sock);
	fput(file);
	return err;
}

/* "listen PORT": the kernel server's listener on loopback, for "accept". */
static struct socket *sample_listener;

static int sample_listen(const char *args)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct socket *sock;
	u16 port;
	int err;

	if (kstrtou16(args, 10, &port) || !port)
		return -EINVAL;
	if (sample_listener)
		return -EBUSY;
	addr.sin_port = htons(port);
	err = sample_socket(&sock);
	if (err)
		return err;
	err = kernel_bind(sock, (struct sockaddr *)&addr, sizeof(addr));
	if (!err)
		err = kernel_listen(sock, 1);
	if (err)
		sock_release(sock);
	else
		sample_listener = sock;
	return err;
}

/* The server's side of the exchange: the request up to its FIN (kept as
 * the answer a read returns), "answer: " and the request back with FIN,
 * then until the client closes (so that the answer is not cut short by
 * our CONNECTION_CLOSE). */
static int sample_serve(struct socket *sock)
{
	static const char head[] = "answer: ";
	char *reply;
	s64 sid = -1, rsid;
	u32 flags;
	int n = sample_read_stream(sock, &sid);

	if (n)
		return n;
	reply = kmalloc(sizeof(head) - 1 + answer_len, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	memcpy(reply, head, sizeof(head) - 1);
	memcpy(reply + sizeof(head) - 1, answer, answer_len);
	n = quic_kernel_sendmsg(sock, reply, sizeof(head) - 1 + answer_len, sid, MSG_QUIC_STREAM_FIN, 0);
	kfree(reply);
	if (n < 0)
		return n;
	for (;;) {
		char scratch[16];

		n = quic_kernel_recvmsg(sock, scratch, sizeof(scratch), &rsid, &flags, 0);
		if (n < 0)
			return n;
		if (rsid < 0)
			return 0;	/* the client closed */
	}
}

/* "accept [CERT KEY | psk SERIAL]": one connection on the listener (which
 * then closes), its handshake by the agent (with the certificate and
 * private key of those key serials, or that pre-shared key), then
 * sample_serve. */
static int sample_accept(const char *args)
{
	s32 keys[2] = {}, psk = 0;
	struct socket *sock;
	struct file *file;
	int err, n = sscanf(args, "psk %d", &psk) == 1 ? 0 : sscanf(args, "%d %d", &keys[0], &keys[1]);

	if (!sample_listener || (*args && n != 2 && !psk))
		return -EINVAL;
	err = kernel_accept(sample_listener, &sock, 0);
	sock_release(sample_listener);
	sample_listener = NULL;
	if (err)
		return err;
	sock->sk->sk_rcvtimeo = SAMPLE_TIMEOUT;
	sock->sk->sk_sndtimeo = SAMPLE_TIMEOUT;
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file))
		return PTR_ERR(file);
	err = sample_handshake(sock, true, NULL, n == 2 ? keys : NULL, psk);
	if (!err)
		err = sample_serve(sock);
	fput(file);
	return err;
}

/* "connect IP PORT [PEERNAME]", or with `psk` "connect-psk IP PORT SERIAL". */
static int sample_connect_cmd(const char *args, bool psk)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char ip[16], peer[64] = "";
	s32 serial = 0;
	u16 port;

	if (sscanf(args, "%15s %hu %63s", ip, &port, peer) < 2 || !port ||
	    !in4_pton(ip, -1, (u8 *)&addr.sin_addr.s_addr, -1, NULL))
		return -EINVAL;
	if (psk && (kstrtos32(peer, 10, &serial) || serial <= 0))
		return -EINVAL;
	addr.sin_port = htons(port);
	return sample_connect(&addr, peer[0] && !psk ? peer : NULL, serial);
}

/* ---- /proc/quic_sample ----------------------------------------------------- */

static ssize_t sample_write(struct file *f, const char __user *ubuf, size_t count, loff_t *pos)
{
	char buf[128], *cmd;
	int err, fd;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	cmd = strim(buf);
	mutex_lock(&sample_lock);
	answer_len = 0;
	if (!strcmp(cmd, "api"))
		err = sample_api();
	else if (sscanf(cmd, "fd %d", &fd) == 1)
		err = sample_fd(fd);
	else if (!strncmp(cmd, "connect ", 8))
		err = sample_connect_cmd(cmd + 8, false);
	else if (!strncmp(cmd, "connect-psk ", 12))
		err = sample_connect_cmd(cmd + 12, true);
	else if (!strncmp(cmd, "listen ", 7))
		err = sample_listen(cmd + 7);
	else if (!strncmp(cmd, "accept", 6) && (!cmd[6] || cmd[6] == ' '))
		err = sample_accept(skip_spaces(cmd + 6));
	else
		err = -EINVAL;
	if (err)
		answer_len = 0;
	mutex_unlock(&sample_lock);
	return err ? err : count;
}

static ssize_t sample_read(struct file *f, char __user *ubuf, size_t count, loff_t *pos)
{
	ssize_t n;

	mutex_lock(&sample_lock);
	n = simple_read_from_buffer(ubuf, count, pos, answer, answer_len);
	mutex_unlock(&sample_lock);
	return n;
}

static const struct proc_ops sample_proc_ops = {
	.proc_read = sample_read,
	.proc_write = sample_write,
	.proc_lseek = default_llseek,
};

static struct proc_dir_entry *sample_entry;

static int __init sample_init(void)
{
	sample_entry = proc_create("quic_sample", 0600, NULL, &sample_proc_ops);
	return sample_entry ? 0 : -ENOMEM;
}

static void __exit sample_exit(void)
{
	proc_remove(sample_entry);
	if (sample_listener)
		sock_release(sample_listener);
}

module_init(sample_init);
module_exit(sample_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A kernel user of IPPROTO_QUIC sockets (quic.ko's in-kernel API), for tests");
MODULE_SOFTDEP("pre: quic");
