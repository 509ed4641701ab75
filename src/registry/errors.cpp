#include "registry/errors.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

namespace berth::registry {
namespace {

// Retry-After on a 429: the registry's 429s come from memory held by bodies
// in flight, which a normal client finishes within a second.
constexpr int kRetryAfterSeconds = 1;

}  // namespace

WireError ToWire(Errc code) {
  // Keep in step with enum Errc (common/result.hpp). Codes are the OCI
  // distribution-spec's, plus PAGINATION_NUMBER_INVALID and UNKNOWN as the
  // reference registry uses them.
  switch (code) {
    case Errc::kOk:
      return {"", 200};
    case Errc::kNameInvalid:
      return {"NAME_INVALID", 400};
    case Errc::kNameUnknown:
      return {"NAME_UNKNOWN", 404};
    case Errc::kTagInvalid:
      return {"MANIFEST_INVALID", 400};
    case Errc::kDigestInvalid:
      return {"DIGEST_INVALID", 400};
    case Errc::kBlobUnknown:
      return {"BLOB_UNKNOWN", 404};
    case Errc::kBlobUploadUnknown:
      return {"BLOB_UPLOAD_UNKNOWN", 404};
    case Errc::kBlobUploadInvalid:
      return {"BLOB_UPLOAD_INVALID", 400};
    case Errc::kRangeInvalid:
      return {"BLOB_UPLOAD_INVALID", 416};
    case Errc::kManifestInvalid:
      return {"MANIFEST_INVALID", 400};
    case Errc::kManifestUnknown:
      return {"MANIFEST_UNKNOWN", 404};
    case Errc::kManifestBlobUnknown:
      return {"MANIFEST_BLOB_UNKNOWN", 400};
    case Errc::kSizeInvalid:
      return {"SIZE_INVALID", 400};
    case Errc::kTooLarge:
      return {"SIZE_INVALID", 413};
    case Errc::kPaginationInvalid:
      return {"PAGINATION_NUMBER_INVALID", 400};
    case Errc::kUnsupported:
      return {"UNSUPPORTED", 405};
    case Errc::kNotFound:
      return {"NOT_FOUND", 404};
    case Errc::kMethodNotAllowed:
      return {"UNSUPPORTED", 405};
    case Errc::kScopeInvalid:
      return {"UNSUPPORTED", 400};
    case Errc::kUnauthorized:
      return {"UNAUTHORIZED", 401};
    case Errc::kDenied:
      return {"DENIED", 403};
    case Errc::kTooManyRequests:
      return {"TOOMANYREQUESTS", 429};
    case Errc::kBusy:
      return {"BLOB_UPLOAD_INVALID", 409};
    case Errc::kNoSpace:
      return {"UNKNOWN", 507};
    case Errc::kUnavailable:
      return {"UNAVAILABLE", 503};
    case Errc::kInternal:
      return {"UNKNOWN", 500};
  }
  return {"UNKNOWN", 500};
}

http::Response NewResponse(int status) {
  http::Response r;
  r.status = status;
  r.Set("Docker-Distribution-Api-Version", "registry/2.0");
  return r;
}

http::Response ErrorResponse(const Status& status) {
  WireError w = ToWire(status.code());
  std::string message = status.message();
  if (status.code() == Errc::kInternal) {
    spdlog::error("internal error: {}", message);
    message = "internal error; the server log has the details";
  } else if (status.code() == Errc::kNoSpace) {
    spdlog::error("{}", message);
    message = "storage is full; nothing was stored";
  }
  boost::json::object err{{"code", w.code}, {"message", message}, {"detail", nullptr}};
  boost::json::object body{{"errors", boost::json::array{err}}};
  http::Response r = NewResponse(w.http_status);
  r.Set("Content-Type", "application/json");
  if (status.code() == Errc::kTooManyRequests) {
    r.Set("Retry-After", std::to_string(kRetryAfterSeconds));
  }
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace berth::registry
