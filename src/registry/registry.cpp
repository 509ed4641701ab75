#include "registry/registry.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "common/names.hpp"
#include "registry/errors.hpp"

namespace berth::registry {
namespace {

Outcome Base(Deps&, const Request&, const Route&) {
  http::Response r = NewResponse(200);
  r.Set("Content-Type", "application/json");
  r.body = "{}";
  return Outcome::Reply(std::move(r));
}

struct Entry {
  Endpoint endpoint;
  std::string_view method;
  Outcome (*handle)(Deps&, const Request&, const Route&);
};

// The endpoint table (OCI end-1 … end-13).
constexpr std::array kRoutes = {
    Entry{Endpoint::kBase, "GET", &Base},                  // end-1
    Entry{Endpoint::kBase, "HEAD", &Base},                 //
    Entry{Endpoint::kBlob, "GET", &GetBlob},               // end-2
    Entry{Endpoint::kBlob, "HEAD", &GetBlob},              // end-2
    Entry{Endpoint::kBlob, "DELETE", &DeleteBlob},         // end-10
    Entry{Endpoint::kManifest, "GET", &GetManifest},       // end-3
    Entry{Endpoint::kManifest, "HEAD", &GetManifest},      // end-3
    Entry{Endpoint::kManifest, "PUT", &PutManifest},       // end-7
    Entry{Endpoint::kManifest, "DELETE", &DeleteManifest}, // end-9
    Entry{Endpoint::kUploadStart, "POST", &StartUpload},   // end-4a, end-4b, end-11
    Entry{Endpoint::kUpload, "PATCH", &PatchUpload},       // end-5
    Entry{Endpoint::kUpload, "PUT", &PutUpload},           // end-6
    Entry{Endpoint::kUpload, "GET", &UploadStatus},        // end-13
    Entry{Endpoint::kUpload, "DELETE", &CancelUpload},     //
    Entry{Endpoint::kTags, "GET", &ListTags},              // end-8a, end-8b
    Entry{Endpoint::kReferrers, "GET", &Referrers},        // end-12a, end-12b
    Entry{Endpoint::kCatalog, "GET", &Catalog},            //
    Entry{Endpoint::kAdminGc, "POST", &RunGc},             // berth extensions
    Entry{Endpoint::kAdminUsage, "GET", &Usage},           //
};

}  // namespace

Registry::Registry(storage::BlobStore& blobs, storage::UploadStore& uploads,
                   storage::MetadataStore& meta, Options options, const auth::AccessGate* gate,
                   storage::DigestLocks* locks, LifecycleParts lifecycle,
                   events::Emitter* events)
    : deps_{blobs,   uploads, meta, ManifestBodyBudget(), options, locks ? *locks : own_locks_,
            lifecycle, events},
      gate_(gate) {}

std::vector<auth::Scope> Registry::RequiredScopes(const Route& route, std::string_view method) {
  if (route.endpoint == Endpoint::kBase) return {};
  if (route.endpoint == Endpoint::kCatalog) return {{"registry", "catalog", {"*"}}};
  if (route.endpoint == Endpoint::kAdminGc || route.endpoint == Endpoint::kAdminUsage) {
    return {{"registry", "admin", {"*"}}};
  }
  if (method == "GET" || method == "HEAD") return {{"repository", route.name, {"pull"}}};
  if (method == "DELETE") return {{"repository", route.name, {"delete"}}};
  return {{"repository", route.name, {"pull", "push"}}};
}

std::optional<http::Response> Registry::Authorize(const http::Request& request, const Route& route,
                                                  std::vector<auth::Scope>* granted,
                                                  std::string* user) {
  const auto needed = RequiredScopes(route, request.method);
  // A mount also asks for pull on its source, so the client's next token can
  // carry it; without it the request still proceeds as a plain upload.
  auto challenged = needed;
  auto from = request.Query("from");
  if (route.endpoint == Endpoint::kUploadStart && request.Query("mount") && from &&
      ValidateRepositoryName(*from).ok()) {
    challenged.push_back({"repository", std::string(*from), {"pull"}});
  }
  auto deny = [&](std::string_view error, std::string message) {
    http::Response r = ErrorResponse({Errc::kUnauthorized, std::move(message)});
    r.Set("WWW-Authenticate", gate_->Challenge(challenged, error));
    return r;
  };
  auth::BearerCheck check = gate_->Check(request.Header("Authorization"));
  if (check.kind == auth::BearerCheck::kMissing) {
    return deny("", "authentication required");
  }
  if (check.kind == auth::BearerCheck::kInvalid) {
    spdlog::info("rejected token from {}: {}", request.remote, check.reason);
    return deny("invalid_token", "invalid token");
  }
  *user = check.claims.subject;
  for (const auto& scope : needed) {
    for (const auto& action : scope.actions) {
      if (!auth::Allows(check.claims.access, scope.type, scope.name, action)) {
        return deny("insufficient_scope", "the token does not grant " + auth::ToString(scope));
      }
    }
  }
  *granted = std::move(check.claims.access);
  return std::nullopt;
}

http::Outcome Registry::Handle(const http::Request& request) {
  auto route = ParseRoute(request.path);
  if (!route) return Outcome::Reply(ErrorResponse(route.status()));
  Outcome out = Dispatch(request, *route);
  out.endpoint = EndpointName(route->endpoint);
  return out;
}

http::Outcome Registry::Dispatch(const http::Request& request, const Route& route) {
  const Entry* entry = nullptr;
  for (const auto& e : kRoutes) {
    if (e.endpoint == route.endpoint && e.method == request.method) entry = &e;
  }
  if (!entry) return Outcome::Reply(ErrorResponse({Errc::kMethodNotAllowed, "method not allowed here"}));
  if (!gate_) return entry->handle(deps_, request, route);

  std::vector<auth::Scope> granted;
  std::string user;
  if (auto denied = Authorize(request, route, &granted, &user)) {
    Outcome out = Outcome::Reply(std::move(*denied));
    out.user = std::move(user);
    return out;
  }
  Outcome out;
  auto from = request.Query("from");
  // A mount needs pull on the source; without it, fall back to a plain upload.
  const bool plain = route.endpoint == Endpoint::kUploadStart && request.Query("mount") && from &&
                     !auth::Allows(granted, "repository", *from, "pull");
  // Events name the user: the handler gets a copy that says who it is (not
  // for reads unless pulls make events, so pulls pay no copy otherwise).
  const bool reads = request.method == "GET" || request.method == "HEAD";
  const bool named = deps_.events && !user.empty() && (!reads || deps_.events->pulls());
  if (plain || named) {
    http::Request copy = request;
    if (plain) {
      std::erase_if(copy.query, [](const auto& kv) { return kv.first == "mount" || kv.first == "from"; });
    }
    copy.user = user;
    out = entry->handle(deps_, copy, route);
  } else {
    out = entry->handle(deps_, request, route);
  }
  out.user = std::move(user);
  return out;
}

bool Registry::Quick(const http::Request& request) const {
  if ((request.method != "GET" && request.method != "HEAD") || request.has_body) return false;
  auto route = ParseRoute(request.path);
  // Uploads take the upload store's lock; usage sums a namespace's blobs.
  if (!route || route->endpoint == Endpoint::kUpload || route->endpoint == Endpoint::kAdminUsage) return false;
  if (deps_.options.metadata_on_network) return route->endpoint == Endpoint::kBase;
  return route->endpoint != Endpoint::kBlob || !deps_.options.blobs_on_network;
}

http::Response Registry::Reject(int status, std::string_view reason) {
  http::Response r = NewResponse(status);
  r.Set("Content-Type", "application/json");
  r.body = R"({"errors":[{"code":"UNSUPPORTED","message":")" + std::string(reason) +
           R"(","detail":null}]})";
  return r;
}

}  // namespace berth::registry
