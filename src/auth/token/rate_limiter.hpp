// FailureLimiter: slows down password guessing. Failed logins are counted per
// (user, client address) and per client address; past a free allowance each
// further failure doubles a wait (up to a cap) during which attempts get 429
// with Retry-After. Counts fade after a quiet window and a success clears
// them, so a real user on another address is never locked out.
//
// Thread-safety: safe from many threads (one mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace berth::auth {

struct FailureLimiterOptions {
  int64_t free_failures = 5;      // per (user, address) before waits start
  int64_t address_factor = 4;     // an address alone gets this many times more
  int64_t window_seconds = 300;   // failures older than this are forgotten
  int64_t max_wait_seconds = 300; // cap on one wait
  size_t max_entries = 100000;    // bound on remembered keys (then start over)
};

class FailureLimiter {
 public:
  explicit FailureLimiter(FailureLimiterOptions options = {}) : options_(options) {}

  // Seconds the client must still wait before trying `user` again; 0 = go.
  int64_t RetryAfter(const std::string& user, const std::string& address, int64_t now);
  void Failed(const std::string& user, const std::string& address, int64_t now);
  void Succeeded(const std::string& user, const std::string& address);

 private:
  struct Entry {
    int64_t failures = 0;
    int64_t last = 0;
    int64_t blocked_until = 0;
  };
  void Count(const std::string& key, int64_t allowance, int64_t now);
  int64_t Wait(const std::string& key, int64_t now);

  const FailureLimiterOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace berth::auth
