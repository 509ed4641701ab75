#include "ui/catalog_filter.hpp"

#include <algorithm>
#include <cctype>

namespace berth::ui {
namespace {
constexpr size_t kBatch = 1000;
}  // namespace

bool ContainsFolded(std::string_view name, std::string_view q) {
  if (q.empty()) return true;
  auto it = std::search(name.begin(), name.end(), q.begin(), q.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != name.end();
}

Result<CatalogPage> FilterCatalog(
    const CatalogQuery& query,
    const std::function<Result<std::vector<std::string>>(const std::string&, size_t)>& list,
    const std::function<bool(const std::string&)>& allowed) {
  CatalogPage page;
  if (query.n == 0) return page;
  std::string cursor = query.last;
  size_t scanned = 0;
  while (true) {
    auto batch = list(cursor, kBatch);
    if (!batch) return batch.status();
    for (auto& name : *batch) {
      ++scanned;
      cursor = name;
      if (ContainsFolded(name, query.q) && allowed(name)) {
        page.names.push_back(std::move(name));
        if (page.names.size() == query.n) {
          page.next = page.names.back();
          return page;
        }
      }
      if (scanned >= query.max_scan) {
        page.next = cursor;
        return page;
      }
    }
    if (batch->size() < kBatch) return page;
  }
}

}  // namespace berth::ui
