#include "auth/token/rate_limiter.hpp"

#include <algorithm>

namespace berth::auth {
namespace {
std::string UserKey(const std::string& user, const std::string& address) {
  return "u:" + user + '\n' + address;
}
std::string AddressKey(const std::string& address) { return "a:" + address; }
}  // namespace

int64_t FailureLimiter::Wait(const std::string& key, int64_t now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.blocked_until - now);
}

int64_t FailureLimiter::RetryAfter(const std::string& user, const std::string& address,
                                   int64_t now) {
  std::lock_guard lock(mu_);
  return std::max(Wait(UserKey(user, address), now), Wait(AddressKey(address), now));
}

void FailureLimiter::Count(const std::string& key, int64_t allowance, int64_t now) {
  if (entries_.size() >= options_.max_entries && !entries_.count(key)) entries_.clear();
  Entry& e = entries_[key];
  if (now - e.last > options_.window_seconds) e.failures = 0;
  e.failures++;
  e.last = now;
  int64_t over = e.failures - allowance;
  if (over > 0) {
    int64_t wait = over >= 20 ? options_.max_wait_seconds
                              : std::min<int64_t>(options_.max_wait_seconds, int64_t{1} << (over - 1));
    e.blocked_until = now + wait;
  }
}

void FailureLimiter::Failed(const std::string& user, const std::string& address, int64_t now) {
  std::lock_guard lock(mu_);
  Count(UserKey(user, address), options_.free_failures, now);
  Count(AddressKey(address), options_.free_failures * options_.address_factor, now);
}

void FailureLimiter::Succeeded(const std::string& user, const std::string& address) {
  std::lock_guard lock(mu_);
  entries_.erase(UserKey(user, address));
}

}  // namespace berth::auth
