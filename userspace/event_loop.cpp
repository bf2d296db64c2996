#include "event_loop.h"

#include <pthread.h>
#include <utility>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace quicbed {
namespace {

constexpr int kMaxEvents = 64;

}  // namespace

uint64_t now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

EventLoop::~EventLoop() {
  if (signal_fd_ >= 0) {
    // Consume what arrived after the stop, so restoring the mask does not
    // deliver it with its default action (termination).
    signalfd_siginfo info;
    while (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    close(signal_fd_);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

SysStatus EventLoop::open() {
  if (epoll_fd_ >= 0) return SysStatus("EventLoop::open: already open", EBUSY);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return SysStatus::from_errno("epoll_create1");
  return SysStatus::ok();
}

EventLoop::Watch* EventLoop::find(int fd) {
  for (auto& w : watches_)
    if (w->fd == fd) return w.get();
  return nullptr;
}

SysStatus EventLoop::update_events(const Watch& w) {
  epoll_event ev{};
  ev.events = EPOLLIN | (w.on_writable ? EPOLLOUT : 0u);
  ev.data.fd = w.fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, w.fd, &ev) != 0) return SysStatus::from_errno("epoll_ctl(MOD)");
  return SysStatus::ok();
}

SysStatus EventLoop::add_reader(int fd, Callback on_readable) {
  if (epoll_fd_ < 0) return SysStatus("add_reader: loop not open", EBADF);
  if (find(fd)) return SysStatus("add_reader: descriptor already watched", EEXIST);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return SysStatus::from_errno("epoll_ctl(ADD)");
  watches_.push_back(std::make_unique<Watch>(Watch{fd, std::move(on_readable), {}}));
  return SysStatus::ok();
}

SysStatus EventLoop::remove_reader(int fd) {
  auto it = std::find_if(watches_.begin(), watches_.end(), [fd](const auto& w) { return w->fd == fd; });
  if (it == watches_.end()) return SysStatus("remove_reader: descriptor not watched", ENOENT);
  removed_.push_back(std::move(*it));
  watches_.erase(it);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) != 0) return SysStatus::from_errno("epoll_ctl(DEL)");
  return SysStatus::ok();
}

SysStatus EventLoop::notify_writable(int fd, Callback on_writable) {
  Watch* w = find(fd);
  if (!w) return SysStatus("notify_writable: descriptor not watched (add_reader first)", ENOENT);
  w->on_writable = std::move(on_writable);
  return update_events(*w);
}

SysStatus EventLoop::open_for_socket(int fd, Callback on_readable, Callback on_timer) {
  SysStatus st = open();
  if (st.is_ok()) st = stop_on_signals();
  if (st.is_ok()) st = add_reader(fd, std::move(on_readable));
  if (st.is_ok()) set_timer_callback(std::move(on_timer));
  return st;
}

SysStatus EventLoop::stop_on_signals() {
  if (epoll_fd_ < 0) return SysStatus("stop_on_signals: loop not open", EBADF);
  if (signal_fd_ >= 0) return SysStatus::ok();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // Blocked signals stay pending, and the signalfd hands them to the loop.
  int err = pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
  if (err != 0) return SysStatus("pthread_sigmask", err);
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = signal_fd_;
  SysStatus st;
  if (signal_fd_ < 0) st = SysStatus::from_errno("signalfd");
  else if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev) != 0) st = SysStatus::from_errno("epoll_ctl(ADD signalfd)");
  if (!st.is_ok()) {
    if (signal_fd_ >= 0) close(signal_fd_);
    signal_fd_ = -1;
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  return st;
}

void EventLoop::on_signal() {
  signalfd_siginfo info;
  while (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    last_signal_ = static_cast<int>(info.ssi_signo);
    stopped_ = true;
  }
}

SysStatus EventLoop::run() {
  stopped_ = false;
  while (!stopped_) QB_SYS_TRY(run_once(kNoDeadline));
  return SysStatus::ok();
}

SysStatus EventLoop::run_once(uint64_t max_wait_us) {
  if (epoll_fd_ < 0) return SysStatus("run: loop not open", EBADF);
  uint64_t wait = max_wait_us;
  if (deadline_ != kNoDeadline) {
    const uint64_t now = now_us();
    wait = std::min(wait, deadline_ > now ? deadline_ - now : 0);
  }
  timespec timeout{static_cast<time_t>(wait / 1000000u), static_cast<long>(wait % 1000000u) * 1000};
  epoll_event events[kMaxEvents];
  // epoll_pwait2 (Linux 5.11) waits with nanosecond resolution, where
  // epoll_wait would round a pacing deadline to milliseconds.
  int n = epoll_pwait2(epoll_fd_, events, kMaxEvents, wait == kNoDeadline ? nullptr : &timeout, nullptr);
  if (n < 0 && errno != EINTR) return SysStatus::from_errno("epoll_pwait2");
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == signal_fd_) {
      on_signal();
      continue;
    }
    Watch* w = find(fd);
    if (w && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) w->on_readable();
    w = find(fd);  // the callback may have removed it
    if (w && (events[i].events & EPOLLOUT) && w->on_writable) {
      Callback cb = std::move(w->on_writable);
      w->on_writable = nullptr;
      QB_SYS_TRY(update_events(*w));
      cb();
    }
  }
  removed_.clear();
  if (deadline_ != kNoDeadline && now_us() >= deadline_) {
    deadline_ = kNoDeadline;  // fired: the callback rearms it
    if (on_timer_) on_timer_();
  }
  return SysStatus::ok();
}

}  // namespace quicbed
