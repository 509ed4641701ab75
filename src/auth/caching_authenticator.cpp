#include "auth/caching_authenticator.hpp"

namespace berth::auth {

CachingAuthenticator::CachingAuthenticator(Authenticator& inner, LoginCacheOptions options)
    : inner_(inner), cache_(options) {}

AuthResult CachingAuthenticator::Authenticate(const std::string& user, const Secret& password) {
  auto key = cache_.Key(user, password);
  if (key) {
    if (auto identity = cache_.Lookup(*key)) return {AuthOutcome::kOk, *identity, "cached login"};
  }
  AuthResult r = inner_.Authenticate(user, password);
  if (r.outcome == AuthOutcome::kOk && key) cache_.Insert(*key, r.identity);
  return r;
}

}  // namespace berth::auth
