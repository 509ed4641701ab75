// JSON Web Tokens as the Docker token protocol uses them (distribution
// docs/spec/auth/jwt.md): a JWS in compact form whose header carries x5c
// (the signing certificate) and kid (its RFC 7638 thumbprint), and whose
// claims are iss, sub, aud (a string), exp, nbf, iat (integers), jti and
// access (the granted scopes).
//
// Thread-safety: JwtSigner and JwtVerifier are safe to share between
// threads once built; the verifier's cache is internally locked.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scope.hpp"
#include "common/result.hpp"
#include "common/cache_stats.hpp"
#include "common/ttl_cache.hpp"
#include "crypto/jws.hpp"

namespace berth::auth::jwt {

struct Claims {
  std::string issuer;
  std::string subject;
  std::string audience;
  int64_t issued_at = 0;
  int64_t not_before = 0;
  int64_t expires = 0;
  std::string id;  // jti
  std::vector<Scope> access;
};

// Signs claims with a key whose certificate goes in x5c.
class JwtSigner {
 public:
  explicit JwtSigner(std::shared_ptr<const crypto::SigningKey> key);
  // The compact JWS. kInternal only if OpenSSL fails.
  Result<std::string> Sign(const Claims& claims) const;
  const std::string& alg() const { return key_->alg(); }

 private:
  std::shared_ptr<const crypto::SigningKey> key_;
  std::string header_b64_;  // fixed per key: built once
};

struct VerifyOptions {
  std::string issuer;    // required `iss`
  std::string audience;  // must equal `aud` (or be in it, when an array)
  // Accepted `alg` values. "none" and HS* are never accepted, whatever is listed.
  std::vector<std::string> algorithms{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512"};
  int64_t leeway_seconds = 60;   // allowed clock skew on exp and nbf
  size_t cache_entries = 10000;  // verified tokens remembered (0: no cache)
};

// Checks tokens against a trust store: the key comes from x5c (whose chain
// must verify to a trusted certificate) or else from kid (a trusted key's
// RFC 7638 thumbprint or libtrust id).
class JwtVerifier {
 public:
  JwtVerifier(std::shared_ptr<const crypto::TrustStore> trust, VerifyOptions options);

  // The claims of a valid token at time `now` (Unix seconds). kUnauthorized
  // with the reason (for logs; clients see only invalid_token) otherwise.
  Result<Claims> Verify(std::string_view token, int64_t now) const;

  // Lookups of the verified-token cache.
  CacheStats Stats() const;

 private:
  Result<Claims> VerifyUncached(std::string_view token) const;
  Status CheckTimes(const Claims& c, int64_t now) const;

  std::shared_ptr<const crypto::TrustStore> trust_;
  const VerifyOptions options_;
  // Token text → its verified claims, until the token expires (leeway
  // included); times are rechecked on every use.
  mutable TtlCache<Claims> cache_;
};

}  // namespace berth::auth::jwt
