// SPDX-License-Identifier: GPL-2.0
/* UDP tunnel sockets: one kernel UDP socket per local address and port,
 * shared (refcounted) by every QUIC socket bound there: listeners and the
 * connections they accept, or sockets bound with SO_REUSEADDR. QUIC packets
 * arrive through the socket's encap_rcv hook: a connection's go to its
 * socket, others wait (a bounded backlog) for the tunnel's work item, which
 * hands them to the listeners (listen.c). */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/udp_tunnel.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>

#include "quic_sock.h"

struct quic_tunnel {
	struct list_head node;
	refcount_t refs;
	struct net *net;
	struct socket *sock;
	struct sockaddr_storage addr;	/* bound address, actual port */
	/* Connected QUIC sockets on this port, found by their peer's address
	 * (RCU readers in softirq). */
	struct list_head conns;
	spinlock_t conns_lock;
	/* Connections probing a new path from this address (a migrating
	 * client's, migration.c), on the same lock. */
	struct list_head alt_conns;
	/* Listening QUIC sockets on this port (listen_lock), how many (read
	 * in softirq), and datagrams from unknown peers waiting for them. */
	struct list_head listeners;
	struct mutex listen_lock;
	int nlisteners;
	struct sk_buff_head backlog;	/* at most net.quic.initial_backlog: a flood is dropped */
	struct work_struct work;
};

/* RFC 9000 §14.1: a client's first Initial fills a datagram of at least
 * 1200 bytes; nothing shorter starts a connection. */
#define QUIC_MIN_INITIAL_DATAGRAM 1200

static LIST_HEAD(quic_tunnels);
static DEFINE_MUTEX(quic_tunnels_lock);

static bool quic_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	{
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && ipv6_addr_equal(&x->sin6_addr, &y->sin6_addr);
	}
}

/* The sender of a datagram, as a sockaddr. */
void quic_skb_source(const struct sk_buff *skb, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (ip_hdr(skb)->version == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = ip_hdr(skb)->saddr;
		a->sin_port = udp_hdr(skb)->source;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		a->sin6_family = AF_INET6;
		a->sin6_addr = ipv6_hdr(skb)->saddr;
		a->sin6_port = udp_hdr(skb)->source;
	}
}

/* Queues a datagram (its payload) on the connection whose peer is `from`;
 * false when there is none. Softirq or process context. */
static void quic_tunnel_queue(struct quic_tunnel *t, struct quic_sock *qs, struct sk_buff *skb)
{
	/* The work item names the datagram's path by the tunnel it came on. */
	QUIC_SKB_TUNNEL(skb) = t;
	skb_queue_tail(&qs->rxq, skb);
	quic_conn_schedule(qs);
}

/* The connection on `head` (linked by alt_node when `alt`, else by
 * tunnel_node) whose peer is `from`, or, with no `from`, which owns the
 * CID of the packet in `skb`. Under rcu_read_lock(). */
static struct quic_sock *quic_tunnel_match(struct list_head *head, bool alt, const struct sockaddr_storage *from,
					   const struct sk_buff *skb)
{
	struct list_head *pos;

	list_for_each_rcu(pos, head) {
		struct quic_sock *qs = alt ? container_of(pos, struct quic_sock, alt_node)
					   : container_of(pos, struct quic_sock, tunnel_node);

		if (from ? quic_addr_equal(&qs->peer, from) : quic_cid_owns(qs, skb))
			return qs;
	}
	return NULL;
}

static bool quic_tunnel_deliver(struct quic_tunnel *t, struct sk_buff *skb, const struct sockaddr_storage *from)
{
	struct quic_sock *qs;

	rcu_read_lock();
	qs = quic_tunnel_match(&t->conns, false, from, skb);
	if (!qs)
		qs = quic_tunnel_match(&t->alt_conns, true, from, skb);
	/* A peer on a new address (it migrated, or a NAT rebound it, RFC 9000
	 * §9): the connection whose CID the packet is addressed to. */
	if (!qs)
		qs = quic_tunnel_match(&t->conns, false, NULL, skb);
	/* A client that moved to a server's preferred address (§9.6) from
	 * another address of its own as well. */
	if (!qs)
		qs = quic_tunnel_match(&t->alt_conns, true, NULL, skb);
	if (qs)
		quic_tunnel_queue(t, qs, skb);
	rcu_read_unlock();
	return qs != NULL;
}

/* A datagram for a QUIC socket (softirq): to the connection whose peer
 * sent it; else, when the port has listeners and the datagram could be a
 * client's first Initial, to the backlog; else dropped (counted on the UDP
 * socket). 0: consumed. */
static int quic_tunnel_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct quic_tunnel *t = rcu_dereference_sk_user_data(sk);
	/* The tunnel's namespace, also while it goes (t NULL then). */
	struct net *net = sock_net(sk);
	struct sockaddr_storage from;

	if (!t)
		goto drop;
	quic_skb_source(skb, &from);
	/* The payload starts after the UDP header. */
	__skb_pull(skb, sizeof(struct udphdr));
	quic_stat_add(net, QUIC_STAT_RX_DATAGRAMS, 1);
	if (quic_tunnel_deliver(t, skb, &from))
		return 0;
	if (READ_ONCE(t->nlisteners) && skb->len >= QUIC_MIN_INITIAL_DATAGRAM &&
	    skb_queue_len(&t->backlog) < READ_ONCE(quic_net(net)->initial_backlog)) {
		skb_queue_tail(&t->backlog, skb);
		queue_work(system_wq, &t->work);
		return 0;
	}
drop:
	quic_stat_add(net, QUIC_STAT_RX_DROPPED, 1);
	atomic_inc(&sk->sk_drops);
	kfree_skb(skb);
	return 0;
}

/* The backlog, in process context: a datagram from a peer that has a
 * connection by now (an earlier one made it) goes there, the others to the
 * listeners. */
static void quic_tunnel_work(struct work_struct *work)
{
	struct quic_tunnel *t = container_of(work, struct quic_tunnel, work);
	struct sockaddr_storage from;
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&t->backlog))) {
		quic_skb_source(skb, &from);
		if (!quic_tunnel_deliver(t, skb, &from))
			quic_listen_incoming(t, skb, &from);
	}
}

static struct quic_tunnel *quic_tunnel_create(struct net *net, const struct sockaddr_storage *addr)
{
	struct udp_tunnel_sock_cfg tcfg = {};
	struct udp_port_cfg cfg = {};
	struct quic_tunnel *t;
	int err;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)addr;

		cfg.family = AF_INET;
		cfg.local_ip = a->sin_addr;
		cfg.local_udp_port = a->sin_port;
		cfg.use_udp_checksums = 1;
	} else {
		const struct sockaddr_in6 *a = (const void *)addr;

		cfg.family = AF_INET6;
		cfg.local_ip6 = a->sin6_addr;
		cfg.local_udp_port = a->sin6_port;
		cfg.ipv6_v6only = 1;
		/* Tunnel sockets default to zero UDP checksums, which IPv6 allows
		 * only between tunnel endpoints (RFC 6935): a QUIC peer's
		 * ordinary UDP socket drops such datagrams. */
		cfg.use_udp6_tx_checksums = 1;
		cfg.use_udp6_rx_checksums = 1;
	}
	err = udp_sock_create(net, &cfg, &t->sock);
	if (err) {
		kfree(t);
		return ERR_PTR(err);
	}
	INIT_LIST_HEAD(&t->conns);
	INIT_LIST_HEAD(&t->alt_conns);
	spin_lock_init(&t->conns_lock);
	INIT_LIST_HEAD(&t->listeners);
	mutex_init(&t->listen_lock);
	skb_queue_head_init(&t->backlog);
	INIT_WORK(&t->work, quic_tunnel_work);
	tcfg.sk_user_data = t;
	tcfg.encap_type = 1;
	tcfg.encap_rcv = quic_tunnel_rcv;
	setup_udp_tunnel_sock(net, t->sock, &tcfg);
	/* RFC 9000 §14: datagrams are never fragmented; IPv4 sets DF. PROBE
	 * rather than DO: a path MTU probe larger than the device allows
	 * fails locally (a lost probe, RFC 8899 §4.6) and ICMP cannot lower
	 * the size under the search's feet (RFC 8899 §4.6.1 takes it as a
	 * hint only). IPv6 never fragments in the network; the stack would
	 * fragment locally only above the device MTU, which the route's
	 * bound (quic_tunnel_max_payload) keeps us under. */
	if (addr->ss_family == AF_INET)
		ip_sock_set_mtu_discover(t->sock->sk, IP_PMTUDISC_PROBE);

	t->addr = *addr;
	if (addr->ss_family == AF_INET)
		((struct sockaddr_in *)&t->addr)->sin_port = inet_sk(t->sock->sk)->inet_sport;
	else
		((struct sockaddr_in6 *)&t->addr)->sin6_port = inet_sk(t->sock->sk)->inet_sport;
	t->net = net;
	refcount_set(&t->refs, 1);
	return t;
}

struct quic_tunnel *quic_tunnel_get(struct net *net, const struct sockaddr *addr, int addr_len, bool reuse)
{
	struct sockaddr_storage key = {};
	struct quic_tunnel *t;
	bool any_port;

	memcpy(&key, addr, addr_len);
	any_port = key.ss_family == AF_INET ? !((struct sockaddr_in *)&key)->sin_port
					    : !((struct sockaddr_in6 *)&key)->sin6_port;
	if (key.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&key)->sin6_flowinfo = 0;
	mutex_lock(&quic_tunnels_lock);
	if (!any_port) {
		list_for_each_entry(t, &quic_tunnels, node) {
			if (t->net != net || !quic_addr_equal(&t->addr, &key))
				continue;
			/* Sharing a port needs SO_REUSEADDR, as for UDP. */
			if (!reuse) {
				t = ERR_PTR(-EADDRINUSE);
				goto out;
			}
			refcount_inc(&t->refs);
			goto out;
		}
	}
	t = quic_tunnel_create(net, &key);
	if (!IS_ERR(t))
		list_add(&t->node, &quic_tunnels);
out:
	mutex_unlock(&quic_tunnels_lock);
	return t;
}

void quic_tunnel_put(struct quic_tunnel *t)
{
	if (!t)
		return;
	mutex_lock(&quic_tunnels_lock);
	if (!refcount_dec_and_test(&t->refs)) {
		mutex_unlock(&quic_tunnels_lock);
		return;
	}
	list_del(&t->node);
	mutex_unlock(&quic_tunnels_lock);
	/* No datagram arrives after the release (it waits for softirq
	 * readers), and every listener has gone: the backlog's work finds
	 * no one to hand datagrams to. */
	udp_tunnel_sock_release(t->sock);
	cancel_work_sync(&t->work);
	skb_queue_purge(&t->backlog);
	kfree(t);
}

void quic_tunnel_addr(const struct quic_tunnel *t, struct sockaddr_storage *out)
{
	*out = t->addr;
}

struct net *quic_tunnel_net(const struct quic_tunnel *t)
{
	return t->net;
}

void quic_tunnel_exit(void)
{
	/* Every QUIC socket holds the module: none is left at unload. */
	WARN_ON(!list_empty(&quic_tunnels));
}

/* ---- Connections on a tunnel ----------------------------------------------- */

static void quic_tunnel_link(struct quic_tunnel *t, struct list_head *node, struct list_head *list)
{
	spin_lock_bh(&t->conns_lock);
	list_add_rcu(node, list);
	spin_unlock_bh(&t->conns_lock);
}

/* Once off the list, no softirq reader still sees the node. */
static void quic_tunnel_unlink(struct quic_tunnel *t, struct list_head *node)
{
	spin_lock_bh(&t->conns_lock);
	list_del_rcu(node);
	spin_unlock_bh(&t->conns_lock);
	synchronize_rcu();
}

void quic_tunnel_attach(struct quic_tunnel *t, struct quic_sock *qs)
{
	quic_tunnel_link(t, &qs->tunnel_node, &t->conns);
}

void quic_tunnel_detach(struct quic_tunnel *t, struct quic_sock *qs)
{
	quic_tunnel_unlink(t, &qs->tunnel_node);
}

void quic_tunnel_attach_alt(struct quic_tunnel *t, struct quic_sock *qs)
{
	quic_tunnel_link(t, &qs->alt_node, &t->alt_conns);
}

void quic_tunnel_detach_alt(struct quic_tunnel *t, struct quic_sock *qs)
{
	quic_tunnel_unlink(t, &qs->alt_node);
}

u32 quic_tunnel_max_payload(struct net *net, const struct sockaddr_storage *peer, u32 cap)
{
	struct dst_entry *dst;
	u32 hdr, mtu;

	if (peer->ss_family == AF_INET) {
		struct flowi4 fl4 = { .daddr = ((const struct sockaddr_in *)peer)->sin_addr.s_addr };
		struct rtable *rt = ip_route_output_key(net, &fl4);

		if (IS_ERR(rt))
			return QUIC_MIN_INITIAL_DATAGRAM;
		dst = &rt->dst;
		hdr = sizeof(struct iphdr) + sizeof(struct udphdr);
	} else {
		const struct sockaddr_in6 *a = (const void *)peer;
		struct flowi6 fl6 = { .daddr = a->sin6_addr, .flowi6_oif = a->sin6_scope_id };

		dst = ip6_route_output(net, NULL, &fl6);
		if (dst->error) {
			dst_release(dst);
			return QUIC_MIN_INITIAL_DATAGRAM;
		}
		hdr = sizeof(struct ipv6hdr) + sizeof(struct udphdr);
	}
	mtu = dst_mtu(dst);
	dst_release(dst);
	if (mtu < hdr + QUIC_MIN_INITIAL_DATAGRAM)
		return QUIC_MIN_INITIAL_DATAGRAM;
	return min(mtu - hdr, cap);
}

/* `len` bytes to `to`: one datagram, or with `seg` < `len` a train of
 * datagrams of `seg` bytes each (the last may be shorter) the UDP stack
 * cuts with GSO (UDP_SEGMENT): one trip through the stack for all. */
int quic_tunnel_send(struct quic_tunnel *t, const struct sockaddr_storage *to, const u8 *data, size_t len,
		     size_t seg)
{
	struct kvec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		struct cmsghdr hdr;
		u8 buf[CMSG_SPACE(sizeof(u16))];
	} ctl = {};
	struct msghdr msg = {
		.msg_name = (void *)to,
		.msg_namelen = to->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
		.msg_flags = MSG_DONTWAIT,
	};

	quic_stat_add(t->net, QUIC_STAT_TX_DATAGRAMS, DIV_ROUND_UP(len, seg));
	if (seg < len) {
		u16 gso = seg;

		ctl.hdr.cmsg_level = SOL_UDP;
		ctl.hdr.cmsg_type = UDP_SEGMENT;
		ctl.hdr.cmsg_len = CMSG_LEN(sizeof(gso));
		memcpy(ctl.buf + CMSG_ALIGN(sizeof(ctl.hdr)), &gso, sizeof(gso));	/* CMSG_DATA */
		msg.msg_control = &ctl;
		msg.msg_controllen = sizeof(ctl.buf);
	}
	return kernel_sendmsg(t->sock, &msg, &iov, 1, len);
}

/* ---- Listeners on a tunnel ------------------------------------------------- */

void quic_tunnel_listen(struct quic_tunnel *t, struct quic_sock *qs)
{
	mutex_lock(&t->listen_lock);
	list_add_tail(&qs->listen_node, &t->listeners);
	WRITE_ONCE(t->nlisteners, t->nlisteners + 1);
	mutex_unlock(&t->listen_lock);
}

void quic_tunnel_unlisten(struct quic_tunnel *t, struct quic_sock *qs)
{
	mutex_lock(&t->listen_lock);
	list_del_init(&qs->listen_node);
	WRITE_ONCE(t->nlisteners, t->nlisteners - 1);
	mutex_unlock(&t->listen_lock);
}

/* The ALPN dispatch: the first listener (in listen() order) whose ALPN
 * list has a protocol the client offers; else the first without an ALPN
 * list (it takes any); else the first (its TLS refuses the client,
 * RFC 7301 §3.2: no_application_protocol). */
struct sock *quic_tunnel_pick_listener(struct quic_tunnel *t, const u8 *alpns, u32 len)
{
	struct quic_sock *qs, *any = NULL, *first = NULL, *pick = NULL;

	mutex_lock(&t->listen_lock);
	list_for_each_entry(qs, &t->listeners, listen_node) {
		if (!first)
			first = qs;
		if (!qs->alpn.len) {
			if (!any)
				any = qs;
			continue;
		}
		if (quic_alpn_lists_meet(qs->alpn.data, qs->alpn.len, alpns, len)) {
			pick = qs;
			break;
		}
	}
	if (!pick)
		pick = any ? any : first;
	if (pick)
		sock_hold(&pick->inet.sk);
	mutex_unlock(&t->listen_lock);
	return pick ? &pick->inet.sk : NULL;
}

void quic_tunnel_hold(struct quic_tunnel *t)
{
	refcount_inc(&t->refs);
}
