#include "qlog.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <iterator>

#include "base/fixed_point.h"

namespace quicbed {
namespace {

// --- JSON text -----------------------------------------------------------------

// Appends JSON to a string, tracking where commas go. Keys are literals of
// this file, so only values from the connection need escaping.
class Json {
 public:
  explicit Json(std::string& out) : out_(out) {}

  // Members of an object: key(...) then exactly one value.
  Json& key(const char* k) {
    separate();
    out_ += '"';
    out_ += k;
    out_ += "\":";
    after_key_ = true;
    return *this;
  }

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void u64(uint64_t v) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  // Microseconds as milliseconds with three decimals: 1234567 -> 1234.567.
  void ms(uint64_t us, bool negative = false) {
    separate();
    if (negative) out_ += '-';
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, us / 1000);
    out_.append(buf, r.ptr);
    uint64_t frac = us % 1000;
    out_ += '.';
    out_ += static_cast<char>('0' + frac / 100);
    out_ += static_cast<char>('0' + frac / 10 % 10);
    out_ += static_cast<char>('0' + frac % 10);
  }
  void boolean(bool b) {
    separate();
    out_ += b ? "true" : "false";
  }
  // A string that needs no escaping (a literal of this file).
  void literal(const char* s) {
    separate();
    out_ += '"';
    out_ += s;
    out_ += '"';
  }
  void hex(Bytes b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    separate();
    out_ += '"';
    for (uint8_t c : b) {
      out_ += kDigits[c >> 4];
      out_ += kDigits[c & 0x0f];
    }
    out_ += '"';
  }
  // Bytes from the wire (a reason phrase) as a JSON string: valid UTF-8
  // passes through (RFC 9000 §19.19 asks for UTF-8), anything else becomes
  // \u00XX so the record stays valid JSON (RFC 8259 §7, §8.1).
  void text(Bytes b) {
    separate();
    out_ += '"';
    for (size_t i = 0; i < b.size();) {
      uint8_t c = b[i];
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += static_cast<char>(c);
        ++i;
      } else if (c >= 0x20 && c < 0x7f) {
        out_ += static_cast<char>(c);
        ++i;
      } else if (size_t n = utf8_sequence_len(b.subspan(i)); n > 1) {
        out_.append(reinterpret_cast<const char*>(b.data() + i), n);
        i += n;
      } else {
        escape_u00(c);
        ++i;
      }
    }
    out_ += '"';
  }

 private:
  static constexpr size_t kMaxDepth = 8;

  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ > 0) {
      if (!first_[depth_ - 1]) out_ += ',';
      first_[depth_ - 1] = false;
    }
  }
  void open(char c) {
    separate();
    out_ += c;
    QB_ASSERT(depth_ < kMaxDepth);
    first_[depth_++] = true;
  }
  void close(char c) {
    QB_ASSERT(depth_ > 0);
    --depth_;
    out_ += c;
  }
  void escape_u00(uint8_t c) {
    static constexpr char kDigits[] = "0123456789abcdef";
    out_ += "\\u00";
    out_ += kDigits[c >> 4];
    out_ += kDigits[c & 0x0f];
  }
  // Length of the well-formed multi-byte UTF-8 sequence at the start of
  // `s` (RFC 3629 §4: no overlong forms, no surrogates, at most U+10FFFF),
  // 0 if there is none.
  static size_t utf8_sequence_len(Bytes s) {
    uint8_t c = s[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return 0;
    }
    if (s.size() < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; ++i)
      if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return n;
  }

  std::string& out_;
  bool first_[kMaxDepth] = {};
  size_t depth_ = 0;
  bool after_key_ = false;
};

// --- qlog vocabulary (quic-events-03) ---------------------------------------

const char* packet_type_name(const TracedPacketHeader& h) {
  if (!h.type_known) return "unknown";
  switch (h.type) {
    case PacketType::kInitial: return "initial";
    case PacketType::kZeroRtt: return "0RTT";
    case PacketType::kHandshake: return "handshake";
    case PacketType::kRetry: return "retry";
    case PacketType::kVersionNegotiation: return "version_negotiation";
    case PacketType::kOneRtt: return "1RTT";
  }
  return "unknown";
}

const char* frame_type_name(FrameType t) {
  switch (t) {
    case FrameType::kPadding: return "padding";
    case FrameType::kPing: return "ping";
    case FrameType::kAck:
    case FrameType::kAckEcn: return "ack";
    case FrameType::kResetStream: return "reset_stream";
    case FrameType::kStopSending: return "stop_sending";
    case FrameType::kCrypto: return "crypto";
    case FrameType::kNewToken: return "new_token";
    case FrameType::kStream: return "stream";
    case FrameType::kMaxData: return "max_data";
    case FrameType::kMaxStreamData: return "max_stream_data";
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni: return "max_streams";
    case FrameType::kDataBlocked: return "data_blocked";
    case FrameType::kStreamDataBlocked: return "stream_data_blocked";
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni: return "streams_blocked";
    case FrameType::kNewConnectionId: return "new_connection_id";
    case FrameType::kRetireConnectionId: return "retire_connection_id";
    case FrameType::kPathChallenge: return "path_challenge";
    case FrameType::kPathResponse: return "path_response";
    case FrameType::kConnectionClose:
    case FrameType::kConnectionCloseApp: return "connection_close";
    case FrameType::kHandshakeDone: return "handshake_done";
    case FrameType::kDatagram: return "datagram";  // RFC 9221; not in quic-events-03
  }
  return "unknown";
}

// quic-events-03 §8.11.22 TransportError names, indexed by RFC 9000 §20.1
// code; codes past the list are logged as numbers.
constexpr const char* kTransportErrorNames[] = {
    "no_error",           "internal_error",       "connection_refused",        "flow_control_error",
    "stream_limit_error", "stream_state_error",   "final_size_error",          "frame_encoding_error",
    "transport_parameter_error", "connection_id_limit_error", "protocol_violation", "invalid_token",
    "application_error",  "crypto_buffer_exceeded",
};

// A transport error code (§8.11.22), "crypto_error_0x1XX" for a TLS alert
// (§8.11.24, RFC 9001 §4.8), else the number.
void transport_error(Json& j, uint64_t code) {
  if (code < std::size(kTransportErrorNames)) {
    j.literal(kTransportErrorNames[code]);
  } else if (code >= 0x100 && code <= 0x1ff) {
    char name[] = "crypto_error_0x1XX";
    static constexpr char kDigits[] = "0123456789abcdef";
    name[16] = kDigits[(code >> 4) & 0x0f];
    name[17] = kDigits[code & 0x0f];
    j.literal(name);
  } else {
    j.u64(code);
  }
}

const char* drop_trigger_name(DropReason r) {
  switch (r) {
    case DropReason::kKeyUnavailable: return "key_unavailable";
    case DropReason::kUnknownConnectionId: return "unknown_connection_id";
    case DropReason::kHeaderParseError: return "header_parse_error";
    case DropReason::kPayloadDecryptError: return "payload_decrypt_error";
    case DropReason::kProtocolViolation: return "protocol_violation";
    case DropReason::kDosPrevention: return "dos_prevention";
    case DropReason::kUnsupportedVersion: return "unsupported_version";
    case DropReason::kUnexpectedPacket: return "unexpected_packet";
    case DropReason::kUnexpectedSourceConnectionId: return "unexpected_source_connection_id";
    case DropReason::kUnexpectedVersion: return "unexpected_version";
    case DropReason::kDuplicate: return "duplicate";
    case DropReason::kInvalidInitial: return "invalid_initial";
  }
  return "unknown";
}

const char* loss_trigger_name(LossTrigger t) {
  switch (t) {
    case LossTrigger::kReorderingThreshold: return "reordering_threshold";
    case LossTrigger::kTimeThreshold: return "time_threshold";
    case LossTrigger::kPtoExpired: return "pto_expired";
    case LossTrigger::kUnspecified: break;
  }
  return nullptr;
}

const char* connection_state_name(TraceConnectionState s) {
  switch (s) {
    case TraceConnectionState::kAttempted: return "attempted";
    case TraceConnectionState::kPeerValidated: return "peer_validated";
    case TraceConnectionState::kHandshakeStarted: return "handshake_started";
    case TraceConnectionState::kEarlyWrite: return "early_write";
    case TraceConnectionState::kHandshakeComplete: return "handshake_complete";
    case TraceConnectionState::kHandshakeConfirmed: return "handshake_confirmed";
    case TraceConnectionState::kClosing: return "closing";
    case TraceConnectionState::kDraining: return "draining";
    case TraceConnectionState::kClosed: return "closed";
  }
  return "unknown";
}

const char* close_trigger_name(CloseTrigger t) {
  switch (t) {
    case CloseTrigger::kClean: return "clean";
    case CloseTrigger::kHandshakeTimeout: return "handshake_timeout";
    case CloseTrigger::kIdleTimeout: return "idle_timeout";
    case CloseTrigger::kError: return "error";
    case CloseTrigger::kStatelessReset: return "stateless_reset";
    case CloseTrigger::kVersionMismatch: return "version_mismatch";
    case CloseTrigger::kApplication: return "application";
  }
  return "error";
}

const char* key_trigger_name(KeyTrigger t) {
  switch (t) {
    case KeyTrigger::kTls: return "tls";
    case KeyTrigger::kRemoteUpdate: return "remote_update";
    case KeyTrigger::kLocalUpdate: return "local_update";
  }
  return "tls";
}

// quic-events-03 §8.10 KeyType.
const char* key_type_name(const TracedKey& k) {
  bool client = k.sender == Role::kClient;
  switch (k.level) {
    case EncryptionLevel::kInitial: return client ? "client_initial_secret" : "server_initial_secret";
    case EncryptionLevel::kEarlyData: return client ? "client_0rtt_secret" : "server_0rtt_secret";
    case EncryptionLevel::kHandshake: return client ? "client_handshake_secret" : "server_handshake_secret";
    case EncryptionLevel::kApplication: return client ? "client_1rtt_secret" : "server_1rtt_secret";
  }
  return "unknown";
}

// quic-events-03 §7.3 gives NewReno's states; NewReno and CUBIC use those three.
const char* cc_state_name(CcState s) {
  switch (s) {
    case CcState::kSlowStart: return "slow_start";
    case CcState::kCongestionAvoidance: return "congestion_avoidance";
    case CcState::kRecovery: return "recovery";
    // BBR's modes (draft-ietf-ccwg-bbr §5.3); qlog leaves the names open.
    case CcState::kBbrStartup: return "startup";
    case CcState::kBbrDrain: return "drain";
    case CcState::kBbrProbeBwDown: return "probe_bw_down";
    case CcState::kBbrProbeBwCruise: return "probe_bw_cruise";
    case CcState::kBbrProbeBwRefill: return "probe_bw_refill";
    case CcState::kBbrProbeBwUp: return "probe_bw_up";
    case CcState::kBbrProbeRtt: return "probe_rtt";
  }
  return "unknown";
}

// RFC 9000 Appendix A.4's names, as later qlog drafts use them.
const char* ecn_state_name(EcnState s) {
  switch (s) {
    case EcnState::kTesting: return "testing";
    case EcnState::kUnknown: return "unknown";
    case EcnState::kFailed: return "failed";
    case EcnState::kCapable: return "capable";
    case EcnState::kDisabled: break;
  }
  return "unknown";
}

const char* vantage_point_name(Role r) { return r == Role::kClient ? "client" : "server"; }

void version(Json& j, uint32_t v) {
  uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                  static_cast<uint8_t>(v)};
  j.hex(Bytes(b, 4));
}

// quic-events-03 §8.7 PacketHeader.
void packet_header(Json& j, const TracedPacketHeader& h) {
  j.begin_object();
  j.key("packet_type").literal(packet_type_name(h));
  if (h.has_packet_number) j.key("packet_number").u64(h.packet_number);
  if (h.length) j.key("length").u64(h.length);
  if (h.has_version) {
    j.key("version");
    version(j, h.version);
  }
  if (h.has_scid) {
    j.key("scil").u64(h.scid.len);
    j.key("scid").hex(h.scid.view());
  }
  if (h.has_dcid) {
    j.key("dcil").u64(h.dcid.len);
    j.key("dcid").hex(h.dcid.view());
  }
  j.end_object();
}

void stream_type(Json& j, FrameType t) {
  bool bidi = t == FrameType::kMaxStreamsBidi || t == FrameType::kStreamsBlockedBidi;
  j.key("stream_type").literal(bidi ? "bidirectional" : "unidirectional");
}

// quic-events-03 §8.11.
void frame(Json& j, const TracedFrame& f) {
  j.begin_object();
  j.key("frame_type").literal(frame_type_name(f.type));
  switch (f.type) {
    case FrameType::kPadding:
      // A run of PADDING bytes is one frame (§8.11.1).
      j.key("length").u64(f.padding.length);
      j.key("payload_length").u64(f.padding.length);
      break;
    case FrameType::kPing:
    case FrameType::kHandshakeDone:
      break;
    case FrameType::kAck:
    case FrameType::kAckEcn:
      j.key("ack_delay").ms(f.ack.ack_delay_us);
      j.key("acked_ranges").begin_array();
      for (size_t i = 0; i < f.ack.range_count; ++i) {
        const Range& r = f.ack.ranges[i];
        // §8.11.3: a single packet is logged as [n].
        j.begin_array();
        j.u64(r.lo);
        if (r.hi != r.lo) j.u64(r.hi);
        j.end_array();
      }
      j.end_array();
      if (f.type == FrameType::kAckEcn) {
        j.key("ect1").u64(f.ack.ecn.ect1);
        j.key("ect0").u64(f.ack.ecn.ect0);
        j.key("ce").u64(f.ack.ecn.ce);
      }
      break;
    case FrameType::kResetStream:
      j.key("stream_id").u64(f.reset_stream.stream_id);
      j.key("error_code").u64(f.reset_stream.error_code);
      j.key("final_size").u64(f.reset_stream.final_size);
      break;
    case FrameType::kStopSending:
      j.key("stream_id").u64(f.stop_sending.stream_id);
      j.key("error_code").u64(f.stop_sending.error_code);
      break;
    case FrameType::kCrypto:
      j.key("offset").u64(f.data.offset);
      j.key("length").u64(f.data.length);
      break;
    case FrameType::kNewToken:
      j.key("token").begin_object();
      j.key("length").u64(f.new_token.token.size());
      j.key("data").hex(f.new_token.token);
      j.end_object();
      break;
    case FrameType::kStream:
      j.key("stream_id").u64(f.data.stream_id);
      j.key("offset").u64(f.data.offset);
      j.key("length").u64(f.data.length);
      if (f.data.fin) j.key("fin").boolean(true);  // §8.11.8: only when true
      break;
    case FrameType::kMaxData:
      j.key("maximum").u64(f.max_data.maximum);
      break;
    case FrameType::kMaxStreamData:
      j.key("stream_id").u64(f.max_stream_data.stream_id);
      j.key("maximum").u64(f.max_stream_data.maximum);
      break;
    case FrameType::kMaxStreamsBidi:
    case FrameType::kMaxStreamsUni:
      stream_type(j, f.type);
      j.key("maximum").u64(f.max_streams.maximum);
      break;
    case FrameType::kDataBlocked:
      j.key("limit").u64(f.data_blocked.limit);
      break;
    case FrameType::kStreamDataBlocked:
      j.key("stream_id").u64(f.stream_data_blocked.stream_id);
      j.key("limit").u64(f.stream_data_blocked.limit);
      break;
    case FrameType::kStreamsBlockedBidi:
    case FrameType::kStreamsBlockedUni:
      stream_type(j, f.type);
      j.key("limit").u64(f.streams_blocked.limit);
      break;
    case FrameType::kNewConnectionId:
      j.key("sequence_number").u64(f.new_connection_id.sequence);
      j.key("retire_prior_to").u64(f.new_connection_id.retire_prior_to);
      j.key("connection_id_length").u64(f.new_connection_id.cid.size());
      j.key("connection_id").hex(f.new_connection_id.cid);
      j.key("stateless_reset_token").hex(f.new_connection_id.stateless_reset_token);
      break;
    case FrameType::kRetireConnectionId:
      j.key("sequence_number").u64(f.retire_connection_id.sequence);
      break;
    case FrameType::kPathChallenge:
    case FrameType::kPathResponse:
      j.key("data").hex(f.path.data);
      break;
    case FrameType::kConnectionClose:
    case FrameType::kConnectionCloseApp: {
      const ConnectionCloseFrame& c = f.connection_close;
      bool app = f.type == FrameType::kConnectionCloseApp;
      j.key("error_space").literal(app ? "application" : "transport");
      j.key("error_code");
      if (app) {
        j.u64(c.error_code);
      } else {
        transport_error(j, c.error_code);
      }
      j.key("raw_error_code").u64(c.error_code);
      j.key("reason").text(c.reason);
      // RFC 9000 §19.19: 0 when the triggering frame type is unknown.
      if (!app && c.frame_type != 0) j.key("trigger_frame_type").u64(c.frame_type);
      break;
    }
    case FrameType::kDatagram:
      j.key("length").u64(f.datagram_length);
      break;
  }
  j.end_object();
}

void frames(Json& j, std::span<const TracedFrame> fs) {
  if (fs.empty()) return;
  j.key("frames").begin_array();
  for (const TracedFrame& f : fs) frame(j, f);
  j.end_array();
}

std::string to_hex(Bytes b) {
  std::string s;
  Json(s).hex(b);
  return s.substr(1, s.size() - 2);  // without the quotes
}

uint64_t wall_clock_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

// --- Records -------------------------------------------------------------------

// One event record: {"time":…,"name":…,"data":{ …members… }}. The data
// object is open between construction and finish().
class QlogWriter::Record {
 public:
  Record(QlogWriter& w, uint64_t now, const char* name) : w_(w), j_(w.record_) {
    w.record_.clear();
    w.record_ += '\x1e';  // RFC 7464 §2.2
    j_.begin_object();
    bool before = now < w.start_time_us_;
    j_.key("time").ms(before ? w.start_time_us_ - now : now - w.start_time_us_, before);
    j_.key("name").literal(name);
    j_.key("data").begin_object();
  }
  Json& json() { return j_; }
  void finish() {
    j_.end_object();
    j_.end_object();
    w_.write_record();
  }

 private:
  QlogWriter& w_;
  Json j_;
};

std::string QlogWriter::file_name(const ConnectionId& odcid, Role role) {
  return to_hex(odcid.view()) + "_" + vantage_point_name(role) + ".sqlog";
}

Result<std::unique_ptr<QlogWriter>> QlogWriter::open(const QlogConfig& config, std::string* error) {
  auto fail = [&](const char* reason, const std::string& path, int err) -> Status {
    if (error) *error = std::string(reason) + ": " + path + ": " + std::strerror(err);
    return Status(ErrorCode::kInvalidArgument, reason);
  };
  struct stat st;
  if (stat(config.dir.c_str(), &st) != 0) return fail("qlog directory does not exist", config.dir, errno);
  if (!S_ISDIR(st.st_mode)) return fail("qlog path is not a directory", config.dir, ENOTDIR);

  std::string path = config.dir;
  if (path.empty() || path.back() != '/') path += '/';
  path += file_name(config.odcid, config.role);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return fail("cannot create qlog file", path, errno);
  std::unique_ptr<char[]> buffer;
  if (config.buffer_size > 0) {
    buffer = std::make_unique<char[]>(config.buffer_size);
    std::setvbuf(f, buffer.get(), _IOFBF, config.buffer_size);
  }
  std::unique_ptr<QlogWriter> w(new QlogWriter(std::move(path), f, std::move(buffer), config.start_time_us));
  w->write_header(config, config.reference_time_us ? *config.reference_time_us : wall_clock_us());
  return w;
}

QlogWriter::~QlogWriter() { (void)close(); }

Status QlogWriter::flush() {
  if (file_ && std::fflush(file_) != 0) write_failed_ = true;
  return write_failed_ ? Status(ErrorCode::kInternalError, "qlog write failed") : Status::ok();
}

Status QlogWriter::close() {
  Status s = flush();
  if (file_) {
    if (std::fclose(file_) != 0) write_failed_ = true;
    file_ = nullptr;
  }
  return write_failed_ ? Status(ErrorCode::kInternalError, "qlog write failed") : s;
}

void QlogWriter::write_record() {
  record_ += '\n';
  if (file_ && std::fwrite(record_.data(), 1, record_.size(), file_) != record_.size()) write_failed_ = true;
}

// main-schema-04 §6.2 QlogFileSeq, with TraceSeq's common_fields (§3.4.7).
void QlogWriter::write_header(const QlogConfig& config, uint64_t reference_time_us) {
  record_.clear();
  record_ += '\x1e';
  Json j(record_);
  j.begin_object();
  j.key("qlog_version").literal("0.3");
  j.key("qlog_format").literal("JSON-SEQ");
  j.key("trace").begin_object();
  j.key("vantage_point").begin_object();
  j.key("name").text(Bytes(reinterpret_cast<const uint8_t*>(config.vantage_point_name.data()),
                           config.vantage_point_name.size()));
  j.key("type").literal(vantage_point_name(config.role));
  j.end_object();
  j.key("common_fields").begin_object();
  j.key("protocol_type").begin_array();
  j.literal("QUIC");
  j.end_array();
  // quic-events-03 §2: the ODCID is the group_id.
  j.key("group_id").hex(config.odcid.view());
  j.key("time_format").literal("relative");
  j.key("reference_time").ms(reference_time_us);
  j.end_object();
  j.end_object();
  j.end_object();
  write_record();
}

// --- Connectivity ----------------------------------------------------------------

void QlogWriter::connection_started(uint64_t now, const TracedConnectionStarted& e) {
  Record r(*this, now, "connectivity:connection_started");
  r.json().key("src_cid").hex(e.src_cid.view());
  r.json().key("dst_cid").hex(e.dst_cid.view());
  r.finish();
}

void QlogWriter::connection_state_updated(uint64_t now, TraceConnectionState old_state,
                                          TraceConnectionState new_state) {
  Record r(*this, now, "connectivity:connection_state_updated");
  r.json().key("old").literal(connection_state_name(old_state));
  r.json().key("new").literal(connection_state_name(new_state));
  r.finish();
}

void QlogWriter::connection_closed(uint64_t now, const TracedConnectionClosed& e) {
  Record r(*this, now, "connectivity:connection_closed");
  Json& j = r.json();
  j.key("owner").literal(e.owner == TraceOwner::kLocal ? "local" : "remote");
  if (e.application) {
    j.key("application_code").u64(e.error_code);
  } else {
    j.key("connection_code");
    transport_error(j, e.error_code);
  }
  if (!e.reason.empty()) j.key("reason").text(e.reason);
  j.key("trigger").literal(close_trigger_name(e.trigger));
  r.finish();
}

// --- Transport -------------------------------------------------------------------

// quic-events-03 §5.3; max_datagram_frame_size (RFC 9221) and
// grease_quic_bit (RFC 9287) are among the "unspecified fields" it allows.
void QlogWriter::parameters_set(uint64_t now, TraceOwner owner, const TransportParameters& p) {
  Record r(*this, now, "transport:parameters_set");
  Json& j = r.json();
  j.key("owner").literal(owner == TraceOwner::kLocal ? "local" : "remote");
  if (p.has_original_destination_connection_id)
    j.key("original_destination_connection_id").hex(p.original_destination_connection_id.view());
  if (p.has_initial_source_connection_id)
    j.key("initial_source_connection_id").hex(p.initial_source_connection_id.view());
  if (p.has_retry_source_connection_id)
    j.key("retry_source_connection_id").hex(p.retry_source_connection_id.view());
  if (p.has_stateless_reset_token)
    j.key("stateless_reset_token").hex(Bytes(p.stateless_reset_token, kStatelessResetTokenLen));
  j.key("disable_active_migration").boolean(p.disable_active_migration);
  j.key("max_idle_timeout").u64(p.max_idle_timeout);
  j.key("max_udp_payload_size").u64(p.max_udp_payload_size);
  j.key("ack_delay_exponent").u64(p.ack_delay_exponent);
  j.key("max_ack_delay").u64(p.max_ack_delay);
  j.key("active_connection_id_limit").u64(p.active_connection_id_limit);
  j.key("initial_max_data").u64(p.initial_max_data);
  j.key("initial_max_stream_data_bidi_local").u64(p.initial_max_stream_data_bidi_local);
  j.key("initial_max_stream_data_bidi_remote").u64(p.initial_max_stream_data_bidi_remote);
  j.key("initial_max_stream_data_uni").u64(p.initial_max_stream_data_uni);
  j.key("initial_max_streams_bidi").u64(p.initial_max_streams_bidi);
  j.key("initial_max_streams_uni").u64(p.initial_max_streams_uni);
  if (p.has_preferred_address) {
    const TransportParameters::PreferredAddress& a = p.preferred_address;
    // IPAddress may be a hexstring (§8.4): unambiguous for both families.
    j.key("preferred_address").begin_object();
    j.key("ip_v4").hex(Bytes(a.ipv4_address, sizeof a.ipv4_address));
    j.key("ip_v6").hex(Bytes(a.ipv6_address, sizeof a.ipv6_address));
    j.key("port_v4").u64(a.ipv4_port);
    j.key("port_v6").u64(a.ipv6_port);
    j.key("connection_id").hex(a.connection_id.view());
    j.key("stateless_reset_token").hex(Bytes(a.stateless_reset_token, kStatelessResetTokenLen));
    j.end_object();
  }
  j.key("max_datagram_frame_size").u64(p.max_datagram_frame_size);
  j.key("grease_quic_bit").boolean(p.grease_quic_bit);
  r.finish();
}

void QlogWriter::packet_event(uint64_t now, const char* name, const TracedPacket& p) {
  Record r(*this, now, name);
  Json& j = r.json();
  j.key("header");
  packet_header(j, p.header);
  j.key("raw").begin_object();
  j.key("length").u64(p.size);
  j.end_object();
  frames(j, p.frames);
  r.finish();
}

void QlogWriter::packet_sent(uint64_t now, const TracedPacket& p) { packet_event(now, "transport:packet_sent", p); }

void QlogWriter::packet_received(uint64_t now, const TracedPacket& p) {
  packet_event(now, "transport:packet_received", p);
}

void QlogWriter::packet_dropped(uint64_t now, const TracedPacketDrop& d) {
  Record r(*this, now, "transport:packet_dropped");
  Json& j = r.json();
  j.key("header");
  packet_header(j, d.header);
  j.key("raw").begin_object();
  j.key("length").u64(d.size);
  j.end_object();
  j.key("trigger").literal(drop_trigger_name(d.trigger));
  r.finish();
}

// quic-events-03 §5.10-§5.11: one datagram per event.
void QlogWriter::datagram_event(uint64_t now, const char* name, uint64_t size) {
  Record r(*this, now, name);
  Json& j = r.json();
  j.key("count").u64(1);
  j.key("raw").begin_array();
  j.begin_object();
  j.key("length").u64(size);
  j.end_object();
  j.end_array();
  r.finish();
}

void QlogWriter::datagram_sent(uint64_t now, uint64_t size) { datagram_event(now, "transport:datagrams_sent", size); }

void QlogWriter::datagram_received(uint64_t now, uint64_t size) {
  datagram_event(now, "transport:datagrams_received", size);
}

// --- Security --------------------------------------------------------------------

void QlogWriter::key_event(uint64_t now, const char* name, const TracedKey& k) {
  Record r(*this, now, name);
  Json& j = r.json();
  j.key("key_type").literal(key_type_name(k));
  // quic-events-03 §6.1: the generation matters for 1-RTT key updates.
  if (k.level == EncryptionLevel::kApplication) j.key("generation").u64(k.generation);
  j.key("trigger").literal(key_trigger_name(k.trigger));
  r.finish();
}

void QlogWriter::key_updated(uint64_t now, const TracedKey& k) { key_event(now, "security:key_updated", k); }

void QlogWriter::key_discarded(uint64_t now, const TracedKey& k) { key_event(now, "security:key_discarded", k); }

// --- Recovery --------------------------------------------------------------------

void QlogWriter::metrics_updated(uint64_t now, const TracedMetrics& m) {
  const TracedMetrics* last = last_metrics_ ? &*last_metrics_ : nullptr;
  auto changed = [&](uint64_t TracedMetrics::*field) { return !last || last->*field != m.*field; };
  bool any = !last || changed(&TracedMetrics::min_rtt_us) || changed(&TracedMetrics::smoothed_rtt_us) ||
             changed(&TracedMetrics::latest_rtt_us) || changed(&TracedMetrics::rtt_variance_us) ||
             changed(&TracedMetrics::pto_count) || changed(&TracedMetrics::congestion_window) ||
             changed(&TracedMetrics::bytes_in_flight) ||
             (changed(&TracedMetrics::ssthresh) && m.ssthresh != kU64Max) ||
             changed(&TracedMetrics::pacing_rate);
  if (!any) return;

  Record r(*this, now, "recovery:metrics_updated");
  Json& j = r.json();
  // quic-events-03 §7.2: RTTs in ms, windows in bytes, pacing in bits/s.
  if (changed(&TracedMetrics::min_rtt_us)) j.key("min_rtt").ms(m.min_rtt_us);
  if (changed(&TracedMetrics::smoothed_rtt_us)) j.key("smoothed_rtt").ms(m.smoothed_rtt_us);
  if (changed(&TracedMetrics::latest_rtt_us)) j.key("latest_rtt").ms(m.latest_rtt_us);
  if (changed(&TracedMetrics::rtt_variance_us)) j.key("rtt_variance").ms(m.rtt_variance_us);
  if (changed(&TracedMetrics::pto_count)) j.key("pto_count").u64(m.pto_count);
  if (changed(&TracedMetrics::congestion_window)) j.key("congestion_window").u64(m.congestion_window);
  if (changed(&TracedMetrics::bytes_in_flight)) j.key("bytes_in_flight").u64(m.bytes_in_flight);
  if (changed(&TracedMetrics::ssthresh) && m.ssthresh != kU64Max) j.key("ssthresh").u64(m.ssthresh);
  if (changed(&TracedMetrics::pacing_rate)) j.key("pacing_rate").u64(mul_div(m.pacing_rate, 8, 1));
  r.finish();
  last_metrics_ = m;
}

void QlogWriter::congestion_state_updated(uint64_t now, CcState old_state, CcState new_state,
                                          CongestionTrigger trigger) {
  Record r(*this, now, "recovery:congestion_state_updated");
  Json& j = r.json();
  j.key("old").literal(cc_state_name(old_state));
  j.key("new").literal(cc_state_name(new_state));
  if (trigger != CongestionTrigger::kNone)
    j.key("trigger").literal(trigger == CongestionTrigger::kEcn ? "ECN" : "persistent_congestion");
  r.finish();
}

// Not in quic-events-03; named and shaped as its later revisions have it.
void QlogWriter::ecn_state_updated(uint64_t now, EcnState old_state, EcnState new_state) {
  Record r(*this, now, "recovery:ecn_state_updated");
  Json& j = r.json();
  j.key("old").literal(ecn_state_name(old_state));
  j.key("new").literal(ecn_state_name(new_state));
  r.finish();
}

// quic-events-03 §5.2 (connectivity:mtu_updated).
void QlogWriter::mtu_updated(uint64_t now, uint64_t old_mtu, uint64_t new_mtu, bool done) {
  Record r(*this, now, "connectivity:mtu_updated");
  Json& j = r.json();
  j.key("old").u64(old_mtu);
  j.key("new").u64(new_mtu);
  if (done) j.key("done").boolean(true);
  r.finish();
}

void QlogWriter::packet_lost(uint64_t now, const TracedPacketLost& p) {
  Record r(*this, now, "recovery:packet_lost");
  Json& j = r.json();
  j.key("header");
  packet_header(j, p.header);
  frames(j, p.frames);
  if (const char* t = loss_trigger_name(p.trigger)) j.key("trigger").literal(t);
  r.finish();
}

}  // namespace quicbed
