#include "siphash.h"

namespace quicbed {
namespace {

constexpr uint64_t rotl(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

uint64_t load_le64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

struct State {
  uint64_t v0, v1, v2, v3;

  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  // Two compression rounds per 8-byte word: the "2" of SipHash-2-4.
  void absorb(uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

SipKey SipKey::from_bytes(const uint8_t bytes[16]) { return SipKey{load_le64(bytes, 8), load_le64(bytes + 8, 8)}; }

uint64_t siphash24(const SipKey& key, Bytes data) {
  // The initialization constants spell "somepseudorandomlygeneratedbytes".
  State s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL, key.k0 ^ 0x6c7967656e657261ULL,
          key.k1 ^ 0x7465646279746573ULL};
  const size_t whole = data.size() - data.size() % 8;
  for (size_t i = 0; i < whole; i += 8) s.absorb(load_le64(data.data() + i, 8));
  // The last word: the remaining bytes, and the input length mod 256 in the
  // top byte.
  s.absorb(load_le64(data.data() + whole, data.size() - whole) | uint64_t{data.size() & 0xff} << 56);
  // Four finalization rounds: the "4".
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace quicbed
