// The rule every LoginLimiter follows (auth/token/login_limiter.hpp): free
// failures, doubling waits with a cap, the per-address allowance, clearing on
// success (every address of the user), the window; and, for the shared one,
// that two nodes on one store count together. Instantiated per
// implementation: login_limiter_test.cpp (in memory), and the store
// conformance binary (PostgreSQL).
#include "login_limiter_cases.hpp"

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

void Fail(LoginLimiter& l, const std::string& user, const std::string& addr, int times,
          int64_t now = kT0) {
  for (int i = 0; i < times; ++i) ASSERT_TRUE(l.Failed(user, addr, now).ok());
}

}  // namespace

void LoginLimiterRuleTest::SetUp() {
  backend_ = GetParam().make();
  if (!backend_) GTEST_SKIP() << GetParam().name << " is not available here";
}

std::unique_ptr<LoginLimiter> LoginLimiterRuleTest::Make(const FailureLimiterOptions& o) {
  auto l = backend_->Fresh(o);
  EXPECT_NE(l, nullptr);
  return l;
}

TEST_P(LoginLimiterRuleTest, FreeFailuresThenDoublingWaitsUpToTheCap) {
  auto l = Make(Defaults());
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 0);
  Fail(*l, "alice", "10.0.0.1", 5);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 0);  // five free failures
  // Each further failure doubles the wait: 1, 2, 4, ... 256, then the cap.
  const int64_t waits[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300};
  for (int64_t want : waits) {
    ASSERT_TRUE(l->Failed("alice", "10.0.0.1", kT0).ok());
    EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), want);
  }
  // Far past 20 over the allowance the wait stays at the cap (no overflow).
  Fail(*l, "alice", "10.0.0.1", 80);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 300);
}

TEST_P(LoginLimiterRuleTest, WaitCountsDown) {
  auto l = Make(Defaults());
  Fail(*l, "alice", "10.0.0.1", 8);  // 3 over: 4 s
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 4);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0 + 1).value(), 3);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0 + 4).value(), 0);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0 + 100).value(), 0);
}

TEST_P(LoginLimiterRuleTest, SmallCapIsHonoured) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.max_wait_seconds = 5;
  auto l = Make(o);
  const int64_t waits[] = {0, 1, 2, 4, 5, 5};
  for (int64_t want : waits) {
    ASSERT_TRUE(l->Failed("alice", "a", kT0).ok());
    EXPECT_EQ(l->RetryAfter("alice", "a", kT0).value(), want);
  }
}

TEST_P(LoginLimiterRuleTest, OtherUsersOnTheAddressGoOnUntilTheAddressAllowance) {
  auto l = Make(Defaults());
  Fail(*l, "alice", "10.0.0.1", 6);
  EXPECT_GT(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 0);
  // bob on the same address, and alice elsewhere, are not slowed.
  EXPECT_EQ(l->RetryAfter("bob", "10.0.0.1", kT0).value(), 0);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.2", kT0).value(), 0);

  // The address as a whole gets 5 * 4 = 20 free failures: 6 so far.
  Fail(*l, "bob", "10.0.0.1", 5);
  Fail(*l, "carol", "10.0.0.1", 5);
  Fail(*l, "dave", "10.0.0.1", 4);  // 20 in all
  EXPECT_EQ(l->RetryAfter("erin", "10.0.0.1", kT0).value(), 0);
  ASSERT_TRUE(l->Failed("erin", "10.0.0.1", kT0).ok());  // the 21st
  EXPECT_EQ(l->RetryAfter("erin", "10.0.0.1", kT0).value(), 1);
  EXPECT_EQ(l->RetryAfter("frank", "10.0.0.1", kT0).value(), 1);  // everyone there now waits
  EXPECT_EQ(l->RetryAfter("frank", "10.0.0.2", kT0).value(), 0);  // but not elsewhere
}

TEST_P(LoginLimiterRuleTest, SuccessClearsTheUsersCount) {
  auto l = Make(Defaults());
  Fail(*l, "alice", "10.0.0.1", 4);
  ASSERT_TRUE(l->Succeeded("alice").ok());
  Fail(*l, "alice", "10.0.0.1", 5);  // five free failures again
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 0);
  ASSERT_TRUE(l->Failed("alice", "10.0.0.1", kT0).ok());
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 1);
  // A success also lifts a running wait for that user.
  ASSERT_TRUE(l->Succeeded("alice").ok());
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 0);
  // Someone else's success clears nothing.
  Fail(*l, "bob", "10.0.0.1", 6);
  ASSERT_TRUE(l->Succeeded("alice").ok());
  EXPECT_EQ(l->RetryAfter("bob", "10.0.0.1", kT0).value(), 1);
}

TEST_P(LoginLimiterRuleTest, SuccessClearsTheUserOnEveryAddressButNotTheAddressCounts) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 2;
  o.address_factor = 2;  // an address gets 4
  auto l = Make(o);
  Fail(*l, "alice", "10.0.0.1", 3);
  Fail(*l, "alice", "10.0.0.2", 3);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 1);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.2", kT0).value(), 1);
  Fail(*l, "bob", "10.0.0.1", 2);  // 10.0.0.1 now has 5 failures: over its 4
  EXPECT_EQ(l->RetryAfter("carol", "10.0.0.1", kT0).value(), 1);
  ASSERT_TRUE(l->Succeeded("alice").ok());  // from anywhere: both of alice's records go
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.2", kT0).value(), 0);
  // ... but 10.0.0.1's own count stays: everybody there still waits.
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", kT0).value(), 1);
  EXPECT_EQ(l->RetryAfter("carol", "10.0.0.1", kT0).value(), 1);
}

TEST_P(LoginLimiterRuleTest, AnAddressLimitThrottlesOnlyThatAddress) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.address_factor = 3;
  auto l = Make(o);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(l->Failed("user" + std::to_string(i), "10.0.0.9", kT0).ok());
  EXPECT_EQ(l->RetryAfter("victim", "10.0.0.9", kT0).value(), 1);  // a fresh name from there waits
  EXPECT_EQ(l->RetryAfter("victim", "10.0.0.8", kT0).value(), 0);  // not from elsewhere
  EXPECT_EQ(l->RetryAfter("user0", "10.0.0.8", kT0).value(), 0);   // the sprayed names neither
}

TEST_P(LoginLimiterRuleTest, CountsFadeAfterTheWindow) {
  auto l = Make(Defaults());
  Fail(*l, "alice", "10.0.0.1", 5, kT0);
  // More than 300 s later the old failures are forgotten.
  const int64_t later = kT0 + 301;
  Fail(*l, "alice", "10.0.0.1", 5, later);
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", later).value(), 0);
  ASSERT_TRUE(l->Failed("alice", "10.0.0.1", later).ok());
  EXPECT_EQ(l->RetryAfter("alice", "10.0.0.1", later).value(), 1);

  // Within the window they add up.
  auto m = Make(Defaults());
  Fail(*m, "alice", "10.0.0.1", 5, kT0);
  ASSERT_TRUE(m->Failed("alice", "10.0.0.1", kT0 + 299).ok());
  EXPECT_EQ(m->RetryAfter("alice", "10.0.0.1", kT0 + 299).value(), 1);
}

TEST_P(LoginLimiterRuleTest, TwoNodesOnOneStoreCountTogether) {
  auto a = Make(Defaults());
  auto b = backend_->Another(Defaults());
  if (!b) GTEST_SKIP() << "counts of " << GetParam().name << " are per process";
  // A guesser whose tries alternate between the nodes is counted once.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a->Failed("alice", "10.0.0.1", kT0).ok());
    ASSERT_TRUE(b->Failed("alice", "10.0.0.1", kT0).ok());
  }
  // 6 failures: one over the 5 free ones, on either node.
  EXPECT_EQ(a->RetryAfter("alice", "10.0.0.1", kT0).value(), 1);
  EXPECT_EQ(b->RetryAfter("alice", "10.0.0.1", kT0).value(), 1);
  // A success on one node clears the user's counts for the other.
  ASSERT_TRUE(b->Succeeded("alice").ok());
  EXPECT_EQ(a->RetryAfter("alice", "10.0.0.1", kT0).value(), 0);
}

TEST_P(LoginLimiterRuleTest, HostileNamesAreCountedApart) {
  FailureLimiterOptions p = Defaults();
  p.free_failures = 1;
  auto m = Make(p);
  // Names that would collide if simply concatenated are distinct keys, and
  // a name of any size or byte is fine.
  Fail(*m, "ab", "c", 2);
  EXPECT_EQ(m->RetryAfter("ab", "c", kT0).value(), 1);
  EXPECT_EQ(m->RetryAfter("a", "bc", kT0).value(), 0);
  const std::string odd =
      std::string(64 * 1024, 'x') + std::string(1, '\0') + "'; DROP TABLE x; --";
  Fail(*m, odd, "10.0.0.1\n", 2);
  EXPECT_EQ(m->RetryAfter(odd, "10.0.0.1\n", kT0).value(), 1);
  EXPECT_EQ(m->RetryAfter(odd, "10.0.0.1", kT0).value(), 0);
}

}  // namespace berth::auth
