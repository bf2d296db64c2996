// A program built outside the tree against an installed quicbed (see
// check.sh): the core's headers and archive, the userspace host's GnuTLS
// backend, and the host hooks the core calls. It derives the RFC 9001 A.1
// client Initial secret and round-trips a varint; exit 0 when both match.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "keys.h"
#include "userspace/gnutls_crypto.h"
#include "varint.h"

int main() {
  using namespace quicbed;
  GnutlsCrypto crypto;
  const uint8_t dcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  auto secrets = derive_initial_secrets(crypto, *version_crypto(kVersion1), Bytes(dcid, sizeof dcid));
  if (!secrets.is_ok()) return 1;
  const uint8_t expected[] = {0xc0, 0x0c, 0xf1, 0x51, 0xca, 0x5b, 0xe0, 0x75};  // RFC 9001 A.1
  if (std::memcmp(secrets.value().client.data, expected, sizeof expected) != 0) return 2;

  uint8_t buf[8];
  Writer w(MutBytes(buf, sizeof buf));
  if (!write_varint(w, 151288809941952652u).is_ok()) return 3;  // RFC 9000 A.1's 8-byte example
  Reader r(Bytes(buf, sizeof buf));
  auto v = read_varint(r);
  if (!v.is_ok() || v.value() != 151288809941952652u) return 4;
  std::puts("installed quicbed links");
  return 0;
}
