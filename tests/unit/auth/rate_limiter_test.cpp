// Tests for what is FailureLimiter's own (auth/token/rate_limiter.hpp):
// expiry, LRU eviction and the memory bound. The rule itself is tested for
// every LoginLimiter in login_limiter_cases.cpp; this file instantiates those
// cases for the in-memory limiters, and checks that the shared limiter keeps
// its store bounded.

#include "auth/token/rate_limiter.hpp"

#include "auth/token/shared_failure_limiter.hpp"
#include "login_limiter_cases.hpp"
#include "storage/memory/memory_login_failure_store.hpp"

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

void Fail(LoginLimiter& l, const std::string& user, const std::string& addr, int times,
          int64_t now = kT0) {
  for (int i = 0; i < times; ++i) ASSERT_TRUE(l.Failed(user, addr, now).ok());
}

TEST(FailureLimiterTest, EntriesExpireAfterTheWindow) {
  FailureLimiter l(Defaults());
  Fail(l, "alice", "10.0.0.1", 2);
  EXPECT_EQ(l.size(), 2u);  // (alice, 10.0.0.1) and 10.0.0.1
  // Still within the window: kept.
  ASSERT_TRUE(l.Failed("bob", "10.0.0.2", kT0 + 300).ok());
  EXPECT_EQ(l.size(), 4u);
  // Past it, the next failure drops the old entries.
  ASSERT_TRUE(l.Failed("carol", "10.0.0.3", kT0 + 301).ok());
  EXPECT_EQ(l.size(), 4u);  // bob's two and carol's two
  // An entry whose wait outlasts the window stays until the wait is over.
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.window_seconds = 10;
  o.max_wait_seconds = 100;
  FailureLimiter m(o);
  Fail(m, "alice", "a", 10);  // 9 over: a 100 s wait
  ASSERT_TRUE(m.Failed("bob", "b", kT0 + 50).ok());
  EXPECT_EQ(m.RetryAfter("alice", "a", kT0 + 50).value(), 50);
  ASSERT_TRUE(m.Failed("bob", "b", kT0 + 101).ok());
  EXPECT_EQ(m.RetryAfter("alice", "a", kT0 + 101).value(), 0);
}

TEST(FailureLimiterTest, FullTableEvictsTheLeastRecentlyActiveEntryOnly) {
  FailureLimiterOptions o = Defaults();
  o.free_failures = 1;
  o.address_factor = 100;  // keep the address entries out of the way
  o.max_entries = 4;
  FailureLimiter l(o);
  Fail(l, "alice", "A", 2);  // [alice@A, A]
  Fail(l, "bob", "B", 2);    // [alice@A, A, bob@B, B]
  EXPECT_EQ(l.RetryAfter("alice", "A", kT0).value(), 1);
  EXPECT_EQ(l.RetryAfter("bob", "B", kT0).value(), 1);
  ASSERT_TRUE(l.Failed("alice", "A", kT0).ok());  // alice is active again: [bob@B, B, alice@A, A]
  ASSERT_TRUE(l.Failed("carol", "C", kT0).ok());  // full: bob's two entries go, not everybody's
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l.RetryAfter("bob", "B", kT0).value(), 0);
  EXPECT_EQ(l.RetryAfter("alice", "A", kT0).value(), 2);  // kept, with its count
  // A blocked client that keeps asking stays fresh and survives a spray.
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(l.RetryAfter("alice", "A", kT0).value(), 0);
    ASSERT_TRUE(l.Failed("spray" + std::to_string(i), "S", kT0).ok());
  }
  EXPECT_EQ(l.RetryAfter("alice", "A", kT0).value(), 2);
  EXPECT_EQ(l.size(), 4u);
}

TEST(FailureLimiterTest, MemoryIsBoundedWhateverTheNames) {
  FailureLimiterOptions o = Defaults();
  o.max_entries = 64;
  FailureLimiter l(o);
  // Huge and hostile names: only fixed-size hashes are kept, at most 64.
  const std::string big(256 * 1024, 'x');
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(l.Failed(big + std::to_string(i),
                         "10.0.0." + std::to_string(i % 7) + std::string(1, '\0'), kT0)
                    .ok());
    ASSERT_LE(l.size(), 64u);
  }
  EXPECT_EQ(l.size(), 64u);
}

TEST(SharedFailureLimiterTest, TheStoreStaysBoundedAndExpires) {
  storage::MemoryLoginFailureStore store;
  FailureLimiterOptions o = Defaults();
  o.max_entries = 50;
  auto l = SharedFailureLimiter::Open(store, o);
  ASSERT_TRUE(l) << l.status().message();
  // Sprayed names from many addresses: the size trim runs every 64th
  // failure, so the store holds at most max_entries plus what 64 failures
  // add (two keys each).
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE((*l)->Failed("u" + std::to_string(i), "10.1." + std::to_string(i), kT0).ok());
    ASSERT_LE(store.Size().value(), 50 + 2 * 64);
  }
  // Past the window (and with no wait running), the next failure drops them all.
  ASSERT_TRUE((*l)->Failed("late", "10.2.0.1", kT0 + 301).ok());
  EXPECT_EQ(store.Size().value(), 2);
  // Two nodes agree on the salt through the store.
  auto other = SharedFailureLimiter::Open(store, o);
  ASSERT_TRUE(other);
  Fail(**other, "late", "10.2.0.1", 5, kT0 + 301);  // the 6th in all
  EXPECT_EQ((*l)->RetryAfter("late", "10.2.0.1", kT0 + 301).value(), 1);
}

// In process: FailureLimiter.
class MemoryBackend final : public LimiterBackend {
 public:
  std::unique_ptr<LoginLimiter> Fresh(const FailureLimiterOptions& o) override {
    return std::make_unique<FailureLimiter>(o);
  }
  std::unique_ptr<LoginLimiter> Another(const FailureLimiterOptions&) override { return nullptr; }
};

// SharedFailureLimiter on a store in memory: the shared rule without a database.
class SharedMemoryBackend final : public LimiterBackend {
 public:
  std::unique_ptr<LoginLimiter> Fresh(const FailureLimiterOptions& o) override {
    stores_.push_back(std::make_unique<storage::MemoryLoginFailureStore>());
    return Another(o);
  }
  std::unique_ptr<LoginLimiter> Another(const FailureLimiterOptions& o) override {
    auto l = SharedFailureLimiter::Open(*stores_.back(), o);
    return l ? std::move(l).value() : nullptr;
  }

 private:
  std::vector<std::unique_ptr<storage::MemoryLoginFailureStore>> stores_;
};

INSTANTIATE_TEST_SUITE_P(
    , LoginLimiterRuleTest,
    ::testing::Values(
        LimiterParam{"Memory", [] { return std::unique_ptr<LimiterBackend>(new MemoryBackend); }},
        LimiterParam{"SharedMemory",
                     [] { return std::unique_ptr<LimiterBackend>(new SharedMemoryBackend); }}),
    LimiterName);

}  // namespace
}  // namespace berth::auth
