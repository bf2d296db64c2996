// Packet headers (RFC 9000 §17, RFC 9369, RFC 8999) as received: every
// coalesced packet of a datagram parses or is dropped, and what parses
// stays inside the input. The first input byte picks the length of the
// connection IDs a short header carries and whether a greased fixed bit is
// accepted; the rest is the datagram.
#include <cstdint>
#include <cstdlib>

#include "packet.h"

using namespace quicbed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const HeaderParseOptions opts{static_cast<size_t>(data[0] % (kMaxCidLen + 1)), (data[0] & 0x80) != 0};
  Bytes in(data + 1, size - 1);
  size_t pos = 0;
  while (pos < in.size()) {
    auto h = parse_packet_header(in.subspan(pos), opts);
    if (!h) break;
    const size_t left = in.size() - pos;
    if (h->packet_length == 0 || h->packet_length > left) abort();
    if (h->dcid.size() > kMaxInvariantCidLen || h->scid.size() > kMaxInvariantCidLen) abort();
    if (h->form == HeaderForm::kLong && h->version == kVersionNegotiationVersion) {
      // Every listed version is readable, and the list is what was sent.
      size_t n = 0;
      for (uint32_t v : h->versions) n += h->versions.contains(v) ? 1 : 0;
      if (n != h->versions.size() || h->versions.raw().size() % 4 != 0) abort();
    } else if (!h->has_invariants_only() && h->type != PacketType::kRetry) {
      if (h->pn_offset > h->packet_length) abort();  // protection removal checks the rest
      // The truncated packet number is unreadable until header protection
      // is removed; decode arbitrary bits of this length against an
      // arbitrary largest: the low bits always come back (§A.3).
      const size_t pn_len = pn_length_from_first_byte(h->first_byte);
      const uint64_t mask = (uint64_t{1} << (8 * pn_len)) - 1;
      const uint64_t truncated = h->length & mask;
      const uint64_t pn = decode_packet_number(h->length == 0 ? kNoPacketNumber : h->length, truncated, pn_len);
      if ((pn & mask) != truncated) abort();
    }
    pos += h->packet_length;
  }
  return 0;
}
