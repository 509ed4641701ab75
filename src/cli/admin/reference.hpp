// The image reference of `berth images delete`: REPO:TAG or REPO@DIGEST.
// The registry comes from --url, never from the reference, so REPO is a
// repository name as the registry knows it (it may contain '/').
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace berth::cli::admin {

struct ImageReference {
  std::string repository;
  std::string reference;  // the tag, or the digest as "algorithm:hex"
  bool by_digest = false;

  // REPO:TAG or REPO@DIGEST again, as the operator wrote it (canonical).
  std::string str() const { return repository + (by_digest ? "@" : ":") + reference; }
};

// Splits `text`. A tag is what follows the last ':' after the last '/'; a
// digest what follows '@'. Errors, each with a message for the operator:
// kNameInvalid (bad repository, including a registry host:port in front of
// it), kTagInvalid (no tag or digest, or a bad tag), kDigestInvalid (a bad
// digest, or both a tag and a digest).
Result<ImageReference> ParseImageReference(std::string_view text);

}  // namespace berth::cli::admin
