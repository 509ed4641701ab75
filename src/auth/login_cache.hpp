// LoginCache: a short-lived, bounded memory of SUCCESSFUL logins, so that a
// registry client asking the token server several times per command does not
// pay a Keystone round trip (and its bcrypt) each time.
//
// Entries are keyed by SHA-256(salt || user || 0x00 || password), with a
// random salt drawn once per cache (so per process): neither the password nor
// an unsalted hash of it is ever stored, and keys are useless outside this
// process. Only successes go in; a failure is never remembered, so it can
// never be replayed as a success. Every entry lives `ttl` after it was put in
// (a hit does not extend it); when `max_entries` are held, the oldest entry
// makes room (the policy of TtlCache, which holds the entries).
//
// A consequence to keep in mind: a password changed or a user disabled in
// Keystone still logs in here for up to `ttl`.
//
// Thread-safety: all methods are safe to call from many threads (one mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/identity.hpp"
#include "common/cache_stats.hpp"
#include "common/secret.hpp"
#include "common/ttl_cache.hpp"

namespace berth::auth {

struct LoginCacheOptions {
  // How long a successful login is remembered. 0 disables the cache. Longer
  // saves Keystone load but delays password changes and disabled accounts
  // taking effect by as much.
  std::chrono::seconds ttl{60};
  // At most this many logins are held (about 200 bytes each). 0 disables.
  size_t max_entries = 10000;
};

class LoginCache {
 public:
  using Clock = TtlCache<Identity>::Clock;

  // `clock` defaults to std::chrono::steady_clock::now; tests inject a fake.
  // Throws std::runtime_error when no random salt can be had (start-up only).
  explicit LoginCache(LoginCacheOptions options, Clock clock = nullptr);

  LoginCache(const LoginCache&) = delete;
  LoginCache& operator=(const LoginCache&) = delete;

  // The cache key of (user, password, generation): the salted SHA-256 as 64
  // hex characters. `generation` is the user's credential generation
  // (Authenticator::CredentialGeneration) when the backend has one, so that
  // a changed or deleted account never matches an older entry. Returns
  // nullopt for credentials that are never cached: a user name or generation
  // containing a NUL byte (it would make the key ambiguous).
  std::optional<std::string> Key(const std::string& user, const Secret& password,
                                 std::string_view generation = {}) const;

  // The identity remembered under `key`, or nullopt when there is none or it
  // has expired (an expired entry is dropped).
  std::optional<Identity> Lookup(const std::string& key);

  // Remembers a successful login for ttl, replacing any entry under the same
  // key. Call only when the backend said yes. No-op when disabled.
  void Insert(const std::string& key, const Identity& identity);

  // Forgets everything (e.g. on configuration reload).
  void Clear();

  // Entries held, expired ones not yet dropped included.
  size_t size() const;

  CacheStats Stats() const;

 private:
  const LoginCacheOptions options_;
  const std::string salt_;
  TtlCache<Identity> entries_;
};

}  // namespace berth::auth
