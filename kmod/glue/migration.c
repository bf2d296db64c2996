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
 *     local_migration 0.
 *   - the server's preferred address (§9.6, §18.2): the same option on a
 *     listener or on an accepted socket before its handshake (the draft's
 *     server use of it) binds a tunnel there and offers its address in the
 *     transport parameters, with a CID of sequence 1 (§5.1.1); once the
 *     client moved there (§9.6.1, §9.3: its non-probing packets arrive on
 *     that tunnel), the tunnel becomes the socket's (getsockname) and the
 *     event says local_migration 1. A client that receives one probes it
 *     once the handshake is confirmed (§9.6.1) and moves there once
 *     validated: getpeername shows it, the event says local_migration 0.
 *     An all-zero address for the socket's family is none (§18.2). */
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
	qs->alt_preferred = false;
	quic_tunnel_detach_alt(t, qs);
	quic_tunnel_put(t);
}

void quic_migration_release(struct quic_sock *qs)
{
	quic_migration_drop_alt(qs);
}

void quic_migration_listener_release(struct quic_sock *lqs)
{
	/* A listener's was never on the tunnel's list. */
	quic_tunnel_put(lqs->alt_tunnel);
	lqs->alt_tunnel = NULL;
}

/* RFC 9000 §18.2: where a family's address and port are in the
 * preferred_address, and where they are in that family's sockaddr (the
 * port at byte 2 of both). */
struct quic_pref_fields {
	u8 *ip;
	u16 *port;
	size_t ip_len;
	size_t ip_off;	/* in the sockaddr */
};

static struct quic_pref_fields quic_pref_fields(struct qb_preferred_address *pa, int family)
{
	if (family == AF_INET)
		return (struct quic_pref_fields){ pa->ipv4, &pa->ipv4_port, sizeof(pa->ipv4),
						  offsetof(struct sockaddr_in, sin_addr) };
	return (struct quic_pref_fields){ pa->ipv6, &pa->ipv6_port, sizeof(pa->ipv6),
					  offsetof(struct sockaddr_in6, sin6_addr) };
}

/* The preferred_address of tunnel t's address: its family's fields, the
 * other family all-zero ("none"). */
static void quic_pref_of(const struct quic_tunnel *t, struct qb_preferred_address *pa)
{
	struct sockaddr_storage a;
	struct quic_pref_fields f;

	memset(pa, 0, sizeof(*pa));
	quic_tunnel_addr(t, &a);
	f = quic_pref_fields(pa, a.ss_family);
	memcpy(f.ip, (u8 *)&a + f.ip_off, f.ip_len);
	*f.port = ntohs(((struct sockaddr_in *)&a)->sin_port);
}

/* The server's preferred address of `family` as a sockaddr; false when it
 * sent none there (§18.2: the all-zero address and port of a family the
 * server does not offer). */
static bool quic_pref_addr_for(int family, const struct qb_preferred_address *pa, struct sockaddr_storage *out)
{
	struct qb_preferred_address copy = *pa;
	struct quic_pref_fields f = quic_pref_fields(&copy, family);

	memset(out, 0, sizeof(*out));
	if (!*f.port || !memchr_inv(f.ip, 0, f.ip_len))
		return false;
	out->ss_family = family;
	((struct sockaddr_in *)out)->sin_port = htons(*f.port);
	memcpy((u8 *)out + f.ip_off, f.ip, f.ip_len);
	return true;
}

/* A server connection takes the preferred address tunnel `t` (held for
 * it): offered in its transport parameters, its datagrams found there. */
static int quic_pref_take(struct quic_sock *qs, struct quic_tunnel *t)
{
	struct qb_preferred_address pa;
	int err;

	quic_pref_of(t, &pa);
	err = qb_conn_set_preferred_address(qs->conn, &pa);
	if (err)
		return err;
	qs->alt_tunnel = t;
	qs->alt_preferred = true;
	quic_tunnel_attach_alt(t, qs);
	return 0;
}

void quic_migration_inherit(struct sock *sk, struct quic_sock *lqs)
{
	struct quic_tunnel *t = lqs->alt_tunnel;

	if (!t)
		return;
	quic_tunnel_hold(t);
	lock_sock(sk);
	if (quic_pref_take(quic_sk(sk), t))
		quic_tunnel_put(t);
	release_sock(sk);
}

/* QUIC_SOCKOPT_CONNECTION_MIGRATION on a server before its handshake
 * (draft-lxin-quic-socket-apis): `addr` becomes the preferred address.
 * EINVAL for the unspecified address or the one in use, once set, or once
 * the process's TLS has our transport parameters; the bind's errno. */
static int quic_set_preferred(struct sock *sk, const struct sockaddr_storage *addr)
{
	struct quic_sock *qs = quic_sk(sk);
	struct quic_tunnel *t;
	int err;

	if (qs->alt_tunnel || qs->local_tp_read)
		return -EINVAL;
	if (addr->ss_family == AF_INET ? ((const struct sockaddr_in *)addr)->sin_addr.s_addr == htonl(INADDR_ANY)
				       : ipv6_addr_any(&((const struct sockaddr_in6 *)addr)->sin6_addr))
		return -EINVAL;
	/* Shared per address and port, as every tunnel: the connections of
	 * one listener all listen there. */
	t = quic_tunnel_get(sock_net(sk), (const struct sockaddr *)addr,
			    addr->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6), true);
	if (IS_ERR(t))
		return PTR_ERR(t);
	if (t == qs->tunnel) {
		quic_tunnel_put(t);
		return -EINVAL;
	}
	if (!qs->conn) {	/* a listener: for the connections it makes */
		qs->alt_tunnel = t;
		return 0;
	}
	err = quic_pref_take(qs, t);
	if (err) {
		quic_tunnel_put(t);
		return err;
	}
	quic_conn_run(sk);
	return 0;
}

/* §9.6.1: a client that received a preferred address probes it once the
 * handshake is confirmed, from the address it is on, and moves there once
 * the path is validated (quic_migration_sync then follows the new peer).
 * Once per connection; a failed probe leaves it where it was (§8.2.4). */
static void quic_migration_try_preferred(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	struct qb_preferred_address pa;
	struct sockaddr_storage to, local;
	struct qb_path p;
	int err;

	if (qs->server || qs->pref_tried || qs->alt_tunnel || qs->state != QUIC_SS_ESTABLISHED)
		return;
	err = qb_conn_peer_preferred_address(qs->conn, &pa);
	if (err == -EAGAIN)
		return;
	qs->pref_tried = true;
	if (err || !quic_pref_addr_for(sk->sk_family, &pa, &to))
		return;
	quic_tunnel_addr(qs->tunnel, &local);
	quic_path_of(&p, &local, &to);
	qb_conn_migrate_preferred(qs->conn, &p, quic_now_us());
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
	qs->alt_preferred = false;
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
		} else if (!qs->alt_preferred && !qb_conn_path_known(qs->conn, &alt)) {
			/* §8.2.4: validation failed; the old path stays. (A
			 * server's preferred address waits for the client.) */
			quic_migration_drop_alt(qs);
		}
	}
	if (active.peer.len && !quic_path_addr_equal(&active.peer, &peer)) {
		quic_migration_set_peer(sk, &active.peer);
		moved = true;
	}
	if (moved)
		quic_event_push(qs, QUIC_EVENT_CONNECTION_MIGRATION, &local_migration, sizeof(local_migration), NULL, 0);
	quic_migration_try_preferred(sk);
}

/* QUIC_SOCKOPT_CONNECTION_MIGRATION: a client moves to the local address
 * in optval (port 0: any); a server before its handshake (a listener, or
 * a socket accept() returned whose process has not begun the handshake)
 * sets its preferred address (quic_set_preferred). EINVAL for a short
 * optlen, another family or a connection that may not migrate (a
 * server's after its handshake, a client's before the handshake is
 * confirmed, the server's disable_active_migration, the address in use
 * now); ENOTCONN for a socket neither connected nor listening; EBUSY while
 * a migration is being validated; EAGAIN without a spare CID of the
 * server's (§9.5); the bind's errno (EADDRNOTAVAIL...). */
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
	if (qs->state != QUIC_SS_LISTENING && !qs->conn)
		return -ENOTCONN;
	if (copy_from_sockptr(&addr, optval, min_t(unsigned int, optlen, sizeof(addr))))
		return -EFAULT;
	if (addr.ss_family != sk->sk_family)
		return -EINVAL;
	if (qs->state == QUIC_SS_LISTENING || (qs->server && qs->state == QUIC_SS_CONNECTING))
		return quic_set_preferred(sk, &addr);
	/* Only clients migrate (RFC 9000 §9), once the handshake is
	 * confirmed (the core checks that). */
	if (qs->server || qs->state != QUIC_SS_ESTABLISHED)
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
