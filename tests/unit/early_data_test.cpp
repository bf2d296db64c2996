// 0-RTT's transport parameter rules (RFC 9000 §7.4.1): what a client
// remembers, and which reductions an accepted 0-RTT forbids.
#include "early_data.h"

#include <gtest/gtest.h>

#include <string>

namespace quicbed {
namespace {

TransportParameters server_params() {
  TransportParameters tp;
  tp.has_original_destination_connection_id = true;
  tp.original_destination_connection_id.len = 8;
  tp.has_initial_source_connection_id = true;
  tp.initial_source_connection_id.len = 8;
  tp.has_stateless_reset_token = true;
  tp.stateless_reset_token[0] = 0x42;
  tp.has_preferred_address = true;
  tp.ack_delay_exponent = 10;
  tp.max_ack_delay = 100;
  tp.max_idle_timeout = 30000;
  tp.initial_max_data = 1 << 20;
  tp.initial_max_stream_data_bidi_local = 1000;
  tp.initial_max_stream_data_bidi_remote = 2000;
  tp.initial_max_stream_data_uni = 3000;
  tp.initial_max_streams_bidi = 100;
  tp.initial_max_streams_uni = 3;
  tp.active_connection_id_limit = 4;
  tp.max_datagram_frame_size = 1200;
  return tp;
}

TEST(EarlyData, RememberedKeepsLimitsAndDropsConnectionSpecifics) {
  const TransportParameters r = remembered_for_zero_rtt(server_params());
  // §7.4.1: never remembered.
  EXPECT_FALSE(r.has_original_destination_connection_id);
  EXPECT_FALSE(r.has_initial_source_connection_id);
  EXPECT_FALSE(r.has_stateless_reset_token);
  EXPECT_EQ(r.stateless_reset_token[0], 0);
  EXPECT_FALSE(r.has_preferred_address);
  EXPECT_EQ(r.ack_delay_exponent, TransportParameters::kDefaultAckDelayExponent);
  EXPECT_EQ(r.max_ack_delay, TransportParameters::kDefaultMaxAckDelay);
  // Everything else is kept.
  EXPECT_EQ(r.initial_max_data, 1u << 20);
  EXPECT_EQ(r.initial_max_streams_bidi, 100u);
  EXPECT_EQ(r.initial_max_stream_data_uni, 3000u);
  EXPECT_EQ(r.max_idle_timeout, 30000u);
  EXPECT_EQ(r.max_datagram_frame_size, 1200u);
}

TEST(EarlyData, EqualOrLargerLimitsAreCompatible) {
  const TransportParameters a = server_params();
  EXPECT_TRUE(check_zero_rtt_limits(a, a).is_ok());
  TransportParameters more = a;
  more.initial_max_data *= 2;
  more.initial_max_streams_uni += 1;
  // Parameters outside the list may change either way.
  more.max_idle_timeout = 1;
  EXPECT_TRUE(check_zero_rtt_limits(a, more).is_ok());
}

TEST(EarlyData, EachReducedLimitIsAProtocolViolation) {
  uint64_t TransportParameters::*fields[] = {
      &TransportParameters::active_connection_id_limit,        &TransportParameters::initial_max_data,
      &TransportParameters::initial_max_stream_data_bidi_local, &TransportParameters::initial_max_stream_data_bidi_remote,
      &TransportParameters::initial_max_stream_data_uni,        &TransportParameters::initial_max_streams_bidi,
      &TransportParameters::initial_max_streams_uni,            &TransportParameters::max_datagram_frame_size,
  };
  const TransportParameters remembered = server_params();
  for (auto field : fields) {
    TransportParameters now = remembered;
    now.*field -= 1;
    const Status s = check_zero_rtt_limits(remembered, now);
    EXPECT_EQ(s.code(), ErrorCode::kProtocolViolation);
    EXPECT_NE(std::string(s.reason()).find("0-RTT accepted with a smaller"), std::string::npos);
  }
}

}  // namespace
}  // namespace quicbed
