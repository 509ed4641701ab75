// The one place where a domain error becomes an OCI error: the JSON
// envelope {"errors":[{"code","message","detail"}]} with its HTTP status.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "common/result.hpp"
#include "http/message.hpp"

namespace berth::registry {

// A response carrying the headers every registry answer has.
http::Response NewResponse(int status);

// The OCI error response for a non-ok `status`. Internal errors are logged in
// full and answered with a generic message.
http::Response ErrorResponse(const Status& status);

// The OCI error code and HTTP status for `code` (exposed for tests).
struct WireError {
  std::string_view code;
  int http_status;
};
WireError ToWire(Errc code);

}  // namespace berth::registry
