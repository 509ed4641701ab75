// Scopes of the Docker token protocol (distribution docs/spec/auth/scope.md):
//   scope         := resourcescope (' ' resourcescope)*
//   resourcescope := type ['(' class ')'] ':' name ':' action (',' action)*
// A name may itself hold one ':' (a "host:port/" prefix), so the type ends
// at the first ':' and the actions start after the last one.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace berth::auth {

struct Scope {
  std::string type;                  // "repository", "registry", ... (class dropped)
  std::string name;                  // "alice/app", "catalog"
  std::vector<std::string> actions;  // "pull", "push", "delete", "*"; sorted, unique

  friend bool operator==(const Scope&, const Scope&) = default;
};

// Parses one resource scope; a malformed one is Errc::kScopeInvalid with the reason.
Result<Scope> ParseScope(std::string_view text);

// Parses a space-separated list; empty text gives an empty list.
Result<std::vector<Scope>> ParseScopes(std::string_view text);

// "type:name:a,b" — the wire form, as used in challenges and tokens.
std::string ToString(const Scope& scope);

// True when `granted` contains `action` for (type, name), "*" matching any.
bool Allows(const std::vector<Scope>& granted, std::string_view type, std::string_view name,
            std::string_view action);

}  // namespace berth::auth
