// A non-blocking UDP socket for the QUIC endpoint, built for batches: a
// batch of datagrams to one peer leaves in one sendmsg with UDP GSO
// (UDP_SEGMENT), or in one sendmmsg when the kernel refuses GSO (the socket
// notices once and remembers); reception is one recvmmsg whose messages may
// each hold several datagrams coalesced by UDP GRO. Every datagram comes with
// its peer, the local address it was sent to (IP_PKTINFO / IPV6_PKTINFO, what
// a server bound to a wildcard answers from) and its ECN codepoint (RFC 9000
// §13.4). All buffers are allocated by open(); sending and receiving
// allocate nothing.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "address.h"
#include "base/bytes.h"
#include "ecn.h"
#include "sys_status.h"

namespace quicbed {

struct UdpSocketOptions {
  // An IPv6 socket that also carries IPv4, whose peers then appear as
  // ::ffff:a.b.c.d (IPV6_V6ONLY off). Ignored for IPv4 sockets.
  bool dual_stack = false;
  bool gso = true;  // send batches with UDP_SEGMENT when the kernel has it
  bool gro = true;  // ask for UDP_GRO (needs recv_buffer_size >= 65535)
  size_t recv_batch = 32;           // messages per recvmmsg, 1-1024
  size_t recv_buffer_size = 65536;  // bytes per message: a GRO message is up to 64 KB
  int socket_buffer_bytes = 0;      // SO_RCVBUF/SO_SNDBUF when > 0 (capped by net.core.*mem_max)
};

// Datagrams for one destination with one ECN codepoint, back to back in
// `data`: each is segment_size bytes except the last, which may be shorter
// (the layout UDP GSO takes).
struct SendBatch {
  SocketAddress peer;    // empty: the connected peer
  SocketAddress source;  // local address to send from (port ignored); empty: the kernel's choice
  Ecn ecn = Ecn::kNotEct;
  Bytes data;
  size_t segment_size = 0;  // 0: `data` is one datagram
};

// One message of a receive: one datagram, or several from one peer that GRO
// coalesced, with the layout of a SendBatch. Data stays valid until the next
// receive().
struct ReceivedMessage {
  Bytes data;
  size_t segment_size = 0;
  SocketAddress peer;
  SocketAddress local;  // where the peer sent it: address from PKTINFO, the bound port
  Ecn ecn = Ecn::kNotEct;
  bool truncated = false;  // longer than the buffer: the tail is lost (MSG_TRUNC)

  size_t datagram_count() const;  // an empty datagram counts as none
  Bytes datagram(size_t i) const;
};

class UdpSocket {
 public:
  UdpSocket() = default;
  ~UdpSocket();
  UdpSocket(UdpSocket&& o) noexcept;
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Opens a socket of `local`'s family bound to it (port 0: the kernel
  // picks one; see local_address()), with every receive option on.
  SysStatus open(const SocketAddress& local, const UdpSocketOptions& options = {});
  // Fixes the peer (clients): sends may leave SendBatch::peer empty, and
  // ICMP errors for earlier sends surface as ECONNREFUSED and the like.
  SysStatus connect(const SocketAddress& peer);
  void close();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const SocketAddress& local_address() const { return local_; }
  bool gso_enabled() const { return gso_; }
  bool gro_enabled() const { return gro_; }

  // Sends the batch; *sent counts the datagrams the kernel took, all of
  // them when ok. Otherwise it stopped at datagram *sent: would_block()
  // means the socket buffer is full (send the rest later), anything else is
  // the kernel's verdict on that datagram (EMSGSIZE: longer than UDP or the
  // interface MTU allows, since IP fragmentation is off).
  SysStatus send(const SendBatch& batch, size_t* sent);

  // Reads one batch of messages without blocking: would_block() when there
  // is none. Errors such as ECONNREFUSED report an ICMP answer to an
  // earlier send (connected sockets only); receiving again continues.
  SysStatus receive();
  size_t received_count() const { return received_count_; }
  const ReceivedMessage& received(size_t i) const { return received_[i]; }
  // Calls f(Bytes datagram, const ReceivedMessage& from) for each datagram
  // of the last receive(), in arrival order.
  template <typename F>
  void for_each_datagram(F&& f) const {
    for (size_t i = 0; i < received_count_; ++i)
      for (size_t j = 0, n = received_[i].datagram_count(); j < n; ++j) f(received_[i].datagram(j), received_[i]);
  }

 private:
  struct SendPlan;
  SysStatus transmit(const SendPlan& plan, size_t first, bool gso, size_t* sent);
  void parse_message(size_t i, size_t len);

  int fd_ = -1;
  SocketAddress local_;
  SocketAddress peer_;  // set by connect()
  bool gso_ = false;
  bool gro_ = false;

  // Receive slots, one per message of a recvmmsg.
  std::vector<uint8_t> recv_data_;
  std::vector<mmsghdr> recv_msgs_;
  std::vector<iovec> recv_iov_;
  std::vector<sockaddr_in6> recv_names_;
  std::vector<uint8_t> recv_control_;
  std::vector<ReceivedMessage> received_;
  size_t recv_buffer_size_ = 0;
  size_t received_count_ = 0;

  // Send messages: one per GSO unit, or one per datagram without GSO.
  std::vector<mmsghdr> send_msgs_;
  std::vector<iovec> send_iov_;
  std::vector<size_t> send_counts_;  // datagrams in each message
};

}  // namespace quicbed
