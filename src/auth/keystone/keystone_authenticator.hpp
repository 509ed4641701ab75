// KeystoneAuthenticator: checks a user name and password against OpenStack
// Keystone (identity API v3) with `POST {url}/v3/auth/tokens`, password
// method, over Beast's HTTP client (HttpPost).
//
// Without a project the request says "scope":"unscoped" explicitly (else a
// user with a default project gets a scoped token anyway, and a missing role
// there would turn a right password into a 401). With a project it asks for
// a project-scoped token and reads token.roles: holding `admin_role` there
// makes the identity an admin.
//
// Answers: 201 -> kOk; 400/401/403/404 -> kBadCredentials (Keystone does not
// tell a wrong password from an unknown or disabled user, nor from a user with
// no role on the project); refused or failed connections, TLS errors,
// timeouts, 5xx and anything unexpected -> kUnavailable, which the token
// server answers with 503, never 401. `detail` says why, for the log; it
// never contains the password, nor Keystone's error text (which can echo
// input).
//
// Successful logins are remembered for a short time (LoginCache), and
// concurrent logins with identical credentials share one Keystone call.
//
// Sessions (for refresh tokens, auth::Authenticator): AuthenticateSession
// always asks Keystone and answers the token it issued (X-Subject-Token);
// RecheckSession validates such a token with `GET /v3/auth/tokens`, the
// user's own token as both X-Auth-Token and X-Subject-Token (Keystone's
// default policy lets the token's subject do so), and re-reads the roles.
// Keystone's tokens are never cached, logged, or shared between logins.
//
// Thread-safety: Authenticate is safe to call from many threads at once; it
// blocks for up to `timeout_ms` (run it on the blocking pool) while its call
// runs on the authenticator's own bounded pool (call_threads, call_queue).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/authenticator.hpp"
#include "auth/login_cache.hpp"
#include "common/bounded_pool.hpp"
#include "common/result.hpp"
#include "common/thread_annotations.hpp"

namespace berth::auth {

// Declared here only: the header stays free of the HTTP client, so the parser
// fuzz target can include it without linking one (http_post.hpp).
struct PostOptions;
struct PostReply;

struct KeystoneOptions {
  // Keystone's public endpoint, with or without the trailing "/v3"
  // ("http://127.0.0.1:5000/v3", "https://keystone.example:5000",
  // "http://host/identity"). http or https only. Required.
  std::string url;
  // The domain users log in to, by name (case-sensitive: bootstrap creates
  // "Default", whose id is "default").
  std::string user_domain = "Default";
  // When set, the user domain is sent by id instead and user_domain is ignored.
  std::string user_domain_id;
  // When set, ask for a token scoped to this project (by name) to learn the
  // user's roles; a user with no role on it cannot log in. Empty: unscoped,
  // the password alone is checked and nobody is admin through Keystone.
  std::string project;
  // The project's domain, by name, or by id when project_domain_id is set.
  std::string project_domain = "Default";
  std::string project_domain_id;
  // A role on `project` that makes the user an admin. Keystone's implied
  // roles count (bootstrap's admin implies member and reader).
  std::string admin_role = "admin";
  // PEM bundle to verify Keystone's certificate; empty: the system store.
  std::string ca_file;
  // false accepts any certificate (testing only: exposes every password to
  // whoever can intercept the connection).
  bool verify_tls = true;
  // Bound on one Keystone call, connecting included. Logins waiting longer
  // than this fail with kUnavailable. Keystone takes ~0.3 s per login at
  // bcrypt cost 12.
  int64_t timeout_ms = 5000;
  // Successful logins are remembered this long (0: no cache) ...
  int64_t cache_ttl_s = 60;
  // ... up to this many (0: no cache).
  size_t cache_max_entries = 10000;
  // Keystone calls run on a pool of their own: at most call_threads at once,
  // call_queue more waiting; the next login is kUnavailable at once rather
  // than one more thread of the caller's pool waiting (docs/threads.md).
  size_t call_threads = 4;
  size_t call_queue = 4;
  // Told of each real call to Keystone (not of cache hits): its seconds and
  // outcome, for metrics. May be empty; must be thread-safe.
  std::function<void(double, AuthOutcome)> observe_call;
};

class KeystoneAuthenticator : public Authenticator {
 public:
  // Checks the options and builds the authenticator. Returns
  // kInternal naming the option when the url is not http(s)://host[...] or a
  // number is out of range. `clock` is for tests (the cache's clock); null is
  // the steady clock.
  static Result<std::unique_ptr<KeystoneAuthenticator>> Create(KeystoneOptions options,
                                                               LoginCache::Clock clock = nullptr);

  ~KeystoneAuthenticator() override;
  KeystoneAuthenticator(const KeystoneAuthenticator&) = delete;
  KeystoneAuthenticator& operator=(const KeystoneAuthenticator&) = delete;

  // Checks (user, password) with Keystone, or the cache. kOk fills identity
  // with {name = user as given, admin from the roles, authenticated = true}.
  // An empty user or password is kBadCredentials without asking Keystone.
  AuthResult Authenticate(const std::string& user, const Secret& password) override;

  // A login that always reaches Keystone (on the pool, like Authenticate's
  // calls) and answers Keystone's token in AuthResult::session. A 201
  // without X-Subject-Token is kUnavailable. Refreshes the login cache.
  AuthResult AuthenticateSession(const std::string& user, const Secret& password) override;

  // Validates a token from AuthenticateSession with Keystone, on the pool
  // (keystone_protocol.hpp, InterpretValidateResponse, for the outcomes).
  AuthResult RecheckSession(const std::string& user, const Secret& session) override;

  std::optional<CacheStats> LoginCacheStats() const override { return cache_.Stats(); }

  // The URL logins are posted to, e.g. "http://127.0.0.1:5000/v3/auth/tokens?nocatalog".
  const std::string& tokens_url() const { return tokens_url_; }

 private:
  // One Keystone call in progress; others with the same credentials wait for it.
  struct Flight {
    std::condition_variable done_cv;
    bool done = false;
    AuthResult result;
  };

  KeystoneAuthenticator(KeystoneOptions options, std::string tokens_url, LoginCache::Clock clock);

  // POSTs to Keystone and interprets the answer, Keystone's token in
  // `session` when it gave one. No caching.
  AuthResult CallKeystone(const std::string& user, const Secret& password) const;
  // GETs Keystone's validation of `session` and interprets the answer.
  AuthResult CallValidate(const std::string& user, const Secret& session) const;
  // The connection options of every call to Keystone.
  PostOptions CallOptions() const;
  // The answer when Keystone could not be reached (503, never a refusal).
  AuthResult Unreachable(const PostReply& reply, std::chrono::steady_clock::time_point start) const;
  // Runs `call` on the pool, observed; kUnavailable when the pool is full.
  AuthResult OnPool(const std::function<AuthResult()>& call);

  const KeystoneOptions options_;
  const std::string tokens_url_;
  LoginCache cache_;

  Mutex flights_mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_ GUARDED_BY(flights_mu_);
  // Last: joined first, while what its calls use still exists.
  BoundedPool calls_;
};

}  // namespace berth::auth
