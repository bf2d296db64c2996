// The outcome of a system call made by the userspace host: success, or the
// call that failed with its errno. Socket I/O needs the errno itself (EAGAIN
// means "later", ECONNREFUSED and EMSGSIZE mean different things to the
// QUIC endpoint), which the core's Status cannot carry.
#pragma once

#include <cerrno>
#include <string>

namespace quicbed {

class [[nodiscard]] SysStatus {
 public:
  constexpr SysStatus() = default;
  // `call` is a static string naming the step that failed ("sendmsg").
  constexpr SysStatus(const char* call, int err) : call_(call), err_(err) {}
  static SysStatus from_errno(const char* call) { return SysStatus(call, errno); }
  static constexpr SysStatus ok() { return SysStatus(); }

  constexpr bool is_ok() const { return err_ == 0; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr int err() const { return err_; }
  constexpr const char* call() const { return call_; }
  // Not a failure: the socket has nothing to read or no room to write now.
  constexpr bool would_block() const { return err_ == EAGAIN || err_ == EWOULDBLOCK; }

  // "sendmsg: Message too long (EMSGSIZE)", or "ok".
  std::string message() const;

 private:
  const char* call_ = "";
  int err_ = 0;
};

}  // namespace quicbed

// Propagate a failed SysStatus from an expression returning one.
#define QB_SYS_TRY(expr)                     \
  do {                                       \
    ::quicbed::SysStatus qb_ss_ = (expr);    \
    if (!qb_ss_.is_ok()) return qb_ss_;      \
  } while (0)
