// Fuzz target for auth/scope: the `scope` parameter of token requests, read
// from any client. Beyond not crashing, an accepted list must print back to
// text that parses to the same scopes (tokens carry scopes in that form),
// hold sorted unique actions, and grant exactly what it lists.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/scope.hpp"
#include "fuzz_check.hpp"

using berth::auth::Scope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto scopes = berth::auth::ParseScopes(text);
  if (!scopes) {
    FUZZ_CHECK(scopes.status().code() == berth::Errc::kScopeInvalid);
    return 0;
  }
  for (const Scope& s : *scopes) {
    FUZZ_CHECK(!s.type.empty() && !s.name.empty());
    FUZZ_CHECK(std::is_sorted(s.actions.begin(), s.actions.end()));
    FUZZ_CHECK(std::adjacent_find(s.actions.begin(), s.actions.end()) == s.actions.end());

    auto again = berth::auth::ParseScope(berth::auth::ToString(s));
    FUZZ_CHECK(again && *again == s);

    for (const std::string& a : s.actions) {
      FUZZ_CHECK(berth::auth::Allows(*scopes, s.type, s.name, a));
    }
    const bool star = std::find(s.actions.begin(), s.actions.end(), "*") != s.actions.end();
    if (star) FUZZ_CHECK(berth::auth::Allows(*scopes, s.type, s.name, "anything"));
  }
  // Spaces separate scopes, so no parsed name holds one and nothing grants it.
  FUZZ_CHECK(!berth::auth::Allows(*scopes, "repository", "a b", "pull"));
  return 0;
}
