// The UDP sockets of the quicbed program, one per local address, each with
// its DatagramSender: a connection's paths (RFC 9000 §9) may use several
// (a client migrating to a new port, a server with a preferred address),
// and each datagram leaves on the socket of its path's local address. Also
// the translation between socket addresses and the core's PathAddress.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "address.h"
#include "datagram_sender.h"
#include "path.h"
#include "udp_socket.h"

namespace quicbed {

// A sockaddr as the core's path address, the port's place marked (bytes
// 2..3 of a sockaddr_in or sockaddr_in6) so that a port change alone is
// recognized (§9.4); and back.
PathAddress path_address(const SocketAddress& a);
SocketAddress socket_address(const PathAddress& a);
inline Path make_path(const SocketAddress& local, const SocketAddress& peer) {
  return Path{path_address(local), path_address(peer)};
}

class PathSockets {
 public:
  struct Socket {
    UdpSocket udp;
    std::unique_ptr<DatagramSender> sender;
    SocketAddress local;  // as bound (a client's: its connected local address)
    bool connected = false;
  };

  // Takes an open socket; returns its index.
  size_t add(UdpSocket udp, size_t max_datagram_size, bool connected);
  // Puts `udp` in the place of socket `i`, which keeps its `local` (the
  // address its paths know it by): a NAT rebinding the connection does
  // not see. The caller moved the event loop's reader.
  void replace(size_t i, UdpSocket udp);
  // Closes socket `i` (the caller removed it from its event loop).
  void close(size_t i);
  size_t size() const { return sockets_.size(); }
  Socket& operator[](size_t i) { return *sockets_[i]; }
  const Socket& operator[](size_t i) const { return *sockets_[i]; }
  // The open socket a datagram from local address `a` leaves on: the one
  // bound to it, else one bound to a wildcard address with its port;
  // `fallback` if none.
  size_t find(const SocketAddress& a, size_t fallback = 0) const;

  // Calls write(MutBytes room, Path* path, Ecn* ecn) -> size_t until it
  // returns 0 and sends each datagram on the socket of path->local, to
  // path->peer (a connected socket: to its peer), with the ECN codepoint
  // *ecn (RFC 9000 §13.4); consecutive datagrams of one socket
  // share batches. ok, or the would_block() of a full socket, whose fd is
  // then in *blocked_fd (the datagram waits in its sender).
  template <typename Write>
  SysStatus send(Write&& write, int* blocked_fd) {
    // What other sockets left queued goes first (a full socket stays so).
    for (auto& s : sockets_) {
      if (s->udp.is_open()) (void)s->sender->send_pending();
    }
    size_t current = 0;
    for (;;) {
      if (held_size_ && !sockets_[held_socket_]->udp.is_open()) held_size_ = 0;  // its socket is gone
      if (held_size_) current = held_socket_;
      Socket& s = *sockets_[current];
      size_t switch_to = sockets_.size();
      SysStatus st = s.sender->send([&](MutBytes room, DatagramSender::Destination& to) -> size_t {
        if (held_size_) {
          // A datagram written for this socket while another one's sender ran.
          if (held_socket_ != current) return 0;
          std::memcpy(room.data(), held_.data(), held_size_);
          to = held_to_;
          const size_t n = held_size_;
          held_size_ = 0;
          return n;
        }
        Path path;
        Ecn ecn = Ecn::kNotEct;
        const size_t n = write(room, &path, &ecn);
        if (n == 0) return 0;
        DatagramSender::Destination d;
        d.ecn = ecn;
        const size_t target = find(socket_address(path.local), current);
        if (!sockets_[target]->connected) {
          d.peer = socket_address(path.peer);
          d.source = socket_address(path.local);
        }
        if (target == current) {
          to = d;
          return n;
        }
        held_.assign(room.data(), room.data() + n);
        held_size_ = n;
        held_to_ = d;
        held_socket_ = target;
        switch_to = target;
        return 0;
      });
      if (!st.is_ok()) {
        if (blocked_fd) *blocked_fd = s.udp.fd();
        return st;
      }
      if (switch_to == sockets_.size()) return SysStatus::ok();
      current = switch_to;
    }
  }

 private:
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<uint8_t> held_;
  size_t held_size_ = 0;
  size_t held_socket_ = 0;
  DatagramSender::Destination held_to_;
};

}  // namespace quicbed
