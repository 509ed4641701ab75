// Paging for the list endpoints (tags, catalog, referrers): the `n` and
// `last` query parameters, the server's largest page, and the
// `Link: <...>; rel="next"` header that offers the rest. Every list is read
// from the store one page at a time, so no response grows with the data.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/message.hpp"

namespace berth::registry {

// Largest page served: a request without `n`, or with a larger one, gets
// this many entries and a Link to the next page.
constexpr size_t kMaxPageSize = 1000;

struct Page {
  size_t n = kMaxPageSize;  // entries to serve, at most kMaxPageSize
  std::string last;         // serve entries strictly after this one ("" = from the start)
};

// The page a request asks for. kPaginationInvalid when `n` is not a
// non-negative integer.
Result<Page> ParsePage(const http::Request& req);

// The Link header value for the page after `last`: `<path?last=...&n=...>;
// rel="next"`, with `extra_query` ("artifactType=..." already encoded, or "")
// carried over.
std::string NextLink(std::string_view path, const Page& page, std::string_view last,
                     std::string_view extra_query = {});

// `value` percent-encoded for a query string (RFC 3986 unreserved characters
// kept).
std::string QueryEscape(std::string_view value);

}  // namespace berth::registry
