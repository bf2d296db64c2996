// SPDX-License-Identifier: GPL-2.0
/* A socket's connection: connect(), the work item that feeds received
 * datagrams and timer expiries to the core, sending, and the handshake
 * messages exchanged with the process (recvmsg/sendmsg with
 * QUIC_HANDSHAKE_INFO). The core runs only here, under the socket lock in
 * process context (it may sleep in the crypto API). */
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

/* The largest DATAGRAM frame payload taken or returned at once. */
#define QUIC_TX_BUF 1500
/* One send: a datagram, or a GSO train of at most 64 segments (the UDP
 * stack's UDP_MAX_SEGMENTS), within IPv4's largest UDP payload (65535
 * less the IP and UDP headers); datagrams are at most this large. */
#define QUIC_TX_BATCH 65507
#define QUIC_GSO_SEGMENTS 64
/* qb_conn_write_on_path needs room for 1200 bytes (RFC 9000 §14.1). */
#define QUIC_MIN_ROOM 1200
/* Handshake bytes per recvmsg / sendmsg at most. */
#define QUIC_MAX_HANDSHAKE_MSG (64 * 1024)

u64 quic_now_us(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

/* The connection ended: why is logged and becomes the socket's close
 * information (QUIC_SOCKOPT_CONNECTION_CLOSE get: the peer's error code,
 * frame type and phrase, or ours). */
static void quic_conn_closed(struct sock *sk)
{
	static const char *const by[] = { "us", "the peer", "idle timeout", "stateless reset" };
	struct quic_sock *qs = quic_sk(sk);
	struct qb_close_info ci;
	u8 *phrase = NULL;

	qb_conn_close_info(qs->conn, &ci);
	pr_info("quic: connection closed (%s): %s error 0x%llx '%*pE'\n", by[ci.source & 3],
		ci.app ? "application" : "transport", ci.code, (int)ci.reason_len, ci.reason);
	quic_stat_add(sock_net(sk), QUIC_STAT_CLOSED, 1);
	{
		struct quic_connection_close ev = { .errcode = ci.code, .frame = ci.frame_type };

		quic_event_push(qs, QUIC_EVENT_CONNECTION_CLOSE, &ev, offsetof(struct quic_connection_close, phrase),
				ci.reason, ci.reason_len);
	}
	qs->state = QUIC_SS_CLOSED;
	inet_sk_set_state(sk, TCP_CLOSE);
	sk->sk_state_change(sk);
	/* Our close() sent what the socket holds already. */
	if (ci.source == QB_CLOSE_LOCAL && ci.app)
		return;
	if (ci.reason_len) {
		phrase = kmalloc(ci.reason_len + 1, GFP_KERNEL);
		if (phrase) {
			memcpy(phrase, ci.reason, ci.reason_len);
			phrase[ci.reason_len] = 0;
		}
	}
	quic_buf_free(&qs->close_phrase);
	qs->close_phrase.data = phrase;
	qs->close_phrase.len = phrase ? ci.reason_len : 0;
	qs->close_errcode = ci.code;
	qs->close_frame = ci.frame_type;
}

/* Sends every datagram the connection has now, rearms its timer, and
 * moves the socket's state along with the connection's. */
void quic_conn_run(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	u64 now = quic_now_us(), next;
	size_t n, off = 0, seg = 0;
	struct qb_path path;
	int state, active, i;

	if (!qs->conn)
		return;
	quic_migration_sync(sk);
	if (qs->orphan)
		quic_closing_step(sk);
	/* Datagrams of one size go out together with GSO; a shorter one ends
	 * the train, a larger one starts the next. A probe of another path
	 * goes alone, on that path (migration.c). */
	while ((n = qb_conn_write_on_path(qs->conn, qs->txbuf + off, QUIC_TX_BATCH - off, now, &path, &active))) {
		if (!active) {
			quic_migration_send(qs, &path, qs->txbuf + off, n);
			continue;
		}
		if (!off || n > seg) {
			if (off)
				quic_tunnel_send(qs->tunnel, &qs->peer, qs->txbuf, off, seg);
			memmove(qs->txbuf, qs->txbuf + off, n);
			off = 0;
			seg = n;
		}
		off += n;
		/* Sent when the next datagram of this size might not fit. */
		if (n < seg || off + max_t(size_t, seg, QUIC_MIN_ROOM) > QUIC_TX_BATCH ||
		    off / seg >= QUIC_GSO_SEGMENTS) {
			quic_tunnel_send(qs->tunnel, &qs->peer, qs->txbuf, off, seg);
			off = 0;
		}
	}
	if (off)
		quic_tunnel_send(qs->tunnel, &qs->peer, qs->txbuf, off, seg);
	next = qb_conn_next_timeout(qs->conn);
	if (qs->orphan)
		next = quic_closing_timeout(qs, next);
	if (next == U64_MAX)
		hrtimer_try_to_cancel(&qs->timer);
	else
		hrtimer_start(&qs->timer, ns_to_ktime(next * NSEC_PER_USEC), HRTIMER_MODE_ABS);

	quic_conn_events(sk);
	for (i = 0; i < 2; i++) {
		u64 drops = qb_conn_keyless_drops(qs->conn, i);

		if (drops == qs->keyless_drops[i])
			continue;
		quic_stat_add(sock_net(sk), i ? QUIC_STAT_ONE_RTT_KEYLESS_DROPS : QUIC_STAT_KEYLESS_DROPS,
			      drops - qs->keyless_drops[i]);
		qs->keyless_drops[i] = drops;
	}
	state = qb_conn_state(qs->conn);
	if (state == QB_CONN_ESTABLISHED && qs->state == QUIC_SS_CONNECTING) {
		qs->state = QUIC_SS_ESTABLISHED;
		qs->established = true;
		quic_stat_add(sock_net(sk), QUIC_STAT_ESTABLISHED, 1);
		quic_session_established(sk);
		inet_sk_set_state(sk, TCP_ESTABLISHED);
		sk->sk_state_change(sk);
	} else if (state != QB_CONN_HANDSHAKE && state != QB_CONN_ESTABLISHED && qs->state != QUIC_SS_CLOSED) {
		quic_conn_closed(sk);
	}
	quic_session_run(sk);
	if (qb_conn_has_handshake_data(qs->conn) || qb_conn_has_stream_data(qs->conn) || qb_conn_has_datagram(qs->conn))
		sk->sk_data_ready(sk);
	/* Acknowledgements may have made room in a send buffer. */
	sk->sk_write_space(sk);
}

static void quic_conn_work(struct work_struct *work)
{
	struct quic_sock *qs = container_of(work, struct quic_sock, work);
	struct sock *sk = &qs->inet.sk;
	struct sk_buff *skb;

	lock_sock(sk);
	while ((skb = skb_dequeue(&qs->rxq))) {
		/* A large datagram over loopback comes in page fragments: copied
		 * out whole (the core decrypts it in place) rather than
		 * linearized, which needs a high-order atomic allocation. */
		if (qs->conn && !skb_is_nonlinear(skb))
			quic_migration_receive(qs, skb, skb->data, quic_now_us());
		else if (qs->conn && skb->len <= QUIC_TX_BATCH && !skb_copy_bits(skb, 0, qs->txbuf, skb->len))
			quic_migration_receive(qs, skb, qs->txbuf, quic_now_us());
		kfree_skb(skb);
	}
	if (qs->conn) {
		u64 now = quic_now_us();

		if (qb_conn_next_timeout(qs->conn) <= now)
			qb_conn_on_timeout(qs->conn, now);
	}
	quic_conn_run(sk);
	release_sock(sk);
	sock_put(sk);
}

/* The work item runs on an unbound worker, not on the CPU that queued it:
 * datagrams over loopback arrive in the sender's softirq, and a per-CPU
 * worker there decrypted them on the sender's CPU, the two ends taking
 * turns on one CPU while the other idled (a third of the time, with
 * 64 KB writes: QUIC at 0.6 of kTLS before, 0.8-0.9 after). */
void quic_conn_schedule(struct quic_sock *qs)
{
	sock_hold(&qs->inet.sk);
	if (!queue_work(system_unbound_wq, &qs->work))
		sock_put(&qs->inet.sk);
}

static enum hrtimer_restart quic_conn_timer(struct hrtimer *timer)
{
	quic_conn_schedule(container_of(timer, struct quic_sock, timer));
	return HRTIMER_NORESTART;
}

void quic_conn_sock_init(struct quic_sock *qs)
{
	skb_queue_head_init(&qs->rxq);
	INIT_WORK(&qs->work, quic_conn_work);
	hrtimer_init(&qs->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	qs->timer.function = quic_conn_timer;
	INIT_LIST_HEAD(&qs->tunnel_node);
	qs->last_sid = -1;
	quic_migration_sock_init(qs);
}

void quic_conn_params(const struct quic_sock *qs, const struct sockaddr_storage *peer, struct qb_conn_params *p,
		      bool server)
{
	quic_conn_tp_params(&qs->local_tp, p);
	p->max_datagram_size = quic_tunnel_max_payload(sock_net(&qs->inet.sk), peer, QUIC_TX_BATCH);
	p->server = server;
	p->version = qs->config.version;
}

void quic_conn_tp_params(const struct quic_transport_param *tp, struct qb_conn_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_idle_timeout_us = tp->max_idle_timeout;
	p->max_ack_delay_us = tp->max_ack_delay;
	p->ack_delay_exponent = tp->ack_delay_exponent;
	p->max_udp_payload_size = tp->max_udp_payload_size;
	p->active_connection_id_limit = tp->active_connection_id_limit;
	p->max_datagram_frame_size = tp->max_datagram_frame_size;
	p->max_data = tp->max_data;
	p->max_stream_data_bidi_local = tp->max_stream_data_bidi_local;
	p->max_stream_data_bidi_remote = tp->max_stream_data_bidi_remote;
	p->max_stream_data_uni = tp->max_stream_data_uni;
	p->max_streams_bidi = tp->max_streams_bidi;
	p->max_streams_uni = tp->max_streams_uni;
	p->disable_active_migration = tp->disable_active_migration;
	p->grease_quic_bit = tp->grease_quic_bit;
}

/* The socket (locked, on its tunnel) takes `conn`, a connection with the
 * peer at `addr`: what connect() and a listener's new connection share. */
static int quic_conn_take(struct sock *sk, struct qb_conn *conn, const struct sockaddr *addr, int len, int tcp_state)
{
	struct quic_sock *qs = quic_sk(sk);

	qs->txbuf = kvmalloc(QUIC_TX_BATCH, GFP_KERNEL);
	if (!qs->txbuf)
		return -ENOMEM;
	qs->conn = conn;
	memset(qs->keyless_drops, 0, sizeof(qs->keyless_drops));
	memset(&qs->peer, 0, sizeof(qs->peer));
	memcpy(&qs->peer, addr, len);
	if (sk->sk_family == AF_INET) {
		inet_sk(sk)->inet_daddr = ((const struct sockaddr_in *)addr)->sin_addr.s_addr;
		inet_sk(sk)->inet_dport = ((const struct sockaddr_in *)addr)->sin_port;
	} else {
		sk->sk_v6_daddr = ((const struct sockaddr_in6 *)addr)->sin6_addr;
		inet_sk(sk)->inet_dport = ((const struct sockaddr_in6 *)addr)->sin6_port;
	}
	quic_tunnel_attach(qs->tunnel, qs);
	qs->state = QUIC_SS_CONNECTING;
	inet_sk_set_state(sk, tcp_state);
	return 0;
}

/* connect(): a client connection to `addr`. Returns at once, as the
 * draft's API does: the process then runs the handshake (libquic). */
int quic_conn_connect(struct sock *sk, const struct sockaddr *addr, int len)
{
	struct quic_sock *qs = quic_sk(sk);
	struct qb_conn_params p;
	struct qb_conn *conn;
	int err;

	lock_sock(sk);
	if (qs->state != QUIC_SS_CLOSED || qs->conn) {
		err = qs->state == QUIC_SS_LISTENING ? -EINVAL : -EISCONN;
		goto out;
	}
	if (!qs->tunnel) {
		/* Not bound: an ephemeral port on the wildcard address. */
		struct sockaddr_storage any = { .ss_family = sk->sk_family };
		struct quic_tunnel *t;

		t = quic_tunnel_get(sock_net(sk), (struct sockaddr *)&any,
				    sk->sk_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
				    false);
		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			goto out;
		}
		qs->tunnel = t;
		quic_set_local(sk, t);
	}
	{
		struct sockaddr_storage local, peer = {};
		struct qb_path path;

		memcpy(&peer, addr, min_t(int, len, sizeof(peer)));
		quic_conn_params(qs, &peer, &p, false);
		quic_tunnel_addr(qs->tunnel, &local);
		quic_path_of(&path, &local, &peer);
		conn = quic_session_client_conn(qs, &p, &path);
	}
	if (!conn) {
		err = -ENOMEM;
		goto out;
	}
	err = qb_conn_start(conn, quic_now_us());
	if (!err)
		err = quic_conn_take(sk, conn, addr, len, TCP_SYN_SENT);
	if (err) {
		qb_conn_free(conn);
		goto out;
	}
	quic_stat_add(sock_net(sk), QUIC_STAT_CONNECTS, 1);
	quic_conn_run(sk);
out:
	release_sock(sk);
	return err;
}

int quic_conn_adopt(struct sock *sk, struct quic_tunnel *t, struct qb_conn *conn, const struct sockaddr_storage *peer)
{
	struct quic_sock *qs = quic_sk(sk);
	int err;

	lock_sock(sk);
	qs->tunnel = t;
	qs->server = true;
	quic_set_local(sk, t);
	err = quic_conn_take(sk, conn, (const struct sockaddr *)peer,
			     peer->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
			     TCP_SYN_RECV);
	release_sock(sk);
	return err;
}

/* At close: a connection still open sends CONNECTION_CLOSE with the
 * error code and phrase of QUIC_SOCKOPT_CONNECTION_CLOSE (0 and none by
 * default; quic_closing_send), then no datagram or timer reaches it any
 * more and it goes. Its closing state (RFC 9000 §10.2.1) is not kept: should the
 * CONNECTION_CLOSE be lost, the peer ends at its idle timeout. Called
 * without the socket lock. */
void quic_conn_release(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	struct qb_conn *conn;

	lock_sock(sk);
	conn = qs->conn;
	if (conn && (qb_conn_state(conn) == QB_CONN_HANDSHAKE || qb_conn_state(conn) == QB_CONN_ESTABLISHED)) {
		quic_closing_send(qs);
		quic_conn_run(sk);
	}
	/* From here the work item and the timer find no connection, so
	 * nothing rearms the timer. */
	qs->conn = NULL;
	release_sock(sk);
	if (!conn)
		return;
	quic_tunnel_detach(qs->tunnel, qs);
	quic_migration_release(qs);
	hrtimer_cancel(&qs->timer);
	/* A queued work item holds a reference for itself. */
	if (cancel_work_sync(&qs->work))
		__sock_put(sk);
	skb_queue_purge(&qs->rxq);
	qb_conn_free(conn);
	kvfree(qs->txbuf);
	qs->txbuf = NULL;
}

/* recvmsg while the handshake runs: the peer's handshake bytes with their
 * level in a QUIC_HANDSHAKE_INFO cmsg. Blocks unless MSG_DONTWAIT. */
int quic_conn_recv_handshake(struct sock *sk, struct msghdr *msg, size_t len, int flags)
{
	struct quic_sock *qs = quic_sk(sk);
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	struct quic_handshake_info info;
	size_t n, cap = min_t(size_t, len, QUIC_MAX_HANDSHAKE_MSG);
	u8 *buf;
	int err;

	if (!qs->conn)
		return -ENOTCONN;
	buf = kmalloc(cap ? cap : 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (!(n = qb_conn_read_handshake(qs->conn, buf, cap, &info.crypto_level))) {
		DEFINE_WAIT_FUNC(wait, woken_wake_function);

		if (qs->state == QUIC_SS_CLOSED) {
			err = -ECONNRESET;
			goto out;
		}
		if (!cap) {
			err = 0;
			goto out;
		}
		if (!timeo) {
			err = -EAGAIN;
			goto out;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			goto out;
		}
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo, qb_conn_has_handshake_data(qs->conn) || qs->state == QUIC_SS_CLOSED,
			      &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
	if (copy_to_iter(buf, n, &msg->msg_iter) != n) {
		err = -EFAULT;
		goto out;
	}
	put_cmsg(msg, SOL_QUIC, QUIC_HANDSHAKE_INFO, sizeof(info), &info);
	err = n;
out:
	kfree(buf);
	return err;
}

/* sendmsg with QUIC_HANDSHAKE_INFO: handshake bytes the process's TLS
 * wrote at `level`, handed to the connection. */
int quic_conn_send_handshake(struct sock *sk, struct msghdr *msg, size_t len, u8 level)
{
	struct quic_sock *qs = quic_sk(sk);
	u8 *buf;
	int err;

	if (!qs->conn)
		return -ENOTCONN;
	if (!len || len > QUIC_MAX_HANDSHAKE_MSG)
		return -EINVAL;
	buf = kmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (copy_from_iter(buf, len, &msg->msg_iter) != len) {
		kfree(buf);
		return -EFAULT;
	}
	err = qb_conn_push_crypto(qs->conn, level, buf, len);
	kfree(buf);
	if (err)
		return err;
	qb_conn_advance_tls(qs->conn, quic_now_us());
	quic_conn_run(sk);
	return len;
}

/* Waits (the socket lock released meanwhile) until the connection ran
 * again or `timeo` passed: the caller then retries. */
static int quic_conn_wait(struct sock *sk, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	if (!*timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	add_wait_queue(sk_sleep(sk), &wait);
	sk_wait_event(sk, timeo, quic_sk(sk)->state == QUIC_SS_CLOSED, &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
	return quic_sk(sk)->state == QUIC_SS_CLOSED ? -EPIPE : 0;
}

/* sendmsg of stream data: to `sid` (-1: a new stream with
 * MSG_QUIC_STREAM_NEW, else the last one opened), the end of the stream
 * with MSG_QUIC_STREAM_FIN once all of it is taken. Blocks while the send
 * buffer is full unless MSG_DONTWAIT. The bytes go from the process's
 * iov_iter straight into the stream's send buffer, a page at a time. */
int quic_conn_send_stream(struct sock *sk, struct msghdr *msg, size_t len, s64 sid, u32 flags)
{
	struct quic_sock *qs = quic_sk(sk);
	long timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	bool fin = flags & MSG_QUIC_STREAM_FIN;
	size_t done = 0, unsent = 0;
	int err = 0;

	/* A client's data before the handshake: for 0-RTT (session.c). */
	if (qs->state == QUIC_SS_CONNECTING)
		return quic_session_early_send(sk, msg, len, sid, flags);
	if (qs->state != QUIC_SS_ESTABLISHED)
		return -ENOTCONN;
	if (flags & MSG_QUIC_STREAM_NEW) {
		s64 id = qb_conn_stream_open(qs->conn, !!(flags & MSG_QUIC_STREAM_UNI));

		if (id < 0)
			return id;
		/* An explicit ID must be the next one of its type. */
		if (sid != -1 && sid != id)
			return -EINVAL;
		sid = id;
		qs->last_sid = id;
	} else if (sid == -1) {
		sid = qs->last_sid;
		if (sid < 0)
			return -EINVAL;
	}
	if (!len) {
		/* A FIN alone, or nothing. */
		err = fin ? qb_conn_stream_commit(qs->conn, sid, 0, 1) : 0;
		if (!err)
			quic_conn_run(sk);
		return err;
	}
	while (done < len) {
		size_t room, take, n;
		u8 *dst;

		err = qb_conn_stream_write_space(qs->conn, sid, &dst, &room);
		if (err)
			break;
		if (!room) {
			/* Full: what is queued goes out, and acknowledgements
			 * make room. */
			quic_conn_run(sk);
			unsent = 0;
			err = quic_conn_wait(sk, &timeo);
			if (err)
				break;
			continue;
		}
		take = min(room, len - done);
		n = copy_from_iter(dst, take, &msg->msg_iter);
		err = qb_conn_stream_commit(qs->conn, sid, n, fin && n && done + n == len);
		if (err)
			break;
		done += n;
		unsent += n;
		if (n < take) {
			err = -EFAULT;
			break;
		}
		/* Datagrams go out as each batch's worth is queued. */
		if (unsent >= QUIC_TX_BATCH) {
			quic_conn_run(sk);
			unsent = 0;
		}
	}
	if (done)
		quic_conn_run(sk);
	if (done)
		return done;
	return err;
}

/* sendmsg with MSG_QUIC_DATAGRAM (in msg_flags or the QUIC_STREAM_INFO
 * flags): the message as one DATAGRAM frame (RFC 9221), never
 * retransmitted. EMSGSIZE when larger than the peer takes, EAGAIN while
 * the queue is full. */
int quic_conn_send_datagram(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct quic_sock *qs = quic_sk(sk);
	u8 *buf;
	int err;

	if (qs->state != QUIC_SS_ESTABLISHED)
		return -ENOTCONN;
	if (len > QUIC_TX_BUF)
		return -EMSGSIZE;
	buf = kmalloc(len ? len : 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = copy_from_iter(buf, len, &msg->msg_iter) == len ? qb_conn_datagram_send(qs->conn, buf, len) : -EFAULT;
	kfree(buf);
	if (err)
		return err;
	quic_conn_run(sk);
	return len;
}

/* A received DATAGRAM frame's payload, MSG_QUIC_DATAGRAM in msg_flags
 * (MSG_TRUNC when the buffer was short). */
static int quic_conn_recv_datagram(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct quic_sock *qs = quic_sk(sk);
	size_t cap = min_t(size_t, len, QUIC_TX_BUF), full = 0;
	u8 *buf = kmalloc(cap ? cap : 1, GFP_KERNEL);
	s64 n;

	if (!buf)
		return -ENOMEM;
	n = qb_conn_datagram_read(qs->conn, buf, cap, &full);
	if (n >= 0 && copy_to_iter(buf, n, &msg->msg_iter) != n)
		n = -EFAULT;
	kfree(buf);
	if (n < 0)
		return n;
	msg->msg_flags |= MSG_QUIC_DATAGRAM;
	if (n < full)
		msg->msg_flags |= MSG_TRUNC;
	return n;
}

/* recvmsg of stream data: one stream's bytes, its ID and the end flag in a
 * QUIC_STREAM_INFO cmsg. 0 at the end of a stream with nothing more. The
 * bytes go from the stream's receive buffer straight to the process's
 * iov_iter. */
int quic_conn_recv_stream(struct sock *sk, struct msghdr *msg, size_t len, int flags)
{
	struct quic_sock *qs = quic_sk(sk);
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	struct quic_stream_info info = {};
	struct qb_stream_read r;
	const u8 *data;
	size_t done = 0;
	int fin = 0;
	s64 n, sid;

	for (;;) {
		n = qb_conn_stream_peek(qs->conn, -1, &data, &r);
		if (r.reset) {
			/* RFC 9000 §3.2 "Reset Recvd", for the process that
			 * asked (QUIC_EVENT_STREAM_UPDATE). */
			struct quic_stream_update ev = { .id = r.id, .state = QUIC_STREAM_RECV_STATE_RESET_RECVD,
							 .errcode = r.reset_code, .finalsz = r.final_size };

			quic_event_push(qs, QUIC_EVENT_STREAM_UPDATE, &ev, sizeof(ev), NULL, 0);
			continue;
		}
		if (r.id >= 0)
			break;
		if (quic_event_pending(qs))
			return quic_event_recv(sk, msg, len);
		if (qb_conn_has_datagram(qs->conn))
			return quic_conn_recv_datagram(sk, msg, len);
		if (qs->state == QUIC_SS_CLOSED)
			return 0;	/* the connection is over: end of file */
		if (!timeo)
			return -EAGAIN;
		if (signal_pending(current))
			return sock_intr_errno(timeo);
		{
			DEFINE_WAIT_FUNC(wait, woken_wake_function);

			add_wait_queue(sk_sleep(sk), &wait);
			sk_wait_event(sk, &timeo,
				      qb_conn_has_stream_data(qs->conn) || qs->state == QUIC_SS_CLOSED ||
					      quic_event_pending(qs) || qb_conn_has_datagram(qs->conn),
				      &wait);
			remove_wait_queue(sk_sleep(sk), &wait);
		}
	}
	sid = r.id;
	fin = r.fin;
	/* n bytes in place; a page of the receive buffer at a time until the
	 * caller's buffer is full, the stream has nothing more in order, or
	 * its end. */
	while (n > 0 && done < len) {
		size_t take = min_t(size_t, n, len - done);
		size_t copied = copy_to_iter(data, take, &msg->msg_iter);
		int end = qb_conn_stream_consume(qs->conn, sid, copied);

		done += copied;
		if (end < 0 || copied < take) {
			if (!done)
				return end < 0 ? end : -EFAULT;
			break;
		}
		if (end) {
			fin = 1;
			break;
		}
		n = qb_conn_stream_peek(qs->conn, sid, &data, &r);
	}
	info.stream_id = sid;
	info.stream_flags = fin ? MSG_QUIC_STREAM_FIN : 0;
	put_cmsg(msg, SOL_QUIC, QUIC_STREAM_INFO, sizeof(info), &info);
	/* Reading gave flow control credit back: MAX_STREAM_DATA may go. */
	quic_conn_run(sk);
	return done;
}
