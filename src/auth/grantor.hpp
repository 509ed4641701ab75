// Grantor: which of the requested scopes a user gets. An interface so that
// parts which only ask (the web interface filtering the catalog) depend on
// berth_auth_api, not on the policy's implementation (auth/policy.hpp is the
// one implementation; tests may fake it).
//
// Thread-safety: implementations must allow concurrent calls.
#pragma once

#include <vector>

#include "auth/identity.hpp"
#include "auth/scope.hpp"

namespace berth::auth {

class Grantor {
 public:
  virtual ~Grantor() = default;

  // The subset of `requested` that `who` may have, action by action.
  // Scopes left with no action are dropped; a refusal is never an error.
  virtual std::vector<Scope> Grant(const Identity& who,
                                   const std::vector<Scope>& requested) const = 0;
};

}  // namespace berth::auth
