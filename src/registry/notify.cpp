// The request half of webhook events, shared by the handlers that record them.
#include "registry/handlers.hpp"

namespace berth::registry {

events::Event RequestEvent(const Request& req, std::string_view action,
                           const std::string& repository) {
  events::Event e;
  e.action = std::string(action);
  e.target.repository = repository;
  e.request.id = req.request_id;
  e.request.addr = req.remote;
  e.request.host = std::string(req.Header("Host").value_or(""));
  e.request.method = req.method;
  e.request.useragent = std::string(req.Header("User-Agent").value_or(""));
  e.actor = req.user;
  return e;
}

void PostBlobEvent(Deps& d, const Request& req, std::string_view action,
                   const std::string& repository, const Digest& digest, uint64_t size,
                   const std::string& from) {
  if (!d.events || !d.events->blobs()) return;
  events::Event e = RequestEvent(req, action, repository);
  // Blobs are served as octet streams; their real type is in the manifest.
  e.target.media_type = "application/octet-stream";
  e.target.size = size;
  e.target.digest = digest.str();
  e.target.url = "/v2/" + repository + "/blobs/" + digest.str();
  e.target.from_repository = from;
  d.events->Post(std::move(e));
}

}  // namespace berth::registry
