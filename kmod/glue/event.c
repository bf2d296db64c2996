// SPDX-License-Identifier: GPL-2.0
/* Events (draft-lxin-quic-socket-apis, QUIC_SOCKOPT_EVENT): what happened
 * to a connection, delivered by recvmsg with MSG_QUIC_NOTIFICATION in
 * msg_flags, one event per call: its type byte, then its union quic_event
 * member. Only the types the process turned on are queued, at most
 * net.quic.max_events at once (a process that never reads them loses the
 * newest, never memory; counted as /proc/net/quic EventsDropped). */
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "quic_sock.h"

struct quic_event_node {
	struct list_head node;
	u32 len;
	u8 data[];	/* type, then the event */
};

void quic_event_push(struct quic_sock *qs, u8 type, const void *ev, u32 len, const void *tail, u32 tail_len)
{
	/* The limit of the socket's namespace, as it is now. */
	int max = READ_ONCE(quic_net(sock_net(&qs->inet.sk))->max_events);
	struct quic_event_node *n;

	if (!(qs->events & (1U << type)))
		return;
	n = qs->nevents < max ? kmalloc(sizeof(*n) + 1 + len + tail_len, GFP_KERNEL) : NULL;
	if (!n) {
		quic_stat_add(sock_net(&qs->inet.sk), QUIC_STAT_EVENTS_DROPPED, 1);
		return;
	}
	n->len = 1 + len + tail_len;
	n->data[0] = type;
	memcpy(n->data + 1, ev, len);
	if (tail_len)
		memcpy(n->data + 1 + len, tail, tail_len);
	list_add_tail(&n->node, &qs->event_q);
	qs->nevents++;
	qs->inet.sk.sk_data_ready(&qs->inet.sk);
}

bool quic_event_pending(const struct quic_sock *qs)
{
	return !list_empty(&qs->event_q);
}

int quic_event_recv(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct quic_sock *qs = quic_sk(sk);
	struct quic_event_node *n = list_first_entry(&qs->event_q, struct quic_event_node, node);
	size_t copy = min_t(size_t, len, n->len);
	u8 buf[64];
	int err;

	/* Through the stack when small: hardened usercopy and slab objects. */
	if (copy <= sizeof(buf)) {
		memcpy(buf, n->data, copy);
		err = copy_to_iter(buf, copy, &msg->msg_iter) == copy ? 0 : -EFAULT;
	} else {
		err = copy_to_iter(n->data, copy, &msg->msg_iter) == copy ? 0 : -EFAULT;
	}
	if (err)
		return err;
	msg->msg_flags |= MSG_QUIC_NOTIFICATION;
	if (copy < n->len)
		msg->msg_flags |= MSG_TRUNC;
	list_del(&n->node);
	qs->nevents--;
	kfree(n);
	return copy;
}

void quic_event_purge(struct quic_sock *qs)
{
	struct quic_event_node *n, *next;

	list_for_each_entry_safe(n, next, &qs->event_q, node)
		kfree(n);
	INIT_LIST_HEAD(&qs->event_q);
	qs->nevents = 0;
}
