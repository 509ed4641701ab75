// Send: one blocking HTTP(S) request over Beast's client, for the rare calls
// berth makes itself (Keystone logins, the admin commands). Each call has a
// connect timeout, a total timeout, a cap on the answer's size, and follows
// no redirects.
//
// Beast rather than libcurl: libcurl drags about 30 more shared libraries
// into the process (GnuTLS, Kerberos, LDAP, ...), and since the admin
// commands live in the same binary as the server, their pages would count
// against every registry's resident memory.
//
// Thread-safety: safe from many threads at once; every call has its own
// io_context, socket and TLS context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientOptions {
  // Name lookup, TCP connect and TLS handshake together. Clamped to
  // timeout_ms. A dead host fails within this instead of the total timeout.
  int64_t connect_timeout_ms = 5000;
  int64_t timeout_ms = 5000;            // the whole exchange, connecting included
  bool verify_tls = true;               // peer certificate and host name
  std::string ca_file;                  // PEM bundle; empty: the system store
  size_t max_response_bytes = 1 << 20;  // larger answer bodies fail the call
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;     // http:// or https:// only
  HeaderList headers;  // sent as given, after Host and User-Agent
  std::string body;    // sent with a Content-Length when not empty or when the method is not GET
};

struct ClientReply {
  bool transport_ok = false;  // false: no HTTP answer (refused, DNS, TLS, timeout, too large)
  bool tls_failed = false;    // the TLS handshake failed (bad certificate, not TLS, ...)
  long status = 0;            // the HTTP status when transport_ok
  HeaderList headers;         // in the order received
  std::string body;
  std::string error;  // why transport failed, for the log or the operator

  // The first header named `name` (any case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

// Sends `request` and returns the answer, whatever its status: a redirect is
// not followed. Never throws; every failure is in the reply. Neither the
// request's headers nor the bodies are logged.
ClientReply Send(const ClientRequest& request, const ClientOptions& options);

}  // namespace berth::http
