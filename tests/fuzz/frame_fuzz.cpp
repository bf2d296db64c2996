// Frames (RFC 9000 §19, RFC 9221 §4): the input is a packet payload, parsed
// frame by frame until the first error. Every frame that parses is written
// back by write_frame and parses again to the same encoding (the parser's
// rules and the writer's agree), ACK ranges walk in descending order, and
// check_frame_permitted answers for every packet type. One target reaches
// every frame type through the type byte; with QUICBED_FUZZ_FRAME_TYPES set
// in the environment it prints at exit how many frames of each type parsed,
// which is how the README's coverage claim is measured.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "frame.h"
#include "packet_type.h"

using namespace quicbed;

namespace {

struct TypeCounts {
  uint64_t parsed[256] = {};
  ~TypeCounts() {
    if (!getenv("QUICBED_FUZZ_FRAME_TYPES")) return;
    int reached = 0;
    for (int t = 0; t < 256; ++t) {
      if (!parsed[t]) continue;
      ++reached;
      fprintf(stderr, "frame type 0x%02x: %llu\n", t, static_cast<unsigned long long>(parsed[t]));
    }
    fprintf(stderr, "frame types reached: %d\n", reached);
  }
};
TypeCounts counts;

Bytes rewrite(const Frame& f, uint8_t* buf, size_t cap) {
  const size_t n = frame_size(f);
  if (n == 0 || n > cap) abort();  // what parsed must be encodable
  Writer w{MutBytes(buf, n)};
  if (!write_frame(w, f).is_ok() || w.position() != n) abort();
  return Bytes(buf, n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uint8_t first[1 << 17];
  static uint8_t second[1 << 17];
  Reader r(Bytes(data, size));
  while (!r.empty()) {
    auto f = parse_frame(r);
    if (!f) break;
    ++counts.parsed[static_cast<uint8_t>(f->type)];
    for (PacketType p : {PacketType::kInitial, PacketType::kZeroRtt, PacketType::kHandshake, PacketType::kOneRtt})
      (void)check_frame_permitted(f->type, p);
    if (f->type == FrameType::kAck || f->type == FrameType::kAckEcn) {
      uint64_t n = 0;
      uint64_t below = ~uint64_t{0};
      for (Range range : f->ack.ranges()) {
        if (range.hi > f->ack.largest_acked || range.lo > range.hi) abort();
        if (n > 0 && range.hi + 1 >= below) abort();  // descending, with a gap between
        below = range.lo;
        ++n;
      }
      if (n != f->ack.range_count + 1) abort();
    }
    const Bytes once = rewrite(*f, first, sizeof first);
    Reader again(once);
    auto g = parse_frame(again);
    if (!g || g->type != f->type || !again.empty()) abort();
    if (!bytes_equal(rewrite(*g, second, sizeof second), once)) abort();
  }
  return 0;
}
