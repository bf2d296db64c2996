// SPDX-License-Identifier: GPL-2.0
/* A server's stateless answers (core/stateless.cpp): a datagram on a port
 * with listeners, from a peer with no connection, gets Version
 * Negotiation when its version is not one we speak (RFC 9000 §6.1), a
 * Retry when the listener asks for address validation
 * (QUIC_SOCKOPT_CONFIG validate_peer_address, §8.1.2) and the client's
 * Initial carries no token of ours (CONNECTION_CLOSE with INVALID_TOKEN
 * when it carries a Retry token that fails), or goes on to make a
 * connection. The
 * Retry and NEW_TOKEN token key is the network namespace's, random when the
 * namespace comes (stats.c): a token one namespace's server issued proves
 * nothing to another's, though their addresses may be the same (two
 * containers' 10.0.0.1; RFC 9000 §8.1.3: a token is for the server that
 * issued it). One caller at a time per namespace (the core's token AEAD
 * has one request). */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "../boundary.h"
#include "quic_sock.h"

/* The bytes of the client's address a Retry token is bound to: its IP
 * address and port (the client's next Initial comes from the same). */
static size_t quic_peer_bytes(const struct sockaddr_storage *from, u8 *out)
{
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)from;

		memcpy(out, &a->sin_addr, 4);
		memcpy(out + 4, &a->sin_port, 2);
		return 6;
	}
	memcpy(out, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
	memcpy(out + 16, &((const struct sockaddr_in6 *)from)->sin6_port, 2);
	return 18;
}

int quic_stateless_answer(struct quic_tunnel *t, const struct sk_buff *skb, const struct sockaddr_storage *from,
			  bool retry, struct qb_first *first)
{
	struct quic_net *qn = quic_net(quic_tunnel_net(t));
	u8 peer[18], *reply = kmalloc(QB_STATELESS_REPLY_MAX, GFP_KERNEL);
	size_t n = quic_peer_bytes(from, peer);

	if (!reply)
		return QB_FIRST_DROP;
	mutex_lock(&qn->stateless_lock);
	qb_stateless_first(qn->stateless, skb->data, skb->len, peer, n, retry, quic_now_us(), reply, first);
	mutex_unlock(&qn->stateless_lock);
	/* A NEW_TOKEN token of an earlier connection proved the address. */
	if (first->action == QB_FIRST_ACCEPT && first->validated && !first->retried)
		quic_stat_add(quic_tunnel_net(t), QUIC_STAT_TOKENS_VALIDATED, 1);
	if (first->action == QB_FIRST_REPLY) {
		quic_tunnel_send(t, from, reply, first->reply_len, first->reply_len);
		quic_stat_add(quic_tunnel_net(t), first->reply_kind == QB_REPLY_RETRY		 ? QUIC_STAT_RETRIES :
			      first->reply_kind == QB_REPLY_VERSION_NEGOTIATION ? QUIC_STAT_VERSION_NEGOTIATIONS :
										  QUIC_STAT_INITIALS_REFUSED,
			      1);
	}
	kfree(reply);
	return first->action;
}

/* A NEW_TOKEN token of namespace `net` for the client at `peer`
 * (session.c): its length, or a negative errno. */
int quic_stateless_new_token(struct net *net, const struct sockaddr_storage *peer, u8 *out, size_t cap)
{
	struct quic_net *qn = quic_net(net);
	u8 bytes[18];
	size_t n = quic_peer_bytes(peer, bytes);
	int len;

	mutex_lock(&qn->stateless_lock);
	len = qb_stateless_new_token(qn->stateless, bytes, n, quic_now_us(), out, cap);
	mutex_unlock(&qn->stateless_lock);
	return len;
}

int quic_stateless_init(struct quic_net *qn)
{
	mutex_init(&qn->stateless_lock);
	qn->stateless = qb_stateless_new();
	return qn->stateless ? 0 : -ENOMEM;
}

void quic_stateless_exit(struct quic_net *qn)
{
	qb_stateless_free(qn->stateless);
	qn->stateless = NULL;
}
