#include "udp_socket.h"

#include <netinet/in.h>
#include <netinet/udp.h>  // SOL_UDP, UDP_SEGMENT, UDP_GRO
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace quicbed {
namespace {

// Segments one GSO send may carry (UDP_MAX_SEGMENTS; Linux 6.1 still has 64).
constexpr size_t kMaxGsoSegments = 64;
// Largest UDP payload: the 16-bit IPv4 total length less 20 + 8 header
// bytes; IPv6's payload length leaves out its fixed header (no jumbograms).
constexpr size_t kMaxUdpPayloadV4 = 65535 - 20 - 8;
constexpr size_t kMaxUdpPayloadV6 = 65535 - 8;
// Messages handed to one sendmmsg.
constexpr size_t kSendMessages = 64;
// Per received message: GRO segment size, TOS/TCLASS and PKTINFO.
constexpr size_t kRecvControlSize =
    CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo));
// Per sent batch: TOS/TCLASS, PKTINFO and, last so that messages without GSO
// can stop before it, the segment size.
constexpr size_t kSendControlSize = CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t));

SysStatus set_int_option(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) return SysStatus::from_errno(what);
  return SysStatus::ok();
}

// Errors with which a GSO send says "not this way" rather than "not this
// datagram": no checksum offload on the route (EIO), checksums disabled or
// segment size above the MTU (EINVAL), or a size check of an older kernel.
bool gso_refusal(int err) { return err == EIO || err == EINVAL || err == EMSGSIZE; }

template <typename T>
cmsghdr* put_cmsg(cmsghdr* c, int level, int type, const T& value) {
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(sizeof(T));
  std::memcpy(CMSG_DATA(c), &value, sizeof(T));
  return reinterpret_cast<cmsghdr*>(reinterpret_cast<uint8_t*>(c) + CMSG_SPACE(sizeof(T)));
}

template <typename T>
T cmsg_value(const cmsghdr* c) {
  T v{};
  std::memcpy(&v, CMSG_DATA(c), std::min(sizeof(T), size_t(c->cmsg_len - CMSG_LEN(0))));
  return v;
}

}  // namespace

size_t ReceivedMessage::datagram_count() const {
  if (data.empty() || segment_size == 0) return data.empty() ? 0 : 1;
  return (data.size() + segment_size - 1) / segment_size;
}

Bytes ReceivedMessage::datagram(size_t i) const {
  size_t start = i * segment_size;
  return data.subspan(start, std::min(segment_size, data.size() - start));
}

// What a batch needs on the wire, worked out once and shared by its messages.
struct UdpSocket::SendPlan {
  const SendBatch* batch;
  size_t count;         // datagrams
  size_t segment_size;  // bytes of each but the last
  size_t gso_segments;  // datagrams per GSO message (<= 1: no GSO possible)
  SocketAddress name;   // destination in the socket's family; empty: connected
  alignas(cmsghdr) uint8_t control[kSendControlSize];
  size_t control_len;      // TOS and PKTINFO
  size_t control_gso_len;  // ... and UDP_SEGMENT
};

UdpSocket::~UdpSocket() { close(); }

UdpSocket::UdpSocket(UdpSocket&& o) noexcept { *this = std::move(o); }

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this == &o) return *this;
  close();
  fd_ = std::exchange(o.fd_, -1);
  local_ = o.local_;
  peer_ = o.peer_;
  gso_ = o.gso_;
  gro_ = o.gro_;
  recv_data_ = std::move(o.recv_data_);
  recv_msgs_ = std::move(o.recv_msgs_);
  recv_iov_ = std::move(o.recv_iov_);
  recv_names_ = std::move(o.recv_names_);
  recv_control_ = std::move(o.recv_control_);
  received_ = std::move(o.received_);
  recv_buffer_size_ = o.recv_buffer_size_;
  received_count_ = std::exchange(o.received_count_, 0);
  send_msgs_ = std::move(o.send_msgs_);
  send_iov_ = std::move(o.send_iov_);
  send_counts_ = std::move(o.send_counts_);
  return *this;
}

void UdpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  gso_ = gro_ = false;
  received_count_ = 0;
}

SysStatus UdpSocket::open(const SocketAddress& local, const UdpSocketOptions& o) {
  close();
  if (local.empty()) return SysStatus("open: no local address", EINVAL);
  if (o.recv_batch == 0 || o.recv_batch > 1024 || o.recv_buffer_size == 0)
    return SysStatus("open: recv_batch must be 1-1024 and recv_buffer_size > 0", EINVAL);
  const bool v6 = local.is_ipv6();
  fd_ = socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd_ < 0) return SysStatus::from_errno("socket");

  SysStatus st;
  auto opt = [&](int level, int name, int value, const char* what) {
    if (st.is_ok()) st = set_int_option(fd_, level, name, value, what);
  };
  // DF on, and the interface MTU rather than a learned path MTU as the
  // limit: QUIC datagrams must not be fragmented (RFC 9000 §14) and QUIC
  // finds the path MTU itself (RFC 9000 §14.3, DPLPMTUD).
  if (!v6 || o.dual_stack) {
    opt(IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, "setsockopt(IP_MTU_DISCOVER)");
    opt(IPPROTO_IP, IP_RECVTOS, 1, "setsockopt(IP_RECVTOS)");
  }
  if (v6) {
    opt(IPPROTO_IPV6, IPV6_V6ONLY, o.dual_stack ? 0 : 1, "setsockopt(IPV6_V6ONLY)");
    opt(IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE, "setsockopt(IPV6_MTU_DISCOVER)");
    opt(IPPROTO_IPV6, IPV6_RECVTCLASS, 1, "setsockopt(IPV6_RECVTCLASS)");
    // Also covers IPv4 on a dual-stack socket, as a v4-mapped address.
    opt(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "setsockopt(IPV6_RECVPKTINFO)");
  } else {
    opt(IPPROTO_IP, IP_PKTINFO, 1, "setsockopt(IP_PKTINFO)");
  }
  if (o.socket_buffer_bytes > 0) {
    opt(SOL_SOCKET, SO_RCVBUF, o.socket_buffer_bytes, "setsockopt(SO_RCVBUF)");
    opt(SOL_SOCKET, SO_SNDBUF, o.socket_buffer_bytes, "setsockopt(SO_SNDBUF)");
  }
  if (st.is_ok() && bind(fd_, local.sockaddr_ptr(), local.sockaddr_len()) != 0) st = SysStatus::from_errno("bind");
  sockaddr_in6 bound{};
  socklen_t bound_len = sizeof bound;
  if (st.is_ok() && getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0)
    st = SysStatus::from_errno("getsockname");
  if (!st.is_ok()) {
    close();
    return st;
  }
  local_ = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), bound_len);
  peer_ = SocketAddress();

  // Kernels without GSO (before 4.18) do not know the option; they would
  // ignore the cmsg and send one oversized datagram, so ask first.
  int segment = 0;
  socklen_t segment_len = sizeof segment;
  gso_ = o.gso && getsockopt(fd_, SOL_UDP, UDP_SEGMENT, &segment, &segment_len) == 0;
  // A coalesced message is up to 64 KB: smaller buffers would truncate it.
  gro_ = o.gro && o.recv_buffer_size >= 65535 &&
         set_int_option(fd_, SOL_UDP, UDP_GRO, 1, "setsockopt(UDP_GRO)").is_ok();

  const size_t n = o.recv_batch;
  recv_buffer_size_ = o.recv_buffer_size;
  recv_data_.assign(n * recv_buffer_size_, 0);
  recv_msgs_.assign(n, mmsghdr{});
  recv_iov_.assign(n, iovec{});
  recv_names_.assign(n, sockaddr_in6{});
  recv_control_.assign(n * kRecvControlSize, 0);
  received_.assign(n, ReceivedMessage{});
  for (size_t i = 0; i < n; ++i) {
    recv_iov_[i] = iovec{recv_data_.data() + i * recv_buffer_size_, recv_buffer_size_};
    msghdr& h = recv_msgs_[i].msg_hdr;
    h.msg_name = &recv_names_[i];
    h.msg_iov = &recv_iov_[i];
    h.msg_iovlen = 1;
    h.msg_control = recv_control_.data() + i * kRecvControlSize;
  }
  send_msgs_.assign(kSendMessages, mmsghdr{});
  send_iov_.assign(kSendMessages, iovec{});
  send_counts_.assign(kSendMessages, 0);
  return SysStatus::ok();
}

SysStatus UdpSocket::connect(const SocketAddress& peer) {
  if (fd_ < 0) return SysStatus("connect: socket not open", EBADF);
  SocketAddress name = local_.is_ipv6() ? peer.to_v4_mapped() : peer.unmapped();
  if (::connect(fd_, name.sockaddr_ptr(), name.sockaddr_len()) != 0) return SysStatus::from_errno("connect");
  peer_ = name;
  return SysStatus::ok();
}

SysStatus UdpSocket::send(const SendBatch& b, size_t* sent) {
  *sent = 0;
  if (fd_ < 0) return SysStatus("send: socket not open", EBADF);
  if (b.data.empty()) return SysStatus::ok();
  SendPlan plan;
  plan.batch = &b;
  plan.segment_size = b.segment_size == 0 ? b.data.size() : b.segment_size;
  plan.count = (b.data.size() + plan.segment_size - 1) / plan.segment_size;
  if (!b.peer.empty()) plan.name = local_.is_ipv6() ? b.peer.to_v4_mapped() : b.peer.unmapped();
  const SocketAddress& dest = b.peer.empty() ? peer_ : plan.name;
  if (dest.empty()) return SysStatus("send: no peer and socket not connected", EDESTADDRREQ);
  const bool ipv4_wire = dest.on_ipv4_wire();
  if (!b.source.empty() && b.source.on_ipv4_wire() != ipv4_wire)
    return SysStatus("send: source and peer are of different IP versions", EINVAL);
  const size_t max_payload = ipv4_wire ? kMaxUdpPayloadV4 : kMaxUdpPayloadV6;
  plan.gso_segments = std::min(kMaxGsoSegments, max_payload / plan.segment_size);

  // One ECN codepoint for the batch (RFC 9000 §13.4.1); datagrams that
  // leave as IPv4, even from an IPv6 socket, take the IPv4 options.
  std::memset(plan.control, 0, sizeof plan.control);
  cmsghdr* c = reinterpret_cast<cmsghdr*>(plan.control);
  const int tos = static_cast<int>(b.ecn);
  c = ipv4_wire ? put_cmsg(c, IPPROTO_IP, IP_TOS, tos) : put_cmsg(c, IPPROTO_IPV6, IPV6_TCLASS, tos);
  if (!b.source.empty()) {
    if (ipv4_wire) {
      in_pktinfo pi{};
      pi.ipi_spec_dst = b.source.unmapped().v4().sin_addr;
      c = put_cmsg(c, IPPROTO_IP, IP_PKTINFO, pi);
    } else {
      in6_pktinfo pi{};
      pi.ipi6_addr = b.source.v6().sin6_addr;
      pi.ipi6_ifindex = b.source.v6().sin6_scope_id;
      c = put_cmsg(c, IPPROTO_IPV6, IPV6_PKTINFO, pi);
    }
  }
  plan.control_len = static_cast<size_t>(reinterpret_cast<uint8_t*>(c) - plan.control);
  const uint16_t segment = static_cast<uint16_t>(std::min<size_t>(plan.segment_size, UINT16_MAX));
  c = put_cmsg(c, SOL_UDP, UDP_SEGMENT, segment);
  plan.control_gso_len = static_cast<size_t>(reinterpret_cast<uint8_t*>(c) - plan.control);

  while (*sent < plan.count) {
    size_t n = 0;
    const bool gso = gso_ && plan.gso_segments > 1 && plan.count - *sent > 1;
    SysStatus st = transmit(plan, *sent, gso, &n);
    *sent += n;
    if (st.is_ok()) continue;
    if (!gso || !gso_refusal(st.err())) return st;
    // The same datagrams one by one: if that works the kernel refused GSO
    // itself, on this route, so stop asking for it.
    SysStatus plain = transmit(plan, *sent, false, &n);
    *sent += n;
    if (!plain.is_ok()) return plain;
    gso_ = false;
  }
  return SysStatus::ok();
}

// One sendmmsg of the datagrams from `first` on: GSO messages of up to
// gso_segments datagrams each, or one message per datagram.
SysStatus UdpSocket::transmit(const SendPlan& p, size_t first, bool gso, size_t* sent) {
  *sent = 0;
  const Bytes data = p.batch->data;
  const size_t per_message = gso ? p.gso_segments : 1;
  size_t m = 0;
  for (size_t i = first; i < p.count && m < kSendMessages; ++m) {
    const size_t k = std::min(per_message, p.count - i);
    const size_t offset = i * p.segment_size;
    const size_t len = std::min(k * p.segment_size, data.size() - offset);
    send_iov_[m] = iovec{const_cast<uint8_t*>(data.data() + offset), len};
    send_counts_[m] = k;
    msghdr& h = send_msgs_[m].msg_hdr;
    h.msg_name = p.name.empty() ? nullptr : const_cast<sockaddr*>(p.name.sockaddr_ptr());
    h.msg_namelen = p.name.sockaddr_len();
    h.msg_iov = &send_iov_[m];
    h.msg_iovlen = 1;
    // Single datagrams go without UDP_SEGMENT: a route without checksum
    // offload refuses any message that carries it.
    h.msg_control = const_cast<uint8_t*>(p.control);
    h.msg_controllen = k > 1 ? p.control_gso_len : p.control_len;
    h.msg_flags = 0;
    i += k;
  }
  int r = sendmmsg(fd_, send_msgs_.data(), static_cast<unsigned>(m), 0);
  if (r < 0) return SysStatus::from_errno(gso ? "sendmmsg (GSO)" : "sendmmsg");
  for (int j = 0; j < r; ++j) *sent += send_counts_[j];
  return SysStatus::ok();
}

SysStatus UdpSocket::receive() {
  received_count_ = 0;
  if (fd_ < 0) return SysStatus("receive: socket not open", EBADF);
  for (mmsghdr& m : recv_msgs_) {
    m.msg_hdr.msg_namelen = sizeof(sockaddr_in6);
    m.msg_hdr.msg_controllen = kRecvControlSize;
    m.msg_hdr.msg_flags = 0;
    m.msg_len = 0;
  }
  int r = recvmmsg(fd_, recv_msgs_.data(), static_cast<unsigned>(recv_msgs_.size()), 0, nullptr);
  if (r < 0) return SysStatus::from_errno("recvmmsg");
  for (int i = 0; i < r; ++i) parse_message(static_cast<size_t>(i), recv_msgs_[i].msg_len);
  received_count_ = static_cast<size_t>(r);
  return SysStatus::ok();
}

void UdpSocket::parse_message(size_t i, size_t len) {
  msghdr& h = recv_msgs_[i].msg_hdr;
  ReceivedMessage& out = received_[i];
  len = std::min(len, recv_buffer_size_);
  out.data = Bytes(recv_data_.data() + i * recv_buffer_size_, len);
  out.segment_size = len;
  out.peer = SocketAddress::from_sockaddr(static_cast<const sockaddr*>(h.msg_name), h.msg_namelen);
  out.local = local_;
  out.ecn = Ecn::kNotEct;
  out.truncated = (h.msg_flags & MSG_TRUNC) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int gso_size = cmsg_value<int>(c);
      if (gso_size > 0) out.segment_size = static_cast<size_t>(gso_size);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
      out.ecn = static_cast<Ecn>(cmsg_value<uint8_t>(c) & 3);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
      out.ecn = static_cast<Ecn>(cmsg_value<int>(c) & 3);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      out.local = SocketAddress::ipv4(cmsg_value<in_pktinfo>(c).ipi_addr, local_.port());
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi = cmsg_value<in6_pktinfo>(c);
      // A link-local address means nothing without its interface.
      uint32_t scope = IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ? static_cast<uint32_t>(pi.ipi6_ifindex) : 0;
      out.local = SocketAddress::ipv6(pi.ipi6_addr, local_.port(), scope);
    }
  }
}

}  // namespace quicbed
