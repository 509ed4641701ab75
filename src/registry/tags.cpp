// Discovery: GET /v2/<name>/tags/list and GET /v2/_catalog, both sorted and
// paged with n/last and a Link header (paging.hpp), at most kMaxPageSize
// entries a page even when the client gives no `n`.
#include <boost/json.hpp>

#include "registry/errors.hpp"
#include "registry/handlers.hpp"
#include "registry/paging.hpp"

namespace berth::registry {
namespace {

// Lists one page via `list` (which gets `last` and the limit), adding a
// Link header when more remain.
template <typename List>
Outcome Paged(const Request& req, const std::string& path, const char* key,
              boost::json::object head, List list) {
  auto page = ParsePage(req);
  if (!page) return Outcome::Reply(ErrorResponse(page.status()));
  auto items = list(page->last, page->n + 1);  // one more tells whether to link on
  if (!items) return Outcome::Reply(ErrorResponse(items.status()));
  http::Response r = NewResponse(200);
  if (items->size() > page->n) {
    items->resize(page->n);
    if (!items->empty()) r.Set("Link", NextLink(path, *page, items->back()));
  }
  boost::json::array arr;
  for (auto& s : *items) arr.emplace_back(s);
  head[key] = std::move(arr);
  r.Set("Content-Type", "application/json");
  r.body = boost::json::serialize(head);
  return Outcome::Reply(std::move(r));
}

}  // namespace

Outcome ListTags(Deps& d, const Request& req, const Route& route) {
  return Paged(req, "/v2/" + route.name + "/tags/list", "tags",
               boost::json::object{{"name", route.name}},
               [&](const std::string& last, size_t limit) {
                 return d.meta.ListTags(route.name, last, limit);
               });
}

Outcome Catalog(Deps& d, const Request& req, const Route&) {
  return Paged(
      req, "/v2/_catalog", "repositories", boost::json::object{},
      [&](const std::string& last, size_t limit) { return d.meta.ListRepositories(last, limit); });
}

}  // namespace berth::registry
