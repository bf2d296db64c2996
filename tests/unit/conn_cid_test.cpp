// Connection IDs between a real client and server Connection (RFC 9000
// §5.1): the spare CIDs each side issues after the handshake, their
// stateless reset tokens derived from a host key (§10.3.2, reset_token.h),
// the events an endpoint routes by, retirement and replacement, and loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "conn_pair.h"
#include "hex.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

class ConnCidTest : public ConnPairTest {
 protected:
  void SetUp() override {
    ConnPairTest::SetUp();
    server_key_.assign(kResetKeyLen, 0x11);
    client_key_.assign(kResetKeyLen, 0x22);
    server_.config.reset_key = server_key_.data();
    client_.config.reset_key = client_key_.data();
  }

  std::string token_of(const Buf& key, const ConnectionId& cid) {
    uint8_t t[kStatelessResetTokenLen];
    EXPECT_TRUE(derive_reset_token(client_.crypto, bytes_of(key), cid.view(), MutBytes(t)).is_ok());
    return to_hex(Bytes(t, sizeof t));
  }
  static std::vector<std::string> hex_of(const std::vector<ConnectionId>& cids) {
    std::vector<std::string> out;
    for (const ConnectionId& c : cids) out.push_back(to_hex(c.view()));
    return out;
  }
  static std::vector<std::string> peer_cids_of(const Connection& c) {
    std::vector<std::string> out;
    for (const PeerCid& p : c.peer_cids().cids()) out.push_back(to_hex(p.cid.view()));
    return out;
  }
  // The Destination Connection ID of a datagram's short header packet.
  // After the handshake and the NEW_CONNECTION_ID frames: the server's CIDs.
  std::vector<ConnectionId> settled() {
    handshake();
    run_for(100 * kMs);
    return server_.events.cids_issued;
  }

  // The client writes on a new stream; every datagram it sends for it is
  // addressed to `dcid`.
  void expect_data_to(const ConnectionId& dcid) {
    auto id = client_.conn->open_stream(StreamDir::kBidi);
    ASSERT_TRUE(id.is_ok());
    ASSERT_TRUE(client_.conn->stream_write(*id, bytes_of(Buf{1, 2, 3}), true).is_ok());
    const size_t first = sent_[kToServer].size();
    run_for(200 * kMs);
    ASSERT_GT(sent_[kToServer].size(), first);
    for (size_t i = first; i < sent_[kToServer].size(); ++i) {
      EXPECT_EQ(short_dcid(sent_[kToServer][i], 8), to_hex(dcid.view()));
    }
  }

  static std::string short_dcid(const Buf& datagram, size_t cid_len) {
    auto h = parse_packet_header(bytes_of(datagram), HeaderParseOptions{cid_len, false});
    if (!h || h->form != HeaderForm::kShort) return "";
    return to_hex(h->dcid);
  }

  Buf server_key_;
  Buf client_key_;
};

TEST_F(ConnCidTest, SpareCidsWithDerivedTokens) {
  handshake();
  expect_established();
  run_for(100 * kMs);
  // Each side reports its handshake CID and, after the handshake, the
  // peer's active_connection_id_limit (4) less one more (§5.1.1).
  ASSERT_EQ(server_.events.cids_issued.size(), 4u);
  ASSERT_EQ(client_.events.cids_issued.size(), 4u);
  auto server_initial = parse_packet_header(bytes_of(sent_[kToClient][0]), HeaderParseOptions{});
  auto client_initial = parse_packet_header(bytes_of(sent_[kToServer][0]), HeaderParseOptions{});
  ASSERT_TRUE(server_initial.is_ok() && client_initial.is_ok());
  EXPECT_EQ(to_hex(server_.events.cids_issued[0].view()), to_hex(server_initial->scid));
  EXPECT_EQ(to_hex(client_.events.cids_issued[0].view()), to_hex(client_initial->scid));
  // The peer holds them all, in the order issued (sequence numbers 0-3).
  EXPECT_EQ(peer_cids_of(*client_.conn), hex_of(server_.events.cids_issued));
  EXPECT_EQ(peer_cids_of(*server_.conn), hex_of(client_.events.cids_issued));
  // Every token is the one a stateless endpoint computes from the CID: the
  // server's stateless_reset_token parameter for sequence 0 (§18.2), the
  // NEW_CONNECTION_ID frames' for the others.
  ASSERT_TRUE(client_.conn->peer_params().has_stateless_reset_token);
  EXPECT_EQ(to_hex(Bytes(client_.conn->peer_params().stateless_reset_token, kStatelessResetTokenLen)),
            token_of(server_key_, server_.events.cids_issued[0]));
  for (const PeerCid& p : client_.conn->peer_cids().cids()) {
    EXPECT_TRUE(p.has_token);
    EXPECT_EQ(to_hex(p.token()), token_of(server_key_, p.cid)) << p.sequence;
  }
  for (const PeerCid& p : server_.conn->peer_cids().cids()) {
    // A client's handshake CID has no token (§10.3: clients send no
    // stateless_reset_token); the ones it issued have.
    EXPECT_EQ(p.has_token, p.sequence != 0);
    if (p.has_token) {
      EXPECT_EQ(to_hex(p.token()), token_of(client_key_, p.cid)) << p.sequence;
    }
  }
  for (const LocalCid& c : server_.conn->local_cids().cids()) {
    if (c.sequence) {
      EXPECT_EQ(to_hex(c.token()), token_of(server_key_, c.cid));
    }
  }
  EXPECT_TRUE(server_.events.cids_retired.empty());

  // A host that lost the server's state answers the client with a
  // Stateless Reset made from the key alone, and the client drains (§10.3.1).
  const std::string dcid = short_dcid(sent_[kToServer].back(), 8);
  ASSERT_EQ(dcid, to_hex(server_.events.cids_issued[0].view()));
  uint8_t token[kStatelessResetTokenLen];
  const Buf dcid_bytes = from_hex(dcid);
  ASSERT_TRUE(derive_reset_token(server_.crypto, bytes_of(server_key_), bytes_of(dcid_bytes), MutBytes(token)).is_ok());
  Buf unpredictable(40, 0x5c), reset(60);
  Writer w{MutBytes(reset.data(), reset.size())};
  auto n = write_stateless_reset(w, 100, bytes_of(unpredictable), Bytes(token, sizeof token));
  ASSERT_TRUE(n.is_ok());
  reset.resize(*n);
  deliver(kToClient, reset);
  EXPECT_EQ(client_.conn->state(), Connection::State::kDraining);
  EXPECT_EQ(client_.events.source, CloseInfo::Source::kStatelessReset);
}

TEST_F(ConnCidTest, WithoutResetKeyTokensAreRandom) {
  server_.config.reset_key = nullptr;
  handshake();
  run_for(100 * kMs);
  ASSERT_EQ(client_.conn->peer_cids().cids().size(), 4u);
  for (const PeerCid& p : client_.conn->peer_cids().cids()) {
    EXPECT_TRUE(p.has_token);
    EXPECT_NE(to_hex(p.token()), token_of(server_key_, p.cid));
  }
}

TEST_F(ConnCidTest, RetiredCidIsReplaced) {
  handshake();
  run_for(100 * kMs);
  ASSERT_TRUE(client_.conn->change_peer_cid().is_ok());
  const std::vector<ConnectionId> issued = server_.events.cids_issued;
  ASSERT_EQ(issued.size(), 4u);
  // Data flows on, to the server's next CID (sequence 1).
  expect_data_to(issued[1]);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_FALSE(server_.events.readable.empty());
  // The server heard the RETIRE_CONNECTION_ID for sequence 0: the endpoint
  // stops routing it, and a replacement (sequence 4) went to the client.
  EXPECT_EQ(hex_of(server_.events.cids_retired), hex_of({issued[0]}));
  ASSERT_EQ(server_.events.cids_issued.size(), 5u);
  EXPECT_EQ(peer_cids_of(*client_.conn), hex_of({issued[1], issued[2], issued[3], server_.events.cids_issued[4]}));
  EXPECT_EQ(client_.conn->peer_cids().pending_retirements(), 0u);  // acknowledged
  EXPECT_EQ(server_.conn->local_cids().cids().size(), 4u);
  // Rotating through every spare CID keeps the set full.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(client_.conn->change_peer_cid().is_ok()) << i;
    run_for(100 * kMs);
  }
  EXPECT_EQ(server_.events.cids_retired.size(), 7u);
  EXPECT_EQ(server_.events.cids_issued.size(), 11u);
  EXPECT_EQ(client_.conn->peer_cids().cids().size(), 4u);
  expect_established();
}

TEST_F(ConnCidTest, ChangeNeedsConfirmationAndASpareCid) {
  client_.config.params.active_connection_id_limit = 2;  // the server issues one spare
  start();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(client_.conn->change_peer_cid().code(), ErrorCode::kInvalidArgument);
  run_until([&] { return confirmed(); }, 10 * kSec);
  run_for(100 * kMs);
  ASSERT_EQ(server_.events.cids_issued.size(), 2u);
  ASSERT_TRUE(client_.conn->change_peer_cid().is_ok());
  // The replacement has not arrived yet: no spare CID.
  EXPECT_EQ(client_.conn->change_peer_cid().code(), ErrorCode::kLimitExceeded);
  run_for(100 * kMs);
  EXPECT_TRUE(client_.conn->change_peer_cid().is_ok());
  expect_established();
}

TEST_F(ConnCidTest, UsePeerCidRetiresTheOnesBelow) {
  const std::vector<ConnectionId> issued = settled();
  ASSERT_EQ(issued.size(), 4u);
  EXPECT_EQ(client_.conn->use_peer_cid(99).code(), ErrorCode::kInvalidArgument);
  // RFC 9000 §5.1.2: sequence 2 in use, 0 and 1 retired.
  ASSERT_TRUE(client_.conn->use_peer_cid(2).is_ok());
  EXPECT_EQ(client_.conn->peer_cids().current()->sequence, 2u);
  EXPECT_EQ(client_.conn->use_peer_cid(0).code(), ErrorCode::kInvalidArgument);
  expect_data_to(issued[2]);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(hex_of(server_.events.cids_retired), hex_of({issued[0], issued[1]}));
  // Two replacements keep the client's set full.
  EXPECT_EQ(server_.events.cids_issued.size(), 6u);
  EXPECT_EQ(client_.conn->peer_cids().cids().size(), 4u);
  expect_established();
}

TEST_F(ConnCidTest, RetireLocalCidsAsksThePeer) {
  const std::vector<ConnectionId> issued = settled();
  ASSERT_EQ(issued.size(), 4u);
  // Retire Prior To 2 (§5.1.2): the client retires 0 and 1 and moves to 2.
  ASSERT_TRUE(server_.conn->retire_local_cids(2).is_ok());
  EXPECT_EQ(server_.conn->retire_local_cids(2).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(server_.conn->retire_local_cids(99).code(), ErrorCode::kInvalidArgument);
  auto id = client_.conn->open_stream(StreamDir::kBidi);
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(client_.conn->stream_write(*id, bytes_of(Buf{1, 2, 3}), true).is_ok());
  run_for(200 * kMs);
  // In either order (the current one goes last).
  auto retired = hex_of(server_.events.cids_retired);
  std::sort(retired.begin(), retired.end());
  auto want = hex_of({issued[0], issued[1]});
  std::sort(want.begin(), want.end());
  EXPECT_EQ(retired, want);
  EXPECT_EQ(client_.conn->peer_cids().current()->sequence, 2u);
  EXPECT_EQ(server_.events.cids_issued.size(), 6u);
  EXPECT_FALSE(server_.events.readable.empty());
  expect_established();
}

TEST_F(ConnCidTest, LostNewConnectionIdIsSentAgain) {
  // Every server datagram sent at 30 ms is lost: the one answering the
  // client's Finished, with HANDSHAKE_DONE and the NEW_CONNECTION_ID frames.
  filter_ = [](Dir d, size_t, uint64_t t) {
    return Verdict{d == kToClient && t == 3 * kOneWayDelay ? Verdict::Fate::kDrop : Verdict::Fate::kDeliver, 0};
  };
  handshake();
  expect_established();
  ASSERT_EQ(std::count(sent_at_[kToClient].begin(), sent_at_[kToClient].end(), 3 * kOneWayDelay), 1);
  run_for(2 * kSec);
  EXPECT_EQ(peer_cids_of(*client_.conn), hex_of(server_.events.cids_issued));
  EXPECT_EQ(client_.conn->peer_cids().cids().size(), 4u);
  expect_established();
}

TEST_F(ConnCidTest, ZeroLengthCidsIssueNone) {
  client_.config.cid_len = 0;
  handshake();
  run_for(100 * kMs);
  EXPECT_TRUE(client_.events.cids_issued.empty());
  EXPECT_EQ(server_.conn->peer_cids().cids().size(), 1u);
  EXPECT_EQ(server_.events.cids_issued.size(), 4u);
  expect_established();
}

}  // namespace
}  // namespace quicbed
