#include "auth/caching_authenticator.hpp"

namespace berth::auth {

CachingAuthenticator::CachingAuthenticator(Authenticator& inner, LoginCacheOptions options,
                                           LoginCache::Clock clock)
    : inner_(inner), cache_(options, std::move(clock)) {}

AuthResult CachingAuthenticator::Authenticate(const std::string& user, const Secret& password) {
  // The key carries the user's credential generation: a changed password or
  // a deleted (or re-created) account misses every older entry at once, with
  // no race against a login that was checked against the old file.
  Result<std::string> generation = inner_.CredentialGeneration(user);
  if (!generation.ok() && generation.status().code() != Errc::kUnsupported) {
    // Unknown user or unreadable backend: nothing cached may answer; the
    // backend says no (after its dummy bcrypt) or that it is unavailable.
    return inner_.Authenticate(user, password);
  }
  const std::string_view stamp = generation.ok() ? std::string_view(*generation) : "";
  auto key = cache_.Key(user, password, stamp);
  if (key) {
    if (auto identity = cache_.Lookup(*key)) return {AuthOutcome::kOk, *identity, "cached login"};
  }
  AuthResult r = inner_.Authenticate(user, password);
  if (r.outcome == AuthOutcome::kOk && key) cache_.Insert(*key, r.identity);
  return r;
}

Result<std::string> CachingAuthenticator::CredentialGeneration(const std::string& user) {
  return inner_.CredentialGeneration(user);
}

}  // namespace berth::auth
