// Manifest validation: decides a pushed manifest's media type and extracts
// what the store must check and remember (referenced blobs and manifests,
// subject, artifact type, annotations). The bytes themselves are stored and
// served untouched.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace berth::registry {

struct ParsedManifest {
  std::string media_type;
  std::vector<std::string> blob_refs;      // config and layers (image manifests)
  std::vector<std::string> manifest_refs;  // children (indexes)
  std::optional<std::string> subject;
  std::optional<std::string> artifact_type;
  std::optional<std::string> annotations_json;
};

// Validates `body` pushed with `content_type`. kManifestInvalid with a reason
// for: not JSON, Docker schema 1, an unknown media type, a mediaType field
// that contradicts Content-Type, or a malformed descriptor.
Result<ParsedManifest> ParseManifest(std::string_view content_type, std::string_view body);

}  // namespace berth::registry
