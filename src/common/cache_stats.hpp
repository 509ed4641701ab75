// What a cache reports for metrics: lookups that found an entry, lookups
// that did not (expired entries count as misses), and entries held now.
#pragma once

#include <cstddef>
#include <cstdint>

namespace berth {

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  size_t entries = 0;
};

}  // namespace berth
