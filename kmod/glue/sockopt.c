// SPDX-License-Identifier: GPL-2.0
/* SOL_QUIC socket options (include/uapi/linux/quic.h).
 *
 * The errno of a refusal, for every option:
 *   EINVAL       optlen shorter than the option's structure (or, for the
 *                variable-length ones, empty or above its bound), a value
 *                outside what the option allows, or an option set in a
 *                state where it has no meaning (configuration after
 *                listen() or connect());
 *   ENOPROTOOPT  an unknown option, a level other than SOL_QUIC, or
 *                getting a set-only option / setting a get-only one;
 *   ENOTCONN     an option that acts on a connection (streams, key update,
 *                connection IDs, migration, secrets) with none;
 *   EFAULT       an unreadable or unwritable buffer.
 * A longer optlen than the structure is accepted on set (later versions of
 * the API append reserved fields), and getsockopt writes at most optlen. */
#include <linux/slab.h>
#include <linux/sockptr.h>
#include <linux/uaccess.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

/* TLS cipher identifiers (<linux/tls.h> TLS_CIPHER_*) of quic_config and
 * quic_crypto_secret. */
#define QUIC_TLS_AES_GCM_128		51
#define QUIC_TLS_AES_GCM_256		52
#define QUIC_TLS_CHACHA20_POLY1305	54

/* RFC 9000 §18.2 limits. */
#define QUIC_MAX_ACK_DELAY_EXPONENT	20
#define QUIC_MAX_ACK_DELAY_US		((1U << 14) * 1000U)
#define QUIC_MIN_UDP_PAYLOAD		1200
#define QUIC_MIN_ACTIVE_CID_LIMIT	2
/* quic_config bounds the draft names. */
#define QUIC_MIN_PROBE_INTERVAL_US	5000000U
#define QUIC_MIN_INITIAL_RTT_US		100000U
#define QUIC_MAX_INITIAL_RTT_US		6000000U

void quic_sock_set_defaults(struct quic_sock *qs)
{
	struct quic_transport_param *tp = &qs->local_tp;

	/* The draft's defaults. */
	memset(tp, 0, sizeof(*tp));
	tp->active_connection_id_limit = 7;
	tp->ack_delay_exponent = 3;
	tp->max_udp_payload_size = 65527;
	tp->max_idle_timeout = 30000000;
	tp->max_ack_delay = 25000;
	tp->max_streams_bidi = 100;
	tp->max_streams_uni = 100;
	tp->max_data = 65536 * 32;
	tp->max_stream_data_bidi_local = 65536 * 4;
	tp->max_stream_data_bidi_remote = 65536 * 4;
	tp->max_stream_data_uni = 65536 * 4;

	memset(&qs->config, 0, sizeof(qs->config));
	qs->config.version = QUIC_VERSION_V1;
	qs->config.initial_smoothed_rtt = 333000;
	qs->config.congestion_control_algo = QUIC_CONG_ALG_RENO;
}

static bool quic_configurable(const struct quic_sock *qs)
{
	return qs->state == QUIC_SS_CLOSED;
}

static int quic_check_tp(const struct quic_transport_param *tp)
{
	if (tp->ack_delay_exponent > QUIC_MAX_ACK_DELAY_EXPONENT || tp->max_ack_delay >= QUIC_MAX_ACK_DELAY_US ||
	    tp->max_udp_payload_size < QUIC_MIN_UDP_PAYLOAD ||
	    tp->active_connection_id_limit < QUIC_MIN_ACTIVE_CID_LIMIT)
		return -EINVAL;
	return 0;
}

static int quic_set_tp(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	struct quic_transport_param tp;
	int err;

	if (optlen < sizeof(tp))
		return -EINVAL;
	if (copy_from_sockptr(&tp, optval, sizeof(tp)))
		return -EFAULT;
	if (!quic_configurable(qs))
		return -EINVAL;
	err = quic_check_tp(&tp);
	if (err)
		return err;
	if (tp.remote) {
		/* The peer's parameters from an earlier connection, for 0-RTT
		 * (RFC 9000 §7.4.1): a client's business. */
		qs->remote_tp = tp;
		qs->remote_tp_set = true;
	} else {
		qs->local_tp = tp;
	}
	return 0;
}

static int quic_set_config(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	struct quic_config c;

	if (optlen < sizeof(c))
		return -EINVAL;
	if (copy_from_sockptr(&c, optval, sizeof(c)))
		return -EFAULT;
	if (!quic_configurable(qs))
		return -EINVAL;
	if (c.version != QUIC_VERSION_V1 && c.version != QUIC_VERSION_V2)
		return -EINVAL;
	if (c.plpmtud_probe_interval && c.plpmtud_probe_interval < QUIC_MIN_PROBE_INTERVAL_US)
		return -EINVAL;
	if (!c.initial_smoothed_rtt)
		c.initial_smoothed_rtt = qs->config.initial_smoothed_rtt;
	if (c.initial_smoothed_rtt < QUIC_MIN_INITIAL_RTT_US || c.initial_smoothed_rtt >= QUIC_MAX_INITIAL_RTT_US)
		return -EINVAL;
	if (c.congestion_control_algo >= QUIC_CONG_ALG_MAX)
		return -EINVAL;
	/* AES-CCM (53) is not a suite this stack implements. */
	if (c.payload_cipher_type && c.payload_cipher_type != QUIC_TLS_AES_GCM_128 &&
	    c.payload_cipher_type != QUIC_TLS_AES_GCM_256 && c.payload_cipher_type != QUIC_TLS_CHACHA20_POLY1305)
		return -EINVAL;
	if (c.certificate_request > 2)
		return -EINVAL;
	qs->config = c;
	return 0;
}

static int quic_set_event(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	struct quic_event_option ev;

	if (optlen < sizeof(ev))
		return -EINVAL;
	if (copy_from_sockptr(&ev, optval, sizeof(ev)))
		return -EFAULT;
	if (ev.type == QUIC_EVENT_NONE || ev.type >= QUIC_EVENT_MAX)
		return -EINVAL;
	if (ev.on)
		qs->events |= 1U << ev.type;
	else
		qs->events &= ~(1U << ev.type);
	return 0;
}

/* Replaces `b` with the optlen bytes at offset `off` of optval (at most
 * max; 0 clears), followed by a NUL not counted in its length (a reason
 * phrase is handed to the core as a C string). */
static int quic_set_buf_at(struct quic_buf *b, sockptr_t optval, size_t off, unsigned int optlen, u32 max)
{
	u8 *data = NULL;

	if (optlen > max)
		return -EINVAL;
	if (optlen) {
		data = kmalloc(optlen + 1, GFP_KERNEL);
		if (!data)
			return -ENOMEM;
		if (copy_from_sockptr_offset(data, optval, off, optlen)) {
			kfree(data);
			return -EFAULT;
		}
		data[optlen] = 0;
	}
	quic_buf_free(b);
	b->data = data;
	b->len = optlen;
	return 0;
}

static int quic_set_buf(struct quic_buf *b, sockptr_t optval, unsigned int optlen, u32 max)
{
	return quic_set_buf_at(b, optval, 0, optlen, max);
}

/* RFC 7301 §3.1: each protocol name is 1..255 bytes; the list is
 * comma-separated. */
static int quic_check_alpn(const struct quic_buf *b)
{
	u32 i, start = 0;

	if (!b->len)
		return 0;
	for (i = 0; i <= b->len; i++) {
		if (i < b->len && b->data[i] != ',')
			continue;
		if (i == start || i - start > 255)
			return -EINVAL;
		start = i + 1;
	}
	return 0;
}

static int quic_set_alpn(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	struct quic_buf nb = {};
	int err;

	/* During the handshake: the protocol the process's TLS selected. */
	if (qs->conn && qs->state == QUIC_SS_CONNECTING) {
		err = quic_set_buf(&nb, optval, optlen, QUIC_MAX_ALPN_LEN);
		if (!err)
			err = nb.len ? qb_conn_set_alpn(qs->conn, nb.data, nb.len) : -EINVAL;
		quic_buf_free(&nb);
		return err;
	}
	if (!quic_configurable(qs))
		return -EINVAL;
	err = quic_set_buf(&nb, optval, optlen, QUIC_MAX_ALPN_LEN);
	if (!err)
		err = quic_check_alpn(&nb);
	if (err) {
		quic_buf_free(&nb);
		return err;
	}
	quic_buf_free(&qs->alpn);
	qs->alpn = nb;
	return 0;
}

static int quic_set_close(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	struct quic_connection_close c;
	unsigned int head = offsetof(struct quic_connection_close, phrase);
	int err;

	if (optlen < head || optlen - head > QUIC_MAX_PHRASE_LEN)
		return -EINVAL;
	if (copy_from_sockptr(&c, optval, head))
		return -EFAULT;
	err = quic_set_buf_at(&qs->close_phrase, optval, head, optlen - head, QUIC_MAX_PHRASE_LEN);
	if (err)
		return err;
	qs->close_errcode = c.errcode;
	qs->close_frame = c.frame;
	return 0;
}

/* Lets the connection take what the process handed down, then sends. */
static void quic_conn_advance(struct quic_sock *qs)
{
	qb_conn_advance_tls(qs->conn, quic_now_us());
	quic_conn_run(&qs->inet.sk);
}

static int quic_set_secret(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	struct quic_crypto_secret s;
	int err;

	if (optlen < sizeof(s))
		return -EINVAL;
	if (copy_from_sockptr(&s, optval, sizeof(s)))
		return -EFAULT;
	if (s.level >= QUIC_CRYPTO_MAX || s.level == QUIC_CRYPTO_INITIAL)
		return -EINVAL;
	if (s.type != QUIC_TLS_AES_GCM_128 && s.type != QUIC_TLS_AES_GCM_256 && s.type != QUIC_TLS_CHACHA20_POLY1305)
		return -EINVAL;
	err = qs->conn ? qb_conn_push_secret(qs->conn, s.level, s.send, s.type, s.secret, sizeof(s.secret)) : -ENOTCONN;
	memzero_explicit(&s, sizeof(s));
	if (!err)
		quic_conn_advance(qs);
	return err;
}

/* The peer's quic_transport_parameters extension, from the process's TLS. */
static int quic_set_tp_ext(struct quic_sock *qs, sockptr_t optval, unsigned int optlen)
{
	u8 *ext;
	int err;

	if (!optlen || optlen > 4096)
		return -EINVAL;
	if (!qs->conn)
		return -ENOTCONN;
	ext = kmalloc(optlen, GFP_KERNEL);
	if (!ext)
		return -ENOMEM;
	err = copy_from_sockptr(ext, optval, optlen) ? -EFAULT : qb_conn_push_peer_tp(qs->conn, ext, optlen);
	kfree(ext);
	if (!err)
		quic_conn_advance(qs);
	return err;
}

/* getsockopt works on sockptr_t, for the user's buffers and for a kernel
 * caller's (quic_kernel_getsockopt, kapi.c). Writes the length back. */
static int quic_put_len(sockptr_t optlen, int len)
{
	return copy_to_sockptr(optlen, &len, sizeof(len));
}

static int quic_get_tp_ext(struct quic_sock *qs, sockptr_t optval, sockptr_t optlen, int len)
{
	u8 ext[1024];
	int n;

	if (!qs->conn)
		return -ENOTCONN;
	n = qb_conn_local_tp(qs->conn, ext, min_t(int, len, sizeof(ext)));
	if (n < 0)
		return n;
	qs->local_tp_read = true;	/* no preferred address after this (migration.c) */
	if (quic_put_len(optlen, n) || copy_to_sockptr(optval, ext, n))
		return -EFAULT;
	return 0;
}

/* Options with a fixed structure that act on a connection: the length is
 * checked first, then the connection (0: established). */
static int quic_connection_option(struct quic_sock *qs, unsigned int optlen, unsigned int need)
{
	if (optlen < need)
		return -EINVAL;
	return qs->state == QUIC_SS_ESTABLISHED ? 0 : -ENOTCONN;
}

/* STREAM_RESET and STREAM_STOP_SENDING: a stream and an application error
 * code. */
static int quic_set_stream_error(struct quic_sock *qs, sockptr_t optval, unsigned int optlen, bool reset)
{
	struct quic_errinfo e;
	int err = quic_connection_option(qs, optlen, sizeof(e));

	if (err)
		return err;
	if (copy_from_sockptr(&e, optval, sizeof(e)))
		return -EFAULT;
	err = reset ? qb_conn_stream_reset(qs->conn, e.stream_id, e.errcode)
		    : qb_conn_stream_stop_sending(qs->conn, e.stream_id, e.errcode);
	if (!err)
		quic_conn_run(&qs->inet.sk);
	return err;
}

static int quic_put(sockptr_t optval, sockptr_t optlen, int len, const void *v, int size);

/* STREAM_OPEN get: opens the next stream of ours of the type in
 * stream_flags (MSG_QUIC_STREAM_UNI) and returns its ID; a stream_id
 * other than -1 must be that one. EAGAIN at the peer's stream limit
 * (RFC 9000 §4.6). Later sendmsg calls with stream_id -1 use it. */
static int quic_get_stream_open(struct quic_sock *qs, sockptr_t optval, sockptr_t optlen, int len)
{
	struct quic_stream_info si;
	int err = quic_connection_option(qs, len, sizeof(si));
	s64 id;

	if (err)
		return err;
	if (copy_from_sockptr(&si, optval, sizeof(si)))
		return -EFAULT;
	id = qb_conn_stream_open(qs->conn, !!(si.stream_flags & MSG_QUIC_STREAM_UNI));
	if (id < 0)
		return id;
	if (si.stream_id != -1 && si.stream_id != id)
		return -EINVAL;
	si.stream_id = id;
	qs->last_sid = id;
	return quic_put(optval, optlen, len, &si, sizeof(si));
}

int quic_setsockopt(struct sock *sk, int level, int optname, sockptr_t optval, unsigned int optlen)
{
	struct quic_sock *qs = quic_sk(sk);
	int err;

	if (level != SOL_QUIC)
		return -ENOPROTOOPT;
	lock_sock(sk);
	switch (optname) {
	case QUIC_SOCKOPT_EVENT:
		err = quic_set_event(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_TRANSPORT_PARAM:
		err = quic_set_tp(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_CONFIG:
		err = quic_set_config(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_ALPN:
		err = quic_set_alpn(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_TOKEN:
		/* A client stores a token for its next connection; a server
		 * (no value) issues NEW_TOKEN on its connection. */
		err = quic_session_set_token(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_SESSION_TICKET:
		err = quic_set_buf(&qs->ticket, optval, optlen, QUIC_MAX_TICKET_LEN);
		break;
	case QUIC_SOCKOPT_CONNECTION_CLOSE:
		err = quic_set_close(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_CRYPTO_SECRET:
		err = quic_set_secret(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_STREAM_RESET:
	case QUIC_SOCKOPT_STREAM_STOP_SENDING:
		err = quic_set_stream_error(qs, optval, optlen, optname == QUIC_SOCKOPT_STREAM_RESET);
		break;
	case QUIC_SOCKOPT_CONNECTION_ID:
		err = quic_set_connection_id(qs, optval, optlen);	/* cid.c */
		break;
	case QUIC_SOCKOPT_CONNECTION_MIGRATION:
		err = quic_set_migration(sk, optval, optlen);	/* migration.c */
		break;
	case QUIC_SOCKOPT_KEY_UPDATE:
		err = quic_connection_option(qs, optlen, 0);
		if (!err)
			err = qb_conn_update_keys(qs->conn);
		if (!err)
			quic_conn_run(sk);
		break;
	case QUIC_SOCKOPT_TRANSPORT_PARAM_EXT:
		err = quic_set_tp_ext(qs, optval, optlen);
		break;
	case QUIC_SOCKOPT_STREAM_OPEN:	/* get only */
	default:
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return err;
}

/* ---- getsockopt ------------------------------------------------------------ */

/* Copies a fixed structure out: optlen must hold it. */
static int quic_put(sockptr_t optval, sockptr_t optlen, int len, const void *v, int size)
{
	if (len < size)
		return -EINVAL;
	if (quic_put_len(optlen, size) || copy_to_sockptr(optval, v, size))
		return -EFAULT;
	return 0;
}

/* Copies a variable-length buffer out: optlen must hold all of it. */
static int quic_put_buf(sockptr_t optval, sockptr_t optlen, int len, const struct quic_buf *b)
{
	if (len < (int)b->len)
		return -EINVAL;
	if (quic_put_len(optlen, b->len) || (b->len && copy_to_sockptr(optval, b->data, b->len)))
		return -EFAULT;
	return 0;
}

static int quic_get_event(struct quic_sock *qs, sockptr_t optval, sockptr_t optlen, int len)
{
	struct quic_event_option ev;

	if (len < (int)sizeof(ev))
		return -EINVAL;
	if (copy_from_sockptr(&ev, optval, sizeof(ev)))
		return -EFAULT;
	if (ev.type == QUIC_EVENT_NONE || ev.type >= QUIC_EVENT_MAX)
		return -EINVAL;
	ev.on = !!(qs->events & (1U << ev.type));
	return quic_put(optval, optlen, len, &ev, sizeof(ev));
}

static int quic_get_tp(struct quic_sock *qs, sockptr_t optval, sockptr_t optlen, int len)
{
	struct quic_transport_param tp;

	if (len < (int)sizeof(tp))
		return -EINVAL;
	if (copy_from_sockptr(&tp, optval, sizeof(tp)))
		return -EFAULT;
	if (tp.remote) {
		struct qb_conn_params p;

		if (qs->conn && !qb_conn_peer_params(qs->conn, &p)) {
			/* The peer's, as its extension said (fields the API keeps
			 * narrower saturate). */
			memset(&tp, 0, sizeof(tp));
			tp.disable_active_migration = p.disable_active_migration;
			tp.grease_quic_bit = p.grease_quic_bit;
			tp.active_connection_id_limit = min_t(u64, p.active_connection_id_limit, U8_MAX);
			tp.ack_delay_exponent = p.ack_delay_exponent;
			tp.max_datagram_frame_size = min_t(u64, p.max_datagram_frame_size, U16_MAX);
			tp.max_udp_payload_size = min_t(u64, p.max_udp_payload_size, U16_MAX);
			tp.max_idle_timeout = min_t(u64, p.max_idle_timeout_us, U32_MAX);
			tp.max_ack_delay = min_t(u64, p.max_ack_delay_us, U32_MAX);
			tp.max_streams_bidi = min_t(u64, p.max_streams_bidi, U16_MAX);
			tp.max_streams_uni = min_t(u64, p.max_streams_uni, U16_MAX);
			tp.max_data = p.max_data;
			tp.max_stream_data_bidi_local = p.max_stream_data_bidi_local;
			tp.max_stream_data_bidi_remote = p.max_stream_data_bidi_remote;
			tp.max_stream_data_uni = p.max_stream_data_uni;
		} else if (qs->remote_tp_set) {
			tp = qs->remote_tp;
		} else {
			return -ENOTCONN;
		}
		tp.remote = 1;
	} else {
		tp = qs->local_tp;
	}
	return quic_put(optval, optlen, len, &tp, sizeof(tp));
}

static int quic_get_close(struct quic_sock *qs, sockptr_t optval, sockptr_t optlen, int len)
{
	unsigned int head = offsetof(struct quic_connection_close, phrase);
	struct quic_connection_close c = {};

	if (len < (int)(head + qs->close_phrase.len))
		return -EINVAL;
	c.errcode = qs->close_errcode;
	c.frame = qs->close_frame;
	if (copy_to_sockptr(optval, &c, head) ||
	    (qs->close_phrase.len && copy_to_sockptr_offset(optval, head, qs->close_phrase.data, qs->close_phrase.len)) ||
	    quic_put_len(optlen, head + qs->close_phrase.len))
		return -EFAULT;
	return 0;
}

int quic_do_getsockopt(struct sock *sk, int level, int optname, sockptr_t optval, sockptr_t optlen)
{
	struct quic_sock *qs = quic_sk(sk);
	int len, err;

	if (level != SOL_QUIC)
		return -ENOPROTOOPT;
	if (copy_from_sockptr(&len, optlen, sizeof(len)))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	lock_sock(sk);
	switch (optname) {
	case QUIC_SOCKOPT_EVENT:
		err = quic_get_event(qs, optval, optlen, len);
		break;
	case QUIC_SOCKOPT_TRANSPORT_PARAM:
		err = quic_get_tp(qs, optval, optlen, len);
		break;
	case QUIC_SOCKOPT_CONFIG: {
		/* Through the stack: hardened usercopy refuses copies straight out
		 * of the socket's slab object. */
		struct quic_config c = qs->config;

		err = quic_put(optval, optlen, len, &c, sizeof(c));
		break;
	}
	case QUIC_SOCKOPT_ALPN:
		err = quic_put_buf(optval, optlen, len, &qs->alpn);
		break;
	case QUIC_SOCKOPT_TOKEN:
		err = quic_session_token_readable(qs);
		if (!err)
			err = quic_put_buf(optval, optlen, len, &qs->token);
		break;
	case QUIC_SOCKOPT_SESSION_TICKET:
		err = quic_put_buf(optval, optlen, len, &qs->ticket);
		break;
	case QUIC_SOCKOPT_CONNECTION_CLOSE:
		err = quic_get_close(qs, optval, optlen, len);
		break;
	case QUIC_SOCKOPT_STREAM_OPEN:
		err = quic_get_stream_open(qs, optval, optlen, len);
		break;
	case QUIC_SOCKOPT_CONNECTION_ID:
		err = quic_get_connection_id(qs, optval, optlen, len);	/* cid.c */
		break;
	case QUIC_SOCKOPT_TRANSPORT_PARAM_EXT:
		err = quic_get_tp_ext(qs, optval, optlen, len);
		break;
	case QUIC_SOCKOPT_STREAM_RESET:	/* set only */
	case QUIC_SOCKOPT_STREAM_STOP_SENDING:
	case QUIC_SOCKOPT_CONNECTION_MIGRATION:
	case QUIC_SOCKOPT_KEY_UPDATE:
	case QUIC_SOCKOPT_CRYPTO_SECRET:
	default:
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return err;
}

int quic_getsockopt(struct sock *sk, int level, int optname, char __user *optval, int __user *optlen)
{
	return quic_do_getsockopt(sk, level, optname, USER_SOCKPTR(optval), USER_SOCKPTR(optlen));
}
