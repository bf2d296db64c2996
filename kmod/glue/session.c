// SPDX-License-Identifier: GPL-2.0
/* What carries over from one connection to the next
 * (draft-lxin-quic-socket-apis): session tickets, the remembered transport
 * parameters and early data of 0-RTT, and address validation tokens.
 *
 * QUIC_SOCKOPT_SESSION_TICKET holds, on a client, what the process sets
 * before connect() (libquic: the GnuTLS session data to resume) until the
 * handshake completes, and from then on the newest NewSessionTicket
 * message the server sent (RFC 8446 §4.6.1; also delivered as
 * QUIC_EVENT_NEW_SESSION_TICKET); on a listener, the session ticket key
 * its process's TLS encrypts tickets with (inherited by the connections it
 * accepts). The process's TLS sends a server's NewSessionTicket after the
 * handshake (sendmsg with QUIC_HANDSHAKE_INFO at QUIC_CRYPTO_APP).
 *
 * 0-RTT (RFC 9001 §4.6): a client that set the server's transport
 * parameters from the earlier connection (QUIC_SOCKOPT_TRANSPORT_PARAM
 * with `remote`, RFC 9000 §7.4.1) before connect() may sendmsg stream data
 * before the handshake: it waits in the connection and goes in 0-RTT
 * packets once the process hands down the 0-RTT secret
 * (QUIC_SOCKOPT_CRYPTO_SECRET at QUIC_CRYPTO_EARLY), or in 1-RTT ones
 * after the handshake if there is no 0-RTT or the server refused it.
 *
 * Tokens (RFC 9000 §8.1.3): a server connection sends a NEW_TOKEN frame
 * once its handshake completes (and again on setsockopt(QUIC_SOCKOPT_TOKEN)
 * with no value); a client keeps the newest token (getsockopt
 * QUIC_SOCKOPT_TOKEN, QUIC_EVENT_NEW_TOKEN) and sends the one set before
 * connect() in its Initials; a first Initial with a valid token starts a
 * server connection with its client's address validated (no
 * amplification limit, §8.1; stateless.c checks it, with the Retry
 * tokens of a validating listener). Tokens are made under the module's
 * key, drawn at load, and die with the module. */
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

struct qb_conn *quic_session_client_conn(const struct quic_sock *qs, const struct qb_conn_params *p,
					 const struct qb_path *path)
{
	struct qb_session_params s = { .token = qs->token.data, .token_len = qs->token.len, .path = path };
	struct qb_conn_params remembered;

	if (qs->remote_tp_set) {
		quic_conn_tp_params(&qs->remote_tp, &remembered);
		s.remembered = &remembered;
	}
	return qb_conn_new_session(p, &s);
}

void quic_session_inherit(struct quic_sock *qs, const struct quic_sock *lqs)
{
	if (!lqs->ticket.len)
		return;
	qs->ticket.data = kmemdup(lqs->ticket.data, lqs->ticket.len, GFP_KERNEL);
	qs->ticket.len = qs->ticket.data ? lqs->ticket.len : 0;
}

/* A server connection issues a NEW_TOKEN token (stateless.c makes it, so
 * that the client's next first Initial validates there); 0 or a negative
 * errno. */
static int quic_session_send_token(struct quic_sock *qs)
{
	u8 token[QUIC_MAX_TOKEN_LEN];
	int n = quic_stateless_new_token(sock_net(&qs->inet.sk), &qs->peer, token, sizeof(token)), err;

	if (n < 0)
		return n;
	err = qb_conn_send_token(qs->conn, token, n);
	if (!err)
		quic_stat_add(sock_net(&qs->inet.sk), QUIC_STAT_TOKENS_SENT, 1);
	return err;
}

void quic_session_established(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);

	if (!qb_conn_is_server(qs->conn)) {
		/* The process read what it resumes from: from now on the option
		 * holds the tickets of this connection. */
		quic_buf_free(&qs->ticket);
		return;
	}
	quic_stat_add(sock_net(&qs->inet.sk), QUIC_STAT_ZERO_RTT_RX, qb_conn_zero_rtt_packets(qs->conn));
	quic_session_send_token(qs);
}

/* Replaces `b` with the n bytes at `data` and delivers them as event
 * `type` (when turned on). */
static void quic_session_keep(struct quic_sock *qs, struct quic_buf *b, u8 type, const u8 *data, size_t n)
{
	u8 *copy = kmemdup(data, n, GFP_KERNEL);

	if (!copy)
		return;
	quic_buf_free(b);
	b->data = copy;
	b->len = n;
	quic_event_push(qs, type, copy, n, NULL, 0);
}

void quic_session_run(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	u8 *buf;
	size_t n;

	if (!qs->conn || !qs->established || !qb_conn_session_pending(qs->conn))
		return;
	buf = kmalloc(QUIC_MAX_TICKET_LEN, GFP_KERNEL);
	if (!buf)
		return;
	n = qb_conn_take_ticket(qs->conn, buf, QUIC_MAX_TICKET_LEN);
	if (n)
		quic_session_keep(qs, &qs->ticket, QUIC_EVENT_NEW_SESSION_TICKET, buf, n);
	n = qb_conn_take_new_token(qs->conn, buf, QUIC_MAX_TOKEN_LEN);
	if (n)
		quic_session_keep(qs, &qs->token, QUIC_EVENT_NEW_TOKEN, buf, n);
	kfree_sensitive(buf);
}

/* sendmsg of stream data on a client between connect() and the end of the
 * handshake: queued for 0-RTT (or 1-RTT) in the connection. The whole
 * message is taken, or none of it (EAGAIN beyond the queue's bound). */
int quic_session_early_send(struct sock *sk, struct msghdr *msg, size_t len, s64 sid, u32 flags)
{
	struct quic_sock *qs = quic_sk(sk);
	u8 *buf;
	s64 id;

	if (len > QUIC_MAX_EARLY_WRITE)
		return -EMSGSIZE;
	buf = kmalloc(len ? len : 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (copy_from_iter(buf, len, &msg->msg_iter) != len) {
		kfree(buf);
		return -EFAULT;
	}
	id = qb_conn_early_write(qs->conn, sid, !!(flags & MSG_QUIC_STREAM_NEW), !!(flags & MSG_QUIC_STREAM_UNI),
				 !!(flags & MSG_QUIC_STREAM_FIN), buf, len);
	kfree(buf);
	if (id < 0)
		return id;
	qs->last_sid = id;
	quic_conn_run(sk);
	return len;
}

/* QUIC_SOCKOPT_TOKEN set: a client's token for its next connect(); on an
 * established server connection, no value: another NEW_TOKEN. */
int quic_session_set_token(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	u8 *data;

	if (!optlen) {
		if (qs->state != QUIC_SS_ESTABLISHED)
			return -ENOTCONN;
		if (!qb_conn_is_server(qs->conn))
			return -EINVAL;
		return quic_session_send_token(qs);
	}
	if (optlen > QUIC_MAX_TOKEN_LEN)
		return -EINVAL;
	/* The token goes in the Initials connect() starts. */
	if (qs->state != QUIC_SS_CLOSED)
		return -EINVAL;
	data = kmalloc(optlen, GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	if (copy_from_sockptr(data, optval, optlen)) {
		kfree(data);
		return -EFAULT;
	}
	quic_buf_free(&qs->token);
	qs->token.data = data;
	qs->token.len = optlen;
	return 0;
}

/* QUIC_SOCKOPT_TOKEN get: a client's token (the newest NEW_TOKEN one once
 * received) is readable; a server has none to give: EINVAL, which is how
 * the existing libquic tells a server socket from a client one. */
int quic_session_token_readable(const struct quic_sock *qs)
{
	if (qs->state == QUIC_SS_LISTENING || (qs->conn && qb_conn_is_server(qs->conn)))
		return -EINVAL;
	return 0;
}
