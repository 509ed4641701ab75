#include "auth/token/token_service.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <ctime>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/base64.hpp"
#include "common/log_text.hpp"
#include "common/names.hpp"
#include "crypto/hasher.hpp"
#include "crypto/random.hpp"
#include "crypto/sealed_secret.hpp"
#include "http/trusted_proxies.hpp"

namespace berth::auth {
namespace {

namespace json = boost::json;

http::Response JsonResponse(int status, const json::object& body) {
  http::Response r;
  r.status = status;
  r.Set("Content-Type", "application/json");
  r.Set("Cache-Control", "no-store");
  r.body = json::serialize(body);
  return r;
}

http::Response Error(int status, std::string_view code, std::string_view message) {
  json::object err{{"code", code}, {"message", message}};
  return JsonResponse(status, json::object{{"errors", json::array{err}}});
}

std::string Rfc3339(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "1.2.3.4:5678" or "[::1]:5678" → the address alone.
std::string AddressOf(const std::string& remote) {
  if (!remote.empty() && remote[0] == '[') return remote.substr(1, remote.find(']') - 1);
  return remote.substr(0, remote.rfind(':'));
}

std::vector<std::string_view> All(const http::Fields& f, std::string_view key) {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : f) {
    if (k == key) out.push_back(v);
  }
  return out;
}

std::string Join(const std::vector<Scope>& scopes) {
  std::string s;
  for (const auto& sc : scopes) {
    if (!s.empty()) s += ' ';
    s += ToString(sc);
  }
  return s;
}

std::string HashToken(std::string_view token) {
  return crypto::HashBytes(DigestAlgorithm::kSha256, token).hex();
}

// Constant time, as for any secret-derived value (STYLE.md, 28).
bool SameGeneration(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// What a sealed session is bound to (crypto::SealSecret's context): its
// row's user and service, length-prefixed so no two pairs read alike.
std::string SealContext(const storage::RefreshGrant& grant) {
  return std::to_string(grant.subject.size()) + ":" + grant.subject + grant.service;
}

// A refresh writes its last use at most this often: enough for an idle
// limit counted in days, and no database write per token request.
constexpr int64_t kTouchEverySeconds = 60;
// How often expired refresh tokens are deleted from the store.
constexpr int64_t kSweepEverySeconds = 3600;

// Drops (and logs) repository scopes whose name breaks the OCI grammar or
// length limit: such a name must never appear in a signed token, whatever
// the policy says (e.g. "alice/../bob/x").
std::vector<Scope> OnlyValidNames(std::vector<Scope> scopes, const std::string& client) {
  std::erase_if(scopes, [&](const Scope& s) {
    if (s.type != "repository") return false;
    Status valid = ValidateRepositoryName(s.name);
    if (valid.ok()) return false;
    spdlog::warn("audit token client={} dropped=\"{}\" reason=\"{}\"", client, LogSafe(ToString(s)),
                 LogSafe(valid.message()));
    return true;
  });
  return scopes;
}

// Collects a small form body for POST /token.
class FormSink final : public http::BodySink {
 public:
  // `revoke`: the form is a revocation (POST /token/revoke), else a token request.
  FormSink(TokenService& service, http::Request request, bool revoke)
      : service_(service), request_(std::move(request)), revoke_(revoke) {}
  Status Write(std::span<const char> data) override {
    if (body_.size() + data.size() > 64 * 1024) return {Errc::kTooLarge, "form too large"};
    body_.append(data.data(), data.size());
    return Status::Ok();
  }
  http::Response Finish(const Status& body) override {
    if (!body.ok()) return Error(413, "UNSUPPORTED", body.message());
    // Form encoding writes spaces as '+'; make them %20 before decoding.
    std::string encoded;
    encoded.reserve(body_.size());
    for (char c : body_) {
      if (c == '+') {
        encoded += "%20";
      } else {
        encoded += c;
      }
    }
    // The parsed view points into `target`: keep it alive while reading.
    const std::string target = "/?" + encoded;
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return Error(400, "UNSUPPORTED", "malformed form body");
    http::Fields fields;
    for (auto p : url->params()) fields.emplace_back(p.key, p.value);
    if (revoke_) return service_.Revoke(request_, fields);
    std::string user;
    return service_.Answer(request_, fields, TokenService::Flavor::kOAuth, &user);
  }

 private:
  TokenService& service_;
  http::Request request_;
  const bool revoke_;
  std::string body_;
};

}  // namespace

struct TokenService::Login {
  enum Kind { kOk, kBad, kUnavailable, kThrottled, kMalformed } kind = kBad;
  Identity identity;
  int64_t retry_after = 0;
  std::string detail;
};

TokenService::TokenService(Authenticator& authenticator, const Policy& policy,
                           const jwt::JwtSigner& signer, storage::RefreshTokenStore& refresh,
                           LoginLimiter& limiter, std::function<int64_t()> now,
                           TokenServiceOptions options)
    : authenticator_(authenticator),
      policy_(policy),
      signer_(signer),
      refresh_(refresh),
      limiter_(limiter),
      now_(std::move(now)),
      options_(std::move(options)) {}

http::Response TokenService::Reject(int status, std::string_view reason) {
  return Error(status, "UNSUPPORTED", reason);
}

http::Outcome TokenService::Handle(const http::Request& req) {
  http::Outcome out = Route(req);
  if (req.path == "/token" || req.path == "/token/") out.endpoint = "token";
  if (req.path == "/token/revoke") out.endpoint = "token_revoke";
  return out;
}

http::Outcome TokenService::Route(const http::Request& req) {
  if (req.path == "/token/revoke") {
    if (req.method != "POST") return http::Outcome::Reply(Error(405, "UNSUPPORTED", "use POST"));
    auto sink = std::make_unique<FormSink>(*this, req, true);
    if (req.has_body) return http::Outcome::Stream(std::move(sink));
    return http::Outcome::Reply(sink->Finish(Status::Ok()));
  }
  if (req.path != "/token" && req.path != "/token/") {
    return http::Outcome::Reply(Error(404, "NOT_FOUND", "no such endpoint"));
  }
  if (req.method == "GET") {
    http::Outcome out;
    out.response = Answer(req, req.query, Flavor::kDocker, &out.user);
    return out;
  }
  if (req.method == "POST") {
    auto sink = std::make_unique<FormSink>(*this, req, false);
    if (req.has_body) return http::Outcome::Stream(std::move(sink));
    return http::Outcome::Reply(sink->Finish(Status::Ok()));
  }
  return http::Outcome::Reply(Error(405, "UNSUPPORTED", "use GET or POST"));
}

TokenService::Login TokenService::Authenticate(const http::Request& req, const http::Fields& params,
                                               Flavor flavor, Secret* session) {
  Login login;
  std::string user;
  Secret password;
  bool have_credentials = false;
  if (flavor == Flavor::kOAuth) {
    auto grant = http::FindField(params, "grant_type").value_or("");
    if (grant == "refresh_token") {
      auto token = http::FindField(params, "refresh_token");
      if (!token) return {Login::kMalformed, {}, 0, "refresh_token is required"};
      return Refresh(*token, now_());
    }
    if (grant != "password") return {Login::kMalformed, {}, 0, "unsupported grant_type"};
    auto u = http::FindField(params, "username");
    auto p = http::FindField(params, "password");
    if (!u || !p) return {Login::kMalformed, {}, 0, "username and password are required"};
    user = std::string(*u);
    password = Secret(std::string(*p));
    have_credentials = true;
  } else if (auto h = req.Header("Authorization");
             h && h->size() > 6 && strncasecmp(h->data(), "Basic ", 6) == 0) {
    auto decoded = Base64Decode(h->substr(6));
    if (!decoded) return {Login::kMalformed, {}, 0, "malformed Basic credentials"};
    auto colon = decoded->find(':');
    if (colon == std::string::npos)
      return {Login::kMalformed, {}, 0, "malformed Basic credentials"};
    user = decoded->substr(0, colon);
    password = Secret(decoded->substr(colon + 1));
    have_credentials = true;
  }
  if (!have_credentials) return {Login::kOk, Identity{}, 0, "anonymous"};

  const std::string address = ClientAddress(req);
  const int64_t now = now_();
  auto wait = limiter_.RetryAfter(user, address, now);
  // Without the counts a guesser could not be slowed: no password is checked.
  if (!wait) return {Login::kUnavailable, {}, 0, "failed-login counts: " + wait.status().message()};
  if (*wait > 0) {
    return {Login::kThrottled, Identity{user, false, false}, *wait, "too many failed logins"};
  }
  // A refresh token asked for with the OAuth password grant (the web
  // interface) from a backend without generations (Keystone) needs the
  // backend's session to re-check at refresh time; see the header.
  const bool wants_session =
      flavor == Flavor::kOAuth &&
      http::FindField(params, "access_type").value_or("") == "offline" &&
      authenticator_.CredentialGeneration(user).status().code() == Errc::kUnsupported;
  AuthResult r = wants_session ? authenticator_.AuthenticateSession(user, password)
                               : authenticator_.Authenticate(user, password);
  switch (r.outcome) {
    case AuthOutcome::kOk:
      *session = std::move(r.session);
      // The login stands; stale counts only make this user wait sooner.
      if (Status s = limiter_.Succeeded(user); !s.ok()) {
        spdlog::warn("failed-login counts of a successful login not cleared: {}", s.message());
      }
      r.identity.authenticated = true;
      if (r.identity.name.empty()) r.identity.name = user;
      return {Login::kOk, r.identity, 0, r.detail};
    case AuthOutcome::kBadCredentials:
      if (Status s = limiter_.Failed(user, address, now); !s.ok()) {
        spdlog::warn("failed login not counted: {}", s.message());
      }
      return {Login::kBad, Identity{user, false, false}, 0, r.detail};
    case AuthOutcome::kUnavailable:
      return {Login::kUnavailable, {}, 0, r.detail};
  }
  return login;
}

std::string TokenService::ClientAddress(const http::Request& req) const {
  const std::string& key = options_.forwarder_key;
  auto sent = req.Header(kForwarderHeader);
  auto forwarded = req.Header("X-Forwarded-For");
  if (!key.empty() && sent && forwarded && sent->size() == key.size() &&
      CRYPTO_memcmp(sent->data(), key.data(), key.size()) == 0) {
    if (auto browser = http::CanonicalAddress(*forwarded)) return *browser;
  }
  return AddressOf(req.remote);
}

TokenService::Login TokenService::Refresh(std::string_view token, int64_t now) {
  const std::string hash = HashToken(token);
  auto g = refresh_.Find(hash);
  if (!g) {
    if (g.status().code() == Errc::kUnauthorized)
      return {Login::kBad, {}, 0, "unknown refresh token"};
    return {Login::kUnavailable, {}, 0, g.status().message()};
  }
  // Names the user in the denial's audit line; never authenticated.
  const Identity who_not{g->subject, false, false};
  if (g->service != options_.service)
    return {Login::kBad, who_not, 0, "refresh token for another service"};
  if (now - g->created >= options_.refresh_ttl_seconds) {
    return {Login::kBad, who_not, 0, "refresh token expired (token.refresh_ttl)"};
  }
  if (now - g->last_used >= options_.refresh_idle_seconds) {
    return {Login::kBad, who_not, 0, "refresh token idle too long (token.refresh_idle_ttl)"};
  }
  bool admin = g->admin;
  if (!g->sealed_session.empty()) {
    // The backend's session (Keystone's token), re-checked with the backend:
    // its answer, not the stored grant, says whether the user is still in
    // and whether they are an admin now.
    auto session = crypto::OpenSealed(token, SealContext(*g), g->sealed_session);
    if (!session) {
      if (session.status().code() == Errc::kUnauthorized)
        return {Login::kBad, who_not, 0, "the refresh token's sealed session does not open"};
      return {Login::kUnavailable, {}, 0, session.status().message()};
    }
    AuthResult r = authenticator_.RecheckSession(g->subject, *session);
    switch (r.outcome) {
      case AuthOutcome::kOk:
        admin = r.identity.admin;
        break;
      case AuthOutcome::kBadCredentials:
        return {Login::kBad, who_not, 0, "the identity backend ended the session: " + r.detail};
      case AuthOutcome::kUnavailable:
        return {Login::kUnavailable, {}, 0, r.detail};
    }
  } else if (Result<std::string> current = authenticator_.CredentialGeneration(g->subject);
             current.ok()) {
    // An empty stored generation (a row from before generations) never matches.
    if (!SameGeneration(*current, g->generation)) {
      return {Login::kBad, who_not, 0, "credential changed since the refresh token was issued"};
    }
  } else if (current.status().code() == Errc::kUnsupported) {
    return {Login::kBad, who_not, 0, "the identity backend cannot re-check a refresh token"};
  } else if (current.status().code() == Errc::kUnauthorized) {
    return {Login::kBad, who_not, 0, "user no longer exists"};
  } else {
    return {Login::kUnavailable, {}, 0, current.status().message()};
  }
  if (now - g->last_used >= kTouchEverySeconds) {
    // Failing to record the use only shortens the token's idle life.
    if (auto s = refresh_.Touch(hash, now); !s.ok()) {
      spdlog::warn("refresh token last use not recorded: {}", s.message());
    }
  }
  return {Login::kOk, Identity{g->subject, admin, true}, 0, "refresh token"};
}

Result<std::optional<std::string>> TokenService::Issue(const Identity& who, const Secret& session,
                                                       int64_t now) {
  Result<std::string> generation = authenticator_.CredentialGeneration(who.name);
  if (!generation.ok()) {
    // kUnsupported (Keystone) without a session: see the header. Otherwise
    // the user vanished, or the file became unreadable, since the password
    // was checked.
    if (generation.status().code() != Errc::kUnsupported) {
      spdlog::warn("no refresh token for user={}: {}", LogSafe(who.name),
                   generation.status().message());
    }
    if (generation.status().code() != Errc::kUnsupported || session.empty()) {
      return std::optional<std::string>();
    }
  }
  // Without a generation to compare (Keystone) the session is sealed instead.
  const bool sealed_session = !generation.ok();
  storage::RefreshGrant grant{who.name,
                              options_.service,
                              who.admin,
                              sealed_session ? std::string() : std::move(generation).value(),
                              0,
                              0,
                              std::string()};
  auto random = crypto::RandomHex(32);  // 256 random bits
  if (!random) return random.status();
  std::string fresh = std::move(random).value();
  if (sealed_session) {
    auto sealed = crypto::SealSecret(fresh, SealContext(grant), session);
    if (!sealed) return sealed.status();
    grant.sealed_session = std::move(sealed).value();
  }
  if (auto s = refresh_.Save(HashToken(fresh), grant, now); !s.ok()) return s;
  // Now and then, forget the tokens that can no longer be used.
  int64_t due = next_sweep_.load();
  if (now >= due && next_sweep_.compare_exchange_strong(due, now + kSweepEverySeconds)) {
    auto n = refresh_.DeleteExpired(now - options_.refresh_ttl_seconds,
                                    now - options_.refresh_idle_seconds);
    if (!n) spdlog::warn("expired refresh tokens not deleted: {}", n.status().message());
  }
  return std::optional<std::string>(std::move(fresh));
}

Result<std::vector<Scope>> TokenService::Requested(const http::Fields& params,
                                                   const std::string& client) {
  auto service = http::FindField(params, "service");
  if (service && *service != options_.service) {
    return Status(Errc::kUnsupported,
                  "unknown service; this token server serves " + options_.service);
  }
  std::vector<Scope> requested;
  for (auto text : All(params, "scope")) {
    auto scopes = ParseScopes(text);
    if (!scopes) {
      return Status(Errc::kScopeInvalid, "invalid scope: " + scopes.status().message());
    }
    for (auto& s : *scopes) requested.push_back(std::move(s));
  }
  return OnlyValidNames(std::move(requested), client);
}

std::optional<http::Response> TokenService::Refuse(const Login& login, const std::string& client) {
  switch (login.kind) {
    case Login::kOk:
      return std::nullopt;
    case Login::kMalformed:
      return Error(400, "UNSUPPORTED", login.detail);
    case Login::kBad: {
      counts_.denied.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("audit token client={} user={} result=denied reason=\"{}\"", client,
                   LogSafe(login.identity.name), LogSafe(login.detail));
      http::Response r = Error(401, "UNAUTHORIZED", "bad credentials");
      r.Set("WWW-Authenticate", "Basic realm=\"" + options_.service + "\"");
      return r;
    }
    case Login::kThrottled: {
      counts_.throttled.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("audit token client={} user={} result=throttled retry_after={}", client,
                   LogSafe(login.identity.name), login.retry_after);
      http::Response r = Error(429, "TOOMANYREQUESTS", "too many failed logins; retry later");
      r.Set("Retry-After", std::to_string(login.retry_after));
      return r;
    }
    case Login::kUnavailable:
      counts_.unavailable.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("identity backend unavailable: {}", LogSafe(login.detail, 1024));
      return Error(503, "UNAVAILABLE", "the identity service is unavailable; try again later");
  }
  return Error(500, "UNKNOWN", "internal error");
}

Result<std::string> TokenService::Mint(const Identity& who, const std::vector<Scope>& granted,
                                       int64_t now) {
  jwt::Claims claims;
  claims.issuer = options_.issuer;
  claims.subject = who.name;
  claims.audience = options_.service;
  claims.issued_at = now;
  claims.not_before = now;
  claims.expires = now + options_.ttl_seconds;
  auto jti = crypto::RandomHex(16);
  if (!jti) return Status(jti.status().code(), "token id: " + jti.status().message());
  claims.id = std::move(jti).value();
  claims.access = granted;
  auto token = signer_.Sign(claims);
  if (!token) return Status(token.status().code(), "token signing: " + token.status().message());
  return std::move(token).value();
}

Result<std::optional<std::string>> TokenService::RefreshFor(const http::Fields& params,
                                                            Flavor flavor, const Identity& who,
                                                            const Secret& session, int64_t now) {
  const auto grant_type = http::FindField(params, "grant_type").value_or("");
  const bool wanted = flavor == Flavor::kOAuth
                          ? http::FindField(params, "access_type").value_or("") == "offline" ||
                                grant_type == "refresh_token"
                          : http::FindField(params, "offline_token").value_or("") == "true";
  if (!wanted || !who.authenticated) return std::optional<std::string>();
  if (grant_type == "refresh_token") {
    return std::optional<std::string>(
        *http::FindField(params, "refresh_token"));  // same token back
  }
  return Issue(who, session, now);
}

http::Response TokenService::Answer(const http::Request& req, const http::Fields& params,
                                    Flavor flavor, std::string* user_out) {
  // The browser, for a login through the web interface (forwarder_key).
  const std::string address = ClientAddress(req);
  const std::string client = LogSafe(address == AddressOf(req.remote) ? req.remote : address);
  auto requested = Requested(params, client);
  if (!requested) return Error(400, "UNSUPPORTED", requested.status().message());

  Secret session;  // the backend's, for a refresh token of a login (Keystone)
  Login login = Authenticate(req, params, flavor, &session);
  // The access log names only a user the backend vouched for, escaped like
  // the audit lines: a refused name is the client's text, and a Keystone
  // name may hold any byte. (A name fit for logs comes out unchanged.)
  *user_out = login.kind == Login::kOk && login.identity.authenticated
                  ? LogSafe(login.identity.name)
                  : std::string();
  if (auto refusal = Refuse(login, client)) return std::move(*refusal);

  const Identity& who = login.identity;
  const std::vector<Scope> granted = policy_.Grant(who, *requested);
  const int64_t now = now_();
  auto token = Mint(who, granted, now);
  if (!token) {
    spdlog::error("{}", token.status().message());
    return Error(500, "UNKNOWN", "internal error");
  }
  auto refresh = RefreshFor(params, flavor, who, session, now);
  if (!refresh) {
    spdlog::error("cannot store refresh token: {}", refresh.status().message());
    return Error(503, "UNAVAILABLE", "cannot store the refresh token");
  }
  auto account = http::FindField(params, "account");
  spdlog::info("audit token client={} user={} account={} admin={} asked=\"{}\" granted=\"{}\"",
               client, LogSafe(who.name), LogSafe(account.value_or("")), policy_.IsAdmin(who),
               LogSafe(Join(*requested), 1024), LogSafe(Join(granted), 1024));

  json::object body{{"token", *token},
                    {"access_token", *token},
                    {"expires_in", options_.ttl_seconds},
                    {"issued_at", Rfc3339(now)}};
  if (flavor == Flavor::kOAuth) body["scope"] = Join(granted);
  if (*refresh) body["refresh_token"] = **refresh;
  counts_.issued.fetch_add(1, std::memory_order_relaxed);
  if (granted.size() < requested->size()) {
    counts_.scopes_denied.fetch_add(requested->size() - granted.size(), std::memory_order_relaxed);
  }
  return JsonResponse(200, body);
}

http::Response TokenService::Revoke(const http::Request& req, const http::Fields& params) {
  const std::string client = LogSafe(req.remote);
  auto token = http::FindField(params, "token");
  if (!token || token->empty()) return Error(400, "UNSUPPORTED", "token is required");
  // Refresh tokens are hex; a JWT has dots.
  if (token->find('.') != std::string_view::npos ||
      http::FindField(params, "token_type_hint").value_or("refresh_token") == "access_token") {
    return JsonResponse(
        400, json::object{{"error", "unsupported_token_type"},
                          {"error_description",
                           "access tokens cannot be revoked; they end with their lifetime"}});
  }
  const std::string hash = HashToken(*token);
  // Only for the audit line: whose token it was.
  auto grant = refresh_.Find(hash);
  auto n = refresh_.RevokeOne(hash);
  if (!n) {
    counts_.unavailable.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("refresh token not revoked: {}", n.status().message());
    return Error(503, "UNAVAILABLE", "cannot revoke the token now; try again later");
  }
  spdlog::info("audit token client={} user={} result=revoked known={}", client,
               grant ? LogSafe(grant->subject) : std::string(), *n > 0);
  http::Response r;
  r.status = 200;
  r.Set("Cache-Control", "no-store");
  return r;
}

TokenStats TokenService::Stats() const {
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return {get(counts_.issued), get(counts_.denied), get(counts_.throttled),
          get(counts_.unavailable), get(counts_.scopes_denied)};
}

}  // namespace berth::auth
