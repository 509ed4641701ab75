#include "cli/admin/registry_client.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "common/base64.hpp"
#include "cli/admin/exit_codes.hpp"

namespace berth::cli::admin {
namespace {

std::string QueryValue(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

// Why there was no answer from `url`, with the hint that fixes TLS failures.
Status NoAnswer(const std::string& url, const http::ClientReply& reply) {
  std::string why = url + ": " + reply.error;
  if (reply.tls_failed) why += " (trust the registry's certificate with --ca-file, or --insecure)";
  return Status(Errc::kUnavailable, why);
}

// The token of a token server's 200 answer: "token", or OAuth2's
// "access_token" (the Docker spec allows either).
std::optional<std::string> TokenOf(std::string_view body) {
  boost::system::error_code ec;
  auto json = boost::json::parse(body, ec);
  if (ec || !json.is_object()) return std::nullopt;
  for (const char* key : {"token", "access_token"}) {
    const auto* v = json.as_object().if_contains(key);
    if (v && v->is_string() && !v->as_string().empty()) return std::string(v->as_string().c_str());
  }
  return std::nullopt;
}

}  // namespace

RegistryClient::RegistryClient(RegistryClientOptions options, Transport transport)
    : options_(std::move(options)), transport_(std::move(transport)) {}

Result<http::ClientReply> RegistryClient::Send(std::string_view method, std::string_view target,
                                               const std::string& body, const std::string& token) {
  http::ClientRequest request;
  request.method = std::string(method);
  request.url = Url(target);
  request.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  request.body = body;
  http::ClientReply reply = transport_(request, options_.http);
  if (!reply.transport_ok) return NoAnswer(request.url, reply);
  return reply;
}

Result<std::string> RegistryClient::Token(const BearerChallenge& challenge,
                                          const std::string& tried) {
  if (auto cached = tokens_.find(challenge.scope);
      cached != tokens_.end() && cached->second != tried) {
    return cached->second;
  }
  http::ClientRequest request;
  request.url = challenge.realm;
  char sep = challenge.realm.find('?') == std::string::npos ? '?' : '&';
  if (!challenge.service.empty()) {
    request.url += sep + std::string("service=") + QueryValue(challenge.service);
    sep = '&';
  }
  // One scope parameter per scope, as docker sends them.
  std::string_view scopes = challenge.scope;
  while (!scopes.empty()) {
    size_t space = scopes.find(' ');
    std::string_view one = scopes.substr(0, space);
    if (!one.empty()) {
      request.url += sep + std::string("scope=") + QueryValue(one);
      sep = '&';
    }
    scopes.remove_prefix(space == std::string_view::npos ? scopes.size() : space + 1);
  }
  request.headers.emplace_back("Accept", "application/json");
  if (options_.password) {
    request.headers.emplace_back(
        "Authorization",
        "Basic " + Base64Encode(options_.user + ":" + options_.password->reveal()));
  }
  http::ClientReply reply = transport_(request, options_.http);
  if (!reply.transport_ok) return NoAnswer(challenge.realm, reply);
  if (reply.status != 200) {
    std::string why = "login as " + options_.user + " refused by " + challenge.realm + ": " +
                      ErrorMessage(reply.status, reply.body);
    if (!options_.password)
      why += " (no password given: set BERTH_PASSWORD or use --password-stdin)";
    switch (reply.status) {
      case 401:
      case 403:
        return Status(Errc::kUnauthorized, why);
      case 429:
        return Status(Errc::kTooManyRequests, why);
      default:
        return Status(Errc::kUnavailable, why);
    }
  }
  auto token = TokenOf(reply.body);
  if (!token) return Status(Errc::kInternal, challenge.realm + " answered 200 without a token");
  tokens_[challenge.scope] = *token;
  return *token;
}

Result<http::ClientReply> RegistryClient::Call(std::string_view method, std::string_view target,
                                               const std::string& body) {
  const std::string tried = last_token_;
  auto reply = Send(method, target, body, tried);
  if (!reply || reply->status != 401) return reply;
  auto header = reply->Header("WWW-Authenticate");
  if (!header) return reply;  // a 401 without a challenge: nothing to log in to
  auto challenge = ParseBearerChallenge(*header);
  if (!challenge) return challenge.status();
  auto token = Token(*challenge, tried);
  if (!token) return token.status();
  last_token_ = *token;
  return Send(method, target, body, *token);
}

}  // namespace berth::cli::admin
