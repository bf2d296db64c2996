// Versions end to end: compatible negotiation from version 1 to version 2
// (RFC 9368 §2.3, RFC 9369), a client starting in version 2, a client's
// answer to Version Negotiation (RFC 9000 §6.2) and the version_information
// checks against downgrades (RFC 9368 §4), with the wire checked as the
// interop runner's "v2" test does.
#include <gtest/gtest.h>

#include "endpoint_pair.h"
#include "initial_packets.h"
#include "version.h"

namespace quicbed::test {
namespace {

class VersionNegotiationTest : public EndpointPairTest {
 protected:
  void SetUp() override {
    EndpointPairTest::SetUp();
    drop_to_server = [this](uint32_t id, const Buf& d) {
      from_client_[id].push_back(d);
      return drop_client_datagrams_ > 0 && (--drop_client_datagrams_, true);
    };
  }

  static void prefer(uint32_t (&list)[kMaxVersions], std::initializer_list<uint32_t> versions) {
    size_t i = 0;
    for (uint32_t v : versions) list[i++] = v;
    while (i < kMaxVersions) list[i++] = 0;
  }

  // Long header packets of a datagram: (type, version) each.
  static std::vector<std::pair<PacketType, uint32_t>> long_packets(const Buf& d) {
    std::vector<std::pair<PacketType, uint32_t>> out;
    Bytes rest = bytes_of(d);
    while (!rest.empty()) {
      auto h = parse_packet_header(rest, HeaderParseOptions{8, true});
      if (!h || h->form != HeaderForm::kLong) break;
      out.emplace_back(h->type, h->version);
      rest = rest.subspan(h->packet_length);
    }
    return out;
  }

  std::map<uint32_t, std::vector<Buf>> from_client_;
  int drop_client_datagrams_ = 0;
};

// The runner's "v2" test case: client Initials v1, server Initials v2,
// every Handshake packet v2; both ends speak v2.
TEST_F(VersionNegotiationTest, ServerMovesAVersion1ClientToVersion2) {
  prefer(config_.versions, {kVersion2, kVersion1});
  start_server();
  TestClient& c = add_client(kVersion1, [&](ConnectionConfig& cc) { prefer(cc.versions, {kVersion1, kVersion2}); });
  run_until([&] { return all_confirmed(); }, 2 * kSec);
  ASSERT_TRUE(c.conn->handshake_confirmed()) << "closed 0x" << std::hex << c.events.error_code << " "
                                             << c.events.reason;
  EXPECT_EQ(c.conn->version(), kVersion2);
  ASSERT_EQ(host_.accepted_events.size(), 1u);
  EXPECT_EQ(host_.accepted_events[0]->conn->version(), kVersion2);
  // RFC 9368 §4: the server's Chosen Version is the one in use.
  ASSERT_TRUE(c.conn->peer_params().has_version_information);
  EXPECT_EQ(c.conn->peer_params().version_information.chosen_version, kVersion2);

  int client_initials = 0, server_initials = 0, handshakes = 0;
  for (const Buf& d : from_client_[c.id]) {
    for (auto [type, version] : long_packets(d)) {
      if (type == PacketType::kInitial) {
        // The first flight is v1; later ones follow the server.
        EXPECT_EQ(version, client_initials == 0 ? kVersion1 : kVersion2);
        ++client_initials;
      }
      if (type == PacketType::kHandshake) {
        EXPECT_EQ(version, kVersion2);
        ++handshakes;
      }
    }
  }
  for (const Sent& s : sent_by_server_) {
    for (auto [type, version] : long_packets(s.bytes)) {
      EXPECT_EQ(version, kVersion2);
      server_initials += type == PacketType::kInitial;
      handshakes += type == PacketType::kHandshake;
    }
  }
  EXPECT_GE(client_initials, 1);
  EXPECT_GE(server_initials, 1);
  EXPECT_GE(handshakes, 2);
  // The server's Initial opens with the v2 keys of the client's DCID.
  auto first_client = open_initial(crypto_, from_client_[c.id][0], true);
  ASSERT_TRUE(first_client.has_value());
  auto first_server = open_initial(crypto_, sent_by_server_[0].bytes, false, bytes_of(first_client->dcid));
  ASSERT_TRUE(first_server.has_value());
  EXPECT_EQ(first_server->version, kVersion2);
}

// A client that does not list v2 stays in v1; one that starts in v2 gets v2.
TEST_F(VersionNegotiationTest, NoMoveWithoutTheClientsConsentAndDirectVersion2) {
  prefer(config_.versions, {kVersion2, kVersion1});
  start_server();
  TestClient& v1_only = add_client(kVersion1, [&](ConnectionConfig& cc) { prefer(cc.versions, {kVersion1}); });
  TestClient& v2 = add_client(kVersion2);
  run_until([&] { return all_confirmed(); }, 2 * kSec);
  ASSERT_TRUE(all_confirmed());
  EXPECT_EQ(v1_only.conn->version(), kVersion1);
  EXPECT_EQ(v2.conn->version(), kVersion2);
  for (const Buf& d : from_client_[v2.id]) {
    for (auto [type, version] : long_packets(d)) EXPECT_EQ(version, kVersion2);
  }
}

// RFC 9000 §6.2, RFC 9368 §2.1: a server that speaks only v2 answers a v1
// Initial with Version Negotiation; the client starts again in v2, and the
// server's version_information confirms that was the right choice.
TEST_F(VersionNegotiationTest, VersionNegotiationThenRestartInVersion2) {
  prefer(config_.versions, {kVersion2});
  start_server();
  TestClient& first = add_client(kVersion1, [&](ConnectionConfig& cc) { prefer(cc.versions, {kVersion1, kVersion2}); });
  run_until([&] { return first.conn->is_terminated(); }, kSec);
  ASSERT_TRUE(first.conn->is_terminated());
  EXPECT_EQ(first.conn->restart_version(), kVersion2);
  EXPECT_EQ(first.events.error_code, static_cast<uint64_t>(ErrorCode::kVersionNegotiationError));
  EXPECT_EQ(endpoint_->stats().version_negotiations_sent, 1u);

  TestClient& second = add_client(kVersion2, [&](ConnectionConfig& cc) {
    prefer(cc.versions, {kVersion1, kVersion2});
    cc.vn_original_version = kVersion1;
  });
  run_until([&] { return second.conn->handshake_confirmed() || second.conn->is_terminated(); }, now_ + 2 * kSec);
  EXPECT_TRUE(second.conn->handshake_confirmed()) << "closed 0x" << std::hex << second.events.error_code << " "
                                                  << second.events.reason;
  EXPECT_EQ(second.conn->version(), kVersion2);
}

// RFC 9000 §6.2: a Version Negotiation packet listing the version the
// client attempted is discarded.
TEST_F(VersionNegotiationTest, VersionNegotiationListingOurVersionIsIgnored) {
  start_server();
  TestClient& c = add_client();
  step();
  auto h = parse_packet_header(bytes_of(from_client_[c.id][0]), HeaderParseOptions{8, true});
  ASSERT_TRUE(h.is_ok());
  Buf vn = forge_version_negotiation(h->scid, h->dcid, {kVersion2, kVersion1});
  c.conn->receive_datagram(MutBytes(vn.data(), vn.size()), DatagramInfo{}, now_);
  EXPECT_FALSE(c.conn->is_terminated());
  // Nor one whose CIDs do not echo ours (RFC 8999 §6).
  const Buf other = {9, 9, 9, 9, 9, 9, 9, 9};
  Buf stray = forge_version_negotiation(bytes_of(other), h->dcid, {kVersion2});
  c.conn->receive_datagram(MutBytes(stray.data(), stray.size()), DatagramInfo{}, now_);
  EXPECT_FALSE(c.conn->is_terminated());
  run_until([&] { return all_confirmed(); }, 2 * kSec);
  EXPECT_TRUE(c.conn->handshake_confirmed());
  EXPECT_EQ(c.conn->restart_version(), 0u);
  EXPECT_EQ(c.events.closes, 0);
}

// RFC 9368 §4: an attacker's Version Negotiation packet (v2 only) makes
// the client leave v1, which it prefers and the server speaks. The
// server's Available Versions in the new attempt show it:
// VERSION_NEGOTIATION_ERROR.
TEST_F(VersionNegotiationTest, ForgedVersionNegotiationIsADowngrade) {
  // The server speaks both, v2 first (so it does not move the new attempt
  // back to v1 itself, which would undo the downgrade, RFC 9368 §2.3).
  prefer(config_.versions, {kVersion2, kVersion1});
  start_server();
  TestClient& first = add_client(kVersion1, [&](ConnectionConfig& cc) { prefer(cc.versions, {kVersion1, kVersion2}); });
  drop_client_datagrams_ = 1;  // the server never sees the first attempt
  step();
  ASSERT_EQ(from_client_[first.id].size(), 1u);
  auto h = parse_packet_header(bytes_of(from_client_[first.id][0]), HeaderParseOptions{8, true});
  ASSERT_TRUE(h.is_ok());
  Buf vn = forge_version_negotiation(h->scid, h->dcid, {0x1a2a3a4a, kVersion2});
  first.conn->receive_datagram(MutBytes(vn.data(), vn.size()), DatagramInfo{}, now_);
  ASSERT_TRUE(first.conn->is_terminated());
  ASSERT_EQ(first.conn->restart_version(), kVersion2);

  TestClient& second = add_client(kVersion2, [&](ConnectionConfig& cc) {
    prefer(cc.versions, {kVersion1, kVersion2});
    cc.vn_original_version = kVersion1;
  });
  run_until([&] { return second.events.closes > 0; }, now_ + 2 * kSec);
  EXPECT_EQ(second.events.closes, 1);
  EXPECT_EQ(second.events.error_code, 0x11u);  // VERSION_NEGOTIATION_ERROR
  EXPECT_EQ(second.events.reason, "version downgrade: the server supports a preferred version");
  EXPECT_FALSE(second.conn->handshake_complete());
  // A restarted attempt takes no second Version Negotiation (RFC 9368 §4).
  Buf again = forge_version_negotiation(bytes_of(Buf(8, 1)), bytes_of(Buf(8, 2)), {kVersion1});
  second.conn->receive_datagram(MutBytes(again.data(), again.size()), DatagramInfo{}, now_);
  EXPECT_EQ(second.conn->restart_version(), 0u);
}

// RFC 9368 §2.3: a forged v2 Initial (it cannot authenticate) does not
// move the client; the genuine v1 handshake goes on.
TEST_F(VersionNegotiationTest, ForgedInitialOfAnotherVersionDoesNotMoveTheClient) {
  start_server();
  TestClient& c = add_client(kVersion1, [&](ConnectionConfig& cc) { prefer(cc.versions, {kVersion1, kVersion2}); });
  step();
  auto h = parse_packet_header(bytes_of(from_client_[c.id][0]), HeaderParseOptions{8, true});
  ASSERT_TRUE(h.is_ok());
  Buf forged(1200, 0x42);
  Writer w{MutBytes(forged.data(), forged.size())};
  LongHeader lh;
  lh.type = PacketType::kInitial;
  lh.version = kVersion2;
  lh.dcid = h->scid;
  const Buf forged_scid(8, 0x33);
  lh.scid = bytes_of(forged_scid);
  lh.pn_len = 2;
  auto layout = write_long_header(w, lh);
  ASSERT_TRUE(layout.is_ok());
  ASSERT_TRUE(write_length_field(MutBytes(forged.data(), forged.size()), layout->length_offset,
                                 forged.size() - layout->pn_offset)
                  .is_ok());
  c.conn->receive_datagram(MutBytes(forged.data(), forged.size()), DatagramInfo{}, now_);
  EXPECT_EQ(c.conn->version(), kVersion1);
  run_until([&] { return all_confirmed(); }, 2 * kSec);
  EXPECT_TRUE(c.conn->handshake_confirmed());
  EXPECT_EQ(c.conn->version(), kVersion1);
}

TEST(VersionChoice, CompatibleChoiceAndFirstCommon) {
  const uint32_t server[] = {kVersion2, kVersion1};
  const uint32_t client_both[] = {kVersion1, kVersion2};
  const uint32_t client_v1[] = {kVersion1};
  EXPECT_EQ(compatible_version_choice(kVersion1, server, client_both), kVersion2);
  EXPECT_EQ(compatible_version_choice(kVersion1, server, client_v1), kVersion1);
  const uint32_t server_v1_first[] = {kVersion1, kVersion2};
  EXPECT_EQ(compatible_version_choice(kVersion1, server_v1_first, client_both), kVersion1);
  const uint32_t offered[] = {0x0a0a0a0a, kVersion2};
  EXPECT_EQ(first_common_version(std::span<const uint32_t>(client_both), std::span<const uint32_t>(offered)),
            kVersion2);
  const uint32_t reserved_only[] = {0x1a2a3a4a};
  const uint32_t prefs_with_reserved[] = {0x1a2a3a4a};
  EXPECT_EQ(first_common_version(std::span<const uint32_t>(prefs_with_reserved),
                                 std::span<const uint32_t>(reserved_only)),
            0u);
  for (uint32_t r : {0u, 0xffffffffu, 0x12345678u}) EXPECT_TRUE(is_reserved_version(greased_version(r)));
}

}  // namespace
}  // namespace quicbed::test
