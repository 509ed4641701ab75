#include "cli/admin/reference.hpp"

#include "common/digest.hpp"
#include "common/names.hpp"

namespace berth::cli::admin {
namespace {

Status CheckRepository(std::string_view repo) {
  Status s = ValidateRepositoryName(repo);
  if (s.ok()) return s;
  std::string why = "invalid repository \"" + std::string(repo) + "\": " + s.message();
  // "host:5000/alice/app:v1" would otherwise read as an odd repository name.
  std::string_view first = repo.substr(0, repo.find('/'));
  if (repo.find('/') != std::string_view::npos && first.find(':') != std::string_view::npos) {
    why += " (name the registry with --url, not in the reference)";
  }
  return Status(Errc::kNameInvalid, why);
}

}  // namespace

Result<ImageReference> ParseImageReference(std::string_view text) {
  ImageReference out;
  if (size_t at = text.find('@'); at != std::string_view::npos) {
    std::string_view repo = text.substr(0, at);
    const size_t slash = repo.rfind('/');
    if (repo.find(':', slash == std::string_view::npos ? 0 : slash) != std::string_view::npos) {
      return Status(Errc::kDigestInvalid,
                    "give either a tag or a digest, not both: " + std::string(text));
    }
    auto digest = Digest::Parse(text.substr(at + 1));
    if (!digest) return Status(Errc::kDigestInvalid, digest.status().message());
    if (Status s = CheckRepository(repo); !s.ok()) return s;
    out.repository = std::string(repo);
    out.reference = digest->str();
    out.by_digest = true;
    return out;
  }
  const size_t slash = text.rfind('/');
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return Status(Errc::kTagInvalid,
                  "expected REPO:TAG or REPO@DIGEST, got \"" + std::string(text) + "\"");
  }
  std::string_view repo = text.substr(0, colon);
  std::string_view tag = text.substr(colon + 1);
  if (Status s = CheckRepository(repo); !s.ok()) return s;
  if (Status s = ValidateTag(tag); !s.ok()) {
    return Status(Errc::kTagInvalid, "invalid tag \"" + std::string(tag) + "\": " + s.message());
  }
  out.repository = std::string(repo);
  out.reference = std::string(tag);
  return out;
}

}  // namespace berth::cli::admin
