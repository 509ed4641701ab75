#include "cli/admin/link.hpp"

#include <strings.h>

#include <boost/url/parse.hpp>

namespace berth::cli::admin {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The first `c` in `s` outside quoted strings, or npos.
size_t FindUnquoted(std::string_view s, char c) {
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && s[i] == c) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Whether the space-separated rel values in `rel` include "next".
bool RelHasNext(std::string_view rel) {
  if (rel.size() >= 2 && rel.front() == '"' && rel.back() == '"')
    rel = rel.substr(1, rel.size() - 2);
  while (!rel.empty()) {
    rel = Trim(rel);
    size_t end = rel.find_first_of(" \t");
    std::string_view one = rel.substr(0, end);
    if (one.size() == 4 && ::strncasecmp(one.data(), "next", 4) == 0) return true;
    if (end == std::string_view::npos) break;
    rel.remove_prefix(end);
  }
  return false;
}

// The path and query of `uri`, a reference relative to the registry or an
// absolute http(s) URL; nullopt for anything else.
std::optional<std::string> PathAndQuery(std::string_view uri) {
  if (!uri.empty() && uri.front() == '/' && (uri.size() == 1 || uri[1] != '/')) {
    if (!boost::urls::parse_origin_form(uri)) return std::nullopt;
    return std::string(uri);
  }
  auto absolute = boost::urls::parse_absolute_uri(uri);
  if (!absolute || (absolute->scheme() != "https" && absolute->scheme() != "http")) {
    return std::nullopt;
  }
  std::string target(absolute->encoded_target());
  if (target.empty() || target.front() != '/') return std::nullopt;
  return target;
}

}  // namespace

std::optional<std::string> NextPageTarget(std::string_view header) {
  // link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param ), several
  // separated by commas; a URI cannot hold '>', a quoted parameter may hold
  // ',' or ';'.
  while (!header.empty()) {
    header = Trim(header);
    if (header.empty() || header.front() != '<') {
      size_t comma = FindUnquoted(header, ',');
      if (comma == std::string_view::npos) return std::nullopt;
      header.remove_prefix(comma + 1);
      continue;
    }
    size_t close = header.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view uri = header.substr(1, close - 1);
    header.remove_prefix(close + 1);
    size_t end = FindUnquoted(header, ',');
    std::string_view params = header.substr(0, end);
    header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
    bool next = false;
    while (!params.empty()) {
      params = Trim(params);
      if (params.empty() || params.front() != ';') break;
      params.remove_prefix(1);
      size_t semi = FindUnquoted(params, ';');
      std::string_view param = Trim(params.substr(0, semi));
      params.remove_prefix(semi == std::string_view::npos ? params.size() : semi);
      size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view name = Trim(param.substr(0, eq));
      if (name.size() == 3 && ::strncasecmp(name.data(), "rel", 3) == 0 &&
          RelHasNext(Trim(param.substr(eq + 1)))) {
        next = true;
      }
    }
    if (next) return PathAndQuery(uri);
  }
  return std::nullopt;
}

}  // namespace berth::cli::admin
