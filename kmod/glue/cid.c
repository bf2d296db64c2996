// SPDX-License-Identifier: GPL-2.0
/* Connection IDs (RFC 9000 §5.1) of a socket's connection: the
 * QUIC_SOCKOPT_CONNECTION_ID option and QUIC_EVENT_CONNECTION_ID of
 * draft-lxin-quic-socket-apis (struct quic_connection_id_info: `dest` 1 for
 * the peer's CIDs, those we address packets to, 0 for ours), and a copy of
 * our CIDs for the tunnel, which finds a migrated peer's connection by the
 * CID its packets carry (§9.5: a new path, a new CID).
 *
 * get: `active` is the sequence number in use (the peer's we address; ours
 * the peer addressed last), `prior_to` the lowest one still usable.
 * set: `active` (or, when 0, `prior_to`) is the new lowest: for the peer's
 * CIDs we address that one from now on and retire those below it
 * (RETIRE_CONNECTION_ID, §5.1.2); for ours we ask the peer to retire those
 * below it (NEW_CONNECTION_ID's Retire Prior To, §5.1.2) and issue new ones.
 * EINVAL for a dest other than 0 and 1, a number not above the current
 * lowest, one the peer never issued or that is in use on another path, or
 * above the next one we would issue; EAGAIN while retirements are backed
 * up. The event reports changes of either pair the process did not make
 * itself: the peer's Retire Prior To, a peer that moved to another of our
 * CIDs, a CID switched by a migration. */
#include <linux/skbuff.h>
#include <linux/sockptr.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

static int quic_cid_info(struct quic_sock *qs, u8 dest, struct quic_connection_id_info *info)
{
	u64 active, prior_to;
	int err = qb_conn_cid_get(qs->conn, dest, &active, &prior_to);

	if (err)
		return err;
	memset(info, 0, sizeof(*info));
	info->dest = dest;
	info->active = min_t(u64, active, U32_MAX);
	info->prior_to = min_t(u64, prior_to, U32_MAX);
	return 0;
}

/* The values as the process now knows them: no event for its own change. */
static void quic_cid_note(struct quic_sock *qs)
{
	qs->cid_seen_valid = !quic_cid_info(qs, 0, &qs->cid_seen[0]) && !quic_cid_info(qs, 1, &qs->cid_seen[1]);
}

/* The option's value, from set or get (which reads dest). */
static int quic_cid_arg(struct quic_sock *qs, sockptr_t from, unsigned int len, struct quic_connection_id_info *info)
{
	if (len < sizeof(*info))
		return -EINVAL;
	if (qs->state != QUIC_SS_ESTABLISHED)
		return -ENOTCONN;
	if (copy_from_sockptr(info, from, sizeof(*info)))
		return -EFAULT;
	return info->dest > 1 ? -EINVAL : 0;
}

int quic_set_connection_id(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	struct quic_connection_id_info info, now;
	u32 target;
	int err = quic_cid_arg(qs, optval, optlen, &info);

	if (err)
		return err;
	err = quic_cid_info(qs, info.dest, &now);
	if (err)
		return err;
	target = info.active ? info.active : info.prior_to;
	if (target <= now.prior_to || (info.active && info.prior_to > info.active))
		return -EINVAL;
	err = qb_conn_cid_set(qs->conn, info.dest, target, target);
	if (err)
		return err;
	quic_cid_note(qs);
	quic_conn_run(&qs->inet.sk);
	return 0;
}

int quic_get_connection_id(struct quic_sock *qs, sockptr_t optval, sockptr_t optlen, int len)
{
	struct quic_connection_id_info info;
	int size = sizeof(info);
	int err = quic_cid_arg(qs, optval, len, &info);

	if (!err)
		err = quic_cid_info(qs, info.dest, &info);
	if (err)
		return err;
	if (copy_to_sockptr(optlen, &size, sizeof(size)) || copy_to_sockptr(optval, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

void quic_cid_sync(struct quic_sock *qs)
{
	struct quic_connection_id_info now[2];
	u64 gen = qb_conn_local_cids_gen(qs->conn);
	int d;

	if (gen != qs->cids_gen) {
		u8 cids[QB_MAX_LOCAL_CIDS][QB_CID_MAX], len;
		size_t n = qb_conn_local_cids(qs->conn, cids, QB_MAX_LOCAL_CIDS, &len);

		BUILD_BUG_ON(sizeof(qs->cids) != sizeof(cids));
		spin_lock_bh(&qs->cid_lock);
		memcpy(qs->cids, cids, n * QB_CID_MAX);
		qs->ncids = n;
		qs->cid_len = len;
		spin_unlock_bh(&qs->cid_lock);
		qs->cids_gen = gen;
	}
	if (qs->state != QUIC_SS_ESTABLISHED || quic_cid_info(qs, 0, &now[0]) || quic_cid_info(qs, 1, &now[1]))
		return;
	if (!qs->cid_seen_valid) {
		qs->cid_seen[0] = now[0];
		qs->cid_seen[1] = now[1];
		qs->cid_seen_valid = true;
		return;
	}
	for (d = 0; d < 2; d++) {
		if (now[d].active == qs->cid_seen[d].active && now[d].prior_to == qs->cid_seen[d].prior_to)
			continue;
		qs->cid_seen[d] = now[d];
		quic_event_push(qs, QUIC_EVENT_CONNECTION_ID, &now[d], sizeof(now[d]), NULL, 0);
	}
}

bool quic_cid_owns(struct quic_sock *qs, const struct sk_buff *skb)
{
	u8 buf[1 + QB_CID_MAX];
	const u8 *h;
	bool hit = false;
	u8 i;

	/* RFC 9000 §17.3: a short header, its Destination Connection ID
	 * after the first byte (of the length we chose). */
	h = skb_header_pointer(skb, 0, 1, buf);
	if (!h || (h[0] & 0x80))
		return false;
	spin_lock_bh(&qs->cid_lock);
	if (qs->cid_len)
		h = skb_header_pointer(skb, 0, 1 + qs->cid_len, buf);
	for (i = 0; h && qs->cid_len && i < qs->ncids && !hit; i++)
		hit = !memcmp(h + 1, qs->cids[i], qs->cid_len);
	spin_unlock_bh(&qs->cid_lock);
	return hit;
}
