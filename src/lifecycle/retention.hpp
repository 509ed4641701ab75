// Retention policies: which tags of a repository to delete. Pure functions
// over the tags' times, so the rules are tested without a store.
//
// Thread-safety: immutable values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "storage/lifecycle_store.hpp"

namespace berth::lifecycle {

struct RetentionPolicy {
  std::string repositories;                // glob: '*' stops at '/', "**" crosses it, '?' one char
  std::optional<uint64_t> keep_last;       // the N most recently pushed tags
  std::optional<uint64_t> keep_days;       // tags pushed or pulled within D days
  std::string keep_tags;                   // ECMAScript regex (empty: none); searched, not anchored
  std::optional<std::regex> keep_tags_re;  // compiled keep_tags
};

// Compiles keep_tags; kInternal naming the policy when it is not a regex.
Status Compile(RetentionPolicy& policy);

// Whether `name` matches `glob` as a whole.
bool GlobMatch(std::string_view glob, std::string_view name);

// The first policy whose glob matches `repository`, or nullptr.
const RetentionPolicy* PolicyFor(const std::vector<RetentionPolicy>& policies,
                                 std::string_view repository);

// The tags `policy` does not keep at unix time `now`. A tag is kept when any
// rule keeps it; a policy without rules keeps everything.
std::vector<storage::TagInfo> TagsToDelete(const RetentionPolicy& policy,
                                           std::vector<storage::TagInfo> tags, int64_t now);

}  // namespace berth::lifecycle
