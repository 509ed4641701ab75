// HttpPost / HttpGet: one blocking HTTP(S) POST of a JSON body, or GET, over http::Send
// (http_client/client.hpp, Beast rather than libcurl, see there), with a total
// timeout, a cap on the answer's size and no redirects. Kept apart from the
// Keystone logic, which stays pure.
//
// Thread-safety: safe from many threads at once; every call has its own
// io_context, socket and TLS context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http_client/client.hpp"

namespace berth::auth {

struct PostOptions {
  int64_t timeout_ms = 5000;            // the whole exchange, name lookup and connecting included
  bool verify_tls = true;               // peer certificate and host name
  std::string ca_file;                  // PEM bundle; empty: the system store
  size_t max_response_bytes = 1 << 20;  // larger answer bodies fail the call
};

struct PostReply {
  bool transport_ok = false;  // false: no HTTP answer (refused, DNS, TLS, timeout, too large)
  long status = 0;            // the HTTP status when transport_ok
  std::string body;
  std::string error;         // why transport failed, for the log
  http::HeaderList headers;  // the answer's, in the order received

  // The first header named `name` (any case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

// POSTs `json_body` to `url` (http:// or https:// only) with Content-Type and
// Accept application/json. The answer, whatever its status, is returned as
// is: a redirect is not followed. Never throws; every failure is in the
// reply. The body is not logged.
PostReply HttpPost(const std::string& url, const std::string& json_body,
                   const PostOptions& options);

// GETs `url` with `headers` (which may hold secrets: they are never logged)
// and Accept: application/json, under the same rules as HttpPost.
PostReply HttpGet(const std::string& url, http::HeaderList headers, const PostOptions& options);

}  // namespace berth::auth
