#include "auth/keystone/http_post.hpp"

#include "http_client/client.hpp"

namespace berth::auth {

PostReply HttpPost(const std::string& url, const std::string& json_body,
                   const PostOptions& options) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = json_body;
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
  return reply;
}

}  // namespace berth::auth
