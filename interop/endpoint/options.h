// The command line of `quicbed`: one program, a client and a server mode,
// with the options both share. Parsing checks everything that can be
// checked before the network is touched (files readable, numbers in range,
// URLs well formed), so that a mistake is a usage error (exit status 2)
// with a message naming it, never a failure half-way through a run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cc/congestion_controller.h"
#include "cc/window.h"
#include "crypto.h"
#include "url.h"

namespace quicbed {

enum class Mode : uint8_t { kClient, kServer };

struct Options {
  Mode mode = Mode::kClient;

  // Client: the files to fetch, all from one server (one connection), and
  // where to save them (each under its URL path).
  std::vector<Url> urls;
  std::string download_dir = ".";
  // Client, RFC 9000 §9: once this many bytes came in (0: never), move to a
  // fresh local UDP port, as an active migration (a new connection ID,
  // the path probed first, §9.2, §9.5) or as a simulated NAT rebinding (same
  // connection ID, the connection not told, §9.3).
  uint64_t migrate_after = 0;
  uint64_t rebind_after = 0;
  bool follow_preferred_address = true;  // §9.6: migrate to the server's

  // Server: where to listen, its certificate chain and key, what it serves.
  std::string listen;
  std::string cert_file;
  std::string key_file;
  std::string root;
  bool retry = false;  // --retry: validate every new client's address first (RFC 9000 §8.1.2)
  size_t max_connections = 1024;  // --max-connections: at once, beyond them CONNECTION_REFUSED

  // QUIC versions (RFC 9368, RFC 9369). Client: the version of its first
  // Initial (--version), and the ones it lists as compatible
  // (--other-versions, most preferred first); server: the ones it speaks,
  // most preferred first (--versions), moving clients to the first one
  // they list. Empty: v1 then v2.
  uint32_t version = 0x00000001;
  std::vector<uint32_t> versions;
  std::string token_file;  // client: NEW_TOKEN tokens kept across runs (RFC 9000 §8.1.3)
  // RFC 9000 §9.6: addresses the server also listens on and offers as its
  // preferred_address, at most one per family (none: no preferred
  // address); §18.2 disable_active_migration.
  std::vector<std::string> preferred_addresses;
  bool disable_active_migration = false;

  // Both.
  std::string alpn;  // "hq-interop" or "h3"; empty: see offered_alpns()
  CcAlgorithm cc = CcAlgorithm::kCubic;
  uint64_t initial_window = kDefaultInitialWindowPackets;  // datagrams (RFC 9002 §7.2)
  bool pacing = true;                                      // RFC 9002 §7.7
  std::vector<CipherSuite> ciphers;  // empty: every suite QUIC allows
  std::string qlog_dir;              // empty: no qlog
  std::string keylog_file;           // empty: $SSLKEYLOGFILE, or none
  std::string ca_file;               // client: empty means the system's CAs
  bool insecure = false;             // client: skip certificate verification
  size_t max_datagram_size = 1452;   // a 1500-byte MTU less IPv6 and UDP headers
  uint64_t timeout_us = 10'000'000;  // idle timeout, which also bounds the handshake
  bool gso = true;                   // UDP GSO on send (off: captures on lo decrypt)
  // Client: where a session ticket (and the server's transport parameters)
  // is kept between runs: read to resume, rewritten with each new ticket.
  std::string session_file;
  // 0-RTT (RFC 9001 §4.6). Client: send the requests in 0-RTT packets when
  // resuming from --session-file. Server: accept 0-RTT (GET only).
  bool early_data = false;
  // Client: one key update (RFC 9001 §6) as soon as the core allows it.
  bool key_update = false;
  bool ecn = true;                   // mark ECT(0) while validated (RFC 9000 §13.4)
  bool pmtud = true;                 // DPLPMTUD from 1200 up to max_datagram_size
  int verbose = 0;
};

struct ParsedOptions {
  enum class Outcome : uint8_t { kRun, kHelp, kError };
  Outcome outcome = Outcome::kError;
  Options options;
  std::string error;  // kError: what is wrong, one line
};

// argv[0] is the program; argv[1] the mode ("client", "server") or --help.
ParsedOptions parse_options(int argc, const char* const* argv);

// The usage text printed by --help, and the short one after a usage error.
const char* usage_text();
const char* short_usage_text();

// "v1", "v2" or a supported version in hex ("0x6b3343cf"); false otherwise.
bool parse_quic_version(const std::string& name, uint32_t* out);

// "TLS_AES_128_GCM_SHA256" (RFC 8446 §B.4) and the like; false if unknown.
bool parse_cipher_suite(const std::string& name, CipherSuite* out);

}  // namespace quicbed
