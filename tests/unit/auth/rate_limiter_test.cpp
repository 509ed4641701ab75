// Tests for auth/token/rate_limiter.hpp: free failures, doubling waits with
// a cap, the per-address allowance, clearing on success (every address of
// the user), the window, expiry, LRU eviction and the memory bound.

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
  l.Succeeded("alice");
  Fail(l, "alice", "10.0.0.1", 5);  // five free failures again
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 0);
  l.Failed("alice", "10.0.0.1", kT0);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 1);
  // A success also lifts a running wait for that user.
  l.Succeeded("alice");
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 0);
  // Someone else's success clears nothing.
  Fail(l, "bob", "10.0.0.1", 6);
  l.Succeeded("alice");
  EXPECT_EQ(l.RetryAfter("bob", "10.0.0.1", kT0), 1);
}

TEST(FailureLimiterTest, SuccessClearsTheUserOnEveryAddressButNotTheAddressCounts) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 2;
  o.address_factor = 2;  // an address gets 4
  FailureLimiter l(o);
  Fail(l, "alice", "10.0.0.1", 3);
  Fail(l, "alice", "10.0.0.2", 3);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 1);
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.2", kT0), 1);
  Fail(l, "bob", "10.0.0.1", 2);  // 10.0.0.1 now has 5 failures: over its 4
  EXPECT_EQ(l.RetryAfter("carol", "10.0.0.1", kT0), 1);
  l.Succeeded("alice");  // from anywhere: both of alice's records go
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.2", kT0), 0);
  // ... but 10.0.0.1's own count stays: everybody there still waits.
  EXPECT_EQ(l.RetryAfter("alice", "10.0.0.1", kT0), 1);
  EXPECT_EQ(l.RetryAfter("carol", "10.0.0.1", kT0), 1);
}

TEST(FailureLimiterTest, AnAddressLimitThrottlesOnlyThatAddress) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.address_factor = 3;
  FailureLimiter l(o);
  for (int i = 0; i < 4; ++i) l.Failed("user" + std::to_string(i), "10.0.0.9", kT0);
  EXPECT_EQ(l.RetryAfter("victim", "10.0.0.9", kT0), 1);  // a fresh name from there waits
  EXPECT_EQ(l.RetryAfter("victim", "10.0.0.8", kT0), 0);  // not from elsewhere
  EXPECT_EQ(l.RetryAfter("user0", "10.0.0.8", kT0), 0);   // the sprayed names neither
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

TEST(FailureLimiterTest, EntriesExpireAfterTheWindow) {
  FailureLimiter l(Defaults());
  Fail(l, "alice", "10.0.0.1", 2);
  EXPECT_EQ(l.size(), 2u);  // (alice, 10.0.0.1) and 10.0.0.1
  // Still within the window: kept.
  l.Failed("bob", "10.0.0.2", kT0 + 300);
  EXPECT_EQ(l.size(), 4u);
  // Past it, the next failure drops the old entries.
  l.Failed("carol", "10.0.0.3", kT0 + 301);
  EXPECT_EQ(l.size(), 4u);  // bob's two and carol's two
  // An entry whose wait outlasts the window stays until the wait is over.
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.window_seconds = 10;
  o.max_wait_seconds = 100;
  FailureLimiter m(o);
  Fail(m, "alice", "a", 10);  // 9 over: a 100 s wait
  m.Failed("bob", "b", kT0 + 50);
  EXPECT_EQ(m.RetryAfter("alice", "a", kT0 + 50), 50);
  m.Failed("bob", "b", kT0 + 101);
  EXPECT_EQ(m.RetryAfter("alice", "a", kT0 + 101), 0);
}

TEST(FailureLimiterTest, FullTableEvictsTheLeastRecentlyActiveEntryOnly) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.address_factor = 100;  // keep the address entries out of the way
  o.max_entries = 4;
  FailureLimiter l(o);
  Fail(l, "alice", "A", 2);  // [alice@A, A]
  Fail(l, "bob", "B", 2);    // [alice@A, A, bob@B, B]
  EXPECT_EQ(l.RetryAfter("alice", "A", kT0), 1);
  EXPECT_EQ(l.RetryAfter("bob", "B", kT0), 1);
  l.Failed("alice", "A", kT0);  // alice is active again: [bob@B, B, alice@A, A]
  l.Failed("carol", "C", kT0);  // full: bob's two entries go, not everybody's
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l.RetryAfter("bob", "B", kT0), 0);
  EXPECT_EQ(l.RetryAfter("alice", "A", kT0), 2);  // kept, with its count
  // A blocked client that keeps asking stays fresh and survives a spray.
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(l.RetryAfter("alice", "A", kT0), 0);
    l.Failed("spray" + std::to_string(i), "S", kT0);
  }
  EXPECT_EQ(l.RetryAfter("alice", "A", kT0), 2);
  EXPECT_EQ(l.size(), 4u);
}

TEST(FailureLimiterTest, MemoryIsBoundedWhateverTheNames) {
  FailureLimiterOptions o = Defaults();
  o.max_entries = 64;
  FailureLimiter l(o);
  // Huge and hostile names: only fixed-size hashes are kept, at most 64.
  const std::string big(256 * 1024, 'x');
  for (int i = 0; i < 500; ++i) {
    l.Failed(big + std::to_string(i), "10.0.0." + std::to_string(i % 7) + std::string(1, '\0'), kT0);
    ASSERT_LE(l.size(), 64u);
  }
  EXPECT_EQ(l.size(), 64u);
  // Names that would collide if simply concatenated are distinct keys.
  FailureLimiterOptions p = Defaults();
  p.free_failures = 1;
  FailureLimiter m(p);
  Fail(m, "ab", "c", 2);
  EXPECT_EQ(m.RetryAfter("ab", "c", kT0), 1);
  EXPECT_EQ(m.RetryAfter("a", "bc", kT0), 0);
}

}  // namespace
}  // namespace berth::auth
