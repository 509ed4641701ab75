// Authenticator: checks a user name and password against an identity
// backend (the htpasswd file, Keystone). "Wrong password" is an answer, not
// an error; an unreachable backend is kUnavailable and must never be taken
// for either a grant or a refusal.
//
// Thread-safety: implementations are safe to call from many threads. Calls
// may block (bcrypt, network); run them on the blocking pool.
#pragma once

#include <memory>
#include <string>

#include "auth/identity.hpp"
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
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual AuthResult Authenticate(const std::string& user, const Secret& password) = 0;
};

using AuthenticatorPtr = std::unique_ptr<Authenticator>;

}  // namespace berth::auth
