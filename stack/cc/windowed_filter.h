// The running maximum of a value over a sliding window of "time" (rounds,
// cycles or microseconds: any non-decreasing counter), kept in three
// samples after Kathleen Nichols' algorithm (the best, second and third
// best of successively later sub-windows), so it needs no sample history.
// BBR uses it for the ACK aggregation estimate (draft-ietf-ccwg-bbr §5.5.9).
#pragma once

#include <cstdint>

namespace quicbed {

class WindowedMax {
 public:
  explicit WindowedMax(uint64_t window) : window_(window) {}

  uint64_t get() const { return s_[0].value; }

  // A sample of `value` at `time`; returns the new maximum.
  uint64_t update(uint64_t value, uint64_t time) {
    const Sample v{value, time};
    // A new maximum, or the window has passed the best sample altogether.
    if (!primed_ || value >= s_[0].value || time - s_[2].time > window_) {
      primed_ = true;
      s_[0] = s_[1] = s_[2] = v;
      return value;
    }
    if (value >= s_[1].value) {
      s_[1] = s_[2] = v;
    } else if (value >= s_[2].value) {
      s_[2] = v;
    }
    // The best sample aged out: promote the later ones.
    const uint64_t age = time - s_[0].time;
    if (age > window_) {
      s_[0] = s_[1];
      s_[1] = s_[2];
      s_[2] = v;
      if (time - s_[0].time > window_) {
        s_[0] = s_[1];
        s_[1] = s_[2];
      }
    } else if (s_[1].time == s_[0].time && age > window_ / 4) {
      // A quarter of the window passed with no second choice: take one.
      s_[1] = s_[2] = v;
    } else if (s_[2].time == s_[1].time && age > window_ / 2) {
      s_[2] = v;
    }
    return s_[0].value;
  }

  void reset() { primed_ = false, s_[0] = s_[1] = s_[2] = Sample{}; }

 private:
  struct Sample {
    uint64_t value = 0;
    uint64_t time = 0;
  };
  uint64_t window_;
  bool primed_ = false;
  Sample s_[3];
};

}  // namespace quicbed
