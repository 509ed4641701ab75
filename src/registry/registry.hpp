// Registry: the OCI Distribution API as an http::Handler. It routes each
// request through the endpoint table in registry.cpp (one line per
// endpoint) to the handler for its resource.
//
// Thread-safety: Handle may run on many threads at once.
#pragma once

#include "http/message.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {

class Registry final : public http::Handler {
 public:
  // The stores must outlive the Registry.
  Registry(storage::BlobStore& blobs, storage::UploadStore& uploads,
           storage::MetadataStore& meta, Options options);

  http::Outcome Handle(const http::Request& request) override;
  http::Response Reject(int status, std::string_view reason) override;

 private:
  Deps deps_;
};

}  // namespace berth::registry
