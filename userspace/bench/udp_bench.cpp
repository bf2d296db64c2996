// Loopback throughput of 1200-byte datagrams through UdpSocket: one
// datagram per system call, batches of one datagram per message
// (sendmmsg/recvmmsg), and batches with UDP GSO and GRO; what the datagram
// path alone allows the QUIC endpoint. The main thread blasts batches at
// 127.0.0.1 for a fixed time while a receiver thread counts what arrives;
// the rate that counts is the received one.
//
//   udp_bench [--seconds N] [--batch DATAGRAMS]
#include <poll.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "event_loop.h"  // now_us
#include "udp_socket.h"

namespace quicbed {
namespace {

constexpr size_t kDatagram = 1200;

struct Mode {
  const char* name;
  bool offload;       // GSO on the sender, GRO on the receiver
  bool one_by_one;    // one datagram per send and per receive
};

struct Rates {
  double sent_gbps;
  double received_gbps;
  double loss_percent;
};

double gbps(uint64_t bytes, uint64_t us) { return us ? static_cast<double>(bytes) * 8 / static_cast<double>(us) / 1000 : 0; }

bool run(const Mode& mode, double seconds, size_t batch, Rates* out) {
  const bool offload = mode.offload;
  if (mode.one_by_one) batch = 1;
  UdpSocketOptions o;
  o.gso = offload;
  o.gro = offload;
  o.recv_batch = mode.one_by_one ? 1 : 64;
  o.socket_buffer_bytes = 4 << 20;
  UdpSocket rx, tx;
  SysStatus st = rx.open(SocketAddress::loopback(AddressFamily::kIPv4, 0), o);
  if (st.is_ok()) st = tx.open(SocketAddress::loopback(AddressFamily::kIPv4, 0), o);
  if (!st.is_ok()) {
    std::fprintf(stderr, "udp_bench: %s\n", st.message().c_str());
    return false;
  }
  if (offload && (!tx.gso_enabled() || !rx.gro_enabled())) {
    std::fprintf(stderr, "udp_bench: this kernel offers no UDP GSO/GRO\n");
    return false;
  }

  std::atomic<bool> done{false};
  uint64_t received = 0;
  std::thread receiver([&] {
    while (!done.load(std::memory_order_relaxed)) {
      pollfd p{rx.fd(), POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      for (;;) {
        SysStatus r = rx.receive();
        if (!r.is_ok()) {
          if (!r.would_block()) std::fprintf(stderr, "udp_bench: %s\n", r.message().c_str());
          break;
        }
        for (size_t i = 0; i < rx.received_count(); ++i) received += rx.received(i).datagram_count();
      }
    }
  });

  std::vector<uint8_t> data(batch * kDatagram, 0x5a);
  SendBatch b;
  b.peer = rx.local_address();
  b.data = Bytes(data.data(), data.size());
  b.segment_size = kDatagram;
  b.ecn = Ecn::kEct0;
  uint64_t sent = 0;
  const uint64_t start = now_us();
  const uint64_t end = start + static_cast<uint64_t>(seconds * 1e6);
  bool ok = true;
  while (now_us() < end) {
    size_t n = 0;
    st = tx.send(b, &n);
    sent += n;
    if (st.would_block()) {
      pollfd p{tx.fd(), POLLOUT, 0};
      poll(&p, 1, 10);
    } else if (!st.is_ok()) {
      std::fprintf(stderr, "udp_bench: %s\n", st.message().c_str());
      ok = false;
      break;
    }
  }
  const uint64_t elapsed = now_us() - start;
  // What is still queued on loopback arrives within moments.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  done = true;
  receiver.join();
  out->sent_gbps = gbps(sent * kDatagram, elapsed);
  out->received_gbps = gbps(received * kDatagram, elapsed);
  out->loss_percent = sent ? 100.0 * static_cast<double>(sent - received) / static_cast<double>(sent) : 0;
  return ok;
}

}  // namespace
}  // namespace quicbed

int main(int argc, char** argv) {
  double seconds = 2;
  size_t batch = 64;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) {
      batch = static_cast<size_t>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: udp_bench [--seconds N] [--batch DATAGRAMS]\n");
      return 2;
    }
  }
  if (seconds <= 0 || batch == 0) {
    std::fprintf(stderr, "udp_bench: --seconds and --batch must be positive\n");
    return 2;
  }
  const quicbed::Mode modes[] = {
      {"one per syscall", false, true},
      {"sendmmsg/recvmmsg", false, false},
      {"GSO + GRO", true, false},
  };
  quicbed::Rates rates[3];
  for (size_t i = 0; i < 3; ++i)
    if (!quicbed::run(modes[i], seconds, batch, &rates[i])) return 1;
  std::printf("1200-byte datagrams over 127.0.0.1, batches of %zu, %.1f s each\n", batch, seconds);
  std::printf("%-20s %14s %14s %7s\n", "", "sent", "received", "loss");
  for (size_t i = 0; i < 3; ++i)
    std::printf("%-20s %7.2f Gbit/s %7.2f Gbit/s %5.1f %%\n", modes[i].name, rates[i].sent_gbps,
                rates[i].received_gbps, rates[i].loss_percent);
  const double plain = rates[1].received_gbps;
  const double single = rates[0].received_gbps;
  std::printf("GSO+GRO received / sendmmsg: %.1fx, / one per syscall: %.1fx\n",
              plain > 0 ? rates[2].received_gbps / plain : 0.0, single > 0 ? rates[2].received_gbps / single : 0.0);
  return 0;
}
