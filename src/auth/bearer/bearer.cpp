#include "auth/bearer/bearer.hpp"

#include <strings.h>

namespace berth::auth {

BearerGate::BearerGate(std::shared_ptr<const jwt::JwtVerifier> verifier, std::string realm,
                       std::string service, std::function<int64_t()> now)
    : verifier_(std::move(verifier)),
      realm_(std::move(realm)),
      service_(std::move(service)),
      now_(std::move(now)) {}

BearerCheck BearerGate::Check(std::optional<std::string_view> authorization) const {
  BearerCheck out;
  // The scheme name is case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1).
  if (!authorization || authorization->size() < 7 ||
      strncasecmp(authorization->data(), "Bearer ", 7) != 0) {
    return out;
  }
  std::string_view token = authorization->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto claims = verifier_->Verify(token, now_());
  if (!claims) {
    out.kind = BearerCheck::kInvalid;
    out.reason = claims.status().message();
    return out;
  }
  out.kind = BearerCheck::kOk;
  out.claims.subject = std::move(claims->subject);
  out.claims.access = std::move(claims->access);
  return out;
}

std::string BearerGate::Challenge(const std::vector<Scope>& needed, std::string_view error) const {
  std::string c = "Bearer realm=\"" + realm_ + "\",service=\"" + service_ + "\"";
  if (!needed.empty()) {
    c += ",scope=\"";
    for (size_t i = 0; i < needed.size(); ++i) {
      if (i) c += ' ';
      c += ToString(needed[i]);
    }
    c += '"';
  }
  if (!error.empty()) c += ",error=\"" + std::string(error) + "\"";
  return c;
}

}  // namespace berth::auth
