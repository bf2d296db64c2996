/* SPDX-License-Identifier: GPL-2.0 */
/* The in-kernel API of quic.ko, for kernel users of IPPROTO_QUIC sockets
 * (modelled on what the in-kernel QUIC of draft-lxin-quic-socket-apis
 * offers its kernel users).
 *
 * A kernel user makes its socket with
 *	sock_create_kern(net, AF_INET or AF_INET6, SOCK_DGRAM, IPPROTO_QUIC, &sock)
 * and uses the ordinary kernel socket calls on it: kernel_bind,
 * kernel_listen, kernel_accept, kernel_connect, kernel_sendmsg and
 * kernel_recvmsg (the SOL_QUIC cmsgs of <linux/quic.h> in a kernel buffer).
 * Options go through quic_kernel_setsockopt / quic_kernel_getsockopt, the
 * same options with the same errno rules as setsockopt(2) at level SOL_QUIC
 * (quic(7)), on kernel buffers.
 *
 * The TLS handshake runs in user space. A kernel user either receives a
 * socket a process made and completed (sockfd_lookup on a descriptor it was
 * handed), or, where the kernel has net/handshake (CONFIG_NET_HANDSHAKE,
 * 6.12 and later; not in 6.1), gives its socket a file (sock_alloc_file)
 * and asks for the handshake with tls_client_hello_*() or
 * tls_server_hello_*() from <net/handshake.h>: the handshake agent
 * (tools/quic-handshaked, or tlshd) runs it on the socket and reports back.
 * The socket's ALPN option (set before) is what the agent offers.
 *
 * Build against quic.ko's Module.symvers (KBUILD_EXTRA_SYMBOLS) with this
 * directory and include/uapi on the include path. */
#ifndef QUICBED_NET_QUIC_H
#define QUICBED_NET_QUIC_H

#include <linux/net.h>
#include <linux/quic.h>
#include <linux/types.h>

#ifndef IPPROTO_QUIC
#define IPPROTO_QUIC 261
#endif

/* setsockopt(sk, SOL_QUIC, optname, optval, optlen) on a kernel buffer. */
int quic_kernel_setsockopt(struct sock *sk, int optname, void *optval, unsigned int optlen);
/* getsockopt(sk, SOL_QUIC, optname, optval, optlen) on kernel buffers;
 * *optlen is the buffer's size in, the value's length out. */
int quic_kernel_getsockopt(struct sock *sk, int optname, void *optval, unsigned int *optlen);

/* Stream data with the QUIC_STREAM_INFO cmsg, as libquic's quic_sendmsg
 * and quic_recvmsg: send len bytes on stream `stream_id` (-1: the next of
 * ours of the type in `flags`, MSG_QUIC_STREAM_*) and return the bytes
 * sent; receive at most len bytes of one stream, its ID and flags
 * (MSG_QUIC_STREAM_FIN at its end), and return the bytes read (0: the
 * connection is over). Blocking as the socket's timeouts say
 * (sk_sndtimeo, sk_rcvtimeo); msg_flags MSG_DONTWAIT for neither. */
int quic_kernel_sendmsg(struct socket *sock, const void *data, size_t len, s64 stream_id, u32 flags,
			int msg_flags);
int quic_kernel_recvmsg(struct socket *sock, void *data, size_t len, s64 *stream_id, u32 *flags, int msg_flags);

#endif
