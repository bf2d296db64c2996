// The userspace host's event loop: epoll over file descriptors with read
// callbacks (and a one-shot "writable again" callback for a socket whose
// send buffer filled), one deadline timer in microseconds of CLOCK_MONOTONIC
// (the QUIC engine's next timeout), and a clean stop on SIGINT/SIGTERM
// through a signalfd. Single-threaded: callbacks run on the thread in run()
// and may add or remove descriptors, rearm the timer or stop the loop.
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sys_status.h"

namespace quicbed {

// Microseconds of CLOCK_MONOTONIC: the time the core is handed.
uint64_t now_us();

class EventLoop {
 public:
  using Callback = std::function<void()>;
  static constexpr uint64_t kNoDeadline = UINT64_MAX;

  EventLoop() = default;
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  SysStatus open();

  // Calls on_readable while `fd` is readable or has a pending error (level
  // triggered: the callback should read until EAGAIN). A callback may be
  // called spuriously and must accept EAGAIN.
  SysStatus add_reader(int fd, Callback on_readable);
  SysStatus remove_reader(int fd);
  // Calls on_writable once, the next time `fd` (already a reader) can be
  // written: for a sender that got EAGAIN.
  SysStatus notify_writable(int fd, Callback on_writable);

  // The one timer: on_timer runs once when now_us() reaches the deadline;
  // setting a deadline replaces the previous one, kNoDeadline cancels it.
  // A deadline in the past fires on the next loop iteration.
  void set_timer_callback(Callback on_timer) { on_timer_ = std::move(on_timer); }
  void set_deadline(uint64_t deadline_us) { deadline_ = deadline_us; }
  uint64_t deadline() const { return deadline_; }

  // Blocks SIGINT and SIGTERM for this thread (do it before starting other
  // threads, which inherit the mask) and stops the loop when one arrives.
  // The old mask comes back when the loop is destroyed.
  SysStatus stop_on_signals();
  int last_signal() const { return last_signal_; }

  // What a one-socket program needs: open(), stop_on_signals(), `fd` as a
  // reader and the timer callback.
  SysStatus open_for_socket(int fd, Callback on_readable, Callback on_timer);

  // Dispatches until stop(); returns the first failure of epoll itself.
  SysStatus run();
  // Dispatches ready descriptors and the timer, waiting at most until the
  // deadline or `max_wait_us` (0: just poll), whichever comes first.
  SysStatus run_once(uint64_t max_wait_us);
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

 private:
  struct Watch {
    int fd;
    Callback on_readable;
    Callback on_writable;  // armed while non-empty (EPOLLOUT)
  };
  Watch* find(int fd);
  SysStatus update_events(const Watch& w);
  void on_signal();

  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  sigset_t old_mask_{};
  int last_signal_ = 0;
  bool stopped_ = false;
  uint64_t deadline_ = kNoDeadline;
  Callback on_timer_;
  // Stable addresses: a callback running while the vector grows or shrinks
  // stays alive; removed watches are freed after the dispatch round.
  std::vector<std::unique_ptr<Watch>> watches_;
  std::vector<std::unique_ptr<Watch>> removed_;
};

}  // namespace quicbed
