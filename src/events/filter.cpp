#include "events/filter.hpp"

#include <algorithm>

#include "lifecycle/retention.hpp"

namespace berth::events {

bool Accepts(const Filter& filter, const Event& e) {
  auto in = [](const std::vector<std::string>& list, const std::string& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  if (!in(filter.actions, e.action)) return false;
  // A delete names no media type; a media type filter is about what content
  // is announced, so it lets such events through.
  if (!e.target.media_type.empty() && !in(filter.media_types, e.target.media_type)) return false;
  if (filter.repositories.empty()) return true;
  return std::any_of(
      filter.repositories.begin(), filter.repositories.end(),
      [&](const std::string& g) { return lifecycle::GlobMatch(g, e.target.repository); });
}

}  // namespace berth::events
