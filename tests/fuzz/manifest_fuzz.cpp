// Fuzz target for registry/manifest: ParseManifest sees every pushed
// manifest body and its Content-Type. Input: the Content-Type, a newline,
// then the body (no newline: the whole input is the body, with no
// Content-Type), so seeds stay readable. An accepted manifest must name only
// digests the store can turn into file names, and a known media type.

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/digest.hpp"
#include "common/media_types.hpp"
#include "fuzz_check.hpp"
#include "registry/manifest.hpp"

namespace media = berth::media;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view content_type;
  if (auto nl = input.find('\n'); nl != std::string_view::npos) {
    content_type = input.substr(0, nl);
    input.remove_prefix(nl + 1);
  }
  auto m = berth::registry::ParseManifest(content_type, input);
  if (!m) {
    FUZZ_CHECK(m.status().code() == berth::Errc::kManifestInvalid);
    return 0;
  }
  const std::string& t = m->media_type;
  FUZZ_CHECK(t == media::kOciManifest || t == media::kDockerManifest || t == media::kOciIndex ||
             t == media::kDockerManifestList);
  for (const auto& d : m->blob_refs) FUZZ_CHECK(berth::Digest::Parse(d).ok());
  for (const auto& d : m->manifest_refs) FUZZ_CHECK(berth::Digest::Parse(d).ok());
  if (m->subject) FUZZ_CHECK(berth::Digest::Parse(*m->subject).ok());
  if (m->annotations_json) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(*m->annotations_json, ec);
    FUZZ_CHECK(!ec && v.is_object());
  }
  return 0;
}
