// Policy: which of the requested scopes a user gets. Denied scopes are left
// out, never an error (the registry then answers insufficient_scope).
//
// Default rules (ARCHITECTURE.md, Authorization):
//  - a user owns the namespace named exactly after them: "alice/..." (the
//    '/' is part of the match: alice never owns "alice2/..." and a repository
//    named just "alice" is nobody's) and gets pull, push, delete and "*" there;
//  - admins get everything, including registry:catalog:* and registry:admin:*
//    (the GC and usage extensions);
//  - public namespaces (default "public/") may be pulled by any
//    authenticated user, and by anonymous clients when anonymous_pull is on;
//    only admins push there (a user named "public" owns nothing);
//  - reserved namespaces are closed to everybody but admins, owners included;
//  - everything else is denied.
//
// Thread-safety: immutable after construction; Grant is a pure function.
#pragma once

#include <string>
#include <vector>

#include "auth/grantor.hpp"
#include "auth/identity.hpp"
#include "auth/scope.hpp"

namespace berth::auth {

struct PolicyOptions {
  std::vector<std::string> admins;                       // user names with full rights
  std::vector<std::string> public_namespaces{"public"};  // pull for every authenticated user
  std::vector<std::string> reserved_namespaces;          // admins only
  bool anonymous_pull = false;                           // anonymous may pull public namespaces
};

class Policy : public Grantor {
 public:
  explicit Policy(PolicyOptions options) : options_(std::move(options)) {}

  // The subset of `requested` that `who` may have, action by action.
  // Scopes left with no action are dropped.
  std::vector<Scope> Grant(const Identity& who, const std::vector<Scope>& requested) const override;

  // Whether `who` counts as an admin (the Identity flag or the admin list).
  bool IsAdmin(const Identity& who) const;

 private:
  const PolicyOptions options_;
};

}  // namespace berth::auth
