// Tests for auth/token/rate_limiter.hpp: free failures, doubling waits with
// a cap, the per-address allowance, clearing on success, and the window.

#include "auth/token/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::auth {
namespace {

constexpr int64_t kT0 = 1'000'000;

FailureLimiterOptions Defaults() {
  FailureLimiterOptions o;  // the documented defaults, spelled out
  o.free_failures = 5;
  o.address_factor = 4;
  o.window_seconds = 300;
  o.max_wait_seconds = 300;
  return o;
}

void Fail(FailureLimiter& l, const std::string& user, const std::string& addr, int times,
          int64_t now = kT0) {
  for (int i = 0; i < times; ++i) l.Failed(user, addr, now);
}

TEST(FailureLimiterTest, FreeFailuresThenDoublingWaitsUpToTheCap) {
  FailureLimiter l(Defaults());
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 0);
  Fail(l, "alice", "10.0.0.1", 5);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 0);  // five free failures
  // Each further failure doubles the wait: 1, 2, 4, ... 256, then the cap.
  const int64_t waits[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300};
  for (int64_t want : waits) {
    l.Failed("alice", "10.0.0.1", kT0);
    EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), want);
  }
  // Far past 20 over the allowance the wait stays at the cap (no overflow).
  Fail(l, "alice", "10.0.0.1", 80);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 300);
}

TEST(FailureLimiterTest, WaitCountsDown) {
  FailureLimiter l(Defaults());
  Fail(l, "alice", "10.0.0.1", 8);  // 3 over: 4 s
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 4);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0 + 1), 3);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0 + 4), 0);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0 + 100), 0);
}

TEST(FailureLimiterTest, SmallCapIsHonoured) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.max_wait_seconds = 5;
  FailureLimiter l(o);
  const int64_t waits[] = {0, 1, 2, 4, 5, 5};
  for (int64_t want : waits) {
    l.Failed("alice", "a", kT0);
    EXPECT_EQ(l.RetryAfter("alice", "a", kT0), want);
  }
}

TEST(FailureLimiterTest, OtherUsersOnTheAddressGoOnUntilTheAddressAllowance) {
  FailureLimiter l(Defaults());
  Fail(l, "alice", "10.0.0.1", 6);
  EXPECT_GT(l.RetryAfter("alice", "10.0.0.1", kT0), 0);
  // bob on the same address, and alice elsewhere, are not slowed.
  EXPECT_EQ(l.RetryAfter("bob", "10.0.0.1", kT0), 0);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.2", kT0), 0);

  // The address as a whole gets 5 * 4 = 20 free failures: 6 so far.
  Fail(l, "bob", "10.0.0.1", 5);
  Fail(l, "carol", "10.0.0.1", 5);
  Fail(l, "dave", "10.0.0.1", 4);  // 20 in all
  EXPECT_EQ(l.RetryAfter("erin", "10.0.0.1", kT0), 0);
  l.Failed("erin", "10.0.0.1", kT0);  // the 21st
  EXPECT_EQ(l.RetryAfter("erin", "10.0.0.1", kT0), 1);
  EXPECT_EQ(l.RetryAfter("frank", "10.0.0.1", kT0), 1);  // everyone there now waits
  EXPECT_EQ(l.RetryAfter("frank", "10.0.0.2", kT0), 0);  // but not elsewhere
}

TEST(FailureLimiterTest, SuccessClearsTheUsersCount) {
  FailureLimiter l(Defaults());
  Fail(l, "alice", "10.0.0.1", 4);
  l.Succeeded("alice", "10.0.0.1");
  Fail(l, "alice", "10.0.0.1", 5);  // five free failures again
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 0);
  l.Failed("alice", "10.0.0.1", kT0);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 1);
  // A success also lifts a running wait for that user.
  l.Succeeded("alice", "10.0.0.1");
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 0);
  // Someone else's success clears nothing.
  Fail(l, "bob", "10.0.0.1", 6);
  l.Succeeded("alice", "10.0.0.1");
  EXPECT_EQ(l.RetryAfter("bob", "10.0.0.1", kT0), 1);
}

TEST(FailureLimiterTest, CountsFadeAfterTheWindow) {
  FailureLimiter l(Defaults());
  Fail(l, "alice", "10.0.0.1", 5, kT0);
  // More than 300 s later the old failures are forgotten.
  const int64_t later = kT0 + 301;
  Fail(l, "alice", "10.0.0.1", 5, later);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", later), 0);
  l.Failed("alice", "10.0.0.1", later);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", later), 1);

  // Within the window they add up.
  FailureLimiter m(Defaults());
  Fail(m, "alice", "10.0.0.1", 5, kT0);
  m.Failed("alice", "10.0.0.1", kT0 + 299);
  EXPECT_EQ(m.RetryAfter("alice", "10.0.0.1", kT0 + 299), 1);
}

TEST(FailureLimiterTest, BoundedMemoryStartsOver) {
  FailureLimiterOptions o = Defaults();
  o.max_entries = 4;
  FailureLimiter l(o);
  Fail(l, "alice", "10.0.0.1", 6);  // 2 entries: user and address
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 1);
  l.Failed("bob", "10.0.0.2", kT0);  // 4 entries
  l.Failed("carol", "10.0.0.3", kT0);  // full: forgets everything first
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 0);
}

}  // namespace
}  // namespace berth::auth
