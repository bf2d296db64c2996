// SPDX-License-Identifier: GPL-2.0
/* Server sockets: listen(), the connections a client's first Initial makes
 * (dispatched across the port's listeners by the ClientHello's ALPN), and
 * accept(). As in draft-lxin-quic-socket-apis, accept() returns a socket
 * whose handshake has not run yet: the process runs it there
 * (quic_server_handshake, libquic).
 *
 * A new connection is made in the tunnel's work item (process context):
 * the core's server connection opens the client's Initial (RFC 9001 §5.2
 * keys) and hands the ClientHello to the passthrough TLS, where its ALPN
 * list is read (RFC 7301 §3.1) to pick the listener. The connection then
 * lives in a socket of its own, queued on the listener until accept(). */
#include <linux/slab.h>
#include <net/inet_common.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

/* The longest ALPN list read from a ClientHello (comma-separated). */
#define QUIC_MAX_CLIENT_ALPNS 512

static bool quic_alpn_list_has(const u8 *list, u32 len, const u8 *name, u32 nlen)
{
	u32 i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && list[i] != ',')
			continue;
		if (i - start == nlen && !memcmp(list + start, name, nlen))
			return true;
		start = i + 1;
	}
	return false;
}

bool quic_alpn_lists_meet(const u8 *a, u32 alen, const u8 *b, u32 blen)
{
	u32 i, start = 0;

	for (i = 0; i <= blen; i++) {
		if (i < blen && b[i] != ',')
			continue;
		if (i > start && quic_alpn_list_has(a, alen, b + start, i - start))
			return true;
		start = i + 1;
	}
	return false;
}

int quic_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct quic_sock *qs = quic_sk(sk);
	bool start = false;
	int err = 0;

	lock_sock(sk);
	/* A socket that has (or had) a connection never listens: its
	 * connection's end would move a listener's state back to closed while
	 * it is on the tunnel's listener list, and a second listen() would add
	 * it there twice (seen with socket_fuzz). */
	if ((qs->state != QUIC_SS_CLOSED && qs->state != QUIC_SS_LISTENING) || qs->conn) {
		err = -EINVAL;
		goto out;
	}
	/* A listener needs a port: listen() on an unbound socket is refused
	 * (there is no port to announce). */
	if (!qs->tunnel) {
		err = -EINVAL;
		goto out;
	}
	sk->sk_max_ack_backlog = backlog > 0 ? backlog : 1;
	if (qs->state == QUIC_SS_CLOSED) {
		qs->state = QUIC_SS_LISTENING;
		inet_sk_set_state(sk, TCP_LISTEN);
		start = true;
	}
out:
	release_sock(sk);
	/* Outside the socket lock: the tunnel's work locks the listener list
	 * first and a listener after it. */
	if (start)
		quic_tunnel_listen(qs->tunnel, qs);
	return err;
}

void quic_listen_stop(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk), *child, *next;
	LIST_HEAD(pending);

	lock_sock(sk);
	if (qs->state != QUIC_SS_LISTENING) {
		release_sock(sk);
		return;
	}
	/* From here the tunnel's work adds nothing (it checks the state
	 * under this lock). */
	qs->state = QUIC_SS_CLOSED;
	inet_sk_set_state(sk, TCP_CLOSE);
	list_splice_init(&qs->accept_q, &pending);
	qs->accept_len = 0;
	release_sock(sk);
	quic_tunnel_unlisten(qs->tunnel, qs);
	quic_migration_listener_release(qs);
	/* Connections never accepted close (CONNECTION_CLOSE to their
	 * client) while the listener still holds the tunnel. */
	list_for_each_entry_safe(child, next, &pending, accept_node) {
		list_del_init(&child->accept_node);
		child->inet.sk.sk_prot->close(&child->inet.sk, 0);
	}
}

/* A socket for a connection of listener `lsk` (locked): a socket of the
 * same family, type and options, without a struct socket until accept(). */
static struct sock *quic_child_alloc(struct sock *lsk)
{
	struct quic_sock *lqs = quic_sk(lsk), *qs;
	struct sock *sk;

	/* As the listener, the socket holds its namespace, or does not (a
	 * kernel listener's: its user keeps the namespace), as TCP's
	 * accepted sockets do. */
	sk = sk_alloc(sock_net(lsk), lsk->sk_family, GFP_KERNEL, lsk->sk_prot, !lsk->sk_net_refcnt);
	if (!sk)
		return NULL;
	sock_init_data(NULL, sk);
	sk->sk_type = lsk->sk_type;
	sk->sk_protocol = IPPROTO_QUIC;
	sk->sk_destruct = inet_sock_destruct;
	sk->sk_rcvtimeo = lsk->sk_rcvtimeo;
	sk->sk_sndtimeo = lsk->sk_sndtimeo;
	if (sk->sk_family == AF_INET6)
		inet_sk(sk)->pinet6 = &((struct quic6_sock *)sk)->inet6;
	sk->sk_prot->init(sk);
	qs = quic_sk(sk);
	qs->local_tp = lqs->local_tp;
	qs->config = lqs->config;
	qs->events = lqs->events;
	if (lqs->alpn.len) {
		qs->alpn.data = kmemdup(lqs->alpn.data, lqs->alpn.len, GFP_KERNEL);
		if (!qs->alpn.data) {
			sk->sk_prot->close(sk, 0);
			return NULL;
		}
		qs->alpn.len = lqs->alpn.len;
	}
	quic_session_inherit(qs, lqs);
	return sk;
}

/* A server connection with `lqs`'s options, fed the client's first
 * Initial (a copy: the core decrypts in place); NULL unless the Initial
 * opened and carried the start of a ClientHello. */
static struct qb_conn *quic_server_conn(const struct quic_sock *lqs, const struct sockaddr_storage *from,
					u32 version, const u8 *data, size_t len, const struct qb_first *admit,
					const struct qb_path *path)
{
	struct qb_conn_params p;
	struct qb_conn *conn;
	u64 now = quic_now_us();
	u8 *copy;

	quic_conn_params(lqs, from, &p, true);
	p.version = version;
	p.address_validated = admit->validated;
	p.retried = admit->retried;
	memcpy(p.odcid, admit->odcid, sizeof(p.odcid));
	p.odcid_len = admit->odcid_len;
	copy = kmemdup(data, len, GFP_KERNEL);
	conn = copy ? qb_conn_new_on_path(&p, path) : NULL;
	if (conn && !qb_conn_start(conn, now)) {
		qb_conn_receive(conn, copy, len, now);
		if (qb_conn_has_handshake_data(conn)) {
			kfree(copy);
			return conn;
		}
	}
	qb_conn_free(conn);
	kfree(copy);
	return NULL;
}

void quic_listen_incoming(struct quic_tunnel *t, struct sk_buff *skb, const struct sockaddr_storage *from)
{
	struct sock *lsk = NULL, *first, *sk = NULL;
	struct quic_sock *lqs;
	struct qb_conn *conn = NULL;
	u8 *alpns = NULL;
	int alen = 0, action;
	struct qb_first admit;
	u32 version;
	struct sockaddr_storage local;
	struct qb_path path;

	/* The connection starts on the path the Initial came on. */
	quic_tunnel_addr(t, &local);
	quic_path_of(&path, &local, from);

	/* Open the Initial with the first listener's options, to read the
	 * ClientHello's ALPN list. */
	first = skb_linearize(skb) ? NULL : quic_tunnel_pick_listener(t, NULL, 0);
	if (!first)
		goto drop;
	/* RFC 9000 §6, §8.1.2: Version Negotiation or Retry, no state kept;
	 * else a client's first Initial (a long header of version 1 or 2). */
	action = quic_stateless_answer(t, skb, from, READ_ONCE(quic_sk(first)->config.validate_peer_address), &admit);
	if (action != QB_FIRST_ACCEPT) {
		sock_put(first);
		if (action == QB_FIRST_DROP)
			goto drop;
		kfree_skb(skb);
		return;
	}
	version = (u32)skb->data[1] << 24 | (u32)skb->data[2] << 16 | (u32)skb->data[3] << 8 | skb->data[4];
	lock_sock(first);
	conn = quic_server_conn(quic_sk(first), from, version, skb->data, skb->len, &admit, &path);
	release_sock(first);
	if (!conn) {
		sock_put(first);
		goto drop;
	}
	alpns = kmalloc(QUIC_MAX_CLIENT_ALPNS, GFP_KERNEL);
	if (alpns)
		alen = qb_conn_client_alpn(conn, alpns, QUIC_MAX_CLIENT_ALPNS);
	lsk = quic_tunnel_pick_listener(t, alpns, alen > 0 ? alen : 0);
	kfree(alpns);
	lqs = lsk ? quic_sk(lsk) : NULL;
	if (lsk && lsk != first) {
		/* Another listener's options: its connection starts over from
		 * the same Initial. */
		qb_conn_free(conn);
		lock_sock(lsk);
		conn = quic_server_conn(lqs, from, version, skb->data, skb->len, &admit, &path);
		release_sock(lsk);
	}
	sock_put(first);
	if (!lsk || !conn)
		goto out;

	lock_sock(lsk);
	/* The listener holds the tunnel while it listens: the connection's
	 * reference is taken and, on failure, dropped under its lock. */
	if (lqs->state != QUIC_SS_LISTENING || lqs->accept_len >= lsk->sk_max_ack_backlog)
		goto unlock;
	sk = quic_child_alloc(lsk);
	if (!sk)
		goto unlock;
	quic_tunnel_hold(t);
	if (quic_conn_adopt(sk, t, conn, from)) {
		/* The socket's close puts the tunnel back. */
		sk->sk_prot->close(sk, 0);
		sk = NULL;
		goto unlock;
	}
	conn = NULL;	/* the socket's now */
	quic_migration_inherit(sk, lqs);	/* the listener's preferred address */
	quic_stat_add(quic_tunnel_net(t), QUIC_STAT_ACCEPTS, 1);
	sock_hold(sk);
	list_add_tail(&quic_sk(sk)->accept_node, &lqs->accept_q);
	lqs->accept_len++;
	lsk->sk_data_ready(lsk);
unlock:
	release_sock(lsk);
out:
	if (!sk)
		quic_stat_add(quic_tunnel_net(t), QUIC_STAT_INITIALS_REFUSED, 1);
	qb_conn_free(conn);
	if (lsk)
		sock_put(lsk);
	if (sk) {
		/* Its first datagrams (an ACK of the Initial) go out. */
		lock_sock(sk);
		quic_conn_run(sk);
		release_sock(sk);
		sock_put(sk);
	}
	kfree_skb(skb);
	return;
drop:
	quic_stat_add(quic_tunnel_net(t), QUIC_STAT_INITIALS_REFUSED, 1);
	kfree_skb(skb);
}

int quic_accept_sk(struct sock *sk, struct socket *newsock, int flags)
{
	struct quic_sock *qs = quic_sk(sk), *child = NULL;
	struct sock *csk;
	long timeo;
	int err = 0;

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	for (;;) {
		DEFINE_WAIT_FUNC(wait, woken_wake_function);

		if (qs->state != QUIC_SS_LISTENING) {
			err = -EINVAL;
			break;
		}
		if (!list_empty(&qs->accept_q)) {
			child = list_first_entry(&qs->accept_q, struct quic_sock, accept_node);
			list_del_init(&child->accept_node);
			qs->accept_len--;
			break;
		}
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo, !list_empty(&qs->accept_q) || qs->state != QUIC_SS_LISTENING, &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
	release_sock(sk);
	if (!child)
		return err;
	csk = &child->inet.sk;
	lock_sock(csk);
	sock_graft(csk, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(csk);
	return 0;
}
