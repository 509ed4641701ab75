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

// Where a request without a body runs (http::Handler::Quick, docs/threads.md):
// inline on the I/O thread when all it does is read local state that is
// expected in the page cache, else on the blocking pool.
enum class Runs {
  kPool,                   // writes, takes the upload store's lock, or sums a namespace
  kInline,                 // touches no store
  kInlineIfLocalMetadata,  // reads metadata: inline unless metadata_on_network
  kInlineIfLocalStores,  // reads metadata and stats a blob: inline unless either is on the network
};

struct Entry {
  Endpoint endpoint;
  std::string_view method;
  Runs runs;
  Outcome (*handle)(Deps&, const Request&, const Route&);
};

// The endpoint table (OCI end-1 … end-13).
constexpr std::array kRoutes = {
    Entry{Endpoint::kBase, "GET", Runs::kInline, &Base},                             // end-1
    Entry{Endpoint::kBase, "HEAD", Runs::kInline, &Base},                            //
    Entry{Endpoint::kBlob, "GET", Runs::kInlineIfLocalStores, &GetBlob},             // end-2
    Entry{Endpoint::kBlob, "HEAD", Runs::kInlineIfLocalStores, &GetBlob},            // end-2
    Entry{Endpoint::kBlob, "DELETE", Runs::kPool, &DeleteBlob},                      // end-10
    Entry{Endpoint::kManifest, "GET", Runs::kInlineIfLocalMetadata, &GetManifest},   // end-3
    Entry{Endpoint::kManifest, "HEAD", Runs::kInlineIfLocalMetadata, &GetManifest},  // end-3
    Entry{Endpoint::kManifest, "PUT", Runs::kPool, &PutManifest},                    // end-7
    Entry{Endpoint::kManifest, "DELETE", Runs::kPool, &DeleteManifest},              // end-9
    Entry{Endpoint::kUploadStart, "POST", Runs::kPool, &StartUpload},  // end-4a, end-4b, end-11
    Entry{Endpoint::kUpload, "PATCH", Runs::kPool, &PatchUpload},      // end-5
    Entry{Endpoint::kUpload, "PUT", Runs::kPool, &PutUpload},          // end-6
    Entry{Endpoint::kUpload, "GET", Runs::kPool, &UploadStatus},       // end-13
    Entry{Endpoint::kUpload, "DELETE", Runs::kPool, &CancelUpload},    //
    Entry{Endpoint::kTags, "GET", Runs::kInlineIfLocalMetadata, &ListTags},  // end-8a, end-8b
    Entry{Endpoint::kReferrers, "GET", Runs::kInlineIfLocalMetadata,
          &Referrers},                                                         // end-12a, end-12b
    Entry{Endpoint::kCatalog, "GET", Runs::kInlineIfLocalMetadata, &Catalog},  //
    Entry{Endpoint::kAdminGc, "POST", Runs::kPool, &RunGc},                    // berth extensions
    Entry{Endpoint::kAdminUsage, "GET", Runs::kPool, &Usage},                  //
};

// The table's line for a route and method; null: 405.
const Entry* Find(Endpoint endpoint, std::string_view method) {
  for (const auto& e : kRoutes) {
    if (e.endpoint == endpoint && e.method == method) return &e;
  }
  return nullptr;
}

}  // namespace

Registry::Registry(storage::BlobStore& blobs, storage::UploadStore& uploads,
                   storage::MetadataStore& meta, Options options, const auth::AccessGate* gate,
                   storage::DigestLocks* locks, LifecycleParts lifecycle, events::Emitter* events)
    : deps_{blobs,     uploads, meta, ManifestBodyBudget(), options, locks ? *locks : own_locks_,
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
  const Entry* entry = Find(route.endpoint, request.method);
  if (!entry)
    return Outcome::Reply(ErrorResponse({Errc::kMethodNotAllowed, "method not allowed here"}));
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
      std::erase_if(copy.query,
                    [](const auto& kv) { return kv.first == "mount" || kv.first == "from"; });
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
  if (request.has_body) return false;
  auto route = ParseRoute(request.path);
  if (!route) return false;
  const Entry* entry = Find(route->endpoint, request.method);
  // A 405 is answered from memory; only GET and HEAD have ever been quick.
  if (!entry) return request.method == "GET" || request.method == "HEAD";
  const Options& o = deps_.options;
  switch (entry->runs) {
    case Runs::kPool:
      return false;
    case Runs::kInline:
      return true;
    case Runs::kInlineIfLocalMetadata:
      return !o.metadata_on_network;
    case Runs::kInlineIfLocalStores:
      return !o.metadata_on_network && !o.blobs_on_network;
  }
  return false;
}

http::Response Registry::Reject(int status, std::string_view reason) {
  http::Response r = NewResponse(status);
  r.Set("Content-Type", "application/json");
  r.body = R"({"errors":[{"code":"UNSUPPORTED","message":")" + std::string(reason) +
           R"(","detail":null}]})";
  return r;
}

}  // namespace berth::registry
