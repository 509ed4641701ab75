#include "cli/admin/challenge.hpp"

#include <strings.h>

#include <optional>
#include <vector>

namespace berth::cli::admin {
namespace {

// RFC 7230 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

size_t TokenLength(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsTokenChar(s[n])) ++n;
  return n;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

Status Broken(std::string_view why) {
  return Status(Errc::kUnauthorized, "malformed WWW-Authenticate header: " + std::string(why));
}

// The comma-separated items of `header`, commas inside quoted strings kept.
Result<std::vector<std::string_view>> SplitItems(std::string_view header) {
  std::vector<std::string_view> items;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i < header.size(); ++i) {
    if (quoted && header[i] == '\\') {
      ++i;
    } else if (header[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && header[i] == ',') {
      items.push_back(header.substr(start, i - start));
      start = i + 1;
    }
  }
  if (quoted) return Broken("unterminated quoted string");
  items.push_back(header.substr(start));
  return items;
}

// `value` as a token or a quoted string, unescaped; nullopt when it is
// neither or something follows it.
std::optional<std::string> ParseValue(std::string_view value) {
  if (value.empty() || value.front() != '"') {
    if (TokenLength(value) != value.size()) return std::nullopt;
    return std::string(value);
  }
  std::string out;
  for (size_t i = 1; i < value.size(); ++i) {
    char c = value[i];
    if (c == '"') return i + 1 == value.size() ? std::optional(out) : std::nullopt;
    if (c == '\\' && i + 1 < value.size()) c = value[++i];
    out += c;
  }
  return std::nullopt;
}

}  // namespace

Result<BearerChallenge> ParseBearerChallenge(std::string_view header) {
  auto items = SplitItems(header);
  if (!items) return items.status();
  BearerChallenge out;
  bool found = false;
  bool in_scheme = false;
  bool in_bearer = false;
  // challenge = scheme [ 1*SP ( token68 / #auth-param ) ], and challenges
  // and parameters are both separated by commas: an item whose first token
  // is followed by '=' is a parameter of the current challenge, any other
  // starts a new challenge (and may carry its first parameter).
  for (std::string_view item : *items) {
    item = Trim(item);
    if (item.empty()) continue;
    size_t n = TokenLength(item);
    if (n == 0) return Broken("unexpected character in \"" + std::string(item) + "\"");
    std::string_view rest = Trim(item.substr(n));
    if (rest.empty() || (IsSpace(item[n]) && rest.front() != '=')) {
      in_scheme = true;
      in_bearer = EqualsNoCase(item.substr(0, n), "Bearer");
      if (in_bearer && found) return Broken("two Bearer challenges");
      found = found || in_bearer;
      if (rest.empty()) continue;
      item = rest;
      n = TokenLength(item);
      rest = Trim(item.substr(n));
    }
    if (!in_scheme) return Broken("a parameter before any scheme");
    if (!in_bearer) continue;  // another scheme's parameters or token68
    if (n == 0 || rest.empty() || rest.front() != '=') {
      return Broken("expected name=value in \"" + std::string(item) + "\"");
    }
    auto value = ParseValue(Trim(rest.substr(1)));
    if (!value) return Broken("bad value in \"" + std::string(item) + "\"");
    std::string_view name = item.substr(0, n);
    if (EqualsNoCase(name, "realm")) {
      out.realm = std::move(*value);
    } else if (EqualsNoCase(name, "service")) {
      out.service = std::move(*value);
    } else if (EqualsNoCase(name, "scope")) {
      out.scope = std::move(*value);
    } else if (EqualsNoCase(name, "error")) {
      out.error = std::move(*value);
    }
  }
  if (!found) return Status(Errc::kUnauthorized, "the registry asks for a login other than Bearer");
  if (out.realm.empty()) return Broken("the Bearer challenge has no realm");
  return out;
}

}  // namespace berth::cli::admin
