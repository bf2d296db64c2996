#include "options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "address.h"
#include "endpoint.h"
#include "hq.h"
#include "packet.h"
#include "version.h"

namespace quicbed {
namespace {

constexpr const char* kUsage =
    "usage: quicbed client [options] URL...\n"
    "       quicbed server --listen ADDR:PORT --cert FILE --key FILE --root DIR [options]\n"
    "\n"
    "client: fetches every URL (https://host[:port]/path, all of one server) over one\n"
    "QUIC connection, requests in parallel, and saves each file under its URL path.\n"
    "  --download-dir DIR     where files are saved (default: .; created if missing)\n"
    "  --ca FILE              trust the CA certificates of this PEM file (default: the system's)\n"
    "  --insecure             do not verify the server's certificate\n"
    "  --version v1|v2        QUIC version of the first Initial (default v1)\n"
    "  --other-versions LIST  versions the client also speaks, most preferred first, ','\n"
    "                         separated (default v1,v2); the server may move it to one\n"
    "  --token-file FILE      keep the server's NEW_TOKEN token there and send it next time\n"
    "  --key-update           once the handshake is confirmed, move to the next 1-RTT key\n"
    "                         phase (RFC 9001 §6; the server follows)\n"
    "  --migrate-after BYTES  after BYTES received, migrate to a new local UDP port under a\n"
    "                         new connection ID, probing the path first (RFC 9000 §9.2)\n"
    "  --rebind-after BYTES   after BYTES received, switch to a new local UDP port keeping the\n"
    "                         connection ID, unknown to the connection (a NAT rebinding)\n"
    "  --no-preferred-address stay on the address the server was reached at (§9.6)\n"
    "  --session-file FILE    resume the TLS session stored there (if any) and store the\n"
    "                         server's new session tickets there\n"
    "server: serves the files under a directory.\n"
    "  --listen ADDR:PORT     UDP address to serve on (e.g. [::]:443, 127.0.0.1:4433)\n"
    "  --cert FILE            PEM certificate chain, leaf first\n"
    "  --key FILE             PEM private key of the certificate\n"
    "  --root DIR             directory served; paths resolving outside it are refused\n"
    "  --retry                answer each new client with a Retry (address validation)\n"
    "  --max-connections N    connections at once, 1-1048576 (default 1024); more are\n"
    "                         refused (CONNECTION_REFUSED)\n"
    "  --versions LIST        versions served, most preferred first, ',' separated\n"
    "                         (default v1,v2); clients listing a preferred one move to it\n"
    "  --preferred-address ADDR:PORT  also listen there and offer it as preferred_address;\n"
    "                         once per family (IPv4, IPv6): clients move in their own family\n"
    "  --disable-active-migration     send disable_active_migration (RFC 9000 §18.2)\n"
    "both:\n"
    "  --alpn hq-interop|h3   application protocol: HTTP/0.9 or HTTP/3 (client default\n"
    "                         hq-interop; a server offers both unless given one)\n"
    "  --cc newreno|cubic|bbr congestion controller (default cubic)\n"
    "  --initial-window N     initial congestion window in datagrams, 2-1000 (RFC 9002\n"
    "                         §7.2; default 10); also the pacer's largest burst\n"
    "  --no-pacing            send as the congestion window allows, unpaced (RFC 9002 §7.7)\n"
    "  --ciphers LIST         TLS 1.3 cipher suites in preference order, ':' or ','\n"
    "                         separated: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,\n"
    "                         TLS_CHACHA20_POLY1305_SHA256 (default: all three)\n"
    "  --qlog-dir DIR         write one qlog file per connection there (created if missing)\n"
    "  --keylog FILE          append TLS secrets in NSS key log format (default: $SSLKEYLOGFILE)\n"
    "  --max-datagram-size N  largest UDP payload sent, 1200-65527 (default 1452); with\n"
    "                         --pmtud on, the upper bound of the path MTU search\n"
    "  --pmtud on|off         path MTU discovery (RFC 8899) from 1200 bytes up (default on;\n"
    "                         off: every datagram may have --max-datagram-size bytes)\n"
    "  --ecn on|off           ECN: send ECT(0) and validate the peer's ACK counts (default on)\n"
    "  --timeout SECONDS      idle timeout, which also bounds the handshake (default 10)\n"
    "  --no-gso               no UDP GSO: one datagram per packet (captures on lo then decrypt)\n"
    "  --early-data           0-RTT: a client resuming a session sends its requests in 0-RTT\n"
    "                         packets; a server accepts them (anti-replay protected, GET only)\n"
    "  -v, --verbose          progress and statistics on stderr\n"
    "  -h, --help             this text\n"
    "exit status: 0 success, 1 failure (the reason on stderr), 2 usage error\n";

enum class Scope : uint8_t { kBoth, kClient, kServer };

struct OptionSpec {
  const char* name;
  bool takes_value;
  Scope scope;
};

constexpr OptionSpec kSpecs[] = {
    {"--download-dir", true, Scope::kClient},
    {"--ca", true, Scope::kClient},
    {"--insecure", false, Scope::kClient},
    {"--version", true, Scope::kClient},
    {"--other-versions", true, Scope::kClient},
    {"--token-file", true, Scope::kClient},
    {"--retry", false, Scope::kServer},
    {"--max-connections", true, Scope::kServer},
    {"--versions", true, Scope::kServer},
    {"--migrate-after", true, Scope::kClient},
    {"--rebind-after", true, Scope::kClient},
    {"--no-preferred-address", false, Scope::kClient},
    {"--preferred-address", true, Scope::kServer},
    {"--disable-active-migration", false, Scope::kServer},
    {"--session-file", true, Scope::kClient},
    {"--key-update", false, Scope::kClient},
    {"--early-data", false, Scope::kBoth},
    {"--listen", true, Scope::kServer},
    {"--cert", true, Scope::kServer},
    {"--key", true, Scope::kServer},
    {"--root", true, Scope::kServer},
    {"--alpn", true, Scope::kBoth},
    {"--cc", true, Scope::kBoth},
    {"--initial-window", true, Scope::kBoth},
    {"--no-pacing", false, Scope::kBoth},
    {"--ciphers", true, Scope::kBoth},
    {"--qlog-dir", true, Scope::kBoth},
    {"--keylog", true, Scope::kBoth},
    {"--max-datagram-size", true, Scope::kBoth},
    {"--timeout", true, Scope::kBoth},
    {"--no-gso", false, Scope::kBoth},
    {"--ecn", true, Scope::kBoth},
    {"--pmtud", true, Scope::kBoth},
    {"--verbose", false, Scope::kBoth},
    {"--help", false, Scope::kBoth},
};

const OptionSpec* find_spec(std::string_view name) {
  if (name == "-v") name = "--verbose";
  if (name == "-h") name = "--help";
  for (const OptionSpec& s : kSpecs)
    if (name == s.name) return &s;
  return nullptr;
}

// An existing file (or, with `dir`, directory) this process can read.
bool readable(const std::string& path, bool dir, std::string* error, const char* option) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = std::string(option) + " " + path + ": " + std::strerror(errno);
    return false;
  }
  if (dir != S_ISDIR(st.st_mode)) {
    *error = std::string(option) + " " + path + (dir ? ": not a directory" : ": is a directory");
    return false;
  }
  if (access(path.c_str(), dir ? (R_OK | X_OK) : R_OK) != 0) {
    *error = std::string(option) + " " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// mkdir -p: every missing component of `path`.
bool make_directories(const std::string& path, std::string* error, const char* option) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = std::string(option) + " " + path + ": cannot create " + prefix + ": " + std::strerror(errno);
      return false;
    }
  }
  return readable(path, true, error, option);
}

bool parse_size(const std::string& text, uint64_t lo, uint64_t hi, uint64_t* out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 10) return false;
  const uint64_t v = std::strtoull(text.c_str(), nullptr, 10);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

// Decimal seconds ("2", "0.5") to microseconds, within (0, 1 day].
bool parse_seconds(const std::string& text, uint64_t* out_us) {
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos) return false;
  char* end = nullptr;
  const double s = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !(s > 0) || s > 86400) return false;
  *out_us = static_cast<uint64_t>(std::llround(s * 1e6));
  return *out_us > 0;
}

bool parse_ciphers(const std::string& list, std::vector<CipherSuite>* out, std::string* error) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find_first_of(":,", start);
    if (end == std::string::npos) end = list.size();
    const std::string name = list.substr(start, end - start);
    CipherSuite s;
    if (!parse_cipher_suite(name, &s)) {
      *error = "--ciphers: unknown TLS 1.3 cipher suite '" + name +
               "' (known: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)";
      return false;
    }
    for (CipherSuite seen : *out) {
      if (seen == s) {
        *error = "--ciphers: " + name + " listed twice";
        return false;
      }
    }
    out->push_back(s);
    start = end + 1;
  }
  return true;
}

// A ','-separated list of distinct QUIC versions.
bool parse_versions(const std::string& option, const std::string& list, std::vector<uint32_t>* out,
                    std::string* error) {
  out->clear();
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const std::string name = list.substr(start, end - start);
    uint32_t v = 0;
    if (!parse_quic_version(name, &v)) {
      *error = option + " " + list + ": unknown QUIC version '" + name + "' (expected v1 or v2)";
      return false;
    }
    for (uint32_t seen : *out) {
      if (seen == v) {
        *error = option + " " + list + ": " + name + " listed twice";
        return false;
      }
    }
    if (out->size() == kMaxVersions) {
      *error = option + " " + list + ": more than " + std::to_string(kMaxVersions) + " versions";
      return false;
    }
    out->push_back(v);
    start = end + 1;
  }
  return true;
}

// Applies one option; false with *error set if its value is unusable.
bool apply(Options& o, std::string_view name, const std::string& v, std::string* error) {
  if (name == "--download-dir") {
    o.download_dir = v;
  } else if (name == "--ca") {
    o.ca_file = v;
  } else if (name == "--insecure") {
    o.insecure = true;
  } else if (name == "--version") {
    if (!parse_quic_version(v, &o.version)) {
      *error = "--version " + v + ": expected v1 or v2";
      return false;
    }
  } else if (name == "--other-versions" || name == "--versions") {
    return parse_versions(std::string(name), v, &o.versions, error);
  } else if (name == "--token-file") {
    o.token_file = v;
  } else if (name == "--retry") {
    o.retry = true;
  } else if (name == "--max-connections") {
    uint64_t n = 0;
    if (!parse_size(v, 1, Endpoint::kMaxConnections, &n)) {
      *error = "--max-connections " + v + ": expected a number from 1 to 1048576";
      return false;
    }
    o.max_connections = static_cast<size_t>(n);
  } else if (name == "--session-file") {
    o.session_file = v;
  } else if (name == "--key-update") {
    o.key_update = true;
  } else if (name == "--early-data") {
    o.early_data = true;
  } else if (name == "--listen") {
    Result<SocketAddress> a = parse_address(v);
    if (!a.is_ok()) {
      *error = "--listen " + v + ": " + a.status().reason() + " (expected a numeric ADDR:PORT, e.g. [::]:443)";
      return false;
    }
    o.listen = v;
  } else if (name == "--migrate-after" || name == "--rebind-after") {
    uint64_t n = 0;
    if (!parse_size(v, 1, uint64_t{1} << 50, &n)) {
      *error = std::string(name) + " " + v + ": expected a number of bytes, at least 1";
      return false;
    }
    (name == "--migrate-after" ? o.migrate_after : o.rebind_after) = n;
  } else if (name == "--no-preferred-address") {
    o.follow_preferred_address = false;
  } else if (name == "--preferred-address") {
    Result<SocketAddress> a = parse_address(v);
    if (!a.is_ok() || a->port() == 0) {
      *error = "--preferred-address " + v + ": expected a numeric ADDR:PORT with a port, e.g. 127.0.0.2:4434";
      return false;
    }
    // RFC 9000 §18.2: the parameter holds one address of each family.
    for (const std::string& other : o.preferred_addresses) {
      if (parse_address(other)->unmapped().is_ipv4() == a->unmapped().is_ipv4()) {
        *error = "--preferred-address " + v + ": one per address family (" + other + " already)";
        return false;
      }
    }
    o.preferred_addresses.push_back(v);
  } else if (name == "--disable-active-migration") {
    o.disable_active_migration = true;
  } else if (name == "--cert") {
    o.cert_file = v;
  } else if (name == "--key") {
    o.key_file = v;
  } else if (name == "--root") {
    o.root = v;
  } else if (name == "--alpn") {
    if (v != "hq-interop" && v != "h3") {
      *error = "--alpn " + v + ": expected hq-interop or h3";
      return false;
    }
    o.alpn = v;
  } else if (name == "--cc") {
    if (v == "newreno") {
      o.cc = CcAlgorithm::kNewReno;
    } else if (v == "cubic") {
      o.cc = CcAlgorithm::kCubic;
    } else if (v == "bbr") {
      o.cc = CcAlgorithm::kBbr;
    } else {
      *error = "--cc " + v + ": expected newreno, cubic or bbr";
      return false;
    }
  } else if (name == "--initial-window") {
    if (!parse_size(v, kMinInitialWindowPackets, kMaxInitialWindowPackets, &o.initial_window)) {
      *error = "--initial-window " + v + ": expected a number of datagrams from " +
               std::to_string(kMinInitialWindowPackets) + " to " + std::to_string(kMaxInitialWindowPackets);
      return false;
    }
  } else if (name == "--no-pacing") {
    o.pacing = false;
  } else if (name == "--ciphers") {
    o.ciphers.clear();
    return parse_ciphers(v, &o.ciphers, error);
  } else if (name == "--qlog-dir") {
    o.qlog_dir = v;
  } else if (name == "--keylog") {
    o.keylog_file = v;
  } else if (name == "--max-datagram-size") {
    uint64_t n = 0;
    // RFC 9000 §14: at least 1200; §18.2: max_udp_payload_size <= 65527.
    if (!parse_size(v, 1200, 65527, &n)) {
      *error = "--max-datagram-size " + v + ": expected a number of bytes from 1200 to 65527";
      return false;
    }
    o.max_datagram_size = static_cast<size_t>(n);
  } else if (name == "--timeout") {
    if (!parse_seconds(v, &o.timeout_us)) {
      *error = "--timeout " + v + ": expected seconds, more than 0 and at most 86400";
      return false;
    }
  } else if (name == "--no-gso") {
    o.gso = false;
  } else if (name == "--ecn" || name == "--pmtud") {
    if (v != "on" && v != "off") {
      *error = std::string(name) + " " + v + ": expected on or off";
      return false;
    }
    (name == "--ecn" ? o.ecn : o.pmtud) = v == "on";
  } else if (name == "--verbose") {
    ++o.verbose;
  }
  return true;
}

// What the options of the chosen mode must satisfy together.
bool check(Options& o, const std::vector<std::string>& operands, std::string* error) {
  if (o.mode == Mode::kServer) {
    if (!operands.empty()) {
      *error = "server takes no operands, got '" + operands.front() + "'";
      return false;
    }
    const struct {
      const std::string& value;
      const char* option;
    } required[] = {{o.listen, "--listen"}, {o.cert_file, "--cert"}, {o.key_file, "--key"}, {o.root, "--root"}};
    for (const auto& r : required) {
      if (r.value.empty()) {
        *error = std::string("server needs ") + r.option;
        return false;
      }
    }
    return readable(o.cert_file, false, error, "--cert") && readable(o.key_file, false, error, "--key") &&
           readable(o.root, true, error, "--root");
  }
  if (operands.empty()) {
    *error = "client needs at least one URL";
    return false;
  }
  for (const std::string& text : operands) {
    Url u;
    if (!parse_url(text, &u, error)) return false;
    if (!o.urls.empty() && (u.host != o.urls.front().host || u.port != o.urls.front().port)) {
      *error = "all URLs must name one server (one connection): " + text + " is not on " + o.urls.front().authority;
      return false;
    }
    std::string relative;
    if (!hq_relative_path(u.path, &relative)) {
      *error = "URL path must name a file (no '.' or '..' components, no trailing '/'): " + text;
      return false;
    }
    o.urls.push_back(u);
  }
  if (!o.ca_file.empty() && !readable(o.ca_file, false, error, "--ca")) return false;
  if (o.early_data && o.session_file.empty()) {
    *error = "--early-data needs --session-file (0-RTT resumes a stored session)";
    return false;
  }
  if (!o.ca_file.empty() && o.insecure) {
    *error = "--ca and --insecure contradict each other";
    return false;
  }
  return true;
}

}  // namespace

const char* usage_text() { return kUsage; }

const char* short_usage_text() {
  return "usage: quicbed client [options] URL...\n"
         "       quicbed server --listen ADDR:PORT --cert FILE --key FILE --root DIR [options]\n"
         "       quicbed --help\n";
}

bool parse_quic_version(const std::string& name, uint32_t* out) {
  uint32_t v = 0;
  if (name == "v1" || name == "1") {
    v = kVersion1;
  } else if (name == "v2" || name == "2") {
    v = kVersion2;
  } else if (name.size() == 10 && name.compare(0, 2, "0x") == 0 &&
             name.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos) {
    v = static_cast<uint32_t>(std::strtoul(name.c_str() + 2, nullptr, 16));
  }
  if (!is_supported_version(v)) return false;
  *out = v;
  return true;
}

bool parse_cipher_suite(const std::string& name, CipherSuite* out) {
  static constexpr struct {
    const char* name;
    CipherSuite suite;
  } kSuites[] = {
      {"TLS_AES_128_GCM_SHA256", CipherSuite::kAes128GcmSha256},
      {"TLS_AES_256_GCM_SHA384", CipherSuite::kAes256GcmSha384},
      {"TLS_CHACHA20_POLY1305_SHA256", CipherSuite::kChaCha20Poly1305Sha256},
  };
  for (const auto& s : kSuites) {
    if (name == s.name) {
      *out = s.suite;
      return true;
    }
  }
  return false;
}

ParsedOptions parse_options(int argc, const char* const* argv) {
  ParsedOptions r;
  if (argc < 2) {
    r.error = "missing mode: client or server";
    return r;
  }
  const std::string_view mode = argv[1];
  if (mode == "-h" || mode == "--help") {
    r.outcome = ParsedOptions::Outcome::kHelp;
    return r;
  }
  if (mode == "client") {
    r.options.mode = Mode::kClient;
  } else if (mode == "server") {
    r.options.mode = Mode::kServer;
  } else {
    r.error = "unknown mode '" + std::string(mode) + "': expected client or server";
    return r;
  }

  std::vector<std::string> operands;
  bool options_done = false;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-') {
      operands.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    // "--name=value" or "--name value".
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const OptionSpec* spec = find_spec(name);
    if (!spec) {
      r.error = "unknown option " + std::string(name);
      return r;
    }
    if ((spec->scope == Scope::kClient && r.options.mode != Mode::kClient) ||
        (spec->scope == Scope::kServer && r.options.mode != Mode::kServer)) {
      r.error = std::string(spec->name) + " is a " + (spec->scope == Scope::kClient ? "client" : "server") + " option";
      return r;
    }
    std::string value;
    if (spec->takes_value) {
      if (eq != std::string_view::npos) {
        value = std::string(arg.substr(eq + 1));
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        r.error = std::string(spec->name) + " needs a value";
        return r;
      }
      if (value.empty()) {
        r.error = std::string(spec->name) + " needs a non-empty value";
        return r;
      }
    } else if (eq != std::string_view::npos) {
      r.error = std::string(spec->name) + " takes no value";
      return r;
    }
    if (std::string_view(spec->name) == "--help") {
      r.outcome = ParsedOptions::Outcome::kHelp;
      return r;
    }
    if (!apply(r.options, spec->name, value, &r.error)) return r;
  }
  if (!check(r.options, operands, &r.error)) return r;
  if (r.options.mode == Mode::kClient && !make_directories(r.options.download_dir, &r.error, "--download-dir")) return r;
  if (!r.options.qlog_dir.empty() && !make_directories(r.options.qlog_dir, &r.error, "--qlog-dir")) return r;
  r.outcome = ParsedOptions::Outcome::kRun;
  return r;
}

}  // namespace quicbed
