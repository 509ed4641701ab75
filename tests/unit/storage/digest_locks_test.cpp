// Tests for storage::DigestLocks across nodes: two DigestLocks sharing one
// LeaseTable stand for two berths sharing the stores.

#include "storage/digest_locks.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>

namespace berth::storage {
namespace {

// A LeaseTable in memory, with a switch to make it fail like a lost database.
class FakeLeases : public LeaseTable {
 public:
  Result<bool> TryAcquire(const std::string& key, const std::string& holder, int64_t) override {
    std::lock_guard l(mu_);
    ++calls;
    if (broken) return Status(Errc::kUnavailable, "database down");
    auto [it, fresh] = held_.emplace(key, holder);
    return fresh || it->second == holder;
  }
  Status Release(const std::string& key, const std::string& holder) override {
    std::lock_guard l(mu_);
    if (auto it = held_.find(key); it != held_.end() && it->second == holder) held_.erase(it);
    return Status::Ok();
  }
  size_t Held() {
    std::lock_guard l(mu_);
    return held_.size();
  }
  std::atomic<bool> broken{false};
  std::atomic<int> calls{0};

 private:
  std::mutex mu_;
  std::map<std::string, std::string> held_;
};

Digest D(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }

TEST(DigestLocksTest, LocalOnlyNeverTouchesLeases) {
  DigestLocks locks;
  auto g = locks.Lock(D('a'));
  EXPECT_TRUE(g.ok());
}

TEST(DigestLocksTest, AnotherNodeWaitsForTheLease) {
  FakeLeases leases;
  DigestLocks node_a(&leases), node_b(&leases);
  std::promise<void> release;
  std::atomic<bool> b_got{false};
  std::future<void> b;
  {
    auto g = node_a.Lock(std::vector<Digest>{D('b'), D('a')});
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(leases.Held(), 2u);
    b = std::async(std::launch::async, [&] {
      auto gb = node_b.Lock(D('a'));
      EXPECT_TRUE(gb.ok());
      b_got = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(b_got) << "node b took a digest node a holds";
  }
  b.get();
  EXPECT_TRUE(b_got);
  EXPECT_EQ(leases.Held(), 0u) << "every lease is given back";
}

TEST(DigestLocksTest, GivesUpAfterTheWait) {
  FakeLeases leases;
  DigestLocks node_a(&leases), node_b(&leases, std::chrono::milliseconds(50));
  auto g = node_a.Lock(D('a'));
  // '0...' sorts first, so node b gets that lease before it waits for 'a'.
  auto gb = node_b.Lock(std::vector<Digest>{D('0'), D('a')});
  EXPECT_FALSE(gb.ok());
  EXPECT_EQ(gb.status().code(), Errc::kBusy);
  EXPECT_EQ(leases.Held(), 1u) << "a failed guard keeps no lease";
}

TEST(DigestLocksTest, LockAvailableSkipsWhatAnotherNodeHolds) {
  FakeLeases leases;
  DigestLocks node_a(&leases), node_b(&leases);
  auto g = node_a.Lock(D('b'));
  const auto start = std::chrono::steady_clock::now();
  auto gb = node_b.LockAvailable(std::vector<Digest>{D('a'), D('b'), D('c')});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1))
      << "it must not wait";
  ASSERT_TRUE(gb.ok());
  ASSERT_EQ(gb.held().size(), 2u);
  EXPECT_EQ(gb.held()[0], D('a'));
  EXPECT_EQ(gb.held()[1], D('c'));
  DigestLocks alone;
  EXPECT_EQ(alone.LockAvailable(std::vector<Digest>{D('a'), D('b')}).held().size(), 2u);
}

TEST(DigestLocksTest, FailingLeaseTableFailsTheGuard) {
  FakeLeases leases;
  leases.broken = true;
  DigestLocks node(&leases);
  auto g = node.Lock(D('a'));
  EXPECT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Errc::kUnavailable);
}

}  // namespace
}  // namespace berth::storage
