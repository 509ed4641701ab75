// TtlCache: a bounded map from string keys to values that expire; the one
// cache type of berth (the login cache, the bearer verification cache, the
// UI's token cache, the token signer's chain cache).
//
// Policy: an entry lives until its expiry time, given when it is inserted,
// or until it is the oldest inserted when a new one needs room. Expired
// entries at the old end are dropped first; a lookup that finds an expired
// entry misses and drops it. A hit does not extend an entry (a cache of
// credentials must not keep one alive by use), and a re-insert replaces it
// and makes it the newest. Lookups, inserts and erases by key are O(1) on
// average; EraseIf walks every entry.
//
// Time comes from an injected clock (the steady clock by default), so tests
// step it by hand.
//
// Thread-safety: every method is safe from many threads (one mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iterator>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/cache_stats.hpp"
#include "common/thread_annotations.hpp"

namespace berth {

template <typename V>
class TtlCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Clock = std::function<TimePoint()>;

  // At most `max_entries` entries (0: the cache holds nothing). `clock`
  // null: the steady clock.
  explicit TtlCache(size_t max_entries, Clock clock = nullptr)
      : max_entries_(max_entries),
        clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}
  TtlCache(const TtlCache&) = delete;
  TtlCache& operator=(const TtlCache&) = delete;

  // The value under `key` while it has not expired; counts a hit or a miss.
  std::optional<V> Lookup(const std::string& key) EXCLUDES(mu_) {
    const TimePoint now = clock_();
    MutexLock lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++misses_;
      return std::nullopt;
    }
    if (now >= it->second->expires) {
      order_.erase(it->second);
      index_.erase(it);
      ++misses_;
      return std::nullopt;
    }
    ++hits_;
    return it->second->value;
  }

  // Remembers `value` under `key` for `ttl` from now (nothing when ttl <= 0).
  void Insert(const std::string& key, V value, std::chrono::steady_clock::duration ttl)
      EXCLUDES(mu_) {
    if (ttl.count() <= 0 || max_entries_ == 0) return;
    const TimePoint now = clock_();
    MutexLock lock(mu_);
    EraseLocked(key);
    while (!order_.empty() && now >= order_.front().expires) {
      index_.erase(order_.front().key);
      order_.pop_front();
    }
    while (order_.size() >= max_entries_) {
      index_.erase(order_.front().key);
      order_.pop_front();
    }
    order_.push_back(Entry{key, std::move(value), now + ttl});
    index_[key] = std::prev(order_.end());
  }

  void Erase(const std::string& key) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    EraseLocked(key);
  }

  // Drops every entry whose key `drop` returns true for.
  void EraseIf(const std::function<bool(const std::string&)>& drop) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    for (auto it = order_.begin(); it != order_.end();) {
      if (drop(it->key)) {
        index_.erase(it->key);
        it = order_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Clear() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    index_.clear();
    order_.clear();
  }

  // Entries held, expired ones not yet dropped included.
  size_t size() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return order_.size();
  }

  CacheStats Stats() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return {hits_, misses_, order_.size()};
  }

 private:
  struct Entry {
    std::string key;
    V value;
    TimePoint expires;
  };
  using Order = std::list<Entry>;  // oldest inserted first

  void EraseLocked(const std::string& key) REQUIRES(mu_) {
    if (auto it = index_.find(key); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }

  const size_t max_entries_;
  const Clock clock_;
  mutable Mutex mu_;
  Order order_ GUARDED_BY(mu_);
  std::unordered_map<std::string, typename Order::iterator> index_ GUARDED_BY(mu_);
  uint64_t hits_ GUARDED_BY(mu_) = 0;
  uint64_t misses_ GUARDED_BY(mu_) = 0;
};

}  // namespace berth
