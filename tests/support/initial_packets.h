// Reading and forging the packets anyone can read or make before a
// handshake: Initial packets (their keys come from the client's
// Destination Connection ID, RFC 9001 §5.2), Retry packets (RFC 9000
// §17.2.5, with the RFC 9001 §5.8 tag) and Version Negotiation packets
// (§17.2.1). Tests check what the wire shows, as the interop runner does.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "base/allocator.h"
#include "frame.h"
#include "keys.h"
#include "packet.h"
#include "protection.h"

namespace quicbed::test {

// The first packet of a datagram, if it is an Initial: its header fields,
// full packet number and plaintext frames. `from_client` chooses the keys
// ("client in" or "server in"); `client_dcid` is the DCID they come from
// (for the client's own Initials: the packet's DCID).
struct OpenedInitial {
  uint32_t version = 0;
  bool fixed_bit = true;
  std::vector<uint8_t> dcid, scid, token;
  uint64_t pn = 0;
  std::vector<uint8_t> payload;
};

inline std::optional<OpenedInitial> open_initial(CryptoBackend& crypto, std::vector<uint8_t> datagram,
                                                 bool from_client, Bytes client_dcid = Bytes()) {
  auto h = parse_packet_header(Bytes(datagram.data(), datagram.size()), HeaderParseOptions{8, true});
  if (!h || h->form != HeaderForm::kLong || h->type != PacketType::kInitial) return std::nullopt;
  OpenedInitial o;
  o.version = h->version;
  o.fixed_bit = (h->first_byte & 0x40) != 0;
  o.dcid.assign(h->dcid.begin(), h->dcid.end());
  o.scid.assign(h->scid.begin(), h->scid.end());
  o.token.assign(h->token.begin(), h->token.end());
  const Bytes key_dcid = client_dcid.empty() ? h->dcid : client_dcid;
  auto secrets = derive_initial_secrets(crypto, *version_crypto(h->version), key_dcid);
  if (!secrets) return std::nullopt;
  PacketProtection pp;
  const Secret& s = from_client ? secrets->client : secrets->server;
  if (!pp.init(crypto, kInitialSuite, *version_crypto(h->version), s.bytes())) return std::nullopt;
  MutBytes packet(datagram.data(), h->packet_length);
  auto pnf = pp.unprotect_header(packet, h->pn_offset);
  if (!pnf) return std::nullopt;
  // Tests look at the first few packets of a space: no truncation to undo.
  o.pn = pnf->truncated;
  auto payload = pp.open(packet, h->pn_offset + pnf->len, o.pn);
  if (!payload) return std::nullopt;
  o.payload.assign(payload->begin(), payload->end());
  return o;
}

// The CONNECTION_CLOSE in an opened packet's frames, if any.
inline std::optional<ConnectionCloseFrame> close_frame_of(const OpenedInitial& o) {
  Reader r(Bytes(o.payload.data(), o.payload.size()));
  while (!r.empty()) {
    auto f = parse_frame(r);
    if (!f) return std::nullopt;
    if (f->type == FrameType::kConnectionClose) return f->connection_close;
  }
  return std::nullopt;
}

// A Retry as a server would send it to a client whose first Initial was
// addressed to `odcid` from `client_scid`; `good_tag` false spoils the tag.
inline std::vector<uint8_t> forge_retry(CryptoBackend& crypto, Allocator& alloc, uint32_t version,
                                        Bytes client_scid, Bytes odcid, Bytes retry_scid, Bytes token,
                                        bool good_tag = true) {
  std::vector<uint8_t> out(256);
  Writer w{MutBytes(out.data(), out.size())};
  EXPECT_TRUE(write_retry_without_tag(w, version, 0, client_scid, retry_scid, token).is_ok());
  const size_t len = w.position();
  out.resize(len + kRetryIntegrityTagLen);
  EXPECT_TRUE(compute_retry_tag(crypto, alloc, *version_crypto(version), odcid, Bytes(out.data(), len),
                                MutBytes(out.data() + len, kRetryIntegrityTagLen))
                  .is_ok());
  if (!good_tag) out.back() ^= 1;
  return out;
}

// A Version Negotiation packet answering a client (its CIDs swapped).
inline std::vector<uint8_t> forge_version_negotiation(Bytes client_scid, Bytes client_dcid,
                                                      const std::vector<uint32_t>& versions) {
  std::vector<uint8_t> out(64 + 4 * versions.size());
  Writer w{MutBytes(out.data(), out.size())};
  EXPECT_TRUE(write_version_negotiation(w, 0x15, client_scid, client_dcid,
                                        std::span<const uint32_t>(versions.data(), versions.size()))
                  .is_ok());
  out.resize(w.position());
  return out;
}

}  // namespace quicbed::test
