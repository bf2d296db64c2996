/* SPDX-License-Identifier: GPL-2.0+ WITH Linux-syscall-note */
/*
 * The user API of IPPROTO_QUIC sockets (draft-lxin-quic-socket-apis).
 *
 * quicbed's own header for quic.ko. Every number, flag and structure layout
 * below is that of the in-kernel QUIC socket API's <linux/quic.h>, so that a
 * program written for that API builds against this header and runs
 * unchanged on quic.ko; the comments say how quic.ko reads each field.
 */
#ifndef _UAPI_LINUX_QUIC_H
#define _UAPI_LINUX_QUIC_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/socket.h>
#else
#include <sys/socket.h>
#endif

/* The protocol number of socket(AF_INET or AF_INET6, SOCK_STREAM or
 * SOCK_DGRAM, IPPROTO_QUIC), and the level of its socket options and
 * control messages. (Upstream kernels carry these in <linux/in.h> and
 * <linux/socket.h>.) */
#ifndef IPPROTO_QUIC
#define IPPROTO_QUIC 261
#endif
#ifndef SOL_QUIC
#define SOL_QUIC 288
#endif

/* ---- Control messages (cmsg_level SOL_QUIC) ---------------------------- */

enum quic_cmsg_type {
	QUIC_STREAM_INFO,	/* struct quic_stream_info, sendmsg and recvmsg */
	QUIC_HANDSHAKE_INFO,	/* struct quic_handshake_info: TLS messages */
};

/* The two low bits of a stream ID (RFC 9000 §2.1). */
#define QUIC_STREAM_TYPE_SERVER_MASK	0x01
#define QUIC_STREAM_TYPE_UNI_MASK	0x02
#define QUIC_STREAM_TYPE_MASK		0x03

/* Flags of quic_stream_info.stream_flags, and extra msg_flags. They reuse
 * MSG_* bit values that have no meaning on a QUIC socket. */
enum quic_msg_flags {
	MSG_QUIC_STREAM_NEW		= 0x400,	/* MSG_SYN: open the stream */
	MSG_QUIC_STREAM_FIN		= 0x200,	/* MSG_FIN: end of the stream */
	MSG_QUIC_STREAM_UNI		= 0x800,	/* MSG_CONFIRM: unidirectional */
	MSG_QUIC_STREAM_DONTWAIT	= 0x10000,	/* MSG_WAITFORONE: do not wait for stream credit */
	MSG_QUIC_STREAM_SNDBLOCK	= 0x2000,	/* MSG_ERRQUEUE: blocked by stream credit */

	MSG_QUIC_DATAGRAM		= 0x1000,	/* MSG_RST: a DATAGRAM frame (RFC 9221) */
	MSG_QUIC_NOTIFICATION		= 0x8000,	/* MSG_MORE: an event, see union quic_event */
};

/* Encryption levels of handshake messages and secrets (RFC 9001 §4.1.4). */
enum quic_crypto_level {
	QUIC_CRYPTO_APP,
	QUIC_CRYPTO_INITIAL,
	QUIC_CRYPTO_HANDSHAKE,
	QUIC_CRYPTO_EARLY,
	QUIC_CRYPTO_MAX,
};

struct quic_handshake_info {
	__u8	crypto_level;
};

struct quic_stream_info {
	__s64	stream_id;	/* -1 on sendmsg: the next stream of the type in stream_flags */
	__u32	stream_flags;	/* MSG_QUIC_STREAM_* */
};

/* ---- Socket options (level SOL_QUIC) ------------------------------------ */

#define QUIC_SOCKOPT_EVENT			0	/* struct quic_event_option */
#define QUIC_SOCKOPT_STREAM_OPEN		1	/* get: struct quic_stream_info */
#define QUIC_SOCKOPT_STREAM_RESET		2	/* set: struct quic_errinfo */
#define QUIC_SOCKOPT_STREAM_STOP_SENDING	3	/* set: struct quic_errinfo */
#define QUIC_SOCKOPT_CONNECTION_ID		4	/* struct quic_connection_id_info */
#define QUIC_SOCKOPT_CONNECTION_CLOSE		5	/* struct quic_connection_close */
#define QUIC_SOCKOPT_CONNECTION_MIGRATION	6	/* set: a sockaddr (a client moves there; a server before its handshake: its preferred address) */
#define QUIC_SOCKOPT_KEY_UPDATE			7	/* set: no value */
#define QUIC_SOCKOPT_TRANSPORT_PARAM		8	/* struct quic_transport_param */
#define QUIC_SOCKOPT_CONFIG			9	/* struct quic_config */
#define QUIC_SOCKOPT_TOKEN			10	/* address validation token bytes */
#define QUIC_SOCKOPT_ALPN			11	/* comma-separated ALPN list */
#define QUIC_SOCKOPT_SESSION_TICKET		12	/* TLS session ticket bytes */
#define QUIC_SOCKOPT_CRYPTO_SECRET		13	/* set: struct quic_crypto_secret */
#define QUIC_SOCKOPT_TRANSPORT_PARAM_EXT	14	/* quic_transport_parameters extension body */

#define QUIC_VERSION_V1			0x1
#define QUIC_VERSION_V2			0x6b3343cf

/* Transport parameters (RFC 9000 §18.2): ours, or the peer's when `remote`
 * is set on getsockopt (or, to resume with 0-RTT, on setsockopt). */
struct quic_transport_param {
	__u8	remote;
	__u8	disable_active_migration;
	__u8	grease_quic_bit;
	__u8	stateless_reset;
	__u8	disable_1rtt_encryption;
	__u8	disable_compatible_version;
	__u8	active_connection_id_limit;
	__u8	ack_delay_exponent;
	__u16	max_datagram_frame_size;
	__u16	max_udp_payload_size;
	__u32	max_idle_timeout;	/* microseconds */
	__u32	max_ack_delay;		/* microseconds */
	__u16	max_streams_bidi;
	__u16	max_streams_uni;
	__u64	max_data;
	__u64	max_stream_data_bidi_local;
	__u64	max_stream_data_bidi_remote;
	__u64	max_stream_data_uni;
	__u64	reserved;
};

/* Settings that are not transport parameters. */
struct quic_config {
	__u32	version;		/* QUIC_VERSION_V1 or V2 to start in */
	__u32	plpmtud_probe_interval;	/* microseconds, 0: no DPLPMTUD */
	__u32	initial_smoothed_rtt;	/* microseconds */
	__u32	payload_cipher_type;	/* TLS_CIPHER_* to offer, 0: any */
	__u8	congestion_control_algo;	/* enum quic_cong_algo */
	__u8	validate_peer_address;	/* server: Retry before accepting */
	__u8	stream_data_nodelay;	/* send stream data at once */
	__u8	receive_session_ticket;	/* client: wait for a ticket */
	__u8	certificate_request;	/* server: 0 none, 1 request, 2 require */
	__u8	reserved[3];
};

/* A TLS traffic secret for the kernel (set by the handshake library). */
struct quic_crypto_secret {
	__u8	send;	/* 1: protects what we send, 0: what we receive */
	__u8	level;	/* enum quic_crypto_level */
	__u32	type;	/* TLS_CIPHER_AES_GCM_128 (51), AES_GCM_256 (52), CHACHA20_POLY1305 (54) */
#define QUIC_CRYPTO_SECRET_BUFFER_SIZE 48
	__u8	secret[QUIC_CRYPTO_SECRET_BUFFER_SIZE];
};

enum quic_cong_algo {
	QUIC_CONG_ALG_RENO,
	QUIC_CONG_ALG_MAX,
};

/* STREAM_RESET / STREAM_STOP_SENDING: the stream and application error. */
struct quic_errinfo {
	__s64	stream_id;
	__u32	errcode;
};

/* CONNECTION_ID: the active connection ID's sequence number, and on set
 * the sequence numbers below prior_to to retire. dest selects the peer's
 * IDs (1) or ours (0). */
struct quic_connection_id_info {
	__u8	dest;
	__u32	active;
	__u32	prior_to;
};

/* EVENT: turns delivery of one event type on or off. */
struct quic_event_option {
	__u8	type;	/* enum quic_event_type */
	__u8	on;
};

/* ---- Events: recvmsg with MSG_QUIC_NOTIFICATION in msg_flags; the first
 * byte is the type, union quic_event follows. ---------------------------- */

enum quic_event_type {
	QUIC_EVENT_NONE,
	QUIC_EVENT_STREAM_UPDATE,
	QUIC_EVENT_STREAM_MAX_DATA,
	QUIC_EVENT_STREAM_MAX_STREAM,
	QUIC_EVENT_CONNECTION_ID,
	QUIC_EVENT_CONNECTION_CLOSE,
	QUIC_EVENT_CONNECTION_MIGRATION,
	QUIC_EVENT_KEY_UPDATE,
	QUIC_EVENT_NEW_TOKEN,
	QUIC_EVENT_NEW_SESSION_TICKET,
	QUIC_EVENT_MAX,
};

/* Stream states (RFC 9000 §3.1, §3.2) reported by QUIC_EVENT_STREAM_UPDATE. */
enum {
	QUIC_STREAM_SEND_STATE_READY,
	QUIC_STREAM_SEND_STATE_SEND,
	QUIC_STREAM_SEND_STATE_SENT,
	QUIC_STREAM_SEND_STATE_RECVD,
	QUIC_STREAM_SEND_STATE_RESET_SENT,
	QUIC_STREAM_SEND_STATE_RESET_RECVD,

	QUIC_STREAM_RECV_STATE_RECV,
	QUIC_STREAM_RECV_STATE_SIZE_KNOWN,
	QUIC_STREAM_RECV_STATE_RECVD,
	QUIC_STREAM_RECV_STATE_READ,
	QUIC_STREAM_RECV_STATE_RESET_RECVD,
	QUIC_STREAM_RECV_STATE_RESET_READ,
};

struct quic_stream_update {
	__s64	id;
	__u8	state;
	__u32	errcode;
	__u64	finalsz;
};

struct quic_stream_max_data {
	__s64	id;
	__u64	max_data;
};

/* Also the value of the CONNECTION_CLOSE option: error code, frame type
 * and a reason phrase. */
struct quic_connection_close {
	__u32	errcode;
	__u8	frame;
	__u8	phrase[];
};

union quic_event {
	struct quic_stream_update	update;
	struct quic_stream_max_data	max_data;
	struct quic_connection_close	close;
	struct quic_connection_id_info	info;
	__u64	max_stream;
	__u8	local_migration;
	__u8	key_update_phase;
};

/* Transport error codes (RFC 9000 §20.1). */
enum {
	QUIC_TRANSPORT_ERROR_NONE			= 0x00,
	QUIC_TRANSPORT_ERROR_INTERNAL			= 0x01,
	QUIC_TRANSPORT_ERROR_CONNECTION_REFUSED		= 0x02,
	QUIC_TRANSPORT_ERROR_FLOW_CONTROL		= 0x03,
	QUIC_TRANSPORT_ERROR_STREAM_LIMIT		= 0x04,
	QUIC_TRANSPORT_ERROR_STREAM_STATE		= 0x05,
	QUIC_TRANSPORT_ERROR_FINAL_SIZE			= 0x06,
	QUIC_TRANSPORT_ERROR_FRAME_ENCODING		= 0x07,
	QUIC_TRANSPORT_ERROR_TRANSPORT_PARAM		= 0x08,
	QUIC_TRANSPORT_ERROR_CONNECTION_ID_LIMIT	= 0x09,
	QUIC_TRANSPORT_ERROR_PROTOCOL_VIOLATION		= 0x0a,
	QUIC_TRANSPORT_ERROR_INVALID_TOKEN		= 0x0b,
	QUIC_TRANSPORT_ERROR_APPLICATION		= 0x0c,
	QUIC_TRANSPORT_ERROR_CRYPTO_BUF_EXCEEDED	= 0x0d,
	QUIC_TRANSPORT_ERROR_KEY_UPDATE			= 0x0e,
	QUIC_TRANSPORT_ERROR_AEAD_LIMIT_REACHED		= 0x0f,
	QUIC_TRANSPORT_ERROR_NO_VIABLE_PATH		= 0x10,
	/* 0x0100-0x01ff: TLS alert + 0x100 (RFC 9001 §4.8) */
	QUIC_TRANSPORT_ERROR_CRYPTO			= 0x0100,
};

#endif /* _UAPI_LINUX_QUIC_H */
