// The registry's URL grammar: which endpoint a path names, and the
// repository name and parameter in it. Matching runs from the right, as in
// the reference registry, because names contain '/'.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace berth::registry {

enum class Endpoint {
  kBase,         // /v2/
  kCatalog,      // /v2/_catalog
  kTags,         // /v2/<name>/tags/list
  kManifest,     // /v2/<name>/manifests/<reference>
  kBlob,         // /v2/<name>/blobs/<digest>
  kUploadStart,  // /v2/<name>/blobs/uploads/
  kUpload,       // /v2/<name>/blobs/uploads/<id>
  kReferrers,    // /v2/<name>/referrers/<digest>
  kAdminGc,      // /v2/_berth/gc (berth extension; '_' cannot start a name)
  kAdminUsage,   // /v2/_berth/usage
};

struct Route {
  Endpoint endpoint = Endpoint::kBase;
  std::string name;   // repository; validated
  std::string param;  // reference, digest or upload id; not yet validated
};

// The endpoint's name in metrics ("manifest", "upload_start"); static storage.
std::string_view EndpointName(Endpoint e);

// Every name EndpointName gives, for metrics that list them up front.
std::vector<std::string_view> EndpointNames();

// kNotFound for a path that names no endpoint; kNameInvalid when the
// repository part breaks the name grammar.
Result<Route> ParseRoute(std::string_view path);

}  // namespace berth::registry
