// The request half of webhook events, shared by the handlers that record them.
#include "registry/handlers.hpp"

namespace berth::registry {
namespace {
// Client headers copied into every queued event: a 16 KiB User-Agent on
// each of queue_max rows would make the queue a store for the client's bytes.
constexpr size_t kMaxHeaderCopy = 256;
std::string Capped(std::optional<std::string_view> v) {
  return std::string(v.value_or("").substr(0, kMaxHeaderCopy));
}
}  // namespace

events::Event RequestEvent(const Request& req, std::string_view action,
                           const std::string& repository) {
  events::Event e;
  e.action = std::string(action);
  e.target.repository = repository;
  e.request.id = req.request_id;
  e.request.addr = req.remote;
  e.request.host = Capped(req.Header("Host"));
  e.request.method = req.method;
  e.request.useragent = Capped(req.Header("User-Agent"));
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
