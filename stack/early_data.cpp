#include "early_data.h"

namespace quicbed {

TransportParameters remembered_for_zero_rtt(const TransportParameters& server) {
  TransportParameters r = server;
  const TransportParameters defaults{};
  r.ack_delay_exponent = defaults.ack_delay_exponent;
  r.max_ack_delay = defaults.max_ack_delay;
  r.has_original_destination_connection_id = false;
  r.original_destination_connection_id = ConnectionId();
  r.has_initial_source_connection_id = false;
  r.initial_source_connection_id = ConnectionId();
  r.has_retry_source_connection_id = false;
  r.retry_source_connection_id = ConnectionId();
  r.has_preferred_address = false;
  r.preferred_address = TransportParameters::PreferredAddress();
  r.has_stateless_reset_token = false;
  for (uint8_t& b : r.stateless_reset_token) b = 0;
  return r;
}

Status check_zero_rtt_limits(const TransportParameters& remembered, const TransportParameters& current) {
  const struct {
    uint64_t TransportParameters::*field;
    const char* reason;
  } kLimits[] = {
      {&TransportParameters::active_connection_id_limit, "0-RTT accepted with a smaller active_connection_id_limit"},
      {&TransportParameters::initial_max_data, "0-RTT accepted with a smaller initial_max_data"},
      {&TransportParameters::initial_max_stream_data_bidi_local,
       "0-RTT accepted with a smaller initial_max_stream_data_bidi_local"},
      {&TransportParameters::initial_max_stream_data_bidi_remote,
       "0-RTT accepted with a smaller initial_max_stream_data_bidi_remote"},
      {&TransportParameters::initial_max_stream_data_uni, "0-RTT accepted with a smaller initial_max_stream_data_uni"},
      {&TransportParameters::initial_max_streams_bidi, "0-RTT accepted with a smaller initial_max_streams_bidi"},
      {&TransportParameters::initial_max_streams_uni, "0-RTT accepted with a smaller initial_max_streams_uni"},
      {&TransportParameters::max_datagram_frame_size, "0-RTT accepted with a smaller max_datagram_frame_size"},
  };
  for (const auto& l : kLimits) {
    if (current.*l.field < remembered.*l.field) return Status(ErrorCode::kProtocolViolation, l.reason);
  }
  return Status::ok();
}

}  // namespace quicbed
