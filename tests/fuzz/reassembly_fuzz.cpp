// Stream reassembly (RFC 9000 §2.2, §4.5, §19.6) under any sequence of
// inserts, reads and consumes, with small limits so that the window, the
// segment bound and the final size rules are all reached. Byte k of the
// stream is always pattern(k), so every byte read back is checked; every
// failed insert must leave the buffer as it was; at the end every byte
// allocated has been returned.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "malloc_allocator.h"
#include "reassembly.h"
#include "varint.h"

using namespace quicbed;

namespace {

uint8_t pattern(uint64_t k) { return static_cast<uint8_t>(k * 31 + (k >> 8)); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MallocAllocator alloc;
  {
    Reader r(Bytes(data, size));
    auto limits_byte = r.u8();
    if (!limits_byte) return 0;
    const ReassemblyBuffer::Limits limits{uint64_t{1} << (10 + (*limits_byte & 7)),
                                          size_t{1} + ((*limits_byte >> 3) & 15), ErrorCode::kFlowControlError};
    ReassemblyBuffer buf(alloc, limits);
    std::vector<uint8_t> chunk;
    while (!r.empty()) {
      const uint8_t op = *r.u8();
      auto a = read_varint(r);
      if (!a) break;
      switch (op & 3) {
        case 0:
        case 1: {
          // Offsets mostly near what was read, so that data overlaps.
          const uint64_t offset = (op & 0x80) ? *a : buf.read_offset() + (*a & 0x3fff);
          const size_t len = (op >> 2) & 0x10 ? (op >> 2) & 0x0f : ((op >> 2) & 0x1f) * 97;
          if (offset > kVarintMax - len) break;
          chunk.resize(len);
          for (size_t i = 0; i < len; ++i) chunk[i] = pattern(offset + i);
          const uint64_t read_before = buf.read_offset();
          const uint64_t readable_before = buf.readable();
          const uint64_t end_before = buf.received_end();
          const bool fin_before = buf.final_size_known();
          Status s = buf.insert(offset, Bytes(chunk.data(), chunk.size()), (op & 0x40) != 0);
          if (!s.is_ok()) {
            const ErrorCode c = s.code();
            if (c != ErrorCode::kFinalSizeError && c != ErrorCode::kFlowControlError && c != ErrorCode::kLimitExceeded)
              abort();
            if (buf.read_offset() != read_before || buf.readable() != readable_before ||
                buf.received_end() != end_before || buf.final_size_known() != fin_before)
              abort();
          }
          break;
        }
        case 2: {
          uint8_t out[3000];
          const size_t want = *a % sizeof out;
          const uint64_t at = buf.read_offset();
          const size_t got = buf.read(MutBytes(out, want));
          if (got > want) abort();
          for (size_t i = 0; i < got; ++i)
            if (out[i] != pattern(at + i)) abort();
          break;
        }
        default: {
          const Bytes peek = buf.peek();
          for (size_t i = 0; i < peek.size(); ++i)
            if (peek[i] != pattern(buf.read_offset() + i)) abort();
          if (peek.size() > buf.readable()) abort();
          buf.consume(*a % (buf.readable() + 1));
          break;
        }
      }
      if (buf.final_size_known() && (buf.read_offset() > buf.final_size() || buf.received_end() > buf.final_size()))
        abort();
      if (buf.read_offset() + buf.readable() > buf.received_end()) abort();
    }
  }
  if (alloc.bytes_in_use() != 0) abort();
  return 0;
}
