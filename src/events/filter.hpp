// Which events an endpoint wants: include-lists of actions, target media
// types and repository globs. An empty list takes everything.
//
// Thread-safety: immutable values and pure functions.
#pragma once

#include <string>
#include <vector>

#include "events/event.hpp"

namespace berth::events {

struct Filter {
  std::vector<std::string> actions;       // push, pull, delete, mount
  std::vector<std::string> media_types;   // exact; events without one (deletes) pass
  std::vector<std::string> repositories;  // globs as retention's: '*' stops at '/', "**" crosses it
};

// Whether an endpoint with `filter` wants `e`.
bool Accepts(const Filter& filter, const Event& e);

}  // namespace berth::events
