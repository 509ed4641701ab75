// RegistryClient: the admin commands' way to call a registry's API. It logs
// in the way docker does (the token dance): a request answered 401 with a
// Bearer challenge gets a token from the challenge's realm, asked with HTTP
// Basic credentials for the challenge's service and scope, and is sent again
// with it. Tokens are remembered per scope for the life of the client, so
// the pages of a listing cost one login.
//
// The transport is injected so the dance is tested without sockets.
//
// Thread-safety: one thread at a time (the token cache is not locked).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cli/admin/challenge.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"
#include "http_client/client.hpp"

namespace berth::cli::admin {

using Transport =
    std::function<http::ClientReply(const http::ClientRequest&, const http::ClientOptions&)>;

struct RegistryClientOptions {
  std::string base_url;            // scheme://host:port of the registry, no trailing '/'
  std::string user;                // sent to the token server
  std::optional<Secret> password;  // nullopt: the token is asked for anonymously
  http::ClientOptions http;        // timeouts and TLS for the registry and the realm alike
};

class RegistryClient {
 public:
  explicit RegistryClient(RegistryClientOptions options, Transport transport = http::Send);

  // Sends `method` to `target` (path and query, starting with "/v2/") with
  // `body` (JSON when not empty), logging in when challenged. Returns the
  // registry's answer whatever its status, 401 and 403 included (the
  // registry's refusal is the caller's to report). Fails with:
  //   kUnavailable  no answer from the registry or the realm (connection,
  //                 TLS, timeout), or the realm answered 5xx
  //   kUnauthorized the token server refused the login, or the challenge is
  //                 malformed or not Bearer
  //   kTooManyRequests  the token server throttles the login
  //   kInternal     the token server's answer holds no token
  Result<http::ClientReply> Call(std::string_view method, std::string_view target,
                                 const std::string& body = "");

  // Whether logins go without a password (the token server may still grant
  // anonymous tokens, which the registry then refuses).
  bool anonymous() const { return !options_.password.has_value(); }

  // The URL `target` is sent to.
  std::string Url(std::string_view target) const { return options_.base_url + std::string(target); }

 private:
  // One request to the registry with `token` (empty: none).
  Result<http::ClientReply> Send(std::string_view method, std::string_view target,
                                 const std::string& body, const std::string& token);
  // A token for `challenge`'s scope from the cache or from its realm.
  Result<std::string> Token(const BearerChallenge& challenge, const std::string& tried);

  const RegistryClientOptions options_;
  const Transport transport_;
  std::map<std::string, std::string> tokens_;  // by the challenge's scope
  std::string last_token_;                     // sent first: a listing's pages share a scope
};

}  // namespace berth::cli::admin
