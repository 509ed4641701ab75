// Tests for registry/body_budget.hpp: the process-wide cap on manifest
// bodies held in memory, and a body that reserves its buffer before growing
// it and gives everything back when released or destroyed.

#include "registry/body_budget.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace berth::registry {
namespace {

constexpr uint64_t kKiB = 1024;

Status AppendBytes(BudgetedBody& body, size_t n, char c = 'x') {
  std::string data(n, c);
  return body.Append({data.data(), data.size()});
}

TEST(BodyBudgetTest, ReservesUpToTheLimit) {
  BodyBudget budget(100);
  EXPECT_TRUE(budget.TryReserve(60));
  EXPECT_TRUE(budget.TryReserve(40));
  EXPECT_EQ(budget.used(), 100u);
  EXPECT_FALSE(budget.TryReserve(1));
  EXPECT_EQ(budget.used(), 100u);  // a refusal takes nothing
  budget.Release(40);
  EXPECT_TRUE(budget.TryReserve(30));
  EXPECT_FALSE(budget.TryReserve(11));
  budget.Release(90);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(BodyBudgetTest, OneBodyLargerThanTheBudgetPassesAlone) {
  BodyBudget budget(100);
  EXPECT_TRUE(budget.TryReserve(150));  // nothing else held
  EXPECT_FALSE(budget.TryReserve(1));
  budget.Release(150);
  EXPECT_TRUE(budget.TryReserve(1));
  EXPECT_FALSE(budget.TryReserve(150));  // but not beside anything else
  EXPECT_FALSE(budget.TryReserve(UINT64_MAX));
}

TEST(BudgetedBodyTest, GrowsAsBytesArriveAndReservesWhatItHolds) {
  BodyBudget budget(1024 * kKiB);
  BudgetedBody body(budget, 512 * kKiB);
  ASSERT_TRUE(AppendBytes(body, 10).ok());
  // The first buffer is small, not the limit.
  EXPECT_LE(body.reserved(), 8 * kKiB);
  EXPECT_GE(body.reserved(), 10u);
  EXPECT_EQ(budget.used(), body.reserved());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(AppendBytes(body, kKiB).ok());
  EXPECT_EQ(body.bytes().size(), 10 + 100 * kKiB);
  // Doubling: never more than twice what is held.
  EXPECT_LE(body.reserved(), 2 * body.bytes().size());
  EXPECT_GE(body.reserved(), body.bytes().size());
  EXPECT_EQ(budget.used(), body.reserved());
  body.Release();
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(body.bytes().empty());
  body.Release();  // idempotent
  EXPECT_EQ(budget.used(), 0u);
}

TEST(BudgetedBodyTest, TooLargePastMaxBytes) {
  BodyBudget budget(1024 * kKiB);
  BudgetedBody body(budget, 100);
  ASSERT_TRUE(AppendBytes(body, 100).ok());
  EXPECT_EQ(AppendBytes(body, 1).code(), Errc::kTooLarge);
  EXPECT_EQ(body.bytes().size(), 100u);
  BudgetedBody claimed(budget, 100);
  EXPECT_EQ(claimed.Claim(101).code(), Errc::kTooLarge);
}

TEST(BudgetedBodyTest, ClaimReservesTheDeclaredLengthButNotTheMemory) {
  BodyBudget budget(100 * kKiB);
  BudgetedBody body(budget, 64 * kKiB);
  ASSERT_TRUE(body.Claim(40 * kKiB).ok());
  EXPECT_EQ(budget.used(), 40 * kKiB);
  EXPECT_EQ(body.bytes().capacity(), std::string().capacity());  // nothing allocated yet
  ASSERT_TRUE(AppendBytes(body, 100).ok());
  EXPECT_LT(body.bytes().capacity(), 40 * kKiB);
  for (int i = 0; i < 39; ++i) ASSERT_TRUE(AppendBytes(body, kKiB).ok());
  ASSERT_TRUE(AppendBytes(body, kKiB - 100).ok());
  EXPECT_EQ(body.bytes().size(), 40 * kKiB);
  // The last step allocated only what the declared length needed.
  EXPECT_LE(body.bytes().capacity(), 40 * kKiB + 32);
  EXPECT_EQ(budget.used(), 40 * kKiB);
  // A second declared body that does not fit beside it is refused up front.
  BudgetedBody other(budget, 64 * kKiB);
  EXPECT_EQ(other.Claim(61 * kKiB).code(), Errc::kTooManyRequests);
  EXPECT_EQ(budget.used(), 40 * kKiB);
  EXPECT_TRUE(other.Claim(60 * kKiB).ok());
}

TEST(BudgetedBodyTest, TooManyRequestsWhenTheBudgetIsSpent) {
  BodyBudget budget(64 * kKiB);
  std::vector<std::unique_ptr<BudgetedBody>> bodies;
  // Bodies without a declared length, each stalled at 15 KiB: a few fit,
  // then growing the next one is refused.
  Status s;
  while (s.ok() && bodies.size() < 100) {
    bodies.push_back(std::make_unique<BudgetedBody>(budget, 16 * kKiB));
    for (int i = 0; i < 15 && s.ok(); ++i) s = AppendBytes(*bodies.back(), kKiB);
  }
  EXPECT_EQ(s.code(), Errc::kTooManyRequests);
  EXPECT_LE(budget.used(), 64 * kKiB);
  EXPECT_GE(bodies.size(), 3u);
  EXPECT_LT(bodies.size(), 100u);
  // Destroying them (clients that vanished) gives everything back.
  bodies.clear();
  EXPECT_EQ(budget.used(), 0u);
}

TEST(BudgetedBodyTest, TakeKeepsTheReservationUntilRelease) {
  BodyBudget budget(64 * kKiB);
  BudgetedBody body(budget, 16 * kKiB);
  ASSERT_TRUE(AppendBytes(body, 5000).ok());
  const uint64_t held = budget.used();
  std::string bytes = body.Take();
  EXPECT_EQ(bytes.size(), 5000u);
  EXPECT_EQ(budget.used(), held);  // the caller still holds the memory
  body.Release();
  EXPECT_EQ(budget.used(), 0u);
}

TEST(BodyBudgetTest, ProcessWideManifestBudget) {
  EXPECT_EQ(ManifestBodyBudget().limit(), kManifestBodyBudget);
  EXPECT_EQ(&ManifestBodyBudget(), &ManifestBodyBudget());
}

}  // namespace
}  // namespace berth::registry
