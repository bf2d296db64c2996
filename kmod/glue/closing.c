// SPDX-License-Identifier: GPL-2.0
/* The connection after close() (RFC 9000 §10.2): the socket is orphaned
 * (as TCP's are) and its connection goes on:
 *   - established, with stream data the peer has not acknowledged yet, it
 *     keeps sending it, until all is acknowledged or the connection's idle
 *     timeout (30 s without one) passed; SO_LINGER with a time makes
 *     close() itself wait, at most that long, and SO_LINGER with none
 *     drops the data (an abortive close);
 *   - then (at once otherwise) it sends CONNECTION_CLOSE with the
 *     error code of QUIC_SOCKOPT_CONNECTION_CLOSE (the application's, or
 *     the TLS alert of a failed handshake: quic_closing_send) and stays in the
 *     closing state for three PTOs, answering the peer's late packets with
 *     CONNECTION_CLOSE again (§10.2.1), or in the draining state when the
 *     peer closed first (§10.2.2);
 *   - once the connection ended, a work item frees the socket.
 * An orphan holds the module (its socket's protocol reference): rmmod is
 * refused until the orphans ended; /proc/net/quic counts them
 * (ConnectionsClosing), and module exit waits for a reap still running. */
#include <linux/workqueue.h>
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

/* Delivery after close() ends at the idle timeout, or after this long
 * when the connection has none. */
#define QUIC_LINGER_DEFAULT_US (30ULL * USEC_PER_SEC)

static struct workqueue_struct *quic_reap_wq;

static void quic_closing_reap(struct work_struct *work)
{
	struct quic_sock *qs = container_of(work, struct quic_sock, reap);
	struct sock *sk = &qs->inet.sk;
	/* A user's socket holds its namespace until freed: held a little
	 * longer for the count below. A kernel socket does not (its user
	 * keeps the namespace): counted before. */
	struct net *net = sk->sk_net_refcnt ? get_net(sock_net(sk)) : NULL;

	if (!net)
		quic_stat_add(sock_net(sk), QUIC_STAT_CLOSING, -1);
	quic_close_final(sk);
	/* After the socket (and its module reference) went: when this reads
	 * 0, rmmod can succeed. */
	if (net) {
		quic_stat_add(net, QUIC_STAT_CLOSING, -1);
		put_net(net);
	}
}

/* SO_LINGER with a time: waits until every stream's data is acknowledged,
 * the connection ended, a signal, or the time passed. */
static void quic_closing_linger(struct sock *sk, long timeout)
{
	struct quic_sock *qs = quic_sk(sk);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	while (timeout && !signal_pending(current) && qs->state != QUIC_SS_CLOSED && qb_conn_send_pending(qs->conn))
		sk_wait_event(sk, &timeout, qs->state == QUIC_SS_CLOSED || !qb_conn_send_pending(qs->conn), &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
}

bool quic_closing_start(struct sock *sk, long timeout)
{
	struct quic_sock *qs = quic_sk(sk);
	u64 idle = qs->local_tp.max_idle_timeout;

	lock_sock(sk);
	if (!qs->conn || qb_conn_state(qs->conn) == QB_CONN_CLOSED) {
		release_sock(sk);
		return false;
	}
	if (timeout && qs->state == QUIC_SS_ESTABLISHED)
		quic_closing_linger(sk, timeout);
	INIT_WORK(&qs->reap, quic_closing_reap);
	qs->orphan = true;
	qs->linger_until = quic_now_us() + (idle ? idle : QUIC_LINGER_DEFAULT_US);
	/* SO_LINGER with no time: CONNECTION_CLOSE now, whatever is unsent. */
	if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)
		qs->linger_until = 0;
	quic_stat_add(sock_net(sk), QUIC_STAT_CLOSING, 1);
	/* Orphaned under the lock: the connection's work (which may reap it)
	 * finds it orphaned. */
	sock_orphan(sk);
	quic_conn_run(sk);
	release_sock(sk);
	return true;
}

/* Our CONNECTION_CLOSE, with what QUIC_SOCKOPT_CONNECTION_CLOSE holds.
 * Its error code is the application's (frame type 0x1d; before 1-RTT a
 * transport APPLICATION_ERROR without the phrase, RFC 9000 §10.2.3),
 * except during the handshake for a code of the CRYPTO_ERROR range
 * 0x100-0x1ff: the handshake process's TLS failed with alert code - 0x100
 * (libquic sets it so), and that is a transport error, CONNECTION_CLOSE of
 * type 0x1c with the code and the phrase (RFC 9001 §4.8, RFC 9000 §20.1),
 * in the Initial and Handshake packets the peer can open (§10.2.3). No
 * transport code outside that range comes from the process: the others
 * are the connection's own to detect. (An application's code of that
 * range, e.g. HTTP/3's 0x100-0x110, never reaches the peer before the
 * handshake completes anyway: APPLICATION_ERROR stands in for it.) */
void quic_closing_send(struct quic_sock *qs)
{
	const char *phrase = qs->close_phrase.data ? (const char *)qs->close_phrase.data : "";
	u32 code = qs->close_errcode;

	if (qb_conn_state(qs->conn) == QB_CONN_HANDSHAKE && code >= QUIC_TRANSPORT_ERROR_CRYPTO &&
	    code <= QUIC_TRANSPORT_ERROR_CRYPTO + 0xff)
		qb_conn_close_tls_alert(qs->conn, code - QUIC_TRANSPORT_ERROR_CRYPTO, phrase, strlen(phrase),
					quic_now_us());
	else
		qb_conn_close(qs->conn, code, phrase, quic_now_us());
}

/* Whether our CONNECTION_CLOSE is still to come: not once sent, nor when
 * the connection closed by itself (an error, the peer, the idle timeout),
 * whose closing or draining state (RFC 9000 §10.2) ends at its own timer. */
static bool quic_closing_pending(const struct quic_sock *qs)
{
	int state = qb_conn_state(qs->conn);

	return !qs->close_sent && (state == QB_CONN_HANDSHAKE || state == QB_CONN_ESTABLISHED);
}

void quic_closing_step(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	int state = qb_conn_state(qs->conn);

	/* During the handshake no stream data was promised. */
	if (quic_closing_pending(qs) &&
	    (qs->state != QUIC_SS_ESTABLISHED || !qb_conn_send_pending(qs->conn) ||
	     quic_now_us() >= qs->linger_until)) {
		quic_closing_send(qs);
		qs->close_sent = true;
	}
	if (state == QB_CONN_CLOSED && !qs->reaping) {
		qs->reaping = true;
		queue_work(quic_reap_wq, &qs->reap);
	}
}

/* linger_until is a deadline only while quic_closing_step may still send
 * our CONNECTION_CLOSE at it. Past (SO_LINGER with no time sets it to 0),
 * it would rearm the timer as due at once, again and again, for all of a
 * closing state the connection entered by itself. */
u64 quic_closing_timeout(const struct quic_sock *qs, u64 next)
{
	return quic_closing_pending(qs) ? min(next, qs->linger_until) : next;
}

int quic_closing_init(void)
{
	quic_reap_wq = alloc_workqueue("quic_reap", 0, 0);
	return quic_reap_wq ? 0 : -ENOMEM;
}

void quic_closing_exit(void)
{
	/* Waits for a reap that freed the last socket and is returning. */
	destroy_workqueue(quic_reap_wq);
}
