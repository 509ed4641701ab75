#include "auth/keystone/keystone_authenticator.hpp"

#include <chrono>
#include <utility>

#include "auth/keystone/http_post.hpp"
#include "auth/keystone/keystone_protocol.hpp"

namespace berth::auth {

namespace {

// Ten minutes: a longer wait is a misconfiguration, not patience.
constexpr int64_t kMaxTimeoutMs = 600'000;

std::string Millis(std::chrono::steady_clock::time_point since) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  since);
  return std::to_string(ms.count()) + " ms";
}

}  // namespace

Result<std::unique_ptr<KeystoneAuthenticator>> KeystoneAuthenticator::Create(
    KeystoneOptions options, LoginCache::Clock clock) {
  auto url = keystone::TokensUrl(options.url);
  if (!url) return url.status();
  if (options.timeout_ms <= 0 || options.timeout_ms > kMaxTimeoutMs) {
    return Status(Errc::kInternal,
                  "keystone timeout_ms: must be in 1.." + std::to_string(kMaxTimeoutMs));
  }
  if (options.call_threads < 1) {
    return Status(Errc::kInternal, "keystone threads: must be at least 1");
  }
  if (options.cache_ttl_s < 0) {
    return Status(Errc::kInternal, "keystone cache_ttl_s: must not be negative");
  }
  if (options.user_domain.empty() && options.user_domain_id.empty()) {
    return Status(Errc::kInternal, "keystone user_domain: a user domain name or id is required");
  }
  if (!options.project.empty() && options.project_domain.empty() &&
      options.project_domain_id.empty()) {
    return Status(Errc::kInternal,
                  "keystone project_domain: a project domain name or id is required");
  }
  return std::unique_ptr<KeystoneAuthenticator>(
      new KeystoneAuthenticator(std::move(options), std::move(url).value(), std::move(clock)));
}

KeystoneAuthenticator::KeystoneAuthenticator(KeystoneOptions options, std::string tokens_url,
                                             LoginCache::Clock clock)
    : options_(std::move(options)),
      tokens_url_(std::move(tokens_url)),
      cache_(
          LoginCacheOptions{std::chrono::seconds(options_.cache_ttl_s), options_.cache_max_entries},
          std::move(clock)),
      calls_(options_.call_threads, options_.call_queue) {}

KeystoneAuthenticator::~KeystoneAuthenticator() = default;

AuthResult KeystoneAuthenticator::Authenticate(const std::string& user, const Secret& password) {
  if (user.empty() || password.empty()) {
    return AuthResult{AuthOutcome::kBadCredentials, {}, "empty user name or password"};
  }
  const std::optional<std::string> key = cache_.Key(user, password);
  if (!key) return AuthResult{AuthOutcome::kBadCredentials, {}, "NUL in user name"};

  // Either find the answer remembered or in flight, or become the caller
  // that asks Keystone for everyone with these credentials.
  std::shared_ptr<Flight> flight;
  {
    MutexLock lock(flights_mu_);
    if (auto it = flights_.find(*key); it != flights_.end()) {
      std::shared_ptr<Flight> other = it->second;
      // The leader's HTTP call is bounded by timeout_ms; the margin covers
      // its scheduling. Waking without an answer is reported, not guessed.
      const auto limit = std::chrono::milliseconds(options_.timeout_ms + 1000);
      if (!other->done_cv.wait_for(lock.native(), limit, [&] { return other->done; })) {
        return AuthResult{
            AuthOutcome::kUnavailable, {}, "timed out waiting for a concurrent keystone login"};
      }
      AuthResult shared = other->result;
      shared.detail += " (shared with a concurrent login)";
      return shared;
    }
    if (std::optional<Identity> hit = cache_.Lookup(*key)) {
      return AuthResult{AuthOutcome::kOk, std::move(*hit), "keystone login cached"};
    }
    flight = std::make_shared<Flight>();
    flights_.emplace(*key, flight);
  }

  AuthResult result = OnPool([&] { return CallKeystone(user, password); });
  // Keystone's token is only for AuthenticateSession: never shared, never cached.
  result.session = Secret();
  // Into the cache before the flight ends, so that a caller arriving after
  // it finds one or the other. Only successes are remembered.
  if (result.outcome == AuthOutcome::kOk) cache_.Insert(*key, result.identity);
  {
    MutexLock lock(flights_mu_);
    flight->result = result;
    flight->done = true;
    flights_.erase(*key);
  }
  flight->done_cv.notify_all();
  return result;
}

AuthResult KeystoneAuthenticator::OnPool(const std::function<AuthResult()>& call) {
  const auto start = std::chrono::steady_clock::now();
  AuthResult result;
  if (!calls_.Run([&] { result = call(); })) {
    // Not a Keystone call: not observed, and never cached.
    return AuthResult{AuthOutcome::kUnavailable,
                      {},
                      "keystone: " + std::to_string(options_.call_threads) + " calls running and " +
                          std::to_string(options_.call_queue) + " waiting; refused"};
  }
  if (options_.observe_call) {
    options_.observe_call(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
        result.outcome);
  }
  return result;
}

AuthResult KeystoneAuthenticator::AuthenticateSession(const std::string& user,
                                                      const Secret& password) {
  if (user.empty() || password.empty()) {
    return AuthResult{AuthOutcome::kBadCredentials, {}, "empty user name or password"};
  }
  const std::optional<std::string> key = cache_.Key(user, password);
  if (!key) return AuthResult{AuthOutcome::kBadCredentials, {}, "NUL in user name"};
  AuthResult result = OnPool([&] { return CallKeystone(user, password); });
  if (result.outcome != AuthOutcome::kOk) return result;
  if (result.session.empty()) {
    return AuthResult{AuthOutcome::kUnavailable, {}, result.detail + " without X-Subject-Token"};
  }
  cache_.Insert(*key, result.identity);
  return result;
}

AuthResult KeystoneAuthenticator::RecheckSession(const std::string& user, const Secret& session) {
  if (session.empty()) return AuthResult{AuthOutcome::kBadCredentials, {}, "no keystone token"};
  return OnPool([&] { return CallValidate(user, session); });
}

PostOptions KeystoneAuthenticator::CallOptions() const {
  PostOptions o;
  o.timeout_ms = options_.timeout_ms;
  o.verify_tls = options_.verify_tls;
  o.ca_file = options_.ca_file;
  return o;
}

AuthResult KeystoneAuthenticator::Unreachable(const PostReply& reply,
                                              std::chrono::steady_clock::time_point start) const {
  return AuthResult{AuthOutcome::kUnavailable,
                    {},
                    "keystone " + tokens_url_ + ": " + reply.error + " (" + Millis(start) + ")"};
}

AuthResult KeystoneAuthenticator::CallValidate(const std::string& user,
                                               const Secret& session) const {
  const auto start = std::chrono::steady_clock::now();
  PostReply reply = HttpGet(
      tokens_url_, {{"X-Auth-Token", session.reveal()}, {"X-Subject-Token", session.reveal()}},
      CallOptions());
  if (!reply.transport_ok) return Unreachable(reply, start);
  AuthResult result = keystone::InterpretValidateResponse(options_, user, reply.status, reply.body);
  result.detail += " in " + Millis(start);
  return result;
}

AuthResult KeystoneAuthenticator::CallKeystone(const std::string& user,
                                               const Secret& password) const {
  const auto start = std::chrono::steady_clock::now();
  PostReply reply =
      HttpPost(tokens_url_, keystone::AuthRequestBody(options_, user, password), CallOptions());
  if (!reply.transport_ok) return Unreachable(reply, start);
  AuthResult result = keystone::InterpretAuthResponse(options_, user, reply.status, reply.body);
  result.detail += " in " + Millis(start);
  if (result.outcome == AuthOutcome::kOk) {
    if (auto token = reply.Header("X-Subject-Token")) result.session = Secret(std::move(*token));
  }
  return result;
}

}  // namespace berth::auth
