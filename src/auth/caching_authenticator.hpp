// CachingAuthenticator: puts a LoginCache in front of any Authenticator, so
// that the bcrypt (or network) cost of a login is paid once per TTL rather
// than on every token request. Only successes are cached (see LoginCache for
// the keying and the bound); a removed user or changed password keeps
// working for at most the TTL.
//
// Thread-safety: safe from many threads, like the wrapped authenticator.
#pragma once

#include "auth/authenticator.hpp"
#include "auth/login_cache.hpp"

namespace berth::auth {

class CachingAuthenticator final : public Authenticator {
 public:
  // `inner` must outlive this object.
  CachingAuthenticator(Authenticator& inner, LoginCacheOptions options);

  AuthResult Authenticate(const std::string& user, const Secret& password) override;

  // Forgets every cached login (e.g. when the user file changes).
  void Clear() { cache_.Clear(); }

 private:
  Authenticator& inner_;
  LoginCache cache_;
};

}  // namespace berth::auth
