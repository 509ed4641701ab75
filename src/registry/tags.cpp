// Discovery: GET /v2/<name>/tags/list and GET /v2/_catalog, both sorted and
// paged with n/last and a Link header.
#include <boost/json.hpp>
#include <algorithm>
#include <charconv>

#include "registry/errors.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {
namespace {

// Largest page served; a larger `n` is cut to it and a Link offers the rest.
constexpr size_t kMaxPage = 10000;

struct Page {
  std::optional<size_t> n;
  std::string last;
};

Result<Page> ParsePage(const Request& req) {
  Page p;
  if (auto n = req.Query("n")) {
    size_t v = 0;
    auto [ptr, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
    if (n->empty() || ec != std::errc() || ptr != n->data() + n->size()) {
      return Status(Errc::kPaginationInvalid, "n must be a non-negative integer");
    }
    p.n = std::min(v, kMaxPage);
  }
  if (auto last = req.Query("last")) p.last = std::string(*last);
  return p;
}

// Lists one page via `list` (which gets the limit), adding a Link header
// when more remain.
template <typename List>
Outcome Paged(const Request& req, const std::string& base, const char* key,
              boost::json::object head, List list) {
  auto page = ParsePage(req);
  if (!page) return Outcome::Reply(ErrorResponse(page.status()));
  std::optional<size_t> limit;
  if (page->n) limit = *page->n + 1;  // one more tells whether to link on
  auto items = list(page->last, limit);
  if (!items) return Outcome::Reply(ErrorResponse(items.status()));
  http::Response r = NewResponse(200);
  if (page->n && items->size() > *page->n) {
    items->resize(*page->n);
    if (!items->empty()) {
      r.Set("Link", "<" + base + "?last=" + items->back() + "&n=" + std::to_string(*page->n) +
                        ">; rel=\"next\"");
    }
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
               [&](const std::string& last, std::optional<size_t> limit) {
                 return d.meta.ListTags(route.name, last, limit);
               });
}

Outcome Catalog(Deps& d, const Request& req, const Route&) {
  return Paged(req, "/v2/_catalog", "repositories", boost::json::object{},
               [&](const std::string& last, std::optional<size_t> limit) {
                 return d.meta.ListRepositories(last, limit);
               });
}

}  // namespace berth::registry
