// FailureLimiter: slows down password guessing. Failed logins are counted per
// (user, client address) and per client address; past a free allowance each
// further failure doubles a wait (up to a cap) during which attempts get 429
// with Retry-After. A user's count lives per address, so an attacker
// elsewhere never locks the real user out; the address count (a larger
// allowance) throttles only that address, for every user name tried from it.
//
// Memory is bounded whatever clients send:
//  - keys are SHA-256(per-process salt, kind, user, address) truncated to 16
//    bytes: a user name of any size costs 16 bytes, and no name or address
//    is kept in memory;
//  - an entry is forgotten once its window has passed and its wait is over;
//  - at most max_entries are held; past that the least recently failed (or
//    blocked) entry is evicted, one at a time. (Clearing the whole table
//    instead, as an earlier version did, let a sprayer of fresh names reset
//    everybody's throttle.)
// A success for a user clears that user's counts on every address; it does
// not touch the address counts.
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

namespace berth::auth {

struct FailureLimiterOptions {
  int64_t free_failures = 5;       // per (user, address) before waits start
  int64_t address_factor = 4;      // an address alone gets this many times more
  int64_t window_seconds = 300;    // failures older than this are forgotten
  int64_t max_wait_seconds = 300;  // cap on one wait
  // Bound on remembered keys, user and address entries together (about 150
  // bytes each); the least recently active entry makes room.
  size_t max_entries = 100000;
};

class FailureLimiter {
 public:
  // Draws the per-process key salt. Throws std::runtime_error when no
  // randomness can be had (start-up only).
  explicit FailureLimiter(FailureLimiterOptions options = {});

  // Seconds the client at `address` must still wait before trying `user`
  // again; 0 = go.
  int64_t RetryAfter(std::string_view user, std::string_view address, int64_t now);
  // Counts one failed login of `user` from `address`.
  void Failed(std::string_view user, std::string_view address, int64_t now);
  // Forgets the failures of `user` on every address (not the address counts).
  void Succeeded(std::string_view user);

  // Entries held (user and address entries), for tests and metrics.
  size_t size() const;

 private:
  using Key = std::array<unsigned char, 16>;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Key key;
    Key user;  // the user-only key of a (user, address) entry; all zero for an address entry
    int64_t failures = 0;
    int64_t last = 0;  // time of the last failure
    int64_t blocked_until = 0;
  };
  using Order = std::list<Entry>;  // least recently active first

  Key UserAddressKey(std::string_view user, std::string_view address) const;
  Key UserKey(std::string_view user) const;
  Key AddressKey(std::string_view address) const;
  Key MakeKey(char kind, std::string_view a, std::string_view b) const;

  // REQUIRES: mu_ held, for all below.
  int64_t WaitLocked(const Key& key, int64_t now);
  void CountLocked(const Key& key, const Key* user, int64_t allowance, int64_t now);
  void DropExpiredLocked(int64_t now);
  void EraseLocked(Order::iterator it);

  const FailureLimiterOptions options_;
  const std::string salt_;

  mutable std::mutex mu_;
  Order order_;                                           // GUARDED_BY(mu_)
  std::unordered_map<Key, Order::iterator, KeyHash> index_;  // GUARDED_BY(mu_)
  // user key -> its (user, address) entries. GUARDED_BY(mu_)
  std::unordered_map<Key, std::vector<Key>, KeyHash> by_user_;
};

}  // namespace berth::auth
