#include "storage/migrate/manifest_order.hpp"

#include <deque>
#include <map>
#include <string>
#include <utility>

namespace berth::storage::migrate {

std::vector<size_t> OrderManifests(const std::vector<SnapshotManifest>& manifests,
                                   std::vector<size_t>* cyclic) {
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (size_t i = 0; i < manifests.size(); ++i) {
    index.emplace(std::make_pair(manifests[i].repository, manifests[i].record.digest.str()), i);
  }
  // Kahn's algorithm: `waiting[i]` counts the children of i not yet placed.
  std::vector<size_t> waiting(manifests.size(), 0);
  std::vector<std::vector<size_t>> parents(manifests.size());
  for (size_t i = 0; i < manifests.size(); ++i) {
    for (const auto& ref : manifests[i].manifest_refs) {
      auto it = index.find({manifests[i].repository, ref});
      // A child missing from the snapshot is PutManifest's to report.
      if (it == index.end() || it->second == i) continue;
      ++waiting[i];
      parents[it->second].push_back(i);
    }
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < manifests.size(); ++i) {
    if (waiting[i] == 0) ready.push_back(i);
  }
  std::vector<size_t> order;
  order.reserve(manifests.size());
  while (!ready.empty()) {
    size_t i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (size_t p : parents[i]) {
      if (--waiting[p] == 0) ready.push_back(p);
    }
  }
  if (cyclic) {
    cyclic->clear();
    for (size_t i = 0; i < manifests.size(); ++i) {
      if (waiting[i] != 0) cyclic->push_back(i);
    }
  }
  return order;
}

}  // namespace berth::storage::migrate
