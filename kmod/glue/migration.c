// SPDX-License-Identifier: GPL-2.0
/* Paths and connection migration (RFC 9000 §8.2, §9) for a socket's
 * connection. The core decides (path validation, which path is active);
 * here each path is named by socket addresses (the tunnel's and the
 * peer's), datagrams are fed to the core with the path they came on and
 * sent on the path it names, and the socket follows the core's active
 * path:
 *   - a client's QUIC_SOCKOPT_CONNECTION_MIGRATION (draft-lxin-quic-socket-
 *     apis: set with a sockaddr) binds a tunnel on the new local address
 *     and probes the path from it (§9.2); once validated, the tunnel
 *     becomes the socket's and QUIC_EVENT_CONNECTION_MIGRATION says
 *     local_migration 1. A path that fails validation is dropped
 *     (§8.2.4), and so is its tunnel; the connection stays where it was.
 *   - a server's peer that moved (§9.3; its datagrams found by CID,
 *     tunnel.c) becomes the socket's peer (getpeername), with the event's
 *     local_migration 0. */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/sockptr.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

void quic_migration_sock_init(struct quic_sock *qs)
{
	INIT_LIST_HEAD(&qs->alt_node);
	spin_lock_init(&qs->cid_lock);
}

/* A socket address as the core sees it: family, port and address only
 * (flow labels and scopes would make one path look like two). */
static void quic_path_addr(struct qb_path_addr *out, const struct sockaddr_storage *a)
{
	memset(out, 0, sizeof(*out));
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)a;
		struct sockaddr_in v = { .sin_family = AF_INET, .sin_port = in->sin_port, .sin_addr = in->sin_addr };

		BUILD_BUG_ON(sizeof(v) > QB_PATH_ADDR_MAX);
		memcpy(out->bytes, &v, sizeof(v));
		out->len = sizeof(v);
	} else {
		const struct sockaddr_in6 *in = (const void *)a;
		struct sockaddr_in6 v = { .sin6_family = AF_INET6, .sin6_port = in->sin6_port,
					  .sin6_addr = in->sin6_addr };

		BUILD_BUG_ON(sizeof(v) > QB_PATH_ADDR_MAX);
		memcpy(out->bytes, &v, sizeof(v));
		out->len = sizeof(v);
	}
}

void quic_path_of(struct qb_path *p, const struct sockaddr_storage *local, const struct sockaddr_storage *peer)
{
	quic_path_addr(&p->local, local);
	quic_path_addr(&p->peer, peer);
}

static bool quic_path_addr_equal(const struct qb_path_addr *a, const struct qb_path_addr *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* The tunnel's address as a path address. */
static void quic_tunnel_path_addr(const struct quic_tunnel *t, struct qb_path_addr *out)
{
	struct sockaddr_storage a;

	quic_tunnel_addr(t, &a);
	quic_path_addr(out, &a);
}

void quic_migration_receive(struct quic_sock *qs, struct sk_buff *skb, u8 *data, u64 now)
{
	struct quic_tunnel *t = QUIC_SKB_TUNNEL(skb);
	struct sockaddr_storage local, from;
	struct qb_path p;

	/* Only tunnels the socket holds (one it let go of may be gone). */
	if (t != qs->tunnel && t != qs->alt_tunnel)
		return;
	quic_tunnel_addr(t, &local);
	quic_skb_source(skb, &from);
	quic_path_of(&p, &local, &from);
	qb_conn_receive_on_path(qs->conn, data, skb->len, &p, now);
}

void quic_migration_send(struct quic_sock *qs, const struct qb_path *p, const u8 *data, size_t len)
{
	struct sockaddr_storage to = {};
	struct qb_path_addr a;
	struct quic_tunnel *t = NULL;

	/* From the tunnel the path starts at, to its peer. */
	quic_tunnel_path_addr(qs->tunnel, &a);
	if (quic_path_addr_equal(&a, &p->local)) {
		t = qs->tunnel;
	} else if (qs->alt_tunnel) {
		quic_tunnel_path_addr(qs->alt_tunnel, &a);
		if (quic_path_addr_equal(&a, &p->local))
			t = qs->alt_tunnel;
	}
	if (!t || p->peer.len > sizeof(to))
		return;	/* no longer ours: the probe is lost, as on a network */
	memcpy(&to, p->peer.bytes, p->peer.len);
	quic_tunnel_send(t, &to, data, len, len);
}

static void quic_migration_drop_alt(struct quic_sock *qs)
{
	struct quic_tunnel *t = qs->alt_tunnel;

	if (!t)
		return;
	qs->alt_tunnel = NULL;
	quic_tunnel_detach_alt(t, qs);
	quic_tunnel_put(t);
}

void quic_migration_release(struct quic_sock *qs)
{
	quic_migration_drop_alt(qs);
}

/* The client's new local address is the active path's: its tunnel
 * becomes the socket's; the old one goes. */
static void quic_migration_take_alt(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	struct quic_tunnel *old = qs->tunnel, *t = qs->alt_tunnel;

	/* On the new tunnel's list before leaving the old one's, then off its
	 * probing list: no datagram finds the socket on neither. */
	quic_tunnel_detach(old, qs);
	qs->tunnel = t;
	quic_tunnel_attach(t, qs);
	qs->alt_tunnel = NULL;
	quic_tunnel_detach_alt(t, qs);
	quic_tunnel_put(old);
	quic_set_local(sk, t);
}

static void quic_migration_set_peer(struct sock *sk, const struct qb_path_addr *peer)
{
	struct quic_sock *qs = quic_sk(sk);
	struct sockaddr_storage a = {};

	memcpy(&a, peer->bytes, min_t(size_t, peer->len, sizeof(a)));
	qs->peer = a;
	if (a.ss_family == AF_INET) {
		inet_sk(sk)->inet_daddr = ((struct sockaddr_in *)&a)->sin_addr.s_addr;
		inet_sk(sk)->inet_dport = ((struct sockaddr_in *)&a)->sin_port;
	} else {
		sk->sk_v6_daddr = ((struct sockaddr_in6 *)&a)->sin6_addr;
		inet_sk(sk)->inet_dport = ((struct sockaddr_in6 *)&a)->sin6_port;
	}
}

void quic_migration_sync(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	struct qb_path active, alt;
	struct qb_path_addr local, peer;
	u8 local_migration = 0;
	bool moved = false;

	quic_cid_sync(qs);
	qb_conn_active_path(qs->conn, &active);
	quic_tunnel_path_addr(qs->tunnel, &local);
	quic_path_addr(&peer, &qs->peer);
	if (qs->alt_tunnel) {
		quic_tunnel_path_addr(qs->alt_tunnel, &alt.local);
		alt.peer = peer;
		if (quic_path_addr_equal(&active.local, &alt.local)) {
			quic_migration_take_alt(sk);
			local_migration = 1;
			moved = true;
		} else if (!qb_conn_path_known(qs->conn, &alt)) {
			/* §8.2.4: validation failed; the old path stays. */
			quic_migration_drop_alt(qs);
		}
	}
	if (active.peer.len && !quic_path_addr_equal(&active.peer, &peer)) {
		quic_migration_set_peer(sk, &active.peer);
		moved = true;
	}
	if (moved)
		quic_event_push(qs, QUIC_EVENT_CONNECTION_MIGRATION, &local_migration, sizeof(local_migration), NULL, 0);
}

/* QUIC_SOCKOPT_CONNECTION_MIGRATION: a client moves to the local address
 * in optval (port 0: any). EINVAL for a short optlen, another family or a
 * connection that may not migrate (a server's, the handshake not yet
 * confirmed, the server's disable_active_migration, the address in use
 * now); EBUSY while a migration is being validated; EAGAIN without a spare
 * CID of the server's (§9.5); the bind's errno (EADDRNOTAVAIL...). */
int quic_set_migration(struct sock *sk, sockptr_t optval, unsigned int optlen)
{
	struct quic_sock *qs = quic_sk(sk);
	unsigned int need = sk->sk_family == AF_INET ? sizeof(struct sockaddr_in) : SIN6_LEN_RFC2133;
	struct sockaddr_storage addr = {}, local;
	struct quic_tunnel *t;
	struct qb_path p;
	int err;

	if (optlen < need)
		return -EINVAL;
	if (qs->state != QUIC_SS_ESTABLISHED)
		return -ENOTCONN;
	if (copy_from_sockptr(&addr, optval, min_t(unsigned int, optlen, sizeof(addr))))
		return -EFAULT;
	if (addr.ss_family != sk->sk_family)
		return -EINVAL;
	if (qs->alt_tunnel)
		return -EBUSY;
	t = quic_tunnel_get(sock_net(sk), (struct sockaddr *)&addr,
			    sk->sk_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
			    sk->sk_reuse != SK_NO_REUSE);
	if (IS_ERR(t))
		return PTR_ERR(t);
	quic_tunnel_addr(t, &local);
	quic_path_of(&p, &local, &qs->peer);
	err = qb_conn_migrate(qs->conn, &p, quic_now_us());
	if (err) {
		quic_tunnel_put(t);
		return err;
	}
	qs->alt_tunnel = t;
	quic_tunnel_attach_alt(t, qs);
	quic_conn_run(sk);
	return 0;
}
