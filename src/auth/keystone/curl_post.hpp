// CurlPost: one blocking HTTP(S) POST of a JSON body over libcurl, with a
// total timeout, a cap on the answer's size, no redirects and no signals.
// The only libcurl user; kept apart so that the Keystone logic stays pure.
//
// Thread-safety: safe from many threads at once (one easy handle per call).
// InitCurlOnce must have run before the first call; it is itself safe to call
// from any thread, any number of times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace berth::auth {

struct PostOptions {
  int64_t timeout_ms = 5000;            // the whole exchange, connecting included
  bool verify_tls = true;               // peer certificate and host name
  std::string ca_file;                  // PEM bundle; empty: the system store
  size_t max_response_bytes = 1 << 20;  // larger answers fail the call
};

struct PostReply {
  bool transport_ok = false;  // false: no HTTP answer (refused, DNS, TLS, timeout, too large)
  long status = 0;            // the HTTP status when transport_ok
  std::string body;
  std::string error;  // why transport failed, for the log
};

// Initialises libcurl's global state exactly once per process.
void InitCurlOnce();

// POSTs `json_body` to `url` with Content-Type and Accept application/json.
// Never throws; every failure is in the reply. The body is not logged.
PostReply CurlPost(const std::string& url, const std::string& json_body,
                   const PostOptions& options);

}  // namespace berth::auth
