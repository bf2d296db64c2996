// SPDX-License-Identifier: GPL-2.0
/* IPPROTO_QUIC sockets: protocol registration for AF_INET and AF_INET6,
 * SOCK_STREAM and SOCK_DGRAM (the same semantics: a connection of streams),
 * and the socket calls.
 *
 * Sockets bind on shared UDP tunnel sockets (tunnel.c); connect() makes a
 * client connection (conn.c), listen() and accept() server ones
 * (listen.c); the handshake runs in the process (libquic), stream data
 * goes through sendmsg/recvmsg (conn.c). */
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <net/inet_common.h>
#include <net/ipv6.h>
#include <net/protocol.h>
#include <net/sock.h>
#include <net/transp_v6.h>

#include "../boundary.h"
#include "quic_sock.h"

void quic_buf_free(struct quic_buf *b)
{
	kfree_sensitive(b->data);
	b->data = NULL;
	b->len = 0;
}

static int quic_init_sock(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);

	INIT_LIST_HEAD(&qs->accept_q);
	INIT_LIST_HEAD(&qs->listen_node);
	INIT_LIST_HEAD(&qs->accept_node);
	INIT_LIST_HEAD(&qs->event_q);
	quic_sock_set_defaults(qs);
	quic_stat_add(sock_net(sk), QUIC_STAT_SOCKETS, 1);
	quic_conn_sock_init(quic_sk(sk));
	return 0;
}

static void quic_destroy_sock(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);

	quic_conn_release(sk);
	quic_tunnel_put(qs->tunnel);
	qs->tunnel = NULL;
	quic_buf_free(&qs->alpn);
	quic_buf_free(&qs->token);
	quic_buf_free(&qs->ticket);
	quic_buf_free(&qs->close_phrase);
	quic_event_purge(qs);
	quic_stat_add(sock_net(sk), QUIC_STAT_SOCKETS, -1);
}

void quic_close_final(struct sock *sk)
{
	quic_conn_release(sk);
	lock_sock(sk);
	quic_sk(sk)->state = QUIC_SS_CLOSED;
	inet_sk_set_state(sk, TCP_CLOSE);
	release_sock(sk);
	sk_common_release(sk);
}

static void quic_close(struct sock *sk, long timeout)
{
	quic_listen_stop(sk);
	if (!quic_closing_start(sk, timeout))
		quic_close_final(sk);
}

static int quic_hash(struct sock *sk)
{
	return 0;
}

static void quic_unhash(struct sock *sk)
{
}

/* The address a socket of sk's family may bind to: AF_INET, or AF_INET6
 * (v4-mapped addresses are not supported). */
static int quic_check_addr(struct sock *sk, const struct sockaddr *addr, int len)
{
	if (sk->sk_family == AF_INET) {
		if (len < (int)sizeof(struct sockaddr_in))
			return -EINVAL;
		if (addr->sa_family != AF_INET)
			return -EAFNOSUPPORT;
		return sizeof(struct sockaddr_in);
	}
	if (len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (addr->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (ipv6_addr_v4mapped(&((const struct sockaddr_in6 *)addr)->sin6_addr))
		return -EAFNOSUPPORT;
	return sizeof(struct sockaddr_in6);
}

/* Records the tunnel's address as the socket's, where getsockname finds it. */
void quic_set_local(struct sock *sk, const struct quic_tunnel *t)
{
	struct inet_sock *inet = inet_sk(sk);
	struct sockaddr_storage a;

	quic_tunnel_addr(t, &a);
	if (a.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a;

		inet->inet_rcv_saddr = in->sin_addr.s_addr;
		inet->inet_saddr = in->sin_addr.s_addr;
		inet->inet_sport = in->sin_port;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;

		sk->sk_v6_rcv_saddr = in6->sin6_addr;
		inet->inet_sport = in6->sin6_port;
	}
	inet->inet_num = ntohs(inet->inet_sport);
}

static int quic_bind(struct sock *sk, struct sockaddr *addr, int addr_len)
{
	struct quic_sock *qs = quic_sk(sk);
	struct quic_tunnel *t;
	int len, err = 0;

	len = quic_check_addr(sk, addr, addr_len);
	if (len < 0)
		return len;
	lock_sock(sk);
	if (qs->tunnel || qs->state != QUIC_SS_CLOSED) {
		err = -EINVAL;	/* bound already */
		goto out;
	}
	t = quic_tunnel_get(sock_net(sk), addr, len, sk->sk_reuse != SK_NO_REUSE);
	if (IS_ERR(t)) {
		err = PTR_ERR(t);
		goto out;
	}
	qs->tunnel = t;
	quic_set_local(sk, t);
out:
	release_sock(sk);
	return err;
}

/* The SOL_QUIC cmsgs of a sendmsg: QUIC_HANDSHAKE_INFO (1, its level) or
 * QUIC_STREAM_INFO (2, the stream and flags); 0 if none, -EINVAL for a
 * malformed one. */
static int quic_send_cmsg(struct msghdr *msg, u8 *level, struct quic_stream_info *si)
{
	struct cmsghdr *cmsg;

	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level != SOL_QUIC)
			continue;
		if (cmsg->cmsg_type == QUIC_HANDSHAKE_INFO) {
			if (cmsg->cmsg_len < CMSG_LEN(sizeof(struct quic_handshake_info)))
				return -EINVAL;
			*level = ((struct quic_handshake_info *)CMSG_DATA(cmsg))->crypto_level;
			return *level >= QUIC_CRYPTO_MAX ? -EINVAL : 1;
		}
		if (cmsg->cmsg_type == QUIC_STREAM_INFO) {
			if (cmsg->cmsg_len < CMSG_LEN(sizeof(struct quic_stream_info)))
				return -EINVAL;
			memcpy(si, CMSG_DATA(cmsg), sizeof(*si));
			return 2;
		}
		return -EINVAL;
	}
	return 0;
}

static int quic_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct quic_sock *qs = quic_sk(sk);
	struct quic_stream_info si = { .stream_id = -1 };
	u8 level = 0;
	int err, kind;

	kind = msg->msg_controllen ? quic_send_cmsg(msg, &level, &si) : 0;
	if (kind < 0)
		return kind;
	/* Without a stream cmsg (send(), write(), sendfile(), splice()) the
	 * stream flags come with the call's flags, and the data goes to the
	 * stream opened last (the draft's "msghdr and cmsghdr Structures"). */
	if (!kind)
		si.stream_flags = msg->msg_flags & (MSG_QUIC_STREAM_NEW | MSG_QUIC_STREAM_FIN | MSG_QUIC_STREAM_UNI);
	lock_sock(sk);
	if (!qs->conn)
		err = -ENOTCONN;
	else if (kind == 1)
		err = quic_conn_send_handshake(sk, msg, len, level);
	else if ((si.stream_flags | msg->msg_flags) & MSG_QUIC_DATAGRAM)
		err = quic_conn_send_datagram(sk, msg, len);
	else
		err = quic_conn_send_stream(sk, msg, len, si.stream_id, si.stream_flags);
	release_sock(sk);
	return err;
}

static int quic_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len)
{
	struct quic_sock *qs = quic_sk(sk);
	int err;

	lock_sock(sk);
	if (quic_event_pending(qs))
		err = quic_event_recv(sk, msg, len);
	else if (!qs->conn)
		err = -ENOTCONN;
	else if (qs->established)
		err = quic_conn_recv_stream(sk, msg, len, flags);
	else
		err = quic_conn_recv_handshake(sk, msg, len, flags);
	release_sock(sk);
	return err;
}

static struct proto quic_prot = {
	.name = "QUIC",
	.owner = THIS_MODULE,
	.init = quic_init_sock,
	.destroy = quic_destroy_sock,
	.close = quic_close,
	.bind = quic_bind,
	.setsockopt = quic_setsockopt,
	.getsockopt = quic_getsockopt,
	.sendmsg = quic_sendmsg,
	.recvmsg = quic_recvmsg,
	.hash = quic_hash,
	.unhash = quic_unhash,
	.no_autobind = true,
	.obj_size = sizeof(struct quic_sock),
};

/* IPv6: the same protocol, a larger socket (the IPv6 state at its end);
 * filled in from quic_prot by quic_socket_init(). */
static struct proto quicv6_prot;

/* ---- Socket calls ---------------------------------------------------------- */

static int quic_connect(struct socket *sock, struct sockaddr *addr, int addr_len, int flags)
{
	int len = quic_check_addr(sock->sk, addr, addr_len);

	if (len < 0)
		return len;
	return quic_conn_connect(sock->sk, addr, len);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
static int quic_accept(struct socket *sock, struct socket *newsock, struct proto_accept_arg *arg)
{
	return quic_accept_sk(sock->sk, newsock, arg->flags);
}
#else
static int quic_accept(struct socket *sock, struct socket *newsock, int flags, bool kern)
{
	return quic_accept_sk(sock->sk, newsock, flags);
}
#endif

static int quic_shutdown(struct socket *sock, int how)
{
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	return quic_sk(sock->sk)->state == QUIC_SS_ESTABLISHED ? -EOPNOTSUPP : -ENOTCONN;
}

static __poll_t quic_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	struct quic_sock *qs = quic_sk(sock->sk);
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);
	if (qs->state == QUIC_SS_LISTENING)
		return list_empty(&qs->accept_q) ? 0 : EPOLLIN | EPOLLRDNORM;
	if (quic_event_pending(qs) ||
	    (qs->conn && (qs->established ? qb_conn_has_stream_data(qs->conn) || qb_conn_has_datagram(qs->conn) ||
						    qs->state == QUIC_SS_CLOSED
					  : qb_conn_has_handshake_data(qs->conn))))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (qs->conn && qs->state != QUIC_SS_CLOSED)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static const struct proto_ops quic_ops = {
	.family = PF_INET,
	.owner = THIS_MODULE,
	.release = inet_release,
	.bind = inet_bind,
	.connect = quic_connect,
	.socketpair = sock_no_socketpair,
	.accept = quic_accept,
	.getname = inet_getname,
	.poll = quic_poll,
	.ioctl = inet_ioctl,
	.listen = quic_listen,
	.shutdown = quic_shutdown,
	.setsockopt = sock_common_setsockopt,
	.getsockopt = sock_common_getsockopt,
	.sendmsg = inet_sendmsg,
	.recvmsg = inet_recvmsg,
	.mmap = sock_no_mmap,
};

static const struct proto_ops quicv6_ops = {
	.family = PF_INET6,
	.owner = THIS_MODULE,
	.release = inet6_release,
	.bind = inet6_bind,
	.connect = quic_connect,
	.socketpair = sock_no_socketpair,
	.accept = quic_accept,
	.getname = inet6_getname,
	.poll = quic_poll,
	.ioctl = inet6_ioctl,
	.listen = quic_listen,
	.shutdown = quic_shutdown,
	.setsockopt = sock_common_setsockopt,
	.getsockopt = sock_common_getsockopt,
	.sendmsg = inet_sendmsg,
	.recvmsg = inet_recvmsg,
	.mmap = sock_no_mmap,
};

/* SOCK_STREAM and SOCK_DGRAM are the same protocol; the draft allows both. */
static struct inet_protosw quic_protosw[] = {
	{ .type = SOCK_STREAM, .protocol = IPPROTO_QUIC, .prot = &quic_prot, .ops = &quic_ops },
	{ .type = SOCK_DGRAM, .protocol = IPPROTO_QUIC, .prot = &quic_prot, .ops = &quic_ops },
};

static struct inet_protosw quicv6_protosw[] = {
	{ .type = SOCK_STREAM, .protocol = IPPROTO_QUIC, .prot = &quicv6_prot, .ops = &quicv6_ops },
	{ .type = SOCK_DGRAM, .protocol = IPPROTO_QUIC, .prot = &quicv6_prot, .ops = &quicv6_ops },
};

int quic_socket_init(void)
{
	int err, i, n6 = 0;

	quicv6_prot = quic_prot;
	strscpy(quicv6_prot.name, "QUICv6", sizeof(quicv6_prot.name));
	quicv6_prot.obj_size = sizeof(struct quic6_sock);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	quicv6_prot.ipv6_pinfo_offset = offsetof(struct quic6_sock, inet6);
#endif
	err = proto_register(&quic_prot, 1);
	if (err)
		return err;
	err = proto_register(&quicv6_prot, 1);
	if (err)
		goto unreg_prot;
	for (i = 0; i < ARRAY_SIZE(quic_protosw); i++)
		inet_register_protosw(&quic_protosw[i]);
	for (; n6 < ARRAY_SIZE(quicv6_protosw); n6++) {
		err = inet6_register_protosw(&quicv6_protosw[n6]);
		if (err)
			goto unreg_sw;
	}
	return 0;
unreg_sw:
	while (n6--)
		inet6_unregister_protosw(&quicv6_protosw[n6]);
	for (i = 0; i < ARRAY_SIZE(quic_protosw); i++)
		inet_unregister_protosw(&quic_protosw[i]);
	proto_unregister(&quicv6_prot);
unreg_prot:
	proto_unregister(&quic_prot);
	return err;
}

void quic_socket_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(quicv6_protosw); i++)
		inet6_unregister_protosw(&quicv6_protosw[i]);
	for (i = 0; i < ARRAY_SIZE(quic_protosw); i++)
		inet_unregister_protosw(&quic_protosw[i]);
	proto_unregister(&quicv6_prot);
	proto_unregister(&quic_prot);
	quic_tunnel_exit();
}
