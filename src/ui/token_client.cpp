#include "ui/token_client.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>

#include "auth/forwarder.hpp"
#include "crypto/hasher.hpp"
#include "http/trusted_proxies.hpp"
#include "registry/paging.hpp"

namespace berth::ui {
namespace {

std::string SessionKey(const std::string& refresh) {
  return crypto::HashBytes(DigestAlgorithm::kSha256, refresh).hex();
}

std::string ScopeText(const std::vector<auth::Scope>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += auth::ToString(s);
  }
  return out;
}

// The string field `key` of a JSON object body, or "".
std::string Field(const boost::json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

int64_t IntField(const boost::json::value& v, std::string_view key) {
  if (!v.is_object()) return 0;
  const auto* f = v.as_object().if_contains(key);
  return f && f->is_int64() ? f->as_int64() : 0;
}

}  // namespace

TokenClient::TokenClient(TokenClientOptions options, std::function<int64_t()> now)
    : options_(std::move(options)), cache_(options_.cache_entries, [now = std::move(now)] {
        return TtlCache<std::string>::TimePoint(std::chrono::seconds(now()));
      }) {}

std::string TokenClient::Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += registry::QueryEscape(k) + "=" + registry::QueryEscape(v);
  }
  return out;
}

Result<Login> TokenClient::LogIn(std::string_view user, std::string_view password,
                                 std::string_view client) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = options_.realm;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  if (auto address = http::CanonicalAddress(client)) {
    req.headers.emplace_back("X-Forwarded-For", *address);
    if (!options_.forwarder_key.empty()) {
      req.headers.emplace_back(std::string(auth::kForwarderHeader), options_.forwarder_key);
    }
  }
  req.body = Form({{"grant_type", "password"},
                   {"username", std::string(user)},
                   {"password", std::string(password)},
                   {"service", options_.service},
                   {"client_id", options_.client_id},
                   {"access_type", "offline"}});
  http::ClientReply reply = http::Send(req, options_.http);
  if (!reply.transport_ok) {
    spdlog::warn("web interface: token server {} unreachable: {}", options_.realm, reply.error);
    return Status(Errc::kUnavailable, "the token server cannot be reached");
  }
  if (reply.status == 401 || reply.status == 403) {
    return Status(Errc::kUnauthorized, "wrong user name or password");
  }
  if (reply.status == 429)
    return Status(Errc::kTooManyRequests, "too many failed logins; wait a moment");
  if (reply.status != 200) {
    spdlog::warn("web interface: token server answered {} to a login", reply.status);
    return Status(Errc::kUnavailable, "the token server failed");
  }
  boost::system::error_code ec;
  auto json = boost::json::parse(reply.body, ec);
  if (ec) return Status(Errc::kUnavailable, "the token server answered no JSON");
  Login login{Field(json, "refresh_token"), Field(json, "access_token")};
  if (login.refresh_token.empty()) {
    return Status(Errc::kUnsupported,
                  "this identity backend issues no refresh tokens, which the web interface needs");
  }
  return login;
}

Result<std::pair<std::string, int64_t>> TokenClient::Refresh(const std::string& refresh,
                                                             const std::string& scope) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = options_.realm;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "refresh_token"},
                                                           {"refresh_token", refresh},
                                                           {"service", options_.service},
                                                           {"client_id", options_.client_id}};
  if (!scope.empty()) form.emplace_back("scope", scope);
  req.body = Form(form);
  http::ClientReply reply = http::Send(req, options_.http);
  if (!reply.transport_ok) {
    spdlog::warn("web interface: token server {} unreachable: {}", options_.realm, reply.error);
    return Status(Errc::kUnavailable, "the token server cannot be reached");
  }
  if (reply.status == 401 || reply.status == 400) {
    return Status(Errc::kUnauthorized, "the session has ended; log in again");
  }
  if (reply.status != 200) return Status(Errc::kUnavailable, "the token server failed");
  boost::system::error_code ec;
  auto json = boost::json::parse(reply.body, ec);
  if (ec) return Status(Errc::kUnavailable, "the token server answered no JSON");
  std::string token = Field(json, "access_token");
  if (token.empty()) token = Field(json, "token");
  if (token.empty()) return Status(Errc::kUnavailable, "the token server answered no token");
  int64_t expires_in = IntField(json, "expires_in");
  return std::make_pair(std::move(token), expires_in > 0 ? expires_in : 60);
}

Result<std::string> TokenClient::Access(const std::string& refresh,
                                        const std::vector<auth::Scope>& scopes) {
  const std::string scope = ScopeText(scopes);
  const std::string key = SessionKey(refresh) + " " + scope;
  if (std::optional<std::string> hit = cache_.Lookup(key)) return std::move(*hit);
  auto got = Refresh(refresh, scope);
  if (!got) return got.status();
  // Leave a margin so a cached token never expires between use and check.
  const int64_t life = std::min<int64_t>(options_.cache_seconds, got->second - 30);
  cache_.Insert(key, got->first, std::chrono::seconds(life));
  return std::move(got->first);
}

void TokenClient::Forget(const std::string& refresh) {
  const std::string prefix = SessionKey(refresh) + " ";
  cache_.EraseIf([&](const std::string& key) { return key.starts_with(prefix); });
}

std::string TokenClient::RevokeUrl(std::string_view realm) {
  while (realm.ends_with('/')) realm.remove_suffix(1);
  return std::string(realm) + "/revoke";
}

Status TokenClient::Revoke(const std::string& refresh) {
  Forget(refresh);
  http::ClientRequest req;
  req.method = "POST";
  req.url = RevokeUrl(options_.realm);
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = Form({{"token", refresh},
                   {"token_type_hint", "refresh_token"},
                   {"client_id", options_.client_id}});
  http::ClientReply reply = http::Send(req, options_.http);
  if (!reply.transport_ok) {
    spdlog::warn("web interface: token server {} unreachable: {}", req.url, reply.error);
    return {Errc::kUnavailable, "the token server cannot be reached"};
  }
  if (reply.status != 200) {
    spdlog::warn("web interface: token server answered {} to a revocation", reply.status);
    return {Errc::kUnavailable, "the token server did not revoke the session"};
  }
  return Status::Ok();
}

}  // namespace berth::ui
