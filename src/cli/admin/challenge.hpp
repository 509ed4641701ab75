// The Bearer challenge of a registry's 401 (WWW-Authenticate, RFC 7235
// section 4.1 and the Docker token authentication spec): where to ask for a
// token, for which service and which scope. Parsed here, apart from the
// client, so the grammar is tested without sockets.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace berth::cli::admin {

struct BearerChallenge {
  std::string realm;    // the token endpoint's URL
  std::string service;  // may be empty
  std::string scope;    // space-separated scopes; may be empty
  std::string error;    // "insufficient_scope", "invalid_token" or empty
};

// The Bearer challenge among those in `header` (schemes and parameter names
// in any case, values as tokens or quoted strings with backslash escapes,
// other challenges such as Basic skipped). kUnauthorized when there is no
// Bearer challenge, its syntax is broken, or it names no realm.
Result<BearerChallenge> ParseBearerChallenge(std::string_view header);

}  // namespace berth::cli::admin
