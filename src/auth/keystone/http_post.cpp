#include "auth/keystone/http_post.hpp"

#include <strings.h>

namespace berth::auth {
namespace {

PostReply Exchange(const http::ClientRequest& request, const PostOptions& options) {
  http::ClientOptions client;
  // Keystone has one budget for the whole exchange, connecting included.
  client.connect_timeout_ms = options.timeout_ms;
  client.timeout_ms = options.timeout_ms;
  client.verify_tls = options.verify_tls;
  client.ca_file = options.ca_file;
  client.max_response_bytes = options.max_response_bytes;
  http::ClientReply sent = http::Send(request, client);
  PostReply reply;
  reply.transport_ok = sent.transport_ok;
  reply.status = sent.status;
  reply.body = std::move(sent.body);
  reply.error = std::move(sent.error);
  reply.headers = std::move(sent.headers);
  return reply;
}

}  // namespace

std::optional<std::string> PostReply::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
}

PostReply HttpPost(const std::string& url, const std::string& json_body,
                   const PostOptions& options) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = json_body;
  return Exchange(request, options);
}

PostReply HttpGet(const std::string& url, http::HeaderList headers, const PostOptions& options) {
  http::ClientRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = std::move(headers);
  request.headers.emplace_back("Accept", "application/json");
  return Exchange(request, options);
}

}  // namespace berth::auth
