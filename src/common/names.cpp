#include "common/names.hpp"

#include <cstdio>
#include <iterator>

namespace berth {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool IsComponent(std::string_view c) {
  size_t i = 0;
  const size_t n = c.size();
  auto alnum_run = [&] {
    size_t start = i;
    while (i < n && IsLowerAlnum(c[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < n) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < n && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < n && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

}  // namespace

Status ValidateRepositoryName(std::string_view name) {
  if (name.empty()) return {Errc::kNameInvalid, "repository name is empty"};
  if (name.size() > kMaxRepositoryNameLength) {
    return {Errc::kNameInvalid, "repository name longer than " +
                                    std::to_string(kMaxRepositoryNameLength) + " characters"};
  }
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view comp =
        name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    if (!IsComponent(comp)) {
      return {Errc::kNameInvalid,
              "invalid repository name: components must be lower-case letters and digits "
              "separated by '.', '_', '__' or '-'"};
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status ValidateTag(std::string_view tag) {
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (tag.empty() || tag.size() > 128 || !word(tag[0])) {
    return {Errc::kTagInvalid, "invalid tag: must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"};
  }
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') {
      return {Errc::kTagInvalid, "invalid tag: must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"};
    }
  }
  return Status::Ok();
}

Result<Reference> ParseReference(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto d = Digest::Parse(text);
    if (!d) return d.status();
    return Reference(std::move(d).value());
  }
  if (auto s = ValidateTag(text); !s.ok()) return s;
  return Reference(std::string(text));
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace berth
