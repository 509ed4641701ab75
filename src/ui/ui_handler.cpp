#include "ui/ui_handler.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>
#include <strings.h>

#include "common/log_text.hpp"
#include "common/names.hpp"
#include "crypto/hasher.hpp"
#include "registry/registry.hpp"
#include "registry/routes.hpp"
#include "ui/assets.hpp"
#include "ui/catalog_filter.hpp"
#include "ui/session.hpp"

namespace berth::ui {
namespace {

using http::Outcome;
using http::Request;
using http::Response;

constexpr std::string_view kUi = "/ui/";
constexpr std::string_view kApi = "/ui/api/";

int StatusFor(Errc code) {
  switch (code) {
    case Errc::kUnauthorized:
      return 401;
    case Errc::kDenied:
      return 403;
    case Errc::kTooManyRequests:
      return 429;
    case Errc::kTooLarge:
      return 413;
    case Errc::kUnavailable:
      return 503;
    case Errc::kUnsupported:
      return 501;
    case Errc::kNotFound:
      return 404;
    default:
      return 400;
  }
}

Response JsonOk(const boost::json::object& body) {
  Response r;
  r.status = 200;
  r.Set("Content-Type", "application/json");
  AddSecurityHeaders(r, "no-store");
  r.body = boost::json::serialize(body);
  return r;
}

std::string Hashed(const std::string& session) {
  return crypto::HashBytes(DigestAlgorithm::kSha256, session).hex();
}

// Collects the login body, at most `limit` bytes.
class LoginSink final : public http::BodySink {
 public:
  LoginSink(UiHandler& ui, Request request, size_t limit)
      : ui_(ui), request_(std::move(request)), limit_(limit) {}
  Status Write(std::span<const char> data) override {
    if (body_.size() + data.size() > limit_) return {Errc::kTooLarge, "login body too large"};
    body_.append(data.data(), data.size());
    return Status::Ok();
  }
  Response Finish(const Status& body) override {
    if (!body.ok()) return JsonError(StatusFor(body.code()), body.message());
    return ui_.FinishLogin(request_, body_);
  }

 private:
  UiHandler& ui_;
  const Request request_;
  const size_t limit_;
  std::string body_;
};

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool IsAsset(const Request& r) {
  return (r.method == "GET" || r.method == "HEAD") && r.path.starts_with(kUi) &&
         !r.path.starts_with(kApi);
}

bool WantsHtml(const Request& r) {
  auto accept = r.Header("Accept");
  return accept && accept->find("text/html") != std::string_view::npos;
}

// A bounded query parameter; "" when absent.
Result<std::string> Param(const Request& r, std::string_view name, size_t max) {
  auto v = r.Query(name);
  if (!v) return std::string();
  if (v->size() > max) return Status(Errc::kTooLarge, std::string(name) + " is too long");
  return std::string(*v);
}

}  // namespace

Response JsonError(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.Set("Content-Type", "application/json");
  AddSecurityHeaders(r, "no-store");
  r.body = boost::json::serialize(boost::json::object{{"error", message}});
  return r;
}

UiHandler::UiHandler(http::Handler& inner, storage::MetadataStore& meta,
                     const auth::AccessGate& gate, const auth::Grantor& policy, TokenClient& tokens,
                     UiOptions options, storage::LifecycleStore* lifecycle,
                     const lifecycle::QuotaPolicy* quotas)
    : inner_(inner),
      meta_(meta),
      lifecycle_(lifecycle),
      quotas_(quotas),
      gate_(gate),
      policy_(policy),
      tokens_(tokens),
      options_(options) {}

bool UiHandler::Quick(const Request& r) const {
  if (IsAsset(r) || r.path == "/ui") return !r.has_body;
  if (r.path.starts_with(kUi)) return false;
  if (r.path == "/" && WantsHtml(r)) return !r.has_body;
  return inner_.Quick(r);
}

Outcome UiHandler::Handle(const Request& r) {
  const bool read = r.method == "GET" || r.method == "HEAD";
  if ((r.path == "/" && read && WantsHtml(r)) || r.path == "/ui") {
    Response res;
    res.status = r.path == "/" ? 303 : 301;
    res.Set("Location", std::string(kUi));
    AddSecurityHeaders(res, "no-store");
    Outcome out = Outcome::Reply(std::move(res));
    out.endpoint = "ui";
    return out;
  }
  if (!r.path.starts_with(kUi)) return inner_.Handle(r);
  Outcome out;
  if (r.path.starts_with(kApi)) {
    out = Api(r, std::string_view(r.path).substr(kApi.size()));
    if (out.endpoint.empty()) out.endpoint = "ui_api";
    return out;
  }
  auto asset = FindAsset(std::string_view(r.path).substr(kUi.size()));
  if (!read) {
    out = Outcome::Reply(JsonError(405, "method not allowed"));
  } else if (!asset) {
    out = Outcome::Reply(JsonError(404, "no such file"));
  } else {
    out = Outcome::Reply(AssetResponse(*asset, r.method == "HEAD"));
  }
  out.endpoint = "ui";
  return out;
}

Outcome UiHandler::Api(const Request& r, std::string_view rest) {
  if (rest == "login") {
    if (r.method != "POST") return Outcome::Reply(JsonError(405, "use POST"));
    if (auto s = CheckOrigin(r, options_.secure); !s.ok()) {
      return Outcome::Reply(JsonError(403, s.message()));
    }
    if (r.content_length && *r.content_length > options_.max_login_bytes) {
      return Outcome::Reply(JsonError(413, "login body too large"));
    }
    return Outcome::Stream(std::make_unique<LoginSink>(*this, r, options_.max_login_bytes));
  }
  if (r.has_body) return Outcome::Reply(JsonError(413, "this call takes no body"));
  if (rest == "session") {
    if (r.method != "GET") return Outcome::Reply(JsonError(405, "use GET"));
    return Outcome::Reply(Session(r));
  }
  if (rest == "logout") {
    if (r.method != "POST") return Outcome::Reply(JsonError(405, "use POST"));
    return Outcome::Reply(Logout(r));
  }
  if (rest == "repositories") {
    if (r.method != "GET") return Outcome::Reply(JsonError(405, "use GET"));
    return Outcome::Reply(Repositories(r));
  }
  if (rest == "tags" && lifecycle_) {
    if (r.method != "GET") return Outcome::Reply(JsonError(405, "use GET"));
    return Outcome::Reply(Tags(r));
  }
  if (rest == "usage" && lifecycle_) {
    if (r.method != "GET") return Outcome::Reply(JsonError(405, "use GET"));
    return Outcome::Reply(Usage(r));
  }
  if (rest.starts_with("v2/")) return Proxy(r, rest.substr(3));
  return Outcome::Reply(JsonError(404, "no such call"));
}

bool UiHandler::LoggedOut(const std::string& session) {
  MutexLock lock(mu_);
  return logged_out_.contains(Hashed(session));
}

Result<UiHandler::Who> UiHandler::Authenticate(const Request& r) {
  auto session = SessionFrom(r);
  if (!session || LoggedOut(*session)) return Status(Errc::kUnauthorized, "not logged in");
  auto token = tokens_.Access(*session, {});
  if (!token) return token.status();
  auto check = gate_.Check("Bearer " + *token);
  if (check.kind != auth::BearerCheck::kOk) {
    spdlog::warn("web interface: the token server's token does not verify: {}", check.reason);
    return Status(Errc::kUnavailable, "the token server's token does not verify here");
  }
  return Who{std::move(*session), std::move(check.claims.subject)};
}

Response UiHandler::FinishLogin(const Request& r, std::string_view body) {
  boost::system::error_code ec;
  auto json = boost::json::parse(body, ec);
  const boost::json::object* o = !ec && json.is_object() ? &json.as_object() : nullptr;
  const auto* user = o ? o->if_contains("user") : nullptr;
  const auto* password = o ? o->if_contains("password") : nullptr;
  if (!user || !password || !user->is_string() || !password->is_string()) {
    return JsonError(400, "send {\"user\": ..., \"password\": ...}");
  }
  if (user->as_string().empty() || user->as_string().size() > 256 ||
      password->as_string().size() > 1024) {
    return JsonError(400, "user name or password of a wrong length");
  }
  auto login = tokens_.LogIn(user->as_string(), password->as_string(), r.remote);
  if (!login) return JsonError(StatusFor(login.status().code()), login.status().message());
  auto check = gate_.Check("Bearer " + login->access_token);
  if (check.kind != auth::BearerCheck::kOk) {
    return JsonError(503, "the token server's token does not verify here");
  }
  spdlog::info("web interface: {} logged in from {}", LogSafe(check.claims.subject), r.remote);
  Response res =
      JsonOk({{"user", check.claims.subject}, {"csrf", CsrfToken(login->refresh_token)}});
  res.Set("Set-Cookie",
          SessionCookie(login->refresh_token, options_.session_seconds, options_.secure));
  return res;
}

Response UiHandler::Session(const Request& r) {
  auto who = Authenticate(r);
  if (!who) return JsonError(StatusFor(who.status().code()), who.status().message());
  auto token = tokens_.Access(who->session, {{"registry", "catalog", {"*"}}});
  bool admin = false;
  if (token) {
    auto check = gate_.Check("Bearer " + *token);
    admin = check.kind == auth::BearerCheck::kOk &&
            auth::Allows(check.claims.access, "registry", "catalog", "*");
  }
  return JsonOk({{"user", who->user}, {"csrf", CsrfToken(who->session)}, {"admin", admin}});
}

Response UiHandler::Logout(const Request& r) {
  auto session = SessionFrom(r);
  Response res = JsonOk({{"ok", true}});
  res.Set("Set-Cookie", ClearedCookie(options_.secure));
  if (!session) return res;
  if (auto s = CheckStateChange(r, *session, options_.secure); !s.ok()) {
    return JsonError(403, s.message());
  }
  {
    MutexLock lock(mu_);
    if (logged_out_.insert(Hashed(*session)).second) logged_order_.push_back(Hashed(*session));
    while (logged_order_.size() > options_.logged_out_max) {
      logged_out_.erase(logged_order_.front());
      logged_order_.pop_front();
    }
  }
  // Refused here from now on whatever happens next; the token server's
  // revocation makes it so for every other berth and client too.
  if (Status s = tokens_.Revoke(*session); !s.ok()) {
    res = JsonOk({{"ok", true},
                  {"revoked", false},
                  {"warning",
                   "Logged out here, but the token server could not end the session: "
                   "it stays valid elsewhere until it expires."}});
    res.Set("Set-Cookie", ClearedCookie(options_.secure));
    return res;
  }
  res = JsonOk({{"ok", true}, {"revoked", true}});
  res.Set("Set-Cookie", ClearedCookie(options_.secure));
  return res;
}

Response UiHandler::Repositories(const Request& r) {
  auto who = Authenticate(r);
  if (!who) return JsonError(StatusFor(who.status().code()), who.status().message());
  CatalogQuery query;
  auto q = Param(r, "q", options_.max_query_bytes);
  auto last = Param(r, "last", options_.max_query_bytes);
  auto n = Param(r, "n", 8);
  if (!q || !last || !n) return JsonError(400, "q, last or n too long");
  query.q = *q;
  query.last = *last;
  query.n = 50;
  if (!n->empty()) {
    size_t v = 0;
    auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
    if (ec != std::errc() || end != n->data() + n->size() || v == 0 || v > options_.max_page) {
      return JsonError(400, "n must be 1 to " + std::to_string(options_.max_page));
    }
    query.n = v;
  }
  // Admins: the token server grants them the whole catalog.
  bool all = false;
  if (auto token = tokens_.Access(who->session, {{"registry", "catalog", {"*"}}})) {
    auto check = gate_.Check("Bearer " + *token);
    all = check.kind == auth::BearerCheck::kOk &&
          auth::Allows(check.claims.access, "registry", "catalog", "*");
  } else if (token.status().code() == Errc::kUnauthorized ||
             token.status().code() == Errc::kUnavailable) {
    return JsonError(StatusFor(token.status().code()), token.status().message());
  }
  const auth::Identity identity{who->user, false, true};
  auto page = FilterCatalog(
      query,
      [&](const std::string& after, size_t limit) { return meta_.ListRepositories(after, limit); },
      [&](const std::string& name) {
        return all || !policy_.Grant(identity, {{"repository", name, {"pull"}}}).empty();
      });
  if (!page) {
    spdlog::error("web interface: listing repositories: {}", page.status().message());
    return JsonError(503, "the repository list cannot be read");
  }
  boost::json::array names;
  for (auto& n : page->names) names.emplace_back(n);
  boost::json::object body{{"repositories", std::move(names)}};
  body["next"] = page->next.empty() ? boost::json::value(nullptr) : boost::json::value(page->next);
  return JsonOk(body);
}

Response UiHandler::Tags(const Request& r) {
  auto session = SessionFrom(r);
  if (!session || LoggedOut(*session)) return JsonError(401, "not logged in");
  auto name = Param(r, "repository", options_.max_query_bytes);
  auto last = Param(r, "last", options_.max_query_bytes);
  if (!name || !last) return JsonError(400, "repository or last too long");
  if (!ValidateRepositoryName(*name).ok()) return JsonError(400, "not a repository name");
  // The check the registry makes for GET /v2/<name>/tags/list.
  const std::vector<auth::Scope> needed = {{"repository", *name, {"pull"}}};
  auto token = tokens_.Access(*session, needed);
  if (!token) return JsonError(StatusFor(token.status().code()), token.status().message());
  auto check = gate_.Check("Bearer " + *token);
  if (check.kind != auth::BearerCheck::kOk ||
      !auth::Allows(check.claims.access, "repository", *name, "pull")) {
    return JsonError(403, "not allowed: you may not read " + *name);
  }
  auto tags = lifecycle_->ListTagInfo(*name, *last, options_.max_page + 1);
  if (!tags) {
    spdlog::error("web interface: listing tags: {}", tags.status().message());
    return JsonError(503, "the tags cannot be read");
  }
  boost::json::object body;
  body["next"] = nullptr;
  if (tags->size() > options_.max_page) {
    tags->resize(options_.max_page);
    body["next"] = tags->back().name;
  }
  boost::json::array arr;
  for (const auto& t : *tags) {
    arr.push_back(boost::json::object{{"name", t.name},
                                      {"digest", t.digest},
                                      {"pushed_at", t.pushed_at},
                                      {"pulled_at", t.pulled_at}});
  }
  body["tags"] = std::move(arr);
  return JsonOk(body);
}

Response UiHandler::Usage(const Request& r) {
  auto who = Authenticate(r);
  if (!who) return JsonError(StatusFor(who.status().code()), who.status().message());
  // Admins: the registry's own usage call, with the token it demands.
  const std::vector<auth::Scope> admin = {{"registry", "admin", {"*"}}};
  auto token = tokens_.Access(who->session, admin);
  if (!token) return JsonError(StatusFor(token.status().code()), token.status().message());
  auto check = gate_.Check("Bearer " + *token);
  if (check.kind == auth::BearerCheck::kOk &&
      auth::Allows(check.claims.access, "registry", "admin", "*")) {
    Request api;
    api.method = "GET";
    api.path = api.target = "/v2/_berth/usage";
    api.remote = r.remote;
    api.request_id = r.request_id;
    api.headers = {{"Authorization", "Bearer " + *token}};
    Outcome out = inner_.Handle(api);
    if (out.sink || out.response.status != 200) {
      spdlog::warn("web interface: the registry answered {} to a usage call", out.response.status);
      return JsonError(503, "the usage cannot be read");
    }
    AddSecurityHeaders(out.response, "no-store");
    return std::move(out.response);
  }
  // Others: their own namespace, which the token server lets them push in.
  boost::json::array namespaces;
  const std::string probe = who->user + "/x";
  if (ValidateRepositoryName(probe).ok()) {
    auto own = tokens_.Access(who->session, {{"repository", probe, {"push"}}});
    if (!own) return JsonError(StatusFor(own.status().code()), own.status().message());
    auto granted = gate_.Check("Bearer " + *own);
    if (granted.kind == auth::BearerCheck::kOk &&
        auth::Allows(granted.claims.access, "repository", probe, "push")) {
      auto u = lifecycle_->Usage(who->user);
      if (!u) {
        spdlog::error("web interface: usage of {}: {}", LogSafe(who->user), u.status().message());
        return JsonError(503, "the usage cannot be read");
      }
      namespaces.push_back(
          boost::json::object{{"namespace", who->user},
                              {"used_bytes", u->bytes},
                              {"quota_bytes", quotas_ ? quotas_->LimitFor(who->user) : 0},
                              {"repositories", u->repositories},
                              {"blobs", u->blobs}});
    }
  }
  return JsonOk({{"namespaces", std::move(namespaces)}});
}

Outcome UiHandler::Proxy(const Request& r, std::string_view rest) {
  const std::string path = "/v2/" + std::string(rest);
  auto route = registry::ParseRoute(path);
  if (!route || route->endpoint == registry::Endpoint::kBase) {
    return Outcome::Reply(JsonError(404, route ? "no such call" : route.status().message()));
  }
  using registry::Endpoint;
  const Endpoint e = route->endpoint;
  const bool read = r.method == "GET" || r.method == "HEAD";
  const bool allowed = (read && (e == Endpoint::kTags || e == Endpoint::kManifest ||
                                 e == Endpoint::kBlob || e == Endpoint::kReferrers)) ||
                       (r.method == "DELETE" && e == Endpoint::kManifest);
  if (!allowed) return Outcome::Reply(JsonError(405, "not available through the web interface"));
  auto session = SessionFrom(r);
  if (!session || LoggedOut(*session)) return Outcome::Reply(JsonError(401, "not logged in"));
  if (!read) {
    if (auto s = CheckStateChange(r, *session, options_.secure); !s.ok()) {
      return Outcome::Reply(JsonError(403, s.message()));
    }
  }
  auto token = tokens_.Access(*session, registry::Registry::RequiredScopes(*route, r.method));
  if (!token)
    return Outcome::Reply(JsonError(StatusFor(token.status().code()), token.status().message()));
  Request api = r;
  api.path = path;
  auto q = r.target.find('?');
  api.target = q == std::string::npos ? path : path + r.target.substr(q);
  std::erase_if(api.headers, [](const auto& kv) {
    return SameName(kv.first, "Cookie") || SameName(kv.first, "Authorization") ||
           SameName(kv.first, kCsrfHeader);
  });
  api.headers.emplace_back("Authorization", "Bearer " + *token);
  if (e == Endpoint::kBlob) api.inline_blob_limit = options_.max_blob_bytes;
  Outcome out = inner_.Handle(api);
  if (out.response.status == 401) {
    // The session is good, so a 401 means the token lacks the scope: the
    // policy does not allow this call.
    std::string what = r.method == "DELETE" ? "delete in " : "read ";
    out.response = JsonError(403, "not allowed: you may not " + what + route->name);
  } else if (e == Endpoint::kBlob && out.response.status == 413) {
    out.response = JsonError(413, "the blob is too large to show here: pull it with a client");
  } else {
    AddSecurityHeaders(out.response, "no-store");
    // A blob is whatever was pushed: never rendered as a page of this origin.
    if (e == Endpoint::kBlob) out.response.Set("Content-Disposition", "attachment");
  }
  return out;
}

}  // namespace berth::ui
