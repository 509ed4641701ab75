// Registry: the OCI Distribution API as an http::Handler. It routes each
// request through the endpoint table in registry.cpp (one line per
// endpoint) to the handler for its resource.
//
// Thread-safety: Handle may run on many threads at once.
#pragma once

#include "auth/access_gate.hpp"
#include "http/message.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {

class Registry final : public http::Handler {
 public:
  // The stores (and `gate`, `locks` and the lifecycle parts) must outlive
  // the Registry. With a gate every request needs a bearer token granting
  // what the endpoint requires; with nullptr the registry is open (tls/test
  // setups that ask for it). `locks` must be the collector's when there is
  // one; null: the registry's own. `events` null: no webhook events.
  Registry(storage::BlobStore& blobs, storage::UploadStore& uploads, storage::MetadataStore& meta,
           Options options, const auth::AccessGate* gate, storage::DigestLocks* locks = nullptr,
           LifecycleParts lifecycle = {}, events::Emitter* events = nullptr);

  http::Outcome Handle(const http::Request& request) override;
  // GET and HEAD of /v2/, blobs, manifests, tags, referrers and the catalog:
  // they read the metadata store's readers and open files, nothing more.
  // Upload status stays on the pool (it takes the upload store's lock).
  bool Quick(const http::Request& request) const override;
  http::Response Reject(int status, std::string_view reason) override;

  // What a request needs from the token (exposed for tests): GET/HEAD need
  // pull; POST/PUT/PATCH pull,push; DELETE delete; the catalog
  // registry:catalog:*; the admin extensions registry:admin:*; /v2/ nothing.
  static std::vector<auth::Scope> RequiredScopes(const Route& route, std::string_view method);

 private:
  // Handle after routing: method, token, then the endpoint's handler.
  http::Outcome Dispatch(const http::Request& request, const Route& route);
  // Checks the token; returns the answer to send when the request may not go on.
  std::optional<http::Response> Authorize(const http::Request& request, const Route& route,
                                          std::vector<auth::Scope>* granted, std::string* user);

  storage::DigestLocks own_locks_;  // before deps_, which may refer to it
  Deps deps_;
  const auth::AccessGate* gate_;
};

}  // namespace berth::registry
