#include "ui/session.hpp"

#include <strings.h>

#include "crypto/hasher.hpp"

namespace berth::ui {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool TokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-';
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string Attributes(int64_t max_age, bool secure) {
  return "; Path=/ui/; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

}  // namespace

std::optional<std::string_view> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = Trim(header.substr(0, semi));
    header = semi == header.npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == pair.npos) continue;
    if (Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

std::optional<std::string> SessionFrom(const http::Request& request) {
  // Browsers may send several Cookie fields (HTTP/2 splits them): look in each.
  for (const auto& [k, v] : request.headers) {
    if (k.size() != 6 || ::strncasecmp(k.data(), "cookie", 6) != 0) continue;
    auto value = CookieValue(v, kCookieName);
    if (!value) continue;
    if (value->empty() || value->size() > 512) return std::nullopt;
    for (char c : *value) {
      if (!TokenChar(c)) return std::nullopt;
    }
    return std::string(*value);
  }
  return std::nullopt;
}

std::string SessionCookie(std::string_view token, int64_t max_age, bool secure) {
  return std::string(kCookieName) + "=" + std::string(token) + Attributes(max_age, secure);
}

std::string ClearedCookie(bool secure) {
  return std::string(kCookieName) + "=" + Attributes(0, secure);
}

std::string CsrfToken(std::string_view session) {
  std::string input = "berth-ui-csrf\n";
  input += session;
  return crypto::HashBytes(DigestAlgorithm::kSha256, input).hex();
}

Status CheckOrigin(const http::Request& request, bool secure) {
  if (auto site = request.Header("Sec-Fetch-Site"); site && *site != "same-origin") {
    return {Errc::kDenied, "cross-site request refused"};
  }
  auto origin = request.Header("Origin");
  if (!origin) return Status::Ok();
  auto host = request.Header("Host");
  if (!host) return {Errc::kDenied, "request without Host refused"};
  std::string expected = std::string(secure ? "https://" : "http://") + std::string(*host);
  if (*origin != expected) return {Errc::kDenied, "request from another origin refused"};
  return Status::Ok();
}

Status CheckStateChange(const http::Request& request, std::string_view session, bool secure) {
  if (auto s = CheckOrigin(request, secure); !s.ok()) return s;
  auto sent = request.Header(kCsrfHeader);
  if (!sent) return {Errc::kDenied, "missing X-CSRF-Token header"};
  if (!ConstantTimeEqual(*sent, CsrfToken(session))) return {Errc::kDenied, "wrong CSRF token"};
  return Status::Ok();
}

}  // namespace berth::ui
