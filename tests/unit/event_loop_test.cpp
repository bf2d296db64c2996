#include "event_loop.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

#include "udp_socket.h"

namespace quicbed {
namespace {

bool signal_blocked(int sig) {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, sig) == 1;
}

TEST(EventLoop, NowIsMonotonicMicroseconds) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t before = static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
  const uint64_t a = now_us();
  usleep(2000);
  const uint64_t b = now_us();
  EXPECT_GE(a, before);
  EXPECT_LT(a - before, 1000000u);
  EXPECT_GE(b - a, 2000u);
}

// The timer callback rearms the timer, as the QUIC engine does with its
// next timeout: deadlines fire in order, never early.
TEST(EventLoop, TimerFiresInOrderAndNotEarly) {
  EventLoop loop;
  ASSERT_TRUE(loop.open().is_ok());
  const uint64_t start = now_us();
  const uint64_t steps[] = {3000, 1000, 5000, 0, 2000};  // gaps between deadlines
  std::vector<uint64_t> deadlines;
  std::vector<uint64_t> fired;
  uint64_t d = start;
  for (uint64_t s : steps) deadlines.push_back(d += s);
  loop.set_timer_callback([&] {
    const uint64_t now = now_us();
    fired.push_back(now);
    EXPECT_EQ(loop.deadline(), EventLoop::kNoDeadline);  // consumed before the call
    if (fired.size() < deadlines.size()) loop.set_deadline(deadlines[fired.size()]);
    else loop.stop();
  });
  loop.set_deadline(deadlines[0]);
  SysStatus st = loop.run();
  ASSERT_TRUE(st.is_ok()) << st.message();
  ASSERT_EQ(fired.size(), deadlines.size());
  for (size_t i = 0; i < fired.size(); ++i) {
    EXPECT_GE(fired[i], deadlines[i]) << i;
    if (i > 0) {
      EXPECT_GE(fired[i], fired[i - 1]) << i;
    }
  }
  // The loop does not oversleep by much (generous for a shared machine).
  EXPECT_LT(fired.back() - deadlines.back(), 200000u);
}

TEST(EventLoop, RearmingReplacesAndCancelStops) {
  EventLoop loop;
  ASSERT_TRUE(loop.open().is_ok());
  int fires = 0;
  loop.set_timer_callback([&] { ++fires; });
  const uint64_t start = now_us();
  loop.set_deadline(start + 10000000);  // 10 s, replaced by 5 ms
  loop.set_deadline(start + 5000);
  while (fires == 0) ASSERT_TRUE(loop.run_once(EventLoop::kNoDeadline).is_ok());
  const uint64_t took = now_us() - start;
  EXPECT_GE(took, 5000u);
  EXPECT_LT(took, 1000000u);
  EXPECT_EQ(loop.deadline(), EventLoop::kNoDeadline);

  loop.set_deadline(now_us() + 1000);
  loop.set_deadline(EventLoop::kNoDeadline);
  ASSERT_TRUE(loop.run_once(20000).is_ok());
  EXPECT_EQ(fires, 1);

  loop.set_deadline(0);  // in the past: fires without waiting
  ASSERT_TRUE(loop.run_once(0).is_ok());
  EXPECT_EQ(fires, 2);
}

TEST(EventLoop, DispatchesReadsToTheirCallbacks) {
  EventLoop loop;
  ASSERT_TRUE(loop.open().is_ok());
  UdpSocket a, b, tx;
  ASSERT_TRUE(a.open(SocketAddress::loopback(AddressFamily::kIPv4, 0)).is_ok());
  ASSERT_TRUE(b.open(SocketAddress::loopback(AddressFamily::kIPv6, 0)).is_ok());
  ASSERT_TRUE(tx.open(SocketAddress::loopback(AddressFamily::kIPv4, 0)).is_ok());
  UdpSocket tx6;
  ASSERT_TRUE(tx6.open(SocketAddress::loopback(AddressFamily::kIPv6, 0)).is_ok());
  size_t got_a = 0, got_b = 0;
  auto drain = [](UdpSocket& s, size_t* count) {
    for (;;) {
      SysStatus st = s.receive();
      if (st.would_block()) return;
      ASSERT_TRUE(st.is_ok()) << st.message();
      s.for_each_datagram([&](Bytes d, const ReceivedMessage&) {
        EXPECT_EQ(d.size(), 1200u);
        ++*count;
      });
    }
  };
  ASSERT_TRUE(loop.add_reader(a.fd(), [&] { drain(a, &got_a); }).is_ok());
  ASSERT_TRUE(loop.add_reader(b.fd(), [&] {
                    drain(b, &got_b);
                    if (got_a == 30 && got_b == 20) loop.stop();
                  }).is_ok());
  std::vector<uint8_t> data(30 * 1200);
  size_t sent = 0;
  SendBatch to_a;
  to_a.peer = a.local_address();
  to_a.data = Bytes(data.data(), 30 * 1200);
  to_a.segment_size = 1200;
  ASSERT_TRUE(tx.send(to_a, &sent).is_ok());
  SendBatch to_b = to_a;
  to_b.peer = b.local_address();
  to_b.data = Bytes(data.data(), 20 * 1200);
  // The second batch leaves from the timer, after the first was read.
  loop.set_timer_callback([&] { ASSERT_TRUE(tx6.send(to_b, &sent).is_ok()); });
  loop.set_deadline(now_us() + 2000);
  // A failsafe: no test waits forever.
  ASSERT_TRUE(loop.run_once(2000000).is_ok());
  EXPECT_EQ(got_a, 30u);
  EXPECT_EQ(got_b, 0u);
  const uint64_t give_up = now_us() + 2000000;
  while (!loop.stopped() && now_us() < give_up) ASSERT_TRUE(loop.run_once(100000).is_ok());
  EXPECT_EQ(got_a, 30u);
  EXPECT_EQ(got_b, 20u);
}

TEST(EventLoop, CallbackMayRemoveDescriptors) {
  EventLoop loop;
  ASSERT_TRUE(loop.open().is_ok());
  int p1[2], p2[2];
  ASSERT_EQ(pipe(p1), 0);
  ASSERT_EQ(pipe(p2), 0);
  int calls1 = 0, calls2 = 0;
  // Whichever runs first removes both; the other must not run.
  ASSERT_TRUE(loop.add_reader(p1[0], [&] {
                    ++calls1;
                    EXPECT_TRUE(loop.remove_reader(p1[0]).is_ok());
                    EXPECT_TRUE(loop.remove_reader(p2[0]).is_ok());
                  }).is_ok());
  ASSERT_TRUE(loop.add_reader(p2[0], [&] {
                    ++calls2;
                    EXPECT_TRUE(loop.remove_reader(p1[0]).is_ok());
                    EXPECT_TRUE(loop.remove_reader(p2[0]).is_ok());
                  }).is_ok());
  ASSERT_EQ(write(p1[1], "x", 1), 1);
  ASSERT_EQ(write(p2[1], "y", 1), 1);
  ASSERT_TRUE(loop.run_once(1000000).is_ok());
  EXPECT_EQ(calls1 + calls2, 1);
  ASSERT_TRUE(loop.run_once(0).is_ok());
  EXPECT_EQ(calls1 + calls2, 1);
  for (int fd : {p1[0], p1[1], p2[0], p2[1]}) close(fd);
}

TEST(EventLoop, WritableNotificationFiresOnce) {
  EventLoop loop;
  ASSERT_TRUE(loop.open().is_ok());
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  int reads = 0, writables = 0;
  ASSERT_TRUE(loop.add_reader(p[1], [&] { ++reads; }).is_ok());
  ASSERT_TRUE(loop.notify_writable(p[1], [&] { ++writables; }).is_ok());
  ASSERT_TRUE(loop.run_once(1000000).is_ok());
  EXPECT_EQ(writables, 1);
  ASSERT_TRUE(loop.run_once(0).is_ok());
  EXPECT_EQ(writables, 1);
  EXPECT_EQ(reads, 0);
  close(p[0]);
  close(p[1]);
}

TEST(EventLoop, MisuseIsReported) {
  EventLoop loop;
  EXPECT_EQ(loop.add_reader(0, [] {}).err(), EBADF);
  EXPECT_EQ(loop.run_once(0).err(), EBADF);
  EXPECT_EQ(loop.stop_on_signals().err(), EBADF);
  ASSERT_TRUE(loop.open().is_ok());
  EXPECT_EQ(loop.open().err(), EBUSY);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_TRUE(loop.add_reader(p[0], [] {}).is_ok());
  EXPECT_EQ(loop.add_reader(p[0], [] {}).err(), EEXIST);
  EXPECT_EQ(loop.remove_reader(p[1]).err(), ENOENT);
  EXPECT_EQ(loop.notify_writable(p[1], [] {}).err(), ENOENT);
  SysStatus bad = loop.add_reader(-1, [] {});
  EXPECT_EQ(bad.err(), EBADF);
  EXPECT_EQ(bad.message(), "epoll_ctl(ADD): Bad file descriptor (EBADF)");
  close(p[0]);
  close(p[1]);
}

// The process signals itself; the loop stops cleanly instead of dying, and
// the signal mask is restored afterwards.
TEST(EventLoop, StopsOnSignalSentToItself) {
  for (int sig : {SIGTERM, SIGINT}) {
    ASSERT_FALSE(signal_blocked(sig));
    {
      EventLoop loop;
      ASSERT_TRUE(loop.open().is_ok());
      ASSERT_TRUE(loop.stop_on_signals().is_ok());
      EXPECT_TRUE(signal_blocked(SIGINT));
      EXPECT_TRUE(signal_blocked(SIGTERM));
      bool signalled = false;
      loop.set_timer_callback([&] {
        if (signalled) return loop.stop();  // the failsafe
        signalled = true;
        ASSERT_EQ(kill(getpid(), sig), 0);
        loop.set_deadline(now_us() + 5000000);
      });
      loop.set_deadline(now_us() + 1000);
      const uint64_t start = now_us();
      SysStatus st = loop.run();
      ASSERT_TRUE(st.is_ok()) << st.message();
      EXPECT_LT(now_us() - start, 4000000u);  // not the failsafe
      EXPECT_EQ(loop.last_signal(), sig);
      // A second signal while stopped is swallowed at destruction.
      kill(getpid(), sig);
    }
    EXPECT_FALSE(signal_blocked(sig));
  }
}

}  // namespace
}  // namespace quicbed
