// Transport parameters (RFC 9000 §18, §7.4; RFC 9368 §3): the input is an
// extension body, parsed as sent by a client and by a server. What parses
// serializes again, and that encoding parses back to equal parameters.
#include <cstdint>
#include <cstdlib>

#include "packet.h"
#include "transport_params.h"

using namespace quicbed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (Role sender : {Role::kClient, Role::kServer}) {
    auto tp = TransportParameters::parse(Bytes(data, size), sender);
    if (!tp) {
      if (tp.status().code() != ErrorCode::kTransportParameterError) abort();
      continue;
    }
    if (!tp->validate(sender).is_ok()) abort();
    // A list cut at kMaxAvailable is refused by serialize() on purpose.
    // Reserved versions are not kept (RFC 9368 §3), so a chosen version
    // that is reserved was only found listed in the wire list.
    if (tp->has_version_information && (tp->version_information.available_truncated ||
                                        is_reserved_version(tp->version_information.chosen_version)))
      continue;
    static uint8_t buf[1 << 16];
    Writer w{MutBytes(buf, sizeof buf)};
    if (!tp->serialize(w, sender).is_ok()) abort();
    auto back = TransportParameters::parse(w.written(), sender);
    if (!back || !(*back == *tp)) abort();
  }
  return 0;
}
