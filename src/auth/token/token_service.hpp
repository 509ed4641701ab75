// TokenService: the token server's HTTP endpoint (the Docker registry token
// protocol, distribution docs/spec/auth/token.md and oauth.md):
//   GET  /token?service=…&scope=…[&offline_token=true][&account=…]  (Basic credentials)
//   POST /token  grant_type=password|refresh_token (form)
// It authenticates the caller, intersects the requested scopes with the
// policy, and answers a signed JWT. Denied scopes are left out, never an
// error; wrong credentials are 401 with a Basic challenge; an unreachable
// identity backend is 503; repeated failures get 429 with Retry-After.
//
// Thread-safety: Handle may run on many threads at once.
#pragma once

#include <functional>
#include <string>

#include "auth/authenticator.hpp"
#include "auth/jwt/jwt.hpp"
#include "auth/policy.hpp"
#include "auth/token/rate_limiter.hpp"
#include "http/message.hpp"
#include "storage/refresh_token_store.hpp"

namespace berth::auth {

struct TokenServiceOptions {
  std::string service = "berth";      // the audience; requests for another service get 400
  std::string issuer = "berth-token"; // `iss` of every token
  int64_t ttl_seconds = 900;          // token lifetime (clients refresh when it runs out)
};

class TokenService final : public http::Handler {
 public:
  // Everything passed in must outlive the service. `now` gives Unix seconds.
  TokenService(Authenticator& authenticator, const Policy& policy, const jwt::JwtSigner& signer,
               storage::RefreshTokenStore& refresh, FailureLimiter& limiter,
               std::function<int64_t()> now, TokenServiceOptions options);

  http::Outcome Handle(const http::Request& request) override;
  http::Response Reject(int status, std::string_view reason) override;

  // Answers a token request whose parameters are already parsed (GET query
  // or POST form). Public for the POST body sink.
  http::Response Answer(const http::Request& request, const http::Fields& params, bool oauth,
                        std::string* user_out);

 private:
  struct Login;
  Login Authenticate(const http::Request& request, const http::Fields& params, bool oauth);

  Authenticator& authenticator_;
  const Policy& policy_;
  const jwt::JwtSigner& signer_;
  storage::RefreshTokenStore& refresh_;
  FailureLimiter& limiter_;
  const std::function<int64_t()> now_;
  const TokenServiceOptions options_;
};

}  // namespace berth::auth
