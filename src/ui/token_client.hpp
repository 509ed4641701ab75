// TokenClient: the web interface's way to the token server. It logs in with
// the OAuth2 password grant (access_type=offline, so the answer carries a
// refresh token) and trades that refresh token for short-lived access
// tokens with exactly the scopes a UI call needs, over HTTP(S) to the
// configured realm, as any registry client would: Keystone and the user
// file work alike, and the token server's policy, rate limits and
// revocation apply unchanged.
//
// Access tokens are cached per (session, scopes) for at most
// cache_seconds and never past their own expiry. That is also how long
// another node behind the same load balancer may go on honouring a session
// logged out elsewhere, so it is short (10 s). The cache holds at most
// cache_entries (when full, expired entries go, then all of them).
//
// Thread-safety: safe from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scope.hpp"
#include "common/result.hpp"
#include "common/ttl_cache.hpp"
#include "http_client/client.hpp"

namespace berth::ui {

struct TokenClientOptions {
  std::string realm;              // the token endpoint, e.g. https://host:9002/token
  std::string service = "berth";  // auth.service
  std::string client_id = "berth-ui";
  http::ClientOptions http;  // timeouts, CA file
  size_t cache_entries = 4096;
  int64_t cache_seconds = 10;
  // Sent with logins in X-Berth-Forwarder so that the token server of the
  // same process believes the browser's address in X-Forwarded-For
  // (auth::TokenServiceOptions::forwarder_key); "" to send none.
  std::string forwarder_key;
};

struct Login {
  std::string refresh_token;
  std::string access_token;  // scope-less, names the user
};

class TokenClient {
 public:
  // `now` gives Unix seconds.
  TokenClient(TokenClientOptions options, std::function<int64_t()> now);

  // The password grant. Errors: kUnauthorized (wrong credentials),
  // kTooManyRequests (throttled), kUnsupported (the backend issues no
  // refresh tokens), kUnavailable (token server unreachable or failing).
  // `client` (the browser's address, as Request::remote names it) goes in
  // X-Forwarded-For without its port.
  Result<Login> LogIn(std::string_view user, std::string_view password, std::string_view client);

  // An access token for `scopes` from the refresh token (cached). Errors:
  // kUnauthorized (the refresh token is refused: expired, revoked, the
  // password changed), kUnavailable.
  Result<std::string> Access(const std::string& refresh, const std::vector<auth::Scope>& scopes);

  // Drops the cached access tokens of a refresh token (logout).
  void Forget(const std::string& refresh);

  // Ends the refresh token at the token server (POST <realm>/revoke, OAuth2
  // token revocation), so the cookie is worthless wherever it was copied.
  // Errors: kUnavailable (unreachable, or any answer but 200: a token
  // server without revocation, or its store failing).
  Status Revoke(const std::string& refresh);

  // The revocation endpoint of `realm`: "<realm>/revoke" (exposed for tests).
  static std::string RevokeUrl(std::string_view realm);

  // The form body of a token request (exposed for tests).
  static std::string Form(const std::vector<std::pair<std::string, std::string>>& fields);

 private:
  Result<std::pair<std::string, int64_t>> Refresh(const std::string& refresh,
                                                  const std::string& scope);

  const TokenClientOptions options_;
  // Access tokens by session hash + ' ' + scopes, on `now`'s clock.
  TtlCache<std::string> cache_;
};

}  // namespace berth::ui
