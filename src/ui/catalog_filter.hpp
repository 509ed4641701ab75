// One page of the repositories a user may pull, for GET /ui/api/repositories:
// the store's names in order, kept when they contain the search text and the
// caller's predicate (the token server's policy) allows them. Names the user
// may not pull never leave this function.
//
// Work is bounded: at most `max_scan` names are read per call; a page cut
// short by that ends with `next` set, and the client asks on from there.
//
// Thread-safety: pure function; `list` and `allowed` are called on the
// caller's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace berth::ui {

struct CatalogQuery {
  std::string q;     // kept names contain this (ASCII case-insensitive); "" keeps all
  size_t n = 100;    // at most this many names
  std::string last;  // start strictly after this name
  size_t max_scan = 20000;
};

struct CatalogPage {
  std::vector<std::string> names;
  std::string next;  // "" when the listing is complete; else pass as `last`
};

// Lists via `list(last, limit)` (MetadataStore::ListRepositories) in
// batches. Errors: the first one `list` returns.
Result<CatalogPage> FilterCatalog(
    const CatalogQuery& query,
    const std::function<Result<std::vector<std::string>>(const std::string&, size_t)>& list,
    const std::function<bool(const std::string&)>& allowed);

// Whether `name` contains `q`, ignoring ASCII case.
bool ContainsFolded(std::string_view name, std::string_view q);

}  // namespace berth::ui
