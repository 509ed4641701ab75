// The OCI distribution grammars for repository names, tags and references.
//
// These checks are the only gate between a URL and the store: a name that
// passes contains only [a-z0-9._/-] in the spec's shape, so it can never name
// a parent directory or smuggle an encoded byte.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/digest.hpp"
#include "common/result.hpp"

namespace berth {

// Longest repository name we accept. The spec advises host + "/" + name to
// stay within 255 characters; leave room for a host name.
inline constexpr size_t kMaxRepositoryNameLength = 200;

// Checks `name` against
//   [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
// and the length limit. Returns kNameInvalid with the reason otherwise.
Status ValidateRepositoryName(std::string_view name);

// Checks `tag` against [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
Status ValidateTag(std::string_view tag);

// The namespace of a repository: its first path component ("alice" for
// "alice/app/web" and for "alice"). Quotas and ownership are per namespace.
inline std::string_view NamespaceOf(std::string_view repository) {
  return repository.substr(0, repository.find('/'));
}

// Bytes for people: "1.5 GiB", "20.0 MiB", "512 B".
std::string HumanBytes(uint64_t bytes);

// A manifest reference: a tag or a digest.
using Reference = std::variant<std::string, Digest>;

// Parses a reference: anything containing ':' must be a digest
// (kDigestInvalid otherwise), anything else must be a tag (kTagInvalid).
Result<Reference> ParseReference(std::string_view text);

}  // namespace berth
