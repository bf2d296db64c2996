// The transport-parameter rows of the malformed-input matrix: one side's
// quic_transport_parameters extension is rewritten on its way into TLS
// (the spy's tamper hook) to break one rule of RFC 9000 §7.3, §7.4 or
// §18.2, and the other side must close the handshake with
// TRANSPORT_PARAMETER_ERROR, which its peer then hears. Each rule is
// checked from the server's side (a client sends the bad list) and, where
// it applies to servers, from the client's side.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "conn_pair.h"

namespace quicbed {
namespace {

using namespace quicbed::test;

using Tamper = std::function<void(Buf&)>;

void put_varint(Buf& b, uint64_t v) {
  uint8_t tmp[8];
  Writer w{MutBytes(tmp, sizeof tmp)};
  EXPECT_TRUE(write_varint(w, v).is_ok());
  b.insert(b.end(), tmp, tmp + w.position());
}

// The list without parameter `id` (§18: id, length, value, repeated).
void strip(Buf& b, uint64_t id) {
  Buf out;
  Reader r(bytes_of(b));
  while (!r.empty()) {
    const size_t start = r.position();
    auto pid = read_varint(r, ErrorCode::kTransportParameterError);
    auto len = read_varint(r, ErrorCode::kTransportParameterError);
    ASSERT_TRUE(pid.is_ok() && len.is_ok());
    ASSERT_TRUE(r.skip(*len).is_ok());
    if (*pid != id) out.insert(out.end(), b.begin() + start, b.begin() + r.position());
  }
  b = out;
}

Tamper add(uint64_t id, Buf value) {
  return [id, value](Buf& b) {
    put_varint(b, id);
    put_varint(b, value.size());
    b.insert(b.end(), value.begin(), value.end());
  };
}
Tamper add_varint(uint64_t id, uint64_t v) {
  Buf value;
  put_varint(value, v);
  return add(id, value);
}
// Parameter `id` replaced by one of `value` (or removed, with none).
Tamper replace(uint64_t id, std::optional<Buf> value = std::nullopt) {
  return [id, value](Buf& b) {
    strip(b, id);
    if (value) add(id, *value)(b);
  };
}
Tamper replace_varint(uint64_t id, uint64_t v) {
  Buf value;
  put_varint(value, v);
  return replace(id, value);
}
// A raw tail: an encoding the parser must refuse.
Tamper append_raw(Buf raw) {
  return [raw](Buf& b) { b.insert(b.end(), raw.begin(), raw.end()); };
}

// A preferred_address value (§18.2) with a CID of `cid_len` bytes.
Buf preferred_address(size_t cid_len) {
  Buf v = {127, 0, 0, 1, 0x11, 0x51};  // IPv4 address and port
  v.insert(v.end(), 16, 0);              // IPv6 address
  v.insert(v.end(), {0, 0});             // IPv6 port
  v.push_back(static_cast<uint8_t>(cid_len));
  v.insert(v.end(), cid_len, 0x77);
  v.insert(v.end(), 16, 0x88);  // stateless reset token
  return v;
}

struct Row {
  const char* name;
  const char* rule;
  Role sender;  // whose list is broken; the other side must refuse it
  Tamper tamper;
};
// gtest names a failing row by its name rather than its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.name << " (" << row.rule << ")"; }

class MalformedTransportParamsTest : public ConnPairTest, public ::testing::WithParamInterface<Row> {};

TEST_P(MalformedTransportParamsTest, PeerClosesWithTransportParameterError) {
  const Row& row = GetParam();
  create(server_);
  create(client_);
  ASSERT_FALSE(HasFatalFailure());
  Endpoint& sender = row.sender == Role::kClient ? client_ : server_;
  Endpoint& receiver = row.sender == Role::kClient ? server_ : client_;
  sender.tls->tamper = row.tamper;
  ASSERT_TRUE(server_.conn->init(now_).is_ok());
  ASSERT_TRUE(client_.conn->init(now_).is_ok());
  run_until([&] { return receiver.events.closes > 0 && sender.events.closes > 0; }, 5 * kSec);

  ASSERT_EQ(receiver.events.closes, 1) << row.rule << ": accepted";
  EXPECT_EQ(receiver.events.source, CloseInfo::Source::kLocal);
  EXPECT_EQ(receiver.events.error_code, 0x08u)
      << row.rule << ": closed with 0x" << std::hex << receiver.events.error_code << " (" << receiver.events.reason
      << ")";
  EXPECT_FALSE(receiver.conn->handshake_complete());
  ASSERT_EQ(sender.events.closes, 1) << row.rule << ": the peer heard no CONNECTION_CLOSE";
  EXPECT_EQ(sender.events.source, CloseInfo::Source::kPeer);
  EXPECT_EQ(sender.events.error_code, 0x08u);
}

constexpr auto kC = Role::kClient;
constexpr auto kS = Role::kServer;
constexpr uint64_t k2to60 = uint64_t{1} << 60;

const Row kRows[] = {
    // §18.2: parameters only a server may send.
    {"ClientSendsOriginalDcid", "RFC 9000 §18.2", kC, add(0x00, Buf(8, 0x11))},
    {"ClientSendsStatelessResetToken", "RFC 9000 §18.2", kC, add(0x02, Buf(16, 0x22))},
    {"ClientSendsPreferredAddress", "RFC 9000 §18.2", kC, add(0x0d, preferred_address(8))},
    {"ClientSendsRetrySourceCid", "RFC 9000 §18.2", kC, add(0x10, Buf(8, 0x33))},
    // §18.2: values out of range, from either side.
    {"MaxUdpPayloadBelow1200", "RFC 9000 §18.2", kC, replace_varint(0x03, 1199)},
    {"ServerMaxUdpPayloadBelow1200", "RFC 9000 §18.2", kS, replace_varint(0x03, 1199)},
    {"AckDelayExponentAbove20", "RFC 9000 §18.2", kC, replace_varint(0x0a, 21)},
    {"ServerAckDelayExponentAbove20", "RFC 9000 §18.2", kS, replace_varint(0x0a, 21)},
    {"MaxAckDelayAt2To14", "RFC 9000 §18.2", kC, replace_varint(0x0b, 1 << 14)},
    {"ServerMaxAckDelayAt2To14", "RFC 9000 §18.2", kS, replace_varint(0x0b, 1 << 14)},
    {"ActiveCidLimitBelow2", "RFC 9000 §18.2", kC, replace_varint(0x0e, 1)},
    {"ServerActiveCidLimitBelow2", "RFC 9000 §18.2", kS, replace_varint(0x0e, 1)},
    {"MaxStreamsBidiAbove2To60", "RFC 9000 §4.6", kC, replace_varint(0x08, k2to60 + 1)},
    {"ServerMaxStreamsUniAbove2To60", "RFC 9000 §4.6", kS, replace_varint(0x09, k2to60 + 1)},
    {"StatelessResetTokenOf15Bytes", "RFC 9000 §18.2", kS, replace(0x02, Buf(15, 0x22))},
    {"PreferredAddressWithEmptyCid", "RFC 9000 §18.2", kS, add(0x0d, preferred_address(0))},
    // §7.4: encoding.
    {"DuplicateParameter", "RFC 9000 §7.4", kC, add_varint(0x04, 1000)},
    {"ServerDuplicateParameter", "RFC 9000 §7.4", kS, add_varint(0x05, 1000)},
    {"ValueBeyondTheList", "RFC 9000 §7.4", kC, append_raw({0x04, 0x04, 0x80, 0x01})},
    {"ServerValueBeyondTheList", "RFC 9000 §7.4", kS, append_raw({0x04, 0x04, 0x80, 0x01})},
    {"LengthDisagreesWithVarint", "RFC 9000 §18", kC, replace(0x04, Buf{0x44, 0x00, 0x00})},
    {"TruncatedParameterId", "RFC 9000 §18", kS, append_raw({0x80, 0x00})},
    // §7.3: authenticating connection IDs.
    {"MissingInitialSourceCid", "RFC 9000 §7.3", kC, replace(0x0f)},
    {"InitialSourceCidMismatch", "RFC 9000 §7.3", kC, replace(0x0f, Buf(8, 0x44))},
    {"ServerMissingInitialSourceCid", "RFC 9000 §7.3", kS, replace(0x0f)},
    {"ServerInitialSourceCidMismatch", "RFC 9000 §7.3", kS, replace(0x0f, Buf(8, 0x44))},
    {"ServerMissingOriginalDcid", "RFC 9000 §7.3", kS, replace(0x00)},
    {"RetrySourceCidWithoutRetry", "RFC 9000 §7.3", kS, add(0x10, Buf(8, 0x33))},
};

INSTANTIATE_TEST_SUITE_P(Rfc9000, MalformedTransportParamsTest, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace quicbed
