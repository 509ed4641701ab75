// Authenticator: checks a user name and password against an identity
// backend (the htpasswd file, Keystone). "Wrong password" is an answer, not
// an error; an unreachable backend is kUnavailable and must never be taken
// for either a grant or a refusal.
//
// Thread-safety: implementations are safe to call from many threads. Calls
// may block (bcrypt, network); run them on the blocking pool.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "auth/identity.hpp"
#include "common/cache_stats.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

namespace berth::auth {

enum class AuthOutcome {
  kOk,              // identity is filled in
  kBadCredentials,  // unknown user or wrong password (indistinguishable on purpose)
  kUnavailable,     // the backend could not be asked; detail says why
};

struct AuthResult {
  AuthOutcome outcome = AuthOutcome::kBadCredentials;
  Identity identity;
  std::string detail;  // for logs; never contains the password
  // The backend's own session token (Keystone's X-Subject-Token), only from
  // AuthenticateSession of a backend that has one; empty otherwise. (The
  // initializer lets {outcome, identity, detail} results leave it out.)
  Secret session{};
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual AuthResult Authenticate(const std::string& user, const Secret& password) = 0;

  // The current credential generation of `user`: an opaque string (64 hex
  // digits) that changes whenever the user's stored credential does - the
  // password is changed, or the account is deleted (and perhaps created
  // again under the same name). Refresh tokens and cached logins are bound
  // to it, so any such change invalidates them without further state.
  // Cheap: no bcrypt, no network. Errors: kUnauthorized when the user does
  // not exist (any more); kUnavailable when the backend cannot be read;
  // kUnsupported when the backend keeps no credential to compare (Keystone,
  // and the default).
  virtual Result<std::string> CredentialGeneration(const std::string& user) {
    (void)user;
    return Status(Errc::kUnsupported, "the identity backend has no credential generations");
  }

  // Authenticate, for a login that asks for a refresh token: a backend
  // without credential generations (Keystone) also answers its own session
  // token in AuthResult::session, which RecheckSession can check again
  // later without the password. Never answered from a login cache (a cached
  // login has no session). Default: Authenticate.
  virtual AuthResult AuthenticateSession(const std::string& user, const Secret& password) {
    return Authenticate(user, password);
  }

  // Asks the backend whether a session from AuthenticateSession for `user`
  // still holds: kOk with the identity as the backend sees it now (admin
  // re-read), kBadCredentials when it no longer does (expired, revoked, user
  // disabled or deleted), kUnavailable when the backend cannot be asked.
  // Blocks like Authenticate. Default: kBadCredentials (no sessions).
  virtual AuthResult RecheckSession(const std::string& user, const Secret& session) {
    (void)user;
    (void)session;
    return AuthResult{AuthOutcome::kBadCredentials, {}, "the identity backend has no sessions"};
  }

  // The login cache in front of or inside this authenticator, if any.
  virtual std::optional<CacheStats> LoginCacheStats() const { return std::nullopt; }
};

using AuthenticatorPtr = std::unique_ptr<Authenticator>;

}  // namespace berth::auth
