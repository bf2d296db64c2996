// quic.ko's reading of a ClientHello's ALPN list (kmod/core/client_hello.h),
// which dispatches a new connection to a listener before any TLS runs:
// hellos built by hand after RFC 8446 §4.1.2 and RFC 7301 §3.1, and the
// malformed ones it must refuse without reading past them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client_hello.h"

namespace quicbed::test {
namespace {

using Buf = std::vector<uint8_t>;

void put16(Buf& b, size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

// A ClientHello whose extensions are `exts` (each already encoded).
Buf hello(const Buf& exts, bool with_extensions = true) {
  Buf body = {0x03, 0x03};
  body.resize(body.size() + 32, 0xaa);  // random
  body.push_back(0);                    // legacy_session_id
  put16(body, 2);
  body.push_back(0x13);
  body.push_back(0x01);  // TLS_AES_128_GCM_SHA256
  body.push_back(1);
  body.push_back(0);  // null compression
  if (with_extensions) {
    put16(body, exts.size());
    body.insert(body.end(), exts.begin(), exts.end());
  }
  Buf msg = {1, 0};
  put16(msg, body.size());
  msg.insert(msg.end(), body.begin(), body.end());
  return msg;
}

Buf extension(uint16_t type, const Buf& data) {
  Buf e;
  put16(e, type);
  put16(e, data.size());
  e.insert(e.end(), data.begin(), data.end());
  return e;
}

Buf alpn_ext(const std::vector<std::string>& names) {
  Buf list;
  for (const std::string& n : names) {
    list.push_back(static_cast<uint8_t>(n.size()));
    list.insert(list.end(), n.begin(), n.end());
  }
  Buf data;
  put16(data, list.size());
  data.insert(data.end(), list.begin(), list.end());
  return extension(16, data);
}

std::string alpns_of(const Buf& msg, size_t cap = 64) {
  Buf out(cap);
  Result<size_t> r = kmod::client_hello_alpns(Bytes(msg.data(), msg.size()), MutBytes(out.data(), out.size()));
  if (!r.is_ok()) return "error";
  return std::string(out.begin(), out.begin() + static_cast<long>(*r));
}

TEST(ClientHelloAlpnTest, ListsTheOfferedProtocolsInOrder) {
  Buf exts = extension(0x39, {1, 2, 3});  // quic_transport_parameters first
  Buf a = alpn_ext({"h3", "hq-interop"});
  exts.insert(exts.end(), a.begin(), a.end());
  EXPECT_EQ(alpns_of(hello(exts)), "h3,hq-interop");
}

TEST(ClientHelloAlpnTest, NoAlpnIsAnEmptyList) {
  EXPECT_EQ(alpns_of(hello(extension(0x39, {1}))), "");
  EXPECT_EQ(alpns_of(hello({}, false)), "");
}

TEST(ClientHelloAlpnTest, RefusesWhatIsNotAWholeWellFormedHello) {
  Buf whole = hello(alpn_ext({"h3"}));
  Buf truncated(whole.begin(), whole.end() - 1);  // spans a later packet
  EXPECT_EQ(alpns_of(truncated), "error");
  Buf server_hello = whole;
  server_hello[0] = 2;
  EXPECT_EQ(alpns_of(server_hello), "error");
  EXPECT_EQ(alpns_of(hello(alpn_ext({""}))), "error");  // RFC 7301: names are 1..255 bytes
  EXPECT_EQ(alpns_of(hello(alpn_ext({}))), "error");    // and the list is not empty
  // An extension length running past the extensions block.
  Buf bad = hello(alpn_ext({"h3"}));
  bad[bad.size() - 6] = 0x7f;
  EXPECT_EQ(alpns_of(bad), "error");
  EXPECT_EQ(alpns_of(Buf{}), "error");
}

TEST(ClientHelloAlpnTest, RefusesAListLongerThanTheBuffer) {
  EXPECT_EQ(alpns_of(hello(alpn_ext({"h3", "hq-interop"})), 5), "error");
  EXPECT_EQ(alpns_of(hello(alpn_ext({"h3", "hq-interop"})), 13), "h3,hq-interop");
}

}  // namespace
}  // namespace quicbed::test
