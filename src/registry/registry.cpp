#include "registry/registry.hpp"

#include <array>

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
};

}  // namespace

Registry::Registry(storage::BlobStore& blobs, storage::UploadStore& uploads,
                   storage::MetadataStore& meta, Options options)
    : deps_{blobs, uploads, meta, options} {}

http::Outcome Registry::Handle(const http::Request& request) {
  auto route = ParseRoute(request.path);
  if (!route) return Outcome::Reply(ErrorResponse(route.status()));
  for (const auto& e : kRoutes) {
    if (e.endpoint != route->endpoint) continue;
    if (e.method == request.method) return e.handle(deps_, request, *route);
  }
  http::Response r = ErrorResponse({Errc::kMethodNotAllowed, "method not allowed here"});
  return Outcome::Reply(std::move(r));
}

http::Response Registry::Reject(int status, std::string_view reason) {
  http::Response r = NewResponse(status);
  r.Set("Content-Type", "application/json");
  r.body = R"({"errors":[{"code":"UNSUPPORTED","message":")" + std::string(reason) +
           R"(","detail":null}]})";
  return r;
}

}  // namespace berth::registry
