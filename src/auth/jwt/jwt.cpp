#include "auth/jwt/jwt.hpp"

#include <algorithm>
#include <chrono>
#include <boost/json.hpp>

#include "common/base64.hpp"
#include "crypto/random.hpp"

namespace berth::auth::jwt {
namespace {

namespace json = boost::json;

Status Bad(std::string why) { return {Errc::kUnauthorized, std::move(why)}; }

const json::string* Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

// Integer claims must be JSON integers, as the reference registry requires.
bool Int(const json::object& o, std::string_view key, int64_t& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_int64()) {
    out = v->as_int64();
    return true;
  }
  if (v->is_uint64() && v->as_uint64() <= INT64_MAX) {
    out = static_cast<int64_t>(v->as_uint64());
    return true;
  }
  return false;
}

}  // namespace

JwtSigner::JwtSigner(std::shared_ptr<const crypto::SigningKey> key) : key_(std::move(key)) {
  json::object header{{"typ", "JWT"},
                      {"alg", key_->alg()},
                      {"kid", key_->public_key().thumbprint()},
                      {"x5c", json::array{json::string(Base64Encode(key_->certificate_der()))}}};
  header_b64_ = Base64UrlEncode(json::serialize(header));
}

Result<std::string> JwtSigner::Sign(const Claims& c) const {
  json::array access;
  for (const auto& s : c.access) {
    json::array actions;
    for (const auto& a : s.actions) actions.emplace_back(a);
    access.emplace_back(json::object{{"type", s.type}, {"name", s.name}, {"actions", actions}});
  }
  json::object claims{{"iss", c.issuer},  {"sub", c.subject},    {"aud", c.audience},
                      {"exp", c.expires}, {"nbf", c.not_before}, {"iat", c.issued_at},
                      {"jti", c.id},      {"access", access}};
  std::string input = header_b64_ + "." + Base64UrlEncode(json::serialize(claims));
  auto sig = key_->Sign(input);
  if (!sig) return sig.status();
  return input + "." + Base64UrlEncode(*sig);
}

JwtVerifier::JwtVerifier(std::shared_ptr<const crypto::TrustStore> trust, VerifyOptions options)
    : trust_(std::move(trust)), options_(std::move(options)), cache_(options_.cache_entries) {}

Result<Claims> JwtVerifier::Verify(std::string_view token, int64_t now) const {
  if (options_.cache_entries > 0) {
    if (std::optional<Claims> hit = cache_.Lookup(std::string(token))) {
      if (auto s = CheckTimes(*hit, now); !s.ok()) return s;
      return std::move(*hit);
    }
  }
  auto claims = VerifyUncached(token);
  if (!claims) return claims;
  if (auto s = CheckTimes(*claims, now); !s.ok()) return s;
  // Kept no longer than the token is valid: an expired one only takes room.
  // And at most a day: `exp` may be as large as int64 allows, and a longer
  // time overflows the cache clock's nanoseconds (CheckTimes still decides).
  constexpr int64_t kMaxCacheSeconds = 24 * 60 * 60;
  const int64_t valid_for = claims->expires - now > kMaxCacheSeconds
                                ? kMaxCacheSeconds
                                : claims->expires - now + options_.leeway_seconds;
  cache_.Insert(std::string(token), *claims, std::chrono::seconds(valid_for));
  return claims;
}

CacheStats JwtVerifier::Stats() const { return cache_.Stats(); }

Status JwtVerifier::CheckTimes(const Claims& c, int64_t now) const {
  // `now` and the leeway are ours and small; exp and nbf may be anything an
  // int64 holds, so they are never the side of a sum.
  if (c.expires < now - options_.leeway_seconds) return Bad("token expired");
  if (c.not_before > now + options_.leeway_seconds) return Bad("token not yet valid");
  return Status::Ok();
}

Result<Claims> JwtVerifier::VerifyUncached(std::string_view token) const {
  auto dot1 = token.find('.');
  auto dot2 = dot1 == token.npos ? token.npos : token.find('.', dot1 + 1);
  if (dot2 == token.npos || token.find('.', dot2 + 1) != token.npos)
    return Bad("not a compact JWS");
  auto header_text = Base64UrlDecode(token.substr(0, dot1));
  auto claims_text = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!header_text || !claims_text || !signature) return Bad("bad base64url");

  boost::system::error_code ec;
  json::value header = json::parse(*header_text, ec);
  if (ec || !header.is_object()) return Bad("header is not a JSON object");
  const json::object& h = header.as_object();
  const json::string* alg = Str(h, "alg");
  if (!alg) return Bad("no alg");
  std::string_view a(*alg);
  if (a == "none" || a.substr(0, 2) == "HS" ||
      std::find(options_.algorithms.begin(), options_.algorithms.end(), a) ==
          options_.algorithms.end()) {
    return Bad("algorithm " + std::string(a) + " not allowed");
  }

  std::shared_ptr<crypto::PublicKey> key;
  if (const json::value* x5c = h.if_contains("x5c")) {
    if (!x5c->is_array() || x5c->as_array().empty()) return Bad("bad x5c");
    std::vector<std::string> chain;
    for (const auto& c : x5c->as_array()) {
      if (!c.is_string()) return Bad("bad x5c");
      auto der = Base64Decode(std::string_view(c.as_string()));
      if (!der) return Bad("bad x5c base64");
      chain.push_back(std::move(*der));
    }
    auto k = trust_->KeyForChain(chain);
    if (!k) return k.status();
    key = *k;
  } else if (const json::string* kid = Str(h, "kid")) {
    key = trust_->KeyForKid(std::string_view(*kid));
    if (!key) return Bad("untrusted key id");
  } else {
    return Bad("token names no signing key (x5c or kid)");
  }
  if (!key->Verify(a, token.substr(0, dot2), *signature)) return Bad("bad signature");

  json::value body = json::parse(*claims_text, ec);
  if (ec || !body.is_object()) return Bad("claims are not a JSON object");
  const json::object& o = body.as_object();
  Claims c;
  const json::string* iss = Str(o, "iss");
  if (!iss || *iss != options_.issuer) return Bad("untrusted issuer");
  c.issuer = std::string(*iss);
  bool aud_ok = false;
  if (const json::value* aud = o.if_contains("aud")) {
    if (aud->is_string()) {
      aud_ok = aud->as_string() == options_.audience;
    } else if (aud->is_array()) {
      for (const auto& x : aud->as_array())
        aud_ok |= x.is_string() && x.as_string() == options_.audience;
    }
  }
  if (!aud_ok) return Bad("token intended for another audience");
  c.audience = options_.audience;
  if (!Int(o, "exp", c.expires)) return Bad("exp missing or not an integer");
  if (o.contains("nbf") && !Int(o, "nbf", c.not_before)) return Bad("nbf not an integer");
  if (o.contains("iat") && !Int(o, "iat", c.issued_at)) return Bad("iat not an integer");
  if (const json::string* sub = Str(o, "sub")) c.subject = std::string(*sub);
  if (const json::string* jti = Str(o, "jti")) c.id = std::string(*jti);
  if (const json::value* access = o.if_contains("access")) {
    if (!access->is_array()) return Bad("access is not an array");
    for (const auto& e : access->as_array()) {
      const json::object* eo = e.if_object();
      if (!eo) return Bad("bad access entry");
      const json::string* type = Str(*eo, "type");
      const json::string* name = Str(*eo, "name");
      const json::value* actions = eo->if_contains("actions");
      if (!type || !name || !actions || !actions->is_array()) return Bad("bad access entry");
      Scope s{std::string(*type), std::string(*name), {}};
      s.type = s.type.substr(0, s.type.find('('));  // the resource class is ignored
      for (const auto& act : actions->as_array()) {
        if (act.is_string()) s.actions.emplace_back(act.as_string());
      }
      c.access.push_back(std::move(s));
    }
  }
  return c;
}

}  // namespace berth::auth::jwt
