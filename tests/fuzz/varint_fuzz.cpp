// RFC 9000 §16 variable-length integers: whatever the input, read_varint
// either fails or returns a value that write_varint encodes back to the
// same bytes when the encoding was the shortest, and that fits 62 bits.
#include <cstdint>
#include <cstdlib>

#include "varint.h"

using namespace quicbed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(Bytes(data, size));
  while (!r.empty()) {
    const size_t start = r.position();
    auto v = read_varint(r);
    if (!v) break;
    if (*v > kVarintMax) abort();
    const size_t len = r.position() - start;
    if (len != varint_len_from_first(data[start])) abort();
    uint8_t out[8];
    Writer fixed{MutBytes(out, sizeof out)};
    if (!write_varint_fixed(fixed, *v, len).is_ok()) abort();  // any value fits its own length
    if (!bytes_equal(fixed.written(), Bytes(data + start, len))) abort();
    Writer shortest{MutBytes(out, sizeof out)};
    if (!write_varint(shortest, *v).is_ok() || shortest.position() != varint_size(*v)) abort();
    Reader back(shortest.written());
    auto again = read_varint(back);
    if (!again || *again != *v || !back.empty()) abort();
  }
  return 0;
}
