// MemoryLeaseTable: a LeaseTable for one process (a single berth on S3, and
// tests). Leases live in a map; a lapsed one is taken over like in a shared
// table, so code tested against it sees the same rules.
//
// Thread-safety: safe from many threads (one mutex).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/thread_annotations.hpp"
#include "storage/lease_table.hpp"

namespace berth::storage {

class MemoryLeaseTable final : public LeaseTable {
 public:
  Result<bool> TryAcquire(const std::string& key, const std::string& holder,
                          int64_t ttl_seconds) override {
    const auto now = std::chrono::steady_clock::now();
    MutexLock lock(mu_);
    auto it = leases_.find(key);
    if (it != leases_.end() && it->second.first != holder && it->second.second > now) return false;
    leases_[key] = {holder, now + std::chrono::seconds(ttl_seconds)};
    return true;
  }

  Status Release(const std::string& key, const std::string& holder) override {
    MutexLock lock(mu_);
    auto it = leases_.find(key);
    if (it != leases_.end() && it->second.first == holder) leases_.erase(it);
    return Status::Ok();
  }

 private:
  Mutex mu_;
  // key -> holder, lapse time; lapsed entries are replaced on the next
  // TryAcquire of their key and otherwise stay (one per session at most,
  // erased on Release).
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> leases_
      GUARDED_BY(mu_);
};

}  // namespace berth::storage
