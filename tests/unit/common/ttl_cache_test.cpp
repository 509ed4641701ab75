// Tests for TtlCache (common/ttl_cache.hpp) on a fake clock: expiry, no
// extension on a hit, replacement, eviction of the oldest (expired first),
// erasing, the disabled cases and the counts.

#include "common/ttl_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

using std::chrono::seconds;

class TtlCacheTest : public ::testing::Test {
 protected:
  TtlCache<std::string>::Clock Clock() {
    return [this] { return now_; };
  }
  TtlCache<std::string>::TimePoint now_{seconds(1000)};
};

TEST_F(TtlCacheTest, HitUntilExpiryThenMissAndDropped) {
  TtlCache<std::string> c(10, Clock());
  c.Insert("k", "v", seconds(60));
  now_ += seconds(59);
  EXPECT_EQ(c.Lookup("k"), "v");
  now_ += seconds(1);
  EXPECT_EQ(c.Lookup("k"), std::nullopt);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.Lookup("other"), std::nullopt);
  CacheStats s = c.Stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.entries, 0u);
}

TEST_F(TtlCacheTest, HitDoesNotExtendButReinsertReplaces) {
  TtlCache<std::string> c(10, Clock());
  c.Insert("k", "old", seconds(60));
  now_ += seconds(50);
  EXPECT_EQ(c.Lookup("k"), "old");
  now_ += seconds(10);
  EXPECT_EQ(c.Lookup("k"), std::nullopt);
  c.Insert("k", "a", seconds(60));
  now_ += seconds(30);
  c.Insert("k", "b", seconds(60));
  EXPECT_EQ(c.size(), 1u);
  now_ += seconds(45);
  EXPECT_EQ(c.Lookup("k"), "b");
}

TEST_F(TtlCacheTest, FullCacheEvictsOldestInsertedAndReinsertMovesToNewest) {
  TtlCache<std::string> c(2, Clock());
  c.Insert("a", "1", seconds(60));
  c.Insert("b", "2", seconds(60));
  c.Insert("a", "1b", seconds(60));  // now newest
  c.Insert("c", "3", seconds(60));   // evicts b
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.Lookup("b"), std::nullopt);
  EXPECT_EQ(c.Lookup("a"), "1b");
  EXPECT_EQ(c.Lookup("c"), "3");
}

TEST_F(TtlCacheTest, ExpiredEntriesMakeRoomBeforeLiveOnes) {
  TtlCache<std::string> c(3, Clock());
  c.Insert("old1", "x", seconds(10));
  c.Insert("old2", "x", seconds(10));
  now_ += seconds(5);
  c.Insert("live", "y", seconds(60));
  now_ += seconds(10);  // old1 and old2 expired
  c.Insert("new", "z", seconds(60));
  EXPECT_EQ(c.size(), 2u);  // both expired dropped, nothing live evicted
  EXPECT_EQ(c.Lookup("live"), "y");
  EXPECT_EQ(c.Lookup("new"), "z");
}

TEST_F(TtlCacheTest, ZeroEntriesOrNonPositiveTtlHoldsNothing) {
  TtlCache<std::string> none(0, Clock());
  none.Insert("k", "v", seconds(60));
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.Lookup("k"), std::nullopt);
  TtlCache<std::string> c(10, Clock());
  c.Insert("k", "v", seconds(0));
  c.Insert("j", "v", seconds(-5));
  EXPECT_EQ(c.size(), 0u);
}

TEST_F(TtlCacheTest, EraseEraseIfAndClear) {
  TtlCache<std::string> c(10, Clock());
  c.Insert("s1 a", "1", seconds(60));
  c.Insert("s1 b", "2", seconds(60));
  c.Insert("s2 a", "3", seconds(60));
  c.EraseIf([](const std::string& k) { return k.starts_with("s1 "); });
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.Lookup("s2 a"), "3");
  c.Erase("s2 a");
  c.Erase("absent");
  EXPECT_EQ(c.size(), 0u);
  c.Insert("k", "v", seconds(60));
  c.Clear();
  EXPECT_EQ(c.Lookup("k"), std::nullopt);
  // Erased keys can come back, and the index stays consistent.
  c.Insert("s1 a", "again", seconds(60));
  EXPECT_EQ(c.Lookup("s1 a"), "again");
}

TEST_F(TtlCacheTest, DefaultClockIsTheSteadyClock) {
  TtlCache<int> c(4);
  c.Insert("k", 7, seconds(60));
  EXPECT_EQ(c.Lookup("k"), 7);
}

}  // namespace
}  // namespace berth
