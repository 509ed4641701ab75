// BearerGate: the registry side of token auth. It reads the
// `Authorization: Bearer` header, verifies the JWT, and writes the
// `WWW-Authenticate: Bearer realm=…,service=…,scope=…[,error=…]` challenge
// that sends a client to the token server. It never calls the token server.
//
// The AccessGate (auth/access_gate.hpp) that registry/ and ui/ are given.
//
// Thread-safety: safe to share; Check is const and the verifier is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/access_gate.hpp"
#include "auth/jwt/jwt.hpp"
#include "auth/scope.hpp"

namespace berth::auth {

class BearerGate final : public AccessGate {
 public:
  BearerGate(std::shared_ptr<const jwt::JwtVerifier> verifier, std::string realm,
             std::string service, std::function<int64_t()> now);

  BearerCheck Check(std::optional<std::string_view> authorization) const override;
  std::string Challenge(const std::vector<Scope>& needed, std::string_view error) const override;

 private:
  std::shared_ptr<const jwt::JwtVerifier> verifier_;
  const std::string realm_;
  const std::string service_;
  const std::function<int64_t()> now_;
};

}  // namespace berth::auth
