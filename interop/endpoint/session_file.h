// The client's --session-file: one session ticket (GnuTLS session data) and
// the server's transport parameters of the connection it came from (RFC
// 9000 §7.4.1), kept between runs to resume the session, with 0-RTT or
// without. A text file:
//   quicbed-session 1
//   tls <hex of the session data>
//   tp <hex of the quic_transport_parameters extension body>
//   early <the ticket's max_early_data_size, decimal>
#pragma once

#include <string>

#include "gnutls_tls.h"

namespace quicbed {

// Reads `path`; false with *error saying why (missing, unreadable, not
// this format) when there is nothing usable.
bool load_session_file(const std::string& path, SessionTicket* out, std::string* error);

// Replaces `path` with `t` (written beside it, then renamed, so that a
// reader never sees half a file); false with *error on failure.
bool store_session_file(const std::string& path, const SessionTicket& t, std::string* error);

}  // namespace quicbed
