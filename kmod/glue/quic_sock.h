/* SPDX-License-Identifier: GPL-2.0 */
/* The QUIC socket (IPPROTO_QUIC) as the glue keeps it: the inet socket, the
 * options of the user API (include/uapi/linux/quic.h) and the UDP tunnel
 * socket its datagrams travel on. */
#ifndef QUICBED_KMOD_QUIC_SOCK_H
#define QUICBED_KMOD_QUIC_SOCK_H

#include <linux/ipv6.h>
#include <linux/net.h>
#include <linux/quic.h>
#include <linux/socket.h>
#include <linux/hrtimer.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

/* Bounds of the variable-length options (the draft asks implementations to
 * limit them): an ALPN list, a NEW_TOKEN token, a TLS session ticket, a
 * CONNECTION_CLOSE reason phrase. */
#define QUIC_MAX_ALPN_LEN	256
#define QUIC_MAX_TOKEN_LEN	512
#define QUIC_MAX_TICKET_LEN	4096
#define QUIC_MAX_PHRASE_LEN	256
/* One sendmsg of stream data before the handshake (session.c). */
#define QUIC_MAX_EARLY_WRITE	(32 * 1024)

/* A buffer an option owns (kmalloc'ed, len bytes; NULL when empty). */
struct quic_buf {
	u8 *data;
	u32 len;
};

enum quic_sock_state {
	QUIC_SS_CLOSED,		/* created or bound */
	QUIC_SS_LISTENING,	/* listen() */
	QUIC_SS_CONNECTING,	/* connect(): handshake in progress */
	QUIC_SS_ESTABLISHED,	/* handshake complete */
};

struct quic_tunnel;
struct qb_conn;
struct qb_conn_params;

struct quic_sock {
	struct inet_sock inet;	/* first: an inet socket */
	enum quic_sock_state state;
	struct quic_tunnel *tunnel;	/* once bound */

	/* A listener (listen.c): the connections that arrived, for accept(),
	 * and its place on the tunnel's list of listeners. A connection on
	 * that queue is linked by accept_node. */
	struct list_head accept_q;
	u32 accept_len;
	struct list_head listen_node;
	struct list_head accept_node;

	/* The connection (conn.c), from connect() on. Datagrams from the
	 * tunnel wait in rxq; the work item feeds them to the connection and
	 * runs its timer, under the socket lock. */
	struct qb_conn *conn;
	struct sockaddr_storage peer;
	struct list_head tunnel_node;	/* on the tunnel's list of connections */
	struct sk_buff_head rxq;
	struct work_struct work;
	struct hrtimer timer;
	/* Datagrams going out (quic_conn_run); before that in the work item,
	 * a received datagram the skb holds in pieces. */
	u8 *txbuf;
	s64 last_sid;	/* the stream opened last (sendmsg with stream_id -1) */

	struct quic_transport_param local_tp;
	struct quic_transport_param remote_tp;	/* set for 0-RTT resumption */
	bool remote_tp_set;
	struct quic_config config;
	u32 events;	/* bit n: event type n is delivered */
	struct list_head event_q;	/* event.c */
	u32 nevents;
	bool established;	/* the handshake completed (it may have closed since) */
	u64 keyless_drops[2];	/* the connection's (all, 1-RTT) counted in /proc/net/quic */
	u64 events_lost;	/* the connection's lost events counted in /proc/net/quic */
	struct quic_buf alpn;
	struct quic_buf token;
	struct quic_buf ticket;
	/* migration.c: a client's tunnel on the new local address it probes
	 * (RFC 9000 §9.2), or a server's on its preferred address (§9.6,
	 * alt_preferred: kept until the client moves there or the connection
	 * ends; a listener's is only held for the connections it makes), on
	 * that tunnel's alt_conns by alt_node. A client tries the server's
	 * preferred address once (pref_tried). server: an accepted socket. */
	struct quic_tunnel *alt_tunnel;
	struct list_head alt_node;
	bool alt_preferred;
	bool pref_tried;
	bool server;
	/* sockopt.c: the process read our transport parameters (its TLS has
	 * them: too late for a preferred address). */
	bool local_tp_read;
	/* cid.c: our connection IDs (for routing a migrated peer's datagrams,
	 * read in softirq under cid_lock), when they were copied, and the
	 * CONNECTION_ID values last reported (index: dest). */
	spinlock_t cid_lock;
	u8 ncids;
	u8 cid_len;
	u8 cids[16][20];
	u64 cids_gen;
	bool cid_seen_valid;
	struct quic_connection_id_info cid_seen[2];
	/* CONNECTION_CLOSE: ours to send (set) or the peer's (get). */
	u32 close_errcode;
	u8 close_frame;
	struct quic_buf close_phrase;

	/* closing.c: after close() the connection goes on without the
	 * socket (orphan) until it ended; reap then frees the socket. Until
	 * linger_until (microseconds) it may still deliver stream data. */
	bool orphan;
	bool reaping;
	bool close_sent;
	u64 linger_until;
	struct work_struct reap;
};

/* IPv6 sockets end with the IPv6 state, where inet6 finds it. */
struct quic6_sock {
	struct quic_sock quic;
	struct ipv6_pinfo inet6;
};

static inline struct quic_sock *quic_sk(const struct sock *sk)
{
	return (struct quic_sock *)sk;
}

void quic_buf_free(struct quic_buf *b);

/* sockopt.c */
void quic_sock_set_defaults(struct quic_sock *qs);
int quic_setsockopt(struct sock *sk, int level, int optname, sockptr_t optval, unsigned int optlen);
int quic_getsockopt(struct sock *sk, int level, int optname, char __user *optval, int __user *optlen);
/* The same on user or kernel buffers (the kernel API, kapi.c). */
int quic_do_getsockopt(struct sock *sk, int level, int optname, sockptr_t optval, sockptr_t optlen);

/* tunnel.c: UDP sockets shared by every QUIC socket bound to the same
 * local address and port. */
struct quic_tunnel *quic_tunnel_get(struct net *net, const struct sockaddr *addr, int addr_len, bool reuse);
void quic_tunnel_put(struct quic_tunnel *t);
/* The local address (port included) the tunnel is bound to. */
void quic_tunnel_addr(const struct quic_tunnel *t, struct sockaddr_storage *out);
/* The network namespace the tunnel's UDP socket lives in. */
struct net *quic_tunnel_net(const struct quic_tunnel *t);
void quic_tunnel_exit(void);

/* tunnel.c: the tunnel a queued datagram came on (skb->cb of the
 * connection's rxq) and its sender. */
#define QUIC_SKB_TUNNEL(skb) (*(struct quic_tunnel **)(skb)->cb)
void quic_skb_source(const struct sk_buff *skb, struct sockaddr_storage *out);
/* tunnel.c: a connection probing a path from this tunnel (migration.c). */
void quic_tunnel_attach_alt(struct quic_tunnel *t, struct quic_sock *qs);
void quic_tunnel_detach_alt(struct quic_tunnel *t, struct quic_sock *qs);

/* migration.c: paths (RFC 9000 §9), QUIC_SOCKOPT_CONNECTION_MIGRATION and
 * QUIC_EVENT_CONNECTION_MIGRATION. */
void quic_migration_sock_init(struct quic_sock *qs);
int quic_set_migration(struct sock *sk, sockptr_t optval, unsigned int optlen);
/* The path a socket address pair names, for the core. */
struct qb_path;
void quic_path_of(struct qb_path *p, const struct sockaddr_storage *local, const struct sockaddr_storage *peer);
/* A datagram from the rxq, fed to the connection with its path; `data`
 * is its bytes (skb->data, or a copy of a paged skb's). */
void quic_migration_receive(struct quic_sock *qs, struct sk_buff *skb, u8 *data, u64 now);
/* Before sending: follows the core's active path (a client's validated
 * new address, a server's migrated peer), reports the migration, and
 * refreshes the routing CIDs. */
void quic_migration_sync(struct sock *sk);
/* A datagram for a path other than the active one (a probe). */
void quic_migration_send(struct quic_sock *qs, const struct qb_path *p, const u8 *data, size_t len);
/* close(): the probing tunnel goes. */
void quic_migration_release(struct quic_sock *qs);
/* A listener's preferred address (QUIC_SOCKOPT_CONNECTION_MIGRATION on it)
 * for a connection it made (sk, locked by the caller's listener lock); and
 * its release at the listener's close. */
void quic_migration_inherit(struct sock *sk, struct quic_sock *lqs);
void quic_migration_listener_release(struct quic_sock *lqs);

/* cid.c: QUIC_SOCKOPT_CONNECTION_ID, QUIC_EVENT_CONNECTION_ID and our CIDs
 * for routing. */
int quic_set_connection_id(struct quic_sock *qs, sockptr_t optval, unsigned int optlen);
int quic_get_connection_id(struct quic_sock *qs, sockptr_t optval, sockptr_t optlen, int len);
/* After the connection ran: the routing copy and the events. */
void quic_cid_sync(struct quic_sock *qs);
/* Whether a short header packet (softirq) is addressed to one of qs's CIDs. */
bool quic_cid_owns(struct quic_sock *qs, const struct sk_buff *skb);

/* tunnel.c: connections receive what their peer sends to the tunnel;
 * datagrams from other peers go to the tunnel's listeners (listen.c). */
void quic_tunnel_attach(struct quic_tunnel *t, struct quic_sock *qs);
void quic_tunnel_detach(struct quic_tunnel *t, struct quic_sock *qs);
int quic_tunnel_send(struct quic_tunnel *t, const struct sockaddr_storage *to, const u8 *data, size_t len,
		     size_t seg);
/* The largest UDP payload that reaches `peer` unfragmented, by the route's
 * MTU, at most `cap`; 1200 (RFC 9000 §14.1) without a route. */
u32 quic_tunnel_max_payload(struct net *net, const struct sockaddr_storage *peer, u32 cap);
void quic_tunnel_listen(struct quic_tunnel *t, struct quic_sock *qs);
void quic_tunnel_unlisten(struct quic_tunnel *t, struct quic_sock *qs);
/* The listener an incoming connection offering the ALPN list `alpns`
 * (comma-separated, len bytes, possibly none) goes to, held (sock_put it);
 * NULL when the tunnel has none. */
struct sock *quic_tunnel_pick_listener(struct quic_tunnel *t, const u8 *alpns, u32 len);
/* Another reference for a connection a listener accepts; only while the
 * listener (holding one) is locked and listening. */
void quic_tunnel_hold(struct quic_tunnel *t);

/* listen.c */
int quic_listen(struct socket *sock, int backlog);
int quic_accept_sk(struct sock *sk, struct socket *newsock, int flags);
/* close() of a listener: no more connections; those not accepted close. */
void quic_listen_stop(struct sock *sk);
/* A datagram on tunnel `t` from `from`, a peer with no connection there:
 * a client's first Initial makes a connection for a listener. Consumes
 * the skb (its payload after the UDP header). Process context. */
void quic_listen_incoming(struct quic_tunnel *t, struct sk_buff *skb, const struct sockaddr_storage *from);
/* Whether two comma-separated ALPN lists share a protocol. */
bool quic_alpn_lists_meet(const u8 *a, u32 alen, const u8 *b, u32 blen);

/* event.c: events of the types turned on, for recvmsg
 * (MSG_QUIC_NOTIFICATION). push: the type, its structure and a tail (a
 * reason phrase). Under the socket lock. */
void quic_event_push(struct quic_sock *qs, u8 type, const void *ev, u32 len, const void *tail, u32 tail_len);
bool quic_event_pending(const struct quic_sock *qs);
int quic_event_recv(struct sock *sk, struct msghdr *msg, size_t len);
void quic_event_purge(struct quic_sock *qs);

/* conn.c */
void quic_conn_sock_init(struct quic_sock *qs);
/* Queues the connection's work item (received datagrams, timers). */
void quic_conn_schedule(struct quic_sock *qs);
int quic_conn_connect(struct sock *sk, const struct sockaddr *addr, int len);
/* The socket's options as the core's connection parameters, for a
 * connection with `peer` (whose route bounds the datagram size). */
void quic_conn_params(const struct quic_sock *qs, const struct sockaddr_storage *peer, struct qb_conn_params *p,
		      bool server);
/* Transport parameters in the core's form (the rest of *p zeroed). */
void quic_conn_tp_params(const struct quic_transport_param *tp, struct qb_conn_params *p);
/* A connection the listener made: `conn` (fed the client's first
 * Initial) becomes the socket's, talking to `peer` on tunnel `t`. */
int quic_conn_adopt(struct sock *sk, struct quic_tunnel *t, struct qb_conn *conn, const struct sockaddr_storage *peer);
void quic_conn_release(struct sock *sk);
/* After a call into the connection: send what it has, rearm its timer,
 * wake readers. Under the socket lock. */
void quic_conn_run(struct sock *sk);
int quic_conn_recv_handshake(struct sock *sk, struct msghdr *msg, size_t len, int flags);
int quic_conn_send_handshake(struct sock *sk, struct msghdr *msg, size_t len, u8 level);
int quic_conn_send_stream(struct sock *sk, struct msghdr *msg, size_t len, s64 sid, u32 flags);
int quic_conn_recv_stream(struct sock *sk, struct msghdr *msg, size_t len, int flags);
int quic_conn_send_datagram(struct sock *sk, struct msghdr *msg, size_t len);
u64 quic_now_us(void);

/* session.c: session tickets, 0-RTT, tokens (see there). */
struct qb_path;
struct qb_conn *quic_session_client_conn(const struct quic_sock *qs, const struct qb_conn_params *p,
					 const struct qb_path *path);
/* A listener's connection takes its session ticket key. */
void quic_session_inherit(struct quic_sock *qs, const struct quic_sock *lqs);
/* The handshake completed (quic_conn_run). */
void quic_session_established(struct sock *sk);
/* After the connection ran: tickets and tokens it received. */
void quic_session_run(struct sock *sk);
int quic_session_early_send(struct sock *sk, struct msghdr *msg, size_t len, s64 sid, u32 flags);
int quic_session_set_token(struct quic_sock *qs, sockptr_t optval, unsigned int optlen);
int quic_session_token_readable(const struct quic_sock *qs);
/* stream_event.c: the connection's stream and key events, for recvmsg.
 * Under the socket lock, with a connection. */
void quic_conn_events(struct sock *sk);

/* closing.c: close() of a socket whose connection is open: true when the
 * connection takes the socket over (it is orphaned, and freed with
 * quic_close_final() once the connection ended), false when the socket
 * closes at once. `timeout`: SO_LINGER's time, what close() may wait for
 * the stream data to be acknowledged. */
bool quic_closing_start(struct sock *sk, long timeout);
/* From quic_conn_run, for an orphan (under its lock): closes the
 * connection once its data is delivered or its time is up, and reaps the
 * socket once the connection ended. timeout: when its timer must fire
 * (microseconds), given when the connection's must. */
void quic_closing_step(struct sock *sk);
/* Closes the connection (open, qs->conn set) with our CONNECTION_CLOSE:
 * the application's, or during the handshake the TLS alert libquic set. */
void quic_closing_send(struct quic_sock *qs);
u64 quic_closing_timeout(const struct quic_sock *qs, u64 next);
int quic_closing_init(void);
void quic_closing_exit(void);
/* stateless.c: a datagram of a peer with no connection on a port with
 * listeners (skb linear): Version Negotiation, a Retry when `retry`, or
 * the admission of a client's first Initial. Returns first->action
 * (enum qb_first_action); a reply has gone out. */
struct qb_first;
int quic_stateless_answer(struct quic_tunnel *t, const struct sk_buff *skb, const struct sockaddr_storage *from,
			  bool retry, struct qb_first *first);
/* A NEW_TOKEN token of namespace `net` for the client at `peer`
 * (session.c): its length, or a negative errno. */
int quic_stateless_new_token(struct net *net, const struct sockaddr_storage *peer, u8 *out, size_t cap);
/* A namespace's token key and its lock (stats.c's pernet init and exit). */
struct quic_net;
int quic_stateless_init(struct quic_net *qn);
void quic_stateless_exit(struct quic_net *qn);

/* socket.c: the socket's last steps, its connection freed. */
void quic_close_final(struct sock *sk);

/* stats.c: /proc/net/quic counters and the net.quic sysctls. */
enum quic_stat {
	QUIC_STAT_SOCKETS,		/* open now */
	QUIC_STAT_CONNECTS,		/* client connections made */
	QUIC_STAT_ACCEPTS,		/* server connections made by a first Initial */
	QUIC_STAT_ESTABLISHED,		/* handshakes completed */
	QUIC_STAT_CLOSED,		/* connections that ended (any way) */
	QUIC_STAT_RX_DATAGRAMS,		/* UDP datagrams for a connection or a listener */
	QUIC_STAT_TX_DATAGRAMS,		/* UDP datagrams sent */
	QUIC_STAT_RX_DROPPED,		/* UDP datagrams no one took */
	QUIC_STAT_INITIALS_REFUSED,	/* first Initials not made a connection */
	QUIC_STAT_CLOSING,		/* connections outliving their socket's close() now */
	QUIC_STAT_VERSION_NEGOTIATIONS,	/* Version Negotiation packets sent */
	QUIC_STAT_RETRIES,		/* Retry packets sent */
	QUIC_STAT_ZERO_RTT_RX,		/* 0-RTT packets servers processed before completing */
	QUIC_STAT_TOKENS_SENT,		/* NEW_TOKEN tokens servers issued */
	QUIC_STAT_TOKENS_VALIDATED,	/* first Initials whose NEW_TOKEN token validated the address */
	QUIC_STAT_KEYLESS_DROPS,	/* packets that came before their keys and found no room to wait */
	QUIC_STAT_ONE_RTT_KEYLESS_DROPS,	/* the 1-RTT ones among them */
	QUIC_STAT_EVENTS_DROPPED,	/* events lost to a bound (event.c, stream_event.c) */
	QUIC_STAT_MAX
};
/* What the module keeps per network namespace (net_generic, stats.c):
 * /proc/net/quic's counters and the net.quic sysctls of that namespace.
 * Everything is counted on the namespace of the socket or tunnel
 * concerned, and limits are read from it when applied. */
struct quic_net {
	atomic64_t stats[QUIC_STAT_MAX];
	/* net.quic.initial_backlog: datagrams from unknown peers waiting for
	 * a port's listeners (tunnel.c); net.quic.max_events: events waiting
	 * on a socket (event.c). */
	int initial_backlog;
	int max_events;
	struct ctl_table *sysctl_table;	/* this namespace's copy */
	struct ctl_table_header *sysctl;
	/* The namespace's Retry and NEW_TOKEN token key (stateless.c). */
	struct qb_stateless *stateless;
	struct mutex stateless_lock;
};
extern unsigned int quic_net_id;
static inline struct quic_net *quic_net(const struct net *net)
{
	return net_generic(net, quic_net_id);
}
static inline void quic_stat_add(const struct net *net, enum quic_stat s, long n)
{
	atomic64_add(n, &quic_net(net)->stats[s]);
}
int quic_stats_init(void);
void quic_stats_exit(void);

/* socket.c */
/* Records the tunnel's address as the socket's (getsockname). */
void quic_set_local(struct sock *sk, const struct quic_tunnel *t);
int quic_socket_init(void);
void quic_socket_exit(void);

#endif
