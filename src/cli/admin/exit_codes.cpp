#include "cli/admin/exit_codes.hpp"

#include <boost/json.hpp>

namespace berth::cli::admin {

ExitCode ExitCodeForHttp(long status) {
  if (status >= 200 && status < 300) return kExitOk;
  switch (status) {
    case 400:
      return kExitUsage;
    case 404:
      return kExitNotFound;
    case 401:
    case 403:
    case 429:  // the token server's answer to repeated failed logins
      return kExitDenied;
    default:
      return kExitFailed;  // 405 (deletes disabled), 5xx, a redirect, ...
  }
}

ExitCode ExitCodeFor(Errc code) {
  switch (code) {
    case Errc::kOk:
      return kExitOk;
    case Errc::kNameUnknown:
    case Errc::kManifestUnknown:
    case Errc::kBlobUnknown:
    case Errc::kNotFound:
      return kExitNotFound;
    case Errc::kNameInvalid:
    case Errc::kTagInvalid:
    case Errc::kDigestInvalid:
    case Errc::kScopeInvalid:
    case Errc::kPaginationInvalid:
      return kExitUsage;
    case Errc::kUnauthorized:
    case Errc::kDenied:
    case Errc::kTooManyRequests:
      return kExitDenied;
    default:
      return kExitFailed;
  }
}

std::string ErrorMessage(long status, std::string_view body) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(body, ec);
  std::string out;
  if (!ec && parsed.is_object()) {
    const auto* errors = parsed.as_object().if_contains("errors");
    if (errors && errors->is_array()) {
      for (const auto& e : errors->as_array()) {
        if (!e.is_object()) continue;
        const auto* code = e.as_object().if_contains("code");
        const auto* message = e.as_object().if_contains("message");
        std::string one;
        if (code && code->is_string()) one = code->as_string().c_str();
        if (message && message->is_string() && !message->as_string().empty()) {
          one += (one.empty() ? "" : ": ") + std::string(message->as_string().c_str());
        }
        if (one.empty()) continue;
        out += (out.empty() ? "" : "; ") + one;
      }
    }
  }
  if (!out.empty()) return out;
  out = "HTTP " + std::to_string(status);
  // A proxy's HTML page says little and takes a screen: its first line at most.
  std::string_view first = body.substr(0, body.find('\n')).substr(0, 200);
  if (!first.empty()) out += ": " + std::string(first);
  return out;
}

}  // namespace berth::cli::admin
