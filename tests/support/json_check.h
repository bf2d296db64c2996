// A strict JSON parser (RFC 8259, with I-JSON's rules on duplicate names
// and surrogates, RFC 7493) for tests that check what a writer produced:
// qlog records (userspace/qlog.h) above all. parse_json_seq() splits a
// JSON Text Sequence (RFC 7464), qlog's JSON-SEQ serialization.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quicbed::test {

struct JsonValue {
  enum class Kind { kMissing, kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kMissing;
  bool boolean = false;
  std::string text;  // a number's literal, or a string's decoded UTF-8
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;

  static const JsonValue& missing() {
    static const JsonValue m;
    return m;
  }
  bool has(std::string_view k) const { return &(*this)[k] != &missing(); }
  const JsonValue& operator[](std::string_view k) const {
    for (const auto& [name, v] : members)
      if (name == k) return v;
    return missing();
  }
  const JsonValue& operator[](size_t i) const { return i < items.size() ? items[i] : missing(); }
  size_t size() const { return kind == Kind::kArray ? items.size() : members.size(); }
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& m : members) k.push_back(m.first);
    return k;
  }
  // An unsigned integer literal; fails the test otherwise.
  uint64_t u64() const {
    if (kind != Kind::kNumber || text.find_first_not_of("0123456789") != std::string::npos) {
      ADD_FAILURE() << "not an unsigned integer: " << describe();
      return ~uint64_t{0} - 1;
    }
    errno = 0;
    uint64_t v = std::strtoull(text.c_str(), nullptr, 10);
    EXPECT_EQ(errno, 0) << text;
    return v;
  }
  // A number's literal, e.g. "12.345".
  std::string number() const {
    EXPECT_EQ(kind, Kind::kNumber) << describe();
    return kind == Kind::kNumber ? text : "<not a number>";
  }
  std::string str() const {
    EXPECT_EQ(kind, Kind::kString) << describe();
    return kind == Kind::kString ? text : "<not a string>";
  }
  bool is_true() const { return kind == Kind::kBool && boolean; }
  std::string describe() const {
    switch (kind) {
      case Kind::kMissing: return "<missing>";
      case Kind::kNull: return "null";
      case Kind::kBool: return boolean ? "true" : "false";
      case Kind::kNumber: return text;
      case Kind::kString: return '"' + text + '"';
      case Kind::kArray: return "<array>";
      case Kind::kObject: return "<object>";
    }
    return "?";
  }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view in) : in_(in) {}

  // Exactly one JSON text, surrounded by optional whitespace (RFC 8259 §2).
  // Rejects duplicate member names and lone surrogates too (I-JSON, RFC
  // 7493 §2.3, §2.5), which a qlog record must not contain either.
  bool parse(JsonValue& out, std::string& error) {
    ws();
    if (!value(out, 0)) {
      error = error_ + " at byte " + std::to_string(pos_);
      return false;
    }
    ws();
    if (pos_ != in_.size()) {
      error = "trailing data at byte " + std::to_string(pos_);
      return false;
    }
    return true;
  }

 private:
  bool fail(const char* e) {
    if (error_.empty()) error_ = e;
    return false;
  }
  bool eof() const { return pos_ >= in_.size(); }
  char peek() const { return eof() ? '\0' : in_[pos_]; }
  void ws() {
    while (!eof() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }
  bool consume(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool value(JsonValue& v, int depth) {
    if (depth > 64) return fail("nesting too deep");
    switch (peek()) {
      case '{': return object(v, depth);
      case '[': return array(v, depth);
      case '"':
        v.kind = JsonValue::Kind::kString;
        return string(v.text);
      case 't':
        v.kind = JsonValue::Kind::kBool;
        v.boolean = true;
        return consume("true") || fail("bad literal");
      case 'f':
        v.kind = JsonValue::Kind::kBool;
        return consume("false") || fail("bad literal");
      case 'n':
        v.kind = JsonValue::Kind::kNull;
        return consume("null") || fail("bad literal");
      default:
        v.kind = JsonValue::Kind::kNumber;
        return number(v.text);
    }
  }

  bool object(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::kObject;
    ++pos_;
    ws();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      ws();
      if (peek() != '"') return fail("expected member name");
      std::string name;
      if (!string(name)) return false;
      if (v.has(name)) return fail("duplicate member name");
      ws();
      if (peek() != ':') return fail("expected ':'");
      ++pos_;
      ws();
      JsonValue member;
      if (!value(member, depth + 1)) return false;
      v.members.emplace_back(std::move(name), std::move(member));
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::kArray;
    ++pos_;
    ws();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      ws();
      JsonValue item;
      if (!value(item, depth + 1)) return false;
      v.items.push_back(std::move(item));
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }
  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(std::string& out) {
    size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digit(peek())) {
      while (digit(peek())) ++pos_;
    } else {
      return fail("bad value");
    }
    if (peek() == '.') {
      ++pos_;
      if (!digit(peek())) return fail("bad fraction");
      while (digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit(peek())) return fail("bad exponent");
      while (digit(peek())) ++pos_;
    }
    out.assign(in_.substr(start, pos_ - start));
    return true;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  bool hex4(uint32_t& cp) {
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = peek();
      int n = digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (n < 0) return fail("bad \\u escape");
      cp = cp << 4 | static_cast<uint32_t>(n);
      ++pos_;
    }
    return true;
  }
  // Raw bytes must be well-formed UTF-8 (RFC 8259 §8.1, RFC 3629 §4).
  bool utf8(std::string& out) {
    auto b = [&](size_t i) { return static_cast<uint8_t>(in_[pos_ + i]); };
    uint8_t c = b(0);
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || pos_ + n > in_.size()) return fail("invalid UTF-8");
    uint8_t lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    uint8_t hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (b(1) < lo || b(1) > hi) return fail("invalid UTF-8");
    for (size_t i = 2; i < n; ++i)
      if (b(i) < 0x80 || b(i) > 0xbf) return fail("invalid UTF-8");
    out.append(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool string(std::string& out) {
    ++pos_;  // the opening quote
    for (;;) {
      if (eof()) return fail("unterminated string");
      auto c = static_cast<uint8_t>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("control character in string");
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return fail("lone low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low;
            if (!consume("\\u") || !hex4(low) || low < 0xdc00 || low > 0xdfff) return fail("lone high surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          put_utf8(out, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

inline bool parse_json(std::string_view text, JsonValue& v, std::string* error = nullptr) {
  std::string e;
  bool ok = JsonParser(text).parse(v, e);
  if (error) *error = e;
  return ok;
}

// The texts of a JSON Text Sequence: each must be <RS>JSON<LF> (RFC 7464
// §2.2) with a valid JSON text (checked with gtest expectations, which name
// the record that fails).
inline std::vector<JsonValue> parse_json_seq(const std::string& file) {
  std::vector<JsonValue> out;
  EXPECT_FALSE(file.empty());
  if (file.empty()) return out;
  EXPECT_EQ(file[0], '\x1e');
  size_t pos = 0;
  while (pos < file.size()) {
    size_t next = file.find('\x1e', pos + 1);
    std::string rec = file.substr(pos + 1, (next == std::string::npos ? file.size() : next) - pos - 1);
    EXPECT_FALSE(rec.empty());
    EXPECT_EQ(rec.back(), '\n') << rec;
    JsonValue v;
    std::string err;
    EXPECT_TRUE(parse_json(rec, v, &err)) << err << ": " << rec;
    out.push_back(std::move(v));
    pos = next == std::string::npos ? file.size() : next;
  }
  return out;
}

}  // namespace quicbed::test
