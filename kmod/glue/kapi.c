// SPDX-License-Identifier: GPL-2.0
/* The in-kernel API (include/net/quic.h): socket options on kernel
 * buffers, and stream data with the stream cmsg built in a kernel buffer
 * (kernel_sendmsg / kernel_recvmsg reach quic_sendmsg / quic_recvmsg of
 * socket.c, which read and write the cmsg as for a process). */
#include <linux/module.h>
#include <linux/sockptr.h>
#include <linux/uio.h>
#include <net/sock.h>

#include <net/quic.h>
#include "quic_sock.h"

int quic_kernel_setsockopt(struct sock *sk, int optname, void *optval, unsigned int optlen)
{
	return quic_setsockopt(sk, SOL_QUIC, optname, KERNEL_SOCKPTR(optval), optlen);
}
EXPORT_SYMBOL_GPL(quic_kernel_setsockopt);

int quic_kernel_getsockopt(struct sock *sk, int optname, void *optval, unsigned int *optlen)
{
	/* The length is an int in getsockopt(2): a size beyond INT_MAX is
	 * the negative one the call refuses with EINVAL. */
	return quic_do_getsockopt(sk, SOL_QUIC, optname, KERNEL_SOCKPTR(optval), KERNEL_SOCKPTR(optlen));
}
EXPORT_SYMBOL_GPL(quic_kernel_getsockopt);

int quic_kernel_sendmsg(struct socket *sock, const void *data, size_t len, s64 stream_id, u32 flags,
			int msg_flags)
{
	u8 control[CMSG_SPACE(sizeof(struct quic_stream_info))] = {};
	struct kvec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control),
			      .msg_flags = msg_flags };
	struct cmsghdr *cmsg = (struct cmsghdr *)control;
	struct quic_stream_info info = { .stream_id = stream_id, .stream_flags = flags };

	cmsg->cmsg_level = SOL_QUIC;
	cmsg->cmsg_type = QUIC_STREAM_INFO;
	cmsg->cmsg_len = CMSG_LEN(sizeof(info));
	memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
	return kernel_sendmsg(sock, &msg, &iov, 1, len);
}
EXPORT_SYMBOL_GPL(quic_kernel_sendmsg);

int quic_kernel_recvmsg(struct socket *sock, void *data, size_t len, s64 *stream_id, u32 *flags, int msg_flags)
{
	u8 control[CMSG_SPACE(sizeof(struct quic_stream_info))] = {};
	struct kvec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg;
	int n = kernel_recvmsg(sock, &msg, &iov, 1, len, msg_flags);

	if (n < 0)
		return n;
	/* recvmsg advanced msg_control past what it wrote: walk from the
	 * buffer's start over the length it used. */
	msg.msg_controllen = sizeof(control) - msg.msg_controllen;
	msg.msg_control = control;
	if (stream_id)
		*stream_id = -1;
	if (flags)
		*flags = 0;
	for_each_cmsghdr(cmsg, &msg) {
		if (cmsg->cmsg_level == SOL_QUIC && cmsg->cmsg_type == QUIC_STREAM_INFO &&
		    cmsg->cmsg_len >= CMSG_LEN(sizeof(struct quic_stream_info))) {
			struct quic_stream_info info;

			memcpy(&info, CMSG_DATA(cmsg), sizeof(info));
			if (stream_id)
				*stream_id = info.stream_id;
			if (flags)
				*flags = info.stream_flags;
		}
	}
	if (flags)
		*flags |= msg.msg_flags;
	return n;
}
EXPORT_SYMBOL_GPL(quic_kernel_recvmsg);
