// SharedFailureLimiter: the LoginLimiter of a cluster of token servers. The
// counts live in a LoginFailureStore every node shares (PostgreSQL), keyed
// with a salt the nodes agree on through the store, so a guesser whose
// tries a load balancer spreads over the nodes is counted once, and a wait
// set by one node holds on all of them.
//
// The store is bounded like FailureLimiter's table: every failure drops the
// counts whose window and wait are over, and every 64th failure on a node
// also trims the store to max_entries (least recently active first).
//
// Thread-safety: safe from many threads and processes (the store's).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "auth/token/login_limiter.hpp"
#include "storage/login_failure_store.hpp"

namespace berth::auth {

class SharedFailureLimiter final : public LoginLimiter {
 public:
  // Agrees on the salt through `store` (which must outlive the limiter).
  // Errors: the store's (start-up).
  static Result<std::unique_ptr<SharedFailureLimiter>> Open(storage::LoginFailureStore& store,
                                                            FailureLimiterOptions options);

  Result<int64_t> RetryAfter(std::string_view user, std::string_view address, int64_t now) override;
  Status Failed(std::string_view user, std::string_view address, int64_t now) override;
  Status Succeeded(std::string_view user) override;

 private:
  SharedFailureLimiter(storage::LoginFailureStore& store, FailureLimiterOptions options,
                       std::string salt)
      : store_(store), options_(options), salt_(std::move(salt)) {}
  // Counts one failure under `key` and starts the wait it earns.
  Status Count(const std::string& key, const std::string& user_key, int64_t allowance, int64_t now);

  storage::LoginFailureStore& store_;
  const FailureLimiterOptions options_;
  const std::string salt_;
  std::atomic<uint64_t> failures_{0};  // on this node, to space out the size trims
};

}  // namespace berth::auth
