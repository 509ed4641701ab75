// FailureLimiter: the LoginLimiter of one token server, counts held in this
// process (login_limiter.hpp has the rule).
//
// Memory is bounded whatever clients send:
//  - keys are salted hashes (MakeFailureKey) with a per-process salt: a user
//    name of any size costs 16 bytes, and no name or address is kept;
//  - an entry is forgotten once its window has passed and its wait is over;
//  - at most max_entries are held; past that the least recently failed (or
//    blocked) entry is evicted, one at a time. (Clearing the whole table
//    instead, as an earlier version did, let a sprayer of fresh names reset
//    everybody's throttle.)
//
// Thread-safety: safe from many threads (one mutex).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/token/login_limiter.hpp"
#include "common/thread_annotations.hpp"

namespace berth::auth {

class FailureLimiter final : public LoginLimiter {
 public:
  // Draws the per-process key salt. Throws std::runtime_error when no
  // randomness can be had (start-up only).
  explicit FailureLimiter(FailureLimiterOptions options = {});

  Result<int64_t> RetryAfter(std::string_view user, std::string_view address, int64_t now) override;
  Status Failed(std::string_view user, std::string_view address, int64_t now) override;
  Status Succeeded(std::string_view user) override;

  // Entries held (user and address entries), for tests and metrics.
  size_t size() const;

 private:
  using Key = FailureKey;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Key key{};
    Key user{};  // the user-only key of a (user, address) entry; all zero for an address entry
    int64_t failures = 0;
    int64_t last = 0;  // time of the last failure
    int64_t blocked_until = 0;
  };
  using Order = std::list<Entry>;  // least recently active first

  // REQUIRES: mu_ held, for all below.
  int64_t WaitLocked(const Key& key, int64_t now) REQUIRES(mu_);
  void CountLocked(const Key& key, const Key* user, int64_t allowance, int64_t now) REQUIRES(mu_);
  void DropExpiredLocked(int64_t now) REQUIRES(mu_);
  void EraseLocked(Order::iterator it) REQUIRES(mu_);

  const FailureLimiterOptions options_;
  const std::string salt_;

  mutable Mutex mu_;
  Order order_ GUARDED_BY(mu_);
  std::unordered_map<Key, Order::iterator, KeyHash> index_ GUARDED_BY(mu_);
  // user key -> its (user, address) entries.
  std::unordered_map<Key, std::vector<Key>, KeyHash> by_user_ GUARDED_BY(mu_);
};

}  // namespace berth::auth
