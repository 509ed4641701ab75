// The `Link: <...>; rel="next"` header that list endpoints (catalog, tags)
// use to offer the next page (OCI distribution spec, "Listing Tags";
// RFC 8288). Parsed apart from the client so the grammar is tested alone.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::cli::admin {

// The path and query of the link whose rel includes "next" (rel in any case,
// quoted or not, among several links and several rel values), or nullopt
// when there is none or the header is malformed. An absolute URL gives its
// path and query: the next page is asked of the same registry, with the same
// credentials, wherever the link points.
std::optional<std::string> NextPageTarget(std::string_view header);

}  // namespace berth::cli::admin
