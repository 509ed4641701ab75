// AccessGate: what a server in front of the registry's data asks of a bearer
// token: does this Authorization header carry a valid token, and what does
// it grant; and what challenge sends a client without one to the token
// server. An interface so that registry/ and ui/ depend on berth_auth_api
// alone, not on the JWT implementation (auth/bearer/bearer.hpp is the one
// implementation; tests may fake it).
//
// Thread-safety: implementations must allow concurrent calls to both methods.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scope.hpp"

namespace berth::auth {

// The part of a verified token that callers act on.
struct GrantedClaims {
  std::string subject;        // `sub`: the user the token was issued to
  std::vector<Scope> access;  // what the token grants
};

struct BearerCheck {
  enum Kind { kOk, kMissing, kInvalid } kind = kMissing;
  GrantedClaims claims;  // when kOk
  std::string reason;    // when kInvalid, for the log
};

class AccessGate {
 public:
  virtual ~AccessGate() = default;

  // Checks the Authorization header (absent or not Bearer: kMissing).
  virtual BearerCheck Check(std::optional<std::string_view> authorization) const = 0;

  // The WWW-Authenticate value for a request that needs `needed`; `error`
  // is empty, "invalid_token" or "insufficient_scope".
  virtual std::string Challenge(const std::vector<Scope>& needed, std::string_view error) const = 0;
};

}  // namespace berth::auth
