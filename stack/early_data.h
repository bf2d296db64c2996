// 0-RTT's transport parameter rules (RFC 9000 §7.4.1, RFC 9001 §4.6):
// which of the server's parameters a client remembers with a session
// ticket, and whether the parameters of a later handshake keep the
// promises 0-RTT data was sent under.
#pragma once

#include "base/status.h"
#include "transport_params.h"

namespace quicbed {

// RFC 9000 §7.4.1: the server's parameters a client applies to 0-RTT.
// ack_delay_exponent, max_ack_delay, initial_source_connection_id,
// original_destination_connection_id, preferred_address,
// retry_source_connection_id and stateless_reset_token are NOT remembered
// (they come back at their defaults); everything else is kept as sent.
TransportParameters remembered_for_zero_rtt(const TransportParameters& server);

// RFC 9000 §7.4.1: "a server that accepts 0-RTT data MUST NOT set values
// for the following parameters that are smaller than the remembered
// values": active_connection_id_limit, initial_max_data,
// initial_max_stream_data_bidi_local, initial_max_stream_data_bidi_remote,
// initial_max_stream_data_uni, initial_max_streams_bidi,
// initial_max_streams_uni (and RFC 9221 §3: max_datagram_frame_size).
// Ok when `current` keeps every one of them; otherwise PROTOCOL_VIOLATION
// naming the first reduced parameter (the error a client closes with when
// 0-RTT was accepted under smaller limits).
Status check_zero_rtt_limits(const TransportParameters& remembered, const TransportParameters& current);

}  // namespace quicbed
