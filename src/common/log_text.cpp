#include "common/log_text.hpp"

#include <cstdint>

namespace berth {
namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when it is
// not one (overlong forms, surrogates and values past U+10FFFF included).
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t c = b(0);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  }
  return n;
}

void Hex(std::string& out, uint8_t c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += "\\x";
  out += kDigits[c >> 4];
  out += kDigits[c & 0xF];
}

}  // namespace

std::string LogSafe(std::string_view text, size_t max) {
  if (text.empty()) return "-";
  const std::string_view kept = text.substr(0, max);
  std::string out;
  out.reserve(kept.size() + 8);
  for (size_t i = 0; i < kept.size();) {
    const auto c = static_cast<uint8_t>(kept[i]);
    if (c >= 0x80) {
      const size_t n = Utf8Length(kept.substr(i));
      if (n == 0) {
        Hex(out, c);
        ++i;
      } else {
        out.append(kept.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          Hex(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  if (text.size() > kept.size()) {
    out += "...(+" + std::to_string(text.size() - kept.size()) + " bytes)";
  }
  return out;
}

void AppendJsonEscaped(std::string_view text, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8Length(text.substr(i));
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kDigits[c >> 4];
      out += kDigits[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
}

}  // namespace berth
