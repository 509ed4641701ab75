// TokenService: the token server's HTTP endpoint (the Docker registry token
// protocol, distribution docs/spec/auth/token.md and oauth.md):
//   GET  /token?service=…&scope=…[&offline_token=true][&account=…]  (Basic credentials)
//   POST /token  grant_type=password|refresh_token (form)
//   POST /token/revoke  token=<refresh token> (form; OAuth2 token revocation, RFC 7009)
// It authenticates the caller, intersects the requested scopes with the
// policy, and answers a signed JWT. Denied scopes are left out, never an
// error; wrong credentials are 401 with a Basic challenge; an unreachable
// identity backend is 503; repeated failures get 429 with Retry-After.
// Repository names outside the OCI grammar (common/names.hpp) are never
// granted: they are dropped from `access` and logged.
//
// Refresh tokens (offline_token=true, access_type=offline) are random 256-bit
// strings stored hashed with the user's credential generation. A refresh is
// refused (401; the client logs in again) when the token is unknown or
// revoked, older than refresh_ttl_seconds, unused for refresh_idle_seconds,
// or when the user's credential generation differs from the stored one (the
// password changed, the account was deleted or re-created).
//
// Revocation is how a client that logs out (the web interface) ends its one
// refresh token everywhere: the token is its own credential (RFC 7009 2.1:
// whoever holds it could use it, so may end it), an unknown or already
// revoked token gets the same 200 (nothing to learn by guessing), an access
// token (a JWT) is 400 unsupported_token_type: it cannot be recalled and
// ends with token.ttl. Only the store failing is an error (503).
//
// A backend without generations (Keystone) has nothing to compare at
// refresh time but its own session. A refresh token is issued for it only
// to the OAuth2 password grant with access_type=offline (the web
// interface): that login always reaches Keystone
// (Authenticator::AuthenticateSession), and Keystone's token is stored with
// the grant, sealed with the refresh token itself (crypto/sealed_secret.hpp;
// the store keeps only the token's hash, so a copy of it opens nothing).
// Each refresh opens it and has Keystone validate it
// (Authenticator::RecheckSession, on the Keystone pool), which also re-reads
// the admin role; a token Keystone no longer honours (expired: Keystone's
// [token] expiration, 1 hour by default; revoked; the user disabled, the
// password changed) refuses the refresh with 401, an unreachable Keystone
// answers 503. The Docker flavour (offline_token=true, what `docker login`
// sends) still gets none: Docker keeps only the refresh token and drops the
// password, and would break when Keystone's token expires; such clients keep
// sending the password, checked against Keystone at least every
// keystone.cache_ttl. Keystone's token is never logged.
//
// Every client-supplied value in the audit lines (user names, scopes,
// client address, account) goes through LogSafe, so it cannot forge a line.
//
// Thread-safety: Handle may run on many threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/forwarder.hpp"
#include "auth/authenticator.hpp"
#include "auth/jwt/jwt.hpp"
#include "auth/policy.hpp"
#include "auth/token/login_limiter.hpp"
#include "http/message.hpp"
#include "storage/refresh_token_store.hpp"

namespace berth::auth {

struct TokenServiceOptions {
  std::string service = "berth";       // the audience; requests for another service get 400
  std::string issuer = "berth-token";  // `iss` of every token
  int64_t ttl_seconds = 900;           // token lifetime (clients refresh when it runs out)
  // Longest life of a refresh token, from the login that made it
  // (token.refresh_ttl). Longer saves logins; a stolen token lasts as long.
  int64_t refresh_ttl_seconds = 30 * 86400;
  // A refresh token unused this long is refused (token.refresh_idle_ttl).
  int64_t refresh_idle_seconds = 7 * 86400;
  // The web interface of the same process logs browsers in from the
  // registry's address; it proves itself with this secret in
  // X-Berth-Forwarder, and then its X-Forwarded-For names the browser, so
  // failed logins are counted per browser, not all against the registry.
  // Random per start, never configured; "" (separate processes): no
  // request is believed this way (list the registry in
  // http.trusted_proxies instead).
  std::string forwarder_key;
};

// Token requests answered since start, by outcome (for metrics).
struct TokenStats {
  uint64_t issued = 0;         // tokens signed and answered
  uint64_t denied = 0;         // wrong credentials or refused refresh tokens (401)
  uint64_t throttled = 0;      // refused after repeated failures (429)
  uint64_t unavailable = 0;    // the identity backend could not be asked (503)
  uint64_t scopes_denied = 0;  // scopes asked for and left out of a token
};

class TokenService final : public http::Handler {
 public:
  // Everything passed in must outlive the service. `now` gives Unix seconds.
  TokenService(Authenticator& authenticator, const Policy& policy, const jwt::JwtSigner& signer,
               storage::RefreshTokenStore& refresh, LoginLimiter& limiter,
               std::function<int64_t()> now, TokenServiceOptions options);

  http::Outcome Handle(const http::Request& request) override;
  http::Response Reject(int status, std::string_view reason) override;

  TokenStats Stats() const;

  // The two forms of a token request: the Docker token protocol (GET with
  // Basic credentials) and OAuth2 (POST form: password or refresh grant).
  enum class Flavor { kDocker, kOAuth };

  // Answers a token request whose parameters are already parsed (GET query
  // or POST form). Public for the POST body sink. `user_out` gets the user
  // for the access log: only one the backend vouched for, through LogSafe;
  // empty otherwise.
  http::Response Answer(const http::Request& request, const http::Fields& params, Flavor flavor,
                        std::string* user_out);

  // Answers POST /token/revoke whose form is already parsed (see above).
  // Public for the POST body sink.
  http::Response Revoke(const http::Request& request, const http::Fields& params);

 private:
  struct Counts {
    std::atomic<uint64_t> issued{0}, denied{0}, throttled{0}, unavailable{0}, scopes_denied{0};
  };
  struct Login;
  http::Outcome Route(const http::Request& request);
  // The client address failed logins are counted under: the browser a
  // request from the forwarder (see forwarder_key) names, else the peer.
  std::string ClientAddress(const http::Request& request) const;
  // `session` gets the backend's session of a login that needs one for its
  // refresh token (see above); otherwise it stays empty.
  Login Authenticate(const http::Request& request, const http::Fields& params, Flavor flavor,
                     Secret* session);
  // The scopes asked for, with invalid repository names dropped (and
  // logged). Errors (answered 400 UNSUPPORTED): a foreign service, a
  // malformed scope.
  Result<std::vector<Scope>> Requested(const http::Fields& params, const std::string& client);
  // The answer to a login that did not succeed (counted and audited); none
  // for kOk. The one table from login outcomes to protocol errors.
  std::optional<http::Response> Refuse(const Login& login, const std::string& client);
  // A signed access token granting `granted` to `who`, valid from `now`.
  Result<std::string> Mint(const Identity& who, const std::vector<Scope>& granted, int64_t now);
  // The refresh token to hand back, if the request asked for one: the same
  // one for a refresh grant, a newly stored one for a login (`session`:
  // the backend's, from Authenticate).
  Result<std::optional<std::string>> RefreshFor(const http::Fields& params, Flavor flavor,
                                                const Identity& who, const Secret& session,
                                                int64_t now);
  // Checks a refresh token (store, service, age, idle time, credential
  // generation or the backend's sealed session; see above) and records its
  // use at most once a minute.
  Login Refresh(std::string_view token, int64_t now);
  // The refresh token for a fresh login of `who`: a new stored one (with
  // `session` sealed in it when the backend has no generations), or nullopt
  // when none can be issued. Errors: the store's, sealing's.
  Result<std::optional<std::string>> Issue(const Identity& who, const Secret& session, int64_t now);

  Authenticator& authenticator_;
  const Policy& policy_;
  const jwt::JwtSigner& signer_;
  storage::RefreshTokenStore& refresh_;
  LoginLimiter& limiter_;
  const std::function<int64_t()> now_;
  const TokenServiceOptions options_;
  Counts counts_;
  std::atomic<int64_t> next_sweep_{0};  // when expired refresh tokens are next deleted
};

}  // namespace berth::auth
