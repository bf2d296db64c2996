// Integer arithmetic helpers. The core has no floating point (the kernel
// forbids FPU use, and integers make simulations bit-reproducible), so rates,
// gains and roots are computed here in integers. 128-bit multiplication is
// fine in the kernel; 128-bit division is not (__udivti3 does not exist
// there), so mul_div divides by long division on 64-bit halves.
#pragma once

#include <cstdint>
#include <limits>

namespace quicbed {

inline constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

// Bits set; std::popcount would call __popcountdi2 without -mpopcnt.
constexpr unsigned popcount64(uint64_t v) {
  v = v - ((v >> 1) & 0x5555555555555555ULL);
  v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
  v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<unsigned>((v * 0x0101010101010101ULL) >> 56);
}

// Index of the highest set bit plus one (0 for 0).
constexpr unsigned bit_width64(uint64_t v) { return v ? 64u - static_cast<unsigned>(__builtin_clzll(v)) : 0u; }

constexpr uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
constexpr uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
constexpr uint64_t sat_add(uint64_t a, uint64_t b) { return a > kU64Max - b ? kU64Max : a + b; }
constexpr uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

// floor(a * b / d), saturating at 2^64-1; d == 0 saturates too.
constexpr uint64_t mul_div(uint64_t a, uint64_t b, uint64_t d) {
  if (d == 0) return kU64Max;
  unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  uint64_t hi = static_cast<uint64_t>(p >> 64);
  uint64_t lo = static_cast<uint64_t>(p);
  if (hi == 0) return lo / d;
  if (hi >= d) return kU64Max;  // quotient does not fit in 64 bits
  // Restoring division of the 128-bit (hi:lo) by d, one bit at a time; hi < d
  // keeps the running remainder below 2^64 * 2.
  uint64_t q = 0, r = hi;
  for (int i = 63; i >= 0; --i) {
    bool carry = (r >> 63) != 0;
    r = (r << 1) | ((lo >> i) & 1);
    q <<= 1;
    if (carry || r >= d) {
      r -= d;
      q |= 1;
    }
  }
  return q;
}

// floor(sqrt(v)).
constexpr uint64_t isqrt(uint64_t v) {
  uint64_t r = 0;
  for (uint64_t bit = uint64_t{1} << 62; bit; bit >>= 2) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
  }
  return r;
}

// floor(cbrt(v)), bit by bit (CUBIC's K, RFC 9438 §4.2, needs a cube root).
constexpr uint64_t icbrt(uint64_t v) {
  uint64_t y = 0;
  for (int s = 63; s >= 0; s -= 3) {
    y <<= 1;
    uint64_t b = 3 * y * (y + 1) + 1;
    if ((v >> s) >= b) {
      v -= b << s;
      ++y;
    }
  }
  return y;
}

// Unsigned fixed point with F fractional bits, for gains and ratios such as
// BBR's pacing gain or CUBIC's beta.
template <unsigned F>
struct UFixed {
  static_assert(F > 0 && F < 32);
  static constexpr uint64_t kOne = uint64_t{1} << F;
  uint64_t raw = 0;

  static constexpr UFixed from_int(uint64_t v) { return UFixed{v << F}; }
  // num/den as fixed point, e.g. ratio(7, 10) for 0.7.
  static constexpr UFixed ratio(uint64_t num, uint64_t den) { return UFixed{mul_div(num, kOne, den)}; }
  // floor(v * this).
  constexpr uint64_t scale(uint64_t v) const { return mul_div(v, raw, kOne); }
  constexpr uint64_t to_int() const { return raw >> F; }
  constexpr UFixed operator*(UFixed o) const { return UFixed{mul_div(raw, o.raw, kOne)}; }
  constexpr bool operator==(const UFixed&) const = default;
};

}  // namespace quicbed
