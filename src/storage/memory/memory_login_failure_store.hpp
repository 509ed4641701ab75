// MemoryLoginFailureStore: a LoginFailureStore in one process, for tests of
// the shared limiter's rule without a database.
//
// Thread-safety: safe from many threads (one mutex).
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.hpp"
#include "storage/login_failure_store.hpp"

namespace berth::storage {

class MemoryLoginFailureStore final : public LoginFailureStore {
 public:
  Result<std::string> Salt(const std::string& proposal) override {
    MutexLock lock(mu_);
    if (salt_.empty()) salt_ = proposal;
    return salt_;
  }
  Result<int64_t> BlockedUntil(const std::vector<std::string>& keys) override {
    MutexLock lock(mu_);
    int64_t until = 0;
    for (const auto& k : keys) {
      if (auto it = rows_.find(k); it != rows_.end())
        until = std::max(until, it->second.blocked_until);
    }
    return until;
  }
  Result<int64_t> Count(const std::string& key, const std::string& user_key, int64_t window,
                        int64_t now) override {
    MutexLock lock(mu_);
    auto [it, fresh] = rows_.try_emplace(key, Row{user_key, 0, now, 0});
    Row& r = it->second;
    r.failures = (!fresh && now - r.last > window) ? 1 : r.failures + 1;
    r.last = now;
    return r.failures;
  }
  Status Block(const std::string& key, int64_t until) override {
    MutexLock lock(mu_);
    if (auto it = rows_.find(key); it != rows_.end()) {
      it->second.blocked_until = std::max(it->second.blocked_until, until);
    }
    return Status::Ok();
  }
  Status ForgetUser(const std::string& user_key) override {
    MutexLock lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.user_key == user_key; });
    return Status::Ok();
  }
  Status Trim(int64_t stale_before, int64_t now, size_t max_entries) override {
    MutexLock lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) {
      return kv.second.last < stale_before && kv.second.blocked_until <= now;
    });
    while (rows_.size() > max_entries) {
      auto oldest = std::min_element(rows_.begin(), rows_.end(), [](const auto& a, const auto& b) {
        return Activity(a.second) < Activity(b.second);
      });
      rows_.erase(oldest);
    }
    return Status::Ok();
  }
  Result<int64_t> Size() override {
    MutexLock lock(mu_);
    return static_cast<int64_t>(rows_.size());
  }

 private:
  struct Row {
    std::string user_key;
    int64_t failures = 0;
    int64_t last = 0;
    int64_t blocked_until = 0;
  };
  // A running wait counts as activity until it ends, so that a sprayer
  // cannot push a blocked key out.
  static int64_t Activity(const Row& r) { return std::max(r.last, r.blocked_until); }

  Mutex mu_;
  std::string salt_ GUARDED_BY(mu_);
  std::map<std::string, Row> rows_ GUARDED_BY(mu_);
};

}  // namespace berth::storage
