#include "auth/scope.hpp"

#include <algorithm>

namespace berth::auth {
namespace {

bool IsValueChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// resourcetype := value ['(' value ')'], value = [a-z0-9]+. Returns the type
// without its class, or an empty string when malformed.
std::string ParseType(std::string_view t) {
  auto paren = t.find('(');
  std::string_view type = t.substr(0, paren);
  if (type.empty() || !std::all_of(type.begin(), type.end(), IsValueChar)) return {};
  if (paren != std::string_view::npos) {
    std::string_view cls = t.substr(paren + 1);
    if (cls.size() < 2 || cls.back() != ')') return {};
    cls.remove_suffix(1);
    if (!std::all_of(cls.begin(), cls.end(), IsValueChar)) return {};
  }
  return std::string(type);
}

}  // namespace

Result<Scope> ParseScope(std::string_view text) {
  auto first = text.find(':');
  auto last = text.rfind(':');
  if (first == std::string_view::npos || first == last) {
    return Status(Errc::kScopeInvalid, "scope must be type:name:actions");
  }
  Scope s;
  s.type = ParseType(text.substr(0, first));
  if (s.type.empty()) return Status(Errc::kScopeInvalid, "invalid scope type");
  s.name = std::string(text.substr(first + 1, last - first - 1));
  if (s.name.empty()) return Status(Errc::kScopeInvalid, "scope has no resource name");
  std::string_view actions = text.substr(last + 1);
  size_t start = 0;
  while (start <= actions.size()) {
    auto comma = actions.find(',', start);
    std::string_view a =
        actions.substr(start, comma == std::string_view::npos ? actions.npos : comma - start);
    bool ok =
        a == "*" || std::all_of(a.begin(), a.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    if (!ok) return Status(Errc::kScopeInvalid, "invalid scope action");
    if (!a.empty()) s.actions.emplace_back(a);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(s.actions.begin(), s.actions.end());
  s.actions.erase(std::unique(s.actions.begin(), s.actions.end()), s.actions.end());
  return s;
}

Result<std::vector<Scope>> ParseScopes(std::string_view text) {
  std::vector<Scope> out;
  size_t start = 0;
  while (start < text.size()) {
    auto space = text.find(' ', start);
    std::string_view one =
        text.substr(start, space == std::string_view::npos ? text.npos : space - start);
    if (!one.empty()) {
      auto s = ParseScope(one);
      if (!s) return s.status();
      out.push_back(std::move(s).value());
    }
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return out;
}

std::string ToString(const Scope& scope) {
  std::string s = scope.type + ":" + scope.name + ":";
  for (size_t i = 0; i < scope.actions.size(); ++i) {
    if (i) s += ',';
    s += scope.actions[i];
  }
  return s;
}

bool Allows(const std::vector<Scope>& granted, std::string_view type, std::string_view name,
            std::string_view action) {
  for (const auto& g : granted) {
    if (g.type != type || g.name != name) continue;
    for (const auto& a : g.actions) {
      if (a == action || a == "*") return true;
    }
  }
  return false;
}

}  // namespace berth::auth
