// CachingAuthenticator: puts a LoginCache in front of any Authenticator, so
// that the bcrypt (or network) cost of a login is paid once per TTL rather
// than on every token request. Only successes are cached (see LoginCache for
// the keying and the bound). When the wrapped backend has credential
// generations (the user file), they are part of the key: a changed password
// or a removed user stops matching as soon as the backend sees the change
// (the user file is re-read within a second). Without generations
// (Keystone), such a change takes effect within the TTL.
//
// Thread-safety: safe from many threads, like the wrapped authenticator.
#pragma once

#include "auth/authenticator.hpp"
#include "auth/login_cache.hpp"

namespace berth::auth {

class CachingAuthenticator final : public Authenticator {
 public:
  // `inner` must outlive this object. `clock` is the cache's (tests); null
  // is the steady clock.
  CachingAuthenticator(Authenticator& inner, LoginCacheOptions options,
                       LoginCache::Clock clock = nullptr);

  AuthResult Authenticate(const std::string& user, const Secret& password) override;
  // The wrapped backend's answer.
  Result<std::string> CredentialGeneration(const std::string& user) override;
  // The wrapped backend's answers, never cached (a session is per login).
  AuthResult AuthenticateSession(const std::string& user, const Secret& password) override {
    return inner_.AuthenticateSession(user, password);
  }
  AuthResult RecheckSession(const std::string& user, const Secret& session) override {
    return inner_.RecheckSession(user, session);
  }

  std::optional<CacheStats> LoginCacheStats() const override { return cache_.Stats(); }

  // Forgets every cached login (on SIGHUP).
  void Clear() { cache_.Clear(); }

 private:
  Authenticator& inner_;
  LoginCache cache_;
};

}  // namespace berth::auth
