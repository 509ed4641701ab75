#include "lifecycle/retention.hpp"

#include <algorithm>

namespace berth::lifecycle {

Status Compile(RetentionPolicy& policy) {
  if (policy.keep_tags.empty()) return Status::Ok();
  try {
    policy.keep_tags_re.emplace(policy.keep_tags, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return {Errc::kInternal, "retention policy for '" + policy.repositories + "': keep_tags '" +
                                 policy.keep_tags + "' is not a regular expression: " + e.what()};
  }
  return Status::Ok();
}

bool GlobMatch(std::string_view glob, std::string_view name) {
  if (glob.empty()) return name.empty();
  if (glob.substr(0, 2) == "**") {
    for (size_t i = 0; i <= name.size(); ++i) {
      if (GlobMatch(glob.substr(2), name.substr(i))) return true;
    }
    return false;
  }
  if (glob[0] == '*') {
    for (size_t i = 0; i <= name.size(); ++i) {
      if (GlobMatch(glob.substr(1), name.substr(i))) return true;
      if (i < name.size() && name[i] == '/') return false;
    }
    return false;
  }
  if (name.empty()) return false;
  if (glob[0] == '?' ? name[0] == '/' : glob[0] != name[0]) return false;
  return GlobMatch(glob.substr(1), name.substr(1));
}

const RetentionPolicy* PolicyFor(const std::vector<RetentionPolicy>& policies,
                                 std::string_view repository) {
  for (const auto& p : policies) {
    if (GlobMatch(p.repositories, repository)) return &p;
  }
  return nullptr;
}

std::vector<storage::TagInfo> TagsToDelete(const RetentionPolicy& policy,
                                           std::vector<storage::TagInfo> tags, int64_t now) {
  if (!policy.keep_last && !policy.keep_days && !policy.keep_tags_re) return {};
  // Newest push first; equal times by name, so the answer does not depend
  // on the order the store listed them in.
  std::sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) {
    return a.pushed_at != b.pushed_at ? a.pushed_at > b.pushed_at : a.name < b.name;
  });
  std::vector<storage::TagInfo> out;
  for (size_t i = 0; i < tags.size(); ++i) {
    const auto& t = tags[i];
    bool keep = policy.keep_last && i < *policy.keep_last;
    if (policy.keep_days) {
      const int64_t since = now - static_cast<int64_t>(*policy.keep_days) * 86400;
      keep = keep || t.pushed_at >= since || t.pulled_at >= since;
    }
    if (policy.keep_tags_re) keep = keep || std::regex_search(t.name, *policy.keep_tags_re);
    if (!keep) out.push_back(t);
  }
  return out;
}

}  // namespace berth::lifecycle
